#include "core/seed.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/seed_engine.h"
#include "core/seed_json.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"

#define MAX_NEST 16

void strata_seed_table_free(strata_seed_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].sql);
	}
	for (size_t i = 0; i < t->nfks; i++) {
		for (size_t k = 0; k < t->fks[i].n; k++)
			free(t->fks[i].ref_cols[k]);
		free(t->fks[i].ref_cols);
		free(t->fks[i].cols);
		free(t->fks[i].ref_key);
		free(t->fks[i].ref_name);
	}
	free(t->fks);
	free(t->cols);
	free(t->pk);
	free(t->name);
	free(t->key);
	free(t->sql);
	free(t);
}

long strata_seed_table_col(const strata_seed_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (t->nocase ? strcasecmp(t->cols[i].name, name) == 0
		              : strcmp(t->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

void strata_seed__report_clear(strata_seed_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ntables; i++)
		free(r->tables[i].name);
	free(r->tables);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

/* Scratch space for one nesting level of write_row. */
struct level {
	size_t *cols;
	strata_seed_val *vals;
	size_t *tstart; /* 1 + where a composite value starts in text; 0: not composite */
	size_t cap;
	const strata_seed_node **kids;
	strata_seed_table **kid_tables;
	size_t *kid_fk, kcap;
	size_t *ret;
	char **ret_out;
	size_t rcap;
	char **fill;
	size_t fcap;
	strata_buf text;
	/* the column each member position matched in the last row of hint_t: rows of a table
	 * usually list their keys in the same order */
	const strata_seed_table *hint_t;
	long hint[32];
};

struct item {
	size_t file; /* index into the options' files */
	const strata_seed_section *sec;
	strata_seed_table *t;
	char **group; /* keys of the tables its rows write: its own and nested ones */
	size_t ngroup;
	bool done;
};

struct engine {
	const struct strata_conn *b; /* for its interrupted flag */
	const struct strata_seed_engine *ops;
	strata_seed_be *be;
	const strata_seed_opts *o;
	strata_seed_table **tables;
	size_t ntables;
	char **missing; /* names that are no table */
	size_t nmissing;
	unsigned next_order;
	struct level levels[MAX_NEST];
	const char *path; /* the file being loaded */
	size_t file_rows;
	strata_seed_failure fail; /* of the last write or flush */
};

static int oom(strata_error *e)
{
	return strata_error_set(e, STRATA_ERROR, "out of memory");
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	void *q;
	size_t n = *cap ? *cap : 8;
	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* The table called name, described once; STRATA_ENOTFOUND when there is none. */
static int lookup(struct engine *g, const char *name, strata_seed_table **out, strata_error *e)
{
	strata_seed_table *t = NULL, **grown;
	int error;

	*out = NULL;
	for (size_t i = 0; i < g->ntables; i++)
		if (strcmp(g->tables[i]->name, name) == 0) {
			*out = g->tables[i];
			return 0;
		}
	for (size_t i = 0; i < g->nmissing; i++)
		if (strcmp(g->missing[i], name) == 0)
			return STRATA_ENOTFOUND;
	error = g->ops->describe(g->be, name, &t, e);
	if (error == STRATA_ENOTFOUND) {
		char **m = realloc(g->missing, (g->nmissing + 1) * sizeof(*m));
		if (!m)
			return oom(e);
		g->missing = m;
		if (!(m[g->nmissing] = strdup(name)))
			return oom(e);
		g->nmissing++;
		return STRATA_ENOTFOUND;
	}
	if (error < 0)
		return error;
	grown = realloc(g->tables, (g->ntables + 1) * sizeof(*grown));
	if (!grown) {
		strata_seed_table_free(t);
		return oom(e);
	}
	g->tables = grown;
	g->tables[g->ntables++] = t;
	*out = t;
	return 0;
}

static long find_fk_to(const strata_seed_table *child, const strata_seed_table *parent)
{
	for (size_t i = 0; i < child->nfks; i++)
		if (strcmp(child->fks[i].ref_key, parent->key) == 0)
			return (long)i;
	return -1;
}

/* Places e at offset off of the file being loaded and returns code. */
static int fail_at(struct engine *g, size_t off, strata_error *e, int code)
{
	strata_seed_locate(g->path, off, e);
	return code;
}

/* Where a failed write points: its row, or better, its column's key. */
static int locate_write_failure(struct engine *g, const strata_seed_table *t,
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
	return fail_at(g, off, e, code);
}

static int level_reserve(struct level *L, size_t ncols, size_t nkids, size_t nret)
{
	size_t c = L->cap, k = L->kcap, r = L->rcap;
	if (grow((void **)&L->cols, &c, ncols, sizeof(*L->cols)) < 0)
		return -1;
	c = L->cap;
	if (grow((void **)&L->vals, &c, ncols, sizeof(*L->vals)) < 0)
		return -1;
	c = L->cap;
	if (grow((void **)&L->tstart, &c, ncols, sizeof(*L->tstart)) < 0)
		return -1;
	L->cap = c;
	if (grow((void **)&L->kids, &k, nkids, sizeof(*L->kids)) < 0)
		return -1;
	k = L->kcap;
	if (grow((void **)&L->kid_tables, &k, nkids, sizeof(*L->kid_tables)) < 0)
		return -1;
	k = L->kcap;
	if (grow((void **)&L->kid_fk, &k, nkids, sizeof(*L->kid_fk)) < 0)
		return -1;
	L->kcap = k;
	if (grow((void **)&L->ret, &r, nret, sizeof(*L->ret)) < 0)
		return -1;
	r = L->rcap;
	if (grow((void **)&L->ret_out, &r, nret, sizeof(*L->ret_out)) < 0)
		return -1;
	L->rcap = r;
	return 0;
}

static void level_free(struct level *L)
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

/* The column member m (at position pos in its row) names, or -1. */
static long col_of(struct level *L, const strata_seed_table *t, const strata_seed_node *m,
                   size_t pos)
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

/* Where column ci is among the row's n values (the first nmem from the file, the rest filled
 * from its parent) with a non-null scalar value, or -1. */
static long given_col(const struct level *L, size_t n, size_t nmem, long ci)
{
	for (size_t i = 0; i < n; i++)
		if (L->cols[i] == (size_t)ci)
			return L->vals[i].kind != STRATA_SEED_V_NULL && (i >= nmem || !L->tstart[i])
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

/* Writes one row of t (and, after it, its nested rows). fk/fill: the columns filled from the
 * parent row. */
static int write_row(struct engine *g, strata_seed_table *t, const strata_seed_node *row,
                     const strata_seed_fk *fk, char *const *fill, unsigned depth, bool rerun,
                     strata_error *e)
{
	struct level *L = &g->levels[depth];
	strata_seed_failure *f = &g->fail;
	strata_seed_write w;
	size_t n = 0, nmem = 0, nk = 0, nret = 0, pos = 0;
	int error = 0;

	if (depth >= MAX_NEST - 1)
		return fail_at(g, row->off, e,
		               strata_error_set(e, STRATA_EINVALID, "rows nested too deeply"));
	if (level_reserve(L, row->n + (fk ? fk->n : 0), row->n, t->ncols) < 0)
		return oom(e);
	strata_buf_reset(&L->text);
	for (const strata_seed_node *m = row->child; m; m = m->next, pos++) {
		long ci = col_of(L, t, m, pos);
		strata_seed_table *ct = NULL;
		if (ci >= 0) {
			strata_seed_val *v = &L->vals[n];
			if (fk_has_col(fk, (size_t)ci)) {
				strata_error_hint(e,
				                  "leave it out: a nested row gets it from the row "
				                  "it is nested in");
				return fail_at(
				    g, m->off, e,
				    strata_error_set(e, STRATA_EINVALID,
				                     "column '%s' of '%s' is filled from "
				                     "the parent row",
				                     m->key, t->name));
			}
			L->cols[n] = (size_t)ci;
			L->tstart[n] = 0;
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
				L->tstart[n] =
				    L->text.len + 1; /* v->s is set below, once text stops moving */
				if (t->cols[ci].type == STRATA_SEED_COL_ARRAY &&
				    m->kind == STRATA_SEED_ARRAY)
					strata_seed_pg_array(&L->text, m);
				else
					strata_seed_json_text(&L->text, m);
				v->len = L->text.len - (L->tstart[n] - 1);
				strata_buf_put(&L->text, "", 1); /* each value NUL-terminated */
				if (L->text.failed)
					return oom(e);
				break;
			}
			n++;
			continue;
		}
		if (m->kind == STRATA_SEED_ARRAY) {
			error = lookup(g, m->key, &ct, e);
			if (error < 0 && error != STRATA_ENOTFOUND)
				return error;
			error = 0;
			if (ct) {
				long fi = find_fk_to(ct, t);
				if (fi < 0) {
					strata_error_hint(e, "nest rows only under the table their "
					                     "foreign key references");
					return fail_at(
					    g, m->off, e,
					    strata_error_set(e, STRATA_EINVALID,
					                     "'%s' is a table, but it has no "
					                     "foreign key to '%s'",
					                     m->key, t->name));
				}
				L->kids[nk] = m;
				L->kid_tables[nk] = ct;
				L->kid_fk[nk++] = (size_t)fi;
				continue;
			}
		}
		return fail_at(g, m->off, e,
		               strata_error_set(e, STRATA_EINVALID, "table '%s' has no column '%s'",
		                                t->name, m->key));
	}
	for (size_t i = 0; i < n; i++)
		if (L->tstart[i])
			L->vals[i].s = L->text.ptr + L->tstart[i] - 1;
	nmem = n;
	for (size_t i = 0; fk && i < fk->n; i++, n++) {
		L->cols[n] = fk->cols[i];
		L->vals[n].kind = fill[i] ? STRATA_SEED_V_TEXT : STRATA_SEED_V_NULL;
		L->vals[n].s = fill[i];
		L->vals[n].len = fill[i] ? strlen(fill[i]) : 0;
	}
	for (size_t k = 0; k < nk; k++) {
		const strata_seed_fk *kf = &L->kid_tables[k]->fks[L->kid_fk[k]];
		for (size_t j = 0; j < kf->n; j++) {
			long ci = strata_seed_table_col(t, kf->ref_cols[j]);
			bool seen = false;
			if (ci < 0)
				return strata_error_set(
				    e, STRATA_ERROR, "'%s' references column '%s' that '%s' lacks",
				    L->kid_tables[k]->name, kf->ref_cols[j], t->name);
			for (size_t r = 0; r < nret; r++)
				seen |= L->ret[r] == (size_t)ci;
			/* a key the row gives need not come back (and the row can be pipelined) */
			if (!seen && given_col(L, n, nmem, ci) < 0)
				L->ret[nret++] = (size_t)ci;
		}
	}
	memset(f, 0, sizeof(*f));
	memset(L->ret_out, 0, nret * sizeof(*L->ret_out));
	w = (strata_seed_write){.t = t,
	                        .n = n,
	                        .cols = L->cols,
	                        .vals = L->vals,
	                        .conflict = g->o->conflict,
	                        .nret = nret,
	                        .ret = L->ret,
	                        .ret_out = L->ret_out,
	                        .bulk = nk == 0 && depth == 0 && !rerun &&
	                                g->o->conflict == STRATA_SEED_CONFLICT_ERROR,
	                        .row_off = row->off};
	if ((error = g->ops->write(g->be, &w, f, e)) < 0)
		return f->rerun ? error : locate_write_failure(g, t, row, f, error, e);
	if (!t->order)
		t->order = ++g->next_order;
	t->rows++;
	g->file_rows++;
	for (size_t k = 0; k < nk && error == 0; k++) {
		const strata_seed_node *m = L->kids[k];
		const strata_seed_fk *kf = &L->kid_tables[k]->fks[L->kid_fk[k]];
		size_t fc = L->fcap;
		if (grow((void **)&L->fill, &fc, kf->n, sizeof(*L->fill)) < 0) {
			error = oom(e);
			break;
		}
		L->fcap = fc;
		for (size_t j = 0; j < kf->n && error == 0; j++) {
			long ci = strata_seed_table_col(t, kf->ref_cols[j]);
			long given = given_col(L, n, nmem, ci);
			L->fill[j] = NULL;
			for (size_t r = 0; r < nret; r++)
				if (L->ret[r] == (size_t)ci)
					L->fill[j] = L->ret_out[r];
			if (L->fill[j])
				continue;
			if (given >= 0) {
				L->fill[j] =
				    (char *)L->vals[given].s; /* not freed: only ret_out is */
				continue;
			}
			strata_error_hint(e, "give the parent row its key in the file, or do not "
			                     "skip it");
			error =
			    fail_at(g, m->off, e,
			            strata_error_set(e, STRATA_EINVALID,
			                             "cannot fill '%s' of the nested rows: the row "
			                             "was skipped and its '%s' is not in the file",
			                             kf->ref_cols[j], kf->ref_cols[j]));
		}
		for (const strata_seed_node *c = m->child; c && error == 0; c = c->next) {
			if (c->kind != STRATA_SEED_OBJECT) {
				error =
				    fail_at(g, c->off, e,
				            strata_error_set(e, STRATA_EINVALID,
				                             "a nested row of '%s' must be a JSON "
				                             "object",
				                             L->kid_tables[k]->name));
				break;
			}
			error = write_row(g, L->kid_tables[k], c, kf, L->fill, depth + 1, rerun, e);
		}
	}
	for (size_t r = 0; r < nret; r++) {
		free(L->ret_out[r]);
		L->ret_out[r] = NULL;
	}
	return error;
}

/* A bulk batch failed somewhere: write its rows again one by one to find the failing row. */
static int rerun_batch(struct engine *g, strata_seed_table *t, const strata_seed_failure *f,
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

static int load_section(struct engine *g, const struct item *it, strata_error *e)
{
	strata_seed_reader *r = NULL;
	const strata_seed_node *row = NULL;
	int error = 0;

	if ((error = strata_seed_reader_open(&r, g->path, it->sec->array_off, false, e)) < 0)
		return error;
	for (;;) {
		if (g->b->interrupted) {
			error = strata_conn_interrupted(e);
			break;
		}
		if ((error = strata_seed_reader_next(r, &row, e)) < 0 || !row)
			break;
		if ((error = write_row(g, it->t, row, NULL, NULL, 0, false, e)) < 0)
			break;
	}
	strata_seed_reader_free(r);
	if (error == 0) {
		memset(&g->fail, 0, sizeof(g->fail));
		if ((error = g->ops->flush(g->be, &g->fail, e)) < 0 && !g->fail.rerun)
			error = locate_write_failure(g, it->t, NULL, &g->fail, error, e);
	}
	if (error < 0 && g->fail.rerun && !g->b->interrupted) {
		strata_seed_failure f = g->fail;
		memset(&g->fail, 0, sizeof(g->fail));
		error = rerun_batch(g, it->t, &f, error, e);
	}
	return error;
}

static bool in_group(const struct item *it, const char *key)
{
	for (size_t i = 0; i < it->ngroup; i++)
		if (strcmp(it->group[i], key) == 0)
			return true;
	return false;
}

/* Whether b's rows reference a table a writes (outside b's own nesting). */
static bool depends_on(struct engine *g, const struct item *b, const struct item *a)
{
	if (in_group(b, a->t->key))
		return false;
	for (size_t i = 0; i < b->ngroup; i++) {
		strata_seed_table *u = NULL;
		for (size_t k = 0; k < g->ntables && !u; k++)
			if (strcmp(g->tables[k]->key, b->group[i]) == 0)
				u = g->tables[k];
		for (size_t k = 0; u && k < u->nfks; k++)
			if (strcmp(u->fks[k].ref_key, a->t->key) == 0 ||
			    in_group(a, u->fks[k].ref_key))
				return true;
	}
	return false;
}

/* Resolves every section's tables and sorts items into foreign-key order (stable). */
static int order_items(struct engine *g, struct item *items, size_t n, strata_error *e)
{
	struct item *sorted = NULL;
	size_t done = 0;
	int error = 0;

	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		g->path = g->o->files[it->file];
		error = lookup(g, it->sec->table, &it->t, e);
		if (error == STRATA_ENOTFOUND) {
			strata_error_hint(e,
			                  "create it with a migration (a seed applies the pending "
			                  "migrations of its source first)");
			error = fail_at(g, it->sec->key_off, e,
			                strata_error_set(e, STRATA_EINVALID, "unknown table '%s'",
			                                 it->sec->table));
		}
		if (error < 0)
			goto done;
		it->group = calloc(it->sec->nnested + 1, sizeof(*it->group));
		if (!it->group) {
			error = oom(e);
			goto done;
		}
		it->group[it->ngroup++] = it->t->key;
		for (size_t k = 0; k < it->sec->nnested; k++) {
			strata_seed_table *nt = NULL;
			if (strata_seed_table_col(it->t, it->sec->nested[k]) >= 0)
				continue;
			error = lookup(g, it->sec->nested[k], &nt, e);
			if (error == STRATA_ENOTFOUND) {
				error = 0; /* write_row says what is wrong with it */
				continue;
			}
			if (error < 0)
				goto done;
			if (!in_group(it, nt->key))
				it->group[it->ngroup++] = nt->key;
		}
	}
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	if (!sorted) {
		error = oom(e);
		goto done;
	}
	while (done < n) {
		size_t pick = n;
		for (size_t b = 0; b < n && pick == n; b++) {
			bool blocked = false;
			if (items[b].done)
				continue;
			for (size_t a = 0; a < n && !blocked; a++)
				blocked =
				    a != b && !items[a].done && depends_on(g, &items[b], &items[a]);
			if (!blocked)
				pick = b;
		}
		if (pick == n) {
			char names[400] = "";
			size_t first = n;
			for (size_t i = 0; i < n; i++) {
				size_t len = strlen(names);
				if (items[i].done)
					continue;
				if (first == n)
					first = i;
				snprintf(names + len, sizeof(names) - len, "%s'%s'",
				         len ? ", " : "", items[i].t->name);
			}
			g->path = g->o->files[items[first].file];
			strata_error_hint(
			    e, "break the cycle: make one of the references nullable and "
			       "fill it in a later seed file, or nest one table's rows "
			       "under the other's");
			error = fail_at(g, items[first].sec->key_off, e,
			                strata_error_set(e, STRATA_EINVALID,
			                                 "cannot order the tables by their foreign "
			                                 "keys: %s reference each other in a cycle",
			                                 names));
			goto done;
		}
		items[pick].done = true;
		sorted[done++] = items[pick];
	}
	if (n)
		memcpy(items, sorted, n * sizeof(*items));
done:
	free(sorted);
	return error;
}

int strata_seed_scan_files(strata_seed_scan **out, const strata_seed_opts *o, strata_error *e)
{
	strata_seed_scan *scans = calloc(o->nfiles ? o->nfiles : 1, sizeof(*scans));
	int error = 0;

	*out = NULL;
	if (!scans)
		return oom(e);
	for (size_t i = 0; i < o->nfiles && error == 0; i++)
		error = strata_seed_scan_file(&scans[i], o->files[i], e);
	if (error < 0)
		strata_seed_scans_free(scans, o->nfiles);
	else
		*out = scans;
	return error;
}

void strata_seed_scans_free(strata_seed_scan *scans, size_t n)
{
	for (size_t i = 0; scans && i < n; i++)
		strata_seed_scan_free(&scans[i]);
	free(scans);
}

/* The record's name for a file: the path as given, without a leading "./". */
static const char *record_path(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	return p;
}

int strata_seed_run(struct strata_conn *b, const strata_seed_opts *o, const strata_seed_scan *scans,
                    strata_seed_report *r, strata_error *e)
{
	struct engine g;
	struct item *items = NULL;
	size_t nitems = 0, cap = 0;
	bool began = false;
	double t0 = strata_now_ms(), t1;
	int error = 0;

	/* the seed's part of the report (what the caller filled before, migrated, stays) */
	r->files = NULL;
	r->tables = NULL;
	r->ntables = r->rows = 0;
	r->scan_ms = r->load_ms = r->ms = 0;
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < MAX_NEST; i++)
		strata_buf_init(&g.levels[i].text, 0);
	g.o = o;
	g.b = b;
	g.ops = b->engine->seed;
	r->files = calloc(o->nfiles ? o->nfiles : 1, sizeof(*r->files));
	if (!r->files) {
		error = oom(e);
		goto done;
	}
	for (size_t i = 0; i < o->nfiles; i++) {
		r->files[i].path = o->files[i];
		memcpy(r->files[i].sha256, scans[i].sha256, sizeof(r->files[i].sha256));
		r->scan_ms += scans[i].ms;
	}
	if ((error = g.ops->open(&g.be, b, e)) < 0 || (error = g.ops->begin(g.be, e)) < 0)
		goto done;
	began = true;
	for (size_t i = 0; i < o->nfiles; i++) {
		char sha[65] = "";
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(record_path(o->files[k]), record_path(o->files[i])) == 0;
		if (dup) {
			strata_error_at(e, o->files[i], 0, 0);
			error = strata_error_set(e, STRATA_EINVALID, "seed file given twice");
			goto done;
		}
		if ((error = g.ops->record_get(g.be, record_path(o->files[i]), sha, e)) < 0)
			goto done;
		if (sha[0] && strcmp(sha, scans[i].sha256) == 0) {
			r->files[i].status = STRATA_SEED_FILE_UNCHANGED;
			continue;
		}
		if (sha[0] && !o->force) {
			strata_error_at(e, o->files[i], 0, 0);
			strata_error_detail(e,
			                    "it was loaded with SHA-256 %.12s…, it is now %.12s…",
			                    sha, scans[i].sha256);
			strata_error_hint(
			    e, "load it again with strata_seed_options.force (with "
			       "STRATA_SEED_CONFLICT_SKIP or STRATA_SEED_CONFLICT_UPDATE "
			       "for the rows it already wrote)");
			error =
			    strata_error_set(e, STRATA_EINVALID,
			                     "seed file changed since it was loaded; nothing was "
			                     "written");
			goto done;
		}
		r->files[i].status = STRATA_SEED_FILE_LOADED;
		r->files[i].forced = sha[0] != '\0';
		for (size_t k = 0; k < scans[i].n; k++) {
			if (grow((void **)&items, &cap, nitems + 1, sizeof(*items)) < 0) {
				error = oom(e);
				goto done;
			}
			memset(&items[nitems], 0, sizeof(*items));
			items[nitems].file = i;
			items[nitems++].sec = &scans[i].sections[k];
		}
	}
	if ((error = order_items(&g, items, nitems, e)) < 0)
		goto done;
	t1 = strata_now_ms();
	for (size_t i = 0; i < nitems; i++) {
		g.path = o->files[items[i].file];
		g.file_rows = 0;
		if ((error = load_section(&g, &items[i], e)) < 0)
			goto done;
		r->files[items[i].file].rows += g.file_rows;
		r->rows += g.file_rows;
	}
	r->load_ms = strata_now_ms() - t1;
	for (size_t i = 0; i < o->nfiles; i++)
		if (r->files[i].status == STRATA_SEED_FILE_LOADED &&
		    (error = g.ops->record_put(g.be, record_path(o->files[i]), scans[i].sha256,
		                               r->files[i].rows, e)) < 0)
			goto done;
	if (b->interrupted) { /* nothing is committed once the run was interrupted */
		error = strata_conn_interrupted(e);
		goto done;
	}
	if (o->dry_run)
		g.ops->rollback(g.be);
	else if ((error = g.ops->commit(g.be, e)) < 0)
		goto done;
	began = false;
	/* the report: tables in the order they were first written */
	r->tables = calloc(g.ntables ? g.ntables : 1, sizeof(*r->tables));
	if (!r->tables) {
		error = oom(e);
		goto done;
	}
	for (unsigned ord = 1; ord <= g.next_order; ord++)
		for (size_t i = 0; i < g.ntables; i++) {
			strata_seed_table *t = g.tables[i];
			if (t->order != ord)
				continue;
			if (!(r->tables[r->ntables].name = strdup(t->name))) {
				error = oom(e);
				goto done;
			}
			r->tables[r->ntables++].rows = t->rows;
		}
done:
	if (began)
		g.ops->rollback(g.be);
	if (g.be)
		g.ops->close(g.be);
	for (size_t i = 0; i < nitems; i++)
		free(items[i].group);
	free(items);
	for (size_t i = 0; i < g.ntables; i++)
		strata_seed_table_free(g.tables[i]);
	free(g.tables);
	for (size_t i = 0; i < g.nmissing; i++)
		free(g.missing[i]);
	free(g.missing);
	for (size_t i = 0; i < MAX_NEST; i++)
		level_free(&g.levels[i]);
	r->ms = strata_now_ms() - t0 + r->scan_ms;
	if (error < 0 && b->interrupted && error != STRATA_ECONNECT)
		error = e->code = STRATA_EINTERRUPTED; /* whatever the database said of it */
	if (error < 0) {
		strata_dburl_scrub_error(b->url, e);
		for (size_t i = 0; i < r->ntables; i++)
			free(r->tables[i].name);
		free(r->tables);
		free(r->files);
		r->files = NULL;
		r->tables = NULL;
		r->ntables = r->rows = 0;
		r->rolled_back = true;
	}
	return error;
}

static bool is_pk(const strata_seed_table *t, size_t col)
{
	for (size_t i = 0; i < t->npk; i++)
		if (t->pk[i] == col)
			return true;
	return false;
}

int strata_seed_insert_sql(strata_buf *q, const strata_seed_write *w, char placeholder,
                           strata_error *e)
{
	const strata_seed_table *t = w->t;
	size_t nupd = 0;

	if (w->conflict == STRATA_SEED_CONFLICT_UPDATE && t->npk == 0) {
		strata_error_hint(e,
		                  "use STRATA_SEED_CONFLICT_SKIP, or give the table a primary key");
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "table '%s' has no primary key for STRATA_SEED_CONFLICT_UPDATE", t->name);
	}
	strata_buf_reset(q);
	strata_buf_printf(q, "INSERT INTO %s ", t->sql);
	if (w->n == 0) {
		strata_buf_puts(q, "DEFAULT VALUES");
	} else {
		strata_buf_puts(q, "(");
		for (size_t i = 0; i < w->n; i++)
			strata_buf_printf(q, "%s%s", i ? ", " : "", t->cols[w->cols[i]].sql);
		strata_buf_puts(q, ") VALUES (");
		for (size_t i = 0; i < w->n; i++)
			strata_buf_printf(q, "%s%c%zu", i ? ", " : "", placeholder, i + 1);
		strata_buf_puts(q, ")");
	}
	if (w->conflict != STRATA_SEED_CONFLICT_ERROR) {
		strata_buf_puts(q, " ON CONFLICT ");
		if (t->npk) {
			strata_buf_puts(q, "(");
			for (size_t i = 0; i < t->npk; i++)
				strata_buf_printf(q, "%s%s", i ? ", " : "", t->cols[t->pk[i]].sql);
			strata_buf_puts(q, ") ");
		}
		for (size_t i = 0; w->conflict == STRATA_SEED_CONFLICT_UPDATE && i < w->n; i++) {
			if (is_pk(t, w->cols[i]))
				continue;
			strata_buf_printf(q, "%s%s = excluded.%s", nupd++ ? ", " : "DO UPDATE SET ",
			                  t->cols[w->cols[i]].sql, t->cols[w->cols[i]].sql);
		}
		if (!nupd)
			strata_buf_puts(q, "DO NOTHING");
	}
	for (size_t i = 0; i < w->nret; i++)
		strata_buf_printf(q, "%s%s", i ? ", " : " RETURNING ", t->cols[w->ret[i]].sql);
	return q->failed ? strata_error_set(e, STRATA_ERROR, "out of memory") : 0;
}

void strata_seed_sig_put(strata_buf *sig, const strata_seed_write *w)
{
	size_t head[4] = {(size_t)(uintptr_t)w->t, (size_t)w->conflict, (size_t)w->bulk, w->n};
	strata_buf_reset(sig);
	strata_buf_put(sig, head, sizeof(head));
	strata_buf_put(sig, w->cols, w->n * sizeof(*w->cols));
	strata_buf_put(sig, &w->nret, sizeof(w->nret));
	strata_buf_put(sig, w->ret, w->nret * sizeof(*w->ret));
}

bool strata_seed_sig_eq(const char *stored, size_t len, const strata_buf *sig)
{
	return stored && len == sig->len && memcmp(stored, sig->ptr, len) == 0;
}

char *strata_seed_sig_dup(const strata_buf *sig)
{
	char *p = malloc(sig->len ? sig->len : 1);
	if (p && sig->len)
		memcpy(p, sig->ptr, sig->len);
	return p;
}
