/* test_env.c: env files, ${VAR} expansion and NAME_FILE secrets (src/cli/env.c). */
#include "unit.h"

#include "cli/env.h"

static void clear_vars(void)
{
	static const char *const names[] = {"SV_A",        "SV_B",         "SV_PW", "SV_URL",
	                                    "SV_URL_FILE", "DATABASE_URL", NULL};
	for (size_t i = 0; names[i]; i++)
		unsetenv(names[i]);
}

static int setup(void **state)
{
	(void)state;
	clear_vars();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clear_vars();
	return 0;
}

/* An env of one file "t.env" with text. */
static cli_env *env_of(const char *text)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env *env = NULL;
	assert_int_equal(cli_env_new(&env, &e), 0);
	assert_int_equal(cli_env_add_text(env, text, "t.env", &e), 0);
	return env;
}

/* NAME's value in the env of text (through cli_env_secret, which expands on use). */
static void value_is(const char *text, const char *name, const char *want)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env *env = env_of(text);
	cli_env_origin from;
	char *got = NULL;
	int rc = cli_env_secret(env, name, &got, &from, &e);
	if (rc != 0)
		fail_msg("%s in '%s': error %d: %s", name, text, rc, e.msg);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("%s in '%s' = '%s', expected '%s'", name, text, got, want);
	free(got);
	cli_env_free(env);
}

/* NAME in the env of text fails at line:col with a message starting with msg. */
static void value_fails(const char *text, const char *name, unsigned line, unsigned col,
                        const char *msg)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env *env = env_of(text);
	cli_env_origin from;
	char *got = NULL;
	int rc = cli_env_secret(env, name, &got, &from, &e);
	if (rc != STRATA_EINVALID)
		fail_msg("%s in '%s': expected STRATA_EINVALID, got %d (%s)", name, text, rc,
		         got ? got : e.msg);
	assert_null(got);
	assert_string_equal(e.file, "t.env");
	if (e.line != line || e.column != col)
		fail_msg("%s in '%s': at %u:%u, expected %u:%u", name, text, e.line, e.column, line,
		         col);
	if (strncmp(e.msg, msg, strlen(msg)) != 0)
		fail_msg("message '%s' does not start with '%s'", e.msg, msg);
	assert_true(e.hint[0] != '\0');
	cli_env_free(env);
}

static void test_expand_forms(void **state)
{
	(void)state;
	value_is("SV_A=plain\n", "SV_A", "plain");
	value_is("SV_B=x\nSV_A=a${SV_B}b\n", "SV_A", "axb");
	value_is("SV_A=${SV_B:-dflt}\n", "SV_A", "dflt");
	value_is("SV_B=\nSV_A=${SV_B:-empty means default}\n", "SV_A", "empty means default");
	value_is("SV_B=set\nSV_A=${SV_B:-dflt}\n", "SV_A", "set");
	value_is("SV_A=${SV_B:-}\n", "SV_A", "");
	value_is("SV_A=${SV_B:-${SV_PW:-deep}}!\n", "SV_A", "deep!");
	value_is("SV_PW=p\nSV_A=${SV_B:-${SV_PW}}\n", "SV_A", "p");
	value_is("SV_A=a$$b$$$$\n", "SV_A", "a$b$$");
	value_is("SV_A=$${SV_B}\n", "SV_A", "${SV_B}");
	value_is("SV_A=a}b{\n", "SV_A", "a}b{");
	/* a default that is not used is still checked, but its variables need not be set */
	value_is("SV_B=1\nSV_A=${SV_B:-${SV_PW}}\n", "SV_A", "1");
}

static void test_expand_quotes(void **state)
{
	(void)state;
	value_is("SV_B=x\nSV_A='${SV_B} $ $$'\n", "SV_A", "${SV_B} $ $$");
	value_is("SV_B=x\nSV_A=\"${SV_B} y\"\n", "SV_A", "x y");
	value_is("SV_B='$'\nSV_A=${SV_B}${SV_B}\n", "SV_A", "$$"); /* values are not re-expanded */
	value_is("SV_A=\"pa#ss ${SV_B:-d}\" # comment\n", "SV_A", "pa#ss d");
}

static void test_expand_sources(void **state)
{
	(void)state;
	/* the process environment wins over the file, for the value and for references */
	assert_int_equal(setenv("SV_B", "from-env", 1), 0);
	value_is("SV_B=from-file\nSV_A=${SV_B}\n", "SV_A", "from-env");
	value_is("SV_B=from-file\n", "SV_B", "from-env");
	/* values from the environment are taken as they are */
	assert_int_equal(setenv("SV_A", "${NOT_EXPANDED} $x", 1), 0);
	value_is("SV_A=other\n", "SV_A", "${NOT_EXPANDED} $x");
	unsetenv("SV_A");
	unsetenv("SV_B");
	/* the assignment above the reference, not a later one */
	value_is("SV_B=1\nSV_A=${SV_B}\nSV_B=2\n", "SV_A", "1");
	value_is("SV_B=1\nSV_B=${SV_B}2\nSV_A=${SV_B}\n", "SV_A", "12");
	/* lines strata does not use are not expanded, so other tools' syntax there is fine */
	value_is("OTHER=$HOME ${UNSET}\nSV_A=ok\n", "SV_A", "ok");
}

static void test_expand_errors(void **state)
{
	(void)state;
	value_fails("SV_A=x${SV_B}\n", "SV_A", 1, 7, "variable 'SV_B' is not set");
	value_fails("# c\n\n  SV_A = \"ab${SV_B}\"\n", "SV_A", 3, 13, "variable 'SV_B' is not set");
	value_fails("SV_A=$SV_B\n", "SV_A", 1, 6, "'$' starts no variable");
	value_fails("SV_A=a$\n", "SV_A", 1, 7, "'$' starts no variable");
	value_fails("SV_A=${SV_B\n", "SV_A", 1, 6, "'${' without its closing '}'");
	value_fails("SV_A=${SV_B:-x\n", "SV_A", 1, 6, "'${' without its closing '}'");
	value_fails("SV_A=${}\n", "SV_A", 1, 6, "bad variable name after '${'");
	value_fails("SV_A=${1X}\n", "SV_A", 1, 6, "bad variable name after '${'");
	value_fails("SV_A=${SV_B%x}\n", "SV_A", 1, 12, "expected '}' or ':-'");
	value_fails("SV_A=${SV_B:=x}\n", "SV_A", 1, 12, "expected '}' or ':-'");
	/* a syntax error in an unused default is still one */
	value_fails("SV_B=1\nSV_A=${SV_B:-$x}\n", "SV_A", 2, 14, "'$' starts no variable");
	/* the error is where it is: in the variable referred to */
	value_fails("SV_B=${SV_PW}\nSV_A=${SV_B}\n", "SV_A", 1, 6, "variable 'SV_PW' is not set");
}

static void test_expand_error_names_no_value(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env *env;
	cli_env_origin from;
	char *got = NULL;
	(void)state;
	assert_int_equal(setenv("SV_PW", "hunter2-secret", 1), 0);
	env = env_of("SV_A=postgres://app:${SV_PW}@db/${SV_B}\nSV_B=later\n");
	assert_int_equal(cli_env_secret(env, "SV_A", &got, &from, &e), STRATA_EINVALID);
	assert_null(strstr(e.msg, "hunter2"));
	assert_null(strstr(e.detail, "hunter2"));
	assert_null(strstr(e.hint, "hunter2"));
	assert_string_equal(e.msg, "variable 'SV_B' is not set");
	assert_string_equal(e.detail, "SV_B is set below, at t.env:2: move it above");
	assert_int_equal(e.column, 33);
	cli_env_free(env);
}

static void test_expand_too_long(void **state)
{
	char text[4096];
	size_t n = 0;
	(void)state;
	/* each line doubles the last: 2^20 bytes at the end */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "V0=x\n");
	for (int i = 1; i <= 20; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "V%d=${V%d}${V%d}\n", i, i - 1,
		                      i - 1);
	snprintf(text + n, sizeof(text) - n, "SV_A=${V20}\n");
	value_fails(text, "SV_A", 18, 5, "the value expands to more than 64 KiB");
}

static void test_expand_json(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env *env = env_of("SV_B=b\n");
	char *out = NULL;
	size_t at = 99;
	(void)state;
	assert_int_equal(cli_env_expand(env, "a/${SV_B}/${SV_A:-c}", "x.json", &at, &out, &e), 0);
	assert_string_equal(out, "a/b/c");
	free(out);
	assert_int_equal(cli_env_expand(env, "ab${SV_A}", "x.json", &at, &out, &e),
	                 STRATA_EINVALID);
	assert_null(out);
	assert_int_equal(at, 2);
	assert_string_equal(e.file, "x.json");
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.hint, "an env file"));
	cli_env_free(env);
}

/* ---- NAME_FILE ------------------------------------------------------------------------------ */

struct fx {
	char *old_cwd, *dir;
};

static int setup_dir(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->old_cwd = getcwd(NULL, 0);
	fx->dir = unit_mkdtemp();
	assert_int_equal(chdir(fx->dir), 0);
	clear_vars();
	*state = fx;
	return 0;
}

static int teardown_dir(void **state)
{
	struct fx *fx = *state;
	clear_vars();
	assert_int_equal(chdir(fx->old_cwd), 0);
	unit_rmtree(fx->dir); /* frees it */
	free(fx->old_cwd);
	free(fx);
	return 0;
}

static int secret(const char *text, char **got, cli_env_origin *from, strata_error *e)
{
	cli_env *env = env_of(text);
	int rc = cli_env_secret(env, "SV_URL", got, from, e);
	if (from->file) /* borrowed from env */
		assert_string_equal(from->file, "t.env");
	cli_env_free(env);
	return rc;
}

static void test_secret_file(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env_origin from;
	char *got = NULL;
	(void)state;
	unit_write(".", "url", "sqlite:s.db\r\n\n");
	assert_int_equal(setenv("SV_URL_FILE", "url", 1), 0);
	assert_int_equal(secret("", &got, &from, &e), 0);
	assert_string_equal(got, "sqlite:s.db");
	assert_true(from.via_file);
	assert_null(from.file);
	free(got);
	/* the environment wins over the env file, whichever of the two each sets */
	assert_int_equal(secret("SV_URL=sqlite:f.db\n", &got, &from, &e), 0);
	assert_string_equal(got, "sqlite:s.db");
	free(got);
	unsetenv("SV_URL_FILE");
	assert_int_equal(setenv("SV_URL", "sqlite:env.db", 1), 0);
	assert_int_equal(secret("SV_URL_FILE=url\n", &got, &from, &e), 0);
	assert_string_equal(got, "sqlite:env.db");
	assert_false(from.via_file);
	free(got);
	unsetenv("SV_URL");
	/* in the env file, expanded; the file keeps its ${} as it is */
	unit_write(".", "url2", "sqlite:${NOT}.db");
	assert_int_equal(secret("N=2\nSV_URL_FILE=url${N}\n", &got, &from, &e), 0);
	assert_string_equal(got, "sqlite:${NOT}.db");
	assert_true(from.via_file);
	assert_int_equal(from.line, 2);
	free(got);
	/* neither */
	assert_int_equal(secret("OTHER=1\n", &got, &from, &e), 0);
	assert_null(got);
}

static void secret_fails(const char *text, int code, const char *file, const char *msg)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env_origin from;
	char *got = NULL;
	int rc = secret(text, &got, &from, &e);
	if (rc != code)
		fail_msg("expected %d, got %d (%s)", code, rc, e.msg);
	assert_null(got);
	assert_string_equal(e.file, file);
	assert_string_equal(e.msg, msg);
	assert_true(e.hint[0] != '\0');
}

static void test_secret_file_errors(void **state)
{
	(void)state;
	unit_write(".", "empty", "\n");
	unit_write(".", "url", "sqlite:s.db");
	assert_int_equal(setenv("SV_URL_FILE", "nope", 1), 0);
	secret_fails("", STRATA_ENOTFOUND, "nope",
	             "cannot read the file SV_URL_FILE names: No such file or directory");
	assert_int_equal(setenv("SV_URL_FILE", "empty", 1), 0);
	secret_fails("", STRATA_EINVALID, "empty", "the file SV_URL_FILE names is empty");
	assert_int_equal(setenv("SV_URL_FILE", ".", 1), 0);
	secret_fails("", STRATA_ERROR, ".",
	             "cannot read the file SV_URL_FILE names: Is a directory");
	assert_int_equal(setenv("SV_URL_FILE", "", 1), 0);
	secret_fails("", STRATA_EINVALID, "", "SV_URL_FILE is set but empty in the environment");
	assert_int_equal(setenv("SV_URL_FILE", "url", 1), 0);
	assert_int_equal(setenv("SV_URL", "", 1), 0); /* set, even if empty */
	secret_fails("", STRATA_EINVALID, "",
	             "both SV_URL and SV_URL_FILE are set in the environment");
	clear_vars();
	secret_fails("SV_URL_FILE=url\nSV_URL=x\n", STRATA_EINVALID, "t.env",
	             "both SV_URL and SV_URL_FILE are set in the env files");
	secret_fails("SV_URL_FILE=empty\n", STRATA_EINVALID, "empty",
	             "the file SV_URL_FILE names is empty");
	secret_fails("SV_URL_FILE=\n", STRATA_EINVALID, "t.env", "SV_URL_FILE is set but empty");
	secret_fails("SV_URL_FILE=${NOPE}\n", STRATA_EINVALID, "t.env",
	             "variable 'NOPE' is not set");
}

static void test_load_files(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_env *env = NULL;
	cli_env_origin from;
	char *got = NULL;
	const char *files[] = {"a.env", "b.env"};
	(void)state;
	unit_write(".", "a.env", "SV_A=one\nSV_B=a\n");
	unit_write(".", "b.env", "SV_A=${SV_A}-two\n");
	unit_write(".", ".env", "SV_A=default\n");
	/* in order: a later file wins, and sees the earlier ones */
	assert_int_equal(cli_env_load(&env, files, 2, ".env", &e), 0);
	assert_int_equal(cli_env_secret(env, "SV_A", &got, &from, &e), 0);
	assert_string_equal(got, "one-two");
	assert_string_equal(from.file, "b.env");
	free(got);
	cli_env_free(env);
	/* without files, the default when it exists */
	assert_int_equal(cli_env_load(&env, NULL, 0, ".env", &e), 0);
	assert_int_equal(cli_env_secret(env, "SV_A", &got, &from, &e), 0);
	assert_string_equal(got, "default");
	free(got);
	cli_env_free(env);
	assert_int_equal(cli_env_load(&env, NULL, 0, "missing.env", &e), 0);
	cli_env_free(env);
	/* a named file must exist */
	files[1] = "missing.env";
	assert_int_equal(cli_env_load(&env, files, 2, ".env", &e), STRATA_ENOTFOUND);
	assert_null(env);
	assert_string_equal(e.file, "missing.env");
	assert_string_equal(e.msg, "cannot read env file 'missing.env': No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_expand_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expand_quotes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expand_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expand_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expand_error_names_no_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expand_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expand_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_file, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_secret_file_errors, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_load_files, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
