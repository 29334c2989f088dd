#include "core/catalog.h"

#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "core/manifest.h"
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

/* A manifest's listing usually comes in order already: one pass instead of a sort. */
static bool is_sorted(const strata_catalog *c)
{
	for (size_t i = 1; i < c->n; i++)
		if (cmp_migrations(&c->items[i - 1], &c->items[i]) > 0)
			return false;
	return true;
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
		char *path = NULL;
		strata_migration *m = NULL;

		error = strata_migration_parse_name(&kind, NULL, NULL, names[i], e);
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

/* Whether dir holds exactly the migration files mf lists (down halves included). */
static bool listing_matches(const char *dir, const strata_manifest *mf)
{
	const char **listed = calloc(mf->n * 2 + 1, sizeof(*listed));
	char **names = NULL;
	size_t n = 0, nl = 0, found = 0;
	strata_error ignored = STRATA_ERROR_INIT;
	bool ok = listed && strata_fs_list(&names, &n, dir, &ignored) == 0;

	for (size_t i = 0; ok && i < mf->n; i++) {
		listed[nl++] = mf->items[i].file;
		if (mf->items[i].down_file)
			listed[nl++] = mf->items[i].down_file;
	}
	if (ok)
		qsort(listed, nl, sizeof(*listed), strata_fs_names_cmp);
	for (size_t i = 0; ok && i < n; i++) {
		strata_file_kind kind;
		const char *key = names[i];
		ok = strata_migration_parse_name(&kind, NULL, NULL, names[i], &ignored) == 0;
		if (!ok || kind == STRATA_FILE_NONE)
			continue;
		ok = bsearch(&key, listed, nl, sizeof(*listed), strata_fs_names_cmp) != NULL;
		found++;
	}
	strata_fs_names_free(names);
	free(listed);
	return ok && found == nl;
}

/* One not-yet-read migration per manifest entry. Returns 1 (adding nothing) when an entry is
 * not what build writes, so the caller reads the directory instead. */
static int push_listed(strata_catalog *c, size_t *cap, const char *dir, size_t dir_index,
                       const strata_manifest *mf, strata_error *e)
{
	size_t n0 = c->n;
	int error = 0;
	for (size_t i = 0; i < mf->n && error == 0; i++) {
		const strata_manifest_entry *ent = &mf->items[i];
		strata_error ignored = STRATA_ERROR_INIT;
		strata_file_kind kind, dkind = STRATA_FILE_DOWN;
		char *dv = NULL, *dn = NULL;
		strata_migration *m = calloc(1, sizeof(*m));
		if (!m) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			break;
		}
		if (strata_migration_parse_name(&kind, &m->version, &m->name, ent->file, &ignored) <
		        0 ||
		    (ent->down_file &&
		     (strata_migration_parse_name(&dkind, &dv, &dn, ent->down_file, &ignored) < 0 ||
		      strata_migration_key_cmp(dv, dn, m->version, m->name) != 0)) ||
		    (!(kind == STRATA_FILE_SINGLE && !ent->down_file) &&
		     !(kind == STRATA_FILE_UP && dkind == STRATA_FILE_DOWN)))
			error = 1;
		free(dv);
		free(dn);
		if (error == 0) {
			m->path = strata_fs_join(dir, ent->file);
			m->down_path = ent->down_file ? strata_fs_join(dir, ent->down_file) : NULL;
			if (!m->path || (ent->down_file && !m->down_path))
				error = strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		if (error) {
			strata_migration_free(m);
			break;
		}
		memcpy(m->checksum, ent->sha256, sizeof(m->checksum));
		m->up.present = true;
		m->dir_index = dir_index;
		error = push(c, cap, m, e);
	}
	if (error) {
		while (c->n > n0)
			strata_migration_free(c->items[--c->n]);
	}
	return error;
}

/* A directory from its manifest when it can be trusted, else read in full. */
static int load_dir_built(strata_catalog *c, size_t *cap, const char *dir, size_t dir_index,
                          strata_error *e)
{
	strata_manifest mf;
	strata_error ignored = STRATA_ERROR_INIT;
	struct stat st;
	int error = 1;

	/* an unreadable manifest: the full read lets the integrity check say so */
	if (strata_manifest_read(&mf, dir, &ignored) <= 0)
		return load_dir(c, cap, dir, dir_index, e);
	/* a directory modified after its manifest may have gained or lost files; one modified in
	 * the same clock tick as the manifest may too (a racy timestamp, as git calls it), so only
	 * a manifest strictly newer than its directory vouches for the listing */
	if (stat(dir, &st) == 0 &&
	    (strata_timespec_after(&mf.mtime, &st.st_mtim) || listing_matches(dir, &mf)))
		error = push_listed(c, cap, dir, dir_index, &mf, e);
	strata_manifest_free(&mf);
	if (error < 0)
		return error;
	if (error > 0)
		return load_dir(c, cap, dir, dir_index, e);
	c->from_manifest[dir_index] = true;
	return 0;
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

static int catalog_load(strata_catalog *out, const char *const *dirs, size_t ndirs, bool built,
                        strata_migration **extra, size_t nextra, strata_error *e)
{
	size_t cap = 0, k = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->from_manifest = calloc(ndirs + 1, sizeof(*out->from_manifest));
	if (!out->from_manifest) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	out->ndirs = ndirs;
	for (size_t d = 0; d < ndirs && error == 0; d++)
		error = built ? load_dir_built(out, &cap, dirs[d], d, e)
		              : load_dir(out, &cap, dirs[d], d, e);
	/* migrations given in memory: after every directory's */
	for (; k < nextra && error == 0; k++) {
		extra[k]->dir_index = ndirs;
		error = push(out, &cap, extra[k], e);
	}
	if (error == 0 && !is_sorted(out))
		qsort(out->items, out->n, sizeof(*out->items), cmp_migrations);
	if (error == 0)
		error = merge(out, e);
done:
	for (; k < nextra; k++) /* not taken in: still ours to free */
		strata_migration_free(extra[k]);
	if (error < 0)
		strata_catalog_free(out);
	return error;
}

int strata_catalog_load(strata_catalog *out, const char *const *dirs, size_t ndirs, strata_error *e)
{
	return catalog_load(out, dirs, ndirs, false, NULL, 0, e);
}

int strata_catalog_load_built(strata_catalog *out, const char *const *dirs, size_t ndirs,
                              strata_error *e)
{
	return catalog_load(out, dirs, ndirs, true, NULL, 0, e);
}

int strata_catalog_load_all(strata_catalog *out, const char *const *dirs, size_t ndirs, bool built,
                            strata_migration **extra, size_t nextra, strata_error *e)
{
	return catalog_load(out, dirs, ndirs, built, extra, nextra, e);
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
	free(c->from_manifest);
	c->items = NULL;
	c->from_manifest = NULL;
	c->n = c->ndirs = 0;
}
