#include "core/catalog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "core/history.h"
#include "core/manifest.h"
#include "util/error.h"
#include "util/fs.h"

/* Where a file of a migration goes among its files: the migration file, then the .down.sql of a
 * pair or Flyway's U file, then Flyway's .conf. */
int strata_catalog__file_rank(strata_file_kind kind)
{
	switch (kind) {
	case STRATA_FILE_DOWN:
	case STRATA_FILE_FLYWAY_UNDO:
		return 1;
	case STRATA_FILE_FLYWAY_CONF:
		return 2;
	default:
		return 0;
	}
}

static int kind_rank(const strata_migration *m)
{
	return strata_catalog__file_rank(m->kind);
}

static int cmp_migrations(const void *pa, const void *pb)
{
	const strata_migration *a = *(strata_migration *const *)pa;
	const strata_migration *b = *(strata_migration *const *)pb;
	int c = strata_migration_key_cmp(a->version, a->name, b->version, b->name);
	if (c)
		return c;
	/* earlier directories first; keep a pair's up half before its down half, and Flyway's V
	 * file before its U file and its .conf */
	if (a->dir_index != b->dir_index)
		return a->dir_index < b->dir_index ? -1 : 1;
	return kind_rank(a) - kind_rank(b);
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
	const char **listed = calloc(mf->n * 3 + 1, sizeof(*listed));
	char **names = NULL;
	size_t n = 0, nl = 0, found = 0;
	strata_error ignored = STRATA_ERROR_INIT;
	bool ok = listed && strata_fs_list(&names, &n, dir, &ignored) == 0;

	for (size_t i = 0; ok && i < mf->n; i++) {
		listed[nl++] = mf->items[i].file;
		if (mf->items[i].down_file)
			listed[nl++] = mf->items[i].down_file;
		if (mf->items[i].conf_file)
			listed[nl++] = mf->items[i].conf_file;
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

/* Whether the manifest's file `file` is the half or config `want` of migration m (named as m). */
static bool listed_part(const strata_migration *m, const char *file, strata_file_kind want)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind kind;
	char *v = NULL, *n = NULL;
	bool ok = strata_migration_parse_name(&kind, &v, &n, file, &ignored) == 0 && kind == want &&
	          strata_migration_key_cmp(v, n, m->version, m->name) == 0;
	free(v);
	free(n);
	return ok;
}

/* Fills m (names, paths) from a manifest entry. 1 when the entry is not what build writes. */
static int listed_entry(strata_migration *m, const char *dir, const strata_manifest_entry *ent,
                        strata_error *e)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind down = STRATA_FILE_NONE;

	if (strata_migration_parse_name(&m->kind, &m->version, &m->name, ent->file, &ignored) < 0)
		return 1;
	if (m->kind == STRATA_FILE_UP)
		down = STRATA_FILE_DOWN;
	else if (m->kind == STRATA_FILE_FLYWAY_UP)
		down = STRATA_FILE_FLYWAY_UNDO;
	else if (m->kind != STRATA_FILE_SINGLE || ent->down_file)
		return 1;
	if ((ent->down_file && !listed_part(m, ent->down_file, down)) ||
	    (ent->conf_file && (m->kind != STRATA_FILE_FLYWAY_UP ||
	                        !listed_part(m, ent->conf_file, STRATA_FILE_FLYWAY_CONF))))
		return 1;
	m->path = strata_fs_join(dir, ent->file);
	m->down_path = ent->down_file ? strata_fs_join(dir, ent->down_file) : NULL;
	m->conf_path = ent->conf_file ? strata_fs_join(dir, ent->conf_file) : NULL;
	if (!m->path || (ent->down_file && !m->down_path) || (ent->conf_file && !m->conf_path))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
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
		strata_migration *m = calloc(1, sizeof(*m));
		if (!m) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			break;
		}
		error = listed_entry(m, dir, ent, e);
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

/* Whether m (after prev, with the same version and name) is a part to fold into prev: the
 * .down.sql of prev's .up.sql, or the U file or .conf of prev's Flyway V file. */
static bool folds_into(const strata_migration *prev, const strata_migration *m)
{
	if (prev->dir_index != m->dir_index)
		return false;
	switch (m->kind) {
	case STRATA_FILE_DOWN:
		return prev->kind == STRATA_FILE_UP && !prev->down_path;
	case STRATA_FILE_FLYWAY_UNDO:
		return prev->kind == STRATA_FILE_FLYWAY_UP && !prev->down_path && !prev->conf_path;
	case STRATA_FILE_FLYWAY_CONF:
		return prev->kind == STRATA_FILE_FLYWAY_UP && !prev->conf_path;
	default:
		return false;
	}
}

/* The error for a part whose migration is missing: a .down.sql, a U file or a .conf alone. */
static int orphan(const strata_migration *m, strata_error *e)
{
	strata_error_at(e, m->path, 1, 1);
	if (m->kind == STRATA_FILE_DOWN) {
		strata_error_hint(e, "add %s_%s.up.sql beside it", m->version, m->name);
		return strata_error_set(e, STRATA_EINVALID,
		                        "down migration has no matching .up.sql file");
	}
	strata_error_hint(e, "add V%s__%s.sql beside it, or remove it", m->version, m->name);
	return strata_error_set(e, STRATA_EINVALID,
	                        m->kind == STRATA_FILE_FLYWAY_UNDO
	                            ? "Flyway undo migration has no matching V%s__%s.sql file"
	                            : "Flyway script config has no matching V%s__%s.sql file",
	                        m->version, m->name);
}

/* After sorting: folds golang-migrate halves and Flyway's files together and rejects
 * duplicates. */
int strata_catalog__merge(strata_catalog *c, strata_error *e)
{
	size_t w = 0;
	for (size_t r = 0; r < c->n; r++) {
		strata_migration *m = c->items[r];
		strata_migration *prev = w ? c->items[w - 1] : NULL;
		int same = prev && strata_migration_key_cmp(prev->version, prev->name, m->version,
		                                            m->name) == 0;
		if (same && m->loaded && folds_into(prev, m)) {
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
		if (!m->up.present)
			return orphan(m, e);
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
		error = strata_catalog__merge(out, e);
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

/* An empty catalog of some of one built directory's migrations, listed from its manifest. */
static int partial_init(strata_catalog *out, strata_error *e)
{
	memset(out, 0, sizeof(*out));
	if (!(out->from_manifest = calloc(2, sizeof(*out->from_manifest))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	out->ndirs = 1;
	out->from_manifest[0] = true;
	out->partial = true;
	return 0;
}

/* Which manifest entries a streamed load keeps: 1 keep, 0 skip, 2 stop (the load answers 1). */
typedef int (*keep_fn)(void *ud, const char *version, const char *name, const char *sha256);

int strata_catalog_entry(strata_migration **out, const char *dir, const strata_manifest_entry *ent,
                         strata_error *e)
{
	strata_migration *m = calloc(1, sizeof(*m));
	int error;

	*out = NULL;
	if (!m)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (!ent->sha256 || strlen(ent->sha256) != sizeof(m->checksum) - 1)
		error = 1;
	else
		error = listed_entry(m, dir, ent, e);
	if (error != 0) {
		strata_migration_free(m);
		return error;
	}
	memcpy(m->checksum, ent->sha256, sizeof(m->checksum));
	m->up.present = true;
	*out = m;
	return 0;
}

/* The manifest's entry ent into c when keep says so; 1 when the entry is not what build writes
 * or keep says stop. */
static int push_kept(strata_catalog *c, size_t *cap, const char *dir,
                     const strata_manifest_entry *ent, keep_fn keep, void *ud, strata_error *e)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind kind;
	char *v = NULL, *n = NULL;
	strata_migration *m;
	int want, error;

	if (strata_migration_parse_name(&kind, &v, &n, ent->file, &ignored) < 0)
		return 1;
	want = keep(ud, v, n, ent->sha256);
	free(v);
	free(n);
	if (want != 1)
		return want == 0 ? 0 : 1;
	if ((error = strata_catalog_entry(&m, dir, ent, e)) != 0)
		return error;
	return push(c, cap, m, e);
}

/* The entries of dir's manifest that keep keeps, read entry by entry (directory 0 of one). */
static int load_streamed(strata_catalog *out, const char *dir, keep_fn keep, void *ud,
                         strata_error *e)
{
	strata_manifest_stream *ms = NULL;
	const strata_manifest_entry *ent;
	strata_error ignored = STRATA_ERROR_INIT;
	size_t cap = 0, longest[2];
	int error;

	if ((error = partial_init(out, e)) < 0)
		return error;
	/* an unreadable manifest: the full read says what is wrong with it */
	error = strata_manifest_stream_open(&ms, dir, STRATA_MANIFEST_SHA256, longest, &ignored) < 0
	            ? 1
	            : 0;
	while (error == 0) {
		int found = strata_manifest_stream_next(ms, &ent, &ignored);
		if (found <= 0) {
			error = found < 0 ? 1 : 0;
			break;
		}
		error = push_kept(out, &cap, dir, ent, keep, ud, e);
	}
	strata_manifest_stream_close(ms);
	if (error == 0 && !is_sorted(out))
		qsort(out->items, out->n, sizeof(*out->items), cmp_migrations);
	if (error == 0)
		error = strata_catalog__merge(out, e);
	if (error != 0)
		strata_catalog_free(out);
	return error;
}

static int keep_applied(void *ud, const char *version, const char *name, const char *sha256)
{
	(void)sha256;
	return strata_history_find(ud, version, name) != NULL;
}

int strata_catalog_load_listed(strata_catalog *out, const char *dir, const strata_history *h,
                               strata_error *e)
{
	return load_streamed(out, dir, keep_applied, (void *)h, e);
}

/* ---- the migrations after a prefix, batch by batch ------------------------------------------ */

struct strata_catalog_batches {
	strata_manifest_stream *ms;
	char *dir;
	strata_history_summary applied;
	char *last; /* the key of the entry before ("version\0name"), for the order */
};

/* Reads the manifest's first applied.rows entries, checking (`check`) that they are the ones the
 * history's summary is made of. 1 when they are not (or the manifest is not as build writes
 * it). */
static int skip_prefix(strata_catalog_batches *b, bool check)
{
	strata_history_summary seen = {0};
	strata_error ignored = STRATA_ERROR_INIT;
	while (seen.rows < b->applied.rows) {
		const strata_manifest_entry *ent;
		strata_file_kind kind;
		char *v = NULL, *n = NULL;
		uint64_t h = 0;
		int ok;
		if (strata_manifest_stream_next(b->ms, &ent, &ignored) <= 0)
			return 1;
		if (!check) {
			seen.rows++;
			continue;
		}
		if (strata_migration_parse_name(&kind, &v, &n, ent->file, &ignored) < 0)
			return 1;
		ok = strata_history_row_hash(&h, v, n, ent->sha256) == 0;
		free(v);
		free(n);
		if (!ok)
			return 1;
		seen.rows++;
		seen.digest ^= h;
	}
	free(b->last);
	b->last = NULL;
	return !check || seen.digest == b->applied.digest ? 0 : 1;
}

int strata_catalog_batches_open(strata_catalog_batches **out, const char *dir,
                                const strata_history_summary *applied, strata_error *e)
{
	strata_catalog_batches *b = calloc(1, sizeof(*b));
	strata_error ignored = STRATA_ERROR_INIT;
	size_t longest[2];
	int error;

	*out = NULL;
	if (!b || !(b->dir = strdup(dir))) {
		free(b);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	b->applied = *applied;
	/* an unreadable manifest: the full read says what is wrong with it */
	error =
	    strata_manifest_stream_open(&b->ms, dir, STRATA_MANIFEST_SHA256, longest, &ignored) < 0
	        ? 1
	        : skip_prefix(b, true);
	if (error)
		strata_catalog_batches_close(b);
	else
		*out = b;
	return error;
}

/* Whether entry v-n comes after the one before, as build writes them; remembers it. */
static bool in_order(strata_catalog_batches *b, const char *v, const char *n)
{
	size_t lv = strlen(v), ln = strlen(n);
	char *key;
	if (b->last && strata_migration_key_cmp(b->last, b->last + strlen(b->last) + 1, v, n) >= 0)
		return false;
	if (!(key = malloc(lv + ln + 2)))
		return false;
	memcpy(key, v, lv + 1);
	memcpy(key + lv + 1, n, ln + 1);
	free(b->last);
	b->last = key;
	return true;
}

static int keep_ordered(void *ud, const char *version, const char *name, const char *sha256)
{
	(void)sha256;
	return in_order(ud, version, name) ? 1 : 2;
}

int strata_catalog_batches_next(strata_catalog_batches *b, strata_catalog *out, size_t max,
                                strata_error *e)
{
	const strata_manifest_entry *ent;
	strata_error ignored = STRATA_ERROR_INIT;
	size_t cap = 0;
	int error = 0;

	if ((error = partial_init(out, e)) < 0)
		return error;
	while (error == 0 && out->n < max) {
		int found = strata_manifest_stream_next(b->ms, &ent, &ignored);
		if (found == 0)
			break;
		error = found < 0 ? 1 : push_kept(out, &cap, b->dir, ent, keep_ordered, b, e);
	}
	if (error > 0) {
		strata_error_at(e, strata_manifest_stream_path(b->ms), 0, 0);
		strata_error_hint(e, "run strata_build() to write it again");
		error = strata_error_set(e, STRATA_EINVALID, "the build manifest is unreadable");
	}
	if (error == 0)
		error = strata_catalog__merge(out, e);
	if (error < 0)
		strata_catalog_free(out);
	return error;
}

int strata_catalog_batches_rewind(strata_catalog_batches *b, strata_error *e)
{
	/* the same file as checked (the rewind makes sure): the prefix is only counted */
	int error = strata_manifest_stream_rewind(b->ms, e);
	if (error == 0 && skip_prefix(b, false) != 0) {
		strata_error_at(e, strata_manifest_stream_path(b->ms), 0, 0);
		strata_error_hint(e, "run again once the build is done");
		error = strata_error_set(e, STRATA_EINVALID,
		                         "the build manifest changed while it was read");
	}
	return error;
}

void strata_catalog_batches_close(strata_catalog_batches *b)
{
	if (!b)
		return;
	strata_manifest_stream_close(b->ms);
	free(b->dir);
	free(b->last);
	free(b);
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
	c->partial = false;
}
