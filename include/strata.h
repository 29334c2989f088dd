/*
 * strata.h: libstrata, schema migrations for PostgreSQL and SQLite, for programs that migrate
 * their own database (at start-up, in a deploy job) and for the strata command, its first
 * client.
 *
 *   strata_db *db = NULL;
 *   strata_source *src = NULL;
 *   strata_run_report *r = NULL;
 *   strata_error e = STRATA_ERROR_INIT;
 *   if (strata_db_open(&db, "sqlite:app.db", NULL, &e) < 0 ||
 *       strata_source_new(&src, &e) < 0 ||
 *       strata_source_add_dir(src, "migrations", &e) < 0 ||
 *       strata_run(db, src, NULL, &r, &e) < 0)
 *           fprintf(stderr, "%s:%u:%u: %s\n", e.file, e.line, e.column, e.msg);
 *   strata_run_report_free(r);
 *   strata_source_free(src);
 *   strata_db_close(db);
 *
 * Conventions (libgit2's):
 *   - A function that can fail returns 0 or a negative STRATA_E* code and fills the caller's
 *     strata_error: a one-line message, and where the input is at fault its file, line and
 *     column, the database's SQLSTATE, a detail and a hint. It never prints, never exits, and
 *     reads no environment variable, file or directory but those its arguments name.
 *   - What a function returns through **out belongs to the caller, who frees it with the
 *     matching strata_*_free (all NULL-safe); a const pointer returned plainly is borrowed and
 *     lives as long as its parent. Strings the library allocates for you go to strata_free.
 *   - Options structs start with `version` and have an _INIT macro; pass NULL for the defaults.
 *     A report's fields are only ever appended.
 *   - Hints name options by their names here (lock_wait_ms, ignore_checksums, strata_build())
 *     so that a program can point its users at its own settings; the strata command shows its
 *     flags instead.
 *
 * Threads: handles are not shared between threads while in use: one strata_db per thread.
 * Different handles on different threads are safe. strata_db_interrupt may be called from any
 * thread, and from a signal handler.
 *
 * Stability: within one major version (STRATA_VERSION_MAJOR) the functions keep their
 * signatures and meaning, options structs and reports only grow at their end (older callers'
 * `version` is honoured), and enums only gain values. The shared library's SONAME carries the
 * major version (libstrata.so.0 for 0.x, where minor versions may still change the API: read
 * NEWS). No libpq, SQLite or other library's type appears here.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(STRATA_STATIC_ONLY)
#define STRATA_API __attribute__((visibility("default")))
#else
#define STRATA_API
#endif

#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 2
#define STRATA_VERSION_PATCH 0
#define STRATA_VERSION "0.2.0"
/* 10000 * major + 100 * minor + patch: #if STRATA_VERSION_NUMBER >= 200 */
#define STRATA_VERSION_NUMBER                                                                      \
	(STRATA_VERSION_MAJOR * 10000 + STRATA_VERSION_MINOR * 100 + STRATA_VERSION_PATCH)

/* The version of the library linked (which may be newer than the header compiled against). */
STRATA_API const char *strata_version(void);

/* ---- errors ------------------------------------------------------------------------------- */

enum {
	STRATA_OK = 0,
	STRATA_ERROR = -1,        /* anything else */
	STRATA_ENOTFOUND = -2,    /* a file, directory, migration or version that is not there */
	STRATA_EINVALID = -3,     /* bad input: a malformed migration, URL, option or argument */
	STRATA_EDB = -4,          /* the database refused; sqlstate is set (PostgreSQL) */
	STRATA_ELOCKED = -5,      /* another runner holds the migration lock past lock_wait_ms */
	STRATA_ECONNECT = -6,     /* cannot reach the database, or the connection was lost */
	STRATA_EEXISTS = -7,      /* already there: a file to create, a migration applied */
	STRATA_EINTERRUPTED = -8, /* stopped by strata_db_interrupt; what ran is rolled back */
	STRATA_ELOCKTIMEOUT =
	    -9, /* a statement gave up waiting for a table's lock (lock_timeout_ms) */
	STRATA_EREPLICA = -10, /* a replica stayed behind past replica_wait_timeout_ms (what
	                          committed before stays committed) */
};

typedef struct strata_error {
	int code;
	char sqlstate[6];      /* PostgreSQL's SQLSTATE when the server gave one, else "" */
	char file[512];        /* the file at fault, else "" */
	unsigned line, column; /* 1-based; 0 = unknown */
	char msg[512];
	char detail[512];
	char hint[512];
	char source_line[256]; /* the offending line of the file, for a caret under column */
} strata_error;

#define STRATA_ERROR_INIT                                                                          \
	{                                                                                          \
		0                                                                                  \
	}

/* Clears e back to "no error". */
STRATA_API void strata_error_clear(strata_error *e);
/* For a C step (or any caller) that fails: sets e's message (overwriting any earlier one) and
 * code, and returns the code, so that `return strata_error_set(e, STRATA_ERROR, "...");` is
 * one step. A message too long for e is cut and ends in "...". NULL-safe. */
STRATA_API int strata_error_set(strata_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
STRATA_API void strata_error_detail(strata_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
STRATA_API void strata_error_hint(strata_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Where the input is at fault; line and col are 1-based, 0 when unknown. */
STRATA_API void strata_error_at(strata_error *e, const char *file, unsigned line, unsigned col);
/* "STRATA_ELOCKED" for a code, "STRATA_ERROR" for an unknown one. */
STRATA_API const char *strata_error_name(int code);

/* Frees what the library allocated and handed over as a plain string. NULL-safe. */
STRATA_API void strata_free(void *p);

/* ---- events ------------------------------------------------------------------------------- */

typedef enum strata_direction { STRATA_UP = 1, STRATA_DOWN = 2 } strata_direction;

typedef enum strata_event_kind {
	STRATA_EVENT_PHASE = 1,  /* a phase ended: phase, ms, count (see below) */
	STRATA_EVENT_LOCK_WAIT,  /* the migration lock is held by another runner: waiting (message)
	                          */
	STRATA_EVENT_STEP_START, /* a migration is about to run */
	STRATA_EVENT_STEP_DONE,  /* ... it committed (ms: what the history records) */
	STRATA_EVENT_STEP_SKIPPED, /* ... another runner did it first */
	STRATA_EVENT_STEP_RETRY,   /* ... it hit lock_timeout_ms and was rolled back; retry after ms
	                            */
	STRATA_EVENT_NOTICE,       /* something the user should know (message) */
	STRATA_EVENT_SEED_TABLE,   /* seed: a table was loaded (name, count: rows) */
	STRATA_EVENT_REVERT_ORDER, /* revert: version, name, the most recently applied, is about to
	                              be reverted while a migration of a higher version stays
	                              applied (message: its "version-name"); once per revert */
	STRATA_EVENT_REPLICA_WAIT, /* max_replica_lag_ms: a replica has not replayed the last
	                              commit and lags too much: waiting (message: the replica,
	                              "application_name (client address)"; count: bytes behind;
	                              ms: how far behind in time, at most) */
	STRATA_EVENT_STEP_PLANNED, /* a dry run: a migration that would run (step: its report, with
	                              its SQL), in run order, as it is planned */
	STRATA_EVENT_TESTED,       /* strata_test_migrations: a migration's test ended, or it was
	                              applied untested (test: its entry), in version order */
} strata_event_kind;

/* PHASE names: "read" (count: migrations listed; flags: STRATA_EVENT_FROM_MANIFEST), "connect",
 * "lock", "summary" (the history's summary matched the migrations': nothing to run), "prefix"
 * (it is the summary of the build's first `count` migrations: only the ones after them are
 * listed, and the history is not read), "history" (count: rows), "plan" (count: steps),
 * "stream" (strata_status_each merged the migrations and the history as it read them, the
 * migrations from the build manifest when flags has STRATA_EVENT_FROM_MANIFEST, else from a
 * directory of sources a migration at a time; count: entries), "checked" (strata_validate or
 * strata_accept proved one directory clean, and read the history, a migration and a row at a
 * time; count: migrations). */
#define STRATA_EVENT_FROM_MANIFEST 1u
/* NOTICE: a warning, which a program should show even when it shows no progress */
#define STRATA_EVENT_WARNING 2u

typedef struct strata_event {
	strata_event_kind kind;
	const char *phase;          /* PHASE */
	const char *version, *name; /* STEP_*: the migration */
	const char *file; /* STEP_*: its file (for a migration given in memory, a label) */
	strata_direction direction; /* STEP_* */
	size_t index, total;        /* STEP_*: its place in the run */
	int statement;              /* STEP_START: the statement it starts from (0-based; above 0
	                               when a repair resumes a transaction:false migration) */
	double ms;           /* PHASE, STEP_DONE, STEP_RETRY (the pause), REPLICA_WAIT (the lag) */
	size_t count;        /* PHASE, SEED_TABLE, REPLICA_WAIT (bytes behind) */
	unsigned flags;      /* PHASE; NOTICE: STRATA_EVENT_WARNING */
	const char *message; /* LOCK_WAIT, NOTICE, REPLICA_WAIT; SEED_TABLE: the table;
	                        REVERT_ORDER: the higher */
	const struct strata_step_report *step; /* STEP_PLANNED (also index, total) */
	const struct strata_test_entry *test;  /* TESTED */
} strata_event;

/* Called on the thread that runs the operation; the event and its strings live for the call. */
typedef void (*strata_event_fn)(const strata_event *ev, void *userdata);

/* ---- the database ------------------------------------------------------------------------- */

typedef struct strata_db strata_db;

/* strata_db_options.flags */
/* only read: a SQLite file that does not exist is not created; it reads as an empty database
 * and strata_db_exists says so (show, validate, dry runs) */
#define STRATA_DB_NO_CREATE 1u

typedef struct strata_db_options {
	unsigned version;
	unsigned flags;           /* STRATA_DB_* */
	int connect_wait_ms;      /* a server that cannot be reached yet is retried with backoff
	                             (0.1 s, 0.2 s ... 2 s apart) this long; 0: one try */
	strata_event_fn on_event; /* progress of every operation on this database; NULL: none */
	void *userdata;
	/* version 2: PostgreSQL: a tenant schema to work in: the connection's search_path is set to
	 * it, so its migrations and strata's own tables (history, table lock) are the schema's, and
	 * its advisory lock is the schema's own; NULL: none */
	const char *schema;
} strata_db_options;

#define STRATA_DB_OPTIONS_VERSION 2
#define STRATA_DB_OPTIONS_INIT                                                                     \
	{                                                                                          \
		STRATA_DB_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL                                  \
	}

/*
 * Opens the database a URL names (no lock is taken yet):
 *   postgres://user:password@host:5432/db?sslmode=disable   (also postgresql://)
 *   host=localhost dbname=app user=app                      (a libpq keyword string)
 *   postgres://                                             (everything from libpq's PG* variables)
 *   sqlite:path/to/file.db   sqlite:///abs/file.db          (percent-encoded; also sqlite3:)
 * Fails with STRATA_ECONNECT (the message names the URL with its password masked) or
 * STRATA_EINVALID for a URL no engine reads.
 */
STRATA_API int strata_db_open(strata_db **out, const char *url, const strata_db_options *o,
                              strata_error *e);
/* Closes the connection and lets go of any lock it holds. NULL-safe. */
STRATA_API void strata_db_close(strata_db *db);
/* The URL with its password masked: what messages show. */
STRATA_API const char *strata_db_display(const strata_db *db);
/* "postgres" or "sqlite". */
STRATA_API const char *strata_db_engine(const strata_db *db);
/* False for a SQLite file opened with STRATA_DB_NO_CREATE that does not exist. */
STRATA_API bool strata_db_exists(const strata_db *db);
/* Async-signal-safe, callable from any thread: stops what db is doing. The running statement is
 * cancelled and rolled back with its migration (or a seed's transaction), a wait for a lock
 * ends, and a run stops before its next migration; the operation fails with
 * STRATA_EINTERRUPTED and its report says what was applied. Stays in effect: db is done. */
STRATA_API void strata_db_interrupt(strata_db *db);

/* url with its password masked (in user-info and password= values), for messages; NULL on
 * out-of-memory. Free with strata_free. */
STRATA_API char *strata_url_redact(const char *url);
/* The engine ("postgres", "sqlite") that would open url, without connecting; NULL when none. */
STRATA_API const char *strata_url_engine(const char *url);

/* ---- where migrations come from ----------------------------------------------------------- */

typedef struct strata_source strata_source;
typedef struct strata_tx strata_tx;

/* A migration step written in C: it runs inside the migration's transaction (the same one its
 * history row is written in) and changes the database through tx. Returns 0, or a negative
 * STRATA_E* code with e filled: then the migration is rolled back. */
typedef int (*strata_step_fn)(strata_tx *tx, void *userdata, strata_error *e);

/* strata_migration_def.flags */
#define STRATA_MIGRATION_UP_NO_TRANSACTION 1u   /* the up SQL runs statement by statement */
#define STRATA_MIGRATION_DOWN_NO_TRANSACTION 2u /* the down SQL too */

/* A migration given in memory: SQL compiled into the program, or C functions. */
typedef struct strata_migration_def {
	unsigned version;
	const char *id;       /* its version: digits ("20241101120000"), compared as a number */
	const char *name;     /* letters, digits, '_', '-' and '.' ("CreateUsers") */
	const char *up_sql;   /* the SQL that applies it, or NULL with up_fn */
	const char *down_sql; /* the SQL that reverts it; NULL (and no down_fn): irreversible */
	strata_step_fn up_fn, down_fn; /* C steps instead of SQL */
	void *userdata;                /* for up_fn and down_fn */
	unsigned flags;                /* STRATA_MIGRATION_* */
	/* recorded as the migration's checksum with its SQL: for a C step, change it when the
	 * function's meaning changes, and a database that applied the old one says so */
	const char *fingerprint;
} strata_migration_def;

#define STRATA_MIGRATION_DEF_VERSION 1
#define STRATA_MIGRATION_DEF_INIT                                                                  \
	{                                                                                          \
		STRATA_MIGRATION_DEF_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL    \
	}

STRATA_API int strata_source_new(strata_source **out, strata_error *e);
STRATA_API void strata_source_free(strata_source *s);
/* A directory of migration files (<version>-<name>.sql with '-- migrate:up' and '-- migrate:down'
 * sections, or goose's '-- +goose Up' and '-- +goose Down'; golang-migrate's .up.sql/.down.sql
 * pairs; Flyway's V<version>__<name>.sql with its U file and .sql.conf). One that
 * `strata_build` wrote (with manifest.json) is listed from its manifest and its files are read
 * and checked against it only when they run. Several directories (a core, its plugins) merge into
 * one ordered list. */
STRATA_API int strata_source_add_dir(strata_source *s, const char *dir, strata_error *e);
/* A build output and the directory it was built from: runs also refuse a build that is older
 * than src_dir (a migration added, removed or changed there since), and a run with nothing to
 * do may be answered by the build's summary and the history's, without reading either. */
STRATA_API int strata_source_add_build(strata_source *s, const char *dist_dir, const char *src_dir,
                                       strata_error *e);
/* A migration given in memory (copied). `label` names its source in messages ("app"); NULL
 * says "memory". */
STRATA_API int strata_source_add(strata_source *s, const strata_migration_def *def,
                                 const char *label, strata_error *e);

/* ---- what a C step can do --------------------------------------------------------------- */

typedef struct strata_rows strata_rows;

/* Runs sql (one statement or several, without parameters) in the migration's transaction. */
STRATA_API int strata_tx_exec(strata_tx *tx, const char *sql, strata_error *e);
/* Runs one statement with text parameters ($1, $2 ... on both engines; NULL is SQL NULL) and
 * returns its rows as text (out NULL: they are not wanted). */
STRATA_API int strata_tx_query(strata_tx *tx, const char *sql, const char *const *params,
                               size_t nparams, strata_rows **out, strata_error *e);
/* "postgres" or "sqlite": the SQL a step writes may differ. */
STRATA_API const char *strata_tx_engine(const strata_tx *tx);
STRATA_API size_t strata_rows_count(const strata_rows *r);
STRATA_API size_t strata_rows_columns(const strata_rows *r);
STRATA_API const char *strata_rows_name(const strata_rows *r, size_t col);
/* The value as text; NULL for SQL NULL (and out of range). */
STRATA_API const char *strata_rows_get(const strata_rows *r, size_t row, size_t col);
STRATA_API void strata_rows_free(strata_rows *r);

/* ---- run, revert, repair ------------------------------------------------------------------- */

typedef enum strata_lock_strategy {
	STRATA_LOCK_ADVISORY =
	    0,                 /* PostgreSQL: a session advisory lock (refused through a pooler) */
	STRATA_LOCK_TABLE = 1, /* PostgreSQL: a row in strata_lock with a heartbeat and an expiry,
	                          which works through PgBouncer's transaction pooling */
} strata_lock_strategy;

#define STRATA_DEFAULT_LOCK_WAIT_MS 60000
#define STRATA_DEFAULT_LOCK_TIMEOUT_MS 5000
#define STRATA_DEFAULT_LOCK_RETRIES 3
#define STRATA_DEFAULT_LOCK_TTL_MS 30000
#define STRATA_DEFAULT_REPLICA_WAIT_TIMEOUT_MS 300000

typedef struct strata_run_options {
	unsigned version;
	const char *to;           /* run: up to and including this version; revert: every applied
	                             migration of a higher version (it stays); NULL: all (run),
	                             one (revert) */
	unsigned steps;           /* revert: how many, the most recently applied first (0: 1) */
	bool all;                 /* revert: every applied migration */
	bool dry_run;             /* plan only: each step and its SQL is handed out as a
	                             STRATA_EVENT_STEP_PLANNED event and listed in the report; no
	                             lock is taken and nothing is written (not even the history
	                             table) */
	bool fake;                /* run: record the migrations as applied, run none of their SQL;
	                             revert: remove them from the history, run none of their SQL */
	bool one_transaction;     /* every step in one transaction: all or nothing */
	bool allow_out_of_order;  /* apply pending migrations older than the newest applied one of
	                             their source (see strata_run) */
	bool ignore_checksums;    /* skip the manifest, build and applied-checksum checks */
	bool mark_applied;        /* repair: record the failed migration as applied, run nothing */
	int lock_wait_ms;         /* wait this long for another runner's migration lock; 0: not */
	int lock_timeout_ms;      /* PostgreSQL: lock_timeout of each migration; 0: none */
	int statement_timeout_ms; /* PostgreSQL: statement_timeout of each migration; 0: none */
	int lock_retries;         /* retry a migration that hit lock_timeout_ms, with backoff */
	strata_lock_strategy lock_strategy;
	int lock_ttl_ms; /* STRATA_LOCK_TABLE: the lock expires this long after its runner
	                    stops renewing it */
	/* version 2 */
	/* PostgreSQL with streaming replicas: after each migration commits (with
	 * one_transaction, after the one commit), wait until every replica in
	 * pg_stat_replication has replayed it or lags less than this; 0: do not wait. A replica
	 * that has not replayed the commit lags, at most, its replay_lag plus the time since it
	 * last reported (it reports on receiving WAL and every wal_receiver_status_interval).
	 * STRATA_EVENT_REPLICA_WAIT says who is behind. */
	int max_replica_lag_ms;
	/* ... giving up after this long with STRATA_EREPLICA naming the replica: the migration
	 * that committed stays applied and nothing after it runs. Above 0. */
	int replica_wait_timeout_ms;
	/* version 3 */
	/* The report lists no steps: its steps is NULL, while n still counts them and failed
	 * numbers the one that failed, which failed_step describes. For a caller that follows
	 * the steps by their STRATA_EVENT_STEP_ events, so that a run of many migrations, or a
	 * revert to a version or of all of them from one build, holds one batch of them (256),
	 * not a report entry for each; a dry run of either, one batch of them, handed out as
	 * STRATA_EVENT_STEP_PLANNED events. A revert with fake lists its steps anyway. */
	bool no_step_list;
} strata_run_options;

/* 2: max_replica_lag_ms, replica_wait_timeout_ms; 3: no_step_list. A struct of an older
 * version (without them) is read as far as it goes, the rest from the defaults. */
#define STRATA_RUN_OPTIONS_VERSION 3
#define STRATA_RUN_OPTIONS_INIT                                                                    \
	{                                                                                          \
		STRATA_RUN_OPTIONS_VERSION, NULL, 0, false, false, false, false, false, false,     \
		    false, STRATA_DEFAULT_LOCK_WAIT_MS, STRATA_DEFAULT_LOCK_TIMEOUT_MS, 0,         \
		    STRATA_DEFAULT_LOCK_RETRIES, STRATA_LOCK_ADVISORY, STRATA_DEFAULT_LOCK_TTL_MS, \
		    0, STRATA_DEFAULT_REPLICA_WAIT_TIMEOUT_MS, false                               \
	}

typedef enum strata_step_state {
	STRATA_STEP_PLANNED = 0, /* not run (a dry run, or the run stopped before it) */
	STRATA_STEP_DONE,        /* applied (or reverted, or recorded with fake) */
	STRATA_STEP_SKIPPED,     /* another runner did it first */
	STRATA_STEP_FAILED, /* it failed: rolled back, or (transaction:false) stopped part-way */
} strata_step_state;

typedef struct strata_step_report {
	const char *version, *name;
	const char *file; /* the file its SQL came from (a label for a memory one); NULL for one
	                     that revert with fake removes and that is in no source */
	strata_direction direction;
	bool no_transaction; /* its section runs statement by statement */
	bool out_of_order;
	bool is_function; /* a C step */
	strata_step_state state;
	double ms;       /* DONE: what the history records */
	const char *sql; /* its SQL (dry run); NULL for a C step */
	size_t sql_len;
} strata_step_report;

typedef struct strata_run_report {
	size_t n;
	const strata_step_report *steps; /* in the order they run */
	size_t done, skipped;
	size_t migrations; /* how many the source holds (for "nothing to run: N migrations") */
	bool by_summary;   /* nothing to run, known from the summaries without reading the rest */
	long failed;       /* the step that failed or was interrupted, -1 when none */
	bool not_started;  /* ... before it began: refused by a check, or interrupted between */
	int statements;    /* a failed transaction:false step: how many statements it has */
	int failed_statement; /* ... the one that failed (0-based), -1 when none */
	int retries;          /* lock-timeout retries made */
	double ms;
	/* repair: what was done to the failed migration */
	bool repaired, marked_applied;
	int resumed_from; /* the statement it resumed from (0-based) */
	/* the step numbered failed (the one that failed, or the one the run stopped before);
	 * NULL when failed is -1. Also with no_step_list, where steps is NULL. */
	const strata_step_report *failed_step;
} strata_run_report;

/*
 * Applies every pending migration of src, in version order, each in its own transaction with
 * its history row (one_transaction: all in one), after the checks: a transaction:false
 * migration left failed, a built file that does not match its manifest, a build older than its
 * sources, an applied migration changed since, a pending one out of order (allow_out_of_order),
 * a migration that begins or ends a transaction of its own. A refusal applies nothing
 * (report->not_started; e says which check and the fix). Takes the migration lock.
 *
 * Out of order is decided within one source: each directory or build added to src is a source,
 * and the migrations given with strata_source_add are one more. A pending migration is out of
 * order when it is older than the newest applied migration of its own source (an applied
 * migration belongs to the source its file is in; one with no file to none). So a plugin's
 * directory added later, with older versions than the core's, runs in version order without
 * allow_out_of_order, while a late migration inside one directory (a merged branch) needs it.
 *
 * *out (when out is not NULL) is set whatever the outcome: what ran, what failed.
 */
STRATA_API int strata_run(strata_db *db, strata_source *src, const strata_run_options *o,
                          strata_run_report **out, strata_error *e);
/* Runs the down sections of applied migrations, the most recently applied first (the history's
 * applied_at, ties in the order they were applied, as TypeORM and Medusa revert): one, or
 * o->steps of them; or, chosen by version, every one of a higher version than o->to, or o->all.
 * When the one reverted first is not the highest applied version (a plugin applied after the
 * core), a STRATA_EVENT_REVERT_ORDER event says so. Nothing is reverted when one of them cannot
 * be (no down, no file).
 * With o->fake (to undo a wrong fake run) it only removes their history rows, all in one
 * transaction under the lock, running no SQL and needing neither a down section nor the file
 * (a step's file is NULL for one in no source); no STEP_ events. Refused, changing nothing,
 * while a migration is left running or failed (strata_repair() first), when o->to is not an
 * applied version, when o->steps is more than are applied, or when the newest by version are
 * not the last recorded (one applied out of order after them: give o->to or o->all). */
STRATA_API int strata_revert(strata_db *db, strata_source *src, const strata_run_options *o,
                             strata_run_report **out, strata_error *e);
/* Finishes a transaction:false migration that failed part-way: resumes it from the failed
 * statement (after its file was fixed), or with o->mark_applied records it as applied (after the
 * database was fixed by hand). Nothing to repair: 0, with report->repaired false. */
STRATA_API int strata_repair(strata_db *db, strata_source *src, const strata_run_options *o,
                             strata_run_report **out, strata_error *e);
STRATA_API void strata_run_report_free(strata_run_report *r);

/* ---- accept ------------------------------------------------------------------------------ */

typedef struct strata_accept_options {
	unsigned version;
	bool dry_run; /* report what would be accepted: no lock is taken and nothing is written */
	int lock_wait_ms;
	strata_lock_strategy lock_strategy;
	int lock_ttl_ms;
} strata_accept_options;

#define STRATA_ACCEPT_OPTIONS_VERSION 1
#define STRATA_ACCEPT_OPTIONS_INIT                                                                 \
	{                                                                                          \
		STRATA_ACCEPT_OPTIONS_VERSION, false, STRATA_DEFAULT_LOCK_WAIT_MS,                 \
		    STRATA_LOCK_ADVISORY, STRATA_DEFAULT_LOCK_TTL_MS                               \
	}

typedef struct strata_accept_entry {
	const char *version, *name;
	const char *file;
	const char *old_checksum; /* what the history recorded */
	const char *new_checksum; /* what the file has now */
	bool accepted;            /* false: unchanged, the file already matched the history */
} strata_accept_entry;

typedef struct strata_accept_report {
	size_t n;
	const strata_accept_entry *entries; /* one per version given, in that order */
	size_t accepted, unchanged;
} strata_accept_report;

/*
 * For applied migrations whose files were edited on purpose: records each file's current
 * checksum in the history (as Flyway's repair realigns checksums), keeping the one it replaces
 * (previous_checksum) and when (accepted_at), so that runs and validate pass again without
 * ignore_checksums. versions[i] is a version, or VERSION-NAME to pick one of two migrations with
 * the same version. All in one transaction under the migration lock; refused, changing nothing
 * (STRATA_EINVALID or STRATA_ENOTFOUND), when a version is not applied, names two migrations,
 * has no file in src, is left running or failed, or is given twice. One whose file already
 * matches is reported unchanged. *out (when out is not NULL) is set on success.
 */
STRATA_API int strata_accept(strata_db *db, strata_source *src, const char *const *versions,
                             size_t n, const strata_accept_options *o, strata_accept_report **out,
                             strata_error *e);
STRATA_API void strata_accept_report_free(strata_accept_report *r);

/* ---- status and validate ------------------------------------------------------------------ */

typedef enum strata_state {
	STRATA_STATE_APPLIED = 0,
	STRATA_STATE_PENDING,
	STRATA_STATE_MISSING, /* applied, but in no source */
	STRATA_STATE_RUNNING, /* transaction:false, started and not finished */
	STRATA_STATE_FAILED,  /* transaction:false, stopped at a failing statement */
} strata_state;

typedef struct strata_status_entry {
	const char *version, *name;
	const char *file; /* NULL when missing */
	strata_state state;
	const char *applied_at; /* ISO 8601 UTC; NULL when pending */
	double duration_ms;
	int progress; /* statements done (RUNNING, FAILED) */
	bool out_of_order;
	/* an edit of its file was accepted (strata_accept): the checksum the history had before,
	 * and when (ISO 8601 UTC); both NULL when none was */
	const char *previous_checksum;
	const char *accepted_at;
} strata_status_entry;

typedef struct strata_status_report {
	size_t n;
	const strata_status_entry *entries; /* sources and history merged, in version order */
	size_t applied, pending, missing, failed;
	bool db_exists;
} strata_status_report;

/* Every migration of src and of the history and its state. Reads; changes nothing. */
STRATA_API int strata_status(strata_db *db, strata_source *src, strata_status_report **out,
                             strata_error *e);
STRATA_API void strata_status_report_free(strata_status_report *r);

/* What strata_status_each knows before the first entry: enough to line up columns. */
typedef struct strata_status_head {
	/* the longest version and name in the sources (bytes; a migration only in the history
	 * may be longer) */
	size_t longest_version, longest_name;
	bool db_exists;
} strata_status_head;

typedef struct strata_status_callbacks {
	/* optional: once, before the first entry (also when there is none) */
	int (*head)(void *ud, const strata_status_head *head);
	/* each migration of src and of the history, in version order, as strata_status lists them;
	 * its strings are valid during the call only */
	int (*entry)(void *ud, const strata_status_entry *entry);
	void *ud;
} strata_status_callbacks;

/*
 * strata_status, handed out one entry at a time (a callback's return below 0 stops it and is
 * returned). With one build (or a build's output) whose manifest vouches for its directory (and
 * a history table of this strata), the manifest and the history are read as they are merged: memory
 * does not grow with the number of migrations, and the first entry comes before the last row is
 * read. Otherwise the entries of strata_status are handed out. *totals (when not NULL) gets the
 * counts and db_exists, with entries NULL. An error part-way (a lost connection, an interrupt)
 * ends it: entries already handed out stay handed out. On SQLite the history is read 256 rows
 * at a time, each batch a read of its own, so that a slow callback keeps no lock that would
 * stop a run. Reads; changes nothing.
 */
STRATA_API int strata_status_each(strata_db *db, strata_source *src,
                                  const strata_status_callbacks *cb, strata_status_report *totals,
                                  strata_error *e);

typedef struct strata_problems {
	size_t n;
	const strata_error *items; /* each with its file, fix and place */
	size_t migrations, pending;
} strata_problems;

/* Makes every check strata_run makes before it applies anything, reading every file, and
 * reports all the problems (0 with (*out)->n problems; < 0 when it could not check at all). */
STRATA_API int strata_validate(strata_db *db, strata_source *src, const strata_run_options *o,
                               strata_problems **out, strata_error *e);
STRATA_API void strata_problems_free(strata_problems *p);

/* ---- build, lint, create ------------------------------------------------------------------ */

typedef enum strata_dialect {
	STRATA_DIALECT_SQLITE = 1,
	STRATA_DIALECT_POSTGRES = 2
} strata_dialect;

/* "postgres" (also "postgresql", "pg") or "sqlite" (also "sqlite3"); STRATA_EINVALID else. */
STRATA_API int strata_dialect_parse(strata_dialect *out, const char *name, strata_error *e);
STRATA_API const char *strata_dialect_name(strata_dialect d);

typedef enum strata_lint_severity { STRATA_LINT_ERROR, STRATA_LINT_WARNING } strata_lint_severity;

typedef struct strata_lint_rule {
	const char *id; /* "create-index-not-concurrently" */
	strata_lint_severity severity;
	bool off_by_default; /* only when enabled by name */
	const char *reason;  /* one line: what goes wrong */
	const char *fix;     /* one line: what to do instead */
	const char *bad;     /* example SQL that the rule reports */
	const char *good;    /* the same change done safely */
} strata_lint_rule;

/* Every rule, ending with a row whose id is NULL. */
STRATA_API const strata_lint_rule *strata_lint_rules(void);
STRATA_API const char *strata_lint_severity_name(strata_lint_severity s);

typedef struct strata_lint_finding {
	const strata_lint_rule *rule;
	char *file;
	unsigned line, column;
	char *source_line; /* that line of the file, for a caret */
	char *subject;     /* what it is about, "users" or "users.email"; NULL if nothing */
	char *version;     /* the migration's version */
} strata_lint_finding;

typedef struct strata_lint_report {
	strata_lint_finding *items; /* in migration, then statement order */
	size_t n, cap;
	size_t errors, warnings;
	size_t migrations, statements; /* how much was checked (statements: PostgreSQL only) */
} strata_lint_report;

typedef struct strata_build_options {
	unsigned version;
	strata_dialect dialect; /* what the migrations are parsed as */
	bool strict;            /* lint warnings fail the build too */
	const char *enable;     /* off-by-default lint rules to turn on (comma-separated) */
	/* SQLite: directories of migrations these build on (a core's, another source's), applied
	 * first by the check; nothing of theirs is written */
	const char *const *base_dirs;
	size_t nbase;
} strata_build_options;

#define STRATA_BUILD_OPTIONS_VERSION 1
#define STRATA_BUILD_OPTIONS_INIT                                                                  \
	{                                                                                          \
		STRATA_BUILD_OPTIONS_VERSION, STRATA_DIALECT_SQLITE, false, NULL, NULL, 0          \
	}

typedef struct strata_build_report {
	size_t built;            /* migrations written */
	size_t removed;          /* stale files removed from the output */
	strata_lint_report lint; /* every lint finding, also when the build fails */
	bool lint_failed;        /* the build stopped on lint errors (or warnings, if strict) */
	double ms;               /* how long it took */
	/* it failed after it had begun to put new files in place of the output's (a rename or a
	 * removal refused): the output holds some of them, its manifest the old list, and runs
	 * refuse it until a build succeeds. Otherwise a failed build changed nothing. */
	bool partial;
} strata_build_report;

/* Validates, parses (PostgreSQL: libpg_query; SQLite: applied to an empty in-memory database)
 * and lints every migration of src_dir, then writes them to out_dir with manifest.json. Nothing
 * is written when a file is invalid, and out_dir is left as it was when build cannot write all
 * of it (every file and the manifest are written beside the old ones before any replaces them;
 * only a failure to put them in place leaves it part-way: the report's `partial`). *out is set
 * whatever the outcome (lint findings). */
STRATA_API int strata_build(const char *src_dir, const char *out_dir, const strata_build_options *o,
                            strata_build_report **out, strata_error *e);
STRATA_API void strata_build_report_free(strata_build_report *r);
/* The parse and lint of strata_build, writing nothing. Findings are not failures: 0 with any
 * number of them; < 0 on a syntax error (e at its place; *out holds the findings so far). */
STRATA_API int strata_lint(const char *src_dir, const strata_build_options *o,
                           strata_lint_report **out, strata_error *e);
STRATA_API void strata_lint_report_free(strata_lint_report *r);

/* Whether name may be a migration's name (the rule strata_build reads file names by). */
STRATA_API bool strata_name_valid(const char *name);
/* Writes dir/<unix ms>-<name>.sql with empty '-- migrate:up' and '-- migrate:down' sections,
 * creating dir when needed; *path_out (strata_free) is its path. */
STRATA_API int strata_create(const char *dir, const char *name, char **path_out, strata_error *e);

/* ---- seed --------------------------------------------------------------------------------- */

typedef enum strata_seed_conflict {
	STRATA_SEED_CONFLICT_ERROR,  /* a row whose primary key exists is an error */
	STRATA_SEED_CONFLICT_SKIP,   /* ... is skipped */
	STRATA_SEED_CONFLICT_UPDATE, /* ... is updated with the row's other columns */
} strata_seed_conflict;

typedef struct strata_seed_options {
	unsigned version;
	const char *const *files; /* JSON seed files: {"table": [{"column": value}, ...]} */
	size_t nfiles;
	strata_seed_conflict conflict;
	bool force;   /* load a file again although it changed since it was loaded */
	bool dry_run; /* do everything, then roll back */
	const strata_run_options *run; /* how pending migrations run first (NULL: the defaults) */
} strata_seed_options;

#define STRATA_SEED_OPTIONS_VERSION 1
#define STRATA_SEED_OPTIONS_INIT                                                                   \
	{                                                                                          \
		STRATA_SEED_OPTIONS_VERSION, NULL, 0, STRATA_SEED_CONFLICT_ERROR, false, false,    \
		    NULL                                                                           \
	}

typedef enum { STRATA_SEED_FILE_LOADED, STRATA_SEED_FILE_UNCHANGED } strata_seed_file_status;

typedef struct strata_seed_file_result {
	const char *path; /* as given */
	strata_seed_file_status status;
	bool forced; /* changed since it was recorded, loaded again with force */
	size_t rows;
	char sha256[65];
} strata_seed_file_result;

typedef struct strata_seed_table_count {
	char *name;
	size_t rows;
} strata_seed_table_count;

typedef struct strata_seed_report {
	strata_seed_file_result *files; /* one per file, in order; NULL when it did not load them */
	strata_seed_table_count *tables; /* in the order they were first written */
	size_t ntables;
	size_t rows;
	double scan_ms, load_ms, ms;
	strata_run_report *migrated; /* the pending migrations applied first (NULL: none to run) */
	size_t pending;              /* dry run: migrations pending, so nothing was loaded */
	bool rolled_back; /* it failed while loading the files: none of their rows stay */
} strata_seed_report;

/* Applies src's pending migrations (as strata_run, under the same lock; src NULL: none), then
 * loads the seed files in one transaction: every row or none. Every file is read and checked
 * before the database is touched; each is recorded in strata_seeds (an unchanged one is
 * skipped, a changed one refused unless force). */
STRATA_API int strata_seed(strata_db *db, strata_source *src, const strata_seed_options *o,
                           strata_seed_report **out, strata_error *e);
STRATA_API void strata_seed_report_free(strata_seed_report *r);

/* ---- adopt: take over a database another tool migrated -------------------------------------- */

typedef enum strata_tool {
	STRATA_TOOL_AUTO = 0,       /* the one tool whose history table holds entries */
	STRATA_TOOL_TYPEORM,        /* TypeORM (Medusa): migrations(id, timestamp, name) */
	STRATA_TOOL_DBMATE,         /* dbmate: schema_migrations(version) */
	STRATA_TOOL_GOLANG_MIGRATE, /* golang-migrate: schema_migrations(version, dirty) */
	STRATA_TOOL_GOOSE,  /* goose: goose_db_version(id, version_id, is_applied, tstamp) */
	STRATA_TOOL_FLYWAY, /* Flyway: flyway_schema_history(installed_rank, version, ...) */
	STRATA_TOOL_KNEX,   /* knex: knex_migrations(id, name, batch, migration_time) */
	STRATA_TOOL_SQITCH, /* sqitch: sqitch.changes(change, project, ...) (PostgreSQL) */
} strata_tool;

/* "typeorm", "dbmate", "golang-migrate" (also "migrate"), "goose", "flyway", "knex", "sqitch";
 * STRATA_EINVALID naming the known ones else. */
STRATA_API int strata_tool_parse(strata_tool *out, const char *name, strata_error *e);
/* The tool's name; "auto" for STRATA_TOOL_AUTO. */
STRATA_API const char *strata_tool_name(strata_tool t);

typedef struct strata_adopt_options {
	unsigned version;
	strata_tool tool;   /* STRATA_TOOL_AUTO: detect it */
	const char *table;  /* the tool's history table when renamed; NULL: its default */
	const char *schema; /* PostgreSQL: where that table is; NULL: the tool's default (sqitch:
	                       "sqitch"), else the first schema of the search_path that has it */
	bool dry_run;       /* report the mapping; take no lock, write nothing */
	const strata_run_options *run; /* the lock settings (NULL: the defaults) */
} strata_adopt_options;
#define STRATA_ADOPT_OPTIONS_VERSION 1
#define STRATA_ADOPT_OPTIONS_INIT                                                                  \
	{                                                                                          \
		STRATA_ADOPT_OPTIONS_VERSION, STRATA_TOOL_AUTO, NULL, NULL, false, NULL            \
	}

typedef enum strata_adopt_state {
	STRATA_ADOPT_ADOPTED = 0, /* applied by the tool: recorded as applied */
	STRATA_ADOPT_ONLY_THERE,  /* applied by the tool, but no migration of the source is it */
	STRATA_ADOPT_PENDING,     /* a migration of the source the tool never applied: runs next */
} strata_adopt_state;

typedef struct strata_adopt_entry {
	strata_adopt_state state;
	const char *version, *name; /* the strata migration (NULL for ONLY_THERE) */
	const char *file;           /* its file (NULL for ONLY_THERE) */
	const char *as; /* what the tool calls it ("CreateUsers1732233600000", "20240101120000",
	                   "version <= 7" for golang-migrate); NULL for PENDING */
} strata_adopt_entry;

typedef struct strata_adopt_report {
	strata_tool tool;  /* the tool adopted from (detected, with STRATA_TOOL_AUTO) */
	const char *table; /* its history table as read: "public.migrations" */
	size_t n;
	const strata_adopt_entry *entries; /* adopted and pending in version order, then the
	                                      tool's entries with no migration, in its order */
	size_t adopted, only_there, pending;
	bool dry_run; /* nothing was written */
	double ms;
} strata_adopt_report;

/*
 * Takes over a database another tool migrated: reads that tool's history from the database
 * (never changing it), matches each entry to a migration of src by the identity that tool uses,
 * and records the matches in strata's history as applied, with their files' checksums, in one
 * transaction under the migration lock: all or none. The rest of src stays pending. Refused,
 * changing nothing: a history that is not clean (golang-migrate dirty, a Flyway row that
 * failed, a goose version not applied, a held knex lock), strata's history not empty, the
 * tool's table not there, several tools' tables with entries and tool STRATA_TOOL_AUTO, an
 * entry that matches two migrations, and anything strata_run would refuse in src (a build that
 * does not match its manifest or is older than its source). docs/adopt.md says, tool by tool,
 * where the history is read and how it is matched.
 */
STRATA_API int strata_adopt(strata_db *db, strata_source *src, const strata_adopt_options *o,
                            strata_adopt_report **out, strata_error *e);
STRATA_API void strata_adopt_report_free(strata_adopt_report *r);

/* ---- the schema: dump, drift, reversibility ---------------------------------------------- */

typedef struct strata_schema_options {
	unsigned version;
	bool owners; /* ownership and grants too (PostgreSQL) */
	/* check and test: an empty database to use as the scratch one (everything in it is
	 * dropped first); NULL: PostgreSQL creates a database beside db's and drops it after,
	 * SQLite uses one in memory */
	const char *shadow_url;
	const char *from; /* test: apply migrations up to and including this version untested */
	const strata_run_options *run; /* check: the lock settings on db (NULL: the defaults) */
	/* version 2. test: the report lists no entry (n 0, entries NULL), only the counts; each
	 * entry is handed out as a STRATA_EVENT_TESTED event as its test ends (as it is whatever
	 * this says), so that memory does not grow with the number of migrations */
	bool no_entry_list;
} strata_schema_options;
#define STRATA_SCHEMA_OPTIONS_VERSION 2
#define STRATA_SCHEMA_OPTIONS_INIT                                                                 \
	{                                                                                          \
		STRATA_SCHEMA_OPTIONS_VERSION, false, NULL, NULL, NULL, false                      \
	}

typedef struct strata_schema_dump_report {
	char *sql; /* the schema as SQL that reloads: no version, date or random line; objects by
	              schema, kind and name, dependencies first */
	size_t len;
	size_t objects;
	char **warnings; /* objects that could not be dumped, each named */
	size_t nwarnings;
	double ms;
} strata_schema_dump_report;

/* The schema of db, read from its catalog (PostgreSQL: pg_catalog; SQLite: sqlite_schema and
 * pragmas), strata's own tables left out. Reads; changes nothing. */
STRATA_API int strata_schema_dump(strata_db *db, const strata_schema_options *o,
                                  strata_schema_dump_report **out, strata_error *e);
STRATA_API void strata_schema_dump_report_free(strata_schema_dump_report *d);

typedef enum strata_schema_diff_kind {
	STRATA_DIFF_MISSING = 1, /* the migrations make it; the database does not have it */
	STRATA_DIFF_EXTRA,       /* the database has it; the migrations do not make it */
	STRATA_DIFF_CHANGED,     /* both have it, different */
} strata_schema_diff_kind;

typedef struct strata_schema_difference {
	strata_schema_diff_kind kind;
	const char *object;   /* "table", "column", "index", ... */
	const char *schema;   /* NULL on SQLite */
	const char *name;     /* "orders", "orders.status" */
	const char *have;     /* what the database has (NULL when MISSING) */
	const char *expected; /* what the migrations make (NULL when EXTRA) */
	const char
	    *text; /* one line: "column orders.status: type text, expected type varchar(20)" */
} strata_schema_difference;

typedef struct strata_schema_diff {
	size_t n;
	const strata_schema_difference *items; /* by schema, object, name */
} strata_schema_diff;

typedef struct strata_schema_check_report {
	strata_schema_diff diff; /* empty: no drift */
	size_t applied;          /* migrations applied to the scratch database */
	double ms;
} strata_schema_check_report;

/*
 * Drift: applies db's applied migrations (those of its history, from src) to a scratch database,
 * dumps both and compares them object by object. Returns 0 whether or not they differ: the
 * report says. db is only read.
 */
STRATA_API int strata_schema_check(strata_db *db, strata_source *src,
                                   const strata_schema_options *o, strata_schema_check_report **out,
                                   strata_error *e);
STRATA_API void strata_schema_check_report_free(strata_schema_check_report *r);

typedef enum strata_test_result {
	STRATA_TEST_OK = 0,
	STRATA_TEST_UNTESTED,     /* before o->from: applied, not tested */
	STRATA_TEST_NO_DOWN,      /* it has no down section: it cannot be reverted */
	STRATA_TEST_UP_FAILED,    /* its up failed (error) */
	STRATA_TEST_DOWN_FAILED,  /* its down failed (error) */
	STRATA_TEST_NOT_RESTORED, /* its down left the schema different from before its up (diff) */
	STRATA_TEST_REUP_FAILED,  /* its up failed when run again after its down (error) */
} strata_test_result;

typedef struct strata_test_entry {
	const char *version, *name, *file;
	strata_test_result result;
	strata_schema_diff diff; /* NOT_RESTORED: after the down, against before the up */
	/* *_FAILED (and NOT_RESTORED whose up then failed again): the step that failed; else
	 * NULL. A pointer, not the error itself: an entry of 10,000 is 2.4 KB less. */
	const strata_error *error;
	double ms;
} strata_test_entry;

typedef struct strata_test_report {
	size_t n;
	const strata_test_entry *entries; /* in version order */
	size_t ok, failed, untested;
	double ms;
} strata_test_report;

/*
 * Reversibility: on a scratch database (db says which server, or SQLite), for each migration of
 * src in order: dump, up, dump, down, dump (must equal the first), up again. Stops at the first
 * migration whose up fails; the others are all reported. Returns 0 whether or not a migration
 * failed: the report says. db is not changed.
 */
STRATA_API int strata_test_migrations(strata_db *db, strata_source *src,
                                      const strata_schema_options *o, strata_test_report **out,
                                      strata_error *e);
STRATA_API void strata_test_report_free(strata_test_report *r);

/* ---- fleets: the same migrations on many databases ----------------------------------------- */

/* A database of a fleet. */
typedef struct strata_target {
	const char *url;    /* the database */
	const char *name;   /* what reports call it; NULL: its URL, password masked */
	const char *schema; /* PostgreSQL: a tenant schema in it (strata_db_options.schema); NULL */
} strata_target;

/* Hands out a fleet's targets one at a time: 1 with *t filled (its strings live until the next
 * call), 0 when there are no more, < 0 on an error (e filled). Called on one thread at a time. */
typedef int (*strata_targets_fn)(void *ud, strata_target *t, strata_error *e);

/* The lists strata reads itself: strata_targets_next is their strata_targets_fn. */
typedef struct strata_targets strata_targets;
/* A file, read as it is used (a list of any length takes the same memory): one target a line,
 * "URL" or "NAME URL"; '#' starts a comment; blank lines are skipped. */
STRATA_API int strata_targets_file(strata_targets **out, const char *path, strata_error *e);
/* The rows of sql run on db, read a page at a time: one column (the URL) or two (name, URL). */
STRATA_API int strata_targets_query(strata_targets **out, strata_db *db, const char *sql,
                                    strata_error *e);
/* Tenant schemas of the database at url: those given, or the rows of sql run on db (one column:
 * the schema's name), read a page at a time. */
STRATA_API int strata_targets_schemas(strata_targets **out, const char *url,
                                      const char *const *schemas, size_t n, strata_db *db,
                                      const char *sql, strata_error *e);
/* How many targets the list holds, counted once (a file's lines, a query's rows); -1 when it
 * cannot be told. */
STRATA_API long strata_targets_count(strata_targets *t, strata_error *e);
STRATA_API int strata_targets_next(void *targets, strata_target *t, strata_error *e);
STRATA_API void strata_targets_free(strata_targets *t);

typedef enum strata_fleet_op {
	STRATA_FLEET_RUN = 0, /* strata_run on each target */
	STRATA_FLEET_REVERT,  /* strata_revert */
	STRATA_FLEET_STATUS,  /* strata_status: what is pending where */
} strata_fleet_op;

typedef enum strata_target_state {
	STRATA_TARGET_DONE = 0,    /* it did what it had to (maybe nothing) */
	STRATA_TARGET_FAILED,      /* error says why */
	STRATA_TARGET_BUSY,        /* another runner holds its lock: skipped, not waited for */
	STRATA_TARGET_NOT_STARTED, /* the fleet stopped before it (a failure, a canary, an
	                              interrupt) */
} strata_target_state;

typedef struct strata_target_result {
	const char *name;    /* the target's name, else its URL masked */
	const char *display; /* its URL masked (with its schema) */
	size_t index;        /* its place in the list, from 0 */
	strata_target_state state;
	size_t applied;          /* run, revert: migrations applied or reverted */
	size_t pending, failing; /* status: migrations pending, and failed part-way */
	bool by_summary;         /* run: nothing to do, known from the history's summary */
	double ms;
	const strata_error *error; /* FAILED, BUSY */
} strata_target_result;

typedef struct strata_fleet_report {
	size_t targets; /* handed out by the list (in this shard) */
	size_t done, failed, busy, not_started;
	size_t running;     /* during on_target: targets being worked on */
	size_t other_shard; /* left to the other shards */
	size_t applied;     /* migrations applied or reverted, in all */
	size_t up_to_date;  /* done with nothing to do */
	bool canary_failed; /* a canary target failed: no other target was started */
	bool stopped;       /* a failure, an interrupt or the list's error stopped it early */
	double ms;
} strata_fleet_report;

/* Called as each target ends (also those not started), on the thread that ran it, one call at a
 * time; so_far counts what has ended, and what runs now. */
typedef void (*strata_target_fn)(const strata_target_result *r, const strata_fleet_report *so_far,
                                 void *userdata);

typedef struct strata_fleet_options {
	unsigned version;
	strata_fleet_op op;
	unsigned parallel; /* targets at a time, and connections; 0: the number of CPUs */
	size_t canary;     /* the first N targets run first; if one fails, no other starts */
	bool keep_going;   /* after a failure, start the others anyway (default: start no more and
	                      let those running finish) */
	bool wait_busy;    /* wait (run->lock_wait_ms) for a target another runner holds */
	unsigned shard, shards; /* only the targets whose stable hash (of name, else URL and
	                           schema) modulo shards is shard; shards 0: every target */
	int connect_wait_ms;
	const strata_run_options *run; /* each target's run (NULL: the defaults) */
	strata_target_fn on_target;
	void *userdata;
} strata_fleet_options;
#define STRATA_FLEET_OPTIONS_VERSION 1
#define STRATA_FLEET_OPTIONS_INIT                                                                  \
	{                                                                                          \
		STRATA_FLEET_OPTIONS_VERSION, STRATA_FLEET_RUN, 0, 0, false, false, 0, 0, 0, NULL, \
		    NULL, NULL                                                                     \
	}

/*
 * A fleet run: op on every target of the list, `parallel` at a time, each through the
 * single-database API (strata_db_open, strata_run ...) with its own connection and its own
 * migration lock, taken without waiting: a target another runner (another machine's fleet run)
 * holds is skipped as BUSY, so several fleet runners over one list share it safely. The list is
 * read as targets are started, so memory does not grow with its length. src is only read, by
 * every worker at once (the one use of a handle from several threads the library makes itself).
 */
typedef struct strata_fleet strata_fleet;
STRATA_API int strata_fleet_new(strata_fleet **out, strata_source *src, strata_targets_fn next,
                                void *next_ud, const strata_fleet_options *o, strata_error *e);
/* Runs it; returns 0 when it ran (whatever became of each target: the report says), < 0 when it
 * could not (the list failed to read). */
STRATA_API int strata_fleet_run(strata_fleet *f, strata_fleet_report *out, strata_error *e);
/* Async-signal-safe, from any thread: starts no more targets and interrupts those running
 * (strata_db_interrupt). */
STRATA_API void strata_fleet_interrupt(strata_fleet *f);
STRATA_API void strata_fleet_free(strata_fleet *f);

#ifdef __cplusplus
}
#endif

#endif
