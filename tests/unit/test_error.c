/* test_error.c: filling a strata_error (src/util/error.c). */
#include "unit.h"

#include "util/error.h"

static void test_error_set_returns_code(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	(void)state;
	assert_int_equal(strata_error_set(&e, STRATA_EINVALID, "bad '%s' at %d", "x", 3),
	                 STRATA_EINVALID);
	assert_int_equal(e.code, STRATA_EINVALID);
	assert_string_equal(e.msg, "bad 'x' at 3");
	/* a later set overwrites */
	assert_int_equal(strata_error_set(&e, STRATA_ENOTFOUND, "gone"), STRATA_ENOTFOUND);
	assert_int_equal(e.code, STRATA_ENOTFOUND);
	assert_string_equal(e.msg, "gone");
	/* no error struct: still returns the code */
	assert_int_equal(strata_error_set(NULL, STRATA_ERROR, "ignored"), STRATA_ERROR);
	strata_error_detail(NULL, "x");
	strata_error_hint(NULL, "x");
	strata_error_at(NULL, "f", 1, 1);
	strata_error_source(NULL, "x", 1);
	strata_error_clear(NULL);
}

static void test_error_truncation_is_marked(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	char long_text[2000];
	size_t n;
	(void)state;
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	strata_error_set(&e, STRATA_ERROR, "%s", long_text);
	n = strlen(e.msg);
	assert_int_equal(n, sizeof(e.msg) - 1);
	assert_string_equal(e.msg + n - 3, "...");
	assert_int_equal(e.msg[n - 4], 'a');
	strata_error_detail(&e, "%s", long_text);
	assert_int_equal(strlen(e.detail), sizeof(e.detail) - 1);
	assert_string_equal(e.detail + sizeof(e.detail) - 4, "...");
	strata_error_hint(&e, "%s", long_text);
	assert_string_equal(e.hint + sizeof(e.hint) - 4, "...");
	/* exactly fitting text is not marked */
	long_text[sizeof(e.msg) - 1] = '\0';
	strata_error_set(&e, STRATA_ERROR, "%s", long_text);
	assert_string_equal(e.msg, long_text);
}

static void test_error_detail_hint_at(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	(void)state;
	strata_error_detail(&e, "first seen in '%s'", "a.sql");
	strata_error_hint(&e, "remove %d copy", 1);
	strata_error_at(&e, "dir/1-x.sql", 14, 3);
	assert_string_equal(e.detail, "first seen in 'a.sql'");
	assert_string_equal(e.hint, "remove 1 copy");
	assert_string_equal(e.file, "dir/1-x.sql");
	assert_int_equal(e.line, 14);
	assert_int_equal(e.column, 3);
	/* NULL file keeps the file, updates the place */
	strata_error_at(&e, NULL, 2, 0);
	assert_string_equal(e.file, "dir/1-x.sql");
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 0);
	strata_error_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	assert_string_equal(e.file, "");
	assert_int_equal(e.line, 0);
}

static void test_error_source_line(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	char long_line[600];
	(void)state;
	strata_error_source(&e, "select 1;\nselect 2;\n", (size_t)-1);
	assert_string_equal(e.source_line, "select 1;");
	strata_error_source(&e, "crlf line\r\nnext", (size_t)-1);
	assert_string_equal(e.source_line, "crlf line");
	strata_error_source(&e, "limited by max", 7);
	assert_string_equal(e.source_line, "limited");
	strata_error_source(&e, "", (size_t)-1);
	assert_string_equal(e.source_line, "");
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	strata_error_source(&e, long_line, (size_t)-1);
	assert_int_equal(strlen(e.source_line), sizeof(e.source_line) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_set_returns_code),
	    cmocka_unit_test(test_error_truncation_is_marked),
	    cmocka_unit_test(test_error_detail_hint_at),
	    cmocka_unit_test(test_error_source_line),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
