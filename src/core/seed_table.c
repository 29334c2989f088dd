/*
 * seed_table.c: the tables a seed writes (strata_seed_table, seed.h): freeing one, finding a
 * column or the foreign key to a parent, and the run's set of them, each described once through
 * the engine (names that are no table are remembered too).
 */
#include <stdlib.h>
#include <string.h>

#include "core/seed.h"
#include "core/seed_load.h"
#include "util/text.h"

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
		if (t->nocase ? strata_ascii_casecmp(t->cols[i].name, name) == 0
		              : strcmp(t->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

int strata_seed__lookup(strata_seed_load *g, const char *name, strata_seed_table **out,
                        strata_error *e)
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
			return strata_seed__oom(e);
		g->missing = m;
		if (!(m[g->nmissing] = strdup(name)))
			return strata_seed__oom(e);
		g->nmissing++;
		return STRATA_ENOTFOUND;
	}
	if (error < 0)
		return error;
	grown = realloc(g->tables, (g->ntables + 1) * sizeof(*grown));
	if (!grown) {
		strata_seed_table_free(t);
		return strata_seed__oom(e);
	}
	g->tables = grown;
	g->tables[g->ntables++] = t;
	*out = t;
	return 0;
}

long strata_seed__fk_to(const strata_seed_table *child, const strata_seed_table *parent)
{
	for (size_t i = 0; i < child->nfks; i++)
		if (strcmp(child->fks[i].ref_key, parent->key) == 0)
			return (long)i;
	return -1;
}

void strata_seed__tables_free(strata_seed_load *g)
{
	for (size_t i = 0; i < g->ntables; i++)
		strata_seed_table_free(g->tables[i]);
	free(g->tables);
	for (size_t i = 0; i < g->nmissing; i++)
		free(g->missing[i]);
	free(g->missing);
}
