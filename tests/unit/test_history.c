/* test_history.c: the applied-migrations list (src/core/history.c). */
#include "unit.h"

#include <stdio.h>
#include <time.h>

#include "core/history.h"

static void test_history_add_sort_find(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_history h = {0};
	char version[8] = "10", name[8] = "J";
	const strata_applied *a;
	(void)state;
	assert_null(strata_history_find(&h, "1", "A"));
	assert_int_equal(
	    strata_history_add(&h, version, name, "abc", "2024-01-02T03:04:05Z", 12.5, &e), 0);
	/* the strings are copied */
	strcpy(version, "99");
	strcpy(name, "Z");
	assert_int_equal(strata_history_add(&h, "2", "B", NULL, NULL, 0, &e), 0);
	assert_int_equal(strata_history_add(&h, "1", "A", "x", "t", 1, &e), 0);
	assert_int_equal(strata_history_add(&h, "2", "Alpha", "y", "t", 1, &e), 0);
	assert_int_equal(h.n, 4);
	strata_history_sort(&h);
	assert_string_equal(h.items[0].version, "1");
	assert_string_equal(h.items[1].name, "Alpha");
	assert_string_equal(h.items[2].name, "B");
	assert_string_equal(h.items[3].version, "10");
	assert_string_equal(h.items[3].name, "J");
	assert_string_equal(h.items[3].checksum, "abc");
	assert_string_equal(h.items[3].applied_at, "2024-01-02T03:04:05Z");
	assert_true(h.items[3].duration_ms == 12.5);
	/* NULL checksum and time become "" */
	assert_string_equal(h.items[2].checksum, "");
	assert_string_equal(h.items[2].applied_at, "");

	a = strata_history_find(&h, "2", "B");
	assert_ptr_equal(a, &h.items[2]);
	a = strata_history_find(&h, "010", "J"); /* versions compare as numbers */
	assert_ptr_equal(a, &h.items[3]);
	assert_null(strata_history_find(&h, "2", "C"));
	assert_null(strata_history_find(&h, "99", "Z"));
	strata_history_free(&h);
	assert_int_equal(h.n, 0);
	assert_null(h.items);
	strata_history_free(NULL);
}

static void test_history_grows(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_history h = {0};
	(void)state;
	for (int i = 300; i > 0; i--) {
		char v[16];
		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(strata_history_add(&h, v, "m", "", "", 0, &e), 0);
	}
	strata_history_sort(&h);
	assert_int_equal(h.n, 300);
	assert_string_equal(h.items[0].version, "1");
	assert_string_equal(h.items[8].version, "9");
	assert_string_equal(h.items[9].version, "10");
	assert_string_equal(h.items[299].version, "300");
	assert_ptr_equal(strata_history_find(&h, "150", "m"), &h.items[149]);
	strata_history_free(&h);
}

/* The hash strata stores with each PostgreSQL history row (backend/pg.c): values from Python's
 * hashlib; the summary is their XOR, in any order. */
static void test_history_row_hash(void **state)
{
	uint64_t x, y;
	(void)state;
	assert_int_equal(strata_history_row_hash(&x, "1", "One", "abc"), 0);
	assert_true(x == 0x85fdb008baebcf82ULL);
	assert_int_equal(strata_history_row_hash(&y, "2", "Two", "def"), 0);
	assert_true((x ^ y) == 0xa2c12d5f37acdf69ULL);
}

/* The times a listing shows, formatted by the client: as gmtime formats them, over days,
 * leap years, centuries and before 1970. */
static void test_history_time(void **state)
{
	char out[32], want[64];
	const int64_t fixed[] = {0,
	                         1,
	                         999,
	                         1000,
	                         -1,
	                         -1000,
	                         -1001,
	                         951782400000,
	                         951868799999,
	                         4107542400000,
	                         1780000000123,
	                         253402300799999};
	(void)state;
	strata_history_time(out, 1780000000123);
	assert_string_equal(out, "2026-05-28T20:26:40.123Z");
	for (int i = 0; i < 12 + 20000; i++) {
		int64_t ms =
		    i < 12 ? fixed[i] : (int64_t)(i - 12) * 12622780799LL - 62135596800000LL;
		time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
		struct tm tm;
		gmtime_r(&t, &tm);
		if (tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
			continue;
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		         tm.tm_sec, (int)(ms - (int64_t)t * 1000));
		strata_history_time(out, ms);
		assert_string_equal(out, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_history_add_sort_find),
	    cmocka_unit_test(test_history_grows),
	    cmocka_unit_test(test_history_row_hash),
	    cmocka_unit_test(test_history_time),
	};
	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
