/*
 * pg_replica.c: PostgreSQL with streaming replicas: a standby is refused as a target (found by
 * the lock's own query, see pg_lock.c and lock_table.c), and after a commit the run may wait
 * for the replicas in pg_stat_replication to replay it (engine.h's replicas_wait).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pg/pg_internal.h"
#include "engine/pg/pq.h"
#include "util/clock.h"
#include "util/error.h"

int strata_pg__standby_error(PGconn *conn, const strata_dburl *url, strata_error *e)
{
	strata_error_set(e, STRATA_EINVALID,
	                 "cannot migrate %s: it is a standby server (in recovery), which is "
	                 "read-only",
	                 url->display);
	strata_error_detail(e,
	                    "the server at %s port %s says pg_is_in_recovery(); nothing was "
	                    "written",
	                    PQhost(conn), PQport(conn));
	strata_error_hint(e,
	                  "point the database URL at the primary, or list the servers in a "
	                  "multi-host URL with target_session_attrs=read-write "
	                  "(postgres://host1:5432,host2:5432/db?target_session_attrs=read-write)");
	strata_dburl_scrub_error(url, e);
	return STRATA_EINVALID;
}

/* The physical replicas that have not replayed $1 yet: name, address, whether their positions
 * are hidden from us, bytes behind, and how far behind in time at most (ms): the replay_lag
 * they last reported plus the time since they reported it. */
static const char behind_sql[] =
    "SELECT coalesce(nullif(r.application_name, ''), 'pid ' || r.pid), "
    "coalesce(host(r.client_addr), 'local'), r.state IS NULL, "
    "pg_wal_lsn_diff($1::pg_lsn, r.replay_lsn)::bigint, "
    "(extract(epoch FROM coalesce(r.replay_lag, interval '0') + "
    "greatest(clock_timestamp() - r.reply_time, interval '0')) * 1000)::bigint "
    "FROM pg_stat_replication r "
    "WHERE (r.state IS NULL OR r.state IN ('streaming', 'catchup')) "
    "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.pid "
    "AND a.datid IS NOT NULL) " /* a logical walsender is connected to a database */
    "AND (r.replay_lsn IS NULL OR r.replay_lsn < $1::pg_lsn) "
    "ORDER BY 5 DESC NULLS FIRST";

struct behind {
	char name[200];
	long long bytes; /* -1: not known yet */
	long long lag_ms;
};

/* The first replica of r that lags max_lag_ms or more (or cannot say), into *b; every one such
 * is announced when `announce`. 1 when there is one, 0 when none, < 0 when the positions are
 * hidden. */
static int first_behind(pg_conn *pg, const PGresult *r, int max_lag_ms, bool announce,
                        strata_event_fn fn, void *ud, struct behind *b, strata_error *e)
{
	int found = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		struct behind one;
		strata_event ev = {.kind = STRATA_EVENT_REPLICA_WAIT};
		if (strcmp(PQgetvalue(r, i, 2), "t") == 0) {
			strata_error_hint(e, "GRANT pg_monitor TO the user that migrates, or run "
			                     "without max_replica_lag_ms");
			return strata_error_set(e, STRATA_ERROR,
			                        "cannot see how far the replicas of %s are: "
			                        "pg_stat_replication hides their positions",
			                        pg->base.url->display);
		}
		one.bytes = PQgetisnull(r, i, 3) ? -1 : atoll(PQgetvalue(r, i, 3));
		one.lag_ms = PQgetisnull(r, i, 4) ? -1 : atoll(PQgetvalue(r, i, 4));
		if (one.lag_ms >= 0 && one.lag_ms < max_lag_ms)
			continue;
		snprintf(one.name, sizeof(one.name), "%s (%s)", PQgetvalue(r, i, 0),
		         PQgetvalue(r, i, 1));
		if (!found++)
			*b = one;
		ev.message = one.name;
		ev.count = one.bytes < 0 ? 0 : (size_t)one.bytes;
		ev.ms = one.lag_ms < 0 ? 0 : (double)one.lag_ms;
		if (announce && fn)
			fn(&ev, ud);
	}
	return found > 0;
}

static int timeout_error(pg_conn *pg, const struct behind *b, double waited, strata_error *e)
{
	char bytes[32] = "an unknown number of";
	if (b->bytes >= 0)
		snprintf(bytes, sizeof(bytes), "%lld", b->bytes);
	strata_error_set(e, STRATA_EREPLICA,
	                 "replica %s of %s is still behind after %.1f s "
	                 "(replica_wait_timeout_ms): %s bytes and up to %.1f s",
	                 b->name, pg->base.url->display, waited / 1000, bytes,
	                 b->lag_ms < 0 ? 0 : (double)b->lag_ms / 1000);
	strata_error_detail(e, "the migrations that committed stay applied; nothing after them "
	                       "ran");
	strata_error_hint(e, "look at the replica (is its replay paused or overloaded?) and run "
	                     "again; or wait longer with replica_wait_timeout_ms, or allow more "
	                     "lag with max_replica_lag_ms");
	strata_dburl_scrub_error(pg->base.url, e);
	return STRATA_EREPLICA;
}

int strata_pg__replicas_wait(strata_conn *b, int max_lag_ms, int timeout_ms, strata_event_fn fn,
                             void *ud, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	PGresult *r = strata_pg_exec(&pg->link, "SELECT pg_current_wal_lsn()::text");
	double start = strata_now_ms(), announced = -1e12;
	char target[64] = "";
	int delay = 50, error = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		error = strata_pg__error(pg, r, e);
		goto done;
	}
	snprintf(target, sizeof(target), "%s", PQgetvalue(r, 0, 0));
	for (;;) {
		const char *params[1] = {target};
		struct behind first;
		double now, left;
		int found;
		PQclear(r);
		r = strata_pg_exec_params(&pg->link, behind_sql, 1, params);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			error = strata_pg__error(pg, r, e);
			goto done;
		}
		now = strata_now_ms();
		/* who is behind: when the wait begins, then every 5 s */
		found = first_behind(pg, r, max_lag_ms, now - announced >= 5000, fn, ud, &first, e);
		if (found <= 0) {
			error = found;
			goto done;
		}
		if (now - announced >= 5000)
			announced = now;
		left = start + timeout_ms - now;
		if (left <= 0) {
			error = timeout_error(pg, &first, now - start, e);
			goto done;
		}
		strata_table_lock_sleep(delay < left ? delay : (int)left + 1,
		                        &pg->base.interrupted);
		delay = delay < 250 ? delay * 2 : 500;
		if (pg->base.interrupted) {
			error = strata_conn_interrupted(e);
			goto done;
		}
	}
done:
	PQclear(r);
	return error;
}
