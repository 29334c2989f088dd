/* test_dburl.c: URL classification, password masking and scrubbing (src/core/dburl.c). */
#include "unit.h"

#include "core/dburl.h"
#include "core/engine.h"

static void parse_ok(strata_dburl *u, const char *url, const char *engine, const char *target)
{
	strata_error e = STRATA_ERROR_INIT;
	int rc = strata_dburl_parse(u, url, &e);
	if (rc != 0)
		fail_msg("'%s': unexpected error %d: %s", url, rc, e.msg);
	assert_non_null(u->engine);
	assert_string_equal(u->engine->name, engine);
	assert_non_null(u->target);
	assert_string_equal(u->target, target);
	assert_non_null(u->display);
}

static void parse_bad(const char *url, const char *msg, const char *hint_part)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_dburl u;
	int rc = strata_dburl_parse(&u, url, &e);
	if (rc != STRATA_EINVALID)
		fail_msg("'%s': expected STRATA_EINVALID, got %d", url, rc);
	assert_int_equal(e.code, STRATA_EINVALID);
	assert_string_equal(e.msg, msg);
	if (!strstr(e.hint, hint_part))
		fail_msg("'%s': hint '%s' does not mention '%s'", url, e.hint, hint_part);
	/* nothing is left allocated */
	assert_null(u.target);
	assert_null(u.display);
	assert_null(u.password);
}

static void test_parse_postgres(void **state)
{
	strata_dburl u;
	(void)state;
	parse_ok(&u, "postgres://app:secret@localhost:5432/app?sslmode=disable", "postgres",
	         "postgres://app:secret@localhost:5432/app?sslmode=disable");
	assert_string_equal(u.display, "postgres://app:****@localhost:5432/app?sslmode=disable");
	assert_non_null(u.password);
	assert_string_equal(u.password, "secret");
	strata_dburl_free(&u);
	assert_null(u.target);
	assert_null(u.password);
	strata_dburl_free(NULL);

	parse_ok(&u, "postgresql://app@db.example.com/app", "postgres",
	         "postgresql://app@db.example.com/app");
	assert_string_equal(u.display, "postgresql://app@db.example.com/app");
	assert_null(u.password);
	strata_dburl_free(&u);

	parse_ok(&u, "PostgreSQL://h/db", "postgres", "PostgreSQL://h/db");
	strata_dburl_free(&u);

	/* everything from PG* variables */
	parse_ok(&u, "postgres://", "postgres", "postgres://");
	assert_null(u.password);
	strata_dburl_free(&u);

	/* a port is not a password */
	parse_ok(&u, "postgres://localhost:5432/app", "postgres", "postgres://localhost:5432/app");
	assert_string_equal(u.display, "postgres://localhost:5432/app");
	assert_null(u.password);
	strata_dburl_free(&u);
}

static void test_parse_keywords(void **state)
{
	strata_dburl u;
	(void)state;
	parse_ok(&u, "host=localhost dbname=app user=app", "postgres",
	         "host=localhost dbname=app user=app");
	assert_string_equal(u.display, "host=localhost dbname=app user=app");
	assert_null(u.password);
	strata_dburl_free(&u);

	/* leading white space is dropped */
	parse_ok(&u, "  host=h password=secret dbname=x", "postgres",
	         "host=h password=secret dbname=x");
	assert_string_equal(u.display, "host=h password=**** dbname=x");
	assert_string_equal(u.password, "secret");
	strata_dburl_free(&u);

	parse_ok(&u, "host=h password='a b' dbname=x", "postgres",
	         "host=h password='a b' dbname=x");
	assert_string_equal(u.display, "host=h password=**** dbname=x");
	assert_string_equal(u.password, "a b");
	strata_dburl_free(&u);
}

static void test_parse_sqlite(void **state)
{
	strata_dburl u;
	(void)state;
	parse_ok(&u, "sqlite:path/to/file.db", "sqlite", "path/to/file.db");
	assert_string_equal(u.display, "sqlite:path/to/file.db");
	assert_null(u.password);
	strata_dburl_free(&u);
	parse_ok(&u, "sqlite:strata.db", "sqlite", "strata.db");
	strata_dburl_free(&u);
	parse_ok(&u, "sqlite:///abs/file.db", "sqlite", "/abs/file.db");
	strata_dburl_free(&u);
	parse_ok(&u, "sqlite:/abs/file.db", "sqlite", "/abs/file.db");
	strata_dburl_free(&u);
	parse_ok(&u, "sqlite://rel/file.db", "sqlite", "rel/file.db");
	strata_dburl_free(&u);
	parse_ok(&u, "sqlite3:x.db", "sqlite", "x.db");
	strata_dburl_free(&u);
	parse_ok(&u, "SQLite:Y.db", "sqlite", "Y.db");
	strata_dburl_free(&u);

	parse_bad("sqlite:", "the SQLite URL 'sqlite:' names no file", "sqlite:PATH");
	parse_bad("sqlite://", "the SQLite URL 'sqlite://' names no file", "sqlite:PATH");
}

static void test_parse_unknown_scheme(void **state)
{
	(void)state;
	parse_bad("postgress://app@localhost/app",
	          "unsupported database URL 'postgress://app@localhost/app'", "postgres://");
	parse_bad("pg://app@localhost/app", "unsupported database URL 'pg://app@localhost/app'",
	          "postgres://");
	parse_bad("sqlit:x.db", "unsupported database URL 'sqlit:x.db'", "sqlite:PATH");
	/* the message shows the URL with its password masked */
	parse_bad("mysql://root:hunter2@localhost/app",
	          "unsupported database URL 'mysql://root:****@localhost/app'",
	          "postgres://USER@HOST/DB");
	parse_bad("app.db", "unsupported database URL 'app.db'", "sqlite:PATH");
}

static void test_parse_empty(void **state)
{
	(void)state;
	parse_bad("", "the database URL is empty", "postgres:// or sqlite: URL");
	parse_bad(" \t\n", "the database URL is empty", "postgres:// or sqlite: URL");
}

static void mask_is(const char *url, const char *want)
{
	char *m = strata_dburl_mask(url);
	char got[512];
	assert_non_null(m);
	snprintf(got, sizeof(got), "%s", m);
	free(m); /* before any failure, so a failing case does not also report a leak */
	if (strcmp(got, want) != 0)
		fail_msg("mask('%s') = '%s', expected '%s'", url, got, want);
}

static void test_mask_userinfo(void **state)
{
	(void)state;
	mask_is("postgres://u:secret@h/db", "postgres://u:****@h/db");
	mask_is("postgres://u:p@ss@h/db", "postgres://u:****@h/db");          /* '@' inside */
	mask_is("postgres://u:pa/ss@h/db", "postgres://u:****@h/db");         /* '/' inside */
	mask_is("postgres://u:p:w@h:5432/db", "postgres://u:****@h:5432/db"); /* ':' inside */
	mask_is("postgres://u:@h/db", "postgres://u:****@h/db");
	mask_is("postgres://u@h/db", "postgres://u@h/db");
	mask_is("postgres://h:5432/db", "postgres://h:5432/db");
	mask_is("postgres://u@h/db?application_name=a@b", "postgres://u@h/db?application_name=a@b");
	mask_is("sqlite:/tmp/x.db", "sqlite:/tmp/x.db");
	mask_is("", "");
	/* libpq's multi-host URL (the standby listed first, target_session_attrs) */
	mask_is("postgres://u:p@host1:5433,host2:5434/db?target_session_attrs=read-write",
	        "postgres://u:****@host1:5433,host2:5434/db?target_session_attrs=read-write");
	mask_is("postgres://u:p@host1,host2/db?password=x&target_session_attrs=read-write",
	        "postgres://u:****@host1,host2/db?password=****&target_session_attrs=read-write");
}

/* libpq reads the userinfo up to the first '@' or '/', so '?' and '#' can sit in a password
 * (PQconninfoParse("postgres://u:pa?ss@h/db") gives password "pa?ss"): mask them as well. */
static void test_mask_userinfo_with_query_chars(void **state)
{
	strata_dburl u;
	(void)state;
	mask_is("postgres://u:pa?ss@h/db", "postgres://u:****@h/db");
	mask_is("postgres://u:pa#ss@h/db", "postgres://u:****@h/db");
	parse_ok(&u, "postgres://u:pa?ss@h/db", "postgres", "postgres://u:pa?ss@h/db");
	assert_null(strstr(u.display, "pa?ss"));
	assert_non_null(u.password);
	assert_string_equal(u.password, "pa?ss");
	strata_dburl_free(&u);
}

static void test_mask_query_password(void **state)
{
	(void)state;
	mask_is("postgres://u@h/db?password=secret", "postgres://u@h/db?password=****");
	mask_is("postgres://u@h/db?sslmode=disable&password=secret&connect_timeout=5",
	        "postgres://u@h/db?sslmode=disable&password=****&connect_timeout=5");
	mask_is("postgres://u@h/db?PASSWORD=secret", "postgres://u@h/db?PASSWORD=****");
	mask_is("postgres://u@h/db?password=secret#frag", "postgres://u@h/db?password=****#frag");
	mask_is("postgres://u:one@h/db?password=two", "postgres://u:****@h/db?password=****");
}

static void test_mask_keywords(void **state)
{
	(void)state;
	mask_is("host=h password=secret dbname=x", "host=h password=**** dbname=x");
	mask_is("password=secret", "password=****");
	mask_is("host=h password = secret", "host=h password = ****");
	mask_is("host=h password='a b' dbname=x", "host=h password=**** dbname=x");
	mask_is("host=h password='it\\'s' dbname=x", "host=h password=**** dbname=x");
	mask_is("host=h\tpassword=x\tuser=u", "host=h\tpassword=****\tuser=u");
	mask_is("host=h user=app", "host=h user=app");
}

static void test_password_extracted(void **state)
{
	strata_dburl u;
	(void)state;
	parse_ok(&u, "postgres://u:p@ss/w@h/db", "postgres", "postgres://u:p@ss/w@h/db");
	assert_string_equal(u.password, "p@ss/w");
	assert_string_equal(u.display, "postgres://u:****@h/db");
	strata_dburl_free(&u);
	parse_ok(&u, "postgres://u@h/db?password=q1", "postgres", "postgres://u@h/db?password=q1");
	assert_string_equal(u.password, "q1");
	strata_dburl_free(&u);
	parse_ok(&u, "postgres://u:@h/db", "postgres", "postgres://u:@h/db");
	assert_null(u.password); /* empty: nothing to scrub */
	strata_dburl_free(&u);
}

/* scrub(pw, text) in a buffer of `size` bytes followed by canaries that must stay intact */
static void scrub_is(const char *password, const char *text, size_t size, const char *want)
{
	strata_dburl u = {0};
	char buf[512];
	assert_true(size + 16 <= sizeof(buf));
	assert_true(strlen(text) < size);
	memset(buf, '#', sizeof(buf));
	memcpy(buf, text, strlen(text) + 1);
	u.password = (char *)password;
	strata_dburl_scrub(&u, buf, size);
	if (strcmp(buf, want) != 0)
		fail_msg("scrub('%s' in '%s', %zu) = '%s', expected '%s'", password, text, size,
		         buf, want);
	for (size_t i = size; i < size + 16; i++)
		if (buf[i] != '#')
			fail_msg("scrub wrote past its buffer at byte %zu", i);
}

static void test_scrub(void **state)
{
	(void)state;
	/* a URL's user-info password and password= values, wherever they stand */
	scrub_is("secret", "connection to 'postgres://u:secret@h' failed", 256,
	         "connection to 'postgres://u:****@h' failed");
	scrub_is("secret", "host=h password=secret dbname=d", 64, "host=h password=**** dbname=d");
	scrub_is("secret", "postgres://u@h/d?sslmode=disable&password=secret&x=1", 128,
	         "postgres://u@h/d?sslmode=disable&password=****&x=1");
	scrub_is("p w", "host=h password='p w' x=1", 64, "host=h password=**** x=1");
	scrub_is("p@ss/w", "at postgres://u:p@ss/w@h:5432/d now", 64,
	         "at postgres://u:****@h:5432/d now");
	scrub_is("a%40b", "\"postgres://u:a%40b@h/d\"", 64, "\"postgres://u:****@h/d\"");
	scrub_is("x", "two: sqlite://a:x@b and postgres://c:x@d", 64,
	         "two: sqlite://a:****@b and postgres://c:****@d");
	scrub_is("secret", "no password in here", 64, "no password in here");
	scrub_is("x", "", 8, "");
}

static void test_scrub_never_elsewhere(void **state)
{
	(void)state;
	/* a password that is also a word or a letter garbles nothing */
	scrub_is("t",
	         "connection to server at \"localhost\" (::1), port 5999 failed: Connection "
	         "refused",
	         256,
	         "connection to server at \"localhost\" (::1), port 5999 failed: Connection "
	         "refused");
	scrub_is("app", "relation \"application_settings\" does not exist", 128,
	         "relation \"application_settings\" does not exist");
	scrub_is("app", "relation \"app\" does not exist", 128, "relation \"app\" does not exist");
	scrub_is("secret", "password secret rejected", 64, "password secret rejected");
	scrub_is("a", "postgres://u@h/banana", 64, "postgres://u@h/banana");
	/* the mask's own character */
	scrub_is("*", "postgres://u:*@h *", 64, "postgres://u:****@h *");
}

static void test_scrub_small_buffer(void **state)
{
	(void)state;
	/* the mask grows the text: what does not fit is cut, the NUL always fits */
	scrub_is("pw", "x://u:pw@h", 14, "x://u:****@h");
	scrub_is("pw", "x://u:pw@h", 12, "x://u:****@");
	scrub_is("pw", "x://u:pw@h", 11, "x://u:****");
	scrub_is("p", "x://u:p@h", 10, "x://u:***");
	scrub_is("p", "password=p", 12, "password=**");
}

/* scrub_conninfo: what libpq quotes of a connection string it could not read */
static void conn_is(const char *url, const char *text, const char *want)
{
	strata_dburl u = {0};
	strata_error e = STRATA_ERROR_INIT;
	char buf[256];
	assert_int_equal(strata_dburl_parse(&u, url, &e), 0);
	snprintf(buf, sizeof(buf), "%s", text);
	strata_dburl_scrub_conninfo(&u, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("scrub_conninfo('%s' in '%s') = '%s', expected '%s'", url, text, buf,
		         want);
	strata_dburl_free(&u);
}

static void test_scrub_conninfo(void **state)
{
	(void)state;
	conn_is("postgres://u:p%zz@h/d", "invalid percent-encoded token: \"p%zz\"",
	        "invalid percent-encoded token: \"****\"");
	conn_is("postgres://u:p%40q@h/d", "token \"p@q\" and \"h\"", "token \"****\" and \"h\"");
	conn_is(
	    "postgres://u:t@localhost:5999/d",
	    "connection to server at \"localhost\" (::1), port 5999 failed: Connection refused",
	    "connection to server at \"localhost\" (::1), port 5999 failed: Connection refused");
}

static void test_scrub_error(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_dburl u;
	(void)state;
	parse_ok(&u, "postgres://app:s3cr3t@h/db", "postgres", "postgres://app:s3cr3t@h/db");
	snprintf(e.msg, sizeof(e.msg), "cannot connect to 'postgres://app:s3cr3t@h/db'");
	snprintf(e.detail, sizeof(e.detail), "relation \"apple\" does not exist");
	snprintf(e.hint, sizeof(e.hint), "try host=h password=s3cr3t");
	snprintf(e.source_line, sizeof(e.source_line), "select dblink('password=s3cr3t')");
	strata_dburl_scrub_error(&u, &e);
	assert_string_equal(e.msg, "cannot connect to 'postgres://app:****@h/db'");
	assert_string_equal(e.detail, "relation \"apple\" does not exist");
	assert_string_equal(e.hint, "try host=h password=****");
	assert_string_equal(e.source_line, "select dblink('password=****')");
	strata_dburl_free(&u);
	strata_dburl_scrub(NULL, e.msg, sizeof(e.msg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_postgres),
	    cmocka_unit_test(test_parse_keywords),
	    cmocka_unit_test(test_parse_sqlite),
	    cmocka_unit_test(test_parse_unknown_scheme),
	    cmocka_unit_test(test_parse_empty),
	    cmocka_unit_test(test_mask_userinfo),
	    cmocka_unit_test(test_mask_userinfo_with_query_chars),
	    cmocka_unit_test(test_mask_query_password),
	    cmocka_unit_test(test_mask_keywords),
	    cmocka_unit_test(test_password_extracted),
	    cmocka_unit_test(test_scrub),
	    cmocka_unit_test(test_scrub_never_elsewhere),
	    cmocka_unit_test(test_scrub_conninfo),
	    cmocka_unit_test(test_scrub_small_buffer),
	    cmocka_unit_test(test_scrub_error),
	};
	return cmocka_run_group_tests_name("dburl", tests, NULL, NULL);
}
