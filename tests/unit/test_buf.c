/* test_buf.c: strata_buf, the bounded growable buffer (src/util/buf.c). */
#include "unit.h"

#include "util/buf.h"

static void test_buf_empty_is_empty_string(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	(void)state;
	assert_null(b.ptr);
	assert_string_equal(strata_buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	assert_null(strata_buf_detach(&b));
	strata_buf_free(&b);
	strata_buf_free(NULL); /* NULL-safe */
}

static void test_buf_put_and_puts(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	(void)state;
	assert_int_equal(strata_buf_puts(&b, "hello"), 0);
	assert_int_equal(strata_buf_put(&b, ", world!!", 7), 0);
	assert_int_equal(b.len, 12);
	assert_string_equal(strata_buf_cstr(&b), "hello, world");
	assert_int_equal(b.ptr[12], '\0');
	/* embedded NUL bytes are kept and counted */
	assert_int_equal(strata_buf_put(&b, "\0x", 2), 0);
	assert_int_equal(b.len, 14);
	assert_memory_equal(b.ptr, "hello, world\0x", 15);
	strata_buf_free(&b);
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
}

static void test_buf_grows_past_initial_capacity(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	char expect[10001];
	(void)state;
	for (int i = 0; i < 10000; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(strata_buf_put(&b, &c, 1), 0);
		expect[i] = c;
	}
	expect[10000] = '\0';
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= 10001);
	assert_false(b.failed);
	assert_string_equal(strata_buf_cstr(&b), expect);
	strata_buf_free(&b);
}

static void test_buf_one_big_put(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	char *big = malloc(100000);
	(void)state;
	assert_non_null(big);
	memset(big, 'x', 100000);
	assert_int_equal(strata_buf_puts(&b, "<"), 0);
	assert_int_equal(strata_buf_put(&b, big, 100000), 0);
	assert_int_equal(strata_buf_puts(&b, ">"), 0);
	assert_int_equal(b.len, 100002);
	assert_int_equal(b.ptr[0], '<');
	assert_int_equal(b.ptr[100000], 'x');
	assert_int_equal(b.ptr[100001], '>');
	assert_int_equal(b.ptr[100002], '\0');
	free(big);
	strata_buf_free(&b);
}

/* max is the size including the terminating NUL: max 10 holds 9 bytes of content. */
static void test_buf_max_boundary(void **state)
{
	strata_buf b;
	(void)state;
	strata_buf_init(&b, 10);
	assert_int_equal(b.max, 10);
	assert_int_equal(strata_buf_puts(&b, "123456789"), 0);
	assert_int_equal(b.len, 9);
	assert_string_equal(strata_buf_cstr(&b), "123456789");
	assert_false(b.failed);
	assert_int_equal(strata_buf_puts(&b, "0"), STRATA_ERROR);
	assert_true(b.failed);
	strata_buf_free(&b);
}

/* An append of exactly max bytes leaves no room for the NUL, whatever is already there.
 * (grow() computed max - extra - 1, which wraps when extra == max.) */
static void test_buf_append_of_exactly_max_bytes_fails(void **state)
{
	strata_buf b;
	(void)state;
	strata_buf_init(&b, 8);
	assert_int_equal(strata_buf_puts(&b, "12345678"), STRATA_ERROR);
	assert_true(b.failed);
	assert_null(b.ptr);
	strata_buf_free(&b);

	strata_buf_init(&b, 8);
	assert_int_equal(strata_buf_puts(&b, "abc"), 0);
	assert_int_equal(strata_buf_puts(&b, "defghijk"), STRATA_ERROR);
	assert_true(b.failed);
	assert_int_equal(b.len, 0);
	strata_buf_free(&b);
}

static void test_buf_init_zero_max_means_default(void **state)
{
	strata_buf b;
	(void)state;
	strata_buf_init(&b, 0);
	assert_int_equal(b.max, STRATA_BUF_MAX_DEFAULT);
	assert_null(b.ptr);
	assert_false(b.failed);
}

static void test_buf_failure_is_sticky(void **state)
{
	strata_buf b;
	(void)state;
	strata_buf_init(&b, 8);
	assert_int_equal(strata_buf_puts(&b, "abc"), 0);
	/* one append past max fails and drops the content */
	assert_int_equal(strata_buf_puts(&b, "defghijklmn"), STRATA_ERROR);
	assert_true(b.failed);
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_string_equal(strata_buf_cstr(&b), "");
	/* later appends fail too, even ones that would fit */
	assert_int_equal(strata_buf_puts(&b, "x"), STRATA_ERROR);
	assert_int_equal(strata_buf_put(&b, "", 0), STRATA_ERROR);
	assert_int_equal(strata_buf_printf(&b, "%d", 1), STRATA_ERROR);
	assert_true(b.failed);
	assert_null(b.ptr);
	/* detach of a failed buffer gives nothing and clears the failure */
	assert_null(strata_buf_detach(&b));
	assert_false(b.failed);
	assert_int_equal(strata_buf_puts(&b, "ok"), 0);
	assert_string_equal(strata_buf_cstr(&b), "ok");
	strata_buf_free(&b);
}

static void test_buf_huge_length_fails_without_overflow(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	(void)state;
	assert_int_equal(strata_buf_puts(&b, "a"), 0);
	/* len + SIZE_MAX would wrap: must fail, not write */
	assert_int_equal(strata_buf_put(&b, "x", SIZE_MAX), STRATA_ERROR);
	assert_true(b.failed);
	assert_null(b.ptr);
	strata_buf_free(&b);
}

static void test_buf_printf(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	char *p;
	(void)state;
	assert_int_equal(strata_buf_puts(&b, "v="), 0);
	assert_int_equal(strata_buf_printf(&b, "%d-%s-%05.1f", 42, "name", 3.14159), 0);
	assert_string_equal(strata_buf_cstr(&b), "v=42-name-003.1");
	assert_int_equal(b.len, 15);
	/* an empty format is fine */
	assert_int_equal(strata_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 15);
	/* a long one grows the buffer */
	assert_int_equal(strata_buf_printf(&b, "%300s|", "r"), 0);
	assert_int_equal(b.len, 15 + 301);
	p = strata_buf_detach(&b);
	assert_non_null(p);
	assert_int_equal(p[15 + 299], 'r');
	assert_int_equal(p[15 + 300], '|');
	assert_int_equal(p[15 + 301], '\0');
	free(p);
}

static void test_buf_printf_past_max_fails(void **state)
{
	strata_buf b;
	(void)state;
	strata_buf_init(&b, 6);
	assert_int_equal(strata_buf_printf(&b, "%d", 12345), 0);
	assert_string_equal(strata_buf_cstr(&b), "12345");
	assert_int_equal(strata_buf_printf(&b, "%d", 6), STRATA_ERROR);
	assert_true(b.failed);
	assert_null(b.ptr);
	strata_buf_free(&b);
}

static void test_buf_detach_hands_over_and_empties(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	char *p;
	(void)state;
	assert_int_equal(strata_buf_puts(&b, "take me"), 0);
	p = strata_buf_detach(&b);
	assert_non_null(p);
	assert_string_equal(p, "take me");
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(strata_buf_cstr(&b), "");
	/* the buffer is reusable, and the detached memory is independent of it */
	assert_int_equal(strata_buf_puts(&b, "again"), 0);
	assert_string_equal(strata_buf_cstr(&b), "again");
	assert_string_equal(p, "take me");
	free(p);
	strata_buf_free(&b);
}

static void test_buf_reset_keeps_memory(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	char *before;
	(void)state;
	assert_int_equal(strata_buf_puts(&b, "something"), 0);
	before = b.ptr;
	strata_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(strata_buf_cstr(&b), "");
	assert_ptr_equal(b.ptr, before);
	assert_int_equal(strata_buf_puts(&b, "new"), 0);
	assert_string_equal(strata_buf_cstr(&b), "new");
	strata_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_empty_is_empty_string),
	    cmocka_unit_test(test_buf_put_and_puts),
	    cmocka_unit_test(test_buf_grows_past_initial_capacity),
	    cmocka_unit_test(test_buf_one_big_put),
	    cmocka_unit_test(test_buf_max_boundary),
	    cmocka_unit_test(test_buf_append_of_exactly_max_bytes_fails),
	    cmocka_unit_test(test_buf_init_zero_max_means_default),
	    cmocka_unit_test(test_buf_failure_is_sticky),
	    cmocka_unit_test(test_buf_huge_length_fails_without_overflow),
	    cmocka_unit_test(test_buf_printf),
	    cmocka_unit_test(test_buf_printf_past_max_fails),
	    cmocka_unit_test(test_buf_detach_hands_over_and_empties),
	    cmocka_unit_test(test_buf_reset_keeps_memory),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
