/*
 * pg.c: the PostgreSQL backend.
 *
 * A transactional migration goes to the server as one simple-protocol query string,
 *   BEGIN; <the section's SQL>\n; INSERT INTO strata_migrations ...; COMMIT;
 * so a migration costs one round trip. When a statement fails the server skips the rest of the
 * string (COMMIT included) and we send ROLLBACK. The error's position (in characters of the
 * string we sent) maps back to the migration file's line and column; an error without a
 * position is placed at the start of the failing statement, found by counting the results that
 * came back before it and splitting the section (core/sqlsplit.h).
 */
#include "backend/pg.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/lock_table.h"
#include "backend/pg_exec.h"
#include "core/sqlsplit.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/text.h"

#define LOCK_KEY STRATA_PG_ADVISORY_KEY

typedef struct pg_backend {
	strata_backend base;
	PGconn *conn;
	strata_pg_link link;      /* conn, its cancel object and base.interrupted, for waits */
	bool locked;              /* the advisory lock */
	strata_table_lock *tlock; /* the table lock */
	/* the server counts an error's position in characters of its own encoding; with
	 * SQL_ASCII every byte is a character (no conversion from our UTF-8 happens) */
	bool position_in_bytes;
	char encoding[32]; /* server_encoding */
} pg_backend;

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static const char *field(const PGresult *r, int code)
{
	const char *v = r ? PQresultErrorField(r, code) : NULL;
	return v ? v : "";
}

/* Fills e from a failed result (or the connection when r is NULL). */
static int set_db_error(pg_backend *pg, const PGresult *r, strata_error *e)
{
	const char *primary = field(r, PG_DIAG_MESSAGE_PRIMARY);
	int code = STRATA_EDB;
	if (!*primary) {
		const char *msg = PQerrorMessage(pg->conn);
		size_t n = strcspn(msg, "\n");
		strata_error_set(e, STRATA_EDB, "%.*s", (int)n, msg);
	} else {
		strata_error_set(e, STRATA_EDB, "%s", primary);
	}
	if (*field(r, PG_DIAG_MESSAGE_DETAIL))
		strata_error_detail(e, "%s", field(r, PG_DIAG_MESSAGE_DETAIL));
	if (*field(r, PG_DIAG_MESSAGE_HINT))
		strata_error_hint(e, "%s", field(r, PG_DIAG_MESSAGE_HINT));
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", field(r, PG_DIAG_SQLSTATE));
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		code = STRATA_ECONNECT;
		e->code = code;
		if (!*e->hint)
			strata_error_hint(e, "the connection to the server was lost; check the "
			                     "server, then run 'strata migrations show'");
	} else if (pg->base.interrupted) {
		code = STRATA_EINTERRUPTED; /* the server's 57014, our cancel */
		e->code = code;
	}
	strata_dburl_scrub_error(pg->base.url, e);
	return code;
}

/* Runs sql (one or several statements) and returns 0, or fills e. */
static int exec_simple(pg_backend *pg, const char *sql, strata_error *e)
{
	PGresult *r = strata_pg_exec(&pg->link, sql);
	ExecStatusType st = PQresultStatus(r);
	int error = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		error = set_db_error(pg, r, e);
	PQclear(r);
	return error;
}

static int pg_open(strata_backend **out, const strata_dburl *url, unsigned flags, strata_error *e)
{
	const char *keys[6], *vals[6], *enc;
	int n = 0;
	pg_backend *pg = calloc(1, sizeof(*pg));
	int error = 0;

	(void)flags; /* a server's database is never created by connecting */
	*out = NULL;
	if (!pg)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	pg->base.ops = &strata_pg_ops;
	pg->base.url = url;
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[n] = "connect_timeout";
		vals[n++] = "10";
	}
	keys[n] =
	    "dbname"; /* expanded: a URL or a keyword string; its settings override the above */
	vals[n++] = url->target;
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = "fallback_application_name";
	vals[n++] = "strata";
	keys[n] = NULL;
	vals[n] = NULL;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pg->conn);
		char detail[sizeof(e->detail)];
		size_t len;
		snprintf(detail, sizeof(detail), "%s", m);
		len = strlen(detail);
		while (len && (detail[len - 1] == '\n' || detail[len - 1] == ' '))
			detail[--len] = '\0';
		strata_error_set(e, STRATA_ECONNECT, "cannot connect to %s", url->display);
		strata_error_detail(e, "%s", detail);
		if (strstr(m, "could not translate host name"))
			strata_error_hint(e, "the host name in the URL does not resolve: check its "
			                     "spelling, and that this machine's DNS knows it");
		else if (strstr(m, "password authentication failed") || strstr(m, "no password"))
			strata_error_hint(e, "check the user and password in the URL, PGPASSWORD "
			                     "or ~/.pgpass");
		else if (strstr(m, "does not exist") && strstr(m, "database"))
			strata_error_hint(e, "create the database first (createdb), or fix the "
			                     "database name in the URL");
		else if (strstr(m, "Connection refused") || strstr(m, "No such file"))
			strata_error_hint(e, "is the server running, and are the host and port in "
			                     "the URL right?");
		else if (strstr(m, "invalid") || strstr(m, "missing"))
			strata_error_hint(e,
			                  "check the URL's syntax: postgres://USER:PASSWORD@HOST:"
			                  "PORT/DB");
		strata_dburl_scrub_conninfo_error(url, e);
		error = STRATA_ECONNECT;
		goto done;
	}
	PQsetNoticeProcessor(pg->conn, quiet_notices, NULL);
	pg->link.conn = pg->conn;
	pg->link.cancel = PQgetCancel(pg->conn);
	pg->link.interrupted = &pg->base.interrupted;
	enc = PQparameterStatus(pg->conn, "server_encoding");
	pg->position_in_bytes = enc && strcmp(enc, "SQL_ASCII") == 0;
	snprintf(pg->encoding, sizeof(pg->encoding), "%s", enc ? enc : "");
	*out = &pg->base;
	pg = NULL;
done:
	if (pg) {
		PQfinish(pg->conn);
		free(pg);
	}
	return error;
}

static void pg_close(strata_backend *b)
{
	pg_backend *pg = (pg_backend *)b;
	if (!pg)
		return;
	strata_table_lock_release(pg->tlock); /* when unlock was not called */
	PQfreeCancel(pg->link.cancel);
	PQfinish(pg->conn);
	free(pg);
}

static void pg_interrupt(strata_backend *b)
{
	strata_pg_cancel(&((pg_backend *)b)->link);
}

/* Says who holds the lock, for the error message. */
static void describe_lock_holder(pg_backend *pg, strata_error *e)
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

/* Runs a query string of several statements; returns the first error's result, else the last
 * result with rows (NULL when the query could not be sent). */
static PGresult *exec_rows(pg_backend *pg, const char *sql)
{
	PGresult *keep = NULL, *r;
	if (!PQsendQuery(pg->conn, sql))
		return NULL;
	while ((r = strata_pg_next_result(&pg->link)) != NULL) {
		if ((!keep || PQresultStatus(keep) != PGRES_FATAL_ERROR) &&
		    (PQresultStatus(r) == PGRES_TUPLES_OK ||
		     PQresultStatus(r) == PGRES_FATAL_ERROR)) {
			PQclear(keep);
			keep = r;
		} else {
			PQclear(r);
		}
	}
	return keep;
}

/* The advisory lock is refused through a connection pooler; the caller adds the detail. */
static int pooler_error(pg_backend *pg, strata_error *e)
{
	strata_error_set(e, STRATA_ELOCKED,
	                 "cannot use the advisory migration lock: the connection to %s goes "
	                 "through a connection pooler",
	                 pg->base.url->display);
	strata_error_hint(e, "with PgBouncer's transaction pooling use --lock-strategy table (or "
	                     "\"lock_strategy\": \"table\" in strata.json), or connect to "
	                     "PostgreSQL directly");
	strata_dburl_scrub_error(pg->base.url, e);
	return STRATA_ELOCKED;
}

static int held_error(pg_backend *pg, strata_error *e)
{
	strata_error_set(e, STRATA_ELOCKED, "another strata run holds the migration lock on %s",
	                 pg->base.url->display);
	strata_error_hint(e, "wait for it to finish, or wait longer with --lock-wait");
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
static int advisory_once(pg_backend *pg, int wait_ms, bool *table_held, strata_error *e)
{
	char sql[384];
	PGresult *r = NULL;
	int announced = PQbackendPID(pg->conn), error = 0;
	char server_pid[16] = "";

	*table_held = false;
	if (wait_ms <= 0)
		snprintf(sql, sizeof(sql),
		         "SELECT pg_backend_pid(), CASE WHEN pg_backend_pid() = %d THEN "
		         "pg_try_advisory_lock(" LOCK_KEY ") END",
		         announced);
	else
		snprintf(sql, sizeof(sql),
		         "SET lock_timeout = %d; SELECT pg_backend_pid(), CASE WHEN "
		         "pg_backend_pid() = %d THEN (SELECT true FROM pg_advisory_lock(" LOCK_KEY
		         ")) END; SET lock_timeout = DEFAULT",
		         wait_ms, announced);
	r = exec_rows(pg, sql);
	if (!r || (PQresultStatus(r) == PGRES_FATAL_ERROR &&
	           strcmp(field(r, PG_DIAG_SQLSTATE), "55P03") != 0)) {
		error = set_db_error(pg, r, e);
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
		error = set_db_error(pg, r, e);
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
static int lock_advisory(pg_backend *pg, int wait_ms, strata_error *e)
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
			return strata_backend_interrupted(e);
	}
}

static int pg_lock_with(strata_backend *b, const strata_lock_opts *o, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
	if (o->strategy == STRATA_LOCK_TABLE)
		return strata_table_lock_acquire(&pg->tlock, &pg->link, b->url, o, e);
	return lock_advisory(pg, o->wait_ms, e);
}

static int pg_lock(strata_backend *b, int wait_ms, strata_error *e)
{
	return lock_advisory((pg_backend *)b, wait_ms, e);
}

static void pg_unlock(strata_backend *b)
{
	pg_backend *pg = (pg_backend *)b;
	if (pg->locked && PQstatus(pg->conn) == CONNECTION_OK)
		PQclear(PQexec(pg->conn, "SELECT pg_advisory_unlock_all()"));
	pg->locked = false;
	strata_table_lock_release(pg->tlock);
	pg->tlock = NULL;
}

#define HISTORY_SELECT "SELECT version, name, checksum, "
#define HISTORY_DATES                                                                              \
	"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "            \
	"duration_ms, "
#define HISTORY_REST "status, progress, out_of_order"
#define HISTORY_CREATE                                                                             \
	"CREATE TABLE " STRATA_HISTORY_TABLE " ("                                                  \
	"version text NOT NULL, name text NOT NULL, "                                              \
	"checksum text NOT NULL, "                                                                 \
	"applied_at timestamptz NOT NULL DEFAULT now(), "                                          \
	"duration_ms double precision NOT NULL DEFAULT 0, "                                        \
	"status text NOT NULL DEFAULT 'applied', "                                                 \
	"progress integer NOT NULL DEFAULT 0, "                                                    \
	"out_of_order boolean NOT NULL DEFAULT false, "                                            \
	"row_hash bigint, "                                                                        \
	"PRIMARY KEY (version, name))"
/* a table from before row_hash */
#define HISTORY_ADD_ROW_HASH "ALTER TABLE " STRATA_HISTORY_TABLE " ADD COLUMN row_hash bigint"

/*
 * When a statement on one of strata's own tables is refused for want of a privilege (42501),
 * the error is about the role, not the migration: say which table and which privilege, and
 * place it nowhere in the user's file. Returns whether it was such an error.
 */
static bool own_table_privilege(pg_backend *pg, strata_error *e)
{
	static const char *const tables[] = {STRATA_HISTORY_TABLE, STRATA_LOCK_TABLE_NAME,
	                                     "strata_seeds"};
	const char *role = PQuser(pg->conn);
	if (strcmp(e->sqlstate, "42501") != 0)
		return false;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (!strstr(e->msg, tables[i]))
			continue;
		strata_error_at(e, "", 0, 0);
		e->source_line[0] = '\0';
		if (strstr(e->msg, "must be owner"))
			strata_error_hint(
			    e,
			    "%s is from an older strata and lacks the row_hash column, "
			    "which only its owner may add: run strata once as the owner, "
			    "or have the owner run '" HISTORY_ADD_ROW_HASH "'",
			    tables[i]);
		else
			strata_error_hint(e,
			                  "strata keeps its state in %s: the role %s needs SELECT, "
			                  "INSERT, UPDATE and DELETE on it (GRANT SELECT, INSERT, "
			                  "UPDATE, DELETE ON %s TO %s)",
			                  tables[i], role, tables[i], role);
		return true;
	}
	if (strstr(e->msg, "permission denied for schema")) {
		strata_error_hint(e,
		                  "strata creates its history table " STRATA_HISTORY_TABLE
		                  " on the first run: let the role %s create it (GRANT CREATE ON "
		                  "SCHEMA ... TO %s), or run strata once as a role that may; later "
		                  "runs need no CREATE",
		                  role, role);
		return true;
	}
	return false;
}

/* Runs one statement of strata's own (creating or altering the history table). */
static int exec_own(pg_backend *pg, const char *sql, strata_error *e)
{
	int error = exec_simple(pg, sql, e);
	if (error == STRATA_EDB)
		own_table_privilege(pg, e);
	return error;
}

/*
 * Reads the history. A run that writes the history (STRATA_HISTORY_CREATE) creates its table
 * only when it is missing, and adds row_hash to a table from before it only when reading it
 * says it lacks it: a role without CREATE on the schema can run pending migrations once the
 * table is there, and the common case is one query.
 */
static int pg_history_load(strata_backend *b, strata_history *out, unsigned flags, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
	bool create = flags & STRATA_HISTORY_CREATE;
	/* a run that writes rows writes row_hash: reading the column tells whether it is there */
	bool hashes = (flags & STRATA_HISTORY_ROW_HASH) || create;
	char sql[512];
	PGresult *r = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	snprintf(sql, sizeof(sql), "%s%s%s%s FROM " STRATA_HISTORY_TABLE, HISTORY_SELECT,
	         flags & STRATA_HISTORY_BRIEF ? "NULL, NULL, " : HISTORY_DATES, HISTORY_REST,
	         hashes ? ", row_hash" : "");
	for (int attempt = 0; attempt < 3; attempt++) {
		const char *st, *fix = NULL;
		PQclear(r);
		r = strata_pg_exec(&pg->link, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			break;
		st = field(r, PG_DIAG_SQLSTATE);
		if (strcmp(st, "42P01") == 0 && !create)
			goto done; /* no table yet: nothing applied */
		if (strcmp(st, "42P01") == 0)
			fix = HISTORY_CREATE;
		else if (strcmp(st, "42703") == 0 && create &&
		         strstr(field(r, PG_DIAG_MESSAGE_PRIMARY), "row_hash"))
			fix = HISTORY_ADD_ROW_HASH;
		if (!fix || attempt == 2) {
			error = set_db_error(pg, r, e);
			own_table_privilege(pg, e);
			goto done;
		}
		/* another runner may make it at the same moment (42P07, 23505, 42701): read again
		 */
		if ((error = exec_own(pg, fix, e)) < 0 && strcmp(e->sqlstate, "42P07") != 0 &&
		    strcmp(e->sqlstate, "23505") != 0 && strcmp(e->sqlstate, "42701") != 0)
			goto done;
		error = 0;
		strata_error_clear(e);
	}
	for (int i = 0; i < PQntuples(r) && error == 0; i++) {
		strata_applied *a;
		int st = strata_applied_status_parse(PQgetvalue(r, i, 5));
		error = strata_history_add(out, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		                           PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		                           strtod(PQgetvalue(r, i, 4), NULL), e);
		if (error < 0)
			break;
		a = &out->items[out->n - 1];
		a->status = st < 0 ? STRATA_APPLIED_FAILED : (strata_applied_status)st;
		a->progress = atoi(PQgetvalue(r, i, 6));
		a->out_of_order = strcmp(PQgetvalue(r, i, 7), "t") == 0;
		if (hashes && !PQgetisnull(r, i, 8)) {
			a->has_row_hash = true;
			a->row_hash = (uint64_t)strtoll(PQgetvalue(r, i, 8), NULL, 10);
		}
	}
	strata_history_sort(out);
done:
	PQclear(r);
	if (error < 0)
		strata_history_free(out);
	return error;
}

static int append_literal(pg_backend *pg, strata_buf *q, const char *s)
{
	char *lit = PQescapeLiteral(pg->conn, s, strlen(s));
	if (!lit)
		return STRATA_ERROR;
	strata_buf_puts(q, lit);
	PQfreemem(lit);
	return 0;
}

/*
 * The history's summary (core/history.h). Each history row carries row_hash, the hash of its
 * version, name and checksum that strata computes (strata_history_row_hash) and writes with the
 * row; a run with nothing to do aggregates that column instead of reading every row. A row
 * without it (written by an older strata, or by hand) makes the summary unusable until a run
 * fills it in (pg_history_fill_hashes).
 */
static int pg_history_summary(strata_backend *b, strata_history_summary *out, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
	PGresult *r =
	    strata_pg_exec(&pg->link, "SELECT count(*), count(row_hash), "
	                              "coalesce(bit_xor(row_hash), 0), count(*) FILTER (WHERE "
	                              "status <> 'applied') FROM " STRATA_HISTORY_TABLE);
	int found = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* no history table (42P01) or one from before row_hash (42703): read it all */
		const char *st = field(r, PG_DIAG_SQLSTATE);
		if (strcmp(st, "42P01") != 0 && strcmp(st, "42703") != 0)
			found = set_db_error(pg, r, e);
	} else if (strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1)) == 0) {
		out->rows = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		out->digest = (uint64_t)strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		out->unfinished = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
		found = 1;
	}
	PQclear(r);
	return found;
}

/* Sets row_hash where h (read with STRATA_HISTORY_ROW_HASH) has it missing or wrong, in one
 * statement. */
static int pg_history_fill_hashes(strata_backend *b, const strata_history *h, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
	strata_buf q = STRATA_BUF_INIT;
	size_t n = 0;
	int error = 0;

	strata_buf_puts(&q, "UPDATE " STRATA_HISTORY_TABLE " m SET row_hash = v.h FROM (VALUES ");
	for (size_t i = 0; i < h->n && error == 0; i++) {
		const strata_applied *a = &h->items[i];
		uint64_t want;
		if (strata_history_row_hash(&want, a->version, a->name, a->checksum) < 0) {
			strata_buf_free(&q);
			return strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
		}
		if (a->has_row_hash && a->row_hash == want)
			continue;
		strata_buf_puts(&q, n++ ? ", (" : "(");
		error |= append_literal(pg, &q, a->version);
		strata_buf_puts(&q, ", ");
		error |= append_literal(pg, &q, a->name);
		strata_buf_printf(&q, ", %" PRId64 "::bigint)", (int64_t)want);
	}
	strata_buf_puts(&q, ") AS v(version, name, h) "
	                    "WHERE m.version = v.version AND m.name = v.name");
	if (error < 0 || q.failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else if (n)
		error = exec_simple(pg, q.ptr, e);
	strata_buf_free(&q);
	return error;
}

/* The row_hash value of m's history row: the number, or NULL. */
static void append_row_hash(strata_buf *q, const strata_migration *m)
{
	uint64_t h;
	if (strata_history_row_hash(&h, m->version, m->name, m->checksum) < 0)
		strata_buf_puts(q, "NULL");
	else
		strata_buf_printf(q, "%" PRId64, (int64_t)h);
}

static int append_history_change(pg_backend *pg, strata_buf *q, const strata_step *s)
{
	const strata_migration *m = s->m;
	int error = 0;
	if (s->dir == STRATA_UP) {
		strata_buf_puts(q,
		                "INSERT INTO " STRATA_HISTORY_TABLE
		                " (version, name, checksum, row_hash, out_of_order, duration_ms) "
		                "VALUES (");
		error |= append_literal(pg, q, m->version);
		strata_buf_puts(q, ", ");
		error |= append_literal(pg, q, m->name);
		strata_buf_puts(q, ", ");
		error |= append_literal(pg, q, m->checksum);
		strata_buf_puts(q, ", ");
		append_row_hash(q, m);
		strata_buf_puts(q, s->out_of_order ? ", true" : ", false");
		strata_buf_puts(q, ", extract(epoch FROM clock_timestamp() - "
		                   "statement_timestamp()) * 1000) RETURNING duration_ms;\n");
	} else {
		strata_buf_puts(q, "DELETE FROM " STRATA_HISTORY_TABLE " WHERE version = ");
		error |= append_literal(pg, q, m->version);
		strata_buf_puts(q, " AND name = ");
		error |= append_literal(pg, q, m->name);
		strata_buf_puts(q, ";\n");
	}
	return error ? STRATA_ERROR : 0;
}

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

/* Places e from the server's error position in `sent`, where the section starts at sql_at. The
 * position counts characters of the server's encoding: every character of our UTF-8 text is one
 * character there once converted, except under SQL_ASCII, which converts nothing and counts
 * bytes. */
static bool locate_position(const pg_backend *pg, const strata_section *sec, const PGresult *r,
                            const char *sent, size_t sent_len, size_t sql_at, strata_error *e)
{
	const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	size_t byte, at;
	if (!pos || atoi(pos) <= 0)
		return false;
	at = (size_t)atoi(pos) - 1;
	byte = pg->position_in_bytes ? (at < sent_len ? at : sent_len)
	                             : strata_utf8_char_to_byte(sent, sent_len, at);
	if (byte < sql_at || byte > sql_at + sec->len)
		return false;
	strata_section_locate(sec, byte - sql_at, e);
	return true;
}

/* Sends q, reads every result; on error fills e (placed in sec, where the section starts at
 * sql_at in q, skip_results results after the first). *duration (optional) gets the
 * duration_ms the history row returned (RETURNING duration_ms), when one did. */
static int send_and_collect(pg_backend *pg, const strata_buf *q, const strata_section *sec,
                            size_t sql_at, int skip_results, double *duration, strata_error *e)
{
	PGresult *r, *failed = NULL;
	int ok = 0, error = 0;

	if (!PQsendQuery(pg->conn, strata_buf_cstr(q)))
		return set_db_error(pg, NULL, e);
	while ((r = strata_pg_next_result(&pg->link)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (!failed)
				ok++;
			if (duration && st == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
			    PQnfields(r) == 1 && strcmp(PQfname(r, 0), "duration_ms") == 0)
				*duration = strtod(PQgetvalue(r, 0, 0), NULL);
			PQclear(r);
		} else if (!failed) {
			failed = r;
		} else {
			PQclear(r);
		}
	}
	if (failed) {
		error = set_db_error(pg, failed, e);
		if (own_table_privilege(pg, e)) {
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
		} else if (sec && !locate_position(pg, sec, failed, q->ptr, q->len, sql_at, e)) {
			locate_statement(sec, ok - skip_results, e);
		}
		strata_dburl_scrub_error(pg->base.url, e);
		PQclear(failed);
	} else if (PQstatus(pg->conn) == CONNECTION_BAD) {
		error = set_db_error(pg, NULL, e);
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
static void describe_blockers(pg_backend *pg, strata_error *e)
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
static void describe_invalid_indexes(pg_backend *pg, strata_error *e)
{
	PGresult *r = PQexec(pg->conn, "SELECT indexrelid::regclass::text FROM pg_index i "
	                               "JOIN pg_class c ON c.oid = i.indexrelid "
	                               "JOIN pg_namespace n ON n.oid = c.relnamespace "
	                               "WHERE NOT i.indisvalid AND n.nspname NOT IN "
	                               "('pg_catalog', 'information_schema') LIMIT 1");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		strata_error_hint(e,
		                  "the failed statement left index %s INVALID: run 'DROP INDEX "
		                  "CONCURRENTLY %s;', fix the file, then 'strata migrations "
		                  "repair'",
		                  PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* The history row of a transaction:false migration, written as it goes. */
static int nt_record(pg_backend *pg, const strata_step *s, strata_applied_status st, int progress,
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
		error |= append_literal(pg, &q, m->version);
		strata_buf_puts(&q, ", ");
		error |= append_literal(pg, &q, m->name);
		strata_buf_puts(&q, ", ");
		error |= append_literal(pg, &q, m->checksum);
		strata_buf_puts(&q, ", ");
		append_row_hash(&q, m);
		strata_buf_printf(&q,
		                  ", %s, 'running', %d) ON CONFLICT (version, name) DO UPDATE "
		                  "SET status = 'running', progress = EXCLUDED.progress, "
		                  "checksum = EXCLUDED.checksum, row_hash = EXCLUDED.row_hash",
		                  s->out_of_order ? "true" : "false", progress);
	} else {
		strata_buf_printf(
		    &q, "UPDATE " STRATA_HISTORY_TABLE " SET status = '%s', progress = %d",
		    strata_applied_status_name(st), progress);
		if (st == STRATA_APPLIED_OK)
			strata_buf_printf(&q, ", duration_ms = %.3f, applied_at = now()", ms);
		strata_buf_puts(&q, " WHERE version = ");
		error |= append_literal(pg, &q, m->version);
		strata_buf_puts(&q, " AND name = ");
		error |= append_literal(pg, &q, m->name);
		if (st == STRATA_APPLIED_OK)
			strata_buf_puts(&q, "; RESET lock_timeout; RESET statement_timeout");
	}
	if (error < 0 || q.failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else
		error = exec_simple(pg, q.ptr, e);
	strata_buf_free(&q);
	return error;
}

/* transaction:false: each statement on its own (a multi-statement string would be one implicit
 * transaction), recording progress in the history so a failure can be repaired. Down sections
 * delete the row at the end instead. */
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
static int apply_each_statement(pg_backend *pg, const strata_step *s, const strata_apply_opts *o,
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
		if (q.len && (error = exec_simple(pg, q.ptr, e)) < 0)
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
		/* as the row stores it (%.3f), so that run and show print the same */
		res->duration_ms = (double)(long long)((strata_now_ms() - t0) * 1000 + 0.5) / 1000;
		error =
		    nt_record(pg, s, STRATA_APPLIED_OK, res->statements, res->duration_ms, o, e);
	} else {
		strata_buf_reset(&q);
		if (append_history_change(pg, &q, s) < 0 || q.failed)
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

static int pg_apply(strata_backend *b, const strata_step *s, const strata_apply_opts *o,
                    strata_apply_result *res, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
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
	error = append_history_change(pg, &q, s);
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

static int pg_mark_applied(strata_backend *b, const strata_migration *m, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
	strata_buf q = STRATA_BUF_INIT;
	int error = 0;
	strata_buf_puts(&q, "UPDATE " STRATA_HISTORY_TABLE " SET status = 'applied', checksum = ");
	error |= append_literal(pg, &q, m->checksum);
	strata_buf_puts(&q, ", row_hash = ");
	append_row_hash(&q, m);
	strata_buf_puts(&q, ", applied_at = now() WHERE version = ");
	error |= append_literal(pg, &q, m->version);
	strata_buf_puts(&q, " AND name = ");
	error |= append_literal(pg, &q, m->name);
	if (error < 0 || q.failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else
		error = exec_simple(pg, q.ptr, e);
	strata_buf_free(&q);
	return error;
}

static int pg_begin(strata_backend *b, strata_error *e)
{
	return exec_simple((pg_backend *)b, "BEGIN", e);
}

static int pg_commit(strata_backend *b, strata_error *e)
{
	return exec_simple((pg_backend *)b, "COMMIT", e);
}

static void pg_rollback(strata_backend *b)
{
	pg_backend *pg = (pg_backend *)b;
	if (PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
}

/* Whether the history has m as applied (by someone else). */
static bool applied_by_other(pg_backend *pg, const strata_migration *m)
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
static int pg_apply_locked(strata_backend *b, const strata_step *step, const strata_apply_opts *o,
                           strata_apply_result *r, strata_error *e)
{
	pg_backend *pg = (pg_backend *)b;
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
	return error;
}

static void *pg_native(strata_backend *b)
{
	return ((pg_backend *)b)->conn;
}

const struct strata_backend_ops strata_pg_ops = {
    .version = STRATA_BACKEND_OPS_VERSION,
    .name = "postgres",
    .open = pg_open,
    .lock = pg_lock,
    .unlock = pg_unlock,
    .history_load = pg_history_load,
    .apply = pg_apply_locked,
    .mark_applied = pg_mark_applied,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
    .native = pg_native,
    .lock_with = pg_lock_with,
    .history_summary = pg_history_summary,
    .history_fill_hashes = pg_history_fill_hashes,
    .interrupt = pg_interrupt,
};
