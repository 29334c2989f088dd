/*
 * lock_table.c: the PostgreSQL table lock (see lock_table.h for the protocol).
 */
#include "engine/pg/lock_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine/pg/pg_internal.h"
#include "util/clock.h"
#include "util/error.h"

#define T STRATA_LOCK_TABLE_NAME
#define LOCK_NAME "'strata'"
#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char create_sql[] = "CREATE TABLE IF NOT EXISTS " T " ("
                                 "name text PRIMARY KEY, owner text NOT NULL, "
                                 "acquired_at timestamptz NOT NULL, "
                                 "expires_at timestamptz NOT NULL, "
                                 "renewed_at timestamptz NOT NULL)";
/* $1 owner, $2 ttl in ms; a row back means the lock is ours */
#define NO_ADVISORY "NOT EXISTS (SELECT 1 FROM pg_locks WHERE " STRATA_PG_ADVISORY_ROW ")"
static const char take_sql[] =
    "INSERT INTO " T " AS l (name, owner, acquired_at, expires_at, renewed_at) "
    "SELECT " LOCK_NAME ", $1, clock_timestamp(), "
    "clock_timestamp() + $2::int * interval '1 millisecond', clock_timestamp() "
    "WHERE " NO_ADVISORY " "
    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
    "acquired_at = excluded.acquired_at, expires_at = excluded.expires_at, "
    "renewed_at = excluded.renewed_at "
    "WHERE l.expires_at < clock_timestamp() AND " NO_ADVISORY " RETURNING owner";
static const char renew_sql[] =
    "UPDATE " T " SET expires_at = clock_timestamp() + $2::int * interval '1 millisecond', "
    "renewed_at = clock_timestamp() WHERE name = " LOCK_NAME " AND owner = $1";
static const char release_sql[] = "DELETE FROM " T " WHERE name = " LOCK_NAME " AND owner = $1";
static const char holder_sql[] = "SELECT owner, " UTC("acquired_at") ", " UTC(
    "expires_at") ", "
                  "ceil(extract(epoch FROM expires_at - clock_timestamp()))::bigint "
                  "FROM " T " WHERE name = " LOCK_NAME;
static const char advisory_holder_sql[] =
    "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local') "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l." STRATA_PG_ADVISORY_ROW
    " LIMIT 1";

struct strata_table_lock {
	char owner[320]; /* host:pid:random */
	char ttl[16];    /* ttl_ms as text, the $2 of take and renew */
	int ttl_ms;
	PGconn *hb; /* the heartbeat's own connection; the thread's until it is joined */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;               /* under mu */
	atomic_bool lost;        /* the heartbeat found the row gone or someone else's */
	atomic_llong renewed_ms; /* strata_now_ms() when the last renewal was sent */
	const strata_dburl *url; /* borrowed */
};

static const char *field(const PGresult *r, int code)
{
	const char *v = r ? PQresultErrorField(r, code) : NULL;
	return v ? v : "";
}

/* Fills e from a failed result. */
static int db_error(PGconn *conn, const PGresult *r, const strata_dburl *url, strata_error *e)
{
	const char *primary = field(r, PG_DIAG_MESSAGE_PRIMARY);
	if (*primary) {
		strata_error_set(e, STRATA_EDB, "%s", primary);
	} else {
		const char *msg = PQerrorMessage(conn);
		strata_error_set(e, STRATA_EDB, "%.*s", (int)strcspn(msg, "\n"), msg);
	}
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", field(r, PG_DIAG_SQLSTATE));
	if (PQstatus(conn) == CONNECTION_BAD)
		e->code = STRATA_ECONNECT;
	strata_dburl_scrub_error(url, e);
	return e->code;
}

static PGresult *exec2(PGconn *conn, const char *sql, const strata_table_lock *l, int nparams)
{
	const char *params[2] = {l->owner, l->ttl};
	return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

/* exec2 on the runner's connection, which an interrupt cancels */
static PGresult *exec2_link(const strata_pg_link *link, const char *sql, const strata_table_lock *l,
                            int nparams)
{
	const char *params[2] = {l->owner, l->ttl};
	return strata_pg_exec_params(link, sql, nparams, params);
}

void strata_table_lock_sleep(int ms, const volatile sig_atomic_t *stop)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !(stop && *stop))
		;
}

/* Whether the server is a standby (in recovery); false when it cannot say. */
static bool in_recovery(const strata_pg_link *link)
{
	PGresult *r = strata_pg_exec(link, "SELECT pg_is_in_recovery()");
	bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	           strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return yes;
}

/* One attempt: 1 when the lock is ours, 0 when someone else holds it, or an error. */
static int try_take(const strata_pg_link *link, strata_table_lock *l, strata_error *e)
{
	PGconn *conn = link->conn;
	PGresult *r = NULL;
	int error = 0;

	for (int attempt = 0; attempt < 3; attempt++) {
		PQclear(r);
		r = exec2_link(link, take_sql, l, 2);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			error = PQntuples(r) == 1;
			goto done;
		}
		if (strcmp(field(r, PG_DIAG_SQLSTATE), "42P01") != 0)
			break;
		/* no table yet: make it (runners racing to make it: the losers get 23505, 42P07, or
		 * 42710 for its row type, seen with four runners starting at once) */
		PQclear(r);
		r = strata_pg_exec(link, create_sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    strcmp(field(r, PG_DIAG_SQLSTATE), "23505") != 0 &&
		    strcmp(field(r, PG_DIAG_SQLSTATE), "42P07") != 0 &&
		    strcmp(field(r, PG_DIAG_SQLSTATE), "42710") != 0)
			break;
	}
	/* read-only: a standby? (asked only now, off the hot path) */
	if (strcmp(field(r, PG_DIAG_SQLSTATE), "25006") == 0 && in_recovery(link)) {
		error = strata_pg__standby_error(conn, l->url, e);
		goto done;
	}
	error = db_error(conn, r, l->url, e);
	if (*link->interrupted)
		error = strata_conn_interrupted(e);
done:
	PQclear(r);
	return error;
}

/* For the timeout error: who holds the lock, since when, until when; 1 when the row is live. */
static int describe_holder(PGconn *conn, bool only_live, strata_error *e)
{
	PGresult *r = PQexec(conn, holder_sql);
	int live = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		long long left = atoll(PQgetvalue(r, 0, 3));
		live = left > 0;
		if (live)
			strata_error_detail(e,
			                    "held by '%s' since %s; it expires at %s (in %llds) "
			                    "unless that runner renews it",
			                    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
			                    PQgetvalue(r, 0, 2), left);
		else if (!only_live)
			strata_error_detail(e,
			                    "held by '%s' since %s; it expired at %s (its runner "
			                    "stopped renewing it) and is free now",
			                    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
			                    PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	return live;
}

int strata_table_lock_live(PGconn *conn, strata_error *e)
{
	return describe_holder(conn, true, e);
}

/* When the table has no live row, a runner with the advisory strategy may hold the lock. */
static void describe_advisory_holder(PGconn *conn, strata_error *e)
{
	PGresult *r = PQexec(conn, advisory_holder_sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		strata_error_detail(
		    e,
		    "held with the advisory lock (lock_strategy STRATA_LOCK_ADVISORY) by "
		    "pid %s (%s, from %s)",
		    PQgetvalue(r, 0, 0),
		    *PQgetvalue(r, 0, 1) ? PQgetvalue(r, 0, 1) : "no application name",
		    PQgetvalue(r, 0, 2));
	PQclear(r);
}

static void make_owner(strata_table_lock *l)
{
	char host[256] = "localhost";
	unsigned char rnd[4] = {0};
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned v = (unsigned)time(NULL) ^ (unsigned)getpid();
		memcpy(rnd, &v, sizeof(rnd));
	}
	snprintf(l->owner, sizeof(l->owner), "%s:%ld:%02x%02x%02x%02x", host, (long)getpid(),
	         rnd[0], rnd[1], rnd[2], rnd[3]);
}

static void *heartbeat(void *arg)
{
	strata_table_lock *l = arg;
	int every = l->ttl_ms / 3 > 20 ? l->ttl_ms / 3 : 20;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += every / 1000;
		until.tv_nsec += (long)(every % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) != ETIMEDOUT)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		{
			double sent = strata_now_ms();
			PGresult *r;
			if (PQstatus(l->hb) != CONNECTION_OK)
				PQreset(l->hb);
			r = exec2(l->hb, renew_sql, l, 2);
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				if (strcmp(PQcmdTuples(r), "1") == 0)
					atomic_store(&l->renewed_ms, (long long)sent);
				else
					atomic_store(&l->lost, true);
			}
			/* an error: try again next time; check() fails once the ttl ran out */
			PQclear(r);
		}
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static PGconn *connect_heartbeat(const strata_dburl *url)
{
	const char *keys[5], *vals[5];
	char *schema_opts = strata_pg__schema_options(url); /* its strata_lock is the schema's */
	PGconn *conn;
	int n = 0;
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[n] = "connect_timeout";
		vals[n++] = "10";
	}
	keys[n] = "dbname";
	vals[n++] = url->target;
	keys[n] = "fallback_application_name";
	vals[n++] = "strata lock heartbeat";
	if (schema_opts) {
		keys[n] = "options";
		vals[n++] = schema_opts;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	free(schema_opts);
	return conn;
}

int strata_table_lock_acquire(strata_table_lock **out, const strata_pg_link *link,
                              const strata_dburl *url, const strata_lock_opts *o, strata_error *e)
{
	PGconn *conn = link->conn;
	strata_table_lock *l = calloc(1, sizeof(*l));
	sigset_t block, old;
	double start = strata_now_ms(), sent;
	int delay = 50, error = 0, got;
	pthread_condattr_t ca;

	*out = NULL;
	if (!l)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	l->url = url;
	l->ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : 1;
	snprintf(l->ttl, sizeof(l->ttl), "%d", l->ttl_ms);
	make_owner(l);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);

	for (;;) {
		double left;
		sent = strata_now_ms();
		if ((got = try_take(link, l, e)) < 0) {
			error = got;
			goto done;
		}
		if (got)
			break;
		left = start + o->wait_ms - strata_now_ms();
		if (left <= 0) {
			error = strata_error_set(
			    e, STRATA_ELOCKED, "another strata run holds the migration lock on %s",
			    url->display);
			if (!describe_holder(conn, false, e))
				describe_advisory_holder(conn, e);
			strata_error_hint(
			    e, "wait for it to finish, or wait longer with lock_wait_ms; "
			       "the lock of a runner that died expires by itself");
			goto done;
		}
		/* backoff with jitter: 50ms, 100ms, ... 1s, never past the deadline */
		{
			int jitter =
			    (int)((unsigned char)l->owner[strlen(l->owner) - 1] % 16) * delay / 64;
			int nap = delay + jitter;
			strata_table_lock_sleep(nap < left ? nap : (int)left + 1,
			                        link->interrupted);
			delay = delay < 500 ? delay * 2 : 1000;
		}
		if (*link->interrupted) {
			error = strata_conn_interrupted(e);
			goto done;
		}
	}
	atomic_store(&l->renewed_ms, (long long)sent);
	l->hb = connect_heartbeat(url);
	if (!l->hb || PQstatus(l->hb) != CONNECTION_OK) {
		error = strata_error_set(e, STRATA_ECONNECT,
		                         "cannot open the lock's heartbeat connection to %s",
		                         url->display);
		if (l->hb)
			strata_error_detail(e, "%.*s", (int)strcspn(PQerrorMessage(l->hb), "\n"),
			                    PQerrorMessage(l->hb));
		strata_dburl_scrub_conninfo_error(url, e);
		PQclear(exec2(conn, release_sql, l, 1));
		goto done;
	}
	/* the heartbeat thread takes no SIGINT or SIGTERM: the CLI's handler runs on the main
	 * thread, which it interrupts */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	error = pthread_create(&l->thread, NULL, heartbeat, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		error =
		    strata_error_set(e, STRATA_ERROR, "cannot start the lock's heartbeat thread");
		PQclear(exec2(conn, release_sql, l, 1));
		goto done;
	}
	l->started = true;
	*out = l;
	l = NULL;
done:
	if (l) {
		PQfinish(l->hb);
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
	}
	return error;
}

int strata_table_lock_check(strata_table_lock *l, strata_error *e)
{
	double since = strata_now_ms() - (double)atomic_load(&l->renewed_ms);
	if (!atomic_load(&l->lost) && since < l->ttl_ms)
		return 0;
	strata_error_set(e, STRATA_ELOCKED, "lost the migration lock on %s", l->url->display);
	if (atomic_load(&l->lost))
		strata_error_detail(e,
		                    "the lock row of '%s' expired and another runner took it "
		                    "(or it was deleted)",
		                    l->owner);
	else
		strata_error_detail(e, "it could not be renewed for %.1fs, longer than lock_ttl_ms",
		                    since / 1000);
	strata_error_hint(e, "the migrations before this one stay applied; check the connection "
	                     "to the server, or raise lock_ttl_ms, and run again");
	return STRATA_ELOCKED;
}

void strata_table_lock_release(strata_table_lock *l)
{
	if (!l)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	if (PQstatus(l->hb) != CONNECTION_OK)
		PQreset(l->hb);
	if (PQstatus(l->hb) == CONNECTION_OK)
		PQclear(exec2(l->hb, release_sql, l, 1));
	PQfinish(l->hb);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
