/*
 * pg_scratch.c: scratch databases for the drift check and migrations test: one created beside
 * the connection's database (same server, same role) and dropped after, or one the user named,
 * emptied first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/pg/pg_internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"

/* Appends key='value' with value quoted as a libpq connection string wants. */
static void conninfo_pair(strata_buf *b, const char *key, const char *val)
{
	strata_buf_printf(b, "%s%s='", b->len ? " " : "", key);
	for (; *val; val++) {
		if (*val == '\'' || *val == '\\')
			strata_buf_put(b, "\\", 1);
		strata_buf_put(b, val, 1);
	}
	strata_buf_put(b, "'", 1);
}

/* c's connection string with dbname replaced. */
static char *with_dbname(pg_conn *pg, const char *dbname)
{
	PQconninfoOption *opts = PQconninfo(pg->conn);
	strata_buf b = STRATA_BUF_INIT;

	if (!opts)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "dbname") == 0)
			conninfo_pair(&b, o->keyword, dbname);
		else if (o->val && *o->val && strcmp(o->keyword, "replication") != 0)
			conninfo_pair(&b, o->keyword, o->val);
	}
	PQconninfoFree(opts);
	return strata_buf_detach(&b);
}

int strata_pg__scratch_create(strata_conn *b, char **url, strata_error *e)
{
	static unsigned counter;
	pg_conn *pg = (pg_conn *)b;
	char name[64];
	strata_buf q = STRATA_BUF_INIT;
	int error;

	*url = NULL;
	snprintf(name, sizeof(name), "strata_scratch_%ld_%u_%u", (long)getpid(), counter++,
	         (unsigned)((unsigned long)strata_now_ms() % 100000));
	strata_buf_printf(&q, "CREATE DATABASE %s", name);
	if ((error = strata_pg__exec_buf(pg, &q, 0, e)) < 0) {
		strata_error_hint(e, "the check needs a scratch database: grant the role CREATEDB, "
		                     "or name an empty database with shadow_url");
		return error;
	}
	if (!(*url = with_dbname(pg, name))) {
		strata_pg__scratch_drop(b, NULL);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	return 0;
}

void strata_pg__scratch_drop(strata_conn *b, const char *url)
{
	pg_conn *pg = (pg_conn *)b;
	PQconninfoOption *opts = url ? PQconninfoParse(url, NULL) : NULL;
	strata_buf q = STRATA_BUF_INIT;

	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "dbname") == 0 && o->val &&
		    strncmp(o->val, "strata_scratch_", 15) == 0)
			strata_buf_printf(&q, "DROP DATABASE IF EXISTS %s WITH (FORCE)", o->val);
	}
	if (opts)
		PQconninfoFree(opts);
	if (q.len && !q.failed) {
		/* also after an interrupt (Ctrl-C is when it matters): a link that does not cancel
		 */
		strata_pg_link l = pg->link;
		l.interrupted = NULL;
		PQclear(strata_pg_exec(&l, strata_buf_cstr(&q)));
	}
	strata_buf_free(&q);
}

int strata_pg__schema_reset(strata_conn *b, strata_error *e)
{
	static const char sql[] =
	    "DO $strata$ DECLARE s text; BEGIN "
	    "FOR s IN SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
	    "AND nspname <> 'information_schema' LOOP "
	    "EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; "
	    "CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
	    "GRANT USAGE ON SCHEMA public TO PUBLIC; "
	    "END $strata$";
	return strata_pg__exec((pg_conn *)b, sql, e);
}

int strata_pg__same_database(strata_conn *a, strata_conn *b, strata_error *e)
{
	/* a's own session seen from b, in b's database: the same server and database */
	pg_conn *pa = (pg_conn *)a, *pb = (pg_conn *)b;
	char pid[24];
	const char *params[] = {pid};
	PGresult *r;
	int same;

	snprintf(pid, sizeof(pid), "%d", PQbackendPID(pa->conn));
	r = strata_pg_exec_params(&pb->link,
	                          "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = "
	                          "$1::int AND datname = current_database()",
	                          1, params);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		same = strata_pg__error(pb, r, e);
		PQclear(r);
		return same;
	}
	same = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
	PQclear(r);
	return same;
}
