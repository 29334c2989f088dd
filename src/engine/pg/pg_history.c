/*
 * pg_history.c: strata_migrations on PostgreSQL: reading it (creating it, or the row_hash
 * column, only when missing, so a role without CREATE runs once it is there) and the
 * statements that change it. Its summary is in pg_summary.c.
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
#include "util/text.h"

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
	"row_hash bigint, previous_checksum text, accepted_at timestamptz, "                       \
	"PRIMARY KEY (version, name))"
#define HISTORY_CREATE_IF_MISSING                                                                  \
	"DO $$BEGIN IF to_regclass('" STRATA_HISTORY_TABLE "') IS NULL THEN " HISTORY_CREATE       \
	"; END IF; END$$"
/* a table from before row_hash */
#define HISTORY_ADD_ROW_HASH "ALTER TABLE " STRATA_HISTORY_TABLE " ADD COLUMN row_hash bigint"
/* what strata_accept records (STRATA_HISTORY_ACCEPTED) */
#define HISTORY_ACCEPTED                                                                           \
	", previous_checksum, to_char(accepted_at AT TIME ZONE 'UTC', "                            \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define HISTORY_ADD_ACCEPTED                                                                       \
	"ALTER TABLE " STRATA_HISTORY_TABLE " ADD COLUMN IF NOT EXISTS previous_checksum text, "   \
	"ADD COLUMN IF NOT EXISTS accepted_at timestamptz"
/* The order rows were applied in. applied_at is now(), the transaction's start, with
 * microseconds: rows tie only within one transaction (--transaction all), which is one run, and
 * a run applies in version order, so version breaks the tie as the run did. */
#define HISTORY_RANK                                                                               \
	", row_number() OVER (ORDER BY applied_at, length(ltrim(version, '0')), "                  \
	"ltrim(version, '0'), name)"

/* The history in (version, name) order as strata_migration_key_cmp sorts (numbers without their
 * leading zeros: shorter first, then byte by byte; names byte by byte), which the index
 * HISTORY_ORDER_INDEX serves without a sort (once the table has statistics: a run that made
 * it long analyzes it). In binary, which costs neither side any formatting: times are
 * microseconds, formatted by the client. */
#define HISTORY_ORDER                                                                              \
	"octet_length(ltrim(version, '0')), (ltrim(version, '0') COLLATE \"C\"), (name COLLATE "   \
	"\"C\")"
/* made when missing; a role that may not (not the table's owner) goes on without it, and the
 * server logs no error for it */
#define HISTORY_ORDER_INDEX                                                                        \
	"DO $$BEGIN IF to_regclass('" STRATA_HISTORY_TABLE                                         \
	"_order') IS NULL THEN CREATE INDEX " STRATA_HISTORY_TABLE                                 \
	"_order ON " STRATA_HISTORY_TABLE " (" HISTORY_ORDER "); END IF; "                         \
	"EXCEPTION WHEN insufficient_privilege THEN NULL; END$$"
#define HISTORY_EACH_COLUMNS                                                                       \
	"SELECT version, name, status, progress, out_of_order, applied_at, duration_ms, "          \
	"previous_checksum, accepted_at"
#define HISTORY_EACH_FROM " FROM " STRATA_HISTORY_TABLE " ORDER BY " HISTORY_ORDER
#define HISTORY_EACH HISTORY_EACH_COLUMNS HISTORY_EACH_FROM
/* the same with each row's checksum (STRATA_EACH_CHECKSUM), a tenth column */
#define HISTORY_EACH_CHECKSUM HISTORY_EACH_COLUMNS ", checksum" HISTORY_EACH_FROM
/* the same unordered (STRATA_EACH_FEW: sorted here) */
#define HISTORY_FEW HISTORY_EACH_COLUMNS " FROM " STRATA_HISTORY_TABLE
#define HISTORY_FEW_CHECKSUM HISTORY_EACH_COLUMNS ", checksum FROM " STRATA_HISTORY_TABLE

/*
 * When a statement on one of strata's own tables is refused for want of a privilege (42501),
 * the error is about the role, not the migration: say which table and which privilege, and
 * place it nowhere in the user's file. Returns whether it was such an error.
 */
bool strata_pg__own_table_privilege(pg_conn *pg, strata_error *e)
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
		if (strstr(e->msg, "must be owner") && pg->altering_accepted)
			strata_error_hint(
			    e,
			    "%s is from an older strata and lacks the columns that record an "
			    "accepted edit, which only its owner may add: run this once as the "
			    "owner, or have the owner run '" HISTORY_ADD_ACCEPTED "'",
			    tables[i]);
		else if (strstr(e->msg, "must be owner"))
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
static int exec_own(pg_conn *pg, const char *sql, strata_error *e)
{
	int error = strata_pg__exec(pg, sql, e);
	if (error == STRATA_EDB)
		strata_pg__own_table_privilege(pg, e);
	return error;
}

/* exec_own of a statement that makes or alters the history table, which another runner may do
 * at the same moment (42P07, 23505, 42710 for its row type, 42701): that is no error. */
static int exec_own_made(pg_conn *pg, const char *sql, strata_error *e)
{
	static const char *const made[] = {"42P07", "23505", "42710", "42701"};
	int error = exec_own(pg, sql, e);
	for (size_t i = 0; error < 0 && i < sizeof(made) / sizeof(made[0]); i++)
		if (strcmp(e->sqlstate, made[i]) == 0) {
			strata_error_clear(e);
			error = 0;
		}
	return error;
}

/* Whether a failed read's missing column (42703) is one of STRATA_HISTORY_ACCEPTED's. */
static bool accepted_column(const PGresult *r)
{
	const char *msg = strata_pg__field(r, PG_DIAG_MESSAGE_PRIMARY);
	return strstr(msg, "previous_checksum") || strstr(msg, "accepted_at");
}

/* One history row of r into out. */
static int add_row(strata_history *out, const PGresult *r, int i, bool hashes, bool rank,
                   bool accepted, strata_error *e)
{
	strata_applied *a;
	int st = strata_applied_status_parse(PQgetvalue(r, i, 5)), col = 8, error;
	error =
	    strata_history_add(out, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
	                       PQgetvalue(r, i, 3), strata_strtod_c(PQgetvalue(r, i, 4), NULL), e);
	if (error < 0)
		return error;
	a = &out->items[out->n - 1];
	a->status = st < 0 ? STRATA_APPLIED_FAILED : (strata_applied_status)st;
	a->progress = atoi(PQgetvalue(r, i, 6));
	a->out_of_order = strcmp(PQgetvalue(r, i, 7), "t") == 0;
	if (hashes && !PQgetisnull(r, i, col)) {
		a->has_row_hash = true;
		a->row_hash = (uint64_t)strtoll(PQgetvalue(r, i, col), NULL, 10);
	}
	col += hashes;
	if (rank)
		a->applied_rank = (uint64_t)strtoll(PQgetvalue(r, i, col++), NULL, 10);
	if (accepted && !PQgetisnull(r, i, col))
		error = strata_applied_set_accepted(a, PQgetvalue(r, i, col),
		                                    PQgetvalue(r, i, col + 1), e);
	return error;
}

/* Sends sql in single-row mode and adds each row to out as it comes, so that a long history is
 * not held twice (libpq's result and the list). Returns the last result: the final (empty)
 * PGRES_TUPLES_OK, or the first error (out emptied), or NULL when the query was not sent. */
static PGresult *read_rows(pg_conn *pg, const char *sql, strata_history *out, bool hashes,
                           bool rank, bool accepted, int *error, strata_error *e)
{
	PGresult *keep = NULL, *r;
	if (!PQsendQuery(pg->conn, sql))
		return NULL;
	(void)PQsetSingleRowMode(pg->conn); /* refused, the rows come in one result: read alike */
	while ((r = strata_pg_next_result(&pg->link)) != NULL) {
		bool failed = keep && PQresultStatus(keep) == PGRES_FATAL_ERROR;
		for (int i = 0; *error == 0 && !failed && i < PQntuples(r); i++)
			*error = add_row(out, r, i, hashes, rank, accepted, e);
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
			PQclear(r);
		} else if (!failed) {
			PQclear(keep);
			keep = r;
		} else {
			PQclear(r);
		}
	}
	if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR)
		strata_history_free(out);
	return keep;
}

/*
 * Reads the history. A run that writes the history (STRATA_HISTORY_CREATE) creates its table
 * only when it is missing, and adds row_hash to a table from before it only when reading it
 * says it lacks it: a role without CREATE on the schema can run pending migrations once the
 * table is there, and the common case is one query. The columns of an accepted edit are read
 * where they are there, and added only for strata_accept (STRATA_HISTORY_ACCEPTED with CREATE).
 */
int strata_pg__history_load(strata_conn *b, strata_history *out, unsigned flags, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	bool create = flags & STRATA_HISTORY_CREATE;
	bool add_accepted = create && (flags & STRATA_HISTORY_ACCEPTED);
	/* a run that writes rows writes row_hash: reading the column tells whether it is there */
	bool hashes = (flags & STRATA_HISTORY_ROW_HASH) || create;
	bool accepted = (flags & STRATA_HISTORY_ACCEPTED) || !(flags & STRATA_HISTORY_BRIEF);
	bool rank = flags & STRATA_HISTORY_APPLIED_ORDER;
	char sql[1024];
	PGresult *r = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	/* no table when the summary last asked: asked again, or (a run, under its lock) made before
	 * it is read, rather than after a read that fails (an error in the server's log) */
	if (!create && pg->history_missing && (error = strata_pg__history_there(pg, e)) <= 0)
		return error; /* (no table yet: nothing applied) */
	error = 0;
	if (create && pg->history_missing) {
		pg->history_missing = false;
		/* (made only if still missing: the answer may be older than this run's lock, from
		 * an operation before it on this connection) */
		if ((error = exec_own_made(pg, HISTORY_CREATE_IF_MISSING, e)) < 0)
			return error;
	}
	for (int attempt = 0; attempt < 4; attempt++) {
		const char *st, *fix = NULL;
		snprintf(sql, sizeof(sql), "%s%s%s%s%s%s FROM " STRATA_HISTORY_TABLE,
		         HISTORY_SELECT,
		         flags & STRATA_HISTORY_BRIEF ? "NULL, NULL, " : HISTORY_DATES,
		         HISTORY_REST, hashes ? ", row_hash" : "", rank ? HISTORY_RANK : "",
		         accepted ? HISTORY_ACCEPTED : "");
		PQclear(r);
		r = read_rows(pg, sql, out, hashes, rank, accepted, &error, e);
		if (error < 0)
			goto done;
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			break;
		st = strata_pg__field(r, PG_DIAG_SQLSTATE);
		if (strcmp(st, "42P01") == 0 && !create)
			goto done; /* no table yet: nothing applied */
		if (strcmp(st, "42703") == 0 && accepted_column(r) && !add_accepted) {
			accepted = false; /* a table from before them: read without them */
			continue;
		}
		if (strcmp(st, "42P01") == 0)
			fix = HISTORY_CREATE;
		else if (strcmp(st, "42703") == 0 && create &&
		         strstr(strata_pg__field(r, PG_DIAG_MESSAGE_PRIMARY), "row_hash"))
			fix = HISTORY_ADD_ROW_HASH;
		else if (strcmp(st, "42703") == 0 && accepted_column(r))
			fix = HISTORY_ADD_ACCEPTED;
		if (!fix || attempt == 3) {
			error = strata_pg__error(pg, r, e);
			strata_pg__own_table_privilege(pg, e);
			goto done;
		}
		/* (made by another runner at the same moment: read again) */
		pg->altering_accepted = strcmp(fix, HISTORY_ADD_ACCEPTED) == 0;
		error = exec_own_made(pg, fix, e);
		pg->altering_accepted = false;
		if (error < 0)
			goto done;
	}
	strata_history_sort(out);
	/* the index a listing reads the history in order by (HISTORY_EACH): made by a run, with
	 * the table or once the history is long; only a speed-up, so a role that may not make it
	 * (not the table's owner) goes on without */
	if (error == 0 && create && (out->n == 0 || out->n >= 100))
		PQclear(strata_pg_exec(&pg->link, HISTORY_ORDER_INDEX));
done:
	PQclear(r);
	if (error < 0)
		strata_history_free(out);
	return error;
}

/* Whether the server orders names as strata compares UTF-8: it orders them by the bytes of its
 * own encoding, and those of UTF-8, SQL_ASCII (bytes as they are) and LATIN1 (code points) do;
 * others are read in full. */
static bool sorts_as_utf8(const pg_conn *pg)
{
	return strcmp(pg->encoding, "UTF8") == 0 || strcmp(pg->encoding, "SQL_ASCII") == 0 ||
	       strcmp(pg->encoding, "LATIN1") == 0;
}

/* The most recently applied first: HISTORY_RANK's order reversed. */
#define NEWEST_ORDER                                                                               \
	"applied_at DESC, length(ltrim(version, '0')) DESC, ltrim(version, '0') DESC, name DESC"
#define NEWEST_COLUMNS "version, name, checksum, status, progress, out_of_order"

/* NEWEST_ORDER's keys, ascending: a row comes after another in it when its keys are lower */
#define NEWEST_KEYS "applied_at, length(ltrim(version, '0')), ltrim(version, '0'), name"

/* The query of history_newest, the rows after `after` only when it is set (older: what to add
 * to the WHERE of each). */
static int newest_query(pg_conn *pg, strata_buf *q, size_t k, const strata_applied *after)
{
	strata_buf older = STRATA_BUF_INIT;
	const char *o, *and;
	int error = 0;

	if (after) {
		strata_buf_puts(&older, "(" NEWEST_KEYS ") < (SELECT " NEWEST_KEYS
		                        " FROM " STRATA_HISTORY_TABLE " WHERE version = ");
		error |= strata_pg__literal(pg, &older, after->version);
		strata_buf_puts(&older, " AND name = ");
		error |= strata_pg__literal(pg, &older, after->name);
		strata_buf_puts(&older, ")");
	}
	o = strata_buf_cstr(&older);
	and = after ? " AND " : "";
	strata_buf_printf(
	    q,
	    "SELECT version, name, checksum, NULL, NULL, status, progress, out_of_order, max(rank) "
	    "FROM (SELECT " NEWEST_COLUMNS ", %zu + 1 - row_number() OVER (ORDER BY " NEWEST_ORDER
	    ") AS rank FROM (SELECT * FROM " STRATA_HISTORY_TABLE " WHERE %s%sapplied_at >= "
	    "(SELECT min(applied_at) FROM (SELECT applied_at FROM " STRATA_HISTORY_TABLE
	    "%s%s ORDER BY applied_at DESC LIMIT %zu) l) ORDER BY " NEWEST_ORDER
	    " LIMIT %zu) n UNION ALL (SELECT " NEWEST_COLUMNS ", 0 FROM " STRATA_HISTORY_TABLE
	    "%s%s ORDER BY octet_length(ltrim(version, '0')) DESC, (ltrim(version, '0') COLLATE "
	    "\"C\") DESC, (name COLLATE \"C\") DESC LIMIT %zu)) h GROUP BY " NEWEST_COLUMNS,
	    k, o, and, after ? " WHERE " : "", o, k, k, after ? " WHERE " : "", o, k + 1);
	error |= older.failed || q->failed ? STRATA_ERROR : 0;
	strata_buf_free(&older);
	return error;
}

/*
 * What a revert of the k most recently applied needs of the history (engine.h): those k rows,
 * ranked k (the most recent) down to 1, and the k + 1 highest versions (HISTORY_ORDER reversed,
 * which its index serves), ranked 0 unless among the k; one statement, a few rows whatever the
 * history's length. The k most recent are looked for only among the rows at least as recent
 * as the k-th most recent time: ordering every row by the whole key (which computes ltrim and
 * length for each) took 3.7 ms of the server's at N = 10,000, the time alone 1.0 ms. After a
 * row (a dry run's later batches), the same among the rows that come after it in NEWEST_ORDER.
 * The encodings history_each reads in order only (the highest versions are taken in the
 * server's byte order).
 */
int strata_pg__history_newest(strata_conn *b, size_t k, const strata_applied *after,
                              strata_history *out, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	strata_buf sql = STRATA_BUF_INIT;
	PGresult *r;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!sorts_as_utf8(pg))
		return 1;
	if (newest_query(pg, &sql, k, after) < 0) {
		strata_buf_free(&sql);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	r = read_rows(pg, strata_buf_cstr(&sql), out, false, true, false, &error, e);
	strata_buf_free(&sql);
	if (error == 0 && PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* no table, or one from an older strata: history_load makes it, or makes it over */
		const char *st = strata_pg__field(r, PG_DIAG_SQLSTATE);
		error = strcmp(st, "42P01") == 0 || strcmp(st, "42703") == 0
		            ? 1
		            : strata_pg__error(pg, r, e);
	}
	PQclear(r);
	if (error != 0)
		strata_history_free(out);
	else
		strata_history_sort(out);
	return error;
}

/* A big-endian integer of n bytes, as binary values hold them. */
static uint64_t be(const char *p, int n)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | u[i];
	return v;
}

/* A binary timestamptz (microseconds since 2000-01-01 UTC) as the history shows times. */
static void binary_time(char *out, const char *p)
{
	uint64_t raw = be(p, 8);
	int64_t us, ms;
	/* 'infinity' and '-infinity' (the extremes), which to_char leaves empty */
	if (raw == (uint64_t)INT64_MAX || raw == (uint64_t)1 << 63) {
		*out = '\0';
		return;
	}
	us = (int64_t)raw;
	ms = us >= 0 ? us / 1000 : -(int64_t)(((uint64_t)0 - (uint64_t)us + 999) / 1000);
	strata_history_time(out, ms + INT64_C(946684800000));
}

/* Whether the columns of HISTORY_EACH are of strata's types, whose binary values each_row
 * reads: text (or varchar, char), int4, bool, timestamptz, float8. A table altered by hand to
 * other types (a bytea checksum, an epoch for applied_at) would be read otherwise than the full
 * read reads it, which has the server convert each value to text. */
static bool each_types(const PGresult *r)
{
	/* 0: text-like; else the type's OID (pg_type.dat: int4 23, bool 16, timestamptz 1184,
	 * float8 701) */
	static const Oid want[] = {0, 0, 0, 23, 16, 1184, 701, 0, 1184, 0};
	for (int c = 0; c < PQnfields(r) && c < 10; c++) {
		Oid t = PQftype(r, c);
		if (want[c] ? t != want[c] : t != 25 && t != 1043 && t != 1042)
			return false;
	}
	return true;
}

/* One row of HISTORY_EACH (binary: text as it is, int4, bool, timestamptz, float8) to fn;
 * false when a value has not the size of its type. */
static int each_row(const PGresult *r, int i, int (*fn)(void *ud, const strata_applied *a),
                    void *ud, bool *bad)
{
	static const int size[] = {-1, -1, -1, 4, 1, 8, 8, -1, 8, -1};
	char at[32], accepted[32], none[1] = "";
	uint64_t dur;
	int st, ncols = PQnfields(r) < 10 ? PQnfields(r) : 10;
	strata_applied a = {
	    .version = PQgetvalue(r, i, 0), .name = PQgetvalue(r, i, 1), .checksum = none};

	if (ncols == 10)
		a.checksum = PQgetvalue(r, i, 9);
	for (int c = 0; c < ncols; c++)
		if (size[c] >= 0 && !PQgetisnull(r, i, c) && PQgetlength(r, i, c) != size[c])
			return *bad = true, 0;
	st = strata_applied_status_parse(PQgetvalue(r, i, 2));
	a.status = st < 0 ? STRATA_APPLIED_FAILED : (strata_applied_status)st;
	/* a NULL (a table made by hand) has no bytes to read: 0, "" */
	a.progress = PQgetisnull(r, i, 3) ? 0 : (int)(int32_t)(uint32_t)be(PQgetvalue(r, i, 3), 4);
	a.out_of_order = !PQgetisnull(r, i, 4) && *PQgetvalue(r, i, 4) != 0;
	at[0] = '\0';
	if (!PQgetisnull(r, i, 5)) {
		binary_time(at, PQgetvalue(r, i, 5));
		/* microseconds since 2000-01-01, the infinities aside */
		a.applied_us = (int64_t)be(PQgetvalue(r, i, 5), 8);
		a.has_applied_us = at[0] != '\0';
	}
	a.applied_at = at;
	dur = PQgetisnull(r, i, 6) ? 0 : be(PQgetvalue(r, i, 6), 8);
	memcpy(&a.duration_ms, &dur, sizeof(dur));
	if (!PQgetisnull(r, i, 7) && !PQgetisnull(r, i, 8)) {
		a.previous_checksum = PQgetvalue(r, i, 7);
		binary_time(accepted, PQgetvalue(r, i, 8));
		a.accepted_at = accepted;
	}
	return fn(ud, &a);
}

/* qsort_r's comparison of two rows of a result by their version and name (columns 0 and 1), as
 * strata_migration_key_cmp sorts them and HISTORY_ORDER does on the server. */
static int cmp_rows(const void *a, const void *b, void *ud)
{
	const PGresult *r = ud;
	int i = *(const int *)a, j = *(const int *)b;
	return strata_migration_key_cmp(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
	                                PQgetvalue(r, j, 0), PQgetvalue(r, j, 1));
}

/* The rows of r (all of them, unordered) to fn, sorted here. */
static int each_sorted(const PGresult *r, int (*fn)(void *ud, const strata_applied *a), void *ud,
                       bool *any, bool *bad, strata_error *e)
{
	int n = PQntuples(r), error = 0;
	int *order = malloc((size_t)(n ? n : 1) * sizeof(*order));

	if (!order)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (int i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, (size_t)n, sizeof(*order), cmp_rows, (void *)r);
	for (int i = 0; error == 0 && !*bad && i < n; i++) {
		error = each_row(r, order[i], fn, ud, bad);
		*any = *any || !*bad;
	}
	free(order);
	return error;
}

/* The history streamed: one query string, its rows one at a time (libpq's single-row mode), so
 * a listing of 10,000 holds one row. With STRATA_EACH_FEW, read unordered in one result and
 * sorted here: the server neither plans nor runs the sort. */
int strata_pg__history_each(strata_conn *b, unsigned flags,
                            int (*fn)(void *ud, const strata_applied *a), void *ud, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	PGresult *r;
	int error = 0;
	bool any = false, bad = false, few = flags & STRATA_EACH_FEW,
	     checksum = flags & STRATA_EACH_CHECKSUM;
	const char *sql = few ? (checksum ? HISTORY_FEW_CHECKSUM : HISTORY_FEW)
	                      : (checksum ? HISTORY_EACH_CHECKSUM : HISTORY_EACH);

	if (!sorts_as_utf8(pg)) /* read in full */
		return 1;
	if (!PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 1))
		return strata_pg__error(pg, NULL, e);
	if (!few)
		(void)PQsetSingleRowMode(pg->conn); /* refused: one result, read alike */
	/* every result is read, also after an error or a stop: the connection is then idle */
	while ((r = strata_pg_next_result(&pg->link)) != NULL) {
		if (!any && !bad && PQntuples(r) > 0 && !each_types(r))
			bad = true; /* read in full, where the server converts the values to text */
		if (few && error == 0 && !bad && PQntuples(r) > 0)
			error = each_sorted(r, fn, ud, &any, &bad, e);
		for (int i = 0; !few && error == 0 && !bad && i < PQntuples(r); i++) {
			error = each_row(r, i, fn, ud, &bad);
			any = any || !bad;
		}
		if (PQresultStatus(r) == PGRES_FATAL_ERROR && error == 0) {
			const char *st = strata_pg__field(r, PG_DIAG_SQLSTATE);
			/* no table: nothing applied; one from before the accepted columns (or of
			 * other types): 1 */
			if ((strcmp(st, "42703") == 0 || strcmp(st, "42804") == 0) && !any)
				error = 1;
			else if (strcmp(st, "42P01") != 0)
				error = strata_pg__error(pg, r, e);
		}
		PQclear(r);
	}
	if (bad && error == 0)
		error =
		    any ? strata_error_set(e, STRATA_ERROR,
		                           "the history table's columns are not of strata's types")
		        : 1;
	return error;
}

int strata_pg__literal(pg_conn *pg, strata_buf *q, const char *s)
{
	char *lit = PQescapeLiteral(pg->conn, s, strlen(s));
	if (!lit)
		return STRATA_ERROR;
	strata_buf_puts(q, lit);
	PQfreemem(lit);
	return 0;
}

/* Sets row_hash where h (read with STRATA_HISTORY_ROW_HASH) has it missing or wrong, in one
 * statement. */
int strata_pg__history_fill_hashes(strata_conn *b, const strata_history *h, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	strata_buf q = STRATA_BUF_INIT;
	size_t n = 0;
	int error = 0;

	pg->history_changed = true;
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
		error |= strata_pg__literal(pg, &q, a->version);
		strata_buf_puts(&q, ", ");
		error |= strata_pg__literal(pg, &q, a->name);
		strata_buf_printf(&q, ", %" PRId64 "::bigint)", (int64_t)want);
	}
	strata_buf_puts(&q, ") AS v(version, name, h) "
	                    "WHERE m.version = v.version AND m.name = v.name");
	if (error < 0 || q.failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else if (n)
		error = strata_pg__exec(pg, q.ptr, e);
	strata_buf_free(&q);
	return error;
}

/* The row_hash value of m's history row: the number, or NULL. */
void strata_pg__row_hash(strata_buf *q, const strata_migration *m)
{
	uint64_t h;
	if (strata_history_row_hash(&h, m->version, m->name, m->checksum) < 0)
		strata_buf_puts(q, "NULL");
	else
		strata_buf_printf(q, "%" PRId64, (int64_t)h);
}

int strata_pg__history_change(pg_conn *pg, strata_buf *q, const strata_step *s)
{
	const strata_migration *m = s->m;
	int error = 0;
	pg->history_changed = true;
	if (s->dir == STRATA_UP) {
		strata_buf_puts(q,
		                "INSERT INTO " STRATA_HISTORY_TABLE
		                " (version, name, checksum, row_hash, out_of_order, duration_ms) "
		                "VALUES (");
		error |= strata_pg__literal(pg, q, m->version);
		strata_buf_puts(q, ", ");
		error |= strata_pg__literal(pg, q, m->name);
		strata_buf_puts(q, ", ");
		error |= strata_pg__literal(pg, q, m->checksum);
		strata_buf_puts(q, ", ");
		strata_pg__row_hash(q, m);
		strata_buf_puts(q, s->out_of_order ? ", true" : ", false");
		strata_buf_puts(q, ", extract(epoch FROM clock_timestamp() - "
		                   "statement_timestamp()) * 1000) RETURNING duration_ms;\n");
	} else {
		strata_buf_puts(q, "DELETE FROM " STRATA_HISTORY_TABLE " WHERE version = ");
		error |= strata_pg__literal(pg, q, m->version);
		strata_buf_puts(q, " AND name = ");
		error |= strata_pg__literal(pg, q, m->name);
		strata_buf_puts(q, ";\n");
	}
	return error ? STRATA_ERROR : 0;
}

int strata_pg__mark_applied(strata_conn *b, const strata_migration *m, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	strata_buf q = STRATA_BUF_INIT;
	int error = 0;
	pg->history_changed = true;
	strata_buf_puts(&q, "UPDATE " STRATA_HISTORY_TABLE " SET status = 'applied', checksum = ");
	error |= strata_pg__literal(pg, &q, m->checksum);
	strata_buf_puts(&q, ", row_hash = ");
	strata_pg__row_hash(&q, m);
	strata_buf_puts(&q, ", applied_at = now() WHERE version = ");
	error |= strata_pg__literal(pg, &q, m->version);
	strata_buf_puts(&q, " AND name = ");
	error |= strata_pg__literal(pg, &q, m->name);
	return strata_pg__exec_buf(pg, &q, error, e);
}

/* One history_edit's statement: the row must still be applied with its checksum. */
static int edit_sql(pg_conn *pg, strata_buf *q, const strata_history_edit *ed)
{
	int error = 0;
	uint64_t h;
	if (ed->new_checksum) {
		if (strata_history_row_hash(&h, ed->version, ed->name, ed->new_checksum) < 0)
			return STRATA_ERROR;
		strata_buf_puts(q, "UPDATE " STRATA_HISTORY_TABLE
		                   " SET previous_checksum = checksum, checksum = ");
		error |= strata_pg__literal(pg, q, ed->new_checksum);
		strata_buf_printf(q, ", accepted_at = now(), row_hash = %" PRId64, (int64_t)h);
	} else {
		strata_buf_puts(q, "DELETE FROM " STRATA_HISTORY_TABLE);
	}
	strata_buf_puts(q, " WHERE version = ");
	error |= strata_pg__literal(pg, q, ed->version);
	strata_buf_puts(q, " AND name = ");
	error |= strata_pg__literal(pg, q, ed->name);
	strata_buf_puts(q, " AND checksum = ");
	error |= strata_pg__literal(pg, q, ed->checksum);
	strata_buf_puts(q, " AND status = 'applied'");
	return error || q->failed ? STRATA_ERROR : 0;
}

/* Every edit in one transaction; each must change its one row, else all are rolled back. */
int strata_pg__history_edit(strata_conn *b, const strata_history_edit *ed, size_t n,
                            strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	strata_buf q = STRATA_BUF_INIT;
	int error;

	if (pg->tlock && (error = strata_table_lock_check(pg->tlock, e)) < 0)
		return error;
	pg->history_changed = true;
	if ((error = strata_pg__exec(pg, "BEGIN", e)) < 0)
		return error;
	for (size_t i = 0; i < n && error == 0; i++) {
		PGresult *r;
		strata_buf_reset(&q);
		if (edit_sql(pg, &q, &ed[i]) < 0) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			break;
		}
		r = strata_pg_exec(&pg->link, q.ptr);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			error = strata_pg__error(pg, r, e);
			strata_pg__own_table_privilege(pg, e);
		} else if (strcmp(PQcmdTuples(r), "1") != 0) {
			strata_error_hint(e,
			                  "another runner changed the history since it was read: "
			                  "run again");
			error =
			    strata_error_set(e, STRATA_ERROR,
			                     "%s-%s is no longer applied as it was read; nothing "
			                     "was changed",
			                     ed[i].version, ed[i].name);
		}
		PQclear(r);
	}
	strata_buf_free(&q);
	if (error == 0)
		error = strata_pg__exec(pg, "COMMIT", e);
	if (error < 0)
		strata_pg__rollback(b);
	return error;
}
