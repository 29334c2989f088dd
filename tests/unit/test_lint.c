/* test_lint.c: the lint rules table, every rule on its own bad and good example, nolint, the
 * parse checks of both dialects and the dialect choice (src/core/lint.c, src/core/sqlcheck.c). */
#include "unit.h"

#include <ctype.h>

#include "core/catalog.h"
#include "core/lint.h"
#include "core/sqlcheck.h"

struct fx {
	char *root;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->root = unit_mkdtemp();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	unit_rmtree(fx->root);
	free(fx);
	return 0;
}

/* Lints the migrations already written under fx->root. */
static int lint_dir(strata_lint_report *r, struct fx *fx, strata_dialect d, const char *enable,
                    strata_error *e)
{
	strata_catalog c;
	strata_lint_opts o = STRATA_LINT_OPTS_INIT;
	const char *dir = fx->root;
	int error;
	o.dialect = d;
	o.enable = enable;
	memset(r, 0, sizeof(*r));
	assert_int_equal(strata_catalog_load(&c, &dir, 1, e), 0);
	error = strata_lint_catalog(r, &c, &o, e);
	strata_catalog_free(&c);
	return error;
}

/* Writes one migration 2-Change.sql whose up section is `sql` (which may start with its own
 * '-- migrate:up' line) and lints it as PostgreSQL, with `enable` on. */
static void lint_one_with(strata_lint_report *r, struct fx *fx, const char *sql, const char *enable)
{
	strata_error e = STRATA_ERROR_INIT;
	char text[4096];
	snprintf(text, sizeof(text), "%s%s\n",
	         strncmp(sql, "-- migrate:", 11) ? "-- migrate:up\n" : "", sql);
	unit_write(fx->root, "2-Change.sql", text);
	if (lint_dir(r, fx, STRATA_DIALECT_POSTGRES, enable, &e) < 0)
		fail_msg("lint failed: %s:%u:%u: %s\n%s", e.file, e.line, e.column, e.msg, sql);
}

/* ... with the default rules */
static void lint_one(strata_lint_report *r, struct fx *fx, const char *sql)
{
	lint_one_with(r, fx, sql, NULL);
}

static size_t count_rule(const strata_lint_report *r, const char *id)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += strcmp(r->items[i].rule->id, id) == 0;
	return n;
}

static void test_rules_table_is_complete(void **state)
{
	size_t n = 0;
	(void)state;
	for (const strata_lint_rule *r = strata_lint_rules(); r->id; r++, n++) {
		assert_non_null(r->reason);
		assert_non_null(r->fix);
		assert_non_null(r->bad);
		assert_non_null(r->good);
		/* ids are lowercase words with dashes, and unique */
		for (const char *c = r->id; *c; c++)
			assert_true(islower((unsigned char)*c) || *c == '-');
		assert_ptr_equal(strata_lint_rule_find(r->id), r);
		/* one line each, lowercase start, no full stop (they are printed after
		 * file:line:col) */
		assert_null(strchr(r->reason, '\n'));
		assert_null(strchr(r->fix, '\n'));
		assert_true(r->reason[strlen(r->reason) - 1] != '.');
		assert_true(r->fix[strlen(r->fix) - 1] != '.');
	}
	assert_true(n >= 16);
	assert_null(strata_lint_rule_find("no-such-rule"));
	assert_string_equal(strata_lint_rule_find("truncate")->id, "truncate");
	assert_int_equal(strata_lint_rule_find("concurrently-in-transaction")->severity,
	                 STRATA_LINT_ERROR);
	assert_int_equal(strata_lint_rule_find("drop-table")->severity, STRATA_LINT_WARNING);
	assert_true(strata_lint_rule_find("missing-lock-timeout")->off_by_default);
}

/* Every rule reports its own bad example and not its good one: the docs cannot lie. */
static void test_each_rule_on_its_examples(void **state)
{
	struct fx *fx = *state;
	for (const strata_lint_rule *r = strata_lint_rules(); r->id; r++) {
		strata_lint_report res;
		lint_one_with(&res, fx, r->bad, r->off_by_default ? r->id : NULL);
		if (count_rule(&res, r->id) == 0)
			fail_msg("rule %s does not report its bad example:\n%s", r->id, r->bad);
		strata_lint__report_clear(&res);
		lint_one_with(&res, fx, r->good, r->off_by_default ? r->id : NULL);
		if (count_rule(&res, r->id) != 0)
			fail_msg("rule %s reports its good example:\n%s", r->id, r->good);
		strata_lint__report_clear(&res);
	}
}

static void test_finding_place_and_subject(void **state)
{
	struct fx *fx = *state;
	strata_lint_report r;
	lint_one(&r, fx, "select 1;\n  alter table app.users add column plan text not null;");
	assert_int_equal(r.n, 1);
	assert_string_equal(r.items[0].rule->id, "add-column-not-null-without-default");
	assert_int_equal(r.items[0].line, 3);
	assert_int_equal(r.items[0].column, 36); /* at the column's name */
	assert_string_equal(r.items[0].subject, "app.users.plan");
	assert_string_equal(r.items[0].version, "2");
	assert_string_equal(r.items[0].source_line,
	                    "  alter table app.users add column plan text not null;");
	assert_non_null(strstr(r.items[0].file, "2-Change.sql"));
	assert_int_equal(r.warnings, 1);
	assert_int_equal(r.errors, 0);
	strata_lint__report_clear(&r);
}

static void test_new_tables_are_free(void **state)
{
	struct fx *fx = *state;
	strata_lint_report r;
	/* created in the same migration: no table is big or busy yet */
	lint_one(&r, fx,
	         "create table t (a int);\ncreate index t_a on t (a);\n"
	         "alter table t add column b int not null, alter column a type bigint;\n"
	         "alter table t add constraint u unique (a);\ntruncate t;\n"
	         "alter table t rename to t2;\ncreate index t2_b on t2 (b);\ndrop table t2;");
	assert_int_equal(r.n, 0);
	strata_lint__report_clear(&r);
	/* but a table of another migration is an existing one */
	unit_write(fx->root, "1-Create.sql", "-- migrate:up\ncreate table t (a int);\n");
	lint_one(&r, fx, "create index t_a on t (a);");
	assert_int_equal(count_rule(&r, "create-index-not-concurrently"), 1);
	strata_lint__report_clear(&r);
	/* a schema-qualified name matches only the same schema */
	lint_one(&r, fx,
	         "create table a.t (x int);\ncreate index i on b.t (x);\ncreate index j on "
	         "a.t (x);");
	assert_int_equal(count_rule(&r, "create-index-not-concurrently"), 1);
	assert_int_equal(r.items[0].line, 3);
	strata_lint__report_clear(&r);
}

static void test_transaction_false_allows_concurrently(void **state)
{
	struct fx *fx = *state;
	strata_lint_report r;
	lint_one(&r, fx,
	         "-- migrate:up transaction:false\ncreate index concurrently i on t (a);\n"
	         "drop index concurrently j;\nreindex index concurrently k;\nvacuum t;\n"
	         "alter type e add value 'x';\n"
	         "-- migrate:down\ndrop index concurrently i;");
	/* the up section may; the (transactional) down section may not */
	assert_int_equal(r.n, 1);
	assert_string_equal(r.items[0].rule->id, "concurrently-in-transaction");
	assert_int_equal(r.items[0].line, 8);
	assert_int_equal(r.errors, 1);
	strata_lint__report_clear(&r);
	lint_one(&r, fx,
	         "reindex index concurrently k;\nalter table p detach partition c concurrently;\n"
	         "drop index concurrently j;\nalter system set work_mem = '1MB';\n"
	         "create database d;\nreindex database d;\nanalyze t;\ncluster;\ncluster t;");
	assert_int_equal(count_rule(&r, "concurrently-in-transaction"), 3);
	assert_int_equal(count_rule(&r, "needs-no-transaction"), 4);
	strata_lint__report_clear(&r);
}

static void test_nolint(void **state)
{
	struct fx *fx = *state;
	strata_lint_report r;
	lint_one(&r, fx,
	         "-- strata:nolint drop-table\ndrop table a;\n"
	         "-- why: it is empty\n--strata:nolint  truncate, drop-column\ntruncate b;\n"
	         "drop table c; -- strata:nolint drop-table\n"
	         "-- strata:nolint drop-tables\ndrop table d;");
	/* c: a comment after a statement silences neither it nor the next one; d: not a rule
	 * (reported too) */
	assert_int_equal(r.n, 3);
	assert_string_equal(r.items[0].rule->id, "drop-table");
	assert_int_equal(r.items[0].line, 7);
	assert_string_equal(r.items[1].rule->id, "unknown-nolint-rule");
	assert_int_equal(r.items[1].line, 8);
	assert_int_equal(r.items[1].column, 18);
	assert_string_equal(r.items[2].rule->id, "drop-table");
	assert_int_equal(r.items[2].line, 9);
	strata_lint__report_clear(&r);
}

static void test_lock_timeout_rule(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_lint_report r;
	lint_one_with(&r, fx, "set lock_timeout = '2s';\nalter table t add column c text;",
	              "missing-lock-timeout");
	assert_int_equal(count_rule(&r, "missing-lock-timeout"), 0);
	strata_lint__report_clear(&r);
	lint_one_with(&r, fx, "alter table t add column c text;\nalter table u add column c text;",
	              "missing-lock-timeout");
	assert_int_equal(count_rule(&r, "missing-lock-timeout"), 1); /* once per section */
	strata_lint__report_clear(&r);
	/* off by default */
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_POSTGRES, NULL, &e), 0);
	assert_int_equal(r.n, 0);
	strata_lint__report_clear(&r);
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_POSTGRES, "drop-table,nope", &e),
	                 STRATA_EINVALID);
	assert_string_equal(e.msg, "unknown lint rule 'nope'");
	strata_lint__report_clear(&r);
}

static void test_pg_syntax_error_place(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_lint_report r;
	/* two-byte characters before the error: the column counts characters */
	unit_write(fx->root, "1-Bad.sql",
	           "-- comment\n-- migrate:up\nselect 'été';\n  select 'été', 1 +;\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_POSTGRES, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "syntax error at or near \";\"");
	assert_int_equal(e.line, 4);
	assert_int_equal(e.column, 20);
	assert_string_equal(e.source_line, "  select 'été', 1 +;");
	assert_non_null(strstr(e.file, "1-Bad.sql"));
	strata_lint__report_clear(&r);
	/* a broken down section too */
	strata_error_clear(&e);
	unit_write(fx->root, "1-Bad.sql",
	           "-- migrate:up\nselect 1;\n-- migrate:down\ndrop tabel t;\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_POSTGRES, NULL, &e), STRATA_EINVALID);
	assert_int_equal(e.line, 4);
	assert_int_equal(e.column, 6);
	strata_lint__report_clear(&r);
}

static void test_pg_split_offsets(void **state)
{
	strata_pg_parser *p = NULL;
	strata_sql_stmt st;
	strata_error e = STRATA_ERROR_INIT;
	strata_section s = {0};
	const char *text =
	    "-- migrate:up\n-- lead\ncreate table t (a int);\n\n  /* c */ select 1 ;  \n";
	(void)state;
	s.present = true;
	s.file = "x.sql";
	s.text = text;
	s.offset = 14;
	s.len = strlen(text) - 14;
	assert_int_equal(strata_pg_parser_new(&p, &s, &e), 0);
	assert_int_equal(strata_pg_parser_next(p, &st, &e), 1);
	assert_string_equal(st.kind, "CreateStmt");
	assert_int_equal(st.lead, 0);
	assert_int_equal(st.off, 8);
	assert_memory_equal(text + 14 + st.off, "create table t (a int)", st.len);
	assert_int_equal(st.len, 22);
	assert_int_equal(strata_pg_parser_next(p, &st, &e), 1);
	assert_string_equal(st.kind, "SelectStmt");
	assert_int_equal(st.lead, 31);
	assert_memory_equal(text + 14 + st.off, "select 1", st.len);
	assert_int_equal(st.len, 8);
	assert_int_equal(strata_pg_parser_next(p, &st, &e), 0);
	assert_int_equal(strata_pg_parser_next(p, &st, &e), 0); /* and stays at the end */
	strata_pg_parser_free(p);
	strata_pg_parser_free(NULL);
}

static void test_sqlite_check(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_lint_report r;
	/* the second migration uses the first one's table: applied in order */
	unit_write(
	    fx->root, "1-A.sql",
	    "-- migrate:up\ncreate table t (a int unique);\n-- migrate:down\ndrop table t;\n");
	unit_write(fx->root, "2-B.sql",
	           "-- migrate:up\ninsert into t values (1);\n-- migrate:down\ndelete from t;\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.migrations, 2);
	strata_lint__report_clear(&r);
	/* PostgreSQL-only syntax */
	unit_write(fx->root, "3-C.sql", "-- migrate:up\ncreate index concurrently i on t (a);\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), STRATA_EINVALID);
	assert_int_equal(e.line, 2);
	/* SQLite reads "concurrently" as the index's name */
	assert_string_equal(e.msg, "near \"i\": syntax error");
	assert_int_equal(e.column, 27);
	strata_lint__report_clear(&r);
	/* an unknown table, and a row that breaks the migration's own constraint */
	strata_error_clear(&e);
	unit_write(fx->root, "3-C.sql", "-- migrate:up\ninsert into nope values (1);\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "no such table: nope");
	strata_lint__report_clear(&r);
	strata_error_clear(&e);
	unit_write(fx->root, "3-C.sql", "-- migrate:up\n\n  insert into t values (1);\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "UNIQUE constraint failed: t.a");
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 3);
	strata_lint__report_clear(&r);
	/* a down section runs against its up section's state and is undone: 3's down sees u,
	 * and 4's up can create u again */
	strata_error_clear(&e);
	unit_write(fx->root, "3-C.sql",
	           "-- migrate:up\ncreate table u (a int);\n-- migrate:down\ndrop table u;\n");
	unit_write(fx->root, "4-D.sql", "-- migrate:up\ninsert into u values (1);\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), 0);
	strata_lint__report_clear(&r);
	/* VACUUM: not in a transaction; fine with transaction:false */
	unit_write(fx->root, "5-E.sql", "-- migrate:up\nvacuum;\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "cannot VACUUM from within a transaction");
	assert_non_null(strstr(e.hint, "'-- migrate:up transaction:false'"));
	strata_lint__report_clear(&r);
	strata_error_clear(&e);
	unit_write(fx->root, "5-E.sql",
	           "-- migrate:up transaction:false\nvacuum;\n-- migrate:down transaction:false\n"
	           "begin;\ndelete from u;\ncommit;\nvacuum;\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), 0);
	strata_lint__report_clear(&r);
	/* a COMMIT inside a transactional migration */
	unit_write(fx->root, "6-F.sql", "-- migrate:up\ndelete from u;\ncommit;\n");
	assert_int_equal(lint_dir(&r, fx, STRATA_DIALECT_SQLITE, NULL, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "COMMIT inside the transaction the migration runs in");
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 1);
	assert_non_null(strstr(e.hint, "'-- migrate:up transaction:false'"));
	strata_lint__report_clear(&r);
}

/* What build and lint read SQL as: a name, or the engine a URL names (never connected to). */
static void test_dialect_parse(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_dialect d;
	(void)state;
	assert_int_equal(strata_dialect_parse(&d, "sqlite", &e), 0);
	assert_int_equal(d, STRATA_DIALECT_SQLITE);
	assert_int_equal(strata_dialect_parse(&d, "postgres", &e), 0);
	assert_int_equal(d, STRATA_DIALECT_POSTGRES);
	assert_int_equal(strata_dialect_parse(&d, strata_url_engine("sqlite:strata.db"), &e), 0);
	assert_int_equal(d, STRATA_DIALECT_SQLITE);
	assert_int_equal(
	    strata_dialect_parse(&d, strata_url_engine("postgres://u:secret@h/db"), &e), 0);
	assert_int_equal(d, STRATA_DIALECT_POSTGRES);
	assert_int_equal(strata_dialect_parse(&d, strata_url_engine("host=h dbname=x"), &e), 0);
	assert_int_equal(d, STRATA_DIALECT_POSTGRES);
	assert_null(strata_url_engine("mysql://h/db"));
	assert_int_equal(strata_dialect_parse(&d, "mysql", &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "unknown SQL dialect 'mysql'");
	assert_string_equal(strata_dialect_name(STRATA_DIALECT_POSTGRES), "postgres");
	assert_string_equal(strata_dialect_name(STRATA_DIALECT_SQLITE), "sqlite");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules_table_is_complete),
	    cmocka_unit_test_setup_teardown(test_each_rule_on_its_examples, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finding_place_and_subject, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_tables_are_free, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_false_allows_concurrently, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_nolint, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_timeout_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pg_syntax_error_place, setup, teardown),
	    cmocka_unit_test(test_pg_split_offsets),
	    cmocka_unit_test_setup_teardown(test_sqlite_check, setup, teardown),
	    cmocka_unit_test(test_dialect_parse),
	};
	return cmocka_run_group_tests_name("lint", tests, NULL, NULL);
}
