/* test_fs.c: files and directories (src/util/fs.c). */
#include "unit.h"

#include "util/fs.h"

static int setup(void **state)
{
	*state = unit_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	unit_rmtree(*state);
	return 0;
}

static void test_fs_join(void **state)
{
	char *p;
	(void)state;
	p = strata_fs_join("a", "b.sql");
	assert_string_equal(p, "a/b.sql");
	free(p);
	p = strata_fs_join("a/", "b.sql");
	assert_string_equal(p, "a/b.sql");
	free(p);
	p = strata_fs_join("/", "b");
	assert_string_equal(p, "/b");
	free(p);
	p = strata_fs_join("", "b");
	assert_string_equal(p, "b");
	free(p);
}

static void test_fs_write_then_read(void **state)
{
	const char *dir = *state;
	strata_error e = STRATA_ERROR_INIT;
	char *path = unit_path(dir, "f.sql"), *data = NULL;
	size_t len = 0;
	assert_int_equal(strata_fs_write_atomic(path, "a\0b\n", 4, 1, &e), 0);
	assert_int_equal(strata_fs_read(&data, &len, path, &e), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "a\0b\n", 5); /* NUL-terminated */
	free(data);
	/* replaced whole */
	assert_int_equal(strata_fs_write_atomic(path, "xy", 2, 0, &e), 0);
	assert_int_equal(strata_fs_read(&data, NULL, path, &e), 0);
	assert_string_equal(data, "xy");
	free(data);
	/* empty file */
	assert_int_equal(strata_fs_write_atomic(path, "", 0, 0, &e), 0);
	assert_int_equal(strata_fs_read(&data, &len, path, &e), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	free(path);
}

static void test_fs_read_errors(void **state)
{
	const char *dir = *state;
	strata_error e = STRATA_ERROR_INIT;
	char *path = unit_path(dir, "missing.sql"), *data = (char *)1;
	char want[4200];
	assert_int_equal(strata_fs_read(&data, NULL, path, &e), STRATA_ENOTFOUND);
	assert_null(data);
	snprintf(want, sizeof(want), "cannot read '%s': No such file or directory", path);
	assert_string_equal(e.msg, want);
	assert_string_equal(e.file, path);
	free(path);
	strata_error_clear(&e);
	assert_int_equal(strata_fs_read(&data, NULL, dir, &e), STRATA_EINVALID);
	assert_null(data);
	assert_non_null(strstr(e.msg, "not a regular file"));
}

static void test_fs_mkdirs(void **state)
{
	const char *dir = *state;
	strata_error e = STRATA_ERROR_INIT;
	char *deep = unit_path(dir, "a/b/c"), *file;
	assert_int_equal(strata_fs_mkdirs(deep, &e), 0);
	assert_true(strata_fs_is_dir(deep));
	assert_int_equal(strata_fs_mkdirs(deep, &e), 0); /* already there */
	free(deep);
	unit_write(dir, "plain", "x");
	file = unit_path(dir, "plain");
	assert_false(strata_fs_is_dir(file));
	assert_int_equal(strata_fs_mkdirs(file, &e), STRATA_EINVALID);
	free(file);
	assert_int_equal(strata_fs_mkdirs("", &e), STRATA_EINVALID);
}

static void test_fs_list(void **state)
{
	const char *dir = *state;
	strata_error e = STRATA_ERROR_INIT;
	char **names = NULL, *sub, *missing;
	size_t n = 99;
	unit_write(dir, "b.sql", "");
	unit_write(dir, "10-x.sql", "");
	unit_write(dir, "2-y.sql", "");
	unit_write(dir, ".hidden", "");
	sub = unit_mkdir(dir, "subdir");
	unit_write(sub, "1-nested.sql", "");
	free(sub);
	assert_int_equal(strata_fs_list(&names, &n, dir, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "10-x.sql"); /* strcmp order */
	assert_string_equal(names[1], "2-y.sql");
	assert_string_equal(names[2], "b.sql");
	assert_null(names[3]);
	strata_fs_names_free(names);

	sub = unit_mkdir(dir, "empty");
	assert_int_equal(strata_fs_list(&names, &n, sub, &e), 0);
	assert_int_equal(n, 0);
	strata_fs_names_free(names);
	free(sub);

	missing = unit_path(dir, "nope");
	assert_int_equal(strata_fs_list(&names, &n, missing, &e), STRATA_ENOTFOUND);
	assert_null(names);
	assert_int_equal(n, 0);
	free(missing);
	strata_fs_names_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fs_join),
	    cmocka_unit_test_setup_teardown(test_fs_write_then_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fs_read_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fs_mkdirs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fs_list, setup, teardown),
	};
	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
