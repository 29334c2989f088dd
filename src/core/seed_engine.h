/*
 * seed_engine.h: what an engine provides to seeding (core/seed*.c), the part of the engine
 * interface (core/engine.h: strata_engine.seed) that loads rows. Each engine's loader works on
 * its own connection (src/engine/<name>/<name>_seed.c).
 */
#ifndef STRATA_CORE_SEED_ENGINE_H
#define STRATA_CORE_SEED_ENGINE_H

#include "core/engine.h"
#include "core/seed.h"
#include "util/buf.h"

#define STRATA_SEED_OPS_VERSION 1

typedef struct strata_seed_be strata_seed_be; /* an engine's loader state */

typedef enum {
	STRATA_SEED_V_NULL,
	STRATA_SEED_V_TEXT,   /* a string, or JSON text / an array literal for a composite */
	STRATA_SEED_V_NUMBER, /* as written in the file */
	STRATA_SEED_V_BOOL,   /* s is "true" or "false" */
} strata_seed_vkind;

typedef struct strata_seed_val {
	strata_seed_vkind kind;
	const char *s; /* NUL-terminated (NULL for STRATA_SEED_V_NULL) */
	size_t len;
} strata_seed_val;

/* One row to write. */
typedef struct strata_seed_write {
	const strata_seed_table *t;
	size_t n;
	const size_t *cols; /* column indexes, n of them */
	const strata_seed_val *vals;
	strata_seed_conflict conflict;
	size_t nret;
	const size_t *ret; /* columns whose stored values the caller needs back */
	char **ret_out;    /* nret slots: malloc'd text (caller frees), NULL when the row was
	                      skipped (or the value is NULL) */
	bool bulk;         /* may be buffered (COPY): nothing returned, no conflict clause */
	size_t row_off;    /* where the row is in the file, for errors reported later */
} strata_seed_write;

/* Where a failure is, when the engine can say better than "the row being written". */
typedef struct strata_seed_failure {
	bool have_row; /* row_off names the failing row (of a bulk batch) */
	size_t row_off;
	const strata_seed_table *table; /* the failing row's table, when not the one written */
	char column[128];               /* the failing column, when the engine says */
	bool rerun; /* the batch failed somewhere: write rows from rerun_off again, one by
	               one, to find which (the engine rolled the batch back) */
	size_t rerun_off, rerun_rows;
} strata_seed_failure;

struct strata_seed_engine {
	unsigned version;
	int (*open)(strata_seed_be **out, strata_conn *c, strata_error *e);
	/* Starts the one transaction (and turns on foreign keys where that is needed). */
	int (*begin)(strata_seed_be *s, strata_error *e);
	int (*commit)(strata_seed_be *s, strata_error *e);
	void (*rollback)(strata_seed_be *s);
	/* The table `name` ("table" or "schema.table"); STRATA_ENOTFOUND when there is none. */
	int (*describe)(strata_seed_be *s, const char *name, strata_seed_table **out,
	                strata_error *e);
	/* Creates strata_seeds when needed and reads path's sha256 into sha (empty if none). */
	int (*record_get)(strata_seed_be *s, const char *path, char sha[65], strata_error *e);
	int (*record_put)(strata_seed_be *s, const char *path, const char *sha, size_t rows,
	                  strata_error *e);
	int (*write)(strata_seed_be *s, const strata_seed_write *w, strata_seed_failure *f,
	             strata_error *e);
	/* Sends anything buffered (ends a COPY). */
	int (*flush)(strata_seed_be *s, strata_seed_failure *f, strata_error *e);
	void (*close)(strata_seed_be *s); /* NULL-safe */
};

/* The INSERT for a write's columns, with ON CONFLICT for --on-conflict skip|update and RETURNING
 * for the keys its child rows need; `placeholder` is '$' (PostgreSQL) or '?' (SQLite). Both
 * engines share it; it fails when update is asked of a table without a primary key. */
int strata_seed_insert_sql(strata_buf *q, const strata_seed_write *w, char placeholder,
                           strata_error *e);

/* A prepared statement's identity, for reusing it across rows: table, conflict mode, columns and
 * returned columns, as raw bytes (cheap to build and compare for every row). */
void strata_seed_sig_put(strata_buf *sig, const strata_seed_write *w);
bool strata_seed_sig_eq(const char *stored, size_t len, const strata_buf *sig);
/* A malloc'd copy of sig's bytes (the caller frees), NULL on OOM. */
char *strata_seed_sig_dup(const strata_buf *sig);

/* The statements an engine has prepared for rows, each known by its signature. */
typedef struct strata_seed_stmt {
	char *sig;
	size_t sig_len;
	void *handle;  /* the engine's (SQLite: its sqlite3_stmt) */
	char name[24]; /* for an engine that prepares statements by name (PostgreSQL) */
} strata_seed_stmt;

typedef struct strata_seed_stmts {
	strata_seed_stmt *v;
	size_t n;
} strata_seed_stmts;

/* The statement for w, whose signature is sig: the one prepared before (*fresh false), or a new
 * one at the end of c (c->n - 1) with w's INSERT in q (strata_seed_insert_sql) for the engine to
 * prepare, and to take back with strata_seed_stmts_drop_last if it cannot. */
int strata_seed_stmts_get(strata_seed_stmts *c, const strata_buf *sig, const strata_seed_write *w,
                          char placeholder, strata_buf *q, strata_seed_stmt **out, bool *fresh,
                          strata_error *e);
void strata_seed_stmts_drop_last(strata_seed_stmts *c);
/* Frees the signatures and the array (the engine has released its statements). */
void strata_seed_stmts_free(strata_seed_stmts *c);

#endif
