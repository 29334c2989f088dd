/*
 * sqlcheck.h: parse every migration with the real parser of its SQL dialect, before anything is
 * written or any database is touched.
 *
 * PostgreSQL: libpg_query (the PostgreSQL 15 server's own grammar) parses each section, up and
 * down, statement by statement, into exact offsets and a parse tree for lint (src/core/lint.c).
 * Nothing is resolved: tables and columns need not exist. A syntax error is reported at its file,
 * line and column.
 *
 * SQLite: SQLite's parser is sqlite3_prepare_v2, which also resolves names (a table must exist
 * to prepare an INSERT into it). So the check applies every migration's up section, in version
 * order, to a private in-memory database, as 'migrations run' would on an empty database
 * (transactional sections inside a savepoint, so that statements that cannot run in a transaction
 * fail here as they would there). Each down section is then run inside a savepoint that is rolled
 * back, against the state its up section left. An error when a statement runs (a constraint on
 * the migration's own rows) counts too: it would fail on a fresh database. ATTACH and DETACH are
 * parsed but never run (they would touch files).
 */
#ifndef STRATA_CORE_SQLCHECK_H
#define STRATA_CORE_SQLCHECK_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "core/catalog.h"
#include "core/sqlsplit.h"
#include "strata.h"

/* strata_dialect_parse and strata_dialect_name are public (strata.h). */

/* One statement of a section. Offsets are bytes from the start of the section's SQL. */
typedef struct strata_sql_stmt {
	size_t lead;      /* where the text before it begins (past the previous statement's ';'):
	                     its leading comments, where '-- strata:nolint' is looked for */
	size_t off;       /* where the statement itself begins (blanks and comments skipped) */
	size_t len;       /* up to its end, without the ';' and trailing blanks */
	size_t base;      /* where the parsed text began: node "location"s count from here */
	const char *kind; /* the parse node's name, for example "IndexStmt" */
	yajl_val node;    /* that node's fields; the parser's, valid until its next call */
} strata_sql_stmt;

/* PostgreSQL: the statements of one section, parsed one at a time (core/sqlsplit.h splits them),
 * so memory holds one statement's parse tree, not the file's. */
typedef struct strata_pg_parser strata_pg_parser;

int strata_pg_parser_new(strata_pg_parser **out, const strata_section *s, strata_error *e);
/* 1 and *out: the next statement; 0 after the last one; STRATA_EINVALID on a syntax error, with e
 * at the file:line:col of the error and the source line. */
int strata_pg_parser_next(strata_pg_parser *p, strata_sql_stmt *out, strata_error *e);
void strata_pg_parser_free(strata_pg_parser *p);

/* SQLite: checks every migration of c, as described above. */
/* base (optional): migrations c builds on (other sources of the project, a plugin's core), whose
 * up sections are applied first, in version order among c's, and are not themselves checked
 * further. */
int strata_sqlcheck_sqlite(const strata_catalog *base, const strata_catalog *c, strata_error *e);
/* The same one migration at a time, in version order (a catalog read entry by entry): open
 * makes the empty database, add checks the next migration on top of those before it (and of
 * base's before it). */
typedef struct strata_sqlcheck strata_sqlcheck;
int strata_sqlcheck_sqlite_open(strata_sqlcheck **out, const strata_catalog *base, strata_error *e);
int strata_sqlcheck_sqlite_add(strata_sqlcheck *k, const strata_migration *m, strata_error *e);
void strata_sqlcheck_sqlite_close(strata_sqlcheck *k);

#endif
