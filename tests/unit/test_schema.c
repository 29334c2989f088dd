/* test_schema.c: two schemas compared through digests (src/core/schema_digest.c) say what the
 * compare of the whole schemas (src/core/schema_diff.c) says. */
#include "unit.h"

#include "core/schema.h"

struct obj {
	const char *kind, *schema, *name, *sql, *detail;
};

static void add_all(strata_schema *s, const struct obj *o, size_t n)
{
	strata_error e = STRATA_ERROR_INIT;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(strata_schema_add(s, o[i].kind, o[i].schema, o[i].name, o[i].sql,
		                                   o[i].detail, &e),
		                 0);
}

/* The changes' texts, one a line, in their order. */
static char *texts(const strata_schema_changes *c)
{
	size_t len = 1;
	char *t, *p;
	for (size_t i = 0; i < c->n; i++)
		len += strlen(c->items[i].text) + 1;
	p = t = calloc(1, len);
	assert_non_null(t);
	for (size_t i = 0; i < c->n; i++)
		p += sprintf(p, "%s\n", c->items[i].text);
	return t;
}

/* The compare of the whole schemas, and the compare through digests (want read twice when it
 * must be), as texts. */
static void both(const struct obj *want, size_t nw, const struct obj *have, size_t nh, char **whole,
                 char **digests, size_t *kept)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_schema w = {0}, h = {0};
	strata_schema_changes c;
	strata_schema_digests *d = strata_schema_digests_new();
	strata_schema pass = {0};

	add_all(&w, want, nw);
	add_all(&h, have, nh);
	assert_int_equal(strata_schema_compare(&h, &w, &c, &e), 0);
	*whole = texts(&c);
	strata_schema_changes_free(&c);

	assert_non_null(d);
	pass.each = strata_schema_digest_want;
	pass.each_ud = d;
	add_all(&pass, want, nw);
	pass.each = strata_schema_digest_have;
	add_all(&pass, have, nh);
	if (strata_schema_digests_unmatched(d)) {
		pass.each = strata_schema_digest_again;
		add_all(&pass, want, nw);
	}
	assert_true(strata_schema_digests_complete(d));
	assert_int_equal(pass.n, 0); /* nothing kept by the passes themselves */
	*kept = strata_schema_digests_have(d)->n + strata_schema_digests_want(d)->n;
	assert_int_equal(strata_schema_compare(strata_schema_digests_have(d),
	                                       strata_schema_digests_want(d), &c, &e),
	                 0);
	*digests = texts(&c);
	strata_schema_changes_free(&c);
	strata_schema_digests_free(d);
	strata_schema_free(&w);
	strata_schema_free(&h);
}

static const struct obj base[] = {
    {"table", "public", "orders", "CREATE TABLE orders (id int);\n", NULL},
    {"column", "public", "orders.id", NULL, "type integer"},
    {"column", "public", "orders.status", NULL, "type text"},
    {"index", "public", "orders.orders_status", "CREATE INDEX orders_status ...;\n", NULL},
    {"view", "public", "open_orders", "CREATE VIEW open_orders AS SELECT 1;\n", NULL},
    {"table", NULL, "lite", "CREATE TABLE lite (x)", NULL},
    {"schema", "s1", "s1", "CREATE SCHEMA s1;\n", NULL},
};
#define NBASE (sizeof(base) / sizeof(base[0]))

static void test_schema_digests_same(void **state)
{
	char *whole, *dg;
	size_t kept;
	(void)state;
	both(base, NBASE, base, NBASE, &whole, &dg, &kept);
	assert_string_equal(whole, "");
	assert_string_equal(dg, "");
	assert_int_equal(kept, 0);
	free(whole);
	free(dg);
}

static void test_schema_digests_differences(void **state)
{
	struct obj have[NBASE + 1];
	char *whole, *dg;
	size_t kept;
	(void)state;
	memcpy(have, base, sizeof(base));
	have[2].detail = "type varchar(20)";      /* changed */
	have[3] = have[6];                        /* the index missing, the schema twice */
	have[5].sql = "CREATE TABLE lite (x, y)"; /* changed, no schema */
	have[NBASE] =
	    (struct obj){"table", "public", "by_hand", "CREATE TABLE by_hand ();\n", NULL};
	both(base, NBASE, have, NBASE + 1, &whole, &dg, &kept);
	assert_string_equal(dg, whole);
	assert_non_null(strstr(dg, "column public.orders.status: type varchar(20), expected type "
	                           "text\n"));
	assert_non_null(strstr(dg, "index public.orders.orders_status: missing; the migrations "
	                           "make CREATE INDEX orders_status ...\n"));
	assert_non_null(strstr(dg, "table public.by_hand: not made by the migrations: "));
	assert_non_null(strstr(dg, "table lite: CREATE TABLE lite (x, y), expected CREATE TABLE "
	                           "lite (x)\n"));
	/* the second CREATE SCHEMA s1 has no twin left in want: extra */
	assert_non_null(strstr(dg, "schema s1.s1: not made by the migrations: CREATE SCHEMA s1\n"));
	/* only what differs is kept: 4 of have's 8 (the changed two, by_hand and the second s1),
	 * 3 of want's 7 (the changed two and the index) */
	assert_int_equal(kept, 7);
	free(whole);
	free(dg);
}

/* Random schemas from a pool of objects, against random edits of them: the digests say what
 * the whole compare says, keeping only what differs. */
static void test_schema_digests_random(void **state)
{
	static const char *kinds[] = {"table", "column", "index", "view"};
	static const char *bodies[] = {"a", "b", NULL};
	char names[64][16];
	struct obj want[64], have[80];
	(void)state;
	srand(7);
	for (size_t i = 0; i < 64; i++)
		snprintf(names[i], sizeof(names[i]), "o%zu", i);
	for (int round = 0; round < 500; round++) {
		size_t nw = (size_t)(rand() % 64), nh = 0, kept;
		char *whole, *dg;
		for (size_t i = 0; i < nw; i++)
			want[i] = (struct obj){kinds[i % 4], i % 5 ? "public" : NULL, names[i],
			                       bodies[rand() % 3], bodies[rand() % 3]};
		for (size_t i = 0; i < nw; i++) {
			int r = rand() % 10;
			if (r == 0)
				continue; /* missing */
			have[nh] = want[i];
			if (r == 1)
				have[nh].sql = have[nh].sql ? NULL : "c"; /* changed */
			if (r == 2)
				have[nh].detail = "d";
			nh++;
		}
		for (size_t i = 0; nh < 80 && i < (size_t)(rand() % 8); i++) /* extra */
			have[nh++] = (struct obj){"table", "public",
			                          names[nw + i < 64 ? nw + i : 63], "x", NULL};
		both(want, nw, have, nh, &whole, &dg, &kept);
		assert_string_equal(dg, whole);
		assert_true(kept <= 2 * (nw + 8));
		free(whole);
		free(dg);
	}
}

/* Whether the digests say complete when pass 1 reads base, pass 2 its first two objects and
 * pass 3 the n objects at again. */
static bool complete_after(const struct obj *again, size_t n)
{
	strata_schema pass = {0};
	strata_schema_digests *d = strata_schema_digests_new();
	bool complete;
	assert_non_null(d);
	pass.each_ud = d;
	pass.each = strata_schema_digest_want;
	add_all(&pass, base, NBASE);
	pass.each = strata_schema_digest_have;
	add_all(&pass, base, 2);
	assert_true(strata_schema_digests_unmatched(d));
	pass.each = strata_schema_digest_again;
	add_all(&pass, again, n);
	complete = strata_schema_digests_complete(d);
	strata_schema_digests_free(d);
	return complete;
}

/* Pass 3 reading another schema than pass 1 is refused. */
static void test_schema_digests_changed_between(void **state)
{
	struct obj other[NBASE];
	(void)state;
	assert_true(complete_after(base, NBASE));
	/* one object fewer */
	assert_false(complete_after(base + 1, NBASE - 1));
	/* as many objects, one of them another */
	memcpy(other, base, sizeof(base));
	other[4].sql = "CREATE VIEW open_orders AS SELECT 2;\n";
	assert_false(complete_after(other, NBASE));
	/* as many objects, one of them read twice and another not */
	memcpy(other, base, sizeof(base));
	other[4] = base[3];
	assert_false(complete_after(other, NBASE));
}

/* Objects of the same kind and name in two schemas are two objects. */
static void test_schema_digests_two_schemas(void **state)
{
	const struct obj want[] = {{"table", "public", "t", "A", NULL},
	                           {"table", "s2", "t", "B", NULL}};
	const struct obj have[] = {{"table", "public", "t", "B", NULL},
	                           {"table", "s2", "t", "A", NULL}};
	char *whole, *dg;
	size_t kept;
	(void)state;
	both(want, 2, have, 2, &whole, &dg, &kept);
	assert_string_equal(dg, whole);
	assert_string_equal(dg, "table public.t: B, expected A\ntable s2.t: A, expected B\n");
	free(whole);
	free(dg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schema_digests_same),
	    cmocka_unit_test(test_schema_digests_differences),
	    cmocka_unit_test(test_schema_digests_random),
	    cmocka_unit_test(test_schema_digests_changed_between),
	    cmocka_unit_test(test_schema_digests_two_schemas),
	};
	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
