/*
 * test_api.c: the public API (include/strata.h) as a program uses it: every function with the
 * arguments a caller can get wrong, errors and versions, and the use cases on real SQLite files
 * with migrations from directories and from memory, C steps included.
 */
#include "unit.h"

/* ---- fixtures ------------------------------------------------------------------------------ */

struct fx {
	char *dir;
	char url[4300];
	char file[4200];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->dir = unit_mkdtemp();
	snprintf(fx->file, sizeof(fx->file), "%s/app.db", fx->dir);
	snprintf(fx->url, sizeof(fx->url), "sqlite:%s", fx->file);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	unit_rmtree(fx->dir); /* frees it */
	free(fx);
	return 0;
}

static strata_db *open_db(const struct fx *fx, unsigned flags)
{
	strata_db_options o = STRATA_DB_OPTIONS_INIT;
	strata_error e = STRATA_ERROR_INIT;
	strata_db *db = NULL;
	o.flags = flags;
	if (strata_db_open(&db, fx->url, &o, &e) != 0)
		fail_msg("strata_db_open: %s", e.msg);
	return db;
}

static strata_migration_def sql_def(const char *id, const char *name, const char *up,
                                    const char *down)
{
	strata_migration_def d = STRATA_MIGRATION_DEF_INIT;
	d.id = id;
	d.name = name;
	d.up_sql = up;
	d.down_sql = down;
	return d;
}

static strata_source *source_of(const strata_migration_def *defs, size_t n)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_source *src = NULL;
	assert_int_equal(strata_source_new(&src, &e), 0);
	for (size_t i = 0; i < n; i++)
		if (strata_source_add(src, &defs[i], "test", &e) != 0)
			fail_msg("strata_source_add %zu: %s", i, e.msg);
	return src;
}

/* One value of a query on the database file, as text ("" for none). */
static void query1(const struct fx *fx, const char *sql, char *out, size_t n)
{
	char cmd[9000];
	FILE *p;
	size_t len;
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\" 2>&1", fx->file, sql);
	p = popen(cmd, "r");
	assert_non_null(p);
	len = fread(out, 1, n - 1, p);
	out[len] = '\0';
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	pclose(p);
}

static void assert_query(const struct fx *fx, const char *sql, const char *want)
{
	char got[4096];
	query1(fx, sql, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("%s: got '%s', wanted '%s'", sql, got, want);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---- arguments a caller gets wrong ------------------------------------------------------- */

static void assert_bad_arg(int rc, const strata_error *e, const char *fn)
{
	assert_int_equal(rc, STRATA_EINVALID);
	assert_int_equal(e->code, STRATA_EINVALID);
	if (strncmp(e->msg, fn, strlen(fn)) != 0)
		fail_msg("'%s' does not name %s", e->msg, fn);
}

/* A dry run with run options of an older version, whose struct is `size` bytes. */
static void old_options_run(strata_db *db, strata_source *src, unsigned version, size_t size)
{
	strata_run_options init = STRATA_RUN_OPTIONS_INIT, *old = malloc(size);
	strata_error e = STRATA_ERROR_INIT;
	assert_non_null(old);
	init.version = version;
	init.dry_run = true;
	memcpy(old, &init, size);
	assert_int_equal(strata_run(db, src, old, NULL, &e), 0);
	free(old);
}

static void test_bad_arguments(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_db *db = open_db(fx, 0), *scratch = NULL;
	strata_source *src = NULL;
	strata_run_report *rr = (strata_run_report *)1;
	strata_status_report *st = (strata_status_report *)1;
	strata_problems *pb = (strata_problems *)1;
	strata_build_report *br = NULL;
	strata_lint_report *lr = NULL;
	strata_seed_report *sr = NULL;
	strata_run_options bad_ro = STRATA_RUN_OPTIONS_INIT;
	strata_db_options bad_do = STRATA_DB_OPTIONS_INIT;
	strata_build_options bad_bo = STRATA_BUILD_OPTIONS_INIT;
	strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
	strata_migration_def def = sql_def("1", "A", "select 1;", NULL);
	strata_dialect d;
	char *path = (char *)1;

	assert_int_equal(strata_source_new(&src, &e), 0);
	/* handles and outputs */
	assert_bad_arg(strata_db_open(NULL, fx->url, NULL, &e), &e, "strata_db_open");
	assert_bad_arg(strata_db_open(&scratch, NULL, NULL, &e), &e, "strata_db_open");
	assert_null(scratch); /* *out is cleared first */
	bad_do.version = 0;
	assert_bad_arg(strata_db_open(&scratch, fx->url, &bad_do, &e), &e, "strata_db_open");
	bad_do.version = STRATA_DB_OPTIONS_VERSION + 1;
	assert_bad_arg(strata_db_open(&scratch, fx->url, &bad_do, &e), &e, "strata_db_open");
	bad_do = (strata_db_options)STRATA_DB_OPTIONS_INIT;
	bad_do.connect_wait_ms = -1;
	assert_bad_arg(strata_db_open(&scratch, fx->url, &bad_do, &e), &e, "strata_db_open");
	assert_null(scratch);
	assert_bad_arg(strata_source_new(NULL, &e), &e, "strata_source_new");
	assert_bad_arg(strata_source_add_dir(NULL, fx->dir, &e), &e, "strata_source_add_dir");
	assert_bad_arg(strata_source_add_dir(src, NULL, &e), &e, "strata_source_add_dir");
	assert_bad_arg(strata_source_add_build(src, NULL, fx->dir, &e), &e,
	               "strata_source_add_build");
	assert_bad_arg(strata_source_add(NULL, &def, NULL, &e), &e, "strata_source_add");
	assert_bad_arg(strata_source_add(src, NULL, NULL, &e), &e, "strata_source_add");
	def.version = 0;
	assert_bad_arg(strata_source_add(src, &def, NULL, &e), &e, "strata_source_add");
	def.version = STRATA_MIGRATION_DEF_VERSION;

	assert_bad_arg(strata_run(NULL, src, NULL, &rr, &e), &e, "strata_run");
	assert_null(rr);
	assert_bad_arg(strata_run(db, NULL, NULL, NULL, &e), &e, "strata_run");
	assert_bad_arg(strata_revert(NULL, src, NULL, NULL, &e), &e, "strata_revert");
	assert_bad_arg(strata_repair(db, NULL, NULL, NULL, &e), &e, "strata_repair");
	assert_bad_arg(strata_status(db, src, NULL, &e), &e, "strata_status");
	assert_bad_arg(strata_status(NULL, src, &st, &e), &e, "strata_status");
	assert_null(st);
	assert_bad_arg(strata_validate(db, NULL, NULL, &pb, &e), &e, "strata_validate");
	assert_null(pb);
	assert_bad_arg(strata_validate(db, src, NULL, NULL, &e), &e, "strata_validate");
	/* options of a version this library does not know, and values out of range */
	bad_ro.version = 0;
	assert_bad_arg(strata_run(db, src, &bad_ro, NULL, &e), &e, "strata_run");
	bad_ro.version = STRATA_RUN_OPTIONS_VERSION + 1;
	assert_bad_arg(strata_revert(db, src, &bad_ro, NULL, &e), &e, "strata_revert");
	bad_ro = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	bad_ro.lock_wait_ms = -5;
	assert_bad_arg(strata_run(db, src, &bad_ro, NULL, &e), &e, "strata_run");
	bad_ro = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	bad_ro.lock_strategy = (strata_lock_strategy)7;
	assert_bad_arg(strata_run(db, src, &bad_ro, NULL, &e), &e, "strata_run");
	bad_ro = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	bad_ro.to = "12x";
	assert_bad_arg(strata_run(db, src, &bad_ro, NULL, &e), &e, "strata_run");
	bad_ro = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	bad_ro.max_replica_lag_ms = -1;
	assert_bad_arg(strata_run(db, src, &bad_ro, NULL, &e), &e, "strata_run");
	bad_ro = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	bad_ro.replica_wait_timeout_ms = 0;
	assert_bad_arg(strata_run(db, src, &bad_ro, NULL, &e), &e, "strata_run");
	/* a version-1 caller's struct ends before max_replica_lag_ms, a version-2 one before
	 * no_step_list: only that much is read (ASan sees a read past it), the rest comes from
	 * the defaults */
	old_options_run(db, src, 1, offsetof(strata_run_options, max_replica_lag_ms));
	old_options_run(db, src, 2, offsetof(strata_run_options, no_step_list));

	/* build, lint, create */
	assert_bad_arg(strata_build(NULL, fx->dir, NULL, &br, &e), &e, "strata_build");
	assert_null(br);
	assert_bad_arg(strata_build(fx->dir, NULL, NULL, NULL, &e), &e, "strata_build");
	bad_bo.version = 9;
	assert_bad_arg(strata_build(fx->dir, fx->dir, &bad_bo, NULL, &e), &e, "strata_build");
	bad_bo = (strata_build_options)STRATA_BUILD_OPTIONS_INIT;
	bad_bo.dialect = (strata_dialect)0;
	assert_bad_arg(strata_lint(fx->dir, &bad_bo, &lr, &e), &e, "strata_lint");
	assert_null(lr);
	bad_bo = (strata_build_options)STRATA_BUILD_OPTIONS_INIT;
	bad_bo.nbase = 2;
	assert_bad_arg(strata_lint(fx->dir, &bad_bo, NULL, &e), &e, "strata_lint");
	assert_bad_arg(strata_lint(NULL, NULL, NULL, &e), &e, "strata_lint");
	assert_bad_arg(strata_create(NULL, "A", &path, &e), &e, "strata_create");
	assert_null(path);
	assert_bad_arg(strata_create(fx->dir, "A", NULL, &e), &e, "strata_create");
	assert_int_equal(strata_create(fx->dir, "no spaces", &path, &e), STRATA_EINVALID);
	assert_null(path);
	assert_int_equal(strata_dialect_parse(&d, NULL, &e), STRATA_EINVALID);
	assert_int_equal(strata_dialect_parse(NULL, "sqlite", &e), STRATA_EINVALID);
	/* a directory that is not one */
	assert_int_equal(strata_source_add_dir(src, "/nonexistent/strata", &e), STRATA_ENOTFOUND);
	assert_int_equal(strata_source_add_build(src, "/nonexistent/dist", "src", &e),
	                 STRATA_ENOTFOUND);
	assert_non_null(strstr(e.hint, "strata_build()"));
	assert_int_equal(strata_source_add_dir(src, "/dev/null", &e), STRATA_EINVALID);
	assert_false(strata_name_valid(NULL));
	assert_false(strata_name_valid(""));

	/* seed */
	assert_bad_arg(strata_seed(db, src, NULL, &sr, &e), &e, "strata_seed");
	assert_null(sr);
	assert_bad_arg(strata_seed(NULL, src, &so, NULL, &e), &e, "strata_seed");
	assert_bad_arg(strata_seed(db, src, &so, NULL, &e), &e, "strata_seed"); /* no files */
	so.version = 0;
	assert_bad_arg(strata_seed(db, src, &so, NULL, &e), &e, "strata_seed");

	/* C steps: the tx functions outside a step */
	assert_bad_arg(strata_tx_exec(NULL, "select 1", &e), &e, "strata_tx_exec");
	assert_bad_arg(strata_tx_query(NULL, "select 1", NULL, 0, NULL, &e), &e, "strata_tx_query");
	assert_null(strata_tx_engine(NULL));
	assert_int_equal(strata_rows_count(NULL), 0);
	assert_int_equal(strata_rows_columns(NULL), 0);
	assert_null(strata_rows_get(NULL, 0, 0));
	assert_null(strata_rows_name(NULL, 0));

	/* nothing of the above wrote anything: the file is made only by a write */
	assert_false(file_exists(fx->file));

	/* every free accepts NULL; the accessors a NULL handle */
	strata_db_close(NULL);
	strata_source_free(NULL);
	strata_run_report_free(NULL);
	strata_status_report_free(NULL);
	strata_problems_free(NULL);
	strata_build_report_free(NULL);
	strata_lint_report_free(NULL);
	strata_seed_report_free(NULL);
	strata_rows_free(NULL);
	strata_free(NULL);
	strata_db_interrupt(NULL);
	assert_null(strata_db_display(NULL));
	assert_null(strata_db_engine(NULL));
	assert_false(strata_db_exists(NULL));
	/* and errors may be NULL */
	assert_int_equal(strata_run(NULL, NULL, NULL, NULL, NULL), STRATA_EINVALID);
	strata_source_free(src);
	strata_db_close(db);
}

/* ---- errors, versions, URLs ---------------------------------------------------------------- */

static void test_errors_and_versions(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	char long_msg[2000];
	(void)state;

	assert_string_equal(strata_version(), STRATA_VERSION);
	assert_int_equal(STRATA_VERSION_NUMBER, STRATA_VERSION_MAJOR * 10000 +
	                                            STRATA_VERSION_MINOR * 100 +
	                                            STRATA_VERSION_PATCH);
	assert_int_equal(strata_error_set(&e, STRATA_ENOTFOUND, "no %s", "thing"),
	                 STRATA_ENOTFOUND);
	assert_int_equal(e.code, STRATA_ENOTFOUND);
	assert_string_equal(e.msg, "no thing");
	strata_error_detail(&e, "d%d", 1);
	strata_error_hint(&e, "h%d", 2);
	strata_error_at(&e, "f.sql", 3, 4);
	assert_string_equal(e.detail, "d1");
	assert_string_equal(e.hint, "h2");
	assert_string_equal(e.file, "f.sql");
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 4);
	strata_error_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	assert_string_equal(e.file, "");
	/* a message too long is cut, and says so */
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	strata_error_set(&e, STRATA_ERROR, "%s", long_msg);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_string_equal(e.msg + strlen(e.msg) - 3, "...");
	assert_int_equal(strata_error_set(NULL, STRATA_EDB, "x"), STRATA_EDB);
	assert_string_equal(strata_error_name(STRATA_ELOCKTIMEOUT), "STRATA_ELOCKTIMEOUT");
	assert_string_equal(strata_error_name(STRATA_EINTERRUPTED), "STRATA_EINTERRUPTED");
	assert_string_equal(strata_error_name(STRATA_OK), "STRATA_OK");
	assert_string_equal(strata_error_name(-1000), "STRATA_ERROR");
	assert_string_equal(strata_error_name(5), "STRATA_ERROR");
}

static void test_urls(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_db *db = NULL;
	char *r = strata_url_redact("postgres://app:s3cret@h/db");
	assert_string_equal(r, "postgres://app:****@h/db");
	strata_free(r);
	assert_string_equal(strata_url_engine("postgresql://h/db"), "postgres");
	assert_string_equal(strata_url_engine("host=h dbname=x"), "postgres");
	assert_string_equal(strata_url_engine("sqlite:x.db"), "sqlite");
	assert_null(strata_url_engine("mysql://h/db"));
	assert_null(strata_url_engine(NULL));
	/* a URL no engine takes: an error naming the URL with its password masked */
	assert_int_equal(strata_db_open(&db, "mysql://u:pw@h/db", NULL, &e), STRATA_EINVALID);
	assert_null(db);
	assert_non_null(strstr(e.msg, "mysql://u:****@h/db"));
	assert_null(strstr(e.msg, "pw@"));
	/* a SQLite file in a directory that is not there */
	snprintf(fx->url, sizeof(fx->url), "sqlite:%s/nodir/x.db", fx->dir);
	assert_int_equal(strata_db_open(&db, fx->url, NULL, &e), STRATA_ECONNECT);
	assert_null(db);
	assert_non_null(strstr(e.hint, "does the directory exist"));
}

/* ---- migrations from memory ------------------------------------------------------------------ */

static void test_source_add_checks(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_source *src = NULL;
	strata_migration_def d;
	(void)state;

	assert_int_equal(strata_source_new(&src, &e), 0);
	d = sql_def("1a", "A", "select 1;", NULL);
	assert_int_equal(strata_source_add(src, &d, "app", &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "app:1a-A: the id '1a' is not a version (digits only)");
	d = sql_def(NULL, "A", "select 1;", NULL);
	assert_int_equal(strata_source_add(src, &d, NULL, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "memory:?-A:"));
	d = sql_def("1", "has space", "select 1;", NULL);
	assert_int_equal(strata_source_add(src, &d, "app", &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "is not a migration name"));
	d = sql_def("1", "A", NULL, NULL); /* no up */
	assert_int_equal(strata_source_add(src, &d, "app", &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "SQL or a function"));
	d = sql_def("1", "A", "select 1;", NULL);
	d.flags = 8;
	assert_int_equal(strata_source_add(src, &d, "app", &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "unknown flags"));
	strata_source_free(src);
}

static void test_memory_sql_run_status_revert(void **state)
{
	struct fx *fx = *state;
	const strata_migration_def defs[] = {
	    sql_def("2", "Two", "create table two (x int);", "drop table two;"),
	    sql_def("1", "One", "create table one (x int); insert into one values (1);",
	            "drop table one;"),
	};
	strata_source *src = source_of(defs, 2);
	strata_db *db = NULL;
	strata_run_report *r = NULL;
	strata_status_report *st = NULL;
	strata_run_options o = STRATA_RUN_OPTIONS_INIT;
	strata_error e = STRATA_ERROR_INIT;

	/* only reads: no file is made */
	db = open_db(fx, STRATA_DB_NO_CREATE);
	assert_false(strata_db_exists(db));
	assert_string_equal(strata_db_engine(db), "sqlite");
	assert_int_equal(strata_status(db, src, &st, &e), 0);
	assert_int_equal(st->n, 2);
	assert_int_equal(st->pending, 2);
	assert_false(st->db_exists);
	assert_string_equal(st->entries[0].version, "1"); /* in version order */
	assert_int_equal(st->entries[0].state, STRATA_STATE_PENDING);
	assert_null(st->entries[0].applied_at);
	strata_status_report_free(st);
	o.dry_run = true;
	assert_int_equal(strata_run(db, src, &o, &r, &e), 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->done, 0);
	assert_int_equal(r->steps[0].state, STRATA_STEP_PLANNED);
	assert_non_null(strstr(r->steps[0].sql, "create table one"));
	assert_string_equal(r->steps[0].file, "test:1-One");
	strata_run_report_free(r);
	strata_db_close(db);
	assert_false(file_exists(fx->file));

	/* a run applies both in version order; the file is made by it */
	db = open_db(fx, 0);
	assert_false(file_exists(fx->file));
	assert_int_equal(strata_run(db, src, NULL, &r, &e), 0);
	assert_int_equal(r->done, 2);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->failed, -1);
	assert_string_equal(r->steps[0].name, "One");
	assert_int_equal(r->steps[1].state, STRATA_STEP_DONE);
	assert_true(strata_db_exists(db));
	strata_run_report_free(r);
	assert_query(fx, "select group_concat(version || name, ',') from strata_migrations",
	             "1One,2Two");
	/* again: nothing */
	assert_int_equal(strata_run(db, src, NULL, &r, &e), 0);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->migrations, 2);
	strata_run_report_free(r);
	assert_int_equal(strata_status(db, src, &st, &e), 0);
	assert_int_equal(st->applied, 2);
	assert_int_equal(st->entries[1].state, STRATA_STATE_APPLIED);
	assert_non_null(st->entries[1].applied_at);
	strata_status_report_free(st);
	/* revert: the newest, then everything */
	assert_int_equal(strata_revert(db, src, NULL, &r, &e), 0);
	assert_int_equal(r->done, 1);
	assert_string_equal(r->steps[0].name, "Two");
	assert_int_equal(r->steps[0].direction, STRATA_DOWN);
	strata_run_report_free(r);
	o = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	o.all = true;
	assert_int_equal(strata_revert(db, src, &o, &r, &e), 0);
	assert_int_equal(r->done, 1);
	strata_run_report_free(r);
	assert_query(fx, "select count(*) from strata_migrations", "0");
	assert_query(fx, "select count(*) from sqlite_master where name in ('one', 'two')", "0");
	/* --to a version that is not there */
	o = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	o.to = "7";
	assert_int_equal(strata_run(db, src, &o, &r, &e), STRATA_ENOTFOUND);
	assert_non_null(strstr(e.hint, "strata_status()"));
	assert_non_null(r); /* set whatever the outcome */
	assert_int_equal(r->done, 0);
	strata_run_report_free(r);
	strata_db_close(db);
	strata_source_free(src);
}

/* An irreversible migration (no down) is not reverted, and nothing else is either. */
static void test_irreversible(void **state)
{
	struct fx *fx = *state;
	const strata_migration_def defs[] = {
	    sql_def("1", "A", "create table a (x int);", NULL),
	    sql_def("2", "B", "create table b (x int);", "drop table b;"),
	};
	strata_source *src = source_of(defs, 2);
	strata_db *db = open_db(fx, 0);
	strata_run_options o = STRATA_RUN_OPTIONS_INIT;
	strata_error e = STRATA_ERROR_INIT;

	assert_int_equal(strata_run(db, src, NULL, NULL, &e), 0);
	o.all = true;
	assert_int_equal(strata_revert(db, src, &o, NULL, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "1-A"));
	assert_query(fx, "select count(*) from strata_migrations", "2");
	strata_db_close(db);
	strata_source_free(src);
}

/* ---- C steps -------------------------------------------------------------------------------- */

struct step_ud {
	int calls;
	bool fail;
	size_t rows, cols;
	char first[64], colname[64];
	bool null_seen;
	const char *engine;
};

static int up_step(strata_tx *tx, void *userdata, strata_error *e)
{
	struct step_ud *u = userdata;
	strata_rows *rows = NULL;
	const char *params[] = {"7", NULL};
	int error;

	u->calls++;
	u->engine = strata_tx_engine(tx);
	if ((error = strata_tx_exec(tx,
	                            "create table moved (a text, b text); "
	                            "insert into moved values ('x', 'y');",
	                            e)) < 0 ||
	    (error = strata_tx_query(tx, "insert into moved values ($1, $2)", params, 2, NULL, e)) <
	        0 ||
	    (error = strata_tx_query(tx, "select a, b from moved order by a", NULL, 0, &rows, e)) <
	        0)
		return error;
	u->rows = strata_rows_count(rows);
	u->cols = strata_rows_columns(rows);
	snprintf(u->first, sizeof(u->first), "%s", strata_rows_get(rows, 0, 0));
	snprintf(u->colname, sizeof(u->colname), "%s", strata_rows_name(rows, 1));
	u->null_seen = strata_rows_get(rows, 0, 1) == NULL; /* the NULL parameter */
	assert_null(strata_rows_get(rows, 5, 0));           /* out of range */
	assert_null(strata_rows_get(rows, 0, 9));
	assert_null(strata_rows_name(rows, 9));
	strata_rows_free(rows);
	if (u->fail)
		return strata_error_set(e, STRATA_ERROR, "the step says no");
	return 0;
}

static int down_step(strata_tx *tx, void *userdata, strata_error *e)
{
	(void)userdata;
	return strata_tx_exec(tx, "drop table moved;", e);
}

static void test_c_step(void **state)
{
	struct fx *fx = *state;
	struct step_ud u = {0};
	strata_migration_def defs[] = {
	    sql_def("1", "Base", "create table base (x int);", "drop table base;"),
	    STRATA_MIGRATION_DEF_INIT,
	};
	strata_source *src;
	strata_db *db = open_db(fx, 0);
	strata_run_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;

	defs[1].id = "2";
	defs[1].name = "MoveData";
	defs[1].up_fn = up_step;
	defs[1].down_fn = down_step;
	defs[1].userdata = &u;
	defs[1].fingerprint = "v1";
	src = source_of(defs, 2);

	/* the step fails: its work and its history row are rolled back, the one before stays */
	u.fail = true;
	assert_int_equal(strata_run(db, src, NULL, &r, &e), STRATA_ERROR);
	assert_string_equal(e.msg, "the step says no");
	assert_int_equal(u.calls, 1);
	assert_int_equal(r->failed, 1);
	assert_int_equal(r->done, 1);
	assert_true(r->steps[1].is_function);
	assert_null(r->steps[1].sql);
	assert_int_equal(r->steps[1].state, STRATA_STEP_FAILED);
	assert_ptr_equal(r->failed_step, &r->steps[1]);
	strata_run_report_free(r);
	assert_query(fx, "select group_concat(name) from strata_migrations", "Base");
	assert_query(fx, "select count(*) from sqlite_master where name = 'moved'", "0");

	/* no_step_list: no list, the same count, and the failed step still described */
	{
		strata_run_options ro = STRATA_RUN_OPTIONS_INIT;
		ro.no_step_list = true;
		assert_int_equal(strata_run(db, src, &ro, &r, &e), STRATA_ERROR);
		assert_null(r->steps);
		assert_int_equal(r->n, 1);
		assert_int_equal(r->failed, 0);
		assert_non_null(r->failed_step);
		assert_string_equal(r->failed_step->name, "MoveData");
		assert_int_equal(r->failed_step->state, STRATA_STEP_FAILED);
		strata_run_report_free(r);
		ro.dry_run = true; /* a dry run: no list either (its steps come as events) */
		assert_int_equal(strata_run(db, src, &ro, &r, &e), 0);
		assert_null(r->steps);
		assert_int_equal(r->n, 1);
		assert_null(r->failed_step);
		strata_run_report_free(r);
	}

	/* it runs, reads its own rows through the API, and is recorded */
	u.fail = false;
	assert_int_equal(strata_run(db, src, NULL, &r, &e), 0);
	assert_int_equal(r->done, 1);
	strata_run_report_free(r);
	assert_string_equal(u.engine, "sqlite");
	assert_int_equal(u.rows, 2);
	assert_int_equal(u.cols, 2);
	assert_string_equal(u.first, "7");
	assert_string_equal(u.colname, "b");
	assert_true(u.null_seen);
	assert_query(fx, "select count(*) from moved", "2");
	assert_query(fx, "select name from strata_migrations where version = '2'", "MoveData");

	/* a new fingerprint: the applied step changed, and a run says so */
	strata_source_free(src);
	defs[1].fingerprint = "v2";
	src = source_of(defs, 2);
	assert_int_equal(strata_run(db, src, NULL, NULL, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "was changed after it was applied"));
	assert_non_null(strstr(e.hint, "ignore_checksums"));

	/* the down function reverts it */
	assert_int_equal(strata_revert(db, src, NULL, &r, &e), 0);
	assert_int_equal(r->done, 1);
	strata_run_report_free(r);
	assert_query(fx, "select count(*) from sqlite_master where name = 'moved'", "0");
	assert_query(fx, "select group_concat(name) from strata_migrations", "Base");
	strata_db_close(db);
	strata_source_free(src);
}

/* A C step's statement fails: the database's error comes back with its code. */
static int bad_sql_step(strata_tx *tx, void *userdata, strata_error *e)
{
	(void)userdata;
	return strata_tx_exec(tx, "insert into nope values (1);", e);
}

static void test_c_step_db_error(void **state)
{
	struct fx *fx = *state;
	strata_migration_def d = STRATA_MIGRATION_DEF_INIT;
	strata_source *src;
	strata_db *db = open_db(fx, 0);
	strata_error e = STRATA_ERROR_INIT;

	d.id = "1";
	d.name = "Bad";
	d.up_fn = bad_sql_step;
	src = source_of(&d, 1);
	assert_int_equal(strata_run(db, src, NULL, NULL, &e), STRATA_EDB);
	assert_non_null(strstr(e.msg, "no such table: nope"));
	assert_query(fx, "select count(*) from strata_migrations", "0");
	/* a function with a NO_TRANSACTION flag is refused when it is added */
	d.flags = STRATA_MIGRATION_UP_NO_TRANSACTION;
	assert_int_equal(strata_source_add(src, &d, NULL, &e), STRATA_EINVALID);
	strata_db_close(db);
	strata_source_free(src);
}

/* ---- events -------------------------------------------------------------------------------- */

struct seen {
	char log[2048];
};

static void on_event(const strata_event *ev, void *userdata)
{
	struct seen *s = userdata;
	size_t n = strlen(s->log);
	switch (ev->kind) {
	case STRATA_EVENT_STEP_START:
		snprintf(s->log + n, sizeof(s->log) - n, "start %s %zu/%zu;", ev->name, ev->index,
		         ev->total);
		break;
	case STRATA_EVENT_STEP_DONE:
		snprintf(s->log + n, sizeof(s->log) - n, "done %s%s;", ev->name,
		         ev->ms >= 0 ? "" : " negative");
		break;
	case STRATA_EVENT_PHASE:
		snprintf(s->log + n, sizeof(s->log) - n, "%s;", ev->phase);
		break;
	case STRATA_EVENT_STEP_PLANNED:
		snprintf(s->log + n, sizeof(s->log) - n, "planned %s %zu/%zu %s %.*s;", ev->name,
		         ev->index, ev->total, ev->step->file, (int)ev->step->sql_len,
		         ev->step->sql);
		break;
	case STRATA_EVENT_TESTED:
		snprintf(s->log + n, sizeof(s->log) - n, "tested %s-%s %d diff %zu%s;",
		         ev->test->version, ev->test->name, (int)ev->test->result, ev->test->diff.n,
		         ev->test->error ? " error" : "");
		break;
	default:
		break;
	}
}

/* fx's database, its events written into s */
static strata_db *open_seen(struct fx *fx, struct seen *s)
{
	strata_db_options o = STRATA_DB_OPTIONS_INIT;
	strata_db *db = NULL;
	strata_error e = STRATA_ERROR_INIT;

	o.on_event = on_event;
	o.userdata = s;
	assert_int_equal(strata_db_open(&db, fx->url, &o, &e), 0);
	return db;
}

static void test_events(void **state)
{
	struct fx *fx = *state;
	const strata_migration_def defs[] = {
	    sql_def("1", "A", "create table a (x int);", "drop table a;"),
	    sql_def("2", "B", "create table b (x int);", "drop table b;"),
	};
	strata_source *src = source_of(defs, 2);
	struct seen s = {{0}};
	strata_db *db = open_seen(fx, &s);
	strata_error e = STRATA_ERROR_INIT;

	assert_int_equal(strata_run(db, src, NULL, NULL, &e), 0);
	assert_string_equal(s.log, "connect;read;lock;history;plan;start A 0/2;done A;start B 1/2;"
	                           "done B;");
	/* a dry run hands out each step, SQL and all, with or without the list */
	for (int list = 0; list < 2; list++) {
		strata_run_options ro = STRATA_RUN_OPTIONS_INIT;
		strata_run_report *r = NULL;
		ro.all = true;
		ro.dry_run = true;
		ro.no_step_list = !list;
		s.log[0] = '\0';
		assert_int_equal(strata_revert(db, src, &ro, &r, &e), 0);
		assert_non_null(strstr(s.log, "planned B 0/2 test:2-B drop table b;;planned A 1/2 "
		                              "test:1-A drop table a;;"));
		assert_int_equal(r->n, 2);
		assert_true(list ? r->steps != NULL : r->steps == NULL);
		strata_run_report_free(r);
	}
	strata_db_close(db);
	strata_source_free(src);
}

/* strata_test_migrations hands out each entry (TESTED) as its test ends; with no_entry_list the
 * report lists none, with the same counts; a version-1 options struct lists them. */
static void test_tested_events(void **state)
{
	struct fx *fx = *state;
	const strata_migration_def defs[] = {
	    sql_def("1", "A", "create table a (x int);", "drop table a;"),
	    sql_def("2", "B", "create table b (x int); create table b2 (x int);", "drop table b;"),
	    sql_def("3", "C", "create table c (x int);", NULL),
	    sql_def("4", "D", "create table d (x int);", "drop table d;"),
	};
	/* 2-B: its down leaves b2, so its up fails when run again (the error) */
	const char *want = "tested 1-A 1 diff 0;tested 2-B 5 diff 1 error;tested 3-C 2 diff 0;"
	                   "tested 4-D 0 diff 0;";
	strata_source *src = source_of(defs, 4);
	struct seen s = {{0}};
	strata_db *db = open_seen(fx, &s);
	strata_error e = STRATA_ERROR_INIT;

	for (int list = 0; list < 3; list++) {
		strata_schema_options so = STRATA_SCHEMA_OPTIONS_INIT;
		strata_test_report *r = NULL;
		so.from = "1";
		so.no_entry_list = list == 0;
		so.version = list == 2 ? 1 : so.version;
		s.log[0] = '\0';
		assert_int_equal(strata_test_migrations(db, src, &so, &r, &e), 0);
		assert_non_null(strstr(s.log, want));
		assert_int_equal(r->ok, 1);
		assert_int_equal(r->failed, 2);
		assert_int_equal(r->untested, 1);
		if (list == 0) {
			assert_int_equal(r->n, 0);
			assert_null(r->entries);
		} else {
			assert_int_equal(r->n, 4);
			assert_string_equal(r->entries[1].name, "B");
			assert_int_equal(r->entries[1].result, STRATA_TEST_NOT_RESTORED);
			assert_int_equal(r->entries[1].diff.n, 1);
			assert_string_equal(r->entries[1].diff.items[0].name, "b2");
			assert_int_equal(r->entries[2].result, STRATA_TEST_NO_DOWN);
			assert_null(r->entries[3].error);
		}
		strata_test_report_free(r);
	}
	strata_db_close(db);
	strata_source_free(src);
}

/* ---- interrupt ------------------------------------------------------------------------------- */

static void test_interrupt(void **state)
{
	struct fx *fx = *state;
	const strata_migration_def d = sql_def("1", "A", "create table a (x int);", NULL);
	strata_source *src = source_of(&d, 1);
	strata_db *db = open_db(fx, 0);
	strata_run_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;

	strata_db_interrupt(db);
	assert_int_equal(strata_run(db, src, NULL, &r, &e), STRATA_EINTERRUPTED);
	assert_null(r);
	assert_int_equal(strata_status(db, src, NULL, &e), STRATA_EINVALID); /* out NULL */
	strata_db_close(db);
	strata_source_free(src);
	/* nothing was written: not even the file */
	assert_false(file_exists(fx->file));
}

/* ---- directories, validate, out of order ------------------------------------------------- */

static void test_dirs_validate_out_of_order(void **state)
{
	struct fx *fx = *state;
	char *m = unit_path(fx->dir, "m");
	strata_source *src = NULL;
	strata_db *db = open_db(fx, 0);
	strata_problems *p = NULL;
	strata_run_options o = STRATA_RUN_OPTIONS_INIT;
	strata_migration_def d = sql_def("5", "Mem", "create table mem (x int);", NULL);
	strata_error e = STRATA_ERROR_INIT;

	assert_int_equal(mkdir(m, 0755), 0);
	unit_write(m, "10-Ten.sql", "-- migrate:up\ncreate table ten (x int);\n");
	assert_int_equal(strata_source_new(&src, &e), 0);
	assert_int_equal(strata_source_add_dir(src, m, &e), 0);
	/* a directory that is not there is refused when it is added */
	assert_int_equal(strata_source_add_dir(src, "/nonexistent/strata", &e), STRATA_ENOTFOUND);
	assert_int_equal(strata_run(db, src, NULL, NULL, &e), 0);
	/* an older migration in memory, after 10 is applied: another source, so in order */
	assert_int_equal(strata_source_add(src, &d, NULL, &e), 0);
	assert_int_equal(strata_validate(db, src, NULL, &p, &e), 0);
	assert_int_equal(p->n, 0);
	assert_int_equal(p->migrations, 2);
	assert_int_equal(p->pending, 1);
	strata_problems_free(p);
	assert_int_equal(strata_run(db, src, NULL, NULL, &e), 0);
	/* an older migration in the directory of 10: out of order */
	unit_write(m, "7-Seven.sql", "-- migrate:up\ncreate table seven (x int);\n");
	assert_int_equal(strata_validate(db, src, NULL, &p, &e), 0);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->migrations, 3);
	assert_int_equal(p->pending, 1);
	assert_non_null(strstr(p->items[0].hint, "allow_out_of_order"));
	assert_non_null(strstr(p->items[0].detail, "10-Ten, the newest applied migration of its"));
	strata_problems_free(p);
	assert_int_equal(strata_run(db, src, NULL, NULL, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "out of order"));
	o.allow_out_of_order = true;
	assert_int_equal(strata_run(db, src, &o, NULL, &e), 0);
	assert_query(fx,
	             "select group_concat(version || ':' || out_of_order, ',') from (select * from "
	             "strata_migrations order by cast(version as integer))",
	             "5:0,7:1,10:0");
	/* a malformed file: the run is refused, nothing changes */
	unit_write(m, "11-Bad.sql", "create table bad (x int);\n");
	assert_int_equal(strata_run(db, src, &o, NULL, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.file, "11-Bad.sql"));
	assert_query(fx, "select count(*) from strata_migrations", "3");
	strata_db_close(db);
	strata_source_free(src);
	free(m);
}

/* ---- build, lint, create, seed ------------------------------------------------------------- */

static void test_build_lint_create_seed(void **state)
{
	struct fx *fx = *state;
	char *srcd = unit_path(fx->dir, "src"), *dist = unit_path(fx->dir, "dist"), *path = NULL;
	const char *files[1];
	strata_build_report *br = NULL;
	strata_lint_report *lr = NULL;
	strata_build_options bo = STRATA_BUILD_OPTIONS_INIT;
	strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
	strata_seed_report *sr = NULL;
	strata_source *src = NULL;
	strata_db *db = NULL;
	strata_error e = STRATA_ERROR_INIT;
	char *seed = unit_path(fx->dir, "seed.json");

	assert_int_equal(strata_create(srcd, "AddThings", &path, &e), 0);
	assert_non_null(strstr(path, "-AddThings.sql"));
	assert_true(file_exists(path));
	unit_write(srcd, strrchr(path, '/') + 1,
	           "-- migrate:up\ncreate table things (id integer primary key, name text);\n"
	           "-- migrate:down\ndrop table things;\n");
	strata_free(path);
	assert_true(strata_name_valid("AddThings"));

	/* lint: the findings are not failures */
	bo.dialect = STRATA_DIALECT_POSTGRES;
	assert_int_equal(strata_lint(srcd, &bo, &lr, &e), 0);
	assert_int_equal(lr->migrations, 1);
	strata_lint_report_free(lr);
	/* build as SQLite, then run the build */
	bo.dialect = STRATA_DIALECT_SQLITE;
	assert_int_equal(strata_build(srcd, dist, &bo, &br, &e), 0);
	assert_int_equal(br->built, 1);
	assert_true(br->ms >= 0);
	strata_build_report_free(br);
	unit_write(fx->dir, "seed.json", "{\"things\": [{\"id\": 1, \"name\": \"a\"}]}");
	assert_int_equal(strata_source_new(&src, &e), 0);
	assert_int_equal(strata_source_add_build(src, dist, srcd, &e), 0);
	db = open_db(fx, 0);
	/* seed: the pending migration first, then the rows */
	files[0] = seed;
	so.files = files;
	so.nfiles = 1;
	assert_int_equal(strata_seed(db, src, &so, &sr, &e), 0);
	assert_non_null(sr->migrated);
	assert_int_equal(sr->migrated->done, 1);
	assert_int_equal(sr->rows, 1);
	assert_int_equal(sr->files[0].status, STRATA_SEED_FILE_LOADED);
	strata_seed_report_free(sr);
	assert_query(fx, "select name from things", "a");
	/* a broken seed file: an error at its place, nothing written */
	unit_write(fx->dir, "seed.json", "{\"things\": [{\"id\": 2, \"name\": ]}");
	assert_int_equal(strata_seed(db, src, &so, &sr, &e), STRATA_EINVALID);
	assert_string_equal(e.file, seed);
	assert_int_equal(e.line, 1);
	assert_false(sr->rolled_back); /* it never got to the database */
	strata_seed_report_free(sr);
	assert_query(fx, "select count(*) from things", "1");
	strata_db_close(db);
	strata_source_free(src);
	free(seed);
	free(srcd);
	free(dist);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	    cmocka_unit_test(test_errors_and_versions),
	    cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
	    cmocka_unit_test(test_source_add_checks),
	    cmocka_unit_test_setup_teardown(test_memory_sql_run_status_revert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irreversible, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_c_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_c_step_db_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tested_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dirs_validate_out_of_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_build_lint_create_seed, setup, teardown),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
