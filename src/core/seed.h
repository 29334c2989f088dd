/*
 * seed.h: `strata seed`, engine-independent: which files to load, the tables they name (read
 * from the database's catalogue through the seed engine), foreign-key order, nested rows, and
 * the strata_seeds record. The JSON side is in seed_json.h; each engine's loader is in
 * src/engine/<name>/<name>_seed.c behind core/seed_engine.h.
 *
 * The run is in seed.c, the tables in seed_table.c and the row writer in seed_write.c (what
 * they share: seed_load.h).
 *
 * How a run goes (all in one transaction):
 *   1. every file is scanned (pass 1): well-formed, hashed, sections found;
 *   2. strata_seeds says which files are new, unchanged (skipped) or changed (refused unless
 *      force);
 *   3. every section's table is described, and the sections of all files are ordered so that a
 *      table comes after every table its rows (nested rows included) reference;
 *   4. each section is streamed again from the file (pass 2) and written row by row: flat rows
 *      in bulk (COPY on PostgreSQL), a row with nested rows with INSERT ... RETURNING, its
 *      children right after it with their foreign key filled from it;
 *   5. the files are recorded and the transaction commits (or rolls back for a dry run).
 */
#ifndef STRATA_CORE_SEED_H
#define STRATA_CORE_SEED_H

#include <stdbool.h>
#include <stddef.h>

#include "strata.h"

#define STRATA_SEEDS_TABLE "strata_seeds"

typedef enum {
	STRATA_SEED_COL_PLAIN,
	STRATA_SEED_COL_BOOL,
	STRATA_SEED_COL_JSON,  /* json, jsonb (SQLite: a declared type containing JSON) */
	STRATA_SEED_COL_ARRAY, /* a PostgreSQL array */
} strata_seed_col_type;

typedef struct strata_seed_column {
	char *name;
	char *sql; /* quoted identifier */
	strata_seed_col_type type;
} strata_seed_column;

typedef struct strata_seed_fk {
	char *ref_key;  /* the referenced table's identity (see strata_seed_table.key) */
	char *ref_name; /* for messages */
	size_t n;
	size_t *cols;    /* this table's columns (indexes into cols) */
	char **ref_cols; /* the referenced columns' names */
} strata_seed_fk;

typedef struct strata_seed_table {
	char *name; /* as the seed file names it */
	char *key;  /* identity: the oid on PostgreSQL, the lower-case name on SQLite */
	char *sql;  /* quoted, schema-qualified, for SQL */
	strata_seed_column *cols;
	size_t ncols;
	size_t *pk; /* primary-key columns */
	size_t npk;
	strata_seed_fk *fks;
	size_t nfks;
	size_t rows;    /* written in this run */
	unsigned order; /* first write, for the report (0: none yet) */
	bool nocase;    /* column names match case-insensitively (SQLite) */
} strata_seed_table;

void strata_seed_table_free(strata_seed_table *t);
/* The column called name (exact match; SQLite: case-insensitive), or -1. */
long strata_seed_table_col(const strata_seed_table *t, const char *name);

/* Frees what r holds (files, tables), not r itself nor r->migrated. */
void strata_seed__report_clear(strata_seed_report *r);

typedef struct strata_seed_opts {
	const char *const *files;
	size_t nfiles;
	strata_seed_conflict conflict;
	bool force;   /* load a changed file again */
	bool dry_run; /* do everything, then roll back */
} strata_seed_opts;

struct strata_conn;
struct strata_seed_scan;

/* Pass 1 over every file of o (well-formed, shaped as a seed, hashed), before the database is
 * touched. *out holds o->nfiles scans; free them with strata_seed_scans_free. */
int strata_seed_scan_files(struct strata_seed_scan **out, const strata_seed_opts *o,
                           strata_error *e);
void strata_seed_scans_free(struct strata_seed_scan *scans, size_t n);

/* Loads the scanned files through connection b (which the caller has locked) and fills the
 * seed's part of r (files, tables, rows, times; migrated and pending are the caller's). On
 * failure nothing is written and e names the file:line:col of the offending row or column
 * where there is one. */
int strata_seed_run(struct strata_conn *b, const strata_seed_opts *o,
                    const struct strata_seed_scan *scans, strata_seed_report *r, strata_error *e);

#endif
