/* test_config.c: .env parsing and database URL / directory resolution (src/cli/config.c). */
#include "unit.h"

#include "cli/config.h"

/* ---- .env -------------------------------------------------------------------------------- */

static void dotenv_is(const char *text, const char *key, const char *want)
{
	strata_error e = STRATA_ERROR_INIT;
	char *got = (char *)1;
	int rc = cli_dotenv_get(&got, text, key, &e);
	char copy[512];
	if (rc != 0)
		fail_msg("%s in '%s': error %d", key, text, rc);
	assert_non_null(got);
	snprintf(copy, sizeof(copy), "%s", got);
	free(got);
	if (strcmp(copy, want) != 0)
		fail_msg("%s in '%s' = '%s', expected '%s'", key, text, copy, want);
}

static void dotenv_absent(const char *text, const char *key)
{
	strata_error e = STRATA_ERROR_INIT;
	char *got = (char *)1;
	int rc = cli_dotenv_get(&got, text, key, &e);
	if (rc != STRATA_ENOTFOUND) {
		free(rc == 0 ? got : NULL);
		fail_msg("%s in '%s': expected STRATA_ENOTFOUND, got %d", key, text, rc);
	}
	assert_null(got);
}

static void test_dotenv_plain(void **state)
{
	(void)state;
	dotenv_is("DATABASE_URL=postgres://app@localhost/app\n", "DATABASE_URL",
	          "postgres://app@localhost/app");
	dotenv_is("A=1\nDATABASE_URL=sqlite:x.db\nB=2\n", "DATABASE_URL", "sqlite:x.db");
	dotenv_is("DATABASE_URL=last-line-without-newline", "DATABASE_URL",
	          "last-line-without-newline");
	dotenv_is("DATABASE_URL=\n", "DATABASE_URL", "");
	dotenv_is("A=1\nB=2\n", "B", "2");
}

static void test_dotenv_export(void **state)
{
	(void)state;
	dotenv_is("export DATABASE_URL=sqlite:x.db\n", "DATABASE_URL", "sqlite:x.db");
	dotenv_is("  export   DATABASE_URL=sqlite:y.db\n", "DATABASE_URL", "sqlite:y.db");
	dotenv_is("export DATABASE_URL='postgres://h/db'\n", "DATABASE_URL", "postgres://h/db");
}

static void test_dotenv_quotes(void **state)
{
	(void)state;
	dotenv_is("DATABASE_URL=\"postgres://u:p#w@h/db\" # dev\n", "DATABASE_URL",
	          "postgres://u:p#w@h/db");
	dotenv_is("DATABASE_URL='sqlite:a b.db'\n", "DATABASE_URL", "sqlite:a b.db");
	dotenv_is("DATABASE_URL=\"host=h password='x y'\"\n", "DATABASE_URL",
	          "host=h password='x y'");
	dotenv_is("DATABASE_URL='  padded  '\n", "DATABASE_URL", "  padded  ");
	dotenv_is("DATABASE_URL=\"\"\n", "DATABASE_URL", "");
}

static void test_dotenv_comments(void **state)
{
	(void)state;
	dotenv_is("# DATABASE_URL=commented-out\nDATABASE_URL=real\n", "DATABASE_URL", "real");
	dotenv_is("DATABASE_URL=postgres://h/db # the dev database\n", "DATABASE_URL",
	          "postgres://h/db");
	dotenv_absent("  # DATABASE_URL=commented-out\n", "DATABASE_URL");
}

static void test_dotenv_spaces(void **state)
{
	(void)state;
	dotenv_is("  DATABASE_URL  =  sqlite:x.db  \n", "DATABASE_URL", "sqlite:x.db");
	dotenv_is("\tDATABASE_URL=\tsqlite:x.db\t\n", "DATABASE_URL", "sqlite:x.db");
	dotenv_is("DATABASE_URL=host=h dbname=app\n", "DATABASE_URL", "host=h dbname=app");
	/* CRLF files */
	dotenv_is("A=1\r\nDATABASE_URL=sqlite:x.db\r\nB=2\r\n", "DATABASE_URL", "sqlite:x.db");
	dotenv_is("DATABASE_URL=\"sqlite:q.db\"\r\n", "DATABASE_URL", "sqlite:q.db");
}

static void test_dotenv_missing_key(void **state)
{
	(void)state;
	dotenv_absent("", "DATABASE_URL");
	dotenv_absent("OTHER=1\n", "DATABASE_URL");
	dotenv_absent("MY_DATABASE_URL=x\n", "DATABASE_URL");
	dotenv_absent("DATABASE_URL\n", "DATABASE_URL");
	dotenv_absent("DATABASE_URLX=1\n", "DATABASE_URL");
	dotenv_absent("DATABASE_URL=x\n", "DATABASE");
	/* a longer key with the same start does not hide the real one */
	dotenv_is("DATABASE_URL_TEST=wrong\nDATABASE_URL=right\n", "DATABASE_URL", "right");
}

/* ---- cli_config_load ------------------------------------------------------------------ */

struct fx {
	char *old_cwd;
	char *dir;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->old_cwd = getcwd(NULL, 0);
	assert_non_null(fx->old_cwd);
	fx->dir = unit_mkdtemp();
	assert_int_equal(chdir(fx->dir), 0);
	unsetenv("DATABASE_URL");
	unsetenv("DATABASE_URL_FILE");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	unsetenv("DATABASE_URL");
	unsetenv("DATABASE_URL_FILE");
	assert_int_equal(chdir(fx->old_cwd), 0);
	free(fx->old_cwd);
	unit_rmtree(fx->dir);
	free(fx);
	return 0;
}

static void load_ok(cli_config *c, const char *config_path, const char *cli_url)
{
	strata_error e = STRATA_ERROR_INIT;
	int rc = cli_config_load(c, config_path, cli_url, &e);
	if (rc != 0)
		fail_msg("config load: error %d: %s", rc, e.msg);
	assert_non_null(c->database_url);
	assert_non_null(c->url_source);
	assert_non_null(c->project_dir);
	assert_non_null(c->src_dir);
	assert_non_null(c->dist_dir);
}

static void assert_url(const cli_config *c, const char *url, const char *source)
{
	assert_string_equal(c->database_url, url);
	assert_string_equal(c->url_source, source);
}

static void test_load_default(void **state)
{
	cli_config c;
	(void)state;
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:strata.db", "default");
	assert_string_equal(c.project_dir, ".");
	assert_null(c.config_path);
	assert_string_equal(c.src_dir, "src/migrations");
	assert_string_equal(c.dist_dir, "dist/migrations");
	cli_config_free(&c);
	assert_null(c.database_url);
	cli_config_free(NULL);
}

static void write_all_sources(void)
{
	unit_write(".", CLI_CONFIG_FILE, "{\"database_url\": \"postgres://from-config/db\"}\n");
	unit_write(".", ".env", "DATABASE_URL=postgres://from-dotenv/db\n");
	assert_int_equal(setenv("DATABASE_URL", "postgres://from-env/db", 1), 0);
}

static void test_load_cli_wins(void **state)
{
	cli_config c;
	(void)state;
	write_all_sources();
	load_ok(&c, NULL, "postgres://from-cli/db");
	assert_url(&c, "postgres://from-cli/db", "--database-url");
	assert_string_equal(c.config_path, CLI_CONFIG_FILE);
	cli_config_free(&c);
}

static void test_load_env_beats_dotenv_and_config(void **state)
{
	cli_config c;
	(void)state;
	write_all_sources();
	load_ok(&c, NULL, NULL);
	assert_url(&c, "postgres://from-env/db", "DATABASE_URL");
	cli_config_free(&c);
}

static void load_fails(const char *config_path, int code, const char *msg_start)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_config c;
	int rc = cli_config_load(&c, config_path, NULL, &e);
	if (rc != code)
		fail_msg("expected %d, got %d (%s)", code, rc, e.msg);
	assert_int_equal(e.code, code);
	if (strncmp(e.msg, msg_start, strlen(msg_start)) != 0)
		fail_msg("message '%s' does not start with '%s'", e.msg, msg_start);
	assert_null(c.database_url);
	assert_null(c.src_dir);
	assert_null(c.project_dir);
}

static void test_load_empty_env_is_an_error(void **state)
{
	(void)state;
	write_all_sources();
	/* set but empty: a CI secret that failed to inject, never "use the next source" */
	assert_int_equal(setenv("DATABASE_URL", "", 1), 0);
	load_fails(NULL, STRATA_EINVALID,
	           "the database URL in the DATABASE_URL environment variable is set but empty");
	assert_int_equal(setenv("DATABASE_URL", "  ", 1), 0);
	load_fails(NULL, STRATA_EINVALID, "the database URL in the DATABASE_URL environment");
}

static void test_load_require_database_url(void **state)
{
	cli_config c;
	(void)state;
	unit_write(".", CLI_CONFIG_FILE, "{\"require_database_url\": true}\n");
	load_fails(NULL, STRATA_EINVALID,
	           "no database URL, and this project allows no SQLite default");
	assert_int_equal(setenv("DATABASE_URL", "postgres://from-env/db", 1), 0);
	load_ok(&c, NULL, NULL);
	assert_url(&c, "postgres://from-env/db", "DATABASE_URL");
	assert_int_equal(c.require_database_url, 1);
	cli_config_free(&c);
	unsetenv("DATABASE_URL");
	unit_write(".", CLI_CONFIG_FILE, "{\"require_database_url\": false}\n");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:strata.db", "default");
	cli_config_free(&c);
	unit_write(".", CLI_CONFIG_FILE, "{\"require_database_url\": \"yes\"}\n");
	load_fails(NULL, STRATA_EINVALID, "'require_database_url' must be true or false");
}

static void test_load_dotenv_beats_config(void **state)
{
	cli_config c;
	(void)state;
	write_all_sources();
	unsetenv("DATABASE_URL");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "postgres://from-dotenv/db", ".env");
	cli_config_free(&c);
}

static void test_load_config_when_dotenv_lacks_it(void **state)
{
	cli_config c;
	(void)state;
	write_all_sources();
	unsetenv("DATABASE_URL");
	unit_write(".", ".env", "OTHER=1\n# DATABASE_URL=commented\n");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "postgres://from-config/db", "config");
	cli_config_free(&c);

	/* set but empty in .env is an error too */
	unit_write(".", ".env", "DATABASE_URL=\n");
	load_fails(NULL, STRATA_EINVALID, "the database URL in .env is set but empty");
}

static void test_load_dotenv_without_config(void **state)
{
	cli_config c;
	(void)state;
	unit_write(".", ".env", "export DATABASE_URL='sqlite:dev.db'\n");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:dev.db", ".env");
	assert_null(c.config_path);
	cli_config_free(&c);
}

static void test_load_config_without_url(void **state)
{
	cli_config c;
	(void)state;
	unit_write(".", CLI_CONFIG_FILE, "{\"src_dir\": \"db/migrations\"}");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:strata.db", "default");
	assert_string_equal(c.src_dir, "db/migrations");
	assert_string_equal(c.dist_dir, "dist/migrations");
	cli_config_free(&c);

	unit_write(".", CLI_CONFIG_FILE, "{}");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:strata.db", "default");
	cli_config_free(&c);
}

static void test_load_unknown_key(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_config c;
	(void)state;
	unit_write(".", CLI_CONFIG_FILE,
	           "{\"database_url\": \"sqlite:x.db\", \"databse_url\": \"y\"}");
	assert_int_equal(cli_config_load(&c, NULL, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "unknown key 'databse_url' in config");
	assert_string_equal(e.file, CLI_CONFIG_FILE);
	assert_non_null(strstr(e.hint, "database_url"));
	assert_null(c.database_url);
	/* the command line does not hide a broken config */
	strata_error_clear(&e);
	assert_int_equal(cli_config_load(&c, NULL, "sqlite:cli.db", &e), STRATA_EINVALID);
}

static void test_load_bad_config(void **state)
{
	(void)state;
	unit_write(".", "num.json", "{\"src_dir\": 5}");
	load_fails("num.json", STRATA_EINVALID, "'src_dir' must be a string");
	unit_write(".", "arr.json", "[\"database_url\"]");
	load_fails("arr.json", STRATA_EINVALID, "cannot parse config: not a JSON object");
	unit_write(".", "broken.json", "{\"database_url\": ");
	load_fails("broken.json", STRATA_EINVALID, "cannot parse config: ");
	load_fails("missing.json", STRATA_ENOTFOUND, "cannot read 'missing.json'");
}

static void test_load_paths_relative_to_config(void **state)
{
	cli_config c;
	char *conf;
	(void)state;
	conf = unit_mkdir(".", "conf");
	free(conf);
	unit_write("conf", CLI_CONFIG_FILE,
	           "{\"src_dir\": \"db/migrations\", \"dist_dir\": \"/abs/dist\"}");
	load_ok(&c, "conf/strata.json", NULL);
	assert_string_equal(c.config_path, "conf/strata.json");
	assert_string_equal(c.project_dir, "conf");
	assert_string_equal(c.src_dir, "conf/db/migrations");
	assert_string_equal(c.dist_dir, "/abs/dist");
	/* the default database sits beside the config too */
	assert_url(&c, "sqlite:conf/strata.db", "default");
	cli_config_free(&c);

	/* defaults resolve against the config's directory as well */
	unit_write("conf", CLI_CONFIG_FILE, "{}");
	load_ok(&c, "conf/strata.json", NULL);
	assert_string_equal(c.src_dir, "conf/src/migrations");
	assert_string_equal(c.dist_dir, "conf/dist/migrations");
	cli_config_free(&c);
}

static void test_load_dotenv_beside_config(void **state)
{
	cli_config c;
	char *conf;
	(void)state;
	conf = unit_mkdir(".", "conf");
	free(conf);
	unit_write("conf", CLI_CONFIG_FILE, "{\"database_url\": \"sqlite:from-config.db\"}");
	unit_write(".", ".env", "DATABASE_URL=sqlite:cwd.db\n"); /* not the project's */
	load_ok(&c, "conf/strata.json", NULL);
	assert_url(&c, "sqlite:from-config.db", "config");
	cli_config_free(&c);

	unit_write("conf", ".env", "DATABASE_URL=sqlite:conf-env.db\n");
	load_ok(&c, "conf/strata.json", NULL);
	assert_url(&c, "sqlite:conf-env.db", ".env");
	cli_config_free(&c);
}

static void test_load_absolute_config_path(void **state)
{
	struct fx *fx = *state;
	cli_config c;
	char *conf = unit_mkdir(fx->dir, "proj");
	char *path = unit_path(conf, CLI_CONFIG_FILE);
	char *want = unit_path(conf, "migrations");
	unit_write(conf, CLI_CONFIG_FILE, "{\"src_dir\": \"migrations\"}");
	load_ok(&c, path, NULL);
	assert_string_equal(c.project_dir, conf);
	assert_string_equal(c.src_dir, want);
	cli_config_free(&c);
	free(want);
	free(path);
	free(conf);
}

static void test_load_expands_config(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	cli_config c;
	(void)state;
	unit_write(".", ".env", "APP=shop\n");
	unit_write(".", CLI_CONFIG_FILE,
	           "{\"database_url\": \"sqlite:${APP}-${STAGE:-dev}.db\",\n"
	           " \"src_dir\": \"${APP}/src\", \"dist_dir\": \"$${APP}\",\n"
	           " \"base_dirs\": [\"../${APP}/dist\"], \"lock_ttl\": \"${NOT_EXPANDED}\"}\n");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:shop-dev.db", "config");
	assert_string_equal(c.src_dir, "shop/src");
	assert_string_equal(c.dist_dir, "${APP}");
	assert_string_equal(c.base_dirs[0], "../shop/dist");
	assert_string_equal(c.lock_ttl, "${NOT_EXPANDED}");
	cli_config_free(&c);

	/* an unset variable: the place of its '${' in the file */
	unit_write(".", CLI_CONFIG_FILE, "{\"src_dir\": \"a\",\n  \"dist_dir\": \"x/${NOPE}\"}");
	assert_int_equal(cli_config_load(&c, NULL, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "variable 'NOPE' is not set");
	assert_string_equal(e.file, CLI_CONFIG_FILE);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 18);
	assert_null(c.database_url);

	/* the URL is expanded only when it is the one used */
	unit_write(".", CLI_CONFIG_FILE, "{\"database_url\": \"sqlite:${NOPE}.db\"}");
	load_ok(&c, NULL, "sqlite:cli.db");
	assert_url(&c, "sqlite:cli.db", "--database-url");
	cli_config_free(&c);
	strata_error_clear(&e);
	assert_int_equal(cli_config_load(&c, NULL, NULL, &e), STRATA_EINVALID);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.column, 26);
	unit_write(".", CLI_CONFIG_FILE, "{\"database_url\": \"${EMPTY:-}\"}");
	strata_error_clear(&e);
	assert_int_equal(cli_config_load(&c, NULL, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "the database URL in strata.json is set but empty");
}

static void test_load_env_files(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	const char *files[] = {"a.env", "b.env"};
	cli_config c;
	(void)state;
	unit_write(".", ".env", "DATABASE_URL=sqlite:default.db\n");
	unit_write(".", "a.env", "NAME=a\n");
	unit_write(".", "b.env", "DATABASE_URL=sqlite:${NAME}b.db\n");
	assert_int_equal(cli_config_load_env(&c, NULL, NULL, files, 2, &e), 0);
	assert_url(&c, "sqlite:ab.db", "b.env");
	cli_config_free(&c);
	/* the named files replace .env */
	assert_int_equal(cli_config_load_env(&c, NULL, NULL, files, 1, &e), 0);
	assert_url(&c, "sqlite:strata.db", "default");
	cli_config_free(&c);
	/* a secret file named in .env */
	unit_write(".", "url", "sqlite:secret.db\n");
	unit_write(".", ".env", "DATABASE_URL_FILE=url\n");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:secret.db", ".env (DATABASE_URL_FILE)");
	cli_config_free(&c);
	assert_int_equal(setenv("DATABASE_URL_FILE", "url", 1), 0);
	unit_write(".", ".env", "DATABASE_URL=sqlite:dotenv.db\n");
	load_ok(&c, NULL, NULL);
	assert_url(&c, "sqlite:secret.db", "DATABASE_URL_FILE");
	cli_config_free(&c);
	unit_write(".", "url", " \n");
	load_fails(NULL, STRATA_EINVALID,
	           "the database URL in the file DATABASE_URL_FILE names is set but empty");
	unsetenv("DATABASE_URL_FILE");
	/* a named file that is not there, even with --database-url */
	files[1] = "missing.env";
	strata_error_clear(&e);
	assert_int_equal(cli_config_load_env(&c, NULL, "sqlite:x.db", files, 2, &e),
	                 STRATA_ENOTFOUND);
	assert_string_equal(e.file, "missing.env");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dotenv_plain),
	    cmocka_unit_test(test_dotenv_export),
	    cmocka_unit_test(test_dotenv_quotes),
	    cmocka_unit_test(test_dotenv_comments),
	    cmocka_unit_test(test_dotenv_spaces),
	    cmocka_unit_test(test_dotenv_missing_key),
	    cmocka_unit_test_setup_teardown(test_load_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_cli_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_env_beats_dotenv_and_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_empty_env_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_require_database_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_dotenv_beats_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_config_when_dotenv_lacks_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_dotenv_without_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_config_without_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_unknown_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_bad_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_paths_relative_to_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_dotenv_beside_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_absolute_config_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_expands_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_env_files, setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
