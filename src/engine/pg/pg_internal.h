/* pg_internal.h: what the files of the PostgreSQL engine share (src/engine/pg/ only). */
#ifndef STRATA_ENGINE_PG_INTERNAL_H
#define STRATA_ENGINE_PG_INTERNAL_H

#include "core/engine.h"
#include "engine/pg/lock_table.h"
#include "engine/pg/pg_exec.h"
#include "engine/pg/pq.h"
#include "util/buf.h"

typedef struct pg_conn {
	strata_conn base;
	PGconn *conn;
	strata_pg_link link;      /* conn, its cancel object and base.interrupted, for waits */
	bool locked;              /* the advisory lock */
	strata_table_lock *tlock; /* the table lock */
	/* the server counts an error's position in characters of its own encoding; with
	 * SQL_ASCII every byte is a character (no conversion from our UTF-8 happens) */
	bool position_in_bytes;
	char encoding[32];      /* server_encoding */
	bool altering_accepted; /* adding the columns of an accepted edit (for the hint) */
	size_t recorded;        /* history rows this connection's runs wrote (steps applied) */
	bool history_changed;   /* changed, or its summary seen not valid (pg_summary.c) */
	bool summary_unusable;  /* its summary found not valid, not there or not readable: read
	                           the aggregate until it is made again (pg_summary.c) */
	bool history_missing;   /* no history table, when last asked (pg_summary.c): asked again
	                           without a failing statement, and made without reading it first */
} pg_conn;

/* pg.c: errors and plain statements */
const char *strata_pg__field(const PGresult *r, int code);
/* Fills e from a failed result (or the connection when r is NULL); returns the code:
 * STRATA_ELOCKTIMEOUT for a lock timeout (55P03), STRATA_EINTERRUPTED after an interrupt,
 * STRATA_ECONNECT when the connection is gone, else STRATA_EDB. */
int strata_pg__error(pg_conn *pg, const PGresult *r, strata_error *e);
/* Runs sql (one or several statements, interruptibly); 0 or e filled. */
int strata_pg__exec(pg_conn *pg, const char *sql, strata_error *e);
/* Runs the SQL built in q, unless building it failed (error < 0, or q ran out of memory: then an
 * out-of-memory error); frees q. */
int strata_pg__exec_buf(pg_conn *pg, strata_buf *q, int error, strata_error *e);
/* Appends s as a quoted literal. */
int strata_pg__literal(pg_conn *pg, strata_buf *q, const char *s);
/* A missing privilege on one of strata's own tables: names the table, the privileges and the
 * GRANT, and places e nowhere in the user's file. Whether it was one. */
bool strata_pg__own_table_privilege(pg_conn *pg, strata_error *e);
/* The libpq "options" that set url->schema as the search path (with the URL's own options), or
 * NULL when it has none (or out of memory). */
char *strata_pg__schema_options(const strata_dburl *url);
int strata_pg__open(strata_conn **out, const strata_dburl *url, unsigned flags, strata_error *e);
void strata_pg__close(strata_conn *b);
void strata_pg__interrupt(strata_conn *b);

/* pg_lock.c */
int strata_pg__lock(strata_conn *b, const strata_lock_opts *o, strata_error *e);
void strata_pg__unlock(strata_conn *b);

/* pg_summary.c: the history's summary, kept by the server */
int strata_pg__history_summary(strata_conn *b, int wait_ms, bool unlocked,
                               strata_history_summary *out, strata_error *e);
/* The engine's history_summary_keep, also called when the lock is let go after a change to the
 * history: makes the summary valid again, when no writer is at work, first making its table
 * when it is missing (best effort, as its own transaction: only when the connection is idle). */
void strata_pg__history_summary_keep(strata_conn *b);
/* Whether the history table is there (1) or not (0; sets pg->history_missing), asked without a
 * failing statement (an error in the server's log), or < 0 on error. */
int strata_pg__history_there(pg_conn *pg, strata_error *e);

/* pg_history.c */
int strata_pg__history_load(strata_conn *b, strata_history *out, unsigned flags, strata_error *e);
int strata_pg__history_each(strata_conn *b, unsigned flags,
                            int (*fn)(void *ud, const strata_applied *a), void *ud,
                            strata_error *e);
int strata_pg__history_newest(strata_conn *b, size_t k, const strata_applied *after,
                              strata_history *out, strata_error *e);
int strata_pg__history_fill_hashes(strata_conn *b, const strata_history *h, strata_error *e);
int strata_pg__mark_applied(strata_conn *b, const strata_migration *m, strata_error *e);
/* The engine's history_edit: every edit in one transaction. */
int strata_pg__history_edit(strata_conn *b, const strata_history_edit *ed, size_t n,
                            strata_error *e);
/* The row_hash of m's history row: the number, or NULL. */
void strata_pg__row_hash(strata_buf *q, const strata_migration *m);
/* The step's history change: an INSERT ... RETURNING duration_ms (up) or a DELETE (down). */
int strata_pg__history_change(pg_conn *pg, strata_buf *q, const strata_step *s);

/* pg_schema.c: the schema from the catalog (engine.h, schema_read), and what its SQL needs set
 * first */
struct strata_schema;
int strata_pg__schema_read(strata_conn *b, unsigned flags, struct strata_schema *out,
                           strata_error *e);
extern const char strata_pg__schema_preamble[];
/* pg_replica.c */
/* The error for a target that is a standby (conn's server is in recovery): names it (url's
 * display) and says what to do; STRATA_EINVALID. */
int strata_pg__standby_error(PGconn *conn, const strata_dburl *url, strata_error *e);
/* The engine's replicas_wait. */
int strata_pg__replicas_wait(strata_conn *b, int max_lag_ms, int timeout_ms, strata_event_fn fn,
                             void *ud, strata_error *e);

/* pg_scratch.c: engine.h's scratch_create, scratch_drop and schema_reset */
int strata_pg__scratch_create(strata_conn *b, char **url, strata_error *e);
void strata_pg__scratch_drop(strata_conn *b, const char *url);
int strata_pg__schema_reset(strata_conn *b, strata_error *e);
int strata_pg__same_database(strata_conn *a, strata_conn *b, strata_error *e);

/* pg_apply.c */
int strata_pg__apply(strata_conn *b, const strata_step *step, const strata_apply_opts *o,
                     strata_apply_result *r, strata_error *e);
int strata_pg__begin(strata_conn *b, const strata_step *step, const strata_apply_opts *o,
                     strata_error *e);
int strata_pg__record(strata_conn *b, const strata_step *step, double ms, strata_apply_result *r,
                      strata_error *e);
int strata_pg__commit(strata_conn *b, strata_error *e);
void strata_pg__rollback(strata_conn *b);

#endif
