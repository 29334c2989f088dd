/*
 * sqlite_history.c: what the SQLite engine does to strata_migrations besides running migrations:
 * the columns strata_accept added (previous_checksum, accepted_at), found or added, and the
 * changes to the history alone (history_edit: revert with fake, accept), all in one transaction.
 */
#include <sqlite3.h>
#include <string.h>

#include "engine/sqlite/sqlite_internal.h"
#include "util/error.h"

static const char *const add_columns[] = {
    "ALTER TABLE " STRATA_HISTORY_TABLE " ADD COLUMN previous_checksum TEXT",
    "ALTER TABLE " STRATA_HISTORY_TABLE " ADD COLUMN accepted_at TEXT",
};

static int fail(sqlite_conn *s, strata_error *e)
{
	if (s->base.interrupted)
		return strata_conn_interrupted(e);
	return strata_sqlite__error(s->db, e);
}

int strata_sqlite__accepted_columns(sqlite_conn *s, bool add, bool *has, strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    s->db, "SELECT previous_checksum, accepted_at FROM " STRATA_HISTORY_TABLE, -1, &st,
	    NULL);
	sqlite3_finalize(st);
	*has = rc == SQLITE_OK;
	if (*has || !add || !strstr(sqlite3_errmsg(s->db), "no such column"))
		return 0; /* no table: the read that follows says so */
	for (size_t i = 0; i < sizeof(add_columns) / sizeof(add_columns[0]); i++) {
		/* one of the two may be there (added by hand): "duplicate column name" */
		if (sqlite3_exec(s->db, add_columns[i], NULL, NULL, NULL) != SQLITE_OK &&
		    !strstr(sqlite3_errmsg(s->db), "duplicate column"))
			return fail(s, e);
	}
	*has = true;
	return 0;
}

/* One edit: the row must still be applied with its checksum. */
static int edit_one(sqlite_conn *s, const strata_history_edit *ed, strata_error *e)
{
	const char *sql =
	    ed->new_checksum
	        ? "UPDATE " STRATA_HISTORY_TABLE
	          " SET previous_checksum = checksum, checksum = ?4, "
	          "accepted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
	          "WHERE version = ?1 AND name = ?2 AND checksum = ?3 AND status = 'applied'"
	        : "DELETE FROM " STRATA_HISTORY_TABLE
	          " WHERE version = ?1 AND name = ?2 AND checksum = ?3 AND status = 'applied'";
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, e);
	sqlite3_bind_text(st, 1, ed->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ed->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ed->checksum, -1, SQLITE_STATIC);
	if (ed->new_checksum)
		sqlite3_bind_text(st, 4, ed->new_checksum, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		error = fail(s, e);
	} else if (sqlite3_changes(s->db) != 1) {
		strata_error_hint(e, "another runner changed the history since it was read: run "
		                     "again");
		error = strata_error_set(e, STRATA_ERROR,
		                         "%s-%s is no longer applied as it was read; nothing was "
		                         "changed",
		                         ed->version, ed->name);
	}
	sqlite3_finalize(st);
	return error;
}

int strata_sqlite__history_edit(strata_conn *b, const strata_history_edit *ed, size_t n,
                                strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	int error = 0;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, e);
	for (size_t i = 0; i < n && error == 0; i++)
		error = edit_one(s, &ed[i], e);
	if (error == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		error = fail(s, e);
	if (error < 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return error;
}
