/* sqlite_internal.h: what the files of the SQLite engine share (src/engine/sqlite/ only). */
#ifndef STRATA_ENGINE_SQLITE_INTERNAL_H
#define STRATA_ENGINE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>

#include "core/engine.h"

/* The statements each migration runs (sqlite.c), prepared on a connection's first use of each
 * and kept until it closes: a run of many small migrations parses none of them again. */
enum sqlite_kept { SQ_BEGIN, SQ_COMMIT, SQ_APPLIED, SQ_INSERT, SQ_DELETE, SQ_NKEPT };

typedef struct sqlite_conn {
	strata_conn base;
	sqlite3 *db;
	/* A file that is not there yet is made only when the first write takes the lock: until then
	 * db is an empty in-memory database (kept open till close, so that an interrupt from
	 * another thread never meets a closed handle), and `create` is the file's path. A run
	 * that stops at a malformed migration leaves no empty file behind. */
	sqlite3 *placeholder;
	char *create;
	int wait_ms; /* how long a write waits for another writer (the lock wait) */
	void (*on_wait)(void *ud, const char *holder); /* told once a wait begins */
	void *wait_ud;
	int lock_fd; /* the run's flock on the file (sqlite_lock.c): its descriptor + 1, 0: none */
	sqlite3_stmt *kept[SQ_NKEPT]; /* on db; reset after each use; NULL: not prepared yet */
} sqlite_conn;

/* sqlite.c: fills e from db's last error (its message; STRATA_ELOCKED when the database is busy,
 * else STRATA_EDB) and returns the code. The callers add what they know: an interrupt, a hint. */
int strata_sqlite__error(sqlite3 *db, strata_error *e);
/* sqlite_lock.c: the run's lock (an flock on the file, waiting up to o->wait_ms), and its end */
int strata_sqlite__run_lock(sqlite_conn *s, const strata_lock_opts *o, strata_error *e);
void strata_sqlite__run_unlock(sqlite_conn *s);
/* sqlite_schema.c: engine.h's schema_read. */
struct strata_schema;
int strata_sqlite__schema_read(strata_conn *b, unsigned flags, struct strata_schema *out,
                               strata_error *e);
int strata_sqlite__scratch_create(strata_conn *b, char **url, strata_error *e);
void strata_sqlite__scratch_drop(strata_conn *b, const char *url);
int strata_sqlite__schema_reset(strata_conn *b, strata_error *e);
int strata_sqlite__same_database(strata_conn *a, strata_conn *b, strata_error *e);

/* sqlite.c: the rows of st into out, sorted, st finalized: version, name, checksum, applied_at,
 * duration_ms, status, progress, out_of_order, then previous_checksum and accepted_at (read
 * when `accepted`), then the applied order's rank (read when `rank`). */
int strata_sqlite__history_rows(sqlite_conn *s, sqlite3_stmt *st, strata_history *out,
                                bool accepted, bool rank, strata_error *e);
/* sqlite_each.c: history_newest and history_each (core/engine.h). */
int strata_sqlite__history_newest(strata_conn *b, size_t k, const strata_applied *after,
                                  strata_history *out, strata_error *e);
int strata_sqlite__history_each(strata_conn *b, unsigned flags,
                                int (*fn)(void *ud, const strata_applied *a), void *ud,
                                strata_error *e);
/* sqlite_history.c: whether the history table has the columns of STRATA_HISTORY_ACCEPTED (*has),
 * adding them when it lacks them and `add`; no table: *has false, and 0. */
int strata_sqlite__accepted_columns(sqlite_conn *s, bool add, bool *has, strata_error *e);
/* the engine's history_edit */
int strata_sqlite__history_edit(strata_conn *b, const strata_history_edit *ed, size_t n,
                                strata_error *e);

#endif
