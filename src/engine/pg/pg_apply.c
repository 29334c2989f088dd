/*
 * pg_apply.c: running a migration on PostgreSQL.
 *
 * A transactional migration goes to the server as one simple-protocol query string,
 *   BEGIN; <the section's SQL>\n; INSERT INTO strata_migrations ... RETURNING duration_ms; COMMIT;
 * so a migration costs one round trip. When a statement fails the server skips the rest of the
 * string (COMMIT included) and we send ROLLBACK. The error's position (in characters of the
 * string we sent, in the server's encoding) maps back to the migration file's line and column;
 * an error without a position is placed at the start of the failing statement, found by
 * counting the results that came back before it and splitting the section (core/sqlsplit.h).
 * A transaction:false section runs statement by statement, recording its progress.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sqlsplit.h"
#include "engine/pg/pg_internal.h"
#include "engine/pg/pq.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/text.h"

/* Places e at the `index`-th statement (0-based) of the section. */
static void locate_statement(const strata_section *sec, int index, strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece piece;
	strata_error ignored = STRATA_ERROR_INIT;
	size_t off =
	    strata_sql_skip_blank(STRATA_DIALECT_POSTGRES, sec->text + sec->offset, 0, sec->len);
	if (strata_sql_split_new(&sp, STRATA_DIALECT_POSTGRES, sec, &ignored) == 0) {
		for (int k = 0; k <= index && strata_sql_split_next(sp, &piece, &ignored) > 0; k++)
			if (k == index)
				off = piece.off;
	}
	strata_sql_split_free(sp);
	strata_section_locate(sec, off, e);
}

/* Whether the section's own text does not scan as PostgreSQL's: a string, quoted name or comment
 * left open, which took in what strata sent after it (the history row, COMMIT). Then e says
 * what the scanner says and where the section goes wrong, keeping e's code and SQLSTATE. Asked
 * only when the server's error points past the section or says something is unterminated: a
 * run does not split a section it need not check (core/sqlsplit.h), so this is found once the
 * server has refused it; the server's own error stays whenever it is about the section. */
static bool unscannable(const strata_section *sec, strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece piece;
	strata_error scan = STRATA_ERROR_INIT;
	char sqlstate[sizeof(e->sqlstate)];
	int got = -1, code = e->code;
	if (strata_sql_split_new(&sp, STRATA_DIALECT_POSTGRES, sec, &scan) == 0)
		while ((got = strata_sql_split_next(sp, &piece, &scan)) > 0)
			;
	strata_sql_split_free(sp);
	if (got == 0 || !scan.file[0])
		return false;
	memcpy(sqlstate, e->sqlstate, sizeof(sqlstate));
	*e = scan;
	e->code = code;
	memcpy(e->sqlstate, sqlstate, sizeof(sqlstate));
	return true;
}

/* Places e from the server's error position in `sent`, where the section starts at sql_at: 1
 * when it did, 0 when the error has no position (or one before the section), -1 when the
 * position is past the section's end (in what strata sent after it). The position counts
 * characters of the server's encoding: every character of our UTF-8 text is one character there
 * once converted, except under SQL_ASCII, which converts nothing and counts bytes. */
static int locate_position(const pg_conn *pg, const strata_section *sec, const PGresult *r,
                           const char *sent, size_t sent_len, size_t sql_at, strata_error *e)
{
	const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	size_t byte, at;
	if (!pos || atoi(pos) <= 0)
		return 0;
	at = (size_t)atoi(pos) - 1;
	byte = pg->position_in_bytes ? (at < sent_len ? at : sent_len)
	                             : strata_utf8_char_to_byte(sent, sent_len, at);
	if (byte < sql_at)
		return 0;
	if (byte > sql_at + sec->len)
		return -1;
	strata_section_locate(sec, byte - sql_at, e);
	return 1;
}

/* Sends q, reads every result; on error fills e (placed in sec, where the section starts at
 * sql_at in q, skip_results results after the first). *duration (optional) gets the
 * duration_ms the history row returned (RETURNING duration_ms), when one did. */
static int send_and_collect(pg_conn *pg, const strata_buf *q, const strata_section *sec,
                            size_t sql_at, int skip_results, double *duration, strata_error *e)
{
	PGresult *r, *failed = NULL;
	int ok = 0, error = 0;

	if (!PQsendQuery(pg->conn, strata_buf_cstr(q)))
		return strata_pg__error(pg, NULL, e);
	while ((r = strata_pg_next_result(&pg->link)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (!failed)
				ok++;
			if (duration && st == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
			    PQnfields(r) == 1 && strcmp(PQfname(r, 0), "duration_ms") == 0)
				*duration = strata_strtod_c(PQgetvalue(r, 0, 0), NULL);
			PQclear(r);
		} else if (!failed) {
			failed = r;
		} else {
			PQclear(r);
		}
	}
	if (failed) {
		error = strata_pg__error(pg, failed, e);
		if (strata_pg__own_table_privilege(pg, e)) {
			/* strata's own statement: not the migration's fault */
		} else if (sec && (strcmp(e->sqlstate, "22P05") == 0 ||
		                   strcmp(e->sqlstate, "22021") == 0)) {
			/* the text could not be converted to the server's encoding: no statement
			 * ran, and the server does not say where the character is */
			strata_error_at(e, sec->file, 0, 0);
			strata_error_hint(
			    e,
			    "the database stores text as %s, which has no form for some "
			    "character of this migration; keep to characters %s has, "
			    "or use a UTF8 database",
			    pg->encoding, pg->encoding);
		} else if (sec) {
			int at = locate_position(pg, sec, failed, q->ptr, q->len, sql_at, e);
			bool open = strcmp(e->sqlstate, "42601") == 0 &&
			            strncmp(e->msg, "unterminated ", 13) == 0;
			/* the section's own text left something open: e is the scanner's */
			bool scanned = (at < 0 || open) && unscannable(sec, e);
			if (!scanned && at <= 0)
				locate_statement(sec, ok - skip_results, e);
		}
		strata_dburl_scrub_error(pg->base.url, e);
		PQclear(failed);
	} else if (PQstatus(pg->conn) == CONNECTION_BAD) {
		error = strata_pg__error(pg, NULL, e);
	}
	return error;
}

/* Appends SET [LOCAL] lock_timeout / statement_timeout; returns how many statements it added. */
static int append_timeouts(strata_buf *q, const strata_apply_opts *o, bool local)
{
	int n = 0;
	if (o->lock_timeout_ms >= 0) {
		strata_buf_printf(q, "SET %slock_timeout = %d;\n", local ? "LOCAL " : "",
		                  o->lock_timeout_ms);
		n++;
	}
	if (o->statement_timeout_ms >= 0) {
		strata_buf_printf(q, "SET %sstatement_timeout = %d;\n", local ? "LOCAL " : "",
		                  o->statement_timeout_ms);
		n++;
	}
	return n;
}

/* After a lock timeout: who holds locks on this database's tables, for the error's detail. */
static void describe_blockers(pg_conn *pg, strata_error *e)
{
	/* pg_locks shows every session's locks to every role; pg_stat_activity hides the state
	 * and query of another role's session (unless pg_read_all_stats), so they come from it
	 * only where it shows them */
	strata_buf d = STRATA_BUF_INIT;
	PGresult *r = PQexec(
	    pg->conn,
	    "SELECT l.pid, coalesce(a.usename, '?'), "
	    "coalesce(nullif(a.application_name, ''), 'no application name'), a.state, "
	    "left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120), "
	    "string_agg(DISTINCT l.mode || ' on ' || c.relname, ', '), "
	    "a.usename IS NOT DISTINCT FROM current_user "
	    "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
	    "WHERE l.granted AND l.pid <> pg_backend_pid() "
	    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
	    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
	    "AND n.nspname NOT LIKE 'pg\\_toast%' "
	    "GROUP BY l.pid, a.usename, a.application_name, a.state, a.query, a.backend_start "
	    "ORDER BY min(a.backend_start), l.pid LIMIT 3");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
		strata_buf_puts(&d, "locks held by ");
		for (int i = 0; i < PQntuples(r); i++) {
			bool hidden = PQgetisnull(r, i, 3);
			bool same_role = strcmp(PQgetvalue(r, i, 6), "t") == 0;
			strata_buf_printf(&d, "%spid %s (", i ? "; " : "", PQgetvalue(r, i, 0));
			if (!same_role)
				strata_buf_printf(&d, "role %s, ", PQgetvalue(r, i, 1));
			strata_buf_printf(&d, "%s, ", PQgetvalue(r, i, 2));
			if (!hidden)
				strata_buf_printf(&d, "%s, ", PQgetvalue(r, i, 3));
			strata_buf_printf(&d, "%s): %s", PQgetvalue(r, i, 5),
			                  hidden ? "its query is hidden from this role (another "
			                           "role's session; pg_read_all_stats shows it)"
			                         : PQgetvalue(r, i, 4));
		}
		if (!d.failed)
			strata_error_detail(e, "%s", d.ptr);
	}
	PQclear(r);
	strata_buf_free(&d);
}

/* Lists indexes a failed CREATE INDEX CONCURRENTLY left INVALID, for the error's hint. */
static void describe_invalid_indexes(pg_conn *pg, strata_error *e)
{
	PGresult *r = PQexec(pg->conn, "SELECT indexrelid::regclass::text FROM pg_index i "
	                               "JOIN pg_class c ON c.oid = i.indexrelid "
	                               "JOIN pg_namespace n ON n.oid = c.relnamespace "
	                               "WHERE NOT i.indisvalid AND n.nspname NOT IN "
	                               "('pg_catalog', 'information_schema') LIMIT 1");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		strata_error_hint(e,
		                  "the failed statement left index %s INVALID: run 'DROP INDEX "
		                  "CONCURRENTLY %s;', fix the file, then strata_repair()",
		                  PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* The history row of a transaction:false migration, written as it goes. */
static int nt_record(pg_conn *pg, const strata_step *s, strata_applied_status st, int progress,
                     double ms, const strata_apply_opts *o, strata_error *e)
{
	const strata_migration *m = s->m;
	strata_buf q = STRATA_BUF_INIT;
	int error = 0;

	if (st == STRATA_APPLIED_RUNNING) {
		append_timeouts(&q, o, false);
		strata_buf_puts(
		    &q, "INSERT INTO " STRATA_HISTORY_TABLE
		        " (version, name, checksum, row_hash, out_of_order, status, progress) "
		        "VALUES (");
		error |= strata_pg__literal(pg, &q, m->version);
		strata_buf_puts(&q, ", ");
		error |= strata_pg__literal(pg, &q, m->name);
		strata_buf_puts(&q, ", ");
		error |= strata_pg__literal(pg, &q, m->checksum);
		strata_buf_puts(&q, ", ");
		strata_pg__row_hash(&q, m);
		strata_buf_printf(&q,
		                  ", %s, 'running', %d) ON CONFLICT (version, name) DO UPDATE "
		                  "SET status = 'running', progress = EXCLUDED.progress, "
		                  "checksum = EXCLUDED.checksum, row_hash = EXCLUDED.row_hash",
		                  s->out_of_order ? "true" : "false", progress);
	} else {
		strata_buf_printf(
		    &q, "UPDATE " STRATA_HISTORY_TABLE " SET status = '%s', progress = %d",
		    strata_applied_status_name(st), progress);
		if (st == STRATA_APPLIED_OK) {
			/* ms to the microsecond, in digits: %f would write the locale's decimal
			 * point, a ',' in some, into SQL */
			long long us = ms > 0 ? (long long)(ms * 1000 + 0.5) : 0;
			strata_buf_printf(&q, ", duration_ms = %lld.%03lld, applied_at = now()",
			                  us / 1000, us % 1000);
		}
		strata_buf_puts(&q, " WHERE version = ");
		error |= strata_pg__literal(pg, &q, m->version);
		strata_buf_puts(&q, " AND name = ");
		error |= strata_pg__literal(pg, &q, m->name);
		if (st == STRATA_APPLIED_OK)
			strata_buf_puts(&q, "; RESET lock_timeout; RESET statement_timeout");
	}
	return strata_pg__exec_buf(pg, &q, error, e);
}

/* How many statements section sec holds (as the splitter cuts it). */
static int count_statements(const strata_section *sec, int *n, strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece piece;
	int error, got = 0;
	*n = 0;
	if ((error = strata_sql_split_new(&sp, STRATA_DIALECT_POSTGRES, sec, e)) < 0)
		return error;
	while ((got = strata_sql_split_next(sp, &piece, e)) > 0)
		(*n)++;
	strata_sql_split_free(sp);
	return got < 0 ? got : 0;
}

/* transaction:false: each statement on its own (a multi-statement string would be one implicit
 * transaction), recording progress in the history so a failure can be repaired. Down sections
 * delete the row at the end instead. Statements come from core/sqlsplit.h, as build cuts them
 * (a BEGIN ATOMIC body stays whole), one at a time. */
static int apply_each_statement(pg_conn *pg, const strata_step *s, const strata_apply_opts *o,
                                strata_apply_result *res, strata_error *e)
{
	const strata_section *sec = s->dir == STRATA_UP ? &s->m->up : &s->m->down;
	strata_buf q = STRATA_BUF_INIT;
	strata_sql_split *sp = NULL;
	strata_sql_piece piece;
	double t0 = strata_now_ms();
	int error = 0, got, i = s->resume_from;

	if ((error = count_statements(sec, &res->statements, e)) < 0)
		goto done;
	if (s->dir == STRATA_UP &&
	    (error = nt_record(pg, s, STRATA_APPLIED_RUNNING, i, 0, o, e)) < 0)
		goto done;
	if (s->dir == STRATA_DOWN) {
		append_timeouts(&q, o, false);
		if (q.len && (error = strata_pg__exec(pg, q.ptr, e)) < 0)
			goto done;
	}
	if ((error = strata_sql_split_new(&sp, STRATA_DIALECT_POSTGRES, sec, e)) < 0)
		goto done;
	for (int k = 0; (got = strata_sql_split_next(sp, &piece, e)) > 0; k++) {
		strata_section one = *sec;
		if (k < i)
			continue; /* done before: repair resumes after it */
		strata_buf_reset(&q);
		strata_buf_put(&q, piece.text, piece.end - piece.off);
		one.offset = sec->offset + piece.off;
		one.len = piece.end - piece.off;
		if ((error = send_and_collect(pg, &q, &one, 0, 0, NULL, e)) < 0)
			break;
		i = k + 1;
		if (s->dir == STRATA_UP && i < res->statements &&
		    (error = nt_record(pg, s, STRATA_APPLIED_RUNNING, i, 0, o, e)) < 0)
			break;
	}
	if (error == 0 && got < 0)
		error = got;
	if (error < 0) {
		strata_error saved = *e;
		res->failed_at = i;
		if (PQstatus(pg->conn) == CONNECTION_OK) {
			describe_invalid_indexes(pg, &saved);
			if (strcmp(saved.sqlstate, "55P03") == 0)
				describe_blockers(pg, &saved);
			if (s->dir == STRATA_UP)
				nt_record(pg, s, STRATA_APPLIED_FAILED, i, 0, o, e);
			PQclear(PQexec(pg->conn, "RESET lock_timeout; RESET statement_timeout"));
		}
		*e = saved;
		goto done;
	}
	if (s->dir == STRATA_UP) {
		/* as the row stores it (to the microsecond), so that run and show print the same */
		res->duration_ms = (double)(long long)((strata_now_ms() - t0) * 1000 + 0.5) / 1000;
		error =
		    nt_record(pg, s, STRATA_APPLIED_OK, res->statements, res->duration_ms, o, e);
	} else {
		strata_buf_reset(&q);
		if (strata_pg__history_change(pg, &q, s) < 0 || q.failed)
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
		else
			error = send_and_collect(pg, &q, NULL, 0, 0, NULL, e);
		PQclear(PQexec(pg->conn, "RESET lock_timeout; RESET statement_timeout"));
	}
done:
	strata_sql_split_free(sp);
	strata_buf_free(&q);
	return error;
}

static int pg_apply(strata_conn *b, const strata_step *s, const strata_apply_opts *o,
                    strata_apply_result *res, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	const strata_section *sec = s->dir == STRATA_UP ? &s->m->up : &s->m->down;
	strata_buf q = STRATA_BUF_INIT;
	size_t sql_at = 0;
	int own_txn = !o->in_transaction, prefix = own_txn, error;

	res->statements = 0;
	res->failed_at = -1;
	if (sec->no_transaction && !o->fake && !o->in_transaction)
		return apply_each_statement(pg, s, o, res, e);
	if (own_txn)
		strata_buf_puts(&q, "BEGIN;\n");
	if (!o->fake) {
		prefix += append_timeouts(&q, o, true);
		sql_at = q.len;
		strata_buf_put(&q, sec->text + sec->offset, sec->len);
		strata_buf_puts(&q, "\n;\n");
	}
	error = strata_pg__history_change(pg, &q, s);
	if (own_txn)
		strata_buf_puts(&q, "COMMIT;");
	if (error < 0 || q.failed) {
		strata_buf_free(&q);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	error =
	    send_and_collect(pg, &q, o->fake ? NULL : sec, sql_at, prefix, &res->duration_ms, e);
	if (error < 0 && own_txn && PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	if (error < 0 && strcmp(e->sqlstate, "55P03") == 0 && PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
		describe_blockers(pg, e);
	strata_buf_free(&q);
	return error;
}

/* A run's one transaction (step NULL), or a C step's: BEGIN with the step's timeouts, after the
 * table lock's check. */
int strata_pg__begin(strata_conn *b, const strata_step *step, const strata_apply_opts *o,
                     strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	strata_buf q = STRATA_BUF_INIT;
	int error;
	if (step && pg->tlock && (error = strata_table_lock_check(pg->tlock, e)) < 0)
		return error;
	strata_buf_puts(&q, "BEGIN;\n");
	if (step)
		append_timeouts(&q, o, true);
	return strata_pg__exec_buf(pg, &q, 0, e);
}

/* A C step's history change, in its transaction. */
int strata_pg__record(strata_conn *b, const strata_step *step, double ms, strata_apply_result *r,
                      strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	strata_buf q = STRATA_BUF_INIT;
	int error;
	(void)ms; /* the server measures it, from BEGIN's statement to the row */
	if (strata_pg__history_change(pg, &q, step) < 0 || q.failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else
		error = send_and_collect(pg, &q, NULL, 0, 0, &r->duration_ms, e);
	strata_buf_free(&q);
	return error;
}

int strata_pg__commit(strata_conn *b, strata_error *e)
{
	return strata_pg__exec((pg_conn *)b, "COMMIT", e);
}

void strata_pg__rollback(strata_conn *b)
{
	pg_conn *pg = (pg_conn *)b;
	if (PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
}

/* Whether the history has m as applied (by someone else). */
static bool applied_by_other(pg_conn *pg, const strata_migration *m)
{
	const char *params[3] = {m->version, m->name,
	                         strata_applied_status_name(STRATA_APPLIED_OK)};
	PGresult *r = PQexecParams(pg->conn,
	                           "SELECT 1 FROM " STRATA_HISTORY_TABLE
	                           " WHERE version = $1 AND name = $2 AND status = $3",
	                           3, NULL, params, NULL, NULL, 0);
	bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	PQclear(r);
	return yes;
}

/*
 * apply, with the table lock: first checks that the heartbeat kept the lock (no round trip), so
 * a runner that lost it stops before changing anything more. When a step fails, it may be that
 * the runner whose expired lock we took over was killed while its transaction for this step
 * was still running on the server, and that transaction committed after we read the history:
 * then the step is done (STRATA_EEXISTS), our attempt having been rolled back.
 */
int strata_pg__apply(strata_conn *b, const strata_step *step, const strata_apply_opts *o,
                     strata_apply_result *r, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	int error;
	if (pg->tlock && (error = strata_table_lock_check(pg->tlock, e)) < 0)
		return error;
	error = pg_apply(b, step, o, r, e);
	if (error < 0 && pg->tlock && step->dir == STRATA_UP && !o->in_transaction &&
	    !step->m->up.no_transaction && PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) == PQTRANS_IDLE && applied_by_other(pg, step->m)) {
		strata_error_clear(e);
		error = STRATA_EEXISTS;
	}
	if (error == 0)
		pg->recorded++;
	return error;
}
