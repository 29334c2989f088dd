/*
 * seed_engine.c: what both engines' seed loaders share (seed_engine.h): the INSERT for a row,
 * the signature that tells whether a prepared statement can serve a row, and the statements
 * prepared so far, found by their signature.
 */
#include "core/seed_engine.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

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

int strata_seed_stmts_get(strata_seed_stmts *c, const strata_buf *sig, const strata_seed_write *w,
                          char placeholder, strata_buf *q, strata_seed_stmt **out, bool *fresh,
                          strata_error *e)
{
	strata_seed_stmt *grown;
	int error;

	*out = NULL;
	*fresh = false;
	for (size_t i = 0; i < c->n; i++)
		if (strata_seed_sig_eq(c->v[i].sig, c->v[i].sig_len, sig)) {
			*out = &c->v[i];
			return 0;
		}
	if ((error = strata_seed_insert_sql(q, w, placeholder, e)) < 0)
		return error;
	grown = realloc(c->v, (c->n + 1) * sizeof(*grown));
	if (!grown)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	c->v = grown;
	memset(&grown[c->n], 0, sizeof(*grown));
	grown[c->n].sig_len = sig->len;
	if (!(grown[c->n].sig = strata_seed_sig_dup(sig)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	*out = &grown[c->n++];
	*fresh = true;
	return 0;
}

void strata_seed_stmts_drop_last(strata_seed_stmts *c)
{
	c->n--;
	free(c->v[c->n].sig);
}

void strata_seed_stmts_free(strata_seed_stmts *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].sig);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}
