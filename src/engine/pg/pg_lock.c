/*
 * pg_lock.c: the migration lock on PostgreSQL: a session advisory lock (refused through a
 * connection pooler), or the table lock of lock_table.c, each respecting the other's holder.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pg/pg_internal.h"
#include "engine/pg/pq.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"

#define LOCK_KEY STRATA_PG_ADVISORY_KEY

/* Says who holds the lock, for the error message. */
static void describe_lock_holder(pg_conn *pg, strata_error *e)
{
	PGresult *r = PQexec(pg->conn, "SELECT a.pid, coalesce(a.application_name, ''), "
	                               "coalesce(host(a.client_addr), 'local'), "
	                               "date_trunc('second', now() - a.xact_start)::text "
	                               "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
	                               "WHERE l." STRATA_PG_ADVISORY_ROW " LIMIT 1");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		strata_error_detail(e, "held by pid %s (%s, from %s)", PQgetvalue(r, 0, 0),
		                    *PQgetvalue(r, 0, 1) ? PQgetvalue(r, 0, 1)
		                                         : "no application name",
		                    PQgetvalue(r, 0, 2));
	PQclear(r);
}

/* The advisory lock is refused through a connection pooler; the caller adds the detail. */
static int pooler_error(pg_conn *pg, strata_error *e)
{
	strata_error_set(e, STRATA_ELOCKED,
	                 "cannot use the advisory migration lock: the connection to %s goes "
	                 "through a connection pooler",
	                 pg->base.url->display);
	strata_error_hint(e, "with PgBouncer's transaction pooling use lock_strategy "
	                     "STRATA_LOCK_TABLE, or connect to PostgreSQL directly");
	strata_dburl_scrub_error(pg->base.url, e);
	return STRATA_ELOCKED;
}

static int held_error(pg_conn *pg, strata_error *e)
{
	strata_error_set(e, STRATA_ELOCKED, "another strata run holds the migration lock on %s",
	                 pg->base.url->display);
	strata_error_hint(e, "wait for it to finish, or wait longer with lock_wait_ms");
	return STRATA_ELOCKED;
}

/*
 * One try at the session advisory lock, waiting up to wait_ms. A pooler such as PgBouncer
 * answers the connection's startup itself, so the pid libpq was told (PQbackendPID) is not the
 * server's pg_backend_pid(): the lock is only taken when they match, in the same round trip.
 * One more round trip then checks that the server pid is unchanged and holds the lock (a proxy
 * that passes the pid through but moves queries between server connections), and whether a
 * table-strategy runner holds the lock row (*table_held: then we let go and the caller waits).
 */
static int advisory_once(pg_conn *pg, int wait_ms, bool *table_held, strata_error *e)
{
	char sql[384];
	PGresult *r = NULL;
	int announced = PQbackendPID(pg->conn), error = 0;
	char server_pid[16] = "";

	*table_held = false;
	/* a standby (in recovery) is told in the same round trip, and not locked */
	if (wait_ms <= 0)
		snprintf(sql, sizeof(sql),
		         "SELECT pg_backend_pid(), CASE WHEN pg_is_in_recovery() THEN false "
		         "WHEN pg_backend_pid() = %d THEN pg_try_advisory_lock(" LOCK_KEY
		         ") END, pg_is_in_recovery()",
		         announced);
	else
		snprintf(sql, sizeof(sql),
		         "SET lock_timeout = %d; SELECT pg_backend_pid(), CASE WHEN "
		         "pg_is_in_recovery() THEN false WHEN pg_backend_pid() = %d THEN (SELECT "
		         "true FROM pg_advisory_lock(" LOCK_KEY ")) END, pg_is_in_recovery(); "
		         "SET lock_timeout = DEFAULT",
		         wait_ms, announced);
	r = strata_pg_exec_rows(&pg->link, sql);
	if (!r || (PQresultStatus(r) == PGRES_FATAL_ERROR &&
	           strcmp(strata_pg__field(r, PG_DIAG_SQLSTATE), "55P03") != 0)) {
		error = strata_pg__error(pg, r, e);
		goto done;
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 2), "t") == 0) {
		error = strata_pg__standby_error(pg->conn, pg->base.url, e);
		goto done;
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQgetisnull(r, 0, 1)) {
		error = pooler_error(pg, e);
		strata_error_detail(
		    e,
		    "the server's pid is %s, not the pid %d the connection "
		    "announced: a proxy sits in between, and with transaction pooling "
		    "a session lock stays on a server connection other clients use",
		    PQgetvalue(r, 0, 0), announced);
		goto done;
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK || strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
		error = held_error(pg, e);
		describe_lock_holder(pg, e);
		goto done;
	}
	pg->locked = true;
	snprintf(server_pid, sizeof(server_pid), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	/* a later round trip: still the same server session, still holding the lock? Taking it
	 * again succeeds only for its holder (or when no one has it, then it is ours); cheaper
	 * on a fresh connection than reading pg_locks. Unlocking uses pg_advisory_unlock_all. */
	r = strata_pg_exec(&pg->link,
	                   "SELECT pg_backend_pid(), pg_try_advisory_lock(" LOCK_KEY "), "
	                   "to_regclass('" STRATA_LOCK_TABLE_NAME "') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		error = strata_pg__error(pg, r, e);
		goto done;
	}
	if (strcmp(PQgetvalue(r, 0, 0), server_pid) != 0 || strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
		error = pooler_error(pg, e);
		if (strcmp(PQgetvalue(r, 0, 0), server_pid) != 0)
			strata_error_detail(
			    e,
			    "the lock was taken on server pid %s, but the next query ran "
			    "on server pid %s: a proxy moves this connection between "
			    "server connections",
			    server_pid, PQgetvalue(r, 0, 0));
		else
			strata_error_detail(e, "the lock was taken, but the next query found this "
			                       "session not holding it");
		goto done;
	}
	if (strcmp(PQgetvalue(r, 0, 2), "t") == 0)
		*table_held = strata_table_lock_live(pg->conn, e) > 0;
done:
	PQclear(r);
	return error;
}

/* The advisory lock, waiting up to wait_ms, also for a runner that holds the table lock. */
static int lock_advisory(pg_conn *pg, int wait_ms, strata_error *e)
{
	double deadline = strata_now_ms() + (wait_ms > 0 ? wait_ms : 0);
	int delay = 50, error;

	for (;;) {
		double left = deadline - strata_now_ms();
		bool table_held;
		error = advisory_once(pg,
		                      wait_ms <= 0 ? 0
		                      : left < 1   ? 1
		                                   : (int)left,
		                      &table_held, e);
		if (error < 0 || !table_held)
			return error;
		/* a table-strategy runner has the lock: let go and try again */
		PQclear(PQexec(pg->conn, "SELECT pg_advisory_unlock_all()"));
		pg->locked = false;
		left = deadline - strata_now_ms();
		if (left <= 0) {
			char detail[sizeof(e->detail)];
			memcpy(detail, e->detail, sizeof(detail));
			error = held_error(pg, e);
			strata_error_detail(e, "%s", detail);
			return error;
		}
		strata_table_lock_sleep(delay < left ? delay : (int)left + 1,
		                        &pg->base.interrupted);
		delay = delay < 500 ? delay * 2 : 1000;
		if (pg->base.interrupted)
			return strata_conn_interrupted(e);
	}
}

int strata_pg__lock(strata_conn *b, const strata_lock_opts *o, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	if (o->strategy == STRATA_LOCK_TABLE)
		return strata_table_lock_acquire(&pg->tlock, &pg->link, b->url, o, e);
	return lock_advisory(pg, o->wait_ms, e);
}

void strata_pg__unlock(strata_conn *b)
{
	pg_conn *pg = (pg_conn *)b;
	/* a run that wrote many history rows gives the table statistics at once (autovacuum
	 * would, within a minute), so that the next listing reads it in order by its index
	 * instead of sorting it; best effort: a role that does not own it is only warned */
	if (pg->recorded >= 1000 && PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
		PQclear(PQexec(pg->conn, "ANALYZE " STRATA_HISTORY_TABLE));
	pg->recorded = 0;
	/* the history's summary, marked not valid by this run's changes, made valid again while
	 * the lock is still held (pg_summary.c) */
	if (pg->history_changed)
		strata_pg__history_summary_keep(b);
	if (pg->locked && PQstatus(pg->conn) == CONNECTION_OK)
		PQclear(PQexec(pg->conn, "SELECT pg_advisory_unlock_all()"));
	pg->locked = false;
	strata_table_lock_release(pg->tlock);
	pg->tlock = NULL;
}
