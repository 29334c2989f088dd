/*
 * backend.h: what a database engine provides to strata. Each engine (pg.c, sqlite.c) embeds
 * strata_backend first in its own struct and fills a const ops table (SQLite's VFS pattern).
 * Fields are only ever appended; `version` says how many there are.
 */
#ifndef STRATA_BACKEND_BACKEND_H
#define STRATA_BACKEND_BACKEND_H

#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "core/dburl.h"
#include "core/history.h"
#include "core/plan.h"

#define STRATA_BACKEND_OPS_VERSION 1

typedef struct strata_backend strata_backend;

typedef struct strata_apply_opts {
	bool in_transaction;      /* the runner holds one transaction around every step */
	bool fake;                /* record (or unrecord) only, run no SQL */
	int lock_timeout_ms;      /* PostgreSQL lock_timeout for the step; -1 leaves it alone */
	int statement_timeout_ms; /* PostgreSQL statement_timeout; -1 leaves it alone */
} strata_apply_opts;

/* How runners keep each other out (--lock-strategy). */
typedef enum {
	STRATA_LOCK_ADVISORY =
	    0,                 /* a session advisory lock; refused behind a pooler (PostgreSQL) */
	STRATA_LOCK_TABLE = 1, /* a row in strata_lock with an owner and an expiry (PostgreSQL) */
} strata_lock_strategy;

typedef struct strata_lock_opts {
	strata_lock_strategy strategy;
	int wait_ms; /* wait at most this long for another runner; 0: do not wait */
	int ttl_ms;  /* table: the row expires this long after its last heartbeat */
} strata_lock_opts;

/* "advisory" or "table" to *out; -1 for anything else. */
static inline int strata_lock_strategy_parse(const char *name, strata_lock_strategy *out)
{
	if (strcmp(name, "advisory") == 0)
		*out = STRATA_LOCK_ADVISORY;
	else if (strcmp(name, "table") == 0)
		*out = STRATA_LOCK_TABLE;
	else
		return -1;
	return 0;
}

typedef struct strata_apply_result {
	int statements; /* transaction:false: how many statements the section has */
	int failed_at;  /* transaction:false: the failing statement (0-based), -1 when none */
	/* up: the duration the history row records for it (what 'show' prints), -1 if none */
	double duration_ms;
} strata_apply_result;

/* history_load flags */
#define STRATA_HISTORY_CREATE 1u /* create the history table first when it is missing */
/* what a run needs only: applied_at may be left empty and duration_ms 0 (formatting 10,000
 * timestamps costs a PostgreSQL server more than the rest of the query) */
#define STRATA_HISTORY_BRIEF 2u
/* brief, plus each row's row_hash (has_row_hash; PostgreSQL), for history_fill_hashes. A table
 * from before row_hash has no such column: pass STRATA_HISTORY_CREATE too, which adds it. */
#define STRATA_HISTORY_ROW_HASH 4u

/* open flags */
/* read only what is there: a SQLite file that does not exist is not created (it reads as an
 * empty database; strata_backend_created says so) */
#define STRATA_OPEN_NO_CREATE 1u

struct strata_backend_ops {
	unsigned version;
	const char *name; /* "postgres", "sqlite" */
	int (*open)(strata_backend **out, const strata_dburl *url, unsigned flags, strata_error *e);
	/* Exclusive for this run against other strata runners; waits at most wait_ms. */
	int (*lock)(strata_backend *b, int wait_ms, strata_error *e);
	void (*unlock)(strata_backend *b);
	/* Reads the history (sorted); flags are STRATA_HISTORY_* below. */
	int (*history_load)(strata_backend *b, strata_history *out, unsigned flags,
	                    strata_error *e);
	/* One migration section and its history change, atomically unless the section is marked
	 * transaction:false. Returns STRATA_EEXISTS when another runner already did this step
	 * (nothing changed). On failure the step is rolled back and e names file:line:col; a
	 * transaction:false up section is recorded as failed at the failing statement instead, and
	 * step->resume_from starts it from a later statement (repair). */
	int (*apply)(strata_backend *b, const strata_step *step, const strata_apply_opts *o,
	             strata_apply_result *r, strata_error *e);
	/* Records a failed transaction:false migration as applied (repair --mark-applied). */
	int (*mark_applied)(strata_backend *b, const strata_migration *m, strata_error *e);
	int (*begin)(strata_backend *b, strata_error *e);
	int (*commit)(strata_backend *b, strata_error *e);
	void (*rollback)(strata_backend *b); /* never masks the first error */
	void (*close)(strata_backend *b);    /* NULL-safe; releases any lock it holds */
	/* The engine's own handle (PGconn *, sqlite3 *), for engine-specific modules in
	 * src/backend/ only. */
	void *(*native)(strata_backend *b);
	/* lock with a strategy; `lock` is lock_with(advisory, wait_ms). Waits (polling, for the
	 * table) up to o->wait_ms; STRATA_ELOCKED names the holder. PostgreSQL refuses the
	 * advisory lock through a connection pooler (the server's pid differs from the one the
	 * connection announced, or changes after the lock); the table lock works through
	 * transaction pooling, is kept alive by a heartbeat, and expires when its runner dies.
	 * SQLite takes its write lock the same way for both. unlock releases either. */
	int (*lock_with)(strata_backend *b, const strata_lock_opts *o, strata_error *e);
	/* Optional (NULL when the database cannot give it cheaply). The history's summary
	 * (core/history.h) from the row hashes strata stores with each row: 1 and *out, or 0
	 * when some row has none (history_fill_hashes), or < 0 on error. */
	int (*history_summary)(strata_backend *b, strata_history_summary *out, strata_error *e);
	/* Optional. Stores the row hash of every row of h (read with STRATA_HISTORY_ROW_HASH)
	 * that lacks it or has a wrong one. */
	int (*history_fill_hashes)(strata_backend *b, const strata_history *h, strata_error *e);
	/* Async-signal-safe: makes the statement running now fail as soon as the database can
	 * (PostgreSQL: a cancel request; SQLite: sqlite3_interrupt). The flag `interrupted` is
	 * already set when it is called; waits in the engine look at it. */
	void (*interrupt)(strata_backend *b);
};

struct strata_backend {
	const struct strata_backend_ops *ops;
	const strata_dburl *url; /* borrowed; outlives the backend */
	/* set by strata_backend_interrupt: the work in progress fails with STRATA_EINTERRUPTED and
	 * nothing new starts; only ever set, never cleared */
	volatile sig_atomic_t interrupted;
	/* opened with STRATA_OPEN_NO_CREATE on a database that does not exist (SQLite): it reads
	 * as empty, and nothing was made */
	bool missing;
};

/* Async-signal-safe (a CLI calls it from its SIGINT/SIGTERM handler): stops what b is doing.
 * The running statement is cancelled and rolled back with its migration; a run stops before
 * the next step; waits for a lock end. Whatever fails because of it reports
 * STRATA_EINTERRUPTED. */
void strata_backend_interrupt(strata_backend *b);

/* Sets e to "interrupted" and returns STRATA_EINTERRUPTED. */
int strata_backend_interrupted(strata_error *e);

/* Opens the backend the URL names; flags are STRATA_OPEN_*. */
int strata_backend_open(strata_backend **out, const strata_dburl *url, unsigned flags,
                        strata_error *e);
void strata_backend_close(strata_backend *b);

#endif
