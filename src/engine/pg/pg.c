/*
 * pg.c: the PostgreSQL engine (libpq): its URLs, the connection, errors, and the table of its
 * operations; the lock, the history and migrations are in pg_lock.c, pg_history.c and
 * pg_apply.c, the seed loader in seed_pg.c, the schema dump in pg_schema.c.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/seed_engine.h"
#include "engine/pg/pg.h"
#include "engine/pg/pg_internal.h"
#include "engine/pg/pq.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/text.h"

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

const char *strata_pg__field(const PGresult *r, int code)
{
	const char *v = r ? PQresultErrorField(r, code) : NULL;
	return v ? v : "";
}

/* Fills e from a failed result (or the connection when r is NULL). */
int strata_pg__error(pg_conn *pg, const PGresult *r, strata_error *e)
{
	const char *primary = strata_pg__field(r, PG_DIAG_MESSAGE_PRIMARY);
	int code = STRATA_EDB;
	if (!*primary) {
		const char *msg = PQerrorMessage(pg->conn);
		size_t n = strcspn(msg, "\n");
		strata_error_set(e, STRATA_EDB, "%.*s", (int)n, msg);
	} else {
		strata_error_set(e, STRATA_EDB, "%s", primary);
	}
	if (*strata_pg__field(r, PG_DIAG_MESSAGE_DETAIL))
		strata_error_detail(e, "%s", strata_pg__field(r, PG_DIAG_MESSAGE_DETAIL));
	if (*strata_pg__field(r, PG_DIAG_MESSAGE_HINT))
		strata_error_hint(e, "%s", strata_pg__field(r, PG_DIAG_MESSAGE_HINT));
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", strata_pg__field(r, PG_DIAG_SQLSTATE));
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		code = STRATA_ECONNECT;
		e->code = code;
		if (!*e->hint)
			strata_error_hint(e, "the connection to the server was lost; check the "
			                     "server, then see what was applied (strata_status())");
	} else if (pg->base.interrupted) {
		code = STRATA_EINTERRUPTED; /* the server's 57014, our cancel */
		e->code = code;
	} else if (strcmp(e->sqlstate, "55P03") == 0) {
		code = STRATA_ELOCKTIMEOUT; /* lock_not_available: gave up waiting for a lock */
		e->code = code;
	}
	strata_dburl_scrub_error(pg->base.url, e);
	return code;
}

/* Runs sql (one or several statements) and returns 0, or fills e. */
int strata_pg__exec(pg_conn *pg, const char *sql, strata_error *e)
{
	PGresult *r = strata_pg_exec(&pg->link, sql);
	ExecStatusType st = PQresultStatus(r);
	int error = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		error = strata_pg__error(pg, r, e);
	PQclear(r);
	return error;
}

int strata_pg__exec_buf(pg_conn *pg, strata_buf *q, int error, strata_error *e)
{
	if (error < 0 || q->failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else
		error = strata_pg__exec(pg, q->ptr, e);
	strata_buf_free(q);
	return error;
}

char *strata_pg__schema_options(const strata_dburl *url)
{
	PQconninfoOption *opts;
	strata_buf b = STRATA_BUF_INIT;

	if (!url->schema)
		return NULL;
	/* the URL's own options first: ours are added, not put in their place */
	if ((opts = PQconninfoParse(url->target, NULL)) != NULL) {
		for (PQconninfoOption *o = opts; o->keyword; o++)
			if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
				strata_buf_printf(&b, "%s ", o->val);
		PQconninfoFree(opts);
	}
	/* -c search_path="name": a quoted identifier, a backslash before a space or backslash
	 * (the server splits options at white space) */
	strata_buf_puts(&b, "-c search_path=\"");
	for (const char *p = url->schema; *p; p++) {
		if (*p == ' ' || *p == '\\')
			strata_buf_put(&b, "\\", 1);
		strata_buf_put(&b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
	}
	strata_buf_put(&b, "\"", 1);
	/* the tenant's own advisory lock key (lock_table.h): FNV-1a over "strata:" and its name */
	{
		uint64_t h = 1469598103934665603ull;
		for (const char *p = "strata:"; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		for (const char *p = url->schema; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		strata_buf_printf(&b, " -c strata.lock_key=%lld", (long long)(int64_t)h);
	}
	return strata_buf_detach(&b);
}

int strata_pg__open(strata_conn **out, const strata_dburl *url, unsigned flags, strata_error *e)
{
	const char *keys[7], *vals[7], *enc;
	char *schema_opts = NULL;
	int n = 0;
	pg_conn *pg = calloc(1, sizeof(*pg));
	int error = 0;

	(void)flags; /* a server's database is never created by connecting */
	*out = NULL;
	if (!pg)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if ((error = strata_pq_load(e)) < 0) {
		strata_error_detail(e, "strata loads libpq when it first connects to PostgreSQL");
		free(pg);
		return error;
	}
	pg->base.engine = &strata_pg_engine;
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
	if (url->schema) {
		if (!(schema_opts = strata_pg__schema_options(url))) {
			free(pg);
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		keys[n] = "options";
		vals[n++] = schema_opts;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	free(schema_opts);
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

void strata_pg__close(strata_conn *b)
{
	pg_conn *pg = (pg_conn *)b;
	if (!pg)
		return;
	strata_table_lock_release(pg->tlock); /* when unlock was not called */
	PQfreeCancel(pg->link.cancel);
	PQfinish(pg->conn);
	free(pg);
}

void strata_pg__interrupt(strata_conn *b)
{
	strata_pg_cancel(&((pg_conn *)b)->link);
}

/* postgres:// and postgresql:// URLs, and libpq keyword strings (host=... dbname=...). */
static int pg_url_target(const char *url, char **target, strata_error *e)
{
	size_t sl = strata_url_scheme_len(url);
	bool mine = (sl == 8 && strata_ascii_ncasecmp(url, "postgres", 8) == 0) ||
	            (sl == 10 && strata_ascii_ncasecmp(url, "postgresql", 10) == 0) ||
	            (sl == 0 && strchr(url, '='));
	if (!mine)
		return 0;
	if (!(*target = strdup(url)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 1;
}

/* A C step's SQL, in its transaction. */
static int pg_exec_sql(strata_conn *b, const char *sql, strata_error *e)
{
	return strata_pg__exec((pg_conn *)b, sql, e);
}

static int pg_query(strata_conn *b, const char *sql, const char *const *params, size_t n,
                    strata_rows **out, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	PGresult *r = strata_pg_exec_params(&pg->link, sql, (int)n, params);
	const char **row = NULL;
	int error = 0;

	*out = NULL;
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		error = strata_pg__error(pg, r, e);
		goto done;
	}
	row = calloc((size_t)PQnfields(r) + 1, sizeof(*row));
	if (!row) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if ((error = strata_rows_new(out, (size_t)PQnfields(r), e)) < 0)
		goto done;
	for (int c = 0; c < PQnfields(r) && error == 0; c++)
		error = strata_rows_set_name(*out, (size_t)c, PQfname(r, c), e);
	for (int i = 0; i < PQntuples(r) && error == 0; i++) {
		for (int c = 0; c < PQnfields(r); c++)
			row[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
		error = strata_rows_add(*out, row, e);
	}
done:
	if (error < 0) {
		strata_rows_free(*out);
		*out = NULL;
	}
	free(row);
	PQclear(r);
	return error;
}

static const char *const pg_near_schemes[] = {"pos", "pg", NULL};

/* libpg_query's scanner reads strings as standard_conforming_strings on does, the default since
 * PostgreSQL 9.1; the server reports the session's value (libpq keeps it). */
static const char *pg_sql_read_differs(const strata_conn *b)
{
	const pg_conn *pg = (const pg_conn *)b;
	const char *v = PQparameterStatus(pg->conn, "standard_conforming_strings");
	return v && strcmp(v, "off") == 0 ? "standard_conforming_strings off" : NULL;
}

const struct strata_engine strata_pg_engine = {
    .version = STRATA_ENGINE_VERSION,
    .name = "postgres",
    .dialect = STRATA_DIALECT_POSTGRES,
    .waits_for_server = true,
    .url_forms = "postgres://USER@HOST/DB, a libpq keyword string (host=... dbname=...)",
    .near_schemes = pg_near_schemes,
    .suggestion = "postgres://",
    .url_target = pg_url_target,
    .open = strata_pg__open,
    .close = strata_pg__close,
    .interrupt = strata_pg__interrupt,
    .lock = strata_pg__lock,
    .unlock = strata_pg__unlock,
    .history_load = strata_pg__history_load,
    .history_summary = strata_pg__history_summary,
    .history_summary_keep = strata_pg__history_summary_keep,
    .history_each = strata_pg__history_each,
    .history_newest = strata_pg__history_newest,
    .history_fill_hashes = strata_pg__history_fill_hashes,
    .apply = strata_pg__apply,
    .mark_applied = strata_pg__mark_applied,
    .begin = strata_pg__begin,
    .record = strata_pg__record,
    .commit = strata_pg__commit,
    .rollback = strata_pg__rollback,
    .exec = pg_exec_sql,
    .query = pg_query,
    .seed = &strata_pg_seed,
    .scratch_create = strata_pg__scratch_create,
    .scratch_drop = strata_pg__scratch_drop,
    .schema_reset = strata_pg__schema_reset,
    .same_database = strata_pg__same_database,
    .schemas = true,
    .history_edit = strata_pg__history_edit,
    .schema_read = strata_pg__schema_read,
    .schema_preamble = strata_pg__schema_preamble,
    .replicas_wait = strata_pg__replicas_wait,
    .sql_read_differs = pg_sql_read_differs,
    .sql_read_fix = "turn it on for strata's session (add "
                    "options=-c%20standard_conforming_strings%3Don to the database URL's "
                    "parameters, or ALTER ROLE ... SET standard_conforming_strings = on)",
};
