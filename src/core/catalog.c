#include "core/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"

static int cmp_migrations(const void *pa, const void *pb)
{
	const strata_migration *a = *(strata_migration *const *)pa;
	const strata_migration *b = *(strata_migration *const *)pb;
	int c = strata_migration_key_cmp(a->version, a->name, b->version, b->name);
	if (c)
		return c;
	/* keep a pair's up half before its down half, and earlier directories first */
	if (a->dir_index != b->dir_index)
		return a->dir_index < b->dir_index ? -1 : 1;
	return (int)b->up.present - (int)a->up.present;
}

static int push(strata_catalog *c, size_t *cap, strata_migration *m, strata_error *e)
{
	if (c->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		strata_migration **p = realloc(c->items, ncap * sizeof(*p));
		if (!p) {
			strata_migration_free(m);
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		c->items = p;
		*cap = ncap;
	}
	c->items[c->n++] = m;
	return 0;
}

static int load_dir(strata_catalog *c, size_t *cap, const char *dir, size_t dir_index,
                    strata_error *e)
{
	char **names = NULL;
	size_t n = 0;
	int error;

	if ((error = strata_fs_list(&names, &n, dir, e)) < 0)
		return error;
	for (size_t i = 0; i < n && error == 0; i++) {
		strata_file_kind kind;
		char *v = NULL, *nm = NULL, *path = NULL;
		strata_migration *m = NULL;

		error = strata_migration_parse_name(&kind, &v, &nm, names[i], e);
		free(v);
		free(nm);
		if (error < 0) {
			path = strata_fs_join(dir, names[i]);
			strata_error_at(e, path ? path : names[i], 0, 0);
			free(path);
			break;
		}
		if (kind == STRATA_FILE_NONE)
			continue;
		path = strata_fs_join(dir, names[i]);
		if (!path) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			break;
		}
		error = strata_migration_load(&m, path, dir_index, e);
		free(path);
		if (error == 0)
			error = push(c, cap, m, e);
	}
	strata_fs_names_free(names);
	return error;
}

/* After sorting: folds golang-migrate halves together and rejects duplicates. */
static int merge(strata_catalog *c, strata_error *e)
{
	size_t w = 0;
	for (size_t r = 0; r < c->n; r++) {
		strata_migration *m = c->items[r];
		strata_migration *prev = w ? c->items[w - 1] : NULL;
		int same = prev && strata_migration_key_cmp(prev->version, prev->name, m->version,
		                                            m->name) == 0;
		if (same && prev->dir_index == m->dir_index && !prev->down_path &&
		    prev->up.present && !m->up.present && m->down.present &&
		    strcmp(prev->path + strlen(prev->path) - 7, ".up.sql") == 0) {
			int error = strata_migration_merge_pair(prev, m, e);
			c->items[r] = NULL;
			if (error < 0)
				return error;
			continue;
		}
		if (same) {
			strata_error_at(e, m->path, 1, 1);
			strata_error_detail(e, "first seen in '%s'", prev->path);
			strata_error_hint(e, "each migration (version and name) must exist once; "
			                     "remove one copy or rename it");
			return strata_error_set(e, STRATA_EINVALID, "duplicate migration %s-%s",
			                        m->version, m->name);
		}
		if (!m->up.present) {
			strata_error_at(e, m->path, 1, 1);
			strata_error_hint(e, "add %s_%s.up.sql beside it", m->version, m->name);
			return strata_error_set(e, STRATA_EINVALID,
			                        "down migration has no matching .up.sql file");
		}
		c->items[w++] = m;
		c->items[r] = w - 1 == r ? m : NULL;
	}
	c->n = w;
	return 0;
}

int strata_catalog_load(strata_catalog *out, const char *const *dirs, size_t ndirs, strata_error *e)
{
	size_t cap = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	for (size_t d = 0; d < ndirs && error == 0; d++)
		error = load_dir(out, &cap, dirs[d], d, e);
	if (error == 0 && out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), cmp_migrations);
	if (error == 0)
		error = merge(out, e);
	if (error < 0)
		strata_catalog_free(out);
	return error;
}

strata_migration *strata_catalog_find(const strata_catalog *c, const char *version,
                                      const char *name)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		strata_migration *m = c->items[mid];
		int cmp = strata_migration_key_cmp(m->version, m->name, version, name);
		if (cmp == 0)
			return m;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void strata_catalog_free(strata_catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		strata_migration_free(c->items[i]);
	free(c->items);
	c->items = NULL;
	c->n = 0;
}
