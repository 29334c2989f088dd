/*
 * pg_seed.c: `strata seed` on PostgreSQL.
 *
 * Flat rows go through COPY ... FROM STDIN in text format, in batches of at most BATCH rows,
 * each batch under a savepoint. The batch keeps the file offset of each of its rows, so an
 * error whose CONTEXT says "COPY t, line N[, column c]" points at the N-th row of the batch (and
 * its column); an error without a line (a foreign-key violation, checked when the COPY ends)
 * rolls the batch back to its savepoint and asks the caller to write the batch again row by row
 * (with INSERTs), which finds the row. Other rows (nested ones, --on-conflict) use prepared
 * INSERT ... [ON CONFLICT] [RETURNING] statements, one per table and column set, reused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/seed_engine.h"
#include "core/seed_json.h"
#include "engine/pg/pg.h"
#include "engine/pg/pg_internal.h"
#include "engine/pg/pq.h"
#include "util/buf.h"
#include "util/error.h"

#define BATCH 65536
#define SEND_AT (256 * 1024)
#define PIPE_MAX 256 /* INSERTs in flight: their results (~20 bytes each) fit any socket buffer */

struct strata_seed_be {
	strata_conn *b;
	PGconn *conn;
	strata_seed_stmts stmts; /* name: strata_seed_<index> */
	bool seeds_table;
	/* the COPY in progress */
	bool in_copy;
	char *copy_sig;
	size_t copy_sig_len;
	strata_buf copybuf;
	size_t *offs;
	size_t noffs;
	strata_buf sig, sql;
	const char **params;
	size_t pcap;
	/* INSERTs sent in pipeline mode whose results are not read yet */
	bool in_pipe;
	struct pending {
		size_t off;
		const strata_seed_table *t;
	} pend[PIPE_MAX];
	size_t npend;
};

static int db_error(strata_seed_be *s, const PGresult *r, strata_error *e)
{
	const char *primary = strata_pg__field(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!*primary) {
		const char *msg = PQerrorMessage(s->conn);
		strata_error_set(e, STRATA_EDB, "%.*s", (int)strcspn(msg, "\n"), msg);
	} else {
		strata_error_set(e, STRATA_EDB, "%s", primary);
	}
	strata_error_detail(e, "%s", strata_pg__field(r, PG_DIAG_MESSAGE_DETAIL));
	strata_error_hint(e, "%s", strata_pg__field(r, PG_DIAG_MESSAGE_HINT));
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", strata_pg__field(r, PG_DIAG_SQLSTATE));
	if (PQstatus(s->conn) == CONNECTION_BAD)
		e->code = STRATA_ECONNECT;
	return e->code;
}

static int pipe_drain(strata_seed_be *s, strata_seed_failure *f, strata_error *e);

static int exec(strata_seed_be *s, const char *sql, strata_error *e)
{
	PGresult *r;
	int error = pipe_drain(s, NULL, e);
	if (error < 0)
		return error;
	r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		error = db_error(s, r, e);
	PQclear(r);
	return error;
}

/* Runs a query with text parameters; *out gets the result (caller clears) on success. */
static int query(strata_seed_be *s, PGresult **out, const char *sql, int n, const char *const *p,
                 strata_error *e)
{
	PGresult *r;
	int error = pipe_drain(s, NULL, e);
	*out = NULL;
	if (error < 0)
		return error;
	r = PQexecParams(s->conn, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		error = db_error(s, r, e);
		PQclear(r);
		return error;
	}
	*out = r;
	return 0;
}

static int pg_open(strata_seed_be **out, strata_conn *b, strata_error *e)
{
	strata_seed_be *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->b = b;
	s->conn = ((pg_conn *)b)->conn; /* the engine's own connection */
	strata_buf_init(&s->copybuf, 0);
	strata_buf_init(&s->sig, 0);
	strata_buf_init(&s->sql, 0);
	*out = s;
	return 0;
}

static void pg_close(strata_seed_be *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->stmts.n; i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->stmts.v[i].name);
		if (PQstatus(s->conn) == CONNECTION_OK &&
		    PQtransactionStatus(s->conn) == PQTRANS_IDLE)
			PQclear(PQexec(s->conn, sql));
	}
	strata_seed_stmts_free(&s->stmts);
	free(s->copy_sig);
	free(s->offs);
	free(s->params);
	strata_buf_free(&s->copybuf);
	strata_buf_free(&s->sig);
	strata_buf_free(&s->sql);
	free(s);
}

static int pg_begin(strata_seed_be *s, strata_error *e)
{
	return exec(s, "BEGIN", e);
}

static int pg_commit(strata_seed_be *s, strata_error *e)
{
	return exec(s, "COMMIT", e);
}

static void pg_rollback(strata_seed_be *s)
{
	strata_error ignored = STRATA_ERROR_INIT;
	pipe_drain(s, NULL, &ignored);
	if (s->in_copy) {
		PQputCopyEnd(s->conn, "rolled back");
		PGresult *r;
		while ((r = PQgetResult(s->conn)) != NULL)
			PQclear(r);
		s->in_copy = false;
	}
	if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

static char *quote_ident(strata_seed_be *s, const char *name, size_t len)
{
	char *q = PQescapeIdentifier(s->conn, name, len);
	char *copy = q ? strdup(q) : NULL;
	PQfreemem(q);
	return copy;
}

/* The table called name ("table" or "schema.table"), as to_regclass finds it: *out with its
 * name, key (the oid) and quoted name; STRATA_ENOTFOUND when there is none. */
static int find_table(strata_seed_be *s, const char *name, strata_seed_table **out, strata_error *e)
{
	const char *dot = strchr(name, '.');
	strata_seed_table *t = NULL;
	PGresult *r = NULL;
	strata_buf rel = STRATA_BUF_INIT;
	const char *p[1];
	char *part = NULL;
	int error = 0;

	*out = NULL;
	if (dot) {
		if (!(part = quote_ident(s, name, (size_t)(dot - name))))
			goto oom;
		strata_buf_puts(&rel, part);
		strata_buf_puts(&rel, ".");
		free(part);
	}
	if (!(part = quote_ident(s, dot ? dot + 1 : name, strlen(dot ? dot + 1 : name))))
		goto oom;
	strata_buf_puts(&rel, part);
	free(part);
	part = NULL;
	if (rel.failed)
		goto oom;
	p[0] = strata_buf_cstr(&rel);
	if ((error = query(
	         s, &r,
	         "SELECT c.oid::text, quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
	         "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	         "WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')",
	         1, p, e)) < 0)
		goto done;
	if (PQntuples(r) != 1) {
		error = STRATA_ENOTFOUND;
		goto done;
	}
	if (!(t = calloc(1, sizeof(*t))) || !(t->name = strdup(name)) ||
	    !(t->key = strdup(PQgetvalue(r, 0, 0))) || !(t->sql = strdup(PQgetvalue(r, 0, 1))))
		goto oom;
	*out = t;
	t = NULL;
	goto done;
oom:
	error = strata_error_set(e, STRATA_ERROR, "out of memory");
done:
	PQclear(r);
	free(part);
	strata_buf_free(&rel);
	strata_seed_table_free(t);
	return error;
}

/* Runs a query on table t's catalogue rows ($1: its oid) and reads its result into t with
 * read, which fails only when out of memory. */
static int read_catalog(strata_seed_be *s, strata_seed_table *t, const char *sql,
                        int (*read)(strata_seed_table *t, const PGresult *r), strata_error *e)
{
	const char *p[1] = {t->key};
	PGresult *r = NULL;
	int error;

	if ((error = query(s, &r, sql, 1, p, e)) < 0)
		return error;
	if (read(t, r) < 0)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	PQclear(r);
	return error;
}

static const char columns_sql[] =
    "SELECT a.attname, quote_ident(a.attname), t.typname, t.typcategory "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attnum";

/* t's columns and their types, from columns_sql. */
static int read_columns(strata_seed_table *t, const PGresult *r)
{
	/* ncols only once cols is there: a table freed after a failed calloc has none */
	if (!(t->cols = calloc((size_t)PQntuples(r) + 1, sizeof(*t->cols))))
		return -1;
	t->ncols = (size_t)PQntuples(r);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *typ = PQgetvalue(r, (int)i, 2), *cat = PQgetvalue(r, (int)i, 3);
		if (!(t->cols[i].name = strdup(PQgetvalue(r, (int)i, 0))) ||
		    !(t->cols[i].sql = strdup(PQgetvalue(r, (int)i, 1))))
			return -1;
		t->cols[i].type = strcmp(typ, "json") == 0 || strcmp(typ, "jsonb") == 0
		                      ? STRATA_SEED_COL_JSON
		                  : strcmp(cat, "A") == 0    ? STRATA_SEED_COL_ARRAY
		                  : strcmp(typ, "bool") == 0 ? STRATA_SEED_COL_BOOL
		                                             : STRATA_SEED_COL_PLAIN;
	}
	return 0;
}

static const char pk_sql[] =
    "SELECT a.attname FROM pg_index i "
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) "
    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord";

/* t's primary-key columns in the key's order, from pk_sql. */
static int read_pk(strata_seed_table *t, const PGresult *r)
{
	t->npk = (size_t)PQntuples(r);
	if (!(t->pk = calloc(t->npk + 1, sizeof(*t->pk))))
		return -1;
	for (size_t i = 0; i < t->npk; i++)
		t->pk[i] = (size_t)strata_seed_table_col(t, PQgetvalue(r, (int)i, 0));
	return 0;
}

static const char fks_sql[] =
    "SELECT c.oid::text, c.confrelid::text, c.confrelid::regclass::text, "
    "a.attname, fa.attname FROM pg_constraint c "
    "CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY "
    "k(col, fcol, ord) "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col "
    "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol "
    "WHERE c.conrelid = $1::oid AND c.contype = 'f' ORDER BY c.conname, c.oid, "
    "k.ord";

/* t's foreign keys, from fks_sql: for each the referenced table and the column pairs (32 at the
 * most). */
static int read_fks(strata_seed_table *t, const PGresult *r)
{
	if (!(t->fks = calloc((size_t)PQntuples(r) + 1, sizeof(*t->fks))))
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		strata_seed_fk *fk;
		if (i == 0 || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i - 1, 0)) != 0) {
			fk = &t->fks[t->nfks++];
			if (!(fk->ref_key = strdup(PQgetvalue(r, i, 1))) ||
			    !(fk->ref_name = strdup(PQgetvalue(r, i, 2))) ||
			    !(fk->cols = calloc(32, sizeof(*fk->cols))) ||
			    !(fk->ref_cols = calloc(32, sizeof(*fk->ref_cols))))
				return -1;
		}
		fk = &t->fks[t->nfks - 1];
		if (fk->n == 32)
			continue;
		fk->cols[fk->n] = (size_t)strata_seed_table_col(t, PQgetvalue(r, i, 3));
		if (!(fk->ref_cols[fk->n++] = strdup(PQgetvalue(r, i, 4))))
			return -1;
	}
	return 0;
}

static int pg_describe(strata_seed_be *s, const char *name, strata_seed_table **out,
                       strata_error *e)
{
	strata_seed_table *t = NULL;
	int error;

	*out = NULL;
	if ((error = find_table(s, name, &t, e)) < 0 ||
	    (error = read_catalog(s, t, columns_sql, read_columns, e)) < 0 ||
	    (error = read_catalog(s, t, pk_sql, read_pk, e)) < 0 ||
	    (error = read_catalog(s, t, fks_sql, read_fks, e)) < 0) {
		strata_seed_table_free(t);
		return error;
	}
	*out = t;
	return 0;
}

static int ensure_seeds_table(strata_seed_be *s, strata_error *e)
{
	PGresult *r = NULL;
	int error;
	if (s->seeds_table)
		return 0;
	/* created only when missing: CREATE ... IF NOT EXISTS needs CREATE on the schema even when
	 * the table is there, which a least-privilege role lacks */
	if ((error = query(s, &r, "SELECT to_regclass('" STRATA_SEEDS_TABLE "') IS NOT NULL", 0,
	                   NULL, e)) < 0)
		return error;
	s->seeds_table = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (s->seeds_table)
		return 0;
	error =
	    exec(s,
	         "CREATE TABLE " STRATA_SEEDS_TABLE " ("
	         "path text PRIMARY KEY, sha256 text NOT NULL, "
	         "applied_at timestamptz NOT NULL DEFAULT now(), rows bigint NOT NULL DEFAULT 0)",
	         e);
	s->seeds_table = error == 0;
	return error;
}

static int pg_record_get(strata_seed_be *s, const char *path, char sha[65], strata_error *e)
{
	PGresult *r = NULL;
	const char *p[1] = {path};
	int error;
	sha[0] = '\0';
	if ((error = ensure_seeds_table(s, e)) < 0 ||
	    (error = query(s, &r, "SELECT sha256 FROM " STRATA_SEEDS_TABLE " WHERE path = $1", 1, p,
	                   e)) < 0)
		return error;
	if (PQntuples(r) == 1)
		snprintf(sha, 65, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int pg_record_put(strata_seed_be *s, const char *path, const char *sha, size_t rows,
                         strata_error *e)
{
	PGresult *r = NULL;
	char n[32];
	const char *p[3] = {path, sha, n};
	int error;
	snprintf(n, sizeof(n), "%zu", rows);
	error = query(s, &r,
	              "INSERT INTO " STRATA_SEEDS_TABLE " (path, sha256, rows) VALUES ($1, $2, $3) "
	              "ON CONFLICT (path) DO UPDATE SET sha256 = EXCLUDED.sha256, "
	              "rows = EXCLUDED.rows, applied_at = now()",
	              3, p, e);
	PQclear(r);
	return error;
}

/* "COPY t, line 3, column price: ..." -> 3 and "price". */
static unsigned copy_context_line(const char *ctx, char *column, size_t colsize)
{
	const char *l = strstr(ctx, ", line ");
	const char *c;
	unsigned line;
	column[0] = '\0';
	if (strncmp(ctx, "COPY ", 5) != 0 || !l)
		return 0;
	line = (unsigned)strtoul(l + 7, NULL, 10);
	c = strstr(l, ", column ");
	if (c) {
		size_t n;
		c += 9;
		n = strcspn(c, ":\n");
		snprintf(column, colsize, "%.*s", (int)n, c);
	}
	return line;
}

static int send_copybuf(strata_seed_be *s, strata_error *e)
{
	if (s->copybuf.len && PQputCopyData(s->conn, s->copybuf.ptr, (int)s->copybuf.len) != 1)
		return db_error(s, NULL, e);
	strata_buf_reset(&s->copybuf);
	return 0;
}

/* Reads the results of every pipelined INSERT and leaves pipeline mode; the first failure
 * names its row (f may be NULL). */
static int pipe_drain(strata_seed_be *s, strata_seed_failure *f, strata_error *e)
{
	PGresult *r;
	int error = 0;

	if (!s->in_pipe)
		return 0;
	s->in_pipe = false;
	if (PQpipelineSync(s->conn) != 1)
		error = db_error(s, NULL, e);
	for (size_t i = 0; i < s->npend; i++) {
		while ((r = PQgetResult(s->conn)) != NULL) {
			ExecStatusType st = PQresultStatus(r);
			if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
			    st != PGRES_PIPELINE_ABORTED && error == 0) {
				error = db_error(s, r, e);
				if (f) {
					f->have_row = true;
					f->row_off = s->pend[i].off;
					f->table = s->pend[i].t;
					snprintf(f->column, sizeof(f->column), "%s",
					         strata_pg__field(r, PG_DIAG_COLUMN_NAME));
				}
			}
			PQclear(r);
		}
	}
	s->npend = 0;
	r = PQgetResult(s->conn); /* the sync */
	PQclear(r);
	if (PQexitPipelineMode(s->conn) != 1 && error == 0)
		error = db_error(s, NULL, e);
	return error;
}

static int copy_end(strata_seed_be *s, strata_seed_failure *f, strata_error *e)
{
	PGresult *r, *failed = NULL;
	int error = 0;

	if (!s->in_copy)
		return 0;
	s->in_copy = false;
	error = send_copybuf(s, e);
	if (PQputCopyEnd(s->conn, NULL) != 1 && error == 0)
		error = db_error(s, NULL, e);
	while ((r = PQgetResult(s->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !failed)
			failed = r;
		else
			PQclear(r);
	}
	if (failed && error == 0) {
		unsigned line;
		error = db_error(s, failed, e);
		line = copy_context_line(strata_pg__field(failed, PG_DIAG_CONTEXT), f->column,
		                         sizeof(f->column));
		if (line >= 1 && line <= s->noffs) {
			f->have_row = true;
			f->row_off = s->offs[line - 1];
		} else if (s->noffs && exec(s, "ROLLBACK TO SAVEPOINT strata_seed_copy",
		                            &(strata_error){0}) == 0) {
			f->rerun = true;
			f->rerun_off = s->offs[0];
			f->rerun_rows = s->noffs;
		}
	}
	PQclear(failed);
	s->noffs = 0;
	if (error == 0)
		error = exec(s, "RELEASE SAVEPOINT strata_seed_copy", e);
	return error;
}

static int pg_flush(strata_seed_be *s, strata_seed_failure *f, strata_error *e)
{
	int error = copy_end(s, f, e);
	if (error == 0)
		error = pipe_drain(s, f, e);
	return error;
}

static int copy_row(strata_seed_be *s, const strata_seed_write *w, strata_seed_failure *f,
                    strata_error *e)
{
	int error = 0;
	if (s->in_copy &&
	    (s->noffs >= BATCH || !strata_seed_sig_eq(s->copy_sig, s->copy_sig_len, &s->sig)))
		if ((error = copy_end(s, f, e)) < 0)
			return error;
	if (!s->in_copy) {
		if ((error = pipe_drain(s, f, e)) < 0)
			return error;
		PGresult *r;
		strata_buf_reset(&s->sql);
		strata_buf_printf(&s->sql, "COPY %s (", w->t->sql);
		for (size_t i = 0; i < w->n; i++)
			strata_buf_printf(&s->sql, "%s%s", i ? ", " : "",
			                  w->t->cols[w->cols[i]].sql);
		strata_buf_puts(&s->sql, ") FROM STDIN");
		if (s->sql.failed)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		if (!s->offs && !(s->offs = malloc(BATCH * sizeof(*s->offs))))
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		free(s->copy_sig);
		s->copy_sig_len = s->sig.len;
		if (!(s->copy_sig = strata_seed_sig_dup(&s->sig)))
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		if ((error = exec(s, "SAVEPOINT strata_seed_copy", e)) < 0)
			return error;
		r = PQexec(s->conn, s->sql.ptr);
		if (PQresultStatus(r) != PGRES_COPY_IN) {
			error = db_error(s, r, e);
			PQclear(r);
			return error;
		}
		PQclear(r);
		s->in_copy = true;
		s->noffs = 0;
	}
	s->offs[s->noffs++] = w->row_off;
	for (size_t i = 0; i < w->n; i++) {
		if (i)
			strata_buf_put(&s->copybuf, "\t", 1);
		if (w->vals[i].kind == STRATA_SEED_V_NULL)
			strata_buf_put(&s->copybuf, "\\N", 2);
		else
			strata_seed_copy_escape(&s->copybuf, w->vals[i].s, w->vals[i].len);
	}
	strata_buf_put(&s->copybuf, "\n", 1);
	if (s->copybuf.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (s->copybuf.len >= SEND_AT)
		error = send_copybuf(s, e);
	return error;
}

static int prepare(strata_seed_be *s, const strata_seed_write *w, strata_seed_failure *f,
                   const char **name, strata_error *e)
{
	strata_seed_stmt *st;
	PGresult *r;
	bool fresh;
	int error;

	if ((error = strata_seed_stmts_get(&s->stmts, &s->sig, w, '$', &s->sql, &st, &fresh, e)) <
	    0)
		return error;
	if (!fresh) {
		*name = st->name;
		return 0;
	}
	snprintf(st->name, sizeof(st->name), "strata_seed_%zu", s->stmts.n - 1);
	if (pipe_drain(s, f, e) < 0) {
		strata_seed_stmts_drop_last(&s->stmts);
		return e->code;
	}
	r = PQprepare(s->conn, st->name, s->sql.ptr, (int)w->n, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		error = db_error(s, r, e);
		strata_seed_stmts_drop_last(&s->stmts);
		PQclear(r);
		return error;
	}
	PQclear(r);
	*name = st->name;
	return 0;
}

/* "invalid input syntax for type integer: "abc"": which column held "abc"? */
static void guess_column(const strata_seed_write *w, const char *msg, strata_seed_failure *f)
{
	const char *q = strstr(msg, ": \"");
	size_t len;
	long found = -1;
	if (!q || f->column[0])
		return;
	q += 3;
	len = strlen(q);
	if (!len || q[len - 1] != '"')
		return;
	len--;
	for (size_t i = 0; i < w->n; i++) {
		if (w->vals[i].kind == STRATA_SEED_V_NULL || w->vals[i].len != len ||
		    memcmp(w->vals[i].s, q, len) != 0)
			continue;
		if (found >= 0)
			return; /* ambiguous */
		found = (long)i;
	}
	if (found >= 0)
		snprintf(f->column, sizeof(f->column), "%s", w->t->cols[w->cols[found]].name);
}

static int pg_write(strata_seed_be *s, const strata_seed_write *w, strata_seed_failure *f,
                    strata_error *e)
{
	const char *name = NULL;
	PGresult *r;
	int error;

	strata_seed_sig_put(&s->sig, w);
	if (s->sig.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (w->bulk && w->n > 0)
		return copy_row(s, w, f, e);
	/* a statement to prepare, or a row whose values must come back, waits for what is in
	 * flight; other rows are pipelined */
	if ((error = copy_end(s, f, e)) < 0 || (error = prepare(s, w, f, &name, e)) < 0 ||
	    (w->nret && (error = pipe_drain(s, f, e)) < 0))
		return error;
	if (w->n > s->pcap) {
		const char **p = realloc(s->params, w->n * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		s->params = p;
		s->pcap = w->n;
	}
	for (size_t i = 0; i < w->n; i++)
		s->params[i] = w->vals[i].kind == STRATA_SEED_V_NULL ? NULL : w->vals[i].s;
	if (w->nret == 0) {
		if (!s->in_pipe) {
			if (PQenterPipelineMode(s->conn) != 1)
				return db_error(s, NULL, e);
			s->in_pipe = true;
		}
		if (PQsendQueryPrepared(s->conn, name, (int)w->n, s->params, NULL, NULL, 0) != 1)
			return db_error(s, NULL, e);
		s->pend[s->npend].off = w->row_off;
		s->pend[s->npend++].t = w->t;
		return s->npend == PIPE_MAX ? pipe_drain(s, f, e) : 0;
	}
	r = PQexecPrepared(s->conn, name, (int)w->n, s->params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		error = db_error(s, r, e);
		snprintf(f->column, sizeof(f->column), "%s",
		         strata_pg__field(r, PG_DIAG_COLUMN_NAME));
		guess_column(w, e->msg, f);
		PQclear(r);
		return error;
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		for (size_t i = 0; i < w->nret; i++) {
			if (PQgetisnull(r, 0, (int)i))
				continue;
			if (!(w->ret_out[i] = strdup(PQgetvalue(r, 0, (int)i)))) {
				PQclear(r);
				return strata_error_set(e, STRATA_ERROR, "out of memory");
			}
		}
	}
	PQclear(r);
	return 0;
}

const struct strata_seed_engine strata_pg_seed = {
    .version = STRATA_SEED_OPS_VERSION,
    .open = pg_open,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .describe = pg_describe,
    .record_get = pg_record_get,
    .record_put = pg_record_put,
    .write = pg_write,
    .flush = pg_flush,
    .close = pg_close,
};
