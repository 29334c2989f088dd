/*
 * sqlcheck.h: parse every migration with the real parser of its SQL dialect, before anything is
 * written or any database is touched.
 *
 * PostgreSQL: libpg_query (the PostgreSQL 15 server's own grammar) parses each section, up and
 * down, into statements with exact offsets and a parse tree for lint (src/core/lint.c). Nothing
 * is resolved: tables and columns need not exist. A syntax error is reported at its file, line
 * and column.
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

/* "postgres" (also "postgresql", "pg") or "sqlite" (also "sqlite3"); STRATA_EINVALID otherwise. */
int strata_dialect_parse(strata_dialect *out, const char *name, strata_error *e);
/* "postgres" or "sqlite". */
const char *strata_dialect_name(strata_dialect d);
/* The dialect to check migrations as: `name` when set (--dialect, or "dialect" in the config),
 * else the kind of database_url (parsed, never connected to), else sqlite. */
int strata_dialect_pick(strata_dialect *out, const char *name, const char *database_url,
                        strata_error *e);

/* One statement of a section. Offsets are bytes from the start of the section's SQL. */
typedef struct strata_sql_stmt {
	size_t lead;      /* where the text before it begins (past the previous statement's ';'):
	                     its leading comments, where '-- strata:nolint' is looked for */
	size_t off;       /* where the statement itself begins (blanks and comments skipped) */
	size_t len;       /* up to its end, without the ';' and trailing blanks */
	const char *kind; /* the parse node's name, for example "IndexStmt" */
	yajl_val node;    /* that node's fields; owned by the parsed section */
} strata_sql_stmt;

typedef struct strata_pg_section {
	const strata_section *sec;
	strata_sql_stmt *stmts; /* owned */
	size_t n;
	yajl_val tree; /* owned: the whole parse tree */
} strata_pg_section;

/* PostgreSQL: parses one section. On a syntax error, returns STRATA_EINVALID with e at the
 * file:line:col of the error, with the source line. */
int strata_sqlcheck_pg(strata_pg_section *out, const strata_section *s, strata_error *e);
void strata_pg_section_free(strata_pg_section *p);

/* SQLite: checks every migration of c, as described above. */
int strata_sqlcheck_sqlite(const strata_catalog *c, strata_error *e);

#endif
