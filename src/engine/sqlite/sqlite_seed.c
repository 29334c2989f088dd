/*
 * sqlite_seed.c: `strata seed` on SQLite.
 *
 * Every row is one step of a prepared INSERT [ON CONFLICT] [RETURNING] statement, one per table
 * and column set, reused across rows inside the one transaction (BEGIN IMMEDIATE), which is how
 * SQLite loads fastest. Foreign keys are turned on for the connection first (PRAGMA
 * foreign_keys, which SQLite leaves off by default), so a missing parent row is an error.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/seed_engine.h"
#include "engine/sqlite/sqlite.h"
#include "engine/sqlite/sqlite_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/text.h"

struct strata_seed_be {
	sqlite3 *db;
	strata_seed_stmts stmts; /* handle: the sqlite3_stmt */
	bool seeds_table;
	strata_buf sig, sql;
};

static int db_error(strata_seed_be *s, strata_error *e)
{
	int code = strata_sqlite__error(s->db, e);
	if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		strata_error_hint(e, "a row it references is missing (or the row is referenced "
		                     "and cannot change)");
	return code;
}

static int exec(strata_seed_be *s, const char *sql, strata_error *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, e);
	return 0;
}

static int sq_open(strata_seed_be **out, strata_conn *b, strata_error *e)
{
	strata_seed_be *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->db = ((sqlite_conn *)b)->db; /* the engine's own connection */
	strata_buf_init(&s->sig, 0);
	strata_buf_init(&s->sql, 0);
	*out = s;
	return 0;
}

static void sq_close(strata_seed_be *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->stmts.n; i++)
		sqlite3_finalize(s->stmts.v[i].handle);
	strata_seed_stmts_free(&s->stmts);
	strata_buf_free(&s->sig);
	strata_buf_free(&s->sql);
	free(s);
}

static int sq_begin(strata_seed_be *s, strata_error *e)
{
	int error;
	if ((error = exec(s, "PRAGMA foreign_keys = ON", e)) < 0)
		return error;
	return exec(s, "BEGIN IMMEDIATE", e);
}

static int sq_commit(strata_seed_be *s, strata_error *e)
{
	return exec(s, "COMMIT", e);
}

static void sq_rollback(strata_seed_be *s)
{
	for (size_t i = 0; i < s->stmts.n; i++)
		sqlite3_reset(s->stmts.v[i].handle);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static char *quote_ident(const char *name, size_t len)
{
	strata_buf q = STRATA_BUF_INIT;
	strata_buf_put(&q, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '"')
			strata_buf_put(&q, "\"", 1);
		strata_buf_put(&q, name + i, 1);
	}
	strata_buf_put(&q, "\"", 1);
	return strata_buf_detach(&q);
}

/* s with ASCII letters in lower case, as SQLite compares names (not tolower, which follows the
 * locale: in Turkish 'I' is not 'i'). */
static char *lower(const char *s)
{
	char *l = strdup(s);
	for (char *p = l; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

static int prep(strata_seed_be *s, sqlite3_stmt **st, const char *sql, strata_error *e)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_error(s, e);
	return 0;
}

/* The name the schema gives the table called tname in any case (*real, malloc'd), in schema
 * (quoted: qs); STRATA_ENOTFOUND when there is no such table or schema. */
static int find_table(strata_seed_be *s, const char *qs, const char *tname, char **real,
                      strata_error *e)
{
	strata_buf q = STRATA_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	*real = NULL;
	strata_buf_printf(&q,
	                  "SELECT name FROM %s.sqlite_schema WHERE type = 'table' AND "
	                  "name = ?1 COLLATE NOCASE",
	                  qs);
	if (q.failed) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if (sqlite3_prepare_v2(s->db, q.ptr, -1, &st, NULL) != SQLITE_OK) {
		error = STRATA_ENOTFOUND; /* no such schema */
		goto done;
	}
	sqlite3_bind_text(st, 1, tname, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		error = STRATA_ENOTFOUND;
	else if (rc != SQLITE_ROW)
		error = db_error(s, e);
	else if (!(*real = strdup((const char *)sqlite3_column_text(st, 0))))
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
done:
	sqlite3_finalize(st);
	strata_buf_free(&q);
	return error;
}

/* A table's identity (strata_seed_table.key): its name in lower case, after "schema." when the
 * seed file names the schema (qualifier, else NULL). Malloc'd; NULL when out of memory. */
static char *table_key(const char *qualifier, const char *name)
{
	strata_buf q = STRATA_BUF_INIT;
	char *key = NULL;
	if (qualifier)
		strata_buf_printf(&q, "%s.", qualifier);
	strata_buf_puts(&q, name);
	if (!q.failed)
		key = lower(q.ptr);
	strata_buf_free(&q);
	return key;
}

/* The table's name for SQL: quoted, after its quoted schema (qs) when qualified. */
static char *table_sql(const char *qs, const char *real, bool qualified)
{
	char *qt = quote_ident(real, strlen(real));
	size_t n = qt ? strlen(qs) + strlen(qt) + 2 : 0;
	char *sql = qt ? malloc(n) : NULL;
	if (sql && qualified)
		snprintf(sql, n, "%s.%s", qs, qt);
	else if (sql)
		snprintf(sql, n, "%s", qt);
	free(qt);
	return sql;
}

/* Prepares a query on the pragmas of table real in schema (?1, ?2). */
static int prep_pragma(strata_seed_be *s, sqlite3_stmt **st, const char *sql, const char *real,
                       const char *schema, strata_error *e)
{
	int error;
	if ((error = prep(s, st, sql, e)) < 0)
		return error;
	sqlite3_bind_text(*st, 1, real, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, schema, -1, SQLITE_STATIC);
	return 0;
}

/* Appends the column of st's row of pragma_table_xinfo (name, type, pk); -1 when out of memory. */
static int add_column(strata_seed_table *t, sqlite3_stmt *st)
{
	strata_seed_column *c;
	const char *type = (const char *)sqlite3_column_text(st, 1);
	void *grown = realloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
	void *pk = realloc(t->pk, (t->ncols + 1) * sizeof(*t->pk));
	if (grown)
		t->cols = grown;
	if (pk)
		t->pk = pk;
	if (!grown || !pk)
		return -1;
	c = &t->cols[t->ncols];
	memset(c, 0, sizeof(*c));
	t->ncols++;
	c->name = strdup((const char *)sqlite3_column_text(st, 0));
	c->sql = c->name ? quote_ident(c->name, strlen(c->name)) : NULL;
	if (!c->sql)
		return -1;
	c->type = strstr(type, "JSON")   ? STRATA_SEED_COL_JSON
	          : strstr(type, "BOOL") ? STRATA_SEED_COL_BOOL
	                                 : STRATA_SEED_COL_PLAIN;
	if (sqlite3_column_int(st, 2) > 0) /* pk position, 1-based */
		t->pk[t->npk++] = t->ncols - 1;
	return 0;
}

/* Adds st's row of pragma_foreign_key_list (id, table, from, to) to t's foreign keys: a new key
 * when the id changes, else a column of the last one (32 at the most; one t lacks is left out).
 * -1 when out of memory. */
static int add_fk_column(strata_seed_table *t, sqlite3_stmt *st, const char *qualifier,
                         int *last_id)
{
	strata_seed_fk *fk;
	const char *ref = (const char *)sqlite3_column_text(st, 1);
	const char *from = (const char *)sqlite3_column_text(st, 2);
	const char *to = (const char *)sqlite3_column_text(st, 3);
	long ci = strata_seed_table_col(t, from ? from : "");
	if (sqlite3_column_int(st, 0) != *last_id) {
		void *grown = realloc(t->fks, (t->nfks + 1) * sizeof(*t->fks));
		if (!grown)
			return -1;
		t->fks = grown;
		fk = &t->fks[t->nfks++];
		memset(fk, 0, sizeof(*fk));
		*last_id = sqlite3_column_int(st, 0);
		if (!(fk->ref_key = table_key(qualifier, ref ? ref : "")) ||
		    !(fk->ref_name = strdup(ref ? ref : "")) ||
		    !(fk->cols = calloc(32, sizeof(*fk->cols))) ||
		    !(fk->ref_cols = calloc(32, sizeof(*fk->ref_cols))))
			return -1;
	}
	fk = &t->fks[t->nfks - 1];
	if (fk->n == 32 || ci < 0)
		return 0;
	fk->cols[fk->n] = (size_t)ci;
	if (!(fk->ref_cols[fk->n++] = strdup(to ? to : "rowid")))
		return -1;
	return 0;
}

/* t's columns and primary key (table real in schema). */
static int read_columns(strata_seed_be *s, strata_seed_table *t, const char *real,
                        const char *schema, strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, error;

	if ((error = prep_pragma(
	         s, &st,
	         "SELECT name, upper(coalesce(type, '')), pk FROM pragma_table_xinfo(?1, ?2) "
	         "WHERE hidden = 0 ORDER BY cid",
	         real, schema, e)) < 0)
		return error;
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (add_column(t, st) < 0)
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
	if (error == 0 && rc != SQLITE_DONE)
		error = db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

/* t's foreign keys (table real in schema; their keys qualified when the seed file names the
 * schema). */
static int read_fks(strata_seed_be *s, strata_seed_table *t, const char *real, const char *schema,
                    bool qualified, strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, last_id = -1, error;

	if ((error = prep_pragma(s, &st,
	                         "SELECT f.id, f.\"table\", f.\"from\", coalesce(f.\"to\", "
	                         "(SELECT p.name FROM pragma_table_info(f.\"table\", ?2) p "
	                         "WHERE p.pk = f.seq + 1)) "
	                         "FROM pragma_foreign_key_list(?1, ?2) f ORDER BY f.id, f.seq",
	                         real, schema, e)) < 0)
		return error;
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (add_fk_column(t, st, qualified ? schema : NULL, &last_id) < 0)
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
	if (error == 0 && rc != SQLITE_DONE)
		error = db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

static int sq_describe(strata_seed_be *s, const char *name, strata_seed_table **out,
                       strata_error *e)
{
	const char *dot = strchr(name, '.');
	char *schema = dot ? strndup(name, (size_t)(dot - name)) : strdup("main");
	strata_seed_table *t = NULL;
	char *qs = NULL, *real = NULL;
	int error = 0;

	*out = NULL;
	if (!schema || !(qs = quote_ident(schema, strlen(schema))))
		goto oom;
	if ((error = find_table(s, qs, dot ? dot + 1 : name, &real, e)) < 0)
		goto done;
	if (!(t = calloc(1, sizeof(*t))) || !(t->name = strdup(name)))
		goto oom;
	t->nocase = true;
	if (!(t->key = table_key(dot ? schema : NULL, real)) ||
	    !(t->sql = table_sql(qs, real, dot != NULL)))
		goto oom;
	if ((error = read_columns(s, t, real, schema, e)) < 0 ||
	    (error = read_fks(s, t, real, schema, dot != NULL, e)) < 0)
		goto done;
	*out = t;
	t = NULL;
	goto done;
oom:
	error = strata_error_set(e, STRATA_ERROR, "out of memory");
done:
	strata_seed_table_free(t);
	free(schema);
	free(qs);
	free(real);
	return error;
}

static int ensure_seeds_table(strata_seed_be *s, strata_error *e)
{
	int error;
	if (s->seeds_table)
		return 0;
	error =
	    exec(s,
	         "CREATE TABLE IF NOT EXISTS " STRATA_SEEDS_TABLE " ("
	         "path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT "
	         "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), rows INTEGER NOT NULL DEFAULT 0)",
	         e);
	s->seeds_table = error == 0;
	return error;
}

static int sq_record_get(strata_seed_be *s, const char *path, char sha[65], strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc, error;
	sha[0] = '\0';
	if ((error = ensure_seeds_table(s, e)) < 0 ||
	    (error = prep(s, &st, "SELECT sha256 FROM " STRATA_SEEDS_TABLE " WHERE path = ?1", e)) <
	        0)
		return error;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(sha, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		error = db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

static int sq_record_put(strata_seed_be *s, const char *path, const char *sha, size_t rows,
                         strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int error;
	if ((error =
	         prep(s, &st,
	              "INSERT INTO " STRATA_SEEDS_TABLE " (path, sha256, rows) VALUES (?1, ?2, ?3) "
	              "ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, "
	              "rows = excluded.rows, "
	              "applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
	              e)) < 0)
		return error;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)rows);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = db_error(s, e);
	sqlite3_finalize(st);
	return error;
}

static int prepare(strata_seed_be *s, const strata_seed_write *w, sqlite3_stmt **out,
                   strata_error *e)
{
	strata_seed_stmt *st;
	sqlite3_stmt *handle = NULL;
	bool fresh;
	int error;

	if ((error = strata_seed_stmts_get(&s->stmts, &s->sig, w, '?', &s->sql, &st, &fresh, e)) <
	    0)
		return error;
	if (!fresh) {
		*out = st->handle;
		return 0;
	}
	if (sqlite3_prepare_v2(s->db, s->sql.ptr, -1, &handle, NULL) != SQLITE_OK) {
		error = db_error(s, e);
		strata_seed_stmts_drop_last(&s->stmts);
		return error;
	}
	*out = st->handle = handle;
	return 0;
}

/* "NOT NULL constraint failed: products.title" -> "title" */
static void failed_column(const char *msg, strata_seed_failure *f)
{
	const char *c = strstr(msg, "constraint failed: ");
	const char *dot;
	size_t n;
	if (!c)
		return;
	c += 19;
	n = strcspn(c, ", ");
	dot = memchr(c, '.', n);
	if (dot) {
		n -= (size_t)(dot + 1 - c);
		c = dot + 1;
	}
	snprintf(f->column, sizeof(f->column), "%.*s", (int)n, c);
}

static void bind_number(sqlite3_stmt *st, int i, const char *s)
{
	char *end;
	long long v;
	double d;
	if (strpbrk(s, ".eE") == NULL) {
		v = strtoll(s, &end, 10);
		if (*end == '\0') {
			sqlite3_bind_int64(st, i, v);
			return;
		}
	}
	d = strata_strtod_c(s, &end);
	if (*end == '\0')
		sqlite3_bind_double(st, i, d);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int sq_write(strata_seed_be *s, const strata_seed_write *w, strata_seed_failure *f,
                    strata_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc, error;

	strata_seed_sig_put(&s->sig, w);
	if (s->sig.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if ((error = prepare(s, w, &st, e)) < 0)
		return error;
	for (size_t i = 0; i < w->n; i++) {
		const strata_seed_val *v = &w->vals[i];
		int k = (int)i + 1;
		switch (v->kind) {
		case STRATA_SEED_V_NULL:
			sqlite3_bind_null(st, k);
			break;
		case STRATA_SEED_V_BOOL:
			sqlite3_bind_int(st, k, v->s[0] == 't');
			break;
		case STRATA_SEED_V_NUMBER:
			bind_number(st, k, v->s);
			break;
		default:
			sqlite3_bind_text(st, k, v->s, (int)v->len, SQLITE_STATIC);
			break;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < w->nret; i++) {
			const unsigned char *txt = sqlite3_column_text(st, (int)i);
			if (!txt || w->ret_out[i])
				continue;
			if (!(w->ret_out[i] = strdup((const char *)txt))) {
				sqlite3_reset(st);
				return strata_error_set(e, STRATA_ERROR, "out of memory");
			}
		}
	}
	if (rc != SQLITE_DONE) {
		sqlite3_reset(st); /* the error is on the handle after the step */
		error = db_error(s, e);
		failed_column(e->msg, f);
		for (size_t i = 0; i < w->nret; i++) {
			free(w->ret_out[i]);
			w->ret_out[i] = NULL;
		}
	} else {
		sqlite3_reset(st);
	}
	sqlite3_clear_bindings(st);
	return error;
}

static int sq_flush(strata_seed_be *s, strata_seed_failure *f, strata_error *e)
{
	(void)s;
	(void)f;
	(void)e;
	return 0;
}

const struct strata_seed_engine strata_sqlite_seed = {
    .version = STRATA_SEED_OPS_VERSION,
    .open = sq_open,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .describe = sq_describe,
    .record_get = sq_record_get,
    .record_put = sq_record_put,
    .write = sq_write,
    .flush = sq_flush,
    .close = sq_close,
};
