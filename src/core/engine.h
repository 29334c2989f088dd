/*
 * engine.h: what a database engine provides to the use cases, and the one table of engines.
 *
 * An engine (src/engine/<name>/) fills a const struct strata_engine and embeds strata_conn
 * first in its own connection struct (SQLite's VFS pattern). The use cases reach it only
 * through this interface: they never name an engine, and what differs between engines is a
 * capability here (the SQL dialect, whether a server may be down, the seed loader) or a
 * classified error code (STRATA_ELOCKTIMEOUT), never a test of the engine's name or of a
 * SQLSTATE. Adding an engine means adding its files and one row of strata_engines
 * (src/engine/engines.c). Fields are only ever appended; `version` says how many there are.
 */
#ifndef STRATA_CORE_ENGINE_H
#define STRATA_CORE_ENGINE_H

#include <signal.h>
#include <stdbool.h>

#include "core/dburl.h"
#include "core/history.h"
#include "core/plan.h"
#include "strata.h"

/* 2: replicas_wait; 3: sql_read_differs; 4: history_each flags; 5: history_newest's after;
 * 6: history_each's STRATA_EACH_FEW; 7: history_summary_keep */
#define STRATA_ENGINE_VERSION 7

/* history_each flags: read the checksum of each row too */
#define STRATA_EACH_CHECKSUM 1u
/* history_each flags: the caller expects few rows (up to STRATA_EACH_FEW_ROWS): the engine may
 * read them in any order and sort them itself, holding them (what a query that sorts costs
 * the server to plan and run is then saved: on PostgreSQL 0.4 ms of a new session's first read
 * of an empty history, 0.8 ms at 1,000 rows) */
#define STRATA_EACH_FEW 2u
#define STRATA_EACH_FEW_ROWS 2048

typedef struct strata_conn strata_conn;
struct strata_seed_engine;
struct strata_schema;

typedef struct strata_apply_opts {
	bool in_transaction;      /* the runner holds one transaction around every step */
	bool fake;                /* record (or unrecord) only, run no SQL */
	int lock_timeout_ms;      /* PostgreSQL lock_timeout for the step; -1 leaves it alone */
	int statement_timeout_ms; /* PostgreSQL statement_timeout; -1 leaves it alone */
} strata_apply_opts;

typedef struct strata_lock_opts {
	strata_lock_strategy strategy;
	int wait_ms; /* wait at most this long for another runner; 0: do not wait */
	int ttl_ms;  /* table: the row expires this long after its last heartbeat */
	/* called once when another runner holds the lock and the wait begins (NULL: none) */
	void (*on_wait)(void *ud, const char *holder);
	void *ud;
} strata_lock_opts;

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
/* each row's previous_checksum and accepted_at (strata_accept). A full read (not BRIEF) reads
 * them where the table has them; with STRATA_HISTORY_CREATE too, a table from before them gets
 * them (only then: a run never alters the table for them) */
#define STRATA_HISTORY_ACCEPTED 8u

/* A change to the history alone, no migration's SQL (history_edit): the row of version and name,
 * which must still be applied with `checksum`, is deleted (new_checksum NULL: revert with fake)
 * or records new_checksum, keeping `checksum` as its previous_checksum with accepted_at now, and
 * the row_hash of the new checksum (strata_accept). */
typedef struct strata_history_edit {
	const char *version, *name;
	const char *checksum;
	const char *new_checksum;
} strata_history_edit;

/* each row's applied_rank (the order they were applied in: applied_at, ties broken by SQLite's
 * rowid, by version on PostgreSQL, where only one run's transaction shares an applied_at) */
#define STRATA_HISTORY_APPLIED_ORDER 16u

/* open flags */
/* read only what is there: a SQLite file that does not exist is not created (it reads as an
 * empty database and strata_conn.missing says so) */
#define STRATA_OPEN_NO_CREATE 1u

struct strata_engine {
	unsigned version;
	const char *name;       /* "postgres", "sqlite" */
	strata_dialect dialect; /* what its migrations' SQL is read as (checks before a run) */
	bool waits_for_server;  /* a server that may be down: connect_wait_ms retries it */
	const char *url_forms;  /* the URLs it takes, for the error on one no engine takes */
	const char *const *near_schemes; /* schemes close to its own: "did you mean ..." */
	const char *suggestion;          /* ... what it says then ("postgres://") */
	/* Whether url is this engine's: 1 and *target (the engine's own form of it: the libpq
	 * connection string, the file path) when it is, 0 when it is not, < 0 when it is but
	 * malformed (sqlite: with no path). */
	int (*url_target)(const char *url, char **target, strata_error *e);
	int (*open)(strata_conn **out, const strata_dburl *url, unsigned flags, strata_error *e);
	void (*close)(strata_conn *c); /* NULL-safe; releases any lock it holds */
	/* Async-signal-safe: makes the statement running now fail as soon as the database can.
	 * `interrupted` is already set when it is called; the engine's waits look at it. */
	void (*interrupt)(strata_conn *c);
	/* Exclusive for this run against other strata runners, waiting up to o->wait_ms;
	 * STRATA_ELOCKED names the holder. unlock releases it. */
	int (*lock)(strata_conn *c, const strata_lock_opts *o, strata_error *e);
	void (*unlock)(strata_conn *c);
	/* Reads the history (sorted); flags are STRATA_HISTORY_*. */
	int (*history_load)(strata_conn *c, strata_history *out, unsigned flags, strata_error *e);
	/* Optional (NULL when the database cannot give it cheaply). The history's summary
	 * (core/history.h) from the row hashes strata stores with each row, in one round trip,
	 * waiting at most wait_ms for a table lock; `unlocked`: the caller does not hold the
	 * migration lock, and the summary answers only when no runner holds it either. 1 and
	 * *out (no history table: 1 with out->no_table), or 0 when it cannot answer (some row has
	 * no hash (history_fill_hashes), a standby, a lock wait that timed out, a runner at work),
	 * or < 0 on error. */
	int (*history_summary)(strata_conn *c, int wait_ms, bool unlocked,
	                       strata_history_summary *out, strata_error *e);
	/* Optional (NULL: read the history with history_load). The history row by row, without
	 * holding it, in (version, name) order as strata_migration_key_cmp sorts, for a listing
	 * or a check: each row (valid during the call; row_hash not read, checksum only with
	 * STRATA_EACH_CHECKSUM in flags, else "") to fn, which returns 0 to go on or < 0 to stop
	 * with that error. Returns 0 at the end (no history table: no rows), 1 before any row
	 * when this table cannot be read so (a table from an older strata: use history_load), or
	 * < 0 on error. Changes nothing. */
	int (*history_each)(strata_conn *c, unsigned flags,
	                    int (*fn)(void *ud, const strata_applied *a), void *ud,
	                    strata_error *e);
	/* Optional (NULL: history_load). What a revert of the k most recently applied migrations
	 * needs of the history, sorted as history_load sorts it: those k rows, with applied_rank k
	 * for the most recent down to 1, and the k + 1 highest versions (applied_rank 0 unless
	 * among the k), so that the highest still applied after each step is known; dates not read.
	 * With after (a row of the history: its version and name), all of it as if that row and
	 * every one applied after it were gone (a dry run's later batches, after the last row of
	 * the batch before).
	 * Returns 0, or 1 (out empty) when this history cannot be read so (no table yet, one from
	 * an older strata): then history_load. Changes nothing. */
	int (*history_newest)(strata_conn *c, size_t k, const strata_applied *after,
	                      strata_history *out, strata_error *e);
	/* Optional. Stores the row hash of every row of h (read with STRATA_HISTORY_ROW_HASH)
	 * that lacks it or has a wrong one. */
	int (*history_fill_hashes)(strata_conn *c, const strata_history *h, strata_error *e);
	/* One migration section and its history change, atomically unless the section is marked
	 * transaction:false. Returns STRATA_EEXISTS when another runner already did this step
	 * (nothing changed). On failure the step is rolled back and e names file:line:col; a
	 * statement that gave up waiting for a lock fails with STRATA_ELOCKTIMEOUT; a
	 * transaction:false up section is recorded as failed at the failing statement instead, and
	 * step->resume_from starts it from a later statement (repair). */
	int (*apply)(strata_conn *c, const strata_step *step, const strata_apply_opts *o,
	             strata_apply_result *r, strata_error *e);
	/* Records a failed transaction:false migration as applied (repair, mark_applied). */
	int (*mark_applied)(strata_conn *c, const strata_migration *m, strata_error *e);
	/* A transaction: the one of a one_transaction run (step NULL), or one step's, run by the
	 * caller (a C step): then begin sets the step's timeouts and returns STRATA_EEXISTS when
	 * another runner did the step already, and record writes its history change. */
	int (*begin)(strata_conn *c, const strata_step *step, const strata_apply_opts *o,
	             strata_error *e);
	int (*record)(strata_conn *c, const strata_step *step, double ms, strata_apply_result *r,
	              strata_error *e);
	int (*commit)(strata_conn *c, strata_error *e);
	void (*rollback)(strata_conn *c); /* never masks the first error */
	/* Inside the current transaction, for a C step: runs sql (no parameters), or one statement
	 * with text parameters ($1 ...) returning its rows as text. */
	int (*exec)(strata_conn *c, const char *sql, strata_error *e);
	int (*query)(strata_conn *c, const char *sql, const char *const *params, size_t n,
	             strata_rows **out, strata_error *e);
	/* The seed loader (core/seed_engine.h). */
	const struct strata_seed_engine *seed;
	/* Optional (NULL: the engine cannot). The schema from the database's catalog
	 * (core/schema.h), strata's own tables left out, added to out (empty, maybe with a sink)
	 * with strata_schema_add in the order the SQL runs; flags are STRATA_SCHEMA_*. */
	int (*schema_read)(strata_conn *c, unsigned flags, struct strata_schema *out,
	                   strata_error *e);
	/* What the dump's SQL needs set first ("SET check_function_bodies = false;"), or NULL. */
	const char *schema_preamble;
	/* Optional. A new, empty scratch database beside c's (PostgreSQL: CREATE DATABASE on c's
	 * server; SQLite: one in memory): *url opens it. scratch_drop removes it (c still open,
	 * the scratch connection closed); best effort. */
	int (*scratch_create)(strata_conn *c, char **url, strata_error *e);
	void (*scratch_drop)(strata_conn *c, const char *url);
	/* Optional. Drops every object of c's database but the engine's own (a scratch database
	 * the user named), strata's tables included. */
	int (*schema_reset)(strata_conn *c, strata_error *e);
	/* Makes every edit in one transaction, or none: when a row is not as the edit expects
	 * (another runner changed it since it was read) nothing changes and e says which. The
	 * columns of STRATA_HISTORY_ACCEPTED must be there (read with it and CREATE first). */
	int (*history_edit)(strata_conn *c, const strata_history_edit *ed, size_t n,
	                    strata_error *e);
	/* It has schemas a connection can run in (strata_db_options.schema: the engine's open sets
	 * its search path from strata_dburl.schema). */
	bool schemas;
	/* Optional (NULL: an engine without replicas). Called right after a commit: waits until
	 * every replica has replayed it or lags less than max_lag_ms, emitting
	 * STRATA_EVENT_REPLICA_WAIT (through fn, ud) for each one behind; gives up after
	 * timeout_ms with STRATA_EREPLICA naming the replica. An interrupt ends the wait
	 * (STRATA_EINTERRUPTED). */
	int (*replicas_wait)(strata_conn *c, int max_lag_ms, int timeout_ms, strata_event_fn fn,
	                     void *ud, strata_error *e);
	/* Optional. Whether a and b (both this engine's) are one database, however their URLs
	 * spell it: 1, 0, or < 0 when it cannot tell (e). Guards a scratch database the user
	 * names from being the one checked. */
	int (*same_database)(strata_conn *a, strata_conn *b, strata_error *e);
	/* Optional. Why c's session would read a migration's SQL otherwise than the dialect's
	 * tokenizer does, which the check for BEGIN, COMMIT and the like relies on (PostgreSQL:
	 * standard_conforming_strings off, where a backslash escapes a quote), or NULL. */
	const char *(*sql_read_differs)(const strata_conn *c);
	const char *sql_read_fix; /* ... and how to make it read as the tokenizer does */
	/* Optional (7). After history_summary answered with out->stale (the summary the engine
	 * keeps for it was not up to date, or not there, so the history was aggregated instead),
	 * for a run that changes nothing else and is not a dry run: makes that summary again,
	 * best effort, waiting for no one. */
	void (*history_summary_keep)(strata_conn *c);
};

struct strata_conn {
	const struct strata_engine *engine;
	const strata_dburl *url; /* borrowed; outlives the connection */
	/* set by strata_conn_interrupt: the work in progress fails with STRATA_EINTERRUPTED and
	 * nothing new starts; only ever set, never cleared */
	volatile sig_atomic_t interrupted;
	/* opened with STRATA_OPEN_NO_CREATE on a database that does not exist (SQLite): it reads
	 * as empty, and nothing was made */
	bool missing;
};

/* Every engine, ending with NULL (src/engine/engines.c). */
extern const struct strata_engine *const strata_engines[];

/* The engine whose url_target takes url (*target its form of it), or NULL with e saying which
 * URLs there are and, for a near miss, which was meant. */
const struct strata_engine *strata_engine_for_url(const char *url, char **target, strata_error *e);
/* Opens the connection url names; flags are STRATA_OPEN_*. */
int strata_conn_open(strata_conn **out, const strata_dburl *url, unsigned flags, strata_error *e);
void strata_conn_close(strata_conn *c);
/* Async-signal-safe: stops what c is doing. The running statement is cancelled and rolled back
 * with its migration; a run stops before the next step; waits for a lock end. Whatever fails
 * because of it reports STRATA_EINTERRUPTED. */
void strata_conn_interrupt(strata_conn *c);
/* Sets e to "interrupted" and returns STRATA_EINTERRUPTED. */
int strata_conn_interrupted(strata_error *e);

/* What a C step works through (strata.h's strata_tx): the connection of its migration. */
struct strata_tx {
	strata_conn *conn;
};

/* The rows of a C step's query (strata.h's strata_rows): engines fill one with these. */
int strata_rows_new(strata_rows **out, size_t columns, strata_error *e);
int strata_rows_set_name(strata_rows *r, size_t col, const char *name, strata_error *e);
/* Appends a row of `columns` values (NULL for SQL NULL), copied. */
int strata_rows_add(strata_rows *r, const char *const *values, strata_error *e);

#endif
