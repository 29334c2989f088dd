/* catalog_walk.c: one directory's migrations read one at a time, in version order
 * (strata_catalog_walk, catalog.h): lint, build and the summary of unbuilt sources hold the
 * files' names and one migration, not the catalog. */
#include "core/catalog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/sort.h"

/* A migration file: its name (at `at` in the walk's names) and where its version and name are
 * in it (a file name is at most 255 bytes: NAME_MAX). 12 bytes a file. */
struct walk_file {
	uint32_t at;
	uint8_t v_off, v_len, n_off, n_len, rank;
};

struct strata_catalog_walk {
	char *dir;
	strata_buf names; /* the migration files' names, one after the other, NUL-terminated */
	struct walk_file *order; /* in version order, a migration's files together */
	size_t n, cap, next;
	char *bad; /* the first ill-named file in strata_fs_list's order */
	bool oom;
};

/* A version and a name as strata_migration_key_cmp compares them, given as spans. */
static int span_key_cmp(const char *va, size_t vla, const char *na, size_t nla, const char *vb,
                        size_t vlb, const char *nb, size_t nlb)
{
	int c;
	while (vla > 1 && *va == '0')
		va++, vla--;
	while (vlb > 1 && *vb == '0')
		vb++, vlb--;
	if (vla != vlb)
		return vla < vlb ? -1 : 1;
	if ((c = memcmp(va, vb, vla)) != 0)
		return c < 0 ? -1 : 1;
	if ((c = memcmp(na, nb, nla < nlb ? nla : nlb)) != 0)
		return c < 0 ? -1 : 1;
	return nla == nlb ? 0 : nla < nlb ? -1 : 1;
}

static int cmp_walk_keys(const struct walk_file *a, const struct walk_file *b, const char *names)
{
	const char *fa = names + a->at, *fb = names + b->at;
	return span_key_cmp(fa + a->v_off, a->v_len, fa + a->n_off, a->n_len, fb + b->v_off,
	                    b->v_len, fb + b->n_off, b->n_len);
}

/* Version order, a migration's files in file_rank's order, and (duplicates) by file name: the
 * order catalog_load sorts strata_fs_list's listing into. */
static int cmp_walk_files(const void *pa, const void *pb, void *names)
{
	const struct walk_file *a = pa, *b = pb;
	int c = cmp_walk_keys(a, b, names);
	if (c == 0)
		c = a->rank - b->rank;
	return c ? c : strcmp((const char *)names + a->at, (const char *)names + b->at);
}

/* Where version v and name n (as parse_name gives them) are in fname; false if not found. */
static bool key_spans(struct walk_file *f, const char *fname, const char *v, const char *n)
{
	const char *pv = strstr(fname, v), *pn = pv ? strstr(pv + strlen(v), n) : NULL;
	size_t vl = strlen(v), nl = strlen(n);
	if (!pn || (size_t)(pn - fname) > 255 || vl > 255 || nl > 255)
		return false;
	f->v_off = (uint8_t)(pv - fname);
	f->v_len = (uint8_t)vl;
	f->n_off = (uint8_t)(pn - fname);
	f->n_len = (uint8_t)nl;
	return true;
}

static int walk_add(void *ud, const char *fname)
{
	strata_catalog_walk *w = ud;
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind kind;
	struct walk_file f = {0};
	char *v = NULL, *n = NULL;

	if (strata_migration_parse_name(&kind, &v, &n, fname, &ignored) < 0) {
		if (!w->bad || strcmp(fname, w->bad) < 0) {
			free(w->bad);
			if (!(w->bad = strdup(fname)))
				w->oom = true;
		}
	} else if (kind != STRATA_FILE_NONE) {
		if (w->n == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 64;
			struct walk_file *p = realloc(w->order, ncap * sizeof(*p));
			if (p) {
				w->order = p;
				w->cap = ncap;
			}
		}
		f.at = (uint32_t)w->names.len;
		f.rank = (uint8_t)strata_catalog__file_rank(kind);
		if (w->n == w->cap || w->names.len > UINT32_MAX - 256 ||
		    !key_spans(&f, fname, v, n))
			w->oom = true;
		else
			w->order[w->n++] = f;
		strata_buf_put(&w->names, fname, strlen(fname) + 1);
	}
	free(v);
	free(n);
	return w->oom || w->names.failed ? -1 : 0;
}

/* How many files a directory lists, and the bytes of their names. */
struct walk_size {
	size_t files, bytes;
};

static int walk_count(void *ud, const char *fname)
{
	struct walk_size *s = ud;
	s->files++;
	s->bytes += strlen(fname) + 1;
	return 0;
}

int strata_catalog_walk_open(strata_catalog_walk **out, const char *dir, strata_error *e)
{
	strata_catalog_walk *w = calloc(1, sizeof(*w));
	struct walk_size size = {0, 0};
	int error = 0;

	*out = NULL;
	if (!w || !(w->dir = strdup(dir))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	w->names = (strata_buf)STRATA_BUF_INIT;
	/* sized first (a listing of its own): 10,000 names grown step by step would leave the
	 * blocks they outgrew to the allocator, a third more memory */
	if ((error = strata_fs_each(dir, walk_count, &size, e)) < 0)
		goto done;
	if (size.files && ((w->order = malloc(size.files * sizeof(*w->order))) == NULL ||
	                   strata_buf_reserve(&w->names, size.bytes) < 0))
		w->oom = true;
	w->cap = w->order ? size.files : 0;
	if (!w->oom)
		error = strata_fs_each(dir, walk_add, w, e);
	if (error == 0 && w->bad) { /* its error, as catalog_load gives it */
		char *path = strata_fs_join(dir, w->bad);
		strata_file_kind kind;
		error = strata_migration_parse_name(&kind, NULL, NULL, w->bad, e);
		strata_error_at(e, path ? path : w->bad, 0, 0);
		free(path);
	}
	if (w->oom || w->names.failed)
		error = strata_error_set(e, STRATA_ERROR, "out of memory listing '%s'", dir);
	if (error == 0 && w->n)
		strata_sort_r(w->order, w->n, sizeof(*w->order), cmp_walk_files, w->names.ptr);
done:
	if (error < 0)
		strata_catalog_walk_close(w);
	else
		*out = w;
	return error;
}

int strata_catalog_walk_next(strata_catalog_walk *w, strata_migration **out, strata_error *e)
{
	/* the files of one migration are next to each other, with a duplicate's (which merge
	 * refuses as catalog_load does; of more than 8, some are duplicates) */
	strata_migration *items[8] = {0};
	strata_catalog one = {.items = items};
	size_t end = w->next, n;
	int error = 0;

	*out = NULL;
	if (w->next == w->n)
		return 0;
	while (end < w->n && end - w->next < 8 &&
	       cmp_walk_keys(&w->order[end], &w->order[w->next], w->names.ptr) == 0)
		end++;
	n = end - w->next;
	for (size_t i = 0; i < n && error == 0; i++) {
		char *path = strata_fs_join(w->dir, w->names.ptr + w->order[w->next + i].at);
		error = path ? strata_migration_load(&items[i], path, 0, e)
		             : strata_error_set(e, STRATA_ERROR, "out of memory");
		free(path);
		one.n = items[i] ? i + 1 : i;
	}
	if (error == 0)
		error = strata_catalog__merge(&one, e);
	if (error < 0) {
		for (size_t i = 0; i < n; i++)
			strata_migration_free(items[i]);
		return error;
	}
	w->next = end;
	*out = items[0];
	return 1;
}

void strata_catalog_walk_longest(const strata_catalog_walk *w, size_t longest[2])
{
	longest[0] = longest[1] = 0;
	for (size_t i = 0; i < w->n; i++) {
		longest[0] = w->order[i].v_len > longest[0] ? w->order[i].v_len : longest[0];
		longest[1] = w->order[i].n_len > longest[1] ? w->order[i].n_len : longest[1];
	}
}

void strata_catalog_walk_rewind(strata_catalog_walk *w)
{
	w->next = 0;
}

int strata_catalog_walk_check(strata_catalog_walk *w, size_t *count, strata_error *e)
{
	strata_migration *m = NULL;
	size_t n = 0;
	int more;

	while ((more = strata_catalog_walk_next(w, &m, e)) > 0) {
		strata_migration_free(m);
		n++;
	}
	*count = n;
	strata_catalog_walk_rewind(w);
	return more;
}

bool strata_catalog_walk_has(const strata_catalog_walk *w, const char *fname)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind kind;
	struct walk_file key = {0};
	char *v = NULL, *n = NULL;
	size_t lo = 0, hi = w->n;
	bool found = false;

	if (strata_migration_parse_name(&kind, &v, &n, fname, &ignored) == 0 &&
	    kind != STRATA_FILE_NONE && key_spans(&key, fname, v, n)) {
		/* the first file of its version and name, then the few beside it */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const char *fm = w->names.ptr + w->order[mid].at;
			if (span_key_cmp(fm + w->order[mid].v_off, w->order[mid].v_len,
			                 fm + w->order[mid].n_off, w->order[mid].n_len,
			                 fname + key.v_off, key.v_len, fname + key.n_off,
			                 key.n_len) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < w->n && !found; i++) {
			const char *fi = w->names.ptr + w->order[i].at;
			if (span_key_cmp(fi + w->order[i].v_off, w->order[i].v_len,
			                 fi + w->order[i].n_off, w->order[i].n_len,
			                 fname + key.v_off, key.v_len, fname + key.n_off,
			                 key.n_len) != 0)
				break;
			found = strcmp(fi, fname) == 0;
		}
	}
	free(v);
	free(n);
	return found;
}

void strata_catalog_walk_close(strata_catalog_walk *w)
{
	if (!w)
		return;
	strata_buf_free(&w->names);
	free(w->order);
	free(w->bad);
	free(w->dir);
	free(w);
}
