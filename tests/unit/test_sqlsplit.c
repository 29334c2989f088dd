/* test_sqlsplit.c: splitting a section into statements with each dialect's own tokenizer, in
 * windows, with work linear in its length (src/core/sqlsplit.c); the transaction-control check
 * shared by build, lint and run; and, on SQLite, that neither build nor run hands SQLite a copy
 * of the rest of the section for each statement (what made both quadratic). */
#include "unit.h"

#include <sqlite3.h>

#include "core/catalog.h"
#include "core/engine.h"
#include "core/runner.h"
#include "core/sqlcheck.h"
#include "core/sqlsplit.h"

#define PG STRATA_DIALECT_POSTGRES
#define SQ STRATA_DIALECT_SQLITE

static strata_section section_of(const char *text)
{
	strata_section s = {0};
	s.present = true;
	s.file = "mem/1-A.sql";
	s.text = text;
	s.len = strlen(text);
	return s;
}

struct pieces {
	char out[8192]; /* each statement's text, then '|' */
	size_t n;
	int rc; /* 0, or the error */
	strata_error e;
	size_t scanned;
};

/* Splits text with the dialect (window 0: the default), checking what every piece promises. */
static void split_all(struct pieces *p, strata_dialect d, const char *text, size_t window)
{
	strata_section s = section_of(text);
	strata_sql_split *sp = NULL;
	strata_sql_piece pc;
	size_t used = 0, last_end = 0;
	int more;

	memset(p, 0, sizeof(*p));
	assert_int_equal(strata_sql_split_new(&sp, d, &s, &p->e), 0);
	if (window)
		strata_sql_split__window(sp, window);
	while ((more = strata_sql_split_next(sp, &pc, &p->e)) > 0) {
		size_t n = pc.end - pc.off;
		assert_int_equal(pc.lead, last_end); /* nothing skipped, nothing read twice */
		assert_true(pc.lead <= pc.off && pc.off < pc.end && pc.end <= s.len);
		assert_memory_equal(pc.text, text + pc.off, n);
		assert_int_equal(pc.text[n], '\0');
		assert_true(used + n + 2 < sizeof(p->out));
		memcpy(p->out + used, pc.text, n);
		used += n;
		p->out[used++] = '|';
		p->n++;
		last_end = pc.end;
	}
	p->out[used] = '\0';
	p->rc = more;
	p->scanned = strata_sql_split__scanned(sp);
	strata_sql_split_free(sp);
}

static void test_pg_statements(void **state)
{
	struct pieces p;
	(void)state;
	split_all(&p, PG,
	          "-- c\nselect 1;;\n  insert into t values ('a;b'); /* x; /* nested; */ */ "
	          "select $f$;$f$ ;\nselect E'\\';', \"a;b\" from t;\n"
	          "create table t (a int, b text default ';')",
	          0);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.out, "select 1;|insert into t values ('a;b');|select $f$;$f$ ;|"
	                           "select E'\\';', \"a;b\" from t;|"
	                           "create table t (a int, b text default ';')|");
	assert_int_equal(p.n, 5);
	/* text the scanner counts as no statement (no keyword) is kept: the parser or the
	 * server reports it, in front of the next statement or at the end */
	split_all(&p, PG, "select 1; selec 2; select 3; selec", 0);
	assert_string_equal(p.out, "select 1;|selec 2; select 3;|selec|");
	split_all(&p, PG, "select (1; select 2", 0);
	assert_string_equal(p.out, "select (1; select 2|");
	split_all(&p, PG, "  -- nothing\n ; ; /* at all */ ", 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 0);
	split_all(&p, PG, "", 0);
	assert_int_equal(p.n, 0);
	/* PostgreSQL's scanner ends a '--' comment at a CR as well: the statement after it is
	 * one (found by fuzzing: it was taken for part of the comment and dropped) */
	split_all(&p, PG, "-- c\rselect 1; -- d\rselect 2", 1);
	assert_string_equal(p.out, "select 1;|select 2|");
	split_all(&p, SQ, "-- c\rselect 1;\nselect 2", 0);
	assert_string_equal(p.out, "select 2|");
}

/* A window that ends in a quoted string of invalid UTF-8 still ends (found by fuzzing: the
 * scanner's error position, in characters, mapped back to the same window again and again). */
static void test_pg_window_progress(void **state)
{
	static const char text[] = "select 1; create furn\x97\xdf\x96\x91ng' sql; select 2;";
	(void)state;
	for (size_t win = 1; win < sizeof(text); win++) {
		struct pieces p;
		split_all(&p, PG, text, win);
		assert_int_equal(p.rc, STRATA_EINVALID);
		assert_non_null(strstr(p.e.msg, "unterminated quoted string"));
	}
}

/* A BEGIN ATOMIC body holds ';': the statement stays whole, as psql and the server read it. */
static void test_pg_begin_atomic(void **state)
{
	struct pieces p;
	(void)state;
	split_all(&p, PG,
	          "create function f() returns int language sql begin atomic select 1; select 2; "
	          "end; select 3;\nCREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC "
	          "insert into t values (1); delete from t; END;\nend;",
	          0);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.out,
	                    "create function f() returns int language sql begin atomic select 1; "
	                    "select 2; end;|select 3;|CREATE OR REPLACE PROCEDURE p() LANGUAGE sql "
	                    "BEGIN ATOMIC insert into t values (1); delete from t; END;|end;|");
	/* a body with CASE ... END inside */
	split_all(&p, PG,
	          "create function g(x int) returns int language sql begin atomic select case when "
	          "x > 0 then 1 else 2 end; end; select 4;",
	          0);
	assert_string_equal(p.out, "create function g(x int) returns int language sql begin atomic "
	                           "select case when x > 0 then 1 else 2 end; end;|select 4;|");
	/* no END before the end of the section: left as the scanner split it */
	split_all(&p, PG,
	          "create function f() returns int language sql begin atomic select 1; select 2;",
	          0);
	assert_string_equal(p.out, "create function f() returns int language sql begin atomic "
	                           "select 1;|select 2;|");
}

/* Windows of any size give the same statements as one window over everything. */
static void test_pg_windows(void **state)
{
	static const char *const texts[] = {
	    "-- c\nselect 1;;\n  insert into t values ('a;b'); /* x; /* nested; */ */ select "
	    "$f$;$f$ ;\nselect E'\\';', \"a;b\" from t; select 'été; ça';\ncreate table t (a int)",
	    "select 1; selec 2; select 3; selec",
	    "create function f() returns int language sql begin atomic select 1; select 2; end; "
	    "select 3; create function h() returns int as $$ select 1; $$ language sql;",
	    "select 1; -- a comment; with ; semicolons\nselect 2 /* and; */;\n\n",
	    "select (1; select 2",
	};
	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		struct pieces whole, w;
		split_all(&whole, PG, texts[t], 1 << 20);
		assert_int_equal(whole.rc, 0);
		for (size_t win = 1; win <= strlen(texts[t]) + 1; win++) {
			split_all(&w, PG, texts[t], win);
			if (w.rc != 0 || strcmp(w.out, whole.out) != 0)
				fail_msg("window %zu of text %zu: rc %d, %s\nwanted %s", win, t,
				         w.rc, w.out, whole.out);
		}
	}
}

/* An unterminated string or comment is the scanner's error, at its place, whatever the window. */
static void test_pg_scanner_error(void **state)
{
	const char *text = "select 1;\nselect 2, 'abc;\nselect 3;\n";
	(void)state;
	for (size_t win = 1; win <= strlen(text) + 1; win++) {
		struct pieces p;
		split_all(&p, PG, text, win);
		assert_int_equal(p.rc, STRATA_EINVALID);
		assert_string_equal(p.e.msg, "unterminated quoted string at or near \"'abc;\n"
		                             "select 3;\n\"");
		assert_int_equal(p.e.line, 2);
		assert_int_equal(p.e.column, 11);
		assert_string_equal(p.e.source_line, "select 2, 'abc;");
	}
}

static void test_sqlite_statements(void **state)
{
	struct pieces p;
	(void)state;
	split_all(&p, SQ,
	          "create table t (a);\ninsert into t values ('x;y'); -- c;\n/* c; */ create "
	          "trigger tr after insert on t begin insert into u values (1); delete from u; "
	          "end;\n;;\n/* a /* b */ select \"a;\" ;\nselect 1",
	          0);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.out,
	                    "create table t (a);|insert into t values ('x;y');|create trigger "
	                    "tr after insert on t begin insert into u values (1); delete "
	                    "from u; end;|select \"a;\" ;|select 1|");
	assert_int_equal(p.n, 5);
	split_all(&p, SQ, "-- only a comment\n/* unterminated", 0);
	assert_int_equal(p.n, 0);
}

/* The work is linear in the section: each byte goes to the tokenizer a bounded number of times
 * (the old splitters copied the rest of the section for every statement). */
static void test_linear_work(void **state)
{
	size_t n = 40000, cap = n * 64, len = 0;
	char *text = malloc(cap);
	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "insert into t values (%zu, 'a;b', $$c;$$);\n", i);
	for (int d = 0; d < 3; d++) {
		strata_section s = section_of(text);
		strata_sql_split *sp = NULL;
		strata_sql_piece pc;
		strata_error e = STRATA_ERROR_INIT;
		size_t count = 0;
		int more;
		/* SQLite reads $$c;$$ as a name, whose ';' ends nothing: skip that column there */
		if (d == 2)
			for (size_t i = 0; i + 6 <= len; i++)
				if (memcmp(text + i, "$$c;$$", 6) == 0)
					memcpy(text + i, "'c;x' ", 6);
		assert_int_equal(strata_sql_split_new(&sp, d == 2 ? SQ : PG, &s, &e), 0);
		if (d == 1)
			strata_sql_split__window(sp, 4096);
		/* checked as it goes, so that a quadratic splitter fails at once */
		while ((more = strata_sql_split_next(sp, &pc, &e)) > 0) {
			count++;
			if (strata_sql_split__scanned(sp) > 3 * len)
				fail_msg("dialect %d: %zu bytes scanned by statement %zu of a "
				         "section of %zu bytes",
				         d, strata_sql_split__scanned(sp), count, len);
		}
		assert_int_equal(more, 0);
		assert_int_equal(count, n);
		strata_sql_split_free(sp);
	}
	free(text);
}

static void test_txn_control_words(void **state)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
	    {"begin", "BEGIN"},
	    {"BEGIN WORK", "BEGIN"},
	    {"begin transaction isolation level serializable", "BEGIN"},
	    {"BEGIN IMMEDIATE TRANSACTION", "BEGIN"},
	    {"Start Transaction", "START TRANSACTION"},
	    {"commit", "COMMIT"},
	    {"commit and chain", "COMMIT"},
	    {"COMMIT PREPARED 'x'", "COMMIT PREPARED"},
	    {"end", "END"},
	    {"END TRANSACTION", "END"},
	    {"rollback", "ROLLBACK"},
	    {"rollback work", "ROLLBACK"},
	    {"ROLLBACK AND NO CHAIN", "ROLLBACK"},
	    {"rollback prepared 'x'", "ROLLBACK PREPARED"},
	    {"abort", "ABORT"},
	    {"prepare transaction 'x'", "PREPARE TRANSACTION"},
	    {"/* c */ -- d\n  commit", "COMMIT"},
	    /* within the transaction: allowed */
	    {"savepoint s", NULL},
	    {"release s", NULL},
	    {"release savepoint s", NULL},
	    {"rollback to s", NULL},
	    {"rollback to savepoint s", NULL},
	    {"ROLLBACK TRANSACTION TO SAVEPOINT s", NULL},
	    {"rollback work to s", NULL},
	    {"rollback /* x */ to s", NULL},
	    /* not transaction control at all */
	    {"prepare transaction as select 1", NULL},
	    {"prepare transaction (int) as select $1", NULL},
	    {"prepare q as select 1", NULL},
	    {"select 'begin'", NULL},
	    {"\"begin\"", NULL},
	    {"committed", NULL},
	    {"create trigger x after insert on t begin select 1; end", NULL},
	    {"create function f() returns int language sql begin atomic select 1; end", NULL},
	    {"start", NULL},
	    {"", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int d = SQ; d <= PG; d++) {
			const char *got = strata_sql_txn_control((strata_dialect)d, cases[i].sql,
			                                         strlen(cases[i].sql));
			if (!cases[i].want ? got != NULL : !got || strcmp(got, cases[i].want) != 0)
				fail_msg("'%s' (dialect %d): got %s, wanted %s", cases[i].sql, d,
				         got ? got : "NULL",
				         cases[i].want ? cases[i].want : "NULL");
		}
	}
}

static strata_migration *parse_mig(const char *path, const char *text)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = NULL;
	char *copy = strdup(text);
	size_t n = strlen(text);
	strata_file_kind kind = strstr(path, ".up.sql") ? STRATA_FILE_UP : STRATA_FILE_SINGLE;
	assert_non_null(copy);
	if (strata_migration_parse(&m, path, copy, n, kind, &e) < 0)
		fail_msg("fixture '%s': %s", path, e.msg);
	return m;
}

/* Splits section s (not a whole text) with the dialect, as split_all does. */
static void split_section(struct pieces *p, strata_dialect d, const strata_section *s)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece pc;
	size_t used = 0, last_end = 0;
	int more;
	memset(p, 0, sizeof(*p));
	assert_int_equal(strata_sql_split_new(&sp, d, s, &p->e), 0);
	while ((more = strata_sql_split_next(sp, &pc, &p->e)) > 0) {
		size_t n = pc.end - pc.off;
		assert_int_equal(pc.lead, last_end); /* nothing skipped */
		last_end = pc.end;
		assert_true(pc.lead <= pc.off && pc.off < pc.end && pc.end <= s->len);
		assert_memory_equal(pc.text, s->text + s->offset + pc.off, n);
		memcpy(p->out + used, pc.text, n);
		used += n;
		p->out[used++] = '|';
		p->n++;
	}
	p->out[used] = '\0';
	p->rc = more;
	strata_sql_split_free(sp);
}

/* goose's StatementBegin/StatementEnd: the block is one statement whatever its semicolons, on
 * both dialects; what is around it is split as ever; a section narrowed to the block (as a
 * transaction:false run sends it) is the block again. */
static void test_goose_blocks(void **state)
{
	struct pieces p;
	strata_migration *m =
	    parse_mig("mem/1_goose.sql", "-- +goose Up\n"
	                                 "create table t (a int); create table u (b int);\n"
	                                 "-- +goose StatementBegin\n"
	                                 "create trigger t_ai after insert on t begin\n"
	                                 "  select 1; select 2;\nend;\n"
	                                 "-- +goose StatementEnd\n"
	                                 "-- +goose StatementBegin\n"
	                                 "  -- nothing here\n"
	                                 "-- +goose StatementEnd\n"
	                                 "select 3;\n"
	                                 "-- +goose StatementBegin\n"
	                                 "select 4; select 5;\n"
	                                 "-- +goose StatementEnd\n");
	static const char *const want =
	    "create table t (a int);|create table u (b int);|"
	    "create trigger t_ai after insert on t begin\n  select 1; select 2;\nend;\n|"
	    "select 3;|select 4; select 5;\n|";
	(void)state;
	assert_int_equal(m->up.nblocks, 3);
	for (int d = SQ; d <= PG; d++) {
		split_section(&p, (strata_dialect)d, &m->up);
		assert_int_equal(p.rc, 0);
		assert_string_equal(p.out, want);
		assert_int_equal(p.n, 5);
	}
	/* narrowed to the first block's statement (and a bit less): still one statement */
	{
		strata_section one = m->up;
		one.offset = m->up.blocks[0];
		one.len = m->up.blocks[1] - m->up.blocks[0] - 1;
		for (int d = SQ; d <= PG; d++) {
			split_section(&p, (strata_dialect)d, &one);
			assert_int_equal(p.n, 1);
			assert_string_equal(p.out, "create trigger t_ai after insert on t begin\n"
			                           "  select 1; select 2;\nend;|");
		}
	}
	strata_migration_free(m);
}

static void test_check_txn(void **state)
{
	strata_migration *m;
	strata_error e = STRATA_ERROR_INIT;
	(void)state;
	m = parse_mig("mem/2-Gadgets.sql", "-- migrate:up\ncreate table g (a int);\n  COMMIT;\n"
	                                   "insert into nope values (1);\n-- migrate:down\n"
	                                   "begin;\ndrop table g;\n");
	for (int d = SQ; d <= PG; d++) {
		strata_error_clear(&e);
		assert_int_equal(strata_sql_check_txn(&m->up, true, (strata_dialect)d, false, &e),
		                 STRATA_EINVALID);
		assert_string_equal(e.msg, "COMMIT inside the transaction the migration runs in");
		assert_string_equal(e.file, "mem/2-Gadgets.sql");
		assert_int_equal(e.line, 3);
		assert_int_equal(e.column, 3);
		assert_string_equal(e.source_line, "  COMMIT;");
		assert_non_null(strstr(e.hint, "remove it"));
		assert_non_null(strstr(e.hint, "'-- migrate:up transaction:false'"));
		strata_error_clear(&e);
		assert_int_equal(
		    strata_sql_check_txn(&m->down, false, (strata_dialect)d, false, &e),
		    STRATA_EINVALID);
		assert_string_equal(e.msg, "BEGIN inside the transaction the migration runs in");
		assert_int_equal(e.line, 6);
		assert_non_null(strstr(e.hint, "'-- migrate:down transaction:false'"));
		/* the run's one transaction (one_transaction) */
		strata_error_clear(&e);
		assert_int_equal(strata_sql_check_txn(&m->up, true, (strata_dialect)d, true, &e),
		                 STRATA_EINVALID);
		assert_non_null(strstr(e.detail, "with one_transaction"));
		assert_non_null(strstr(e.hint, "one_transaction off"));
	}
	strata_migration_free(m);
	/* a golang-migrate file is marked with its first line */
	m = parse_mig("mem/3_gadgets.up.sql", "BEGIN;\ncreate table g (a int);\nCOMMIT;\n");
	strata_error_clear(&e);
	assert_int_equal(strata_sql_check_txn(&m->up, true, PG, false, &e), STRATA_EINVALID);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.column, 1);
	assert_non_null(strstr(e.hint, "'-- strata:no-transaction' the first line"));
	strata_migration_free(m);
	/* savepoints are fine, and so are a SQLite trigger and a BEGIN ATOMIC function */
	m = parse_mig("mem/4-Fine.sql",
	              "-- migrate:up\nsavepoint a;\nrollback to savepoint a;\nrelease a;\n");
	for (int d = SQ; d <= PG; d++)
		assert_int_equal(strata_sql_check_txn(&m->up, true, (strata_dialect)d, false, &e),
		                 0);
	strata_migration_free(m);
	m = parse_mig("mem/4-Fine.sql", "-- migrate:up\ncreate trigger tr after insert on t begin "
	                                "select 1; end;\n");
	assert_int_equal(strata_sql_check_txn(&m->up, true, SQ, false, &e), 0);
	/* (PostgreSQL has no such trigger body: its server reads an END there, and so do we) */
	assert_int_equal(strata_sql_check_txn(&m->up, true, PG, false, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "END inside the transaction the migration runs in");
	strata_migration_free(m);
	m = parse_mig("mem/5-Fn.sql", "-- migrate:up\ncreate function f() returns int language sql "
	                              "begin atomic select 1; end;\n");
	assert_int_equal(strata_sql_check_txn(&m->up, true, PG, false, &e), 0);
	strata_migration_free(m);
}

/* Every transaction-control statement is refused in a section, whichever first word it has:
 * the words that send a section to the splitter (may_hold_txn_control) cover them all. A section
 * without one is not split at all: what it holds goes to the database as it is. */
static void test_check_txn_words(void **state)
{
	static const char *const refused[] = {
	    "BEGIN",
	    "begin work",
	    "Start Transaction",
	    "COMMIT",
	    "end",
	    "commit prepared 'x'",
	    "rollback",
	    "ROLLBACK PREPARED 'x'",
	    "abort",
	    "Prepare Transaction 'x'",
	};
	strata_error e = STRATA_ERROR_INIT;
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char text[200];
		strata_migration *m;
		snprintf(text, sizeof(text),
		         "-- migrate:up\ncreate table legend (spend int);\n/* x */%s;\n",
		         refused[i]);
		m = parse_mig("mem/6-Words.sql", text);
		for (int d = SQ; d <= PG; d++) {
			strata_error_clear(&e);
			if (strata_sql_check_txn(&m->up, true, (strata_dialect)d, false, &e) !=
			    STRATA_EINVALID)
				fail_msg("'%s' (dialect %d) was not refused", refused[i], d);
			assert_int_equal(e.line, 3);
		}
		strata_migration_free(m);
	}
	/* no such word (legend, spend, begins, "end" as $$ quoting): not split, so an unterminated
	 * string is the server's to report */
	strata_migration *m =
	    parse_mig("mem/7-None.sql", "-- migrate:up\ncreate table legend (spend "
	                                "int, begins text default $end$x$end$);\n"
	                                "select 'unterminated;\n");
	for (int d = SQ; d <= PG; d++)
		assert_int_equal(strata_sql_check_txn(&m->up, true, (strata_dialect)d, false, &e),
		                 0);
	strata_migration_free(m);
}

/* goose's StatementBegin/End blocks go to the database whole, which runs every statement in
 * them: a transaction-control statement inside one is refused, where it is; the bodies that a
 * block holds together (a SQLite trigger, a BEGIN ATOMIC function, a dollar-quoted one) are not. */
static void test_check_txn_blocks(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_migration *m = parse_mig("mem/8_blocks.sql", "-- +goose Up\n"
	                                                    "-- +goose StatementBegin\n"
	                                                    "create table g_a (x int);\n"
	                                                    "  commit;\n"
	                                                    "create table g_b (x int);\n"
	                                                    "-- +goose StatementEnd\n");
	(void)state;
	for (int d = SQ; d <= PG; d++) {
		strata_error_clear(&e);
		assert_int_equal(strata_sql_check_txn(&m->up, true, (strata_dialect)d, false, &e),
		                 STRATA_EINVALID);
		assert_string_equal(e.msg, "COMMIT inside the transaction the migration runs in");
		assert_int_equal(e.line, 4);
		assert_int_equal(e.column, 3);
	}
	strata_migration_free(m);
	m = parse_mig("mem/9_trigger.sql", "-- +goose Up\n"
	                                   "-- +goose StatementBegin\n"
	                                   "create trigger t_ai after insert on t begin\n"
	                                   "  select 1; select 2;\nend;\n"
	                                   "-- +goose StatementEnd\n");
	assert_int_equal(strata_sql_check_txn(&m->up, true, SQ, false, &e), 0);
	strata_migration_free(m);
	m = parse_mig("mem/10_fn.sql", "-- +goose Up\n"
	                               "-- +goose StatementBegin\n"
	                               "create function f() returns int language sql\n"
	                               "begin atomic select 1; end;\n"
	                               "create function g() returns int language plpgsql as $$\n"
	                               "begin return 1; end $$;\n"
	                               "-- +goose StatementEnd\n");
	assert_int_equal(strata_sql_check_txn(&m->up, true, PG, false, &e), 0);
	strata_migration_free(m);
}

/* A section of n statements that store nothing (so SQLite's memory is only what it is handed). */
static char *select_section(size_t n, size_t *len_out)
{
	size_t cap = 64 + n * 40, len;
	char *text = malloc(cap);
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "-- migrate:up\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "select 'a;b', %zu;\n", i);
	len += (size_t)snprintf(text + len, cap - len, "-- migrate:down\nselect 1;\n");
	*len_out = len;
	return text;
}

/* Building and applying a big SQLite section: SQLite's own memory stays far below the section's
 * size. Handing sqlite3_prepare_v2 the rest of the section without its NUL terminator made it
 * copy all of it, for each statement: 1.6 MB here, 8 MB copied 60,000 times in issue 10. */
static void test_sqlite_no_copy_of_the_rest(void **state)
{
	char *dir = unit_mkdtemp(), url[4200];
	size_t len;
	char *text = select_section(60000, &len);
	strata_migration *m = parse_mig("mem/1-Big.sql", text);
	strata_catalog c = {0};
	strata_dburl u = {0};
	strata_conn *b = NULL;
	strata_history h = {0};
	strata_step step = {.m = m, .dir = STRATA_UP};
	strata_plan plan = {.steps = &step, .n = 1};
	strata_run_opts ro = {0};
	strata_run_result rr = {0};
	strata_error e = STRATA_ERROR_INIT;
	sqlite3_int64 peak;
	(void)state;

	c.items = &m;
	c.n = 1;
	sqlite3_memory_highwater(1);
	assert_int_equal(strata_sqlcheck_sqlite(NULL, &c, &e), 0);
	peak = sqlite3_memory_highwater(1);
	assert_true(peak > 0); /* SQLite counts its memory (main() asks it to) */
	if ((size_t)peak > len / 4)
		fail_msg("build: SQLite's memory peaked at %lld for a section of %zu",
		         (long long)peak, len);

	snprintf(url, sizeof(url), "sqlite:%s/x.db", dir);
	assert_int_equal(strata_dburl_parse(&u, url, &e), 0);
	assert_int_equal(strata_conn_open(&b, &u, 0, &e), 0);
	assert_int_equal(b->engine->history_load(b, &h, STRATA_HISTORY_CREATE, &e), 0);
	sqlite3_memory_highwater(1);
	assert_int_equal(strata_runner_execute(b, &plan, &ro, &rr, &e), 0);
	assert_int_equal(rr.done, 1);
	peak = sqlite3_memory_highwater(1);
	if ((size_t)peak > len / 4)
		fail_msg("run: SQLite's memory peaked at %lld for a section of %zu",
		         (long long)peak, len);
	strata_history_free(&h);
	strata_conn_close(b);
	strata_dburl_free(&u);
	strata_migration_free(m);
	free(text);
	unit_rmtree(dir);
}

/* The run refuses before anything is sent: no step applied, the failing one named. */
static void test_runner_refuses_first(void **state)
{
	char *dir = unit_mkdtemp(), url[4200];
	strata_migration *ms[2];
	strata_step steps[2];
	strata_plan plan = {.steps = steps, .n = 2};
	strata_dburl u = {0};
	strata_conn *b = NULL;
	strata_history h = {0};
	strata_error e = STRATA_ERROR_INIT;
	(void)state;

	ms[0] = parse_mig("mem/1-Ok.sql", "-- migrate:up\ncreate table ok (a int);\n");
	ms[1] = parse_mig("mem/2-Gadgets.sql", "-- migrate:up\nBEGIN;\ncreate table gadgets (a "
	                                       "int);\nCOMMIT;\ninsert into nope values (1);\n");
	for (int i = 0; i < 2; i++)
		steps[i] = (strata_step){.m = ms[i], .dir = STRATA_UP};
	snprintf(url, sizeof(url), "sqlite:%s/x.db", dir);
	assert_int_equal(strata_dburl_parse(&u, url, &e), 0);
	assert_int_equal(strata_conn_open(&b, &u, 0, &e), 0);
	assert_int_equal(b->engine->history_load(b, &h, STRATA_HISTORY_CREATE, &e), 0);
	for (int all = 0; all < 2; all++) {
		strata_run_opts ro = {0};
		strata_run_result rr = {0};
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		char path[4200];
		ro.one_transaction = all;
		strata_error_clear(&e);
		assert_int_equal(strata_runner_execute(b, &plan, &ro, &rr, &e), STRATA_EINVALID);
		assert_int_equal(rr.failed, 1);
		assert_int_equal(rr.done, 0);
		assert_string_equal(e.msg, "BEGIN inside the transaction the migration runs in");
		assert_int_equal(e.line, 2);
		/* nothing of either migration is in the file, seen from another connection */
		snprintf(path, sizeof(path), "%s/x.db", dir);
		assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(
		    sqlite3_prepare_v2(db,
		                       "select (select count(*) from sqlite_master where "
		                       "name in ('ok', 'gadgets')), (select count(*) "
		                       "from strata_migrations)",
		                       -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 0);
		assert_int_equal(sqlite3_column_int(st, 1), 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	strata_history_free(&h);
	strata_conn_close(b);
	strata_dburl_free(&u);
	strata_migration_free(ms[0]);
	strata_migration_free(ms[1]);
	unit_rmtree(dir);
}

int main(void)
{
	/* SQLite's memory statistics, for test_sqlite_no_copy_of_the_rest (off by default in
	 * some builds; set before SQLite initialises) */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pg_statements),
	    cmocka_unit_test(test_pg_begin_atomic),
	    cmocka_unit_test(test_pg_windows),
	    cmocka_unit_test(test_pg_scanner_error),
	    cmocka_unit_test(test_pg_window_progress),
	    cmocka_unit_test(test_sqlite_statements),
	    cmocka_unit_test(test_linear_work),
	    cmocka_unit_test(test_txn_control_words),
	    cmocka_unit_test(test_goose_blocks),
	    cmocka_unit_test(test_check_txn),
	    cmocka_unit_test(test_check_txn_words),
	    cmocka_unit_test(test_check_txn_blocks),
	    cmocka_unit_test(test_sqlite_no_copy_of_the_rest),
	    cmocka_unit_test(test_runner_refuses_first),
	};
	return cmocka_run_group_tests_name("sqlsplit", tests, NULL, NULL);
}
