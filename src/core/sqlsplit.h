/*
 * sqlsplit.h: the statements of a migration section, one at a time, by the dialect's own
 * tokenizer, in memory bounded by the largest statement rather than the file; and the one check,
 * shared by build, lint and run on both engines, that a section strata runs in a transaction
 * does not begin or end a transaction of its own.
 *
 * PostgreSQL: libpg_query's scanner (pg_query_split_with_scanner) splits a window of the text at
 * a time (64 KiB, larger while no statement ends inside it); the statement cut by the window's
 * end starts the next window. As psql does, a CREATE FUNCTION or PROCEDURE with a BEGIN ATOMIC
 * body stays one statement: the scanner splits it at the body's ';', so pieces are joined again
 * while the server's grammar says the statement stopped at the end of its input. Text the
 * scanner does not count as a statement (no keyword, as in a typo 'selec 1;', or unbalanced
 * parentheses) is kept, at the start of the next statement or as the last one, so the parser
 * (build) or the server (run) reports it.
 *
 * SQLite: sqlite3_complete, SQLite's own tokenizer, tried at each ';' from the statement's start
 * (a ';' inside a string, a comment or a trigger body does not end it), on a copy of that one
 * statement. A statement with k semicolons inside it is read k times, as the sqlite3 shell does.
 *
 * Transaction control: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK (without TO), ABORT,
 * PREPARE TRANSACTION, COMMIT PREPARED and ROLLBACK PREPARED end, start or hand off the
 * transaction the migration and its history row run in, so a transactional section may not hold
 * them. SAVEPOINT, RELEASE and ROLLBACK TO stay inside that transaction and are allowed. A
 * transaction:false section may hold anything.
 */
#ifndef STRATA_CORE_SQLSPLIT_H
#define STRATA_CORE_SQLSPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/migration.h"
#include "strata.h"

/* One statement. Offsets are bytes from the start of the section's SQL:
 *   lead  where its text begins, past the previous statement's ';' (0 for the first);
 *   off   where the statement begins: blanks, comments and empty statements skipped;
 *   end   just past its ';', or the end of the section;
 *   text  [off, end), NUL-terminated: the splitter's, valid until its next call. */
typedef struct strata_sql_piece {
	size_t lead, off, end;
	const char *text;
} strata_sql_piece;

typedef struct strata_sql_split strata_sql_split;

/* A splitter over section s (which must outlive it). */
int strata_sql_split_new(strata_sql_split **out, strata_dialect d, const strata_section *s,
                         strata_error *e);
/* 1 and *out: the next statement; 0: there is none. PostgreSQL: STRATA_EINVALID, with e at
 * file:line:col, when the scanner fails (an unterminated quoted string or comment). */
int strata_sql_split_next(strata_sql_split *sp, strata_sql_piece *out, strata_error *e);
void strata_sql_split_free(strata_sql_split *sp);
/* For tests: the first window's size in bytes (PostgreSQL), and how many bytes were handed to
 * the tokenizer so far (linear in the section's length, whatever the window). */
void strata_sql_split__window(strata_sql_split *sp, size_t bytes);
size_t strata_sql_split__scanned(const strata_sql_split *sp);

/* The first offset at or after `off` (and before `end`) that is not white space or a comment
 * as the dialect reads them: PostgreSQL nests block comments and ends a '--' comment at a CR or
 * LF; SQLite does neither (and ends an unterminated block comment at the end of its input). */
size_t strata_sql_skip_blank(strata_dialect d, const char *s, size_t off, size_t end);

/* The transaction-control statement that the statement text[0, len) is, as its canonical name
 * ("BEGIN", "START TRANSACTION", "COMMIT", "COMMIT PREPARED", "END", "ROLLBACK", "ROLLBACK
 * PREPARED", "ABORT", "PREPARE TRANSACTION"), or NULL for any other statement, SAVEPOINT,
 * RELEASE and ROLLBACK TO included. Reads only its first words. */
const char *strata_sql_txn_control(strata_dialect d, const char *text, size_t len);

/* The error for statement `kind` at byte `off` of section s (the up section when `up`), which
 * runs in a transaction: the migration's own, or with `run_txn` the one transaction of a
 * '--transaction all' run. Places e at file:line:col, with the hint. Returns STRATA_EINVALID. */
int strata_sql_txn_error(const strata_section *s, bool up, size_t off, const char *kind,
                         bool run_txn, strata_error *e);

/* Whether section s has, as a word of its own, the first word of a transaction-control statement
 * (BEGIN, START, END, ABORT, COMMIT, ROLLBACK, PREPARE): without one it holds none, however it
 * is read; with one, strata_sql_check_txn splits it to tell. */
bool strata_sql_may_hold_txn_control(const strata_section *s);

/* Fails with strata_sql_txn_error at the first transaction-control statement of section s, which
 * is to run in a transaction. Splits with the dialect's tokenizer, only a section that has the
 * first word of such a statement somewhere as a word of its own; parses nothing (run). */
int strata_sql_check_txn(const strata_section *s, bool up, strata_dialect d, bool run_txn,
                         strata_error *e);

#endif
