/*
 * sqlite_schema.c: the SQLite engine's schema_read: sqlite_schema's CREATE statements (as SQLite
 * keeps them) and each table's columns from pragma table_xinfo, strata's own tables left out.
 *
 * Order: tables, indexes, views, triggers, each by name; a view that reads another view comes
 * after it, so the SQL reloads.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/history.h"
#include "core/schema.h"
#include "core/seed.h"
#include "engine/sqlite/sqlite.h"
#include "engine/sqlite/sqlite_internal.h"
#include "util/buf.h"
#include "util/error.h"

#define STRATA_OWN "('" STRATA_HISTORY_TABLE "', 'strata_lock', '" STRATA_SEEDS_TABLE "')"

static int fail(sqlite_conn *s, sqlite3_stmt *st, strata_error *e)
{
	int error = strata_sqlite__error(s->db, e);
	sqlite3_finalize(st);
	return error;
}

static const char *text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return t ? t : "";
}

/* The columns of table, as objects "table.column" for the diff. */
static int read_columns(sqlite_conn *s, const char *table, strata_schema *out, strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, error = 0;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
	                       "FROM pragma_table_xinfo(?1) ORDER BY cid",
	                       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return fail(s, st, e);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		strata_buf name = STRATA_BUF_INIT, detail = STRATA_BUF_INIT;
		int hidden = sqlite3_column_int(st, 5);
		strata_buf_printf(&name, "%s.%s", table, text(st, 0));
		strata_buf_printf(&detail, "type %s", *text(st, 1) ? text(st, 1) : "(none)");
		if (sqlite3_column_int(st, 2))
			strata_buf_puts(&detail, " not null");
		if (sqlite3_column_type(st, 3) != SQLITE_NULL && hidden == 0)
			strata_buf_printf(&detail, " default %s", text(st, 3));
		if (sqlite3_column_int(st, 4))
			strata_buf_puts(&detail, " primary key");
		if (hidden == 2 || hidden == 3)
			strata_buf_printf(&detail, " generated (%s)",
			                  hidden == 2 ? "virtual" : "stored");
		if (name.failed || detail.failed)
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
		else
			error = strata_schema_add(out, "column", NULL, strata_buf_cstr(&name), NULL,
			                          strata_buf_cstr(&detail), e);
		strata_buf_free(&name);
		strata_buf_free(&detail);
	}
	if (error == 0 && rc != SQLITE_DONE)
		return fail(s, st, e);
	sqlite3_finalize(st);
	return error;
}

/* Whether sql names `name` as a word (a view or table it reads). */
static bool mentions(const char *sql, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = sql; (p = strcasestr(p, name)) != NULL; p += n) {
		char before = p == sql ? ' ' : p[-1], after = p[n];
		bool word_before = before == '_' || (before >= '0' && before <= '9') ||
		                   ((before | 32) >= 'a' && (before | 32) <= 'z');
		bool word_after = after == '_' || (after >= '0' && after <= '9') ||
		                  ((after | 32) >= 'a' && (after | 32) <= 'z');
		if (!word_before && !word_after)
			return true;
	}
	return false;
}

struct view {
	char *name, *sql;
	bool done;
};

/* Views by name, each after the views it reads (in a cycle, by name). */
static int add_views(struct view *v, size_t n, strata_schema *out, strata_error *e)
{
	for (size_t left = n; left > 0; left--) {
		size_t pick = n;
		for (size_t i = 0; i < n && pick == n; i++) {
			bool ready = !v[i].done;
			for (size_t j = 0; ready && j < n; j++)
				ready = j == i || v[j].done || !mentions(v[i].sql, v[j].name);
			if (ready)
				pick = i;
		}
		for (size_t i = 0; i < n && pick == n; i++)
			if (!v[i].done)
				pick = i;
		v[pick].done = true;
		if (strata_schema_add(out, "view", NULL, v[pick].name, v[pick].sql, NULL, e) < 0)
			return e->code;
	}
	return 0;
}

static int add_object(sqlite_conn *s, sqlite3_stmt *st, struct view **views, size_t *nviews,
                      strata_schema *out, strata_error *e)
{
	const char *type = text(st, 0), *name = text(st, 1), *table = text(st, 2);
	strata_buf sql = STRATA_BUF_INIT;
	int error = 0;

	strata_buf_printf(&sql, "%s;\n", text(st, 3));
	if (sql.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (strcmp(type, "view") == 0) {
		struct view *p = realloc(*views, (*nviews + 1) * sizeof(**views));
		if (!p) {
			strata_buf_free(&sql);
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		*views = p;
		p[*nviews].name = strdup(name);
		p[*nviews].sql = strata_buf_detach(&sql);
		p[(*nviews)++].done = false;
		return p[*nviews - 1].name && p[*nviews - 1].sql
		           ? 0
		           : strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	if (strcmp(type, "table") == 0) {
		error = strata_schema_add(out, "table", NULL, name, strata_buf_cstr(&sql), NULL, e);
		if (error == 0)
			error = read_columns(s, name, out, e);
	} else {
		strata_buf full = STRATA_BUF_INIT;
		strata_buf_printf(&full, "%s.%s", table, name);
		error = full.failed ? strata_error_set(e, STRATA_ERROR, "out of memory")
		                    : strata_schema_add(out, type, NULL, strata_buf_cstr(&full),
		                                        strata_buf_cstr(&sql), NULL, e);
		strata_buf_free(&full);
	}
	strata_buf_free(&sql);
	return error;
}

int strata_sqlite__schema_read(strata_conn *b, unsigned flags, strata_schema *out, strata_error *e)
{
	static const char sql[] =
	    "SELECT type, name, tbl_name, sql FROM sqlite_schema "
	    "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
	    "AND tbl_name NOT IN " STRATA_OWN " "
	    "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 "
	    "ELSE 3 END, tbl_name, name";
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *st = NULL;
	struct view *views = NULL;
	size_t nviews = 0;
	int rc = SQLITE_DONE, error = 0;

	(void)flags; /* SQLite has no owners or grants */
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, st, e);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* views wait for the triggers' turn: a trigger may read a view, not the reverse */
		if (strcmp(text(st, 0), "trigger") == 0 && nviews &&
		    (error = add_views(views, nviews, out, e)) == 0) {
			for (size_t i = 0; i < nviews; i++) {
				free(views[i].name);
				free(views[i].sql);
			}
			nviews = 0;
		}
		if (error == 0)
			error = add_object(s, st, &views, &nviews, out, e);
	}
	if (error == 0 && rc != SQLITE_DONE) {
		error = fail(s, st, e);
		st = NULL;
	}
	if (error == 0 && nviews)
		error = add_views(views, nviews, out, e);
	for (size_t i = 0; i < nviews; i++) {
		free(views[i].name);
		free(views[i].sql);
	}
	free(views);
	sqlite3_finalize(st);
	if (error < 0)
		strata_schema_free(out);
	return error;
}

int strata_sqlite__scratch_create(strata_conn *b, char **url, strata_error *e)
{
	(void)b;
	*url = strdup("sqlite::memory:");
	return *url ? 0 : strata_error_set(e, STRATA_ERROR, "out of memory");
}

void strata_sqlite__scratch_drop(strata_conn *b, const char *url)
{
	(void)b; /* an in-memory database goes with its connection */
	(void)url;
}

int strata_sqlite__schema_reset(strata_conn *b, strata_error *e)
{
	sqlite_conn *s = (sqlite_conn *)b;
	sqlite3_stmt *st = NULL;
	strata_buf q = STRATA_BUF_INIT;
	int rc, error = 0;

	if (sqlite3_prepare_v2(
	        s->db,
	        "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') "
	        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
	        -1, &st, NULL) != SQLITE_OK)
		return fail(s, st, e);
	strata_buf_puts(&q, "PRAGMA foreign_keys = OFF;");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strata_buf_printf(&q, " DROP %s IF EXISTS \"", text(st, 0));
		for (const char *p = text(st, 1); *p; p++)
			strata_buf_put(&q, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
		strata_buf_puts(&q, "\";");
	}
	if (rc != SQLITE_DONE)
		error = fail(s, st, e);
	else
		sqlite3_finalize(st);
	if (error == 0 && sqlite3_exec(s->db, strata_buf_cstr(&q), NULL, NULL, NULL) != SQLITE_OK)
		error = strata_sqlite__error(s->db, e);
	strata_buf_free(&q);
	return error;
}

int strata_sqlite__same_database(strata_conn *a, strata_conn *b, strata_error *e)
{
	/* one file, whatever the paths: its device and inode */
	const char *pa = a->url->target, *pb = b->url->target;
	struct stat sa, sb;
	(void)e;
	if (strcmp(pa, pb) == 0)
		return 1;
	if (stat(pa, &sa) != 0 || stat(pb, &sb) != 0)
		return 0; /* one is not there (or in memory): not the same file */
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
