/* tx.c: what a C step can do in its migration's transaction (strata.h's strata_tx), and the
 * rows its queries return (strata_rows, filled by the engines). */
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "util/error.h"

struct strata_rows {
	size_t ncols, nrows, cap;
	char **names; /* ncols */
	char **cells; /* nrows * ncols, NULL for SQL NULL */
};

int strata_rows_new(strata_rows **out, size_t columns, strata_error *e)
{
	strata_rows *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r || !(r->names = calloc(columns + 1, sizeof(*r->names)))) {
		free(r);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	r->ncols = columns;
	*out = r;
	return 0;
}

int strata_rows_set_name(strata_rows *r, size_t col, const char *name, strata_error *e)
{
	if (col >= r->ncols)
		return strata_error_set(e, STRATA_ERROR, "no column %zu", col);
	free(r->names[col]);
	if (!(r->names[col] = strdup(name ? name : "")))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

int strata_rows_add(strata_rows *r, const char *const *values, strata_error *e)
{
	if (r->nrows == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		char **p = realloc(r->cells, ncap * (r->ncols ? r->ncols : 1) * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		r->cells = p;
		r->cap = ncap;
	}
	for (size_t c = 0; c < r->ncols; c++) {
		char **cell = &r->cells[r->nrows * r->ncols + c];
		*cell = values[c] ? strdup(values[c]) : NULL;
		if (values[c] && !*cell) {
			while (c-- > 0)
				free(r->cells[r->nrows * r->ncols + c]);
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
	}
	r->nrows++;
	return 0;
}

size_t strata_rows_count(const strata_rows *r)
{
	return r ? r->nrows : 0;
}

size_t strata_rows_columns(const strata_rows *r)
{
	return r ? r->ncols : 0;
}

const char *strata_rows_name(const strata_rows *r, size_t col)
{
	return r && col < r->ncols ? r->names[col] : NULL;
}

const char *strata_rows_get(const strata_rows *r, size_t row, size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

void strata_rows_free(strata_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	for (size_t c = 0; c < r->ncols; c++)
		free(r->names[c]);
	free(r->names);
	free(r->cells);
	free(r);
}

int strata_tx_exec(strata_tx *tx, const char *sql, strata_error *e)
{
	if (!tx || !sql)
		return strata_error_set(e, STRATA_EINVALID, "strata_tx_exec: no %s",
		                        tx ? "SQL" : "transaction");
	if (tx->conn->interrupted)
		return strata_conn_interrupted(e);
	return tx->conn->engine->exec(tx->conn, sql, e);
}

int strata_tx_query(strata_tx *tx, const char *sql, const char *const *params, size_t nparams,
                    strata_rows **out, strata_error *e)
{
	strata_rows *rows = NULL;
	int error;

	if (out)
		*out = NULL;
	if (!tx || !sql || (nparams && !params))
		return strata_error_set(e, STRATA_EINVALID, "strata_tx_query: no %s",
		                        !tx    ? "transaction"
		                        : !sql ? "SQL"
		                               : "params");
	if (tx->conn->interrupted)
		return strata_conn_interrupted(e);
	error = tx->conn->engine->query(tx->conn, sql, params, nparams, &rows, e);
	if (out)
		*out = rows;
	else
		strata_rows_free(rows);
	return error;
}

const char *strata_tx_engine(const strata_tx *tx)
{
	return tx ? tx->conn->engine->name : NULL;
}
