/*
 * pg_summary.c: the history's summary on PostgreSQL (core/history.h): how many rows, how many
 * have their row hash, the XOR of those hashes and how many are not applied, which a run with
 * nothing to do compares with the build manifest's.
 *
 * The server keeps it in a one-row table beside the history, strata_migrations_summary, so
 * that reading it costs the same at 10,000 rows as at 10 (aggregating the history on a new
 * backend took a third of a run's time at 10,000). The first run that is not a dry run makes
 * it (summary_update; also on a database from an older strata), with two functions:
 *
 * - strata_migrations_changed, a statement trigger on the history: any change to it (a run's,
 *   a revert's, or an UPDATE, DELETE or TRUNCATE by hand) marks the summary not valid, in the
 *   same transaction. A summary that is not valid is not used.
 * - strata_migrations_summarize() aggregates the history into it and marks it valid. A run
 *   that changed the history calls it when it lets the migration lock go.
 *
 * The two take one advisory lock (SUMMARY_LOCK_CLASS and the history table's oid), the
 * trigger shared and summarize exclusive, each until its transaction ends. So summarize waits
 * for a change whose trigger has fired, and reads it once it commits; a change whose trigger
 * has not fired yet marks the summary not valid after summarize commits. Only a valid summary
 * is read, and it is the committed history's. Summarize only tries its lock: a writer at work
 * leaves the summary not valid, for a later run to make valid.
 *
 * Both functions are SECURITY DEFINER (their owner's, who made the table), with the search
 * path fixed to the history's schema: a role granted only SELECT, INSERT, UPDATE and DELETE on
 * the history writes it, and makes the summary valid, without privileges on the summary.
 * Where no summary can be made (a role without CREATE, an older table owned by another role),
 * or this role may not read it, a run reads the aggregate of the history, as before. So does a
 * run that finds it not valid (a run stopped half-way, a change by hand). A run that then takes
 * the lock makes the summary valid when it lets the lock go; one with nothing to do, and not a
 * dry run, does so at once (history_summary_keep), making the table first if it is missing.
 *
 * The protocol needs each statement's own snapshot (read committed): strata's own statements on
 * the summary set it for their transaction, summarize refuses to run without it, and the
 * trigger, in a writer's transaction of repeatable read or serializable (a database's default),
 * updates the row whatever its snapshot says, so that a summarize that committed after that
 * snapshot makes the server refuse the writer (a serialization failure) rather than leave a
 * valid summary without its change.
 *
 * The trigger's UPDATE holds the summary's row until its transaction ends, but only the first
 * change after the summary was made valid: a session changing the history by hand in an open
 * transaction holds up a run's first history row until it ends (the lock-timeout error names
 * it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pg/pg_internal.h"
#include "engine/pg/pq.h"
#include "util/error.h"

#define SUMMARY_TABLE STRATA_HISTORY_TABLE "_summary"
#define SUMMARY_CHANGED STRATA_HISTORY_TABLE "_changed"
#define SUMMARY_SUMMARIZE STRATA_HISTORY_TABLE "_summarize"
/* "STRA": the first key of the advisory lock between the trigger and summarize; the second is
 * the history table's oid, so that each schema's history has its own */
#define SUMMARY_LOCK_CLASS "1398035009"
/* The version of the two functions' bodies, marked at the start of each (SUMMARY_MARK): where
 * either is missing or has a lower one, summary_update makes them again. Raise it whenever a
 * body changes. 2: the trigger updates the row regardless of `valid` outside read committed,
 * and summarize refuses to run there. */
#define SUMMARY_VERSION "2"
#define SUMMARY_MARK "/* strata summary " SUMMARY_VERSION " */"
/* (its literals dollar-quoted, as it is also written inside a quoted function body) */
#define SUMMARY_AGGREGATES                                                                         \
	"count(*), count(row_hash), coalesce(bit_xor(row_hash), 0), "                              \
	"count(*) FILTER (WHERE status <> $a$applied$a$)"

/* Makes the summary valid (summarize), first making its table, functions and trigger, in the
 * history's schema, when they are missing: also when the history table is not the one the
 * summary was made of (dropped and made again: without the trigger; the summary keeps its
 * oid, and is read only as that table's), when the table lacks that column (one of another
 * shape), and when the functions are of a lower SUMMARY_VERSION. Nothing when there is no
 * history table. One round trip, in read committed whatever the session's default (see
 * SUMMARY_TRY_LOCK), which waits at most 200 ms for a lock (the trigger's, on the history, behind
 * a writer at work). A role that may not make them (not their owner) still summarizes with the
 * ones there are. When it cannot (a role that may not run summarize, a read-only session, that
 * wait, another run making them at the same moment), nothing changes, and the server logs no
 * error for it. */
static const char summary_update[] =
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "
    "DO $$DECLARE s text; h oid := to_regclass('" STRATA_HISTORY_TABLE "'); BEGIN "
    "PERFORM set_config('lock_timeout', '200', true); IF h IS NULL THEN RETURN; END IF; "
    "SELECT n.nspname INTO s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = h; "
    "IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(format('%I." SUMMARY_TABLE
    "', s)) AND attname = 'history' AND NOT attisdropped) OR NOT EXISTS (SELECT "
    "FROM pg_trigger WHERE tgrelid = h AND tgname = '" SUMMARY_CHANGED "') OR (SELECT count(*) "
    "FROM pg_proc WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = s) AND "
    "proname IN ('" SUMMARY_CHANGED "', '" SUMMARY_SUMMARIZE "') AND coalesce(substring(prosrc "
    "FROM '^/[*] strata summary ([0-9]+) [*]/')::int, 0) >= " SUMMARY_VERSION ") < 2 THEN BEGIN "
    "EXECUTE format('CREATE TABLE IF NOT EXISTS %I." SUMMARY_TABLE " (one boolean PRIMARY KEY "
    "DEFAULT true CHECK (one), rows bigint NOT NULL DEFAULT 0, hashed bigint NOT NULL DEFAULT "
    "0, digest bigint NOT NULL DEFAULT 0, unfinished bigint NOT NULL DEFAULT 0, history oid, "
    "valid boolean NOT NULL DEFAULT false)', s); "
    "EXECUTE format('ALTER TABLE %I." SUMMARY_TABLE " ADD COLUMN IF NOT EXISTS history oid', "
    "s); "
    "EXECUTE format('INSERT INTO %I." SUMMARY_TABLE " DEFAULT VALUES ON CONFLICT DO NOTHING', "
    "s); "
    "EXECUTE format('UPDATE %I." SUMMARY_TABLE " SET valid = false', s); "
    /* the trigger: in read committed, the row as it is now; in repeatable read or serializable
     * the transaction's snapshot may be older than a summarize that committed since, whose
     * valid row `WHERE valid` would not see (and leave valid without this change): updating it
     * regardless makes the server refuse this change instead (a serialization failure) */
    "EXECUTE format('CREATE OR REPLACE FUNCTION %I." SUMMARY_CHANGED "() RETURNS trigger "
    "LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp AS $f$" SUMMARY_MARK " BEGIN "
    "PERFORM pg_advisory_xact_lock_shared(" SUMMARY_LOCK_CLASS ", TG_RELID::int); "
    "IF current_setting($a$transaction_isolation$a$) = $a$read committed$a$ THEN "
    "UPDATE " SUMMARY_TABLE " SET valid = false WHERE valid; ELSE UPDATE " SUMMARY_TABLE
    " SET valid = false; END IF; RETURN NULL; END$f$', s, s); "
    /* summarize: only in read committed, where its aggregate's snapshot is taken after its lock
     * (so it sees every writer that had fired the trigger) */
    "EXECUTE format('CREATE OR REPLACE FUNCTION %I." SUMMARY_SUMMARIZE "() RETURNS boolean "
    "LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp AS $f$" SUMMARY_MARK
    " DECLARE h oid := $a$" STRATA_HISTORY_TABLE "$a$::regclass; BEGIN "
    "IF current_setting($a$transaction_isolation$a$) <> $a$read committed$a$ OR NOT "
    "pg_try_advisory_xact_lock(" SUMMARY_LOCK_CLASS ", h::int) THEN RETURN false; "
    "END IF; INSERT INTO " SUMMARY_TABLE " DEFAULT VALUES ON CONFLICT DO NOTHING; "
    "UPDATE " SUMMARY_TABLE " SET (rows, hashed, digest, unfinished) = (SELECT " SUMMARY_AGGREGATES
    " FROM " STRATA_HISTORY_TABLE "), history = h, valid = true WHERE NOT valid OR "
    "history IS DISTINCT FROM h; RETURN true; END$f$', s, s); "
    "IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = h AND tgname = '" SUMMARY_CHANGED
    "') THEN EXECUTE format('CREATE TRIGGER " SUMMARY_CHANGED " AFTER INSERT OR UPDATE OR "
    "DELETE OR TRUNCATE ON %I." STRATA_HISTORY_TABLE " FOR EACH STATEMENT EXECUTE FUNCTION "
    "%I." SUMMARY_CHANGED "()', s, s); END IF; "
    "EXCEPTION WHEN insufficient_privilege THEN NULL; END; END IF; "
    "EXECUTE format('SELECT %I." SUMMARY_SUMMARIZE "()', s); "
    "EXCEPTION WHEN insufficient_privilege OR lock_not_available OR read_only_sql_transaction "
    "OR undefined_function OR undefined_table OR duplicate_table OR duplicate_function OR "
    "duplicate_object OR unique_violation THEN NULL; END$$";

/* The first statements of the summary's round trip (see strata_pg__history_summary), then its
 * statement reading the summary, or (SUMMARY_FROM_HISTORY) aggregating the history. The round
 * trip is in read committed whatever the session's default, so that the read's snapshot is
 * taken after the lock is tried (in repeatable read it would be the first statement's). The
 * row is read only while the table it was made of is the one the name gives (an oid's name,
 * from the cache, costs nothing measurable; looking the name up, to_regclass, cost 0.2 ms). */
#define SUMMARY_TRY_LOCK                                                                           \
	"SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "                                         \
	"SELECT set_config('lock_timeout', '%d', true), "                                          \
	"set_config('strata.summary_locked', pg_try_advisory_xact_lock(" STRATA_PG_ADVISORY_KEY    \
	")::text, true); "
#define SUMMARY_READ(aggregates, from)                                                             \
	"SELECT " aggregates ", pg_is_in_recovery(), "                                             \
	"current_setting('strata.summary_locked') = 'true' AND "                                   \
	"to_regclass('" STRATA_LOCK_TABLE_NAME "') IS NULL FROM " from
#define SUMMARY_FROM_TABLE                                                                         \
	SUMMARY_READ("rows, hashed, digest, unfinished", SUMMARY_TABLE                             \
	             " WHERE valid AND history::regclass::text = '" STRATA_HISTORY_TABLE "'")
#define SUMMARY_FROM_HISTORY SUMMARY_READ(SUMMARY_AGGREGATES, STRATA_HISTORY_TABLE)

/* What summary_once found of the summary table. */
enum summary_row { SUMMARY_ROW, SUMMARY_NOT_VALID, SUMMARY_NO_TABLE, SUMMARY_NOT_READABLE };

/* One read of the summary (see strata_pg__history_summary): 1 answered, 0 not, < 0 error;
 * *row says whether the table had a valid row (from_table). */
static int summary_once(pg_conn *pg, int wait_ms, bool unlocked, bool from_table,
                        strata_history_summary *out, enum summary_row *row, strata_error *e)
{
	char sql[1024];
	PGresult *r;
	int found = 0, ms = wait_ms > 0 ? wait_ms : 1;

	if (from_table)
		snprintf(sql, sizeof(sql), SUMMARY_TRY_LOCK SUMMARY_FROM_TABLE, ms);
	else
		snprintf(sql, sizeof(sql), SUMMARY_TRY_LOCK SUMMARY_FROM_HISTORY, ms);
	memset(out, 0, sizeof(*out));
	*row = SUMMARY_ROW;
	r = strata_pg_exec_rows(&pg->link, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* no table (42P01: the history's said, no_table), one from before row_hash (42703),
		 * a lock wait (55P03): the run reads it all under the lock. The error ended the
		 * implicit transaction, its lock_timeout and its transaction lock with it. */
		const char *st = strata_pg__field(r, PG_DIAG_SQLSTATE);
		if (strcmp(st, "42P01") == 0) {
			*row = SUMMARY_NO_TABLE;
			out->no_table = !from_table;
			found = !from_table;
		} else if (from_table && strcmp(st, "42703") == 0) {
			*row = SUMMARY_NO_TABLE; /* (one of another shape: made again) */
		} else if (from_table && strcmp(st, "42501") == 0) {
			*row = SUMMARY_NOT_READABLE; /* (by this role: it reads the aggregate) */
		} else if (strcmp(st, "42703") != 0 && strcmp(st, "55P03") != 0) {
			found = strata_pg__error(pg, r, e);
		}
	} else if (PQntuples(r) != 1) {
		*row = SUMMARY_NOT_VALID;
	} else if (strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1)) == 0 &&
	           strcmp(PQgetvalue(r, 0, 4), "f") == 0 &&
	           (!unlocked || strcmp(PQgetvalue(r, 0, 5), "t") == 0)) {
		out->rows = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		out->digest = (uint64_t)strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		out->unfinished = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
		found = 1;
	}
	PQclear(r);
	return found;
}

int strata_pg__history_there(pg_conn *pg, strata_error *e)
{
	PGresult *r =
	    strata_pg_exec(&pg->link, "SELECT to_regclass('" STRATA_HISTORY_TABLE "') IS NOT NULL");
	int there = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		there = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	else
		strata_pg__error(pg, r, e);
	PQclear(r);
	pg->history_missing = there == 0;
	return there;
}

/*
 * The summary: one round trip of two statements, one implicit transaction. The first sets
 * lock_timeout for it (set_config local to it, as SET LOCAL) and tries the migration lock as a
 * transaction lock, without waiting, before the second takes its snapshot and reads; the
 * second also says whether this is a standby (refused under the lock). Not holding the
 * migration lock (`unlocked`), the summary answers only when that try got it: a runner holding
 * it may be half-way through a transaction:false section whose statements committed before
 * its history row changes, so then the run waits for the lock as any run does. So does a
 * database where the table lock (PgBouncer) was ever used: its holder takes no advisory lock.
 *
 * The second statement reads the summary table. Where it is not valid (a run stopped half-way,
 * a change by hand), not there (a table from an older strata, a role that may not make it) or
 * not readable by this role, a second round trip aggregates the history instead, and this
 * connection reads only the aggregate until the summary is made again (as under the lock, in
 * the same run); a run that is not a dry run then makes it (out->stale: history_summary_keep,
 * or when it lets the lock go). A row without its hash
 * (written by an older strata, or by hand) makes the summary unusable until a run fills it in
 * (pg_history_fill_hashes).
 */
int strata_pg__history_summary(strata_conn *b, int wait_ms, bool unlocked,
                               strata_history_summary *out, strata_error *e)
{
	pg_conn *pg = (pg_conn *)b;
	enum summary_row row = SUMMARY_NOT_READABLE, history_row;
	int found = 0;

	if (!pg->summary_unusable &&
	    ((found = summary_once(pg, wait_ms, unlocked, true, out, &row, e)) != 0 ||
	     row == SUMMARY_ROW))
		return found;
	pg->summary_unusable = true;
	/* not valid: made valid when the lock is let go, if this is a run that takes it */
	pg->history_changed |= row == SUMMARY_NOT_VALID;
	/* no summary table (a new database, or one from an older strata), or no history when last
	 * asked (the run's call under the lock): whether the history is there, asked so that a new
	 * database's first run leaves one error in the server's log (the summary's), not four */
	if (row == SUMMARY_NO_TABLE || pg->history_missing) {
		if ((found = strata_pg__history_there(pg, e)) < 0)
			return found;
		if (!found) {
			memset(out, 0, sizeof(*out));
			out->no_table = true;
			return 1;
		}
	}
	found = summary_once(pg, wait_ms, unlocked, false, out, &history_row, e);
	out->stale =
	    found > 0 && !out->no_table && (row == SUMMARY_NOT_VALID || row == SUMMARY_NO_TABLE);
	return found;
}

void strata_pg__history_summary_keep(strata_conn *b)
{
	pg_conn *pg = (pg_conn *)b;
	if (PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
		PQclear(strata_pg_exec(&pg->link, summary_update));
	pg->history_changed = false;
	pg->summary_unusable = false; /* (made, if this role may) */
}
