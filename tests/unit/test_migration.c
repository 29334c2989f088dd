/* test_migration.c: versions, file names and section parsing (src/core/migration.c). */
#include "unit.h"

#include "core/migration.h"
#include "util/text.h"

/* ---- versions ---------------------------------------------------------------------------- */

static void test_version_cmp_numeric(void **state)
{
	(void)state;
	assert_int_equal(strata_version_cmp("1", "2"), -1);
	assert_int_equal(strata_version_cmp("2", "1"), 1);
	assert_int_equal(strata_version_cmp("2", "10"), -1); /* numeric, not strcmp */
	assert_int_equal(strata_version_cmp("10", "9"), 1);
	assert_int_equal(strata_version_cmp("1712345678901", "1712345678901"), 0);
	assert_int_equal(strata_version_cmp("1712345678901", "1712345678902"), -1);
	assert_int_equal(strata_version_cmp("20240101000000", "1712345678901"), 1);
}

static void test_version_cmp_any_length(void **state)
{
	(void)state;
	/* 25 digits: past 64-bit integers */
	assert_int_equal(
	    strata_version_cmp("1234567890123456789012345", "1234567890123456789012346"), -1);
	assert_int_equal(
	    strata_version_cmp("1234567890123456789012346", "1234567890123456789012345"), 1);
	assert_int_equal(
	    strata_version_cmp("1234567890123456789012345", "1234567890123456789012345"), 0);
	assert_int_equal(
	    strata_version_cmp("99999999999999999999999999", "100000000000000000000000000"), -1);
	assert_int_equal(strata_version_cmp("18446744073709551616", "18446744073709551615"), 1);
	assert_int_equal(strata_version_cmp("9", "1234567890123456789012345"), -1);
}

static void test_version_cmp_leading_zeros(void **state)
{
	(void)state;
	assert_int_equal(strata_version_cmp("007", "7"), 0);
	assert_int_equal(strata_version_cmp("7", "007"), 0);
	assert_int_equal(strata_version_cmp("0", "000"), 0);
	assert_int_equal(strata_version_cmp("0010", "9"), 1);
	assert_int_equal(strata_version_cmp("0009", "10"), -1);
	assert_int_equal(strata_version_cmp("0", "1"), -1);
	assert_int_equal(strata_version_cmp("000000000000000000000000001", "2"), -1);
}

static void test_key_cmp(void **state)
{
	(void)state;
	assert_int_equal(strata_migration_key_cmp("1", "b", "1", "a"), 1);
	assert_int_equal(strata_migration_key_cmp("1", "a", "1", "b"), -1);
	assert_int_equal(strata_migration_key_cmp("1", "zzz", "2", "aaa"), -1); /* version first */
	assert_int_equal(strata_migration_key_cmp("10", "a", "9", "z"), 1);
	assert_int_equal(strata_migration_key_cmp("01", "x", "1", "x"), 0);
	assert_int_equal(strata_migration_key_cmp("5", "Same", "5", "Same"), 0);
}

static void test_is_version(void **state)
{
	(void)state;
	assert_true(strata_is_version("0"));
	assert_true(strata_is_version("1712345678901"));
	assert_false(strata_is_version(""));
	assert_false(strata_is_version(NULL));
	assert_false(strata_is_version("12a"));
	assert_false(strata_is_version("-1"));
	assert_false(strata_is_version(" 1"));
}

/* ---- file names -------------------------------------------------------------------------- */

static void name_ok(const char *fname, strata_file_kind kind, const char *version, const char *name)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_file_kind k = (strata_file_kind)-1;
	char *v = NULL, *n = NULL;
	int rc = strata_migration_parse_name(&k, &v, &n, fname, &e);
	if (rc != 0)
		fail_msg("'%s': unexpected error %d: %s", fname, rc, e.msg);
	assert_int_equal(k, kind);
	if (version) {
		assert_non_null(v);
		assert_string_equal(v, version);
		assert_string_equal(n, name);
	} else {
		assert_null(v);
		assert_null(n);
	}
	free(v);
	free(n);
}

static void name_bad(const char *fname)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_file_kind k = STRATA_FILE_SINGLE;
	char *v = (char *)1, *n = (char *)1;
	char want[512];
	int rc = strata_migration_parse_name(&k, &v, &n, fname, &e);
	if (rc != STRATA_EINVALID)
		fail_msg("'%s': expected STRATA_EINVALID, got %d", fname, rc);
	assert_int_equal(e.code, STRATA_EINVALID);
	assert_int_equal(k, STRATA_FILE_NONE);
	assert_null(v);
	assert_null(n);
	snprintf(want, sizeof(want),
	         "'%s' looks like a migration but has no name after its version", fname);
	assert_string_equal(e.msg, want);
	assert_string_equal(e.file, fname);
	assert_non_null(strstr(e.hint, "1712345678901-CreateUsers.sql"));
}

static void test_name_single_file(void **state)
{
	(void)state;
	name_ok("1712345678901-CreateUsers.sql", STRATA_FILE_SINGLE, "1712345678901",
	        "CreateUsers");
	name_ok("1712345678901_create_users.sql", STRATA_FILE_SINGLE, "1712345678901",
	        "create_users");
	name_ok("0001-x.sql", STRATA_FILE_SINGLE, "0001", "x");
	name_ok("1234567890123456789012345-Big.sql", STRATA_FILE_SINGLE,
	        "1234567890123456789012345", "Big");
}

static void test_name_golang_pair(void **state)
{
	(void)state;
	name_ok("1_init.up.sql", STRATA_FILE_UP, "1", "init");
	name_ok("1_init.down.sql", STRATA_FILE_DOWN, "1", "init");
	name_ok("20240101120000_add_users.up.sql", STRATA_FILE_UP, "20240101120000", "add_users");
	name_ok("3-dash.down.sql", STRATA_FILE_DOWN, "3", "dash");
}

static void test_name_keeps_dots_and_dashes(void **state)
{
	(void)state;
	name_ok("20240101-add.users-table.v2.sql", STRATA_FILE_SINGLE, "20240101",
	        "add.users-table.v2");
	name_ok("5-a-b_c.up.sql", STRATA_FILE_UP, "5", "a-b_c");
	name_ok("0001_x.y.down.sql", STRATA_FILE_DOWN, "0001", "x.y");
	name_ok("8-Ünïcode_日本.sql", STRATA_FILE_SINGLE, "8", "Ünïcode_日本");
}

/* names that migration:create refuses are refused when built too (one rule) */
static void name_refused(const char *fname, const char *msg)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_file_kind k = STRATA_FILE_SINGLE;
	char *v = NULL, *n = NULL;
	assert_int_equal(strata_migration_parse_name(&k, &v, &n, fname, &e), STRATA_EINVALID);
	assert_int_equal(k, STRATA_FILE_NONE);
	assert_null(v);
	assert_null(n);
	if (strcmp(e.msg, msg) != 0)
		fail_msg("'%s': '%s', expected '%s'", fname, e.msg, msg);
	assert_string_equal(e.file, fname);
}

static void test_name_refused(void **state)
{
	(void)state;
	name_refused("7--lead.sql", "'7--lead.sql': the migration's name '-lead' cannot hold '-'");
	name_refused("2-has space.sql",
	             "'2-has space.sql': the migration's name 'has space' cannot hold ' '");
	name_refused("3-.hidden.sql",
	             "'3-.hidden.sql': the migration's name '.hidden' cannot hold '.'");
	name_refused("4-a;b.up.sql", "'4-a;b.up.sql': the migration's name 'a;b' cannot hold ';'");
	name_refused("4-x.SQL", "'4-x.SQL' looks like a migration, but only files ending in '.sql' "
	                        "are read");
	name_refused("5_y.Sql", "'5_y.Sql' looks like a migration, but only files ending in '.sql' "
	                        "are read");
	assert_false(strata_migration_name_valid("", 0, NULL));
	assert_true(strata_migration_name_valid("_x", 2, NULL));
	assert_true(strata_migration_name_valid("2fa", 3, NULL));
}

static void test_name_not_a_migration(void **state)
{
	(void)state;
	name_ok("README.md", STRATA_FILE_NONE, NULL, NULL);
	name_ok("schema.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("notes.up.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("1-init.txt", STRATA_FILE_NONE, NULL, NULL);
	name_ok("1-init.sql.bak", STRATA_FILE_NONE, NULL, NULL);
	name_ok("", STRATA_FILE_NONE, NULL, NULL);
}

static void test_name_errors(void **state)
{
	(void)state;
	name_bad("123.sql");
	name_bad("123-.sql");
	name_bad("123_.sql");
	name_bad("123_.up.sql");
	name_bad("12.up.sql");
	name_bad("123.down.sql");
	name_bad("123x-name.sql");
	name_bad("1 init.sql");
}

static void test_name_flyway(void **state)
{
	(void)state;
	name_ok("V1__init.sql", STRATA_FILE_FLYWAY_UP, "1", "init");
	name_ok("U1__init.sql", STRATA_FILE_FLYWAY_UNDO, "1", "init");
	name_ok("V1__init.sql.conf", STRATA_FILE_FLYWAY_CONF, "1", "init");
	name_ok("V20240101120000__Add_users.sql", STRATA_FILE_FLYWAY_UP, "20240101120000",
	        "Add_users");
	name_ok("V007__a__b.sql", STRATA_FILE_FLYWAY_UP, "007", "a__b"); /* the first '__' */
	name_ok("V2__x.up.sql", STRATA_FILE_FLYWAY_UP, "2", "x.up");
	/* not Flyway's, not migrations */
	name_ok("VIEWS.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("Users.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("V.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("Vx__a.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("R_x.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("Backup.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("B2B_orders.sql", STRATA_FILE_NONE, NULL, NULL);
	name_ok("V1__notes.txt", STRATA_FILE_NONE, NULL, NULL);
	name_ok("V1__x.conf", STRATA_FILE_NONE, NULL, NULL);
}

/* A Flyway name strata refuses: an error naming the file, whose message holds msg and hint
 * holds hint. */
static void flyway_bad(const char *fname, const char *msg, const char *hint)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_file_kind k = STRATA_FILE_SINGLE;
	char *v = (char *)1, *n = (char *)1;
	int rc = strata_migration_parse_name(&k, &v, &n, fname, &e);
	if (rc != STRATA_EINVALID)
		fail_msg("'%s': expected STRATA_EINVALID, got %d", fname, rc);
	assert_int_equal(k, STRATA_FILE_NONE);
	assert_null(v);
	assert_null(n);
	assert_string_equal(e.file, fname);
	if (!strstr(e.msg, msg))
		fail_msg("'%s': message '%s' lacks '%s'", fname, e.msg, msg);
	if (!strstr(e.hint, hint))
		fail_msg("'%s': hint '%s' lacks '%s'", fname, e.hint, hint);
}

static void test_name_flyway_refused(void **state)
{
	(void)state;
	flyway_bad("V1.1__split.sql", "the Flyway version '1.1' is not a whole number",
	           "rename it to one (V<integer>__split.sql)");
	flyway_bad("V1_1__split.sql", "the Flyway version '1_1' is not a whole number",
	           "whole numbers, compared as numbers");
	flyway_bad("V2.0.1__x.sql.conf", "the Flyway version '2.0.1'", "V<integer>__x.sql.conf");
	flyway_bad("U1.1__x.sql", "the Flyway version '1.1'", "U<integer>__x.sql");
	flyway_bad("R__views.sql",
	           "is a Flyway repeatable migration (R__), which strata does not "
	           "support",
	           "versioned migration");
	flyway_bad("R__views.sql.conf", "repeatable", "versioned migration");
	flyway_bad("B5__base.sql", "baseline migration", "V<version>__<description>.sql");
	flyway_bad("V1_init.sql", "has no '__' and description after its version",
	           "two underscores");
	flyway_bad("V1.sql", "has no '__'", "two underscores");
	flyway_bad("V1__.sql", "has no description after its version", "V1__create_users.sql");
	flyway_bad("U1__x.sql.conf", "an undo migration's own config is not read",
	           "put executeInTransaction in V1__x.sql.conf");
	flyway_bad("V1__x.SQL", "looks like a Flyway migration, but only files ending in '.sql'",
	           "rename it to V1__x.sql");
	flyway_bad("V1__a b.sql", "the migration's name 'a b' cannot hold ' '", "rename the file");
}

/* ---- parsing ----------------------------------------------------------------------------- */

#define PATH "db/migrations/1712345678901-CreateUsers.sql"

/* Parses a string literal (which may hold NUL bytes) as the file PATH. */
#define PARSE(out, lit, e) parse_n(out, PATH, lit, sizeof(lit) - 1, STRATA_FILE_SINGLE, e)

static int parse_n(strata_migration **out, const char *path, const char *data, size_t len,
                   strata_file_kind kind, strata_error *e)
{
	char *text = malloc(len + 1);
	assert_non_null(text);
	memcpy(text, data, len);
	text[len] = '\0';
	*out = (strata_migration *)1;
	return strata_migration_parse(out, path, text, len, kind, e);
}

static strata_migration *parse_ok(const char *data, size_t len)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	int rc = parse_n(&m, PATH, data, len, STRATA_FILE_SINGLE, &e);
	if (rc != 0)
		fail_msg("unexpected error %d at %u:%u: %s", rc, e.line, e.column, e.msg);
	assert_non_null(m);
	return m;
}
#define PARSE_OK(lit) parse_ok(lit, sizeof(lit) - 1)

static void assert_section(const strata_section *s, size_t offset, const char *content)
{
	assert_true(s->present);
	assert_int_equal(s->offset, offset);
	assert_int_equal(s->len, strlen(content));
	assert_memory_equal(s->text + s->offset, content, s->len);
}

/* An error at PATH:line:col with that message, and nothing returned. */
static void assert_error_at(int rc, strata_migration *m, const strata_error *e, int code,
                            unsigned line, unsigned col, const char *msg)
{
	if (rc != code)
		fail_msg("expected %d, got %d (%s)", code, rc, e->msg);
	assert_null(m);
	assert_int_equal(e->code, code);
	assert_string_equal(e->msg, msg);
	assert_string_equal(e->file, PATH);
	if (e->line != line || e->column != col)
		fail_msg("'%s' at %u:%u, expected %u:%u", e->msg, e->line, e->column, line, col);
}

static void test_parse_up_and_down(void **state)
{
	static const char text[] = "-- migrate:up\n"
	                           "create table t (id int);\n"
	                           "\n"
	                           "-- migrate:down\n"
	                           "drop table t;\n";
	strata_migration *m = PARSE_OK(text);
	char sum[65];
	(void)state;
	assert_string_equal(m->version, "1712345678901");
	assert_string_equal(m->name, "CreateUsers");
	assert_string_equal(m->path, PATH);
	assert_null(m->down_path);
	assert_section(&m->up, 14, "create table t (id int);\n\n");
	assert_section(&m->down, 56, "drop table t;\n");
	assert_false(m->up.no_transaction);
	assert_false(m->down.no_transaction);
	assert_ptr_equal(m->up.text, m->text);
	assert_ptr_equal(m->down.text, m->text);
	assert_string_equal(m->up.file, PATH);
	assert_string_equal(m->down.file, PATH);
	assert_int_equal(strata_sha256_text(sum, text, sizeof(text) - 1), 0);
	assert_string_equal(m->checksum, sum);
	strata_migration_free(m);
	strata_migration_free(NULL);
}

static void test_parse_up_only(void **state)
{
	strata_migration *m = PARSE_OK("-- leading comment\n\n-- migrate:up\nselect 1;\n");
	(void)state;
	assert_section(&m->up, 34, "select 1;\n");
	assert_false(m->down.present);
	assert_int_equal(m->down.len, 0);
	strata_migration_free(m);
}

static void test_parse_transaction_false(void **state)
{
	strata_migration *m = PARSE_OK("-- migrate:up transaction:false\n"
	                               "create index concurrently i on t (a);\n"
	                               "-- migrate:down\n"
	                               "drop index i;\n");
	(void)state;
	assert_true(m->up.no_transaction);
	assert_false(m->down.no_transaction);
	assert_section(&m->up, 32, "create index concurrently i on t (a);\n");
	assert_section(&m->down, 86, "drop index i;\n");
	strata_migration_free(m);

	/* on the down line, with extra blanks and tabs, and the explicit default */
	m = PARSE_OK("--   migrate:up\ttransaction:true  \n"
	             "select 1;\n"
	             "-- migrate:down  transaction:false\t\n"
	             "select 2;\n");
	assert_false(m->up.no_transaction);
	assert_true(m->down.no_transaction);
	assert_section(&m->down, 81, "select 2;\n");
	strata_migration_free(m);
}

static void test_parse_unknown_option(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m,
	               "-- migrate:up\n"
	               "select 1;\n"
	               "-- migrate:down transactions:false\n",
	               &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 3, 17, "unknown option 'transactions:false'");
	assert_string_equal(e.source_line, "-- migrate:down transactions:false");
	assert_non_null(strstr(e.hint, "transaction:false"));

	strata_error_clear(&e);
	rc = PARSE(&m, "-- migrate:up transaction:false\tnotx\n", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 1, 33, "unknown option 'notx'");
}

static void test_parse_sql_before_first_directive(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m,
	               "-- a comment is fine\n"
	               "\n"
	               "  select 1;\n"
	               "-- migrate:up\n"
	               "select 2;\n",
	               &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 3, 3,
	                "SQL before the first '-- migrate:up' line");
	assert_string_equal(e.source_line, "  select 1;");
	assert_non_null(strstr(e.hint, "-- migrate:up"));

	strata_error_clear(&e);
	rc = PARSE(&m, "create table t (id int);\n-- migrate:up\n", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 1, 1,
	                "SQL before the first '-- migrate:up' line");
}

static void test_parse_second_directive(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m,
	               "-- migrate:up\n"
	               "select 1;\n"
	               "-- migrate:down\n"
	               "select 2;\n"
	               "  -- migrate:up\n"
	               "select 3;\n",
	               &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 5, 3, "second '-- migrate:up' line");

	strata_error_clear(&e);
	rc = PARSE(&m, "-- migrate:up\n-- migrate:up\n", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 2, 1, "second '-- migrate:up' line");

	strata_error_clear(&e);
	rc = PARSE(&m, "-- migrate:up\n-- migrate:down\n\n-- migrate:down\n", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 4, 1, "second '-- migrate:down' line");
}

static void test_parse_no_up_section(void **state)
{
	static const char *const texts[] = {
	    "-- migrate:down\ndrop table t;\n", "", "-- only a comment\n\n",
	    "-- migrate:upgrade\n", /* not the directive */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		strata_error e = STRATA_ERROR_INIT;
		strata_migration *m;
		int rc = parse_n(&m, PATH, texts[i], strlen(texts[i]), STRATA_FILE_SINGLE, &e);
		assert_error_at(rc, m, &e, STRATA_EINVALID, 1, 1,
		                "migration has no '-- migrate:up' section");
		assert_non_null(strstr(e.hint, "-- migrate:down"));
	}
}

static void test_parse_crlf(void **state)
{
	strata_migration *m = PARSE_OK("-- migrate:up transaction:false\r\n"
	                               "create table t (id int);\r\n"
	                               "-- migrate:down\r\n"
	                               "drop table t;\r\n");
	strata_migration *lf;
	(void)state;
	assert_true(m->up.no_transaction);
	assert_section(&m->up, 33, "create table t (id int);\r\n");
	assert_section(&m->down, 76, "drop table t;\r\n");
	/* the same file with LF line ends has the same checksum */
	lf = PARSE_OK("-- migrate:up transaction:false\n"
	              "create table t (id int);\n"
	              "-- migrate:down\n"
	              "drop table t;\n");
	assert_string_equal(m->checksum, lf->checksum);
	strata_migration_free(lf);
	strata_migration_free(m);
}

static void test_parse_crlf_error_position(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m, "-- c\r\n\r\nselect 1;\r\n-- migrate:up\r\n", &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 3, 1,
	                "SQL before the first '-- migrate:up' line");
	assert_string_equal(e.source_line, "select 1;");
}

static void test_parse_missing_final_newline(void **state)
{
	strata_migration *m = PARSE_OK("-- migrate:up\nselect 1;\n-- migrate:down\nselect 2;");
	(void)state;
	assert_section(&m->up, 14, "select 1;\n");
	assert_section(&m->down, 40, "select 2;");
	strata_migration_free(m);

	/* the directive itself is the last line */
	m = PARSE_OK("-- migrate:up\nselect 1;\n-- migrate:down");
	assert_section(&m->up, 14, "select 1;\n");
	assert_section(&m->down, 39, "");
	strata_migration_free(m);

	m = PARSE_OK("-- migrate:up transaction:false");
	assert_true(m->up.no_transaction);
	assert_section(&m->up, 31, "");
	strata_migration_free(m);
}

static void test_parse_empty_sections(void **state)
{
	strata_migration *m = PARSE_OK("-- migrate:up\n-- migrate:down\n");
	(void)state;
	assert_section(&m->up, 14, "");
	assert_section(&m->down, 30, "");
	assert_true(strata_section_is_empty(&m->up));
	assert_true(strata_section_is_empty(&m->down));
	strata_migration_free(m);
}

static void test_parse_bom(void **state)
{
	strata_migration *m = PARSE_OK("\xEF\xBB\xBF-- migrate:up\nselect 1;\n-- migrate:down\n");
	(void)state;
	assert_section(&m->up, 17, "select 1;\n");
	assert_section(&m->down, 43, "");
	strata_migration_free(m);
}

/* The BOM is not a character anyone sees: columns on line 1 count from after it. */
static void test_parse_bom_error_column(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m,
	               "\xEF\xBB\xBF"
	               "select 1;\n-- migrate:up\n",
	               &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 1, 1,
	                "SQL before the first '-- migrate:up' line");

	strata_error_clear(&e);
	rc = PARSE(&m, "\xEF\xBB\xBF-- migrate:up foo\n", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 1, 15, "unknown option 'foo'");
}

static void test_parse_not_utf8(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m, "-- migrate:up\nselect 'caf\xE9';\n", &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 2, 12,
	                "migration file is not valid UTF-8 (byte 0xE9)");
	assert_non_null(strstr(e.hint, "UTF-8"));

	/* a good multibyte character before it counts as one column */
	strata_error_clear(&e);
	rc = PARSE(&m, "-- migrate:up\n\nselect '\xC3\xA9', '\xFF';\n", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 3, 14,
	                "migration file is not valid UTF-8 (byte 0xFF)");

	/* even before any directive, the encoding is checked first */
	strata_error_clear(&e);
	rc = PARSE(&m, "\xC0\xAF", &e);
	assert_error_at(rc, m, &e, STRATA_EINVALID, 1, 1,
	                "migration file is not valid UTF-8 (byte 0xC0)");
}

static void test_parse_nul_byte(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = PARSE(&m, "-- migrate:up\nselect\0 1;\n", &e);
	(void)state;
	assert_error_at(rc, m, &e, STRATA_EINVALID, 2, 7, "NUL byte in migration file");
	assert_string_equal(e.source_line, "select");
}

static void test_parse_bad_file_name(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m;
	int rc = parse_n(&m, "db/schema.sql", "-- migrate:up\n", 14, STRATA_FILE_SINGLE, &e);
	(void)state;
	assert_int_equal(rc, STRATA_EINVALID);
	assert_null(m);
	assert_string_equal(e.msg, "'schema.sql' is not a migration file name");
	assert_string_equal(e.file, "db/schema.sql");

	strata_error_clear(&e);
	rc = parse_n(&m, "db/123.sql", "-- migrate:up\n", 14, STRATA_FILE_SINGLE, &e);
	assert_int_equal(rc, STRATA_EINVALID);
	assert_null(m);
	assert_string_equal(e.msg,
	                    "'123.sql' looks like a migration but has no name after its version");
}

static void test_parse_golang_halves(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *up = NULL, *down = NULL;
	char up_sum[65];
	static const char up_text[] = "-- strata:no-transaction\n"
	                              "create index concurrently i on t (a);\n";
	static const char down_text[] = "\xEF\xBB\xBF"
	                                "drop index i;\n";
	(void)state;
	assert_int_equal(
	    parse_n(&up, "d/1_init.up.sql", up_text, sizeof(up_text) - 1, STRATA_FILE_UP, &e), 0);
	assert_string_equal(up->version, "1");
	assert_string_equal(up->name, "init");
	assert_true(up->up.no_transaction);
	assert_section(&up->up, 0, up_text);
	assert_false(up->down.present);
	memcpy(up_sum, up->checksum, sizeof(up_sum));

	assert_int_equal(parse_n(&down, "d/1_init.down.sql", down_text, sizeof(down_text) - 1,
	                         STRATA_FILE_DOWN, &e),
	                 0);
	assert_false(down->up.present);
	assert_false(down->down.no_transaction);
	assert_section(&down->down, 3, "drop index i;\n"); /* after the BOM */

	assert_int_equal(strata_migration_merge_pair(up, down, &e), 0);
	assert_string_equal(up->path, "d/1_init.up.sql");
	assert_non_null(up->down_path);
	assert_string_equal(up->down_path, "d/1_init.down.sql");
	assert_string_equal(up->down.file, "d/1_init.down.sql");
	assert_ptr_equal(up->down.text, up->down_text);
	assert_section(&up->down, 3, "drop index i;\n");
	assert_true(up->up.no_transaction);
	assert_string_not_equal(up->checksum, up_sum); /* the checksum covers both halves */
	assert_false(strata_section_is_empty(&up->down));
	strata_migration_free(up);
}

static void test_parse_golang_no_transaction_only_at_top(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	static const char text[] = "select 1;\n-- strata:no-transaction\n";
	(void)state;
	assert_int_equal(parse_n(&m, "1_x.up.sql", text, sizeof(text) - 1, STRATA_FILE_UP, &e), 0);
	assert_false(m->up.no_transaction);
	strata_migration_free(m);

	static const char text2[] = "-- comment\n\n  --  strata:no-transaction  \nselect 1;\n";
	assert_int_equal(parse_n(&m, "1_x.up.sql", text2, sizeof(text2) - 1, STRATA_FILE_UP, &e),
	                 0);
	assert_true(m->up.no_transaction);
	strata_migration_free(m);
}

/* ---- goose ------------------------------------------------------------------------------- */

#define GOOSE "db/migrations/00001_create_users.sql"

static strata_migration *parse_as(const char *path, strata_file_kind kind, const char *text)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	int rc = parse_n(&m, path, text, strlen(text), kind, &e);
	if (rc != 0)
		fail_msg("unexpected error %d at %u:%u: %s", rc, e.line, e.column, e.msg);
	return m;
}

static void test_parse_goose(void **state)
{
	static const char text[] = "-- a comment\n"
	                           "-- +goose Up\n"                          /* 13 */
	                           "create table t (a int);\n"               /* 26 */
	                           "-- +goose StatementBegin\n"              /* 50 */
	                           "create function f() returns int as $$\n" /* 75 */
	                           "begin return 1; end; $$ language plpgsql;\n"
	                           "-- +goose StatementEnd\n"
	                           "\n"
	                           "-- +goose Down\n"
	                           "drop function f();\n"
	                           "drop table t;\n";
	strata_migration *m = parse_as(GOOSE, STRATA_FILE_SINGLE, text);
	const char *block = "create function f() returns int as $$\n"
	                    "begin return 1; end; $$ language plpgsql;\n";
	(void)state;
	assert_string_equal(m->version, "00001");
	assert_string_equal(m->name, "create_users");
	assert_int_equal(m->up.format, STRATA_FORMAT_GOOSE);
	assert_int_equal(m->down.format, STRATA_FORMAT_GOOSE);
	assert_section(&m->up, 26,
	               "create table t (a int);\n-- +goose StatementBegin\n"
	               "create function f() returns int as $$\n"
	               "begin return 1; end; $$ language plpgsql;\n-- +goose StatementEnd\n\n");
	assert_section(&m->down, strlen(text) - 33, "drop function f();\ndrop table t;\n");
	assert_int_equal(m->up.nblocks, 1);
	assert_int_equal(m->up.blocks[0], 75);
	assert_int_equal(m->up.blocks[1] - m->up.blocks[0], strlen(block));
	assert_memory_equal(m->text + m->up.blocks[0], block, strlen(block));
	assert_int_equal(m->down.nblocks, 0);
	assert_false(m->up.no_transaction);
	assert_false(m->down.no_transaction);
	strata_migration_free(m);
}

static void test_parse_goose_annotations(void **state)
{
	strata_migration *m;
	(void)state;
	/* any case, blanks after '--' or none, NO TRANSACTION anywhere (both directions) */
	m = parse_as(GOOSE, STRATA_FILE_SINGLE,
	             "--+goose up\nselect 1;\n-- +goose   no  transaction  \n"
	             "--   +goose DOWN\nselect 2;\n");
	assert_true(m->up.present && m->down.present);
	assert_true(m->up.no_transaction);
	assert_true(m->down.no_transaction);
	assert_int_equal(m->up.format, STRATA_FORMAT_GOOSE);
	strata_migration_free(m);
	/* no Down section: down not present; an empty one: present and empty */
	m = parse_as(GOOSE, STRATA_FILE_SINGLE,
	             "-- +goose NO TRANSACTION\n-- +goose Up\nvacuum;\n");
	assert_true(m->up.no_transaction);
	assert_false(m->down.present);
	strata_migration_free(m);
	m = parse_as(GOOSE, STRATA_FILE_SINGLE, "-- +goose Up\nselect 1;\n-- +goose Down\n");
	assert_true(m->down.present);
	assert_true(strata_section_is_empty(&m->down));
	strata_migration_free(m);
	/* blocks in both sections, the Down's own */
	m = parse_as(GOOSE, STRATA_FILE_SINGLE,
	             "-- +goose Up\n-- +goose StatementBegin\na;\n-- +goose StatementEnd\n"
	             "-- +goose StatementBegin\n-- +goose StatementEnd\n-- +goose Down\n"
	             "-- +goose StatementBegin\nb;\nc;\n-- +goose StatementEnd\n");
	assert_int_equal(m->up.nblocks, 2);
	assert_int_equal(m->up.blocks[2], m->up.blocks[3]); /* the empty one */
	assert_int_equal(m->down.nblocks, 1);
	assert_memory_equal(m->text + m->down.blocks[0], "b;\nc;\n", 6);
	assert_int_equal(m->down.blocks[1] - m->down.blocks[0], 6);
	strata_migration_free(m);
	/* a comment that only mentions goose is no annotation */
	m = parse_as(GOOSE, STRATA_FILE_SINGLE,
	             "-- migrate:up\n-- +goosey\n-- goose Up\nselect 1;\n");
	assert_int_equal(m->up.format, STRATA_FORMAT_STRATA);
	strata_migration_free(m);
}

/* A goose file that is an error at line:col with that message. */
static void goose_bad(const char *text, unsigned line, unsigned col, const char *msg)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	int rc = parse_n(&m, GOOSE, text, strlen(text), STRATA_FILE_SINGLE, &e);
	if (rc != STRATA_EINVALID)
		fail_msg("expected an error for <<%s>>, got %d", text, rc);
	assert_null(m);
	assert_string_equal(e.file, GOOSE);
	assert_string_equal(e.msg, msg);
	if (e.line != line || e.column != col)
		fail_msg("'%s' at %u:%u, expected %u:%u", e.msg, e.line, e.column, line, col);
	assert_true(e.hint[0] != '\0');
}

static void test_parse_goose_errors(void **state)
{
	(void)state;
	goose_bad("select 1;\n-- +goose Up\n", 1, 1, "SQL before the first '-- +goose Up' line");
	goose_bad("-- +goose Down\nselect 1;\n", 1, 1, "'-- +goose Down' before '-- +goose Up'");
	goose_bad("-- +goose Up\n-- +goose Down\n-- +goose Up\n", 3, 1,
	          "second '-- +goose Up' line");
	goose_bad("-- +goose Up\n-- +goose Up\n", 2, 1, "second '-- +goose Up' line");
	goose_bad("-- +goose Up\n-- +goose Down\n-- +goose Down\n", 3, 1,
	          "second '-- +goose Down' line");
	goose_bad("-- +goose NO TRANSACTION\n", 1, 1, "migration has no '-- +goose Up' section");
	goose_bad("-- +goose StatementBegin\n-- +goose Up\n", 1, 1,
	          "'-- +goose StatementBegin' before '-- +goose Up'");
	goose_bad("-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n", 3, 1,
	          "'-- +goose StatementBegin' inside a StatementBegin block");
	goose_bad("-- +goose Up\nselect 1;\n-- +goose StatementEnd\n", 3, 1,
	          "'-- +goose StatementEnd' without a StatementBegin");
	goose_bad("-- +goose Up\n\n-- +goose StatementBegin\nselect 1;\n", 3, 1,
	          "'-- +goose StatementBegin' has no '-- +goose StatementEnd'");
	goose_bad("-- +goose Up\n-- +goose StatementBegin\nselect 1;\n-- +goose Down\n", 4, 1,
	          "'-- +goose Down' inside a StatementBegin block");
	goose_bad("-- +goose Up\nselect 1;\n-- +goose envsub on\n", 3, 1,
	          "goose's '-- +goose ENVSUB ON' is not supported");
	goose_bad("-- +goose Up\n-- +goose ENVSUB OFF\n", 2, 1,
	          "goose's '-- +goose ENVSUB OFF' is not supported");
	goose_bad("-- +goose Up\n-- +goose Upp\n", 2, 11,
	          "unknown goose annotation '-- +goose Upp'");
	goose_bad("-- +goose Up\n-- +goose\n", 2, 1, "unknown goose annotation '-- +goose'");
	goose_bad("-- +goose Up\nselect 1;\n  -- +goose Down\n", 3, 3, "indented goose annotation");
	/* one format to a file: the first marker decides, the other kind is an error where it is */
	goose_bad("-- +goose Up\nselect 1;\n-- migrate:down\n", 3, 1,
	          "'-- migrate:' line in a file written with goose annotations");
	goose_bad("-- migrate:up\nselect 1;\n\n  -- +goose Down\n", 4, 3,
	          "goose annotation in a file written with '-- migrate:' lines");
	goose_bad("-- comment\n-- migrate:up transaction:false\n-- +goose NO TRANSACTION\n", 3, 1,
	          "goose annotation in a file written with '-- migrate:' lines");
}

/* ---- Flyway ------------------------------------------------------------------------------- */

static void test_parse_flyway(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *v, *u, *c;
	char v_sum[65], vu_sum[65];
	static const char v_text[] = "\xEF\xBB\xBF-- migrate:up is just a comment here\n"
	                             "create index concurrently i on t (a);\n";
	(void)state;
	v = parse_as("d/V2__add_index.sql", STRATA_FILE_FLYWAY_UP, v_text);
	assert_string_equal(v->version, "2");
	assert_string_equal(v->name, "add_index");
	assert_int_equal(v->kind, STRATA_FILE_FLYWAY_UP);
	assert_int_equal(v->up.format, STRATA_FORMAT_FLYWAY);
	assert_section(&v->up, 3, v_text + 3);
	assert_false(v->up.no_transaction);
	assert_false(v->down.present);
	memcpy(v_sum, v->checksum, sizeof(v_sum));

	u = parse_as("d/U2__add_index.sql", STRATA_FILE_FLYWAY_UNDO, "drop index i;\n");
	assert_false(u->up.present);
	assert_section(&u->down, 0, "drop index i;\n");
	assert_int_equal(strata_migration_merge_pair(v, u, &e), 0);
	assert_string_equal(v->down_path, "d/U2__add_index.sql");
	assert_string_equal(v->down.file, "d/U2__add_index.sql");
	assert_string_not_equal(v->checksum, v_sum);
	memcpy(vu_sum, v->checksum, sizeof(vu_sum));

	c = parse_as(
	    "d/V2__add_index.sql.conf", STRATA_FILE_FLYWAY_CONF,
	    "# a comment\n! another\n\n  executeInTransaction = false  \nencoding=UTF-8\n");
	assert_int_equal(c->kind, STRATA_FILE_FLYWAY_CONF);
	assert_false(c->up.present);
	assert_false(c->down.present);
	assert_true(c->conf_no_transaction);
	assert_int_equal(strata_migration_merge_pair(v, c, &e), 0);
	assert_string_equal(v->conf_path, "d/V2__add_index.sql.conf");
	assert_true(v->up.no_transaction); /* both directions */
	assert_true(v->down.no_transaction);
	assert_string_not_equal(v->checksum, vu_sum); /* the config counts */
	strata_migration_free(v);

	c = parse_as("d/V2__add_index.sql.conf", STRATA_FILE_FLYWAY_CONF,
	             "executeInTransaction=true");
	assert_false(c->conf_no_transaction);
	strata_migration_free(c);
}

static void conf_bad(const char *text, unsigned line, unsigned col, const char *msg)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	int rc = parse_n(&m, "d/V1__x.sql.conf", text, strlen(text), STRATA_FILE_FLYWAY_CONF, &e);
	if (rc != STRATA_EINVALID)
		fail_msg("expected an error for <<%s>>, got %d", text, rc);
	assert_null(m);
	assert_string_equal(e.file, "d/V1__x.sql.conf");
	assert_string_equal(e.msg, msg);
	if (e.line != line || e.column != col)
		fail_msg("'%s' at %u:%u, expected %u:%u", e.msg, e.line, e.column, line, col);
}

static void test_parse_flyway_conf_errors(void **state)
{
	(void)state;
	conf_bad("executeInTransaction=false\nshouldExecute=false\n", 2, 1,
	         "'shouldExecute' in a Flyway script config is not supported");
	conf_bad("executeInTransaction=no\n", 1, 22,
	         "executeInTransaction is true or false, not 'no'");
	conf_bad("encoding=ISO_8859_1\n", 1, 10,
	         "strata reads migrations as UTF-8, not 'ISO_8859_1'");
	conf_bad("\n  executeInTransaction\n", 2, 3, "not a key=value line");
}

static void test_section_no_txn_how(void **state)
{
	char buf[300];
	strata_section s = {0};
	(void)state;
	s.file = "d/1-x.sql";
	assert_string_equal(strata_section_no_txn_how(&s, false, buf, sizeof(buf)),
	                    "mark the section '-- migrate:down transaction:false'");
	s.format = STRATA_FORMAT_PAIR;
	assert_string_equal(strata_section_no_txn_how(&s, true, buf, sizeof(buf)),
	                    "make '-- strata:no-transaction' the first line of the file");
	s.format = STRATA_FORMAT_GOOSE;
	assert_non_null(strstr(strata_section_no_txn_how(&s, true, buf, sizeof(buf)),
	                       "'-- +goose NO TRANSACTION' at the top of the file"));
	s.format = STRATA_FORMAT_FLYWAY;
	s.file = "d/U7__x.sql"; /* the undo's config is the V file's */
	assert_non_null(strstr(strata_section_no_txn_how(&s, false, buf, sizeof(buf)),
	                       "executeInTransaction=false in V7__x.sql.conf"));
}

/* ---- sections ---------------------------------------------------------------------------- */

static void test_section_is_empty(void **state)
{
	strata_migration *m = PARSE_OK("-- migrate:up\n"
	                               "-- only comments here\n"
	                               "\n"
	                               "   \t\n"
	                               "  -- indented comment\n"
	                               "-- migrate:down\n"
	                               "drop table t;\n");
	strata_section absent = {0};
	(void)state;
	/* the scan stops at the section's end, not at the down section's SQL */
	assert_true(strata_section_is_empty(&m->up));
	assert_false(strata_section_is_empty(&m->down));
	assert_true(strata_section_is_empty(&absent));
	strata_migration_free(m);

	m = PARSE_OK("-- migrate:up\r\nselect 1; -- trailing comment\r\n-- migrate:down\r\n\r\n"
	             "-- nothing to undo\r\n");
	assert_false(strata_section_is_empty(&m->up));
	assert_true(strata_section_is_empty(&m->down));
	strata_migration_free(m);

	m = PARSE_OK("-- migrate:up\n-- x\n-- migrate:down\n  select 1");
	assert_true(strata_section_is_empty(&m->up));
	assert_false(strata_section_is_empty(&m->down));
	strata_migration_free(m);
}

static void test_section_locate(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	/* line 3: TAB n a m é ' ' t e x t ',' TAB b a d */
	strata_migration *m = PARSE_OK("-- migrate:up\n"
	                               "create table t (\n"
	                               "\tnam\xC3\xA9 text,\tbad int\n"
	                               ");\n");
	(void)state;
	strata_section_locate(&m->up, 0, &e);
	assert_string_equal(e.file, PATH);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 1);
	assert_string_equal(e.source_line, "create table t (");

	/* 'bad' is 13 bytes into line 3 (17 bytes into the section): 12 characters before it */
	strata_error_clear(&e);
	strata_section_locate(&m->up, 17 + 13, &e);
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 13);
	assert_string_equal(e.source_line, "\tnam\xC3\xA9 text,\tbad int");

	/* right after the tab */
	strata_error_clear(&e);
	strata_section_locate(&m->up, 17 + 1, &e);
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 2);

	/* ')' on line 4 */
	strata_error_clear(&e);
	strata_section_locate(&m->up, 17 + 21, &e);
	assert_int_equal(e.line, 4);
	assert_int_equal(e.column, 1);
	assert_string_equal(e.source_line, ");");
	strata_migration_free(m);
}

static void test_section_locate_down_and_crlf(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = PARSE_OK("-- migrate:up\r\nselect 1;\r\n-- migrate:down\r\n"
	                               "\xE2\x82\xAC\xE2\x82\xAC drop x;\r\n");
	(void)state;
	/* "drop" sits 7 bytes (3 characters) into the down section on line 4 */
	strata_section_locate(&m->down, 7, &e);
	assert_int_equal(e.line, 4);
	assert_int_equal(e.column, 4);
	assert_string_equal(e.source_line, "\xE2\x82\xAC\xE2\x82\xAC drop x;");
	strata_migration_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_cmp_numeric),
	    cmocka_unit_test(test_version_cmp_any_length),
	    cmocka_unit_test(test_version_cmp_leading_zeros),
	    cmocka_unit_test(test_key_cmp),
	    cmocka_unit_test(test_is_version),
	    cmocka_unit_test(test_name_single_file),
	    cmocka_unit_test(test_name_golang_pair),
	    cmocka_unit_test(test_name_keeps_dots_and_dashes),
	    cmocka_unit_test(test_name_refused),
	    cmocka_unit_test(test_name_not_a_migration),
	    cmocka_unit_test(test_name_errors),
	    cmocka_unit_test(test_name_flyway),
	    cmocka_unit_test(test_name_flyway_refused),
	    cmocka_unit_test(test_parse_up_and_down),
	    cmocka_unit_test(test_parse_up_only),
	    cmocka_unit_test(test_parse_transaction_false),
	    cmocka_unit_test(test_parse_unknown_option),
	    cmocka_unit_test(test_parse_sql_before_first_directive),
	    cmocka_unit_test(test_parse_second_directive),
	    cmocka_unit_test(test_parse_no_up_section),
	    cmocka_unit_test(test_parse_crlf),
	    cmocka_unit_test(test_parse_crlf_error_position),
	    cmocka_unit_test(test_parse_missing_final_newline),
	    cmocka_unit_test(test_parse_empty_sections),
	    cmocka_unit_test(test_parse_bom),
	    cmocka_unit_test(test_parse_bom_error_column),
	    cmocka_unit_test(test_parse_not_utf8),
	    cmocka_unit_test(test_parse_nul_byte),
	    cmocka_unit_test(test_parse_bad_file_name),
	    cmocka_unit_test(test_parse_golang_halves),
	    cmocka_unit_test(test_parse_golang_no_transaction_only_at_top),
	    cmocka_unit_test(test_parse_goose),
	    cmocka_unit_test(test_parse_goose_annotations),
	    cmocka_unit_test(test_parse_goose_errors),
	    cmocka_unit_test(test_parse_flyway),
	    cmocka_unit_test(test_parse_flyway_conf_errors),
	    cmocka_unit_test(test_section_no_txn_how),
	    cmocka_unit_test(test_section_is_empty),
	    cmocka_unit_test(test_section_locate),
	    cmocka_unit_test(test_section_locate_down_and_crlf),
	};
	return cmocka_run_group_tests_name("migration", tests, NULL, NULL);
}
