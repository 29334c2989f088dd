/* test_plan.c: up/down/status planning from an in-memory catalog and history (src/core/plan.c). */
#include "unit.h"

#include "core/plan.h"

#define DOWN_OK(up, down) "-- migrate:up\n" up "\n-- migrate:down\n" down "\n"

struct fx {
	strata_catalog c;
	strata_history h;
};

static strata_migration *mig_kind(const char *path, const char *text, strata_file_kind kind)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	char *copy = strdup(text);
	assert_non_null(copy);
	if (strata_migration_parse(&m, path, copy, strlen(copy), kind, &e) < 0)
		fail_msg("fixture '%s': %s", path, e.msg);
	return m;
}

/* Appends a migration; callers add them in version order, as catalog_load leaves them. */
static void add_mig(struct fx *fx, const char *fname, const char *text)
{
	char path[256];
	strata_migration **p = realloc(fx->c.items, (fx->c.n + 1) * sizeof(*p));
	assert_non_null(p);
	fx->c.items = p;
	snprintf(path, sizeof(path), "mem/%s", fname);
	fx->c.items[fx->c.n++] = mig_kind(path, text, STRATA_FILE_SINGLE);
}

static void add_applied(struct fx *fx, const char *version, const char *name)
{
	strata_error e = STRATA_ERROR_INIT;
	assert_int_equal(
	    strata_history_add(&fx->h, version, name, "00", "2024-01-01T00:00:00Z", 1.5, &e), 0);
	strata_history_sort(&fx->h);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	*state = fx;
	return 0;
}

/* 1-A, 2-B, 5-E and 10-J can be reverted; 3-C has an empty down section and 4-D none. */
static int setup_catalog(void **state)
{
	struct fx *fx;
	setup(state);
	fx = *state;
	add_mig(fx, "1-A.sql", DOWN_OK("create table a ();", "drop table a;"));
	add_mig(fx, "2-B.sql", DOWN_OK("create table b ();", "drop table b;"));
	add_mig(fx, "3-C.sql", DOWN_OK("select 3;", "-- nothing to undo\n"));
	add_mig(fx, "4-D.sql", "-- migrate:up\nselect 4;\n");
	add_mig(fx, "5-E.sql", DOWN_OK("create table e ();", "drop table e;"));
	add_mig(fx, "10-J.sql", DOWN_OK("create table j ();", "drop table j;"));
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	strata_catalog_free(&fx->c);
	strata_history_free(&fx->h);
	free(fx);
	return 0;
}

/* The plan is exactly these "version-name" steps, in this order, all in direction dir. */
static void assert_plan(const strata_plan *p, strata_direction dir, const char *const *want,
                        size_t n)
{
	char got[1024] = "";
	for (size_t i = 0; i < p->n; i++) {
		size_t l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "%s%s-%s", i ? " " : "", p->steps[i].m->version,
		         p->steps[i].m->name);
	}
	if (p->n != n)
		fail_msg("plan has %zu steps (%s), expected %zu", p->n, got, n);
	for (size_t i = 0; i < n; i++) {
		char key[128];
		snprintf(key, sizeof(key), "%s-%s", p->steps[i].m->version, p->steps[i].m->name);
		if (strcmp(key, want[i]) != 0)
			fail_msg("step %zu is %s, expected %s (plan: %s)", i, key, want[i], got);
		assert_int_equal(p->steps[i].dir, dir);
	}
}
#define PLAN_IS(p, dir, ...)                                                                       \
	do {                                                                                       \
		static const char *const want_[] = {__VA_ARGS__};                                  \
		assert_plan(p, dir, want_, sizeof(want_) / sizeof(want_[0]));                      \
	} while (0)

/* ---- up ---------------------------------------------------------------------------------- */

static void test_up_skips_applied(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	add_applied(fx, "2", "B");
	add_applied(fx, "1", "A");
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	PLAN_IS(&p, STRATA_UP, "3-C", "4-D", "5-E", "10-J");
	/* the steps borrow the catalog's migrations */
	assert_ptr_equal(p.steps[0].m, fx->c.items[2]);
	assert_ptr_equal(p.steps[3].m, fx->c.items[5]);
	strata_plan_free(&p);
	assert_null(p.steps);
	assert_int_equal(p.n, 0);
	strata_plan_free(NULL);
}

static void test_up_fresh_database(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	PLAN_IS(&p, STRATA_UP, "1-A", "2-B", "3-C", "4-D", "5-E", "10-J");
	strata_plan_free(&p);
}

static void test_up_fills_gaps(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	add_applied(fx, "1", "A");
	add_applied(fx, "5", "E");
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	PLAN_IS(&p, STRATA_UP, "2-B", "3-C", "4-D", "10-J");
	strata_plan_free(&p);
}

static void test_up_nothing_pending(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	static const char *const all[][2] = {{"1", "A"}, {"2", "B"}, {"3", "C"},
	                                     {"4", "D"}, {"5", "E"}, {"10", "J"}};
	for (size_t i = 0; i < 6; i++)
		add_applied(fx, all[i][0], all[i][1]);
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	assert_int_equal(p.n, 0);
	strata_plan_free(&p);
}

static void test_up_to_version(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	add_applied(fx, "1", "A");
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "4", &e), 0);
	PLAN_IS(&p, STRATA_UP, "2-B", "3-C", "4-D");
	strata_plan_free(&p);

	/* leading zeros name the same version */
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "0005", &e), 0);
	PLAN_IS(&p, STRATA_UP, "2-B", "3-C", "4-D", "5-E");
	strata_plan_free(&p);

	/* numeric, not textual: --to 10 includes 2..5 */
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "10", &e), 0);
	PLAN_IS(&p, STRATA_UP, "2-B", "3-C", "4-D", "5-E", "10-J");
	strata_plan_free(&p);

	/* already applied: nothing to do */
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "1", &e), 0);
	assert_int_equal(p.n, 0);
	strata_plan_free(&p);
}

static void test_up_to_unknown_version(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p = {0};
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "7", &e), STRATA_ENOTFOUND);
	assert_string_equal(e.msg, "no migration has version 7");
	assert_non_null(strstr(e.hint, "strata_status()"));
	assert_int_equal(p.n, 0);

	strata_error_clear(&e);
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "v5", &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "'v5' is not a version (digits only)");
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, "", &e), STRATA_EINVALID);
}

/* ---- down -------------------------------------------------------------------------------- */

static void apply_revertible(struct fx *fx)
{
	add_applied(fx, "10", "J");
	add_applied(fx, "1", "A");
	add_applied(fx, "5", "E");
	add_applied(fx, "2", "B");
}

static void test_down_default_one_step(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {0};
	strata_plan p;
	apply_revertible(fx);
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J");
	assert_ptr_equal(p.steps[0].m, fx->c.items[5]);
	strata_plan_free(&p);
}

static void test_down_steps(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.steps = 2};
	strata_plan p;
	apply_revertible(fx);
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E");
	strata_plan_free(&p);

	o.steps = 1;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J");
	strata_plan_free(&p);

	/* more steps than applied: everything, newest first */
	o.steps = 99;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E", "2-B", "1-A");
	strata_plan_free(&p);
}

static void test_down_to_version(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.to_version = "2"};
	strata_plan p;
	apply_revertible(fx);
	/* everything after 2 goes, 2 stays */
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E");
	strata_plan_free(&p);

	o.to_version = "01";
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E", "2-B");
	strata_plan_free(&p);

	/* the newest: nothing to revert */
	o.to_version = "10";
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	assert_int_equal(p.n, 0);
	strata_plan_free(&p);

	/* to_version wins over steps */
	o.to_version = "2";
	o.steps = 1;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E");
	strata_plan_free(&p);
}

static void test_down_to_version_not_applied(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.to_version = "3"};
	strata_plan p = {0};
	apply_revertible(fx);
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_ENOTFOUND);
	assert_string_equal(e.msg, "version 3 is not applied");
	assert_non_null(strstr(e.hint, "(all)"));
	assert_int_equal(p.n, 0);

	strata_error_clear(&e);
	o.to_version = "2x";
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "'2x' is not a version (digits only)");
}

static void test_down_all(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.all = true};
	strata_plan p;
	apply_revertible(fx);
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E", "2-B", "1-A");
	strata_plan_free(&p);
}

static void test_down_nothing_applied(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.all = true};
	strata_plan p;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	assert_int_equal(p.n, 0);
	strata_plan_free(&p);
	o.all = false;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	assert_int_equal(p.n, 0);
	strata_plan_free(&p);
}

static void test_down_refuses_empty_down(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.steps = 3};
	strata_plan p;
	add_applied(fx, "1", "A");
	add_applied(fx, "3", "C");
	add_applied(fx, "5", "E");
	/* 5-E could go, but 3-C cannot: the whole plan is refused before anything runs */
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "cannot revert 3-C: its down section is empty");
	assert_string_equal(e.file, "mem/3-C.sql");
	assert_non_null(strstr(e.hint, "-- migrate:down"));
	assert_int_equal(p.n, 0);
	assert_null(p.steps);

	/* one step only touches 5-E, which is fine */
	o.steps = 1;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "5-E");
	strata_plan_free(&p);
}

static void test_down_refuses_missing_down(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.all = true};
	strata_plan p;
	add_applied(fx, "1", "A");
	add_applied(fx, "4", "D");
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "cannot revert 4-D: its down section is missing");
	assert_string_equal(e.file, "mem/4-D.sql");
	assert_int_equal(p.n, 0);
	assert_null(p.steps);
}

/* golang-migrate: an existing but empty .down.sql means "nothing to undo": a no-op revert */
static void test_down_empty_golang_down_file_is_a_noop(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {0};
	strata_plan p;
	strata_migration *up = mig_kind("mem/11_g.up.sql", "create table g ();\n", STRATA_FILE_UP);
	strata_migration *down = mig_kind("mem/11_g.down.sql", "-- later\n\n", STRATA_FILE_DOWN);
	strata_migration **items = realloc(fx->c.items, (fx->c.n + 1) * sizeof(*items));
	assert_non_null(items);
	fx->c.items = items;
	assert_int_equal(strata_migration_merge_pair(up, down, &e), 0);
	fx->c.items[fx->c.n++] = up;
	add_applied(fx, "11", "g");
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	assert_int_equal(p.n, 1);
	assert_ptr_equal(p.steps[0].m, up);
	assert_true(strata_section_is_empty(&up->down));
	strata_plan_free(&p);
}

/* ... and a pair without a .down.sql cannot be reverted: the hint names the file to create */
static void test_down_refuses_golang_pair_without_down_file(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {0};
	strata_plan p;
	strata_migration *up = mig_kind("mem/12_h.up.sql", "create table h ();\n", STRATA_FILE_UP);
	strata_migration **items = realloc(fx->c.items, (fx->c.n + 1) * sizeof(*items));
	assert_non_null(items);
	fx->c.items = items;
	fx->c.items[fx->c.n++] = up;
	add_applied(fx, "12", "h");
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "cannot revert 12-h: it has no .down.sql file");
	assert_string_equal(e.file, "mem/12_h.up.sql");
	assert_string_equal(e.hint, "create mem/12_h.down.sql beside it with the statements that "
	                            "undo it (an empty file means there is nothing to undo)");
	assert_int_equal(p.n, 0);
}

static void test_down_refuses_applied_not_on_disk(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {.steps = 2};
	strata_plan p;
	add_applied(fx, "1", "A");
	add_applied(fx, "2", "B");
	add_applied(fx, "7", "Gone");
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_ENOTFOUND);
	assert_string_equal(e.msg, "cannot revert 7-Gone: it is applied but its file is not in the "
	                           "migration directories");
	assert_non_null(strstr(e.hint, "strata_source_add_dir()"));
	assert_int_equal(p.n, 0);
	assert_null(p.steps);

	/* same version, other name: still not on disk */
	strata_history_free(&fx->h);
	add_applied(fx, "1", "A");
	add_applied(fx, "2", "Renamed");
	strata_error_clear(&e);
	o.steps = 1;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), STRATA_ENOTFOUND);
	assert_non_null(strstr(e.msg, "2-Renamed"));
	assert_int_equal(p.n, 0);
}

/* ---- status ------------------------------------------------------------------------------ */

static void test_status_merge(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan_rows s;
	add_applied(fx, "0", "Ancient");
	add_applied(fx, "1", "A");
	add_applied(fx, "3", "C");
	add_applied(fx, "4", "Old");
	add_applied(fx, "10", "J");
	add_applied(fx, "12", "Later");
	assert_int_equal(strata_plan_status(&s, &fx->c, &fx->h, &e), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(s.applied, 3);
	assert_int_equal(s.pending, 3);
	assert_int_equal(s.missing, 3);

	/* 0-Ancient, 1-A, 2-B, 3-C, 4-D, 4-Old, 5-E, 10-J, 12-Later */
	assert_int_equal(s.items[0].kind, STRATA_ROW_MISSING);
	assert_null(s.items[0].m);
	assert_string_equal(s.items[0].a->name, "Ancient");
	assert_int_equal(s.items[1].kind, STRATA_ROW_APPLIED);
	assert_ptr_equal(s.items[1].m, fx->c.items[0]);
	assert_ptr_equal(s.items[1].a, &fx->h.items[1]);
	assert_int_equal(s.items[2].kind, STRATA_ROW_PENDING);
	assert_ptr_equal(s.items[2].m, fx->c.items[1]);
	assert_null(s.items[2].a);
	assert_int_equal(s.items[3].kind, STRATA_ROW_APPLIED);
	assert_string_equal(s.items[3].m->name, "C");
	assert_int_equal(s.items[4].kind, STRATA_ROW_PENDING);
	assert_string_equal(s.items[4].m->name, "D");
	assert_int_equal(s.items[5].kind, STRATA_ROW_MISSING);
	assert_string_equal(s.items[5].a->name, "Old");
	assert_int_equal(s.items[6].kind, STRATA_ROW_PENDING);
	assert_string_equal(s.items[6].m->name, "E");
	assert_int_equal(s.items[7].kind, STRATA_ROW_APPLIED);
	assert_string_equal(s.items[7].m->name, "J");
	assert_string_equal(s.items[7].a->applied_at, "2024-01-01T00:00:00Z");
	assert_int_equal(s.items[8].kind, STRATA_ROW_MISSING);
	assert_string_equal(s.items[8].a->version, "12");
	strata_plan_rows_free(&s);
	assert_null(s.items);
	assert_int_equal(s.n, 0);
	strata_plan_rows_free(NULL);
}

static void test_status_empty(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan_rows s;
	assert_int_equal(strata_plan_status(&s, &fx->c, &fx->h, &e), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.applied + s.pending + s.missing, 0);
	strata_plan_rows_free(&s);
}

static void test_status_all_pending(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan_rows s;
	assert_int_equal(strata_plan_status(&s, &fx->c, &fx->h, &e), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.pending, 6);
	assert_int_equal(s.applied, 0);
	assert_int_equal(s.missing, 0);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(s.items[i].kind, STRATA_ROW_PENDING);
		assert_ptr_equal(s.items[i].m, fx->c.items[i]);
	}
	strata_plan_rows_free(&s);
}

/* ---- sources: out of order within one directory, revert in applied order ------------------ */

/* 2-B and 5-E are a plugin's (dir_index 1), the rest the core's (0). */
static int setup_two_sources(void **state)
{
	struct fx *fx;
	setup_catalog(state);
	fx = *state;
	fx->c.items[1]->dir_index = 1;
	fx->c.items[4]->dir_index = 1;
	return 0;
}

static void set_rank(struct fx *fx, const char *version, const char *name, uint64_t rank)
{
	strata_applied *a = (strata_applied *)strata_history_find(&fx->h, version, name);
	assert_non_null(a);
	a->applied_rank = rank;
}

static void test_up_order_per_source(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	/* the core is applied up to 10-J; the plugin, added later with older versions, is not */
	add_applied(fx, "1", "A");
	add_applied(fx, "10", "J");
	add_applied(fx, "99", "Gone"); /* applied, no file: in no source */
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	PLAN_IS(&p, STRATA_UP, "2-B", "3-C", "4-D", "5-E");
	assert_int_equal(p.sources, 2);
	assert_false(p.steps[0].out_of_order); /* the plugin's */
	assert_true(p.steps[1].out_of_order);  /* the core's, older than 10-J */
	assert_ptr_equal(p.steps[1].newer, fx->c.items[5]);
	assert_true(p.steps[2].out_of_order);
	assert_false(p.steps[3].out_of_order);
	assert_int_equal(strata_plan_check_order(&p, &fx->h, &e), STRATA_EINVALID);
	assert_string_equal(e.detail, "3-C, 4-D are older than 10-J, the newest applied migration "
	                              "of its directory");
	strata_plan_free(&p);

	/* inside the plugin too: 2-B after 5-E is out of order */
	add_applied(fx, "5", "E");
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	PLAN_IS(&p, STRATA_UP, "2-B", "3-C", "4-D");
	assert_true(p.steps[0].out_of_order);
	assert_ptr_equal(p.steps[0].newer, fx->c.items[4]);
	strata_plan_free(&p);
}

static void test_up_order_one_source(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_plan p;
	add_applied(fx, "5", "E");
	assert_int_equal(strata_plan_up(&p, &fx->c, &fx->h, NULL, &e), 0);
	PLAN_IS(&p, STRATA_UP, "1-A", "2-B", "3-C", "4-D", "10-J");
	assert_int_equal(p.sources, 1);
	for (size_t i = 0; i < 4; i++)
		assert_true(p.steps[i].out_of_order);
	assert_false(p.steps[4].out_of_order);
	assert_int_equal(strata_plan_check_order(&p, &fx->h, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.detail, "older than 5-E, the newest applied migration"));
	assert_null(strstr(e.detail, "of its directory"));
	strata_plan_free(&p);
}

static void test_down_most_recently_applied(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_revert_opts o = {0};
	strata_plan p;
	/* the core's 1-A and 10-J, then the plugin's 2-B and 5-E */
	apply_revertible(fx);
	set_rank(fx, "1", "A", 1);
	set_rank(fx, "10", "J", 2);
	set_rank(fx, "2", "B", 3);
	set_rank(fx, "5", "E", 4);
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "5-E");
	assert_non_null(p.steps[0].higher);
	assert_string_equal(p.steps[0].higher->version, "10");
	strata_plan_free(&p);

	o.steps = 3;
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "5-E", "2-B", "10-J");
	assert_non_null(p.steps[1].higher);
	assert_null(p.steps[2].higher); /* the highest by then */
	strata_plan_free(&p);

	/* to_version chooses by version, and runs in the same order */
	o = (strata_revert_opts){.to_version = "2"};
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "5-E", "10-J");
	strata_plan_free(&p);

	o = (strata_revert_opts){.all = true};
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "5-E", "2-B", "10-J", "1-A");
	strata_plan_free(&p);

	/* ties (rows without a rank): the higher version first */
	set_rank(fx, "2", "B", 0);
	set_rank(fx, "5", "E", 0);
	set_rank(fx, "1", "A", 0);
	set_rank(fx, "10", "J", 0);
	o = (strata_revert_opts){.all = true};
	assert_int_equal(strata_plan_down(&p, &fx->c, &fx->h, &o, &e), 0);
	PLAN_IS(&p, STRATA_DOWN, "10-J", "5-E", "2-B", "1-A");
	assert_null(p.steps[0].higher);
	strata_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_up_skips_applied, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_up_fresh_database, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_up_fills_gaps, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_up_nothing_pending, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_up_to_version, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_up_to_unknown_version, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_default_one_step, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_steps, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_to_version, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_to_version_not_applied, setup_catalog,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_down_all, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_nothing_applied, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_refuses_empty_down, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_refuses_missing_down, setup_catalog,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_down_empty_golang_down_file_is_a_noop,
	                                    setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_refuses_golang_pair_without_down_file,
	                                    setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_refuses_applied_not_on_disk, setup_catalog,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_status_merge, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_status_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_all_pending, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_up_order_per_source, setup_two_sources, teardown),
	    cmocka_unit_test_setup_teardown(test_up_order_one_source, setup_catalog, teardown),
	    cmocka_unit_test_setup_teardown(test_down_most_recently_applied, setup_two_sources,
	                                    teardown),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
