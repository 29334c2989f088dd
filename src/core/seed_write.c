/*
 * seed_write.c: the row writer of a seed run. It streams one section's rows from the file
 * (pass 2) and hands each to the engine: its columns' values, its nested rows after it with
 * their foreign key filled from it, and when a bulk batch fails, its rows again one by one to
 * find the failing one; an error points at the row or the column's key in the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/seed.h"
#include "core/seed_engine.h"
#include "core/seed_json.h"
#include "core/seed_load.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"

/* Where a failed write points: its row, or better, its column's key. */
static int locate_write_failure(strata_seed_load *g, const strata_seed_table *t,
                                const strata_seed_node *row, const strata_seed_failure *f, int code,
                                strata_error *e)
{
	size_t off = row ? row->off : 0;
	char msg[sizeof(e->msg)];
	if (e->code == STRATA_EDB) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		strata_error_set(e, code, "cannot write a row of '%s': %s",
		                 f->table ? f->table->name : t->name, msg);
	}
	if (f->have_row) {
		strata_seed_reader *r = NULL;
		const strata_seed_node *again = NULL;
		strata_error ignored = STRATA_ERROR_INIT;
		off = f->row_off;
		if (f->column[0] &&
		    strata_seed_reader_open(&r, g->path, f->row_off, true, &ignored) == 0 &&
		    strata_seed_reader_next(r, &again, &ignored) == 0 && again) {
			const strata_seed_node *m = strata_seed_member(again, f->column);
			if (m)
				off = m->off;
		}
		strata_seed_reader_free(r);
	} else if (row && f->column[0]) {
		const strata_seed_node *m = strata_seed_member(row, f->column);
		if (m)
			off = m->off;
	}
	if (!row && !f->have_row)
		return code;
	return strata_seed__fail_at(g, off, e, code);
}

/* Grows L's arrays for a row of ncols values, nkids nested tables and nret returned columns. */
static int level_grow(struct strata_seed_level *L, size_t ncols, size_t nkids, size_t nret)
{
	void **const col_arrays[] = {(void **)&L->cols, (void **)&L->vals, (void **)&L->tstart};
	const size_t col_size[] = {sizeof(*L->cols), sizeof(*L->vals), sizeof(*L->tstart)};
	void **const kid_arrays[] = {(void **)&L->kids, (void **)&L->kid_tables,
	                             (void **)&L->kid_fk};
	const size_t kid_size[] = {sizeof(*L->kids), sizeof(*L->kid_tables), sizeof(*L->kid_fk)};
	void **const ret_arrays[] = {(void **)&L->ret, (void **)&L->ret_out};
	const size_t ret_size[] = {sizeof(*L->ret), sizeof(*L->ret_out)};

	if (strata_array_grow_together(&L->cap, ncols, col_arrays, col_size, 3) < 0 ||
	    strata_array_grow_together(&L->kcap, nkids, kid_arrays, kid_size, 3) < 0 ||
	    strata_array_grow_together(&L->rcap, nret, ret_arrays, ret_size, 2) < 0)
		return -1;
	return 0;
}

static int level_reserve(struct strata_seed_level *L, size_t ncols, size_t nkids, size_t nret)
{
	if (ncols <= L->cap && nkids <= L->kcap && nret <= L->rcap)
		return 0; /* the common case: earlier rows grew the level enough */
	return level_grow(L, ncols, nkids, nret);
}

static void level_free(struct strata_seed_level *L)
{
	free(L->cols);
	free(L->vals);
	free(L->tstart);
	free(L->kids);
	free(L->kid_tables);
	free(L->kid_fk);
	free(L->ret);
	free(L->ret_out);
	free(L->fill);
	strata_buf_free(&L->text);
}

void strata_seed__levels_init(strata_seed_load *g)
{
	for (size_t i = 0; i < STRATA_SEED_MAX_NEST; i++)
		strata_buf_init(&g->levels[i].text, 0);
}

void strata_seed__levels_free(strata_seed_load *g)
{
	for (size_t i = 0; i < STRATA_SEED_MAX_NEST; i++)
		level_free(&g->levels[i]);
}

/* The column member m (at position pos in its row) names, or -1. */
static long col_of(struct strata_seed_level *L, const strata_seed_table *t,
                   const strata_seed_node *m, size_t pos)
{
	long ci;
	if (pos < 32 && L->hint_t == t && L->hint[pos] >= 0 &&
	    strcmp(t->cols[L->hint[pos]].name, m->key) == 0)
		return L->hint[pos];
	ci = strata_seed_table_col(t, m->key);
	if (pos < 32) {
		if (L->hint_t != t) {
			L->hint_t = t;
			for (size_t i = 0; i < 32; i++)
				L->hint[i] = -1;
		}
		L->hint[pos] = ci;
	}
	return ci;
}

/* Where column ci is among the row's values (the first L->nmem from the file, the rest filled
 * from its parent) with a non-null scalar value, or -1. */
static long given_col(const struct strata_seed_level *L, long ci)
{
	for (size_t i = 0; i < L->n; i++)
		if (L->cols[i] == (size_t)ci)
			return L->vals[i].kind != STRATA_SEED_V_NULL &&
			               (i >= L->nmem || !L->tstart[i])
			           ? (long)i
			           : -1;
	return -1;
}

static bool fk_has_col(const strata_seed_fk *fk, size_t col)
{
	for (size_t i = 0; fk && i < fk->n; i++)
		if (fk->cols[i] == col)
			return true;
	return false;
}

/* Member m is column ci of t: its value becomes the row's next one. A scalar is used as it is;
 * an array or object as text in L->text (a PostgreSQL array literal for an array column, else
 * JSON), placed once the text stops moving (take_members). */
static int take_value(strata_seed_load *g, struct strata_seed_level *L, const strata_seed_table *t,
                      const strata_seed_node *m, size_t ci, const strata_seed_fk *fk,
                      strata_error *e)
{
	strata_seed_val *v = &L->vals[L->n];
	if (fk_has_col(fk, ci)) {
		strata_error_hint(
		    e, "leave it out: a nested row gets it from the row it is nested in");
		return strata_seed__fail_at(g, m->off, e,
		                            strata_error_set(e, STRATA_EINVALID,
		                                             "column '%s' of '%s' is filled from "
		                                             "the parent row",
		                                             m->key, t->name));
	}
	L->cols[L->n] = ci;
	L->tstart[L->n] = 0;
	v->s = m->s;
	v->len = m->len;
	switch (m->kind) {
	case STRATA_SEED_NULL:
		v->kind = STRATA_SEED_V_NULL;
		break;
	case STRATA_SEED_BOOL:
		v->kind = STRATA_SEED_V_BOOL;
		break;
	case STRATA_SEED_NUMBER:
		v->kind = STRATA_SEED_V_NUMBER;
		break;
	case STRATA_SEED_STRING:
		v->kind = STRATA_SEED_V_TEXT;
		break;
	default:
		v->kind = STRATA_SEED_V_TEXT;
		L->tstart[L->n] = L->text.len + 1;
		if (t->cols[ci].type == STRATA_SEED_COL_ARRAY && m->kind == STRATA_SEED_ARRAY)
			strata_seed_pg_array(&L->text, m);
		else
			strata_seed_json_text(&L->text, m);
		v->len = L->text.len - (L->tstart[L->n] - 1);
		strata_buf_put(&L->text, "", 1); /* each value NUL-terminated */
		if (L->text.failed)
			return strata_seed__oom(e);
		break;
	}
	L->n++;
	return 0;
}

/* Member m of a row of t names no column of t: an array of rows of a table whose foreign key
 * references t (written after the row), or an error. */
static int take_nested(strata_seed_load *g, struct strata_seed_level *L, strata_seed_table *t,
                       const strata_seed_node *m, strata_error *e)
{
	strata_seed_table *ct = NULL;
	int error;
	if (m->kind == STRATA_SEED_ARRAY) {
		error = strata_seed__lookup(g, m->key, &ct, e);
		if (error < 0 && error != STRATA_ENOTFOUND)
			return error;
		if (ct) {
			long fi = strata_seed__fk_to(ct, t);
			if (fi < 0) {
				strata_error_hint(
				    e, "nest rows only under the table their foreign key "
				       "references");
				return strata_seed__fail_at(
				    g, m->off, e,
				    strata_error_set(
				        e, STRATA_EINVALID,
				        "'%s' is a table, but it has no foreign key to '%s'",
				        m->key, t->name));
			}
			L->kids[L->nk] = m;
			L->kid_tables[L->nk] = ct;
			L->kid_fk[L->nk++] = (size_t)fi;
			return 0;
		}
	}
	return strata_seed__fail_at(
	    g, m->off, e,
	    strata_error_set(e, STRATA_EINVALID, "table '%s' has no column '%s'", t->name, m->key));
}

/* Reads row's members into L: the values of its columns, then the ones filled from the parent
 * row (fk/fill), and its nested tables. */
static int take_members(strata_seed_load *g, struct strata_seed_level *L, strata_seed_table *t,
                        const strata_seed_node *row, const strata_seed_fk *fk, char *const *fill,
                        strata_error *e)
{
	size_t pos = 0;
	int error;

	L->n = L->nk = 0;
	strata_buf_reset(&L->text);
	for (const strata_seed_node *m = row->child; m; m = m->next, pos++) {
		long ci = col_of(L, t, m, pos);
		if (ci >= 0)
			error = take_value(g, L, t, m, (size_t)ci, fk, e);
		else
			error = take_nested(g, L, t, m, e);
		if (error < 0)
			return error;
	}
	for (size_t i = 0; i < L->n; i++)
		if (L->tstart[i])
			L->vals[i].s = L->text.ptr + L->tstart[i] - 1;
	L->nmem = L->n;
	for (size_t i = 0; fk && i < fk->n; i++, L->n++) {
		L->cols[L->n] = fk->cols[i];
		L->vals[L->n].kind = fill[i] ? STRATA_SEED_V_TEXT : STRATA_SEED_V_NULL;
		L->vals[L->n].s = fill[i];
		L->vals[L->n].len = fill[i] ? strlen(fill[i]) : 0;
	}
	return 0;
}

/* The columns of t that the nested rows' foreign keys reference and the row does not give: the
 * write returns them (L->ret). A key the row gives need not come back (and the row can be
 * pipelined). */
static int keys_to_return(struct strata_seed_level *L, const strata_seed_table *t, strata_error *e)
{
	L->nret = 0;
	for (size_t k = 0; k < L->nk; k++) {
		const strata_seed_fk *kf = &L->kid_tables[k]->fks[L->kid_fk[k]];
		for (size_t j = 0; j < kf->n; j++) {
			long ci = strata_seed_table_col(t, kf->ref_cols[j]);
			bool seen = false;
			if (ci < 0)
				return strata_error_set(
				    e, STRATA_ERROR, "'%s' references column '%s' that '%s' lacks",
				    L->kid_tables[k]->name, kf->ref_cols[j], t->name);
			for (size_t r = 0; r < L->nret; r++)
				seen |= L->ret[r] == (size_t)ci;
			if (!seen && given_col(L, ci) < 0)
				L->ret[L->nret++] = (size_t)ci;
		}
	}
	return 0;
}

/* Hands the row read into L to the engine, and counts it. */
static int write_level(strata_seed_load *g, struct strata_seed_level *L, strata_seed_table *t,
                       const strata_seed_node *row, bool bulk, strata_error *e)
{
	strata_seed_failure *f = &g->fail;
	strata_seed_write w;
	int error;

	memset(f, 0, sizeof(*f));
	memset(L->ret_out, 0, L->nret * sizeof(*L->ret_out));
	w = (strata_seed_write){.t = t,
	                        .n = L->n,
	                        .cols = L->cols,
	                        .vals = L->vals,
	                        .conflict = g->o->conflict,
	                        .nret = L->nret,
	                        .ret = L->ret,
	                        .ret_out = L->ret_out,
	                        .bulk = bulk,
	                        .row_off = row->off};
	if ((error = g->ops->write(g->be, &w, f, e)) < 0)
		return f->rerun ? error : locate_write_failure(g, t, row, f, error, e);
	if (!t->order)
		t->order = ++g->next_order;
	t->rows++;
	g->file_rows++;
	return 0;
}

/* The values of foreign key kf of the rows nested under m (L->fill): as the write returned
 * them, else as the parent row gives them. */
static int fill_keys(strata_seed_load *g, struct strata_seed_level *L, const strata_seed_table *t,
                     const strata_seed_node *m, const strata_seed_fk *kf, strata_error *e)
{
	size_t fc = L->fcap;
	if (strata_array_grow((void **)&L->fill, &fc, kf->n, sizeof(*L->fill)) < 0)
		return strata_seed__oom(e);
	L->fcap = fc;
	for (size_t j = 0; j < kf->n; j++) {
		long ci = strata_seed_table_col(t, kf->ref_cols[j]);
		long given = given_col(L, ci);
		L->fill[j] = NULL;
		for (size_t r = 0; r < L->nret; r++)
			if (L->ret[r] == (size_t)ci)
				L->fill[j] = L->ret_out[r];
		if (L->fill[j])
			continue;
		if (given >= 0) {
			L->fill[j] = (char *)L->vals[given].s; /* not freed: only ret_out is */
			continue;
		}
		strata_error_hint(e, "give the parent row its key in the file, or do not skip it");
		return strata_seed__fail_at(g, m->off, e,
		                            strata_error_set(e, STRATA_EINVALID,
		                                             "cannot fill '%s' of the nested rows: "
		                                             "the row was skipped and its '%s' is "
		                                             "not in the file",
		                                             kf->ref_cols[j], kf->ref_cols[j]));
	}
	return 0;
}

static int write_row(strata_seed_load *g, strata_seed_table *t, const strata_seed_node *row,
                     const strata_seed_fk *fk, char *const *fill, unsigned depth, bool rerun,
                     strata_error *e);

/* Writes the rows nested in the row of t just written from L, table by table. */
static int write_nested(strata_seed_load *g, struct strata_seed_level *L, strata_seed_table *t,
                        unsigned depth, bool rerun, strata_error *e)
{
	int error = 0;
	for (size_t k = 0; k < L->nk && error == 0; k++) {
		const strata_seed_node *m = L->kids[k];
		const strata_seed_fk *kf = &L->kid_tables[k]->fks[L->kid_fk[k]];
		if ((error = fill_keys(g, L, t, m, kf, e)) < 0)
			break;
		for (const strata_seed_node *c = m->child; c && error == 0; c = c->next) {
			if (c->kind != STRATA_SEED_OBJECT) {
				error = strata_seed__fail_at(
				    g, c->off, e,
				    strata_error_set(e, STRATA_EINVALID,
				                     "a nested row of '%s' must be a JSON object",
				                     L->kid_tables[k]->name));
				break;
			}
			error = write_row(g, L->kid_tables[k], c, kf, L->fill, depth + 1, rerun, e);
		}
	}
	return error;
}

/* Writes one row of t (and, after it, its nested rows). fk/fill: the columns filled from the
 * parent row. A row may go in bulk when it is flat, at the top, written with no conflict clause
 * and not again (rerun) to find the failing row of a batch. */
static int write_row(strata_seed_load *g, strata_seed_table *t, const strata_seed_node *row,
                     const strata_seed_fk *fk, char *const *fill, unsigned depth, bool rerun,
                     strata_error *e)
{
	struct strata_seed_level *L = &g->levels[depth];
	bool bulk;
	int error;

	if (depth >= STRATA_SEED_MAX_NEST - 1)
		return strata_seed__fail_at(
		    g, row->off, e, strata_error_set(e, STRATA_EINVALID, "rows nested too deeply"));
	if (level_reserve(L, row->n + (fk ? fk->n : 0), row->n, t->ncols) < 0)
		return strata_seed__oom(e);
	if ((error = take_members(g, L, t, row, fk, fill, e)) < 0 ||
	    (error = keys_to_return(L, t, e)) < 0)
		return error;
	bulk = L->nk == 0 && depth == 0 && !rerun && g->o->conflict == STRATA_SEED_CONFLICT_ERROR;
	if ((error = write_level(g, L, t, row, bulk, e)) < 0)
		return error;
	error = write_nested(g, L, t, depth, rerun, e);
	for (size_t r = 0; r < L->nret; r++) {
		free(L->ret_out[r]);
		L->ret_out[r] = NULL;
	}
	return error;
}

/* A bulk batch failed somewhere: write its rows again one by one to find the failing row. */
static int rerun_batch(strata_seed_load *g, strata_seed_table *t, const strata_seed_failure *f,
                       int code, strata_error *e)
{
	strata_error saved = *e;
	strata_seed_reader *r = NULL;
	const strata_seed_node *row = NULL;
	int error = 0;

	if (strata_seed_reader_open(&r, g->path, f->rerun_off, true, e) < 0)
		goto give_up;
	for (size_t i = 0; i < f->rerun_rows; i++) {
		strata_error_clear(e);
		if (g->b->interrupted || strata_seed_reader_next(r, &row, e) < 0 || !row)
			goto give_up;
		if ((error = write_row(g, t, row, NULL, NULL, 0, true, e)) < 0)
			goto done;
	}
	/* rows the engine pipelined report here */
	memset(&g->fail, 0, sizeof(g->fail));
	if ((error = g->ops->flush(g->be, &g->fail, e)) < 0) {
		error = locate_write_failure(g, t, NULL, &g->fail, error, e);
		goto done;
	}
give_up:
	*e = saved;
	error = code;
	strata_seed_locate(g->path, f->rerun_off, e);
done:
	strata_seed_reader_free(r);
	return error;
}

int strata_seed__load_section(strata_seed_load *g, strata_seed_table *t, size_t array_off,
                              strata_error *e)
{
	strata_seed_reader *r = NULL;
	const strata_seed_node *row = NULL;
	int error = 0;

	if ((error = strata_seed_reader_open(&r, g->path, array_off, false, e)) < 0)
		return error;
	for (;;) {
		if (g->b->interrupted) {
			error = strata_conn_interrupted(e);
			break;
		}
		if ((error = strata_seed_reader_next(r, &row, e)) < 0 || !row)
			break;
		if ((error = write_row(g, t, row, NULL, NULL, 0, false, e)) < 0)
			break;
	}
	strata_seed_reader_free(r);
	if (error == 0) {
		memset(&g->fail, 0, sizeof(g->fail));
		if ((error = g->ops->flush(g->be, &g->fail, e)) < 0 && !g->fail.rerun)
			error = locate_write_failure(g, t, NULL, &g->fail, error, e);
	}
	if (error < 0 && g->fail.rerun && !g->b->interrupted) {
		strata_seed_failure f = g->fail;
		memset(&g->fail, 0, sizeof(g->fail));
		error = rerun_batch(g, t, &f, error, e);
	}
	return error;
}
