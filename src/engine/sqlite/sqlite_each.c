/*
 * sqlite_each.c: the history read row by row for a listing (history_each), in
 * strata_migration_key_cmp's order, 256 rows at a time: each batch is copied out and its read
 * ended before its rows are handed out, so a reader that is slow to print (show | less) keeps no
 * lock that would stop a run from writing (SQLite's rollback journal lets no writer commit while
 * a reader reads). The next batch starts after the last key of the one before.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sqlite/sqlite_internal.h"
#include "util/buf.h"
#include "util/error.h"

#define BATCH 256
#define BATCH_SQL "256" /* BATCH in the statements */

/* numbers without their leading zeros: shorter first (in bytes), then byte by byte (BINARY);
 * names byte by byte; rowid for two rows whose keys compare equal ("1" and "01") */
#define EACH_SELECT                                                                                \
	"SELECT version, name, status, progress, out_of_order, applied_at, duration_ms, "          \
	"previous_checksum, accepted_at, length(CAST(ltrim(version, '0') AS BLOB)), "              \
	"ltrim(version, '0'), rowid, checksum FROM " STRATA_HISTORY_TABLE
#define EACH_ORDER " ORDER BY 10, 11, 2, 12 LIMIT " BATCH_SQL
#define EACH_FIRST EACH_SELECT EACH_ORDER
#define EACH_NEXT                                                                                  \
	EACH_SELECT                                                                                \
	" WHERE (length(CAST(ltrim(version, '0') AS BLOB)), ltrim(version, '0'), name, "           \
	"rowid) > (?, ?, ?, ?)" EACH_ORDER

/* A row copied out: its strings are offsets into the batch's buffer (0: NULL). */
struct row {
	/* version, name, status, applied_at, previous_checksum, accepted_at, checksum (read only
	 * with STRATA_EACH_CHECKSUM) */
	size_t str[7];
	int progress;
	bool out_of_order;
	double duration_ms;
	sqlite3_int64 rowid; /* 0 when applied_at is not text, which SQLite orders otherwise */
};

struct batch {
	struct row rows[BATCH];
	int n;
	strata_buf strings;
	/* the last row's key, for the next batch */
	sqlite3_int64 len, rowid;
	size_t trimmed, name; /* offsets into strings */
};

static size_t keep(struct batch *b, const unsigned char *t)
{
	size_t off = b->strings.len + 1;
	if (!t)
		return 0;
	strata_buf_put(&b->strings, t, strlen((const char *)t) + 1);
	return off;
}

static const char *at(const struct batch *b, size_t off)
{
	return off ? b->strings.ptr + off - 1 : NULL;
}

/* ... "" for NULL */
static char *text_at(const struct batch *b, size_t off)
{
	return (char *)(off ? at(b, off) : "");
}

/* One batch read into b: the read ends (the statement reset) before it returns. */
static int read_batch(sqlite_conn *s, sqlite3_stmt *st, unsigned flags, struct batch *b,
                      strata_error *e)
{
	int rc;
	b->n = 0;
	strata_buf_reset(&b->strings);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row *r = &b->rows[b->n++];
		static const int cols[7] = {0, 1, 2, 5, 7, 8, 12};
		int ncols = flags & STRATA_EACH_CHECKSUM ? 7 : 6;
		/* asked before sqlite3_column_text converts it */
		bool at_text = sqlite3_column_type(st, 5) == SQLITE_TEXT;
		r->str[6] = 0;
		for (int i = 0; i < ncols; i++)
			r->str[i] = keep(b, sqlite3_column_text(st, cols[i]));
		r->progress = sqlite3_column_int(st, 3);
		r->out_of_order = sqlite3_column_int(st, 4) != 0;
		r->duration_ms = sqlite3_column_double(st, 6);
		b->len = sqlite3_column_int64(st, 9);
		b->trimmed = keep(b, sqlite3_column_text(st, 10));
		b->name = r->str[1];
		b->rowid = sqlite3_column_int64(st, 11);
		r->rowid = at_text ? b->rowid : 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return s->base.interrupted ? strata_conn_interrupted(e)
		                           : strata_sqlite__error(s->db, e);
	if (b->strings.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

/* The batch's rows to fn. */
static int hand_out(const struct batch *b, int (*fn)(void *ud, const strata_applied *a), void *ud)
{
	int error = 0;
	for (int i = 0; i < b->n && error == 0; i++) {
		const struct row *r = &b->rows[i];
		int status = strata_applied_status_parse(text_at(b, r->str[2]));
		strata_applied a = {.version = text_at(b, r->str[0]),
		                    .name = text_at(b, r->str[1]),
		                    .status = status < 0 ? STRATA_APPLIED_FAILED
		                                         : (strata_applied_status)status,
		                    .progress = r->progress,
		                    .out_of_order = r->out_of_order,
		                    .applied_at = text_at(b, r->str[3]),
		                    .duration_ms = r->duration_ms,
		                    .checksum = text_at(b, r->str[6]),
		                    .applied_seq = r->rowid};
		if (r->str[4] && r->str[5]) {
			a.previous_checksum = text_at(b, r->str[4]);
			a.accepted_at = text_at(b, r->str[5]);
		}
		error = fn(ud, &a);
	}
	return error;
}

/* Whether the database stores text as UTF-8 (the byte order strata compares names in). */
static bool utf8_db(sqlite_conn *s)
{
	sqlite3_stmt *st = NULL;
	bool utf8 = false;
	if (sqlite3_prepare_v2(s->db, "PRAGMA encoding", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		utf8 = strcmp((const char *)sqlite3_column_text(st, 0), "UTF-8") == 0;
	sqlite3_finalize(st);
	return utf8;
}

int strata_sqlite__history_each(strata_conn *b, unsigned flags,
                                int (*fn)(void *ud, const strata_applied *a), void *ud,
                                strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *first = NULL, *next = NULL, *st;
	struct batch *bt = NULL;
	int error = 0;

	if (!utf8_db(s))
		return 1; /* UTF-16 sorts names otherwise: read in full */
	if (sqlite3_prepare_v2(s->db, EACH_FIRST, -1, &first, NULL) != SQLITE_OK) {
		const char *msg = sqlite3_errmsg(s->db);
		/* no table: nothing applied; one from before the accepted columns: read in full */
		if (strstr(msg, "no such table"))
			return 0;
		return strstr(msg, "no such column") ? 1 : strata_sqlite__error(s->db, e);
	}
	if (sqlite3_prepare_v2(s->db, EACH_NEXT, -1, &next, NULL) != SQLITE_OK ||
	    !(bt = calloc(1, sizeof(*bt)))) {
		error = next ? strata_error_set(e, STRATA_ERROR, "out of memory")
		             : strata_sqlite__error(s->db, e);
		goto done;
	}
	strata_buf_init(&bt->strings, STRATA_BUF_MAX_DEFAULT);
	for (st = first; error == 0; st = next) {
		if (st == next) {
			sqlite3_bind_int64(next, 1, bt->len);
			sqlite3_bind_text(next, 2, at(bt, bt->trimmed), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(next, 3, at(bt, bt->name), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(next, 4, bt->rowid);
		}
		if ((error = read_batch(s, st, flags, bt, e)) < 0)
			break;
		error = hand_out(bt, fn, ud);
		if (bt->n < BATCH)
			break;
	}
done:
	if (bt)
		strata_buf_free(&bt->strings);
	free(bt);
	sqlite3_finalize(first);
	sqlite3_finalize(next);
	return error;
}

/* The most recently applied first (sq_history_load's rank reversed), and the highest versions
 * first (EACH_ORDER reversed). */
#define NEWEST_COLUMNS "version, name, checksum, status, progress, out_of_order"
/* every row (?2 NULL), or those after the row of version ?2 and name ?3 in the order of NEWEST */
#define AFTER                                                                                      \
	"(?2 IS NULL OR (applied_at, rowid) < (SELECT applied_at, rowid "                          \
	"FROM " STRATA_HISTORY_TABLE " WHERE version = ?2 AND name = ?3))"
/* in strata_sqlite__history_rows's columns, with no dates (not read) and a rank */
#define NEWEST                                                                                     \
	"SELECT version, name, checksum, '', 0, status, progress, out_of_order, NULL, NULL, "      \
	"max(rank) FROM (SELECT " NEWEST_COLUMNS                                                   \
	", ?1 + 1 - row_number() OVER (ORDER BY applied_at DESC, rid DESC) AS "                    \
	"rank FROM (SELECT rowid AS rid, * FROM " STRATA_HISTORY_TABLE " WHERE " AFTER             \
	" ORDER BY applied_at DESC, rowid DESC LIMIT ?1) UNION ALL SELECT * FROM "                 \
	"(SELECT " NEWEST_COLUMNS ", 0 FROM " STRATA_HISTORY_TABLE " WHERE " AFTER                 \
	" ORDER BY length(CAST(ltrim(version, '0') AS BLOB)) DESC, ltrim(version, '0') DESC, "     \
	"name DESC, rowid DESC LIMIT ?1 + 1)) GROUP BY version, name"

/* history_newest (core/engine.h): one statement, a few rows whatever the history's length. */
int strata_sqlite__history_newest(strata_conn *b, size_t k, const strata_applied *after,
                                  strata_history *out, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *st = NULL;

	memset(out, 0, sizeof(*out));
	if (!utf8_db(s))
		return 1;
	if (sqlite3_prepare_v2(s->db, NEWEST, -1, &st, NULL) != SQLITE_OK) {
		const char *msg = sqlite3_errmsg(s->db);
		/* no table yet, or one from an older strata: history_load makes it */
		if (strstr(msg, "no such table") || strstr(msg, "no such column"))
			return 1;
		return strata_sqlite__error(s->db, e);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)k);
	if (after) {
		sqlite3_bind_text(st, 2, after->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, after->name, -1, SQLITE_STATIC);
	}
	return strata_sqlite__history_rows(s, st, out, false, true, e);
}
