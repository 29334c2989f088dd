/*
 * sqlite_each.c: the history read row by row for a listing (history_each): one statement stepped
 * in strata_migration_key_cmp's order, holding one row.
 */
#include <sqlite3.h>
#include <string.h>

#include "engine/sqlite/sqlite_internal.h"
#include "util/error.h"

/* numbers without their leading zeros: shorter first (in bytes), then byte by byte (BINARY);
 * names byte by byte */
#define EACH                                                                                       \
	"SELECT version, name, status, progress, out_of_order, applied_at, duration_ms, "          \
	"previous_checksum, accepted_at FROM " STRATA_HISTORY_TABLE                                \
	" ORDER BY length(CAST(ltrim(version, '0') AS BLOB)), ltrim(version, '0'), name"

static const char *text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "";
}

int strata_sqlite__history_each(strata_conn *b, int (*fn)(void *ud, const strata_applied *a),
                                void *ud, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	if (sqlite3_prepare_v2(s->db, EACH, -1, &st, NULL) != SQLITE_OK) {
		const char *msg = sqlite3_errmsg(s->db);
		/* no table: nothing applied; one from before the accepted columns: read in full */
		if (strstr(msg, "no such table"))
			return 0;
		return strstr(msg, "no such column") ? 1 : strata_sqlite__error(s->db, e);
	}
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int status = strata_applied_status_parse(text(st, 2));
		strata_applied a = {.version = (char *)text(st, 0),
		                    .name = (char *)text(st, 1),
		                    .status = status < 0 ? STRATA_APPLIED_FAILED
		                                         : (strata_applied_status)status,
		                    .progress = sqlite3_column_int(st, 3),
		                    .out_of_order = sqlite3_column_int(st, 4) != 0,
		                    .applied_at = (char *)text(st, 5),
		                    .duration_ms = sqlite3_column_double(st, 6)};
		if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
		    sqlite3_column_type(st, 8) != SQLITE_NULL) {
			a.previous_checksum = (char *)text(st, 7);
			a.accepted_at = (char *)text(st, 8);
		}
		error = fn(ud, &a);
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = s->base.interrupted ? strata_conn_interrupted(e)
		                            : strata_sqlite__error(s->db, e);
	sqlite3_finalize(st);
	return error;
}
