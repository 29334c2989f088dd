/*
 * sqlite.c: the SQLite engine, the embedded default.
 *
 * A transactional migration runs inside BEGIN IMMEDIATE, which takes the database's write lock
 * (waiting up to the lock wait in a busy handler that an interrupt ends). Inside it we check the
 * history
 * again, so when several runners race, each migration is applied exactly once: a runner that
 * finds its step done by another reports STRATA_EEXISTS and moves on.
 */
#include "engine/sqlite/sqlite.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/seed_engine.h"
#include "core/sqlsplit.h"
#include "engine/sqlite/sqlite_internal.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/text.h"

int strata_sqlite__error(sqlite3 *db, strata_error *e)
{
	int rc = sqlite3_extended_errcode(db);
	/* no sqlstate: SQLite's result codes are not SQLSTATEs, and shown as such they mislead */
	return strata_error_set(e, (rc & 0xff) == SQLITE_BUSY ? STRATA_ELOCKED : STRATA_EDB, "%s",
	                        sqlite3_errmsg(db));
}

static int set_db_error(sqlite_conn *s, strata_error *e)
{
	int rc = sqlite3_extended_errcode(s->db);
	if ((rc & 0xff) == SQLITE_INTERRUPT || s->base.interrupted)
		return strata_conn_interrupted(e);
	if (strata_sqlite__error(s->db, e) == STRATA_ELOCKED)
		strata_error_hint(e, "another process is writing to the database; wait longer "
		                     "with lock_wait_ms");
	return e->code;
}

static int exec(sqlite_conn *s, const char *sql, strata_error *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return set_db_error(s, e);
	return 0;
}

static const char *const kept_sql[SQ_NKEPT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_APPLIED] = "SELECT 1 FROM " STRATA_HISTORY_TABLE
                   " WHERE version = ?1 AND name = ?2 AND status = 'applied'",
    [SQ_INSERT] =
        "INSERT INTO " STRATA_HISTORY_TABLE " (version, name, checksum, duration_ms, out_of_order) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_DELETE] = "DELETE FROM " STRATA_HISTORY_TABLE " WHERE version = ?1 AND name = ?2",
};

/* The connection's kept statement `id`, prepared on its first use. After a schema change SQLite
 * prepares it again by itself, on its next step. */
static int kept(sqlite_conn *s, enum sqlite_kept id, sqlite3_stmt **st, strata_error *e)
{
	*st = s->kept[id];
	if (*st)
		return 0;
	if (sqlite3_prepare_v3(s->db, kept_sql[id], -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
	    SQLITE_OK)
		return set_db_error(s, e);
	s->kept[id] = *st;
	return 0;
}

/* A statement done with: a kept one reset, with its parameters cleared, for its next use (so it
 * holds no read open and points to no caller's string); any other finalized. NULL-safe. */
static void release(sqlite_conn *s, sqlite3_stmt *st)
{
	for (int i = 0; st && i < SQ_NKEPT; i++) {
		if (st == s->kept[i]) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

static void kept_free(sqlite_conn *s)
{
	for (int i = 0; i < SQ_NKEPT; i++) {
		sqlite3_finalize(s->kept[i]);
		s->kept[i] = NULL;
	}
}

/* BEGIN IMMEDIATE or COMMIT, by its kept statement. */
static int exec_kept(sqlite_conn *s, enum sqlite_kept id, strata_error *e)
{
	sqlite3_stmt *st;
	int error = kept(s, id, &st, e);
	if (error == 0 && sqlite3_step(st) != SQLITE_DONE)
		error = set_db_error(s, e);
	release(s, st);
	return error;
}

static int open_file(sqlite3 **db, const char *path, const strata_dburl *url, strata_error *e)
{
	int rc = sqlite3_open_v2(
	    path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		strata_error_set(e, STRATA_ECONNECT, "cannot open SQLite database '%s': %s",
		                 url->target, *db ? sqlite3_errmsg(*db) : "out of memory");
		strata_error_hint(e, "does the directory exist, and may this user write to it?");
		sqlite3_close(*db);
		*db = NULL;
		return STRATA_ECONNECT;
	}
	sqlite3_extended_result_codes(*db, 1);
	return 0;
}

/* Whether a file may be made at path: its directory exists and this user may write there. */
static bool can_create(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		return access(".", W_OK | X_OK) == 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return true; /* let SQLite say */
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return access(slash == path ? "/" : dir, W_OK | X_OK) == 0;
}

static int sq_open(strata_conn **out, const strata_dburl *url, unsigned flags, strata_error *e)
{
	sqlite_conn *s = calloc(1, sizeof(*s));
	const char *path = url->target;
	bool absent, uri = strncmp(path, "file:", 5) == 0;
	int error;

	*out = NULL;
	if (!s)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->base.engine = &strata_sqlite_engine;
	s->base.url = url;
	absent =
	    !uri && strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0 && errno == ENOENT;
	if (absent && !(flags & STRATA_OPEN_NO_CREATE) && !can_create(path)) {
		free(s);
		strata_error_set(e, STRATA_ECONNECT,
		                 "cannot open SQLite database '%s': unable to open database file",
		                 url->target);
		strata_error_hint(e, "does the directory exist, and may this user write to it?");
		return STRATA_ECONNECT;
	}
	/* a file that is not there reads as an empty database, and is made only to be written */
	if (absent) {
		s->base.missing = true;
		if (!(flags & STRATA_OPEN_NO_CREATE) && !(s->create = strdup(path))) {
			free(s);
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		path = ":memory:";
	}
	if ((error = open_file(&s->db, path, url, e)) < 0) {
		free(s->create);
		free(s);
		return error;
	}
	*out = &s->base;
	return 0;
}

/* The file of a connection opened on one that was not there: made now, to be written. */
static int materialize(sqlite_conn *s, strata_error *e)
{
	sqlite3 *db = NULL;
	int error;
	if (!s->create)
		return 0;
	if ((error = open_file(&db, s->create, s->base.url, e)) < 0)
		return error;
	kept_free(s); /* they were on the placeholder */
	s->placeholder = s->db;
	s->db = db;
	free(s->create);
	s->create = NULL;
	s->base.missing = false;
	return 0;
}

static void sq_close(strata_conn *b)
{
	sqlite_conn *s = (sqlite_conn *)b;
	if (!s)
		return;
	strata_sqlite__run_unlock(s);
	kept_free(s);
	sqlite3_close(s->db);
	sqlite3_close(s->placeholder);
	free(s->create);
	free(s);
}

/* sqlite3_busy_timeout's wait, which also ends when the backend is interrupted: the busy
 * handler is called with the number of times it was called for this lock. */
static int on_busy(void *arg, int count)
{
	static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
	const int n = (int)(sizeof(delays) / sizeof(delays[0]));
	sqlite_conn *s = arg;
	int waited = 0, delay;
	struct timespec ts;
	if (s->base.interrupted)
		return 0;
	if (count == 0 && s->on_wait)
		s->on_wait(s->wait_ud, "another process is writing to the database");
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

/* Both strategies are SQLite's own write lock, taken by each migration's BEGIN IMMEDIATE: no
 * pooler sits in front of a file, and the operating system drops the lock of a process that
 * dies, so `table` needs no row and no ttl. Here the wait for it is set. */
static int sq_lock(strata_conn *b, const strata_lock_opts *o, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	int error;
	if ((error = materialize(s, e)) < 0)
		return error;
	s->wait_ms = o->wait_ms > 0 ? o->wait_ms : 0;
	s->on_wait = o->on_wait;
	s->wait_ud = o->ud;
	sqlite3_busy_handler(s->db, on_busy, s);
	return strata_sqlite__run_lock(s, o, e);
}

static void sq_interrupt(strata_conn *b)
{
	sqlite3_interrupt(((sqlite_conn *)b)->db);
}

static void sq_unlock(strata_conn *b)
{
	strata_sqlite__run_unlock((sqlite_conn *)b);
}

#define HISTORY_SELECT                                                                             \
	"SELECT version, name, checksum, applied_at, duration_ms, status, progress, out_of_order"
#define HISTORY_FROM " FROM " STRATA_HISTORY_TABLE
#define HISTORY_RANK ", row_number() OVER (ORDER BY applied_at, rowid)"

int strata_sqlite__history_rows(sqlite_conn *s, sqlite3_stmt *st, strata_history *out,
                                bool accepted, bool rank, strata_error *e)
{
	int rc, error = 0;
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
		if (accepted)
			error = strata_applied_set_accepted(
			    a, (const char *)sqlite3_column_text(st, 8),
			    (const char *)sqlite3_column_text(st, 9), e);
		if (rank)
			a->applied_rank = (uint64_t)sqlite3_column_int64(st, 10);
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

static int sq_history_load(strata_conn *b, strata_history *out, unsigned flags, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	bool create = flags & STRATA_HISTORY_CREATE; /* BRIEF: a local read is cheap in full */
	bool accepted; /* the table has previous_checksum and accepted_at */
	bool rank = flags & STRATA_HISTORY_APPLIED_ORDER;
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	memset(out, 0, sizeof(*out));
	if (create && (error = materialize(s, e)) < 0)
		return error;
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
	                            "previous_checksum TEXT, accepted_at TEXT, "
	                            "PRIMARY KEY (version, name))",
	                            e)) < 0)
		return error;
	if ((error = strata_sqlite__accepted_columns(s, create && (flags & STRATA_HISTORY_ACCEPTED),
	                                             &accepted, e)) < 0)
		return error;
	/* rowid: the order rows were inserted in, for applied_at ties (a second or a millisecond
	 * holds several migrations) */
	rc = sqlite3_prepare_v2(
	    s->db,
	    accepted ? (rank ? HISTORY_SELECT
	                    ", previous_checksum, accepted_at" HISTORY_RANK HISTORY_FROM
	                     : HISTORY_SELECT ", previous_checksum, accepted_at" HISTORY_FROM)
	             : (rank ? HISTORY_SELECT ", NULL, NULL" HISTORY_RANK HISTORY_FROM
	                     : HISTORY_SELECT HISTORY_FROM),
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (!create && strstr(sqlite3_errmsg(s->db), "no such table"))
			return 0;
		return set_db_error(s, e);
	}
	return strata_sqlite__history_rows(s, st, out, accepted, rank, e);
}

static int nt_record(sqlite_conn *s, const strata_step *step, strata_applied_status st,
                     int progress, double ms, strata_error *e);

/* Prepares and runs one statement of the section (its text holds more than one only when
 * SQLite's tokenizer and parser disagree); on failure places e at file:line:col. */
static int run_statement(sqlite_conn *s, const strata_section *sec, const strata_sql_piece *pc,
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
static int run_section(sqlite_conn *s, const strata_section *sec, int from,
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

/* A statement on the history row of m: sql prepared (or, sql NULL, the kept statement `id`),
 * with ?1 and ?2 bound to its version and name. */
static int row_stmt(sqlite_conn *s, const char *sql, enum sqlite_kept id, const strata_migration *m,
                    sqlite3_stmt **st, strata_error *e)
{
	*st = NULL;
	if (!sql) {
		int error = kept(s, id, st, e);
		if (error < 0)
			return error;
	} else if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		return set_db_error(s, e);
	}
	sqlite3_bind_text(*st, 1, m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, m->name, -1, SQLITE_STATIC);
	return 0;
}

/* Runs a statement that returns no row, and releases it. */
static int row_done(sqlite_conn *s, sqlite3_stmt *st, strata_error *e)
{
	int error = sqlite3_step(st) != SQLITE_DONE ? set_db_error(s, e) : 0;
	release(s, st);
	return error;
}

static int history_change(sqlite_conn *s, const strata_step *step, double ms, strata_error *e)
{
	sqlite3_stmt *st;
	int error =
	    row_stmt(s, NULL, step->dir == STRATA_UP ? SQ_INSERT : SQ_DELETE, step->m, &st, e);

	if (error < 0)
		return error;
	if (step->dir == STRATA_UP) {
		sqlite3_bind_text(st, 3, step->m->checksum, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, ms);
		sqlite3_bind_int(st, 5, step->out_of_order);
	}
	return row_done(s, st, e);
}

/* The history row of a transaction:false up section, written as it goes. */
static int nt_record(sqlite_conn *s, const strata_step *step, strata_applied_status status,
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
	sqlite3_stmt *st;
	int error = row_stmt(s, sql, SQ_NKEPT, step->m, &st, e);

	if (error < 0)
		return error;
	if (status == STRATA_APPLIED_RUNNING) {
		sqlite3_bind_text(st, 3, step->m->checksum, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, step->out_of_order);
	} else {
		sqlite3_bind_text(st, 6, strata_applied_status_name(status), -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 7, ms);
	}
	sqlite3_bind_int(st, 5, progress);
	return row_done(s, st, e);
}

/* Whether the step was already done (by a runner that got the write lock first). */
static int already_done(sqlite_conn *s, const strata_step *step, strata_error *e)
{
	sqlite3_stmt *st;
	int rc, applied;
	if ((rc = row_stmt(s, NULL, SQ_APPLIED, step->m, &st, e)) < 0)
		return rc;
	rc = sqlite3_step(st);
	applied = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		applied = set_db_error(s, e);
	release(s, st);
	if (applied < 0)
		return applied;
	return step->dir == STRATA_UP ? applied : !applied;
}

static int sq_apply(strata_conn *b, const strata_step *step, const strata_apply_opts *o,
                    strata_apply_result *res, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	const strata_section *sec = step->dir == STRATA_UP ? &step->m->up : &step->m->down;
	bool no_txn = sec->no_transaction && !o->fake && !o->in_transaction;
	bool own_txn = !o->in_transaction && !no_txn;
	const strata_step *track = no_txn && step->dir == STRATA_UP ? step : NULL;
	double t0 = strata_now_ms();
	int error = 0, done;

	res->statements = 0;
	res->failed_at = -1;
	if (own_txn && (error = exec_kept(s, SQ_BEGIN, e)) < 0)
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
		error = exec_kept(s, SQ_COMMIT, e);
done:
	if (error < 0 && own_txn && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (error < 0 && !no_txn)
		res->failed_at = -1;
	return error;
}

static int sq_mark_applied(strata_conn *b, const strata_migration *m, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *st;
	int error =
	    row_stmt(s,
	             "UPDATE " STRATA_HISTORY_TABLE " SET status = 'applied', checksum = ?3, "
	             "applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	             "WHERE version = ?1 AND name = ?2",
	             SQ_NKEPT, m, &st, e);
	if (error < 0)
		return error;
	sqlite3_bind_text(st, 3, m->checksum, -1, SQLITE_STATIC);
	return row_done(s, st, e);
}

/* A run's one transaction (step NULL), or a C step's: BEGIN IMMEDIATE, then, for a step, whether
 * another runner did it already (STRATA_EEXISTS, rolled back). */
static int sq_begin(strata_conn *b, const strata_step *step, const strata_apply_opts *o,
                    strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	int error, done;
	(void)o; /* no lock or statement timeout on SQLite */
	if ((error = exec_kept(s, SQ_BEGIN, e)) < 0 || !step)
		return error;
	if ((done = already_done(s, step, e)) != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return done < 0 ? done : STRATA_EEXISTS;
	}
	return 0;
}

/* A C step's history change, in its transaction. */
static int sq_record(strata_conn *b, const strata_step *step, double ms, strata_apply_result *r,
                     strata_error *e)
{
	r->duration_ms = ms;
	return history_change((sqlite_conn *)b, step, ms, e);
}

static int sq_commit(strata_conn *b, strata_error *e)
{
	return exec_kept((sqlite_conn *)b, SQ_COMMIT, e);
}

static void sq_rollback(strata_conn *b)
{
	sqlite_conn *s = (sqlite_conn *)b;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A C step's SQL, in its transaction. */
static int sq_exec_sql(strata_conn *b, const char *sql, strata_error *e)
{
	return exec((sqlite_conn *)b, sql, e);
}

/* Binds params[i] to $<i+1> (or ?<i+1>, else the (i+1)-th parameter). */
static int bind_params(sqlite3_stmt *st, const char *const *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[24];
		int idx;
		snprintf(name, sizeof(name), "$%zu", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (!idx) {
			name[0] = '?';
			idx = sqlite3_bind_parameter_index(st, name);
		}
		if (!idx)
			idx = (int)i + 1;
		if ((params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT)
		               : sqlite3_bind_null(st, idx)) != SQLITE_OK)
			return -1;
	}
	return 0;
}

static int sq_query(strata_conn *b, const char *sql, const char *const *params, size_t n,
                    strata_rows **out, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *st = NULL;
	const char **row = NULL;
	int rc, cols, error = 0;

	*out = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK || !st ||
	    bind_params(st, params, n) < 0) {
		error = st ? set_db_error(s, e)
		           : strata_error_set(e, STRATA_EINVALID, "no statement in the query");
		goto done;
	}
	cols = sqlite3_column_count(st);
	if (!(row = calloc((size_t)cols + 1, sizeof(*row)))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if ((error = strata_rows_new(out, (size_t)cols, e)) < 0)
		goto done;
	for (int c = 0; c < cols && error == 0; c++)
		error = strata_rows_set_name(*out, (size_t)c, sqlite3_column_name(st, c), e);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < cols; c++)
			row[c] = (const char *)sqlite3_column_text(st, c);
		error = strata_rows_add(*out, row, e);
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = set_db_error(s, e);
done:
	if (error < 0) {
		strata_rows_free(*out);
		*out = NULL;
	}
	free(row);
	sqlite3_finalize(st);
	return error;
}

/* sqlite:PATH, sqlite://relative/path, sqlite:///absolute/path (also sqlite3:), percent-decoded
 * (a file: URI is SQLite's own to decode). */
static int sq_url_target(const char *url, char **target, strata_error *e)
{
	size_t sl = strata_url_scheme_len(url);
	const char *path;
	if (!((sl == 6 && strata_ascii_ncasecmp(url, "sqlite", 6) == 0) ||
	      (sl == 7 && strata_ascii_ncasecmp(url, "sqlite3", 7) == 0)))
		return 0;
	path = url + sl + 1;
	if (strncmp(path, "//", 2) == 0)
		path += 2;
	if (!*path) {
		strata_error_hint(e, "write sqlite:PATH, for example sqlite:strata.db");
		return strata_error_set(e, STRATA_EINVALID, "the SQLite URL '%s' names no file",
		                        url);
	}
	*target = strncmp(path, "file:", 5) == 0 ? strdup(path) : strata_url_decode(path);
	return *target ? 1 : strata_error_set(e, STRATA_ERROR, "out of memory");
}

static const char *const sq_near_schemes[] = {"sql", NULL};

const struct strata_engine strata_sqlite_engine = {
    .version = STRATA_ENGINE_VERSION,
    .name = "sqlite",
    .dialect = STRATA_DIALECT_SQLITE,
    .waits_for_server = false,
    .url_forms = "sqlite:PATH",
    .near_schemes = sq_near_schemes,
    .suggestion = "sqlite:PATH",
    .url_target = sq_url_target,
    .open = sq_open,
    .close = sq_close,
    .interrupt = sq_interrupt,
    .lock = sq_lock,
    .unlock = sq_unlock,
    .history_load = sq_history_load,
    .history_each = strata_sqlite__history_each,
    .history_newest = strata_sqlite__history_newest,
    .apply = sq_apply,
    .mark_applied = sq_mark_applied,
    .begin = sq_begin,
    .record = sq_record,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec_sql,
    .query = sq_query,
    .seed = &strata_sqlite_seed,
    .schema_read = strata_sqlite__schema_read,
    .scratch_create = strata_sqlite__scratch_create,
    .scratch_drop = strata_sqlite__scratch_drop,
    .schema_reset = strata_sqlite__schema_reset,
    .same_database = strata_sqlite__same_database,
    .history_edit = strata_sqlite__history_edit,
};
