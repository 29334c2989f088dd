/*
 * sqlite.c: the SQLite backend, the embedded default.
 *
 * A transactional migration runs inside BEGIN IMMEDIATE, which takes the database's write lock
 * (waiting up to the lock wait through sqlite3_busy_timeout). Inside it we check the history
 * again, so when several runners race, each migration is applied exactly once: a runner that
 * finds its step done by another reports STRATA_EEXISTS and moves on.
 */
#include "backend/sqlite.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sqlsplit.h"
#include "util/clock.h"
#include "util/error.h"

typedef struct sqlite_backend {
	strata_backend base;
	sqlite3 *db;
	int wait_ms; /* how long a write waits for another writer (the lock wait) */
} sqlite_backend;

static int set_db_error(sqlite_backend *s, strata_error *e)
{
	int rc = sqlite3_extended_errcode(s->db);
	if ((rc & 0xff) == SQLITE_INTERRUPT || s->base.interrupted)
		return strata_backend_interrupted(e);
	strata_error_set(e, (rc & 0xff) == SQLITE_BUSY ? STRATA_ELOCKED : STRATA_EDB, "%s",
	                 sqlite3_errmsg(s->db));
	if ((rc & 0xff) == SQLITE_BUSY)
		strata_error_hint(e, "another process is writing to the database; wait longer "
		                     "with --lock-wait");
	return e->code;
}

static int exec(sqlite_backend *s, const char *sql, strata_error *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return set_db_error(s, e);
	return 0;
}

static int sq_open(strata_backend **out, const strata_dburl *url, unsigned flags, strata_error *e)
{
	sqlite_backend *s = calloc(1, sizeof(*s));
	const char *path = url->target;
	int rc;

	*out = NULL;
	if (!s)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->base.ops = &strata_sqlite_ops;
	s->base.url = url;
	/* a file that is not there reads as an empty database, and is not made */
	if ((flags & STRATA_OPEN_NO_CREATE) && access(path, F_OK) != 0 && errno == ENOENT) {
		path = ":memory:";
		s->base.missing = true;
	}
	rc = sqlite3_open_v2(path, &s->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		strata_error_set(e, STRATA_ECONNECT, "cannot open SQLite database '%s': %s",
		                 url->target, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		strata_error_hint(e, "does the directory exist, and may this user write to it?");
		sqlite3_close(s->db);
		free(s);
		return STRATA_ECONNECT;
	}
	sqlite3_extended_result_codes(s->db, 1);
	*out = &s->base;
	return 0;
}

static void sq_close(strata_backend *b)
{
	sqlite_backend *s = (sqlite_backend *)b;
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

/* sqlite3_busy_timeout's wait, which also ends when the backend is interrupted: the busy
 * handler is called with the number of times it was called for this lock. */
static int on_busy(void *arg, int count)
{
	static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
	const int n = (int)(sizeof(delays) / sizeof(delays[0]));
	sqlite_backend *s = arg;
	int waited = 0, delay;
	struct timespec ts;
	if (s->base.interrupted)
		return 0;
	for (int i = 0; i < count; i++)
		waited += i < n ? delays[i] : delays[n - 1];
	delay = count < n ? delays[count] : delays[n - 1];
	if (waited >= s->wait_ms)
		return 0;
	if (delay > s->wait_ms - waited)
		delay = s->wait_ms - waited;
	ts.tv_sec = delay / 1000;
	ts.tv_nsec = (long)(delay % 1000) * 1000000L;
	nanosleep(&ts, NULL); /* a signal ends it early: then the flag is set */
	return !s->base.interrupted;
}

static int sq_lock(strata_backend *b, int wait_ms, strata_error *e)
{
	sqlite_backend *s = (sqlite_backend *)b;
	(void)e;
	s->wait_ms = wait_ms > 0 ? wait_ms : 0;
	sqlite3_busy_handler(s->db, on_busy, s);
	return 0;
}

static void sq_interrupt(strata_backend *b)
{
	sqlite3_interrupt(((sqlite_backend *)b)->db);
}

/* Both strategies are SQLite's own write lock: no pooler sits in front of a file, and the
 * operating system drops the lock of a process that dies, so `table` needs no row and no ttl. */
static int sq_lock_with(strata_backend *b, const strata_lock_opts *o, strata_error *e)
{
	return sq_lock(b, o->wait_ms, e);
}

static void sq_unlock(strata_backend *b)
{
	(void)b;
}

static int sq_history_load(strata_backend *b, strata_history *out, unsigned flags, strata_error *e)
{
	sqlite_backend *s = (sqlite_backend *)b;
	bool create = flags & STRATA_HISTORY_CREATE; /* BRIEF: a local read is cheap in full */
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	memset(out, 0, sizeof(*out));
	if (create && (error = exec(s,
	                            "CREATE TABLE IF NOT EXISTS " STRATA_HISTORY_TABLE " ("
	                            "version TEXT NOT NULL, name TEXT NOT NULL, "
	                            "checksum TEXT NOT NULL, "
	                            "applied_at TEXT NOT NULL DEFAULT "
	                            "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), "
	                            "duration_ms REAL NOT NULL DEFAULT 0, "
	                            "status TEXT NOT NULL DEFAULT 'applied', "
	                            "progress INTEGER NOT NULL DEFAULT 0, "
	                            "out_of_order INTEGER NOT NULL DEFAULT 0, "
	                            "PRIMARY KEY (version, name))",
	                            e)) < 0)
		return error;
	rc = sqlite3_prepare_v2(
	    s->db,
	    "SELECT version, name, checksum, applied_at, duration_ms, status, progress, "
	    "out_of_order FROM " STRATA_HISTORY_TABLE,
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (!create && strstr(sqlite3_errmsg(s->db), "no such table"))
			return 0;
		return set_db_error(s, e);
	}
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int status = strata_applied_status_parse((const char *)sqlite3_column_text(st, 5));
		strata_applied *a;
		error = strata_history_add(out, (const char *)sqlite3_column_text(st, 0),
		                           (const char *)sqlite3_column_text(st, 1),
		                           (const char *)sqlite3_column_text(st, 2),
		                           (const char *)sqlite3_column_text(st, 3),
		                           sqlite3_column_double(st, 4), e);
		if (error < 0)
			break;
		a = &out->items[out->n - 1];
		a->status = status < 0 ? STRATA_APPLIED_FAILED : (strata_applied_status)status;
		a->progress = sqlite3_column_int(st, 6);
		a->out_of_order = sqlite3_column_int(st, 7) != 0;
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = set_db_error(s, e);
	sqlite3_finalize(st);
	if (error < 0)
		strata_history_free(out);
	else
		strata_history_sort(out);
	return error;
}

static int nt_record(sqlite_backend *s, const strata_step *step, strata_applied_status st,
                     int progress, double ms, strata_error *e);

/* Prepares and runs one statement of the section (its text holds more than one only when
 * SQLite's tokenizer and parser disagree); on failure places e at file:line:col. */
static int run_statement(sqlite_backend *s, const strata_section *sec, const strata_sql_piece *pc,
                         strata_error *e)
{
	const char *text = pc->text, *p = text, *end = text + (pc->end - pc->off);
	int error = 0;

	while (p < end) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		/* the length counts the NUL after the statement: SQLite then reads it in place
		 * instead of copying it */
		int rc = sqlite3_prepare_v2(s->db, p, (int)(end - p) + 1, &st, &tail);
		if (rc == SQLITE_OK && !st)
			break; /* only white space and comments are left */
		if (rc == SQLITE_OK) {
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				;
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
		if (rc != SQLITE_OK) {
			int off = sqlite3_error_offset(s->db);
			size_t at = strata_sql_skip_blank(STRATA_DIALECT_SQLITE, text,
			                                  (size_t)(p - text), (size_t)(end - text));
			error = set_db_error(s, e);
			if (off >= 0 && p + off < end)
				at = (size_t)(p - text) + (size_t)off;
			strata_section_locate(sec, pc->off + at, e);
			sqlite3_finalize(st);
			break;
		}
		sqlite3_finalize(st);
		if (!tail || tail <= p)
			break;
		p = tail;
	}
	return error;
}

/* Runs the statements of the section from statement `from` (0-based) on; on failure places e at
 * file:line:col and sets *failed_at to the failing statement's index. With `track`, records
 * progress after each statement (transaction:false up sections). *count gets the number of
 * statements in the section. SQLite's own tokenizer splits them (core/sqlsplit.h), so a later
 * statement may name a table that an earlier one creates, and statements done before are
 * skipped without being prepared. */
static int run_section(sqlite_backend *s, const strata_section *sec, int from,
                       const strata_step *track, int *count, int *failed_at, strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece pc;
	strata_error ignored = STRATA_ERROR_INIT;
	int error, more, idx = 0;

	*count = 0;
	if ((error = strata_sql_split_new(&sp, STRATA_DIALECT_SQLITE, sec, e)) < 0)
		return error;
	while ((more = strata_sql_split_next(sp, &pc, e)) > 0) {
		idx++;
		if (idx <= from) /* done before */
			continue;
		if ((error = run_statement(s, sec, &pc, e)) < 0) {
			*failed_at = idx - 1;
			break;
		}
		if (track && (error = nt_record(s, track, STRATA_APPLIED_RUNNING, idx, 0, e)) < 0)
			break;
	}
	if (error == 0 && more < 0)
		error = more;
	/* how many the section has, for the report of a transaction:false failure */
	while (error < 0 && strata_sql_split_next(sp, &pc, &ignored) > 0)
		idx++;
	*count = idx;
	strata_sql_split_free(sp);
	return error;
}

static int history_change(sqlite_backend *s, const strata_step *step, double ms, strata_error *e)
{
	const char *sql = step->dir == STRATA_UP
	                      ? "INSERT INTO " STRATA_HISTORY_TABLE
	                        " (version, name, checksum, duration_ms, out_of_order) "
	                        "VALUES (?1, ?2, ?3, ?4, ?5)"
	                      : "DELETE FROM " STRATA_HISTORY_TABLE
	                        " WHERE version = ?1 AND name = ?2";
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return set_db_error(s, e);
	sqlite3_bind_text(st, 1, step->m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, step->m->name, -1, SQLITE_STATIC);
	if (step->dir == STRATA_UP) {
		sqlite3_bind_text(st, 3, step->m->checksum, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, ms);
		sqlite3_bind_int(st, 5, step->out_of_order);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		error = set_db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

/* The history row of a transaction:false up section, written as it goes. */
static int nt_record(sqlite_backend *s, const strata_step *step, strata_applied_status status,
                     int progress, double ms, strata_error *e)
{
	const char *sql =
	    status == STRATA_APPLIED_RUNNING
	        ? "INSERT INTO " STRATA_HISTORY_TABLE " (version, name, checksum, out_of_order, "
	          "status, progress) VALUES (?1, ?2, ?3, ?4, 'running', ?5) ON CONFLICT (version, "
	          "name) DO UPDATE SET status = 'running', progress = excluded.progress, "
	          "checksum = excluded.checksum"
	        : "UPDATE " STRATA_HISTORY_TABLE " SET status = ?6, progress = ?5, "
	          "duration_ms = ?7, applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	          "WHERE version = ?1 AND name = ?2";
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return set_db_error(s, e);
	sqlite3_bind_text(st, 1, step->m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, step->m->name, -1, SQLITE_STATIC);
	if (status == STRATA_APPLIED_RUNNING) {
		sqlite3_bind_text(st, 3, step->m->checksum, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, step->out_of_order);
	} else {
		sqlite3_bind_text(st, 6, strata_applied_status_name(status), -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 7, ms);
	}
	sqlite3_bind_int(st, 5, progress);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = set_db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

/* Whether the step was already done (by a runner that got the write lock first). */
static int already_done(sqlite_backend *s, const strata_step *step, strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc, applied;
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT 1 FROM " STRATA_HISTORY_TABLE
	                       " WHERE version = ?1 AND name = ?2 AND status = 'applied'",
	                       -1, &st, NULL) != SQLITE_OK)
		return set_db_error(s, e);
	sqlite3_bind_text(st, 1, step->m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, step->m->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return set_db_error(s, e);
	applied = rc == SQLITE_ROW;
	return step->dir == STRATA_UP ? applied : !applied;
}

static int sq_apply(strata_backend *b, const strata_step *step, const strata_apply_opts *o,
                    strata_apply_result *res, strata_error *e)
{
	sqlite_backend *s = (sqlite_backend *)b;
	const strata_section *sec = step->dir == STRATA_UP ? &step->m->up : &step->m->down;
	bool no_txn = sec->no_transaction && !o->fake && !o->in_transaction;
	bool own_txn = !o->in_transaction && !no_txn;
	const strata_step *track = no_txn && step->dir == STRATA_UP ? step : NULL;
	double t0 = strata_now_ms();
	int error = 0, done;

	res->statements = 0;
	res->failed_at = -1;
	if (own_txn && (error = exec(s, "BEGIN IMMEDIATE", e)) < 0)
		return error;
	if ((done = already_done(s, step, e)) != 0) {
		error = done < 0 ? done : STRATA_EEXISTS;
		goto done;
	}
	if (track &&
	    (error = nt_record(s, step, STRATA_APPLIED_RUNNING, step->resume_from, 0, e)) < 0)
		goto done;
	if (!o->fake && (error = run_section(s, sec, step->resume_from, track, &res->statements,
	                                     &res->failed_at, e)) < 0) {
		if (track) {
			strata_error saved = *e;
			nt_record(s, step, STRATA_APPLIED_FAILED, res->failed_at, 0, e);
			*e = saved;
		}
		goto done;
	}
	/* the time recorded is the time reported (run and show agree) */
	res->duration_ms = strata_now_ms() - t0;
	if (track)
		error = nt_record(s, step, STRATA_APPLIED_OK, res->statements, res->duration_ms, e);
	else
		error = history_change(s, step, res->duration_ms, e);
	if (error == 0 && own_txn)
		error = exec(s, "COMMIT", e);
done:
	if (error < 0 && own_txn && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (error < 0 && !no_txn)
		res->failed_at = -1;
	return error;
}

static int sq_mark_applied(strata_backend *b, const strata_migration *m, strata_error *e)
{
	sqlite_backend *s = (sqlite_backend *)b;
	sqlite3_stmt *st = NULL;
	int error = 0;
	if (sqlite3_prepare_v2(s->db,
	                       "UPDATE " STRATA_HISTORY_TABLE
	                       " SET status = 'applied', checksum = ?3, "
	                       "applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	                       "WHERE version = ?1 AND name = ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return set_db_error(s, e);
	sqlite3_bind_text(st, 1, m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->checksum, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = set_db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

static int sq_begin(strata_backend *b, strata_error *e)
{
	return exec((sqlite_backend *)b, "BEGIN IMMEDIATE", e);
}

static int sq_commit(strata_backend *b, strata_error *e)
{
	return exec((sqlite_backend *)b, "COMMIT", e);
}

static void sq_rollback(strata_backend *b)
{
	sqlite_backend *s = (sqlite_backend *)b;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void *sq_native(strata_backend *b)
{
	return ((sqlite_backend *)b)->db;
}

const struct strata_backend_ops strata_sqlite_ops = {
    .version = STRATA_BACKEND_OPS_VERSION,
    .name = "sqlite",
    .open = sq_open,
    .lock = sq_lock,
    .unlock = sq_unlock,
    .history_load = sq_history_load,
    .apply = sq_apply,
    .mark_applied = sq_mark_applied,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .close = sq_close,
    .native = sq_native,
    .lock_with = sq_lock_with,
    .interrupt = sq_interrupt,
};
