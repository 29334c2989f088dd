#include "core/integrity.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "core/build.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char *json_str(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? v->u.string : NULL;
}

struct manifest_ent {
	const char *file, *sha256;
};

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct manifest_ent *)a)->file,
	              ((const struct manifest_ent *)b)->file);
}

/* The manifest's entries sorted by file name, for a binary search per migration (a linear one
 * made a 10,000-migration check quadratic). Caller frees. */
static struct manifest_ent *manifest_index(yajl_val list, size_t *n_out)
{
	struct manifest_ent *ents = calloc(list->u.array.len + 1, sizeof(*ents));
	size_t n = 0;
	if (!ents)
		return NULL;
	for (size_t i = 0; i < list->u.array.len; i++) {
		const char *f = json_str(list->u.array.values[i], "file");
		if (f) {
			ents[n].file = f;
			ents[n++].sha256 = json_str(list->u.array.values[i], "sha256");
		}
	}
	qsort(ents, n, sizeof(*ents), cmp_ent);
	*n_out = n;
	return ents;
}

static int verify_one_manifest(const strata_catalog *c, const char *dir, size_t dir_index,
                               strata_error *e)
{
	static const char *const list_path[] = {"migrations", NULL};
	char *path = strata_fs_join(dir, STRATA_MANIFEST), *text = NULL, errbuf[256];
	yajl_val root = NULL, list;
	struct manifest_ent *ents = NULL;
	size_t listed = 0, present = 0, nents = 0;
	int error = 0;

	if (!path)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (access(path, F_OK) != 0)
		goto done; /* not a built directory: nothing to check against */
	if ((error = strata_fs_read(&text, NULL, path, e)) < 0)
		goto done;
	root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	list = root ? yajl_tree_get(root, (const char **)list_path, yajl_t_array) : NULL;
	if (!list) {
		strata_error_at(e, path, 0, 0);
		strata_error_hint(e, "run 'strata build' to write it again");
		error = strata_error_set(e, STRATA_EINVALID, "the build manifest is unreadable");
		goto done;
	}
	listed = list->u.array.len;
	if (!(ents = manifest_index(list, &nents))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < c->n; i++) {
		const strata_migration *m = c->items[i];
		struct manifest_ent key = {0}, *ent;
		const char *sum;
		if (m->dir_index != dir_index)
			continue;
		present++;
		key.file = base_name(m->path);
		ent = bsearch(&key, ents, nents, sizeof(*ents), cmp_ent);
		sum = ent ? ent->sha256 : NULL;
		strata_error_at(e, m->path, 0, 0);
		if (!sum) {
			strata_error_hint(e,
			                  "build migrations with 'strata build' instead of writing "
			                  "them into %s by hand",
			                  dir);
			error =
			    strata_error_set(e, STRATA_EINVALID, "migration is not in %s", path);
			goto done;
		}
		if (strcmp(sum, m->checksum) != 0) {
			strata_error_detail(e, "manifest sha256 %.12s…, file sha256 %.12s…", sum,
			                    m->checksum);
			strata_error_hint(e, "edit migrations in the src directory and run 'strata "
			                     "build', never the built copy");
			error = strata_error_set(e, STRATA_EINVALID,
			                         "migration does not match the build manifest");
			goto done;
		}
	}
	strata_error_at(e, "", 0, 0);
	if (present < listed) {
		for (size_t k = 0; k < listed; k++) {
			const char *f = json_str(list->u.array.values[k], "file");
			char *fp = f ? strata_fs_join(dir, f) : NULL;
			int missing = fp && access(fp, F_OK) != 0;
			if (missing) {
				strata_error_at(e, fp, 0, 0);
				strata_error_hint(e, "run 'strata build' again");
				error =
				    strata_error_set(e, STRATA_ENOTFOUND,
				                     "migration listed in the build manifest is "
				                     "missing");
			}
			free(fp);
			if (missing)
				goto done;
		}
	}
done:
	free(ents);
	yajl_tree_free(root);
	free(text);
	free(path);
	return error;
}

int strata_verify_manifests(const strata_catalog *c, const char *const *dirs, size_t ndirs,
                            strata_error *e)
{
	int error = 0;
	for (size_t d = 0; d < ndirs && error == 0; d++)
		error = verify_one_manifest(c, dirs[d], d, e);
	return error;
}

static bool newer(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
	       (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec > b->st_mtim.tv_nsec);
}

/* The common case, cheaply: src holds exactly the migration files dist was built from, and none
 * of them changed after the build wrote its manifest. Only stats files; a false answer sends the
 * caller to the full comparison (read and hash src). */
static bool build_is_fresh(const strata_catalog *dist, const char *src_dir, const char *dist_dir)
{
	char *mpath = strata_fs_join(dist_dir, STRATA_MANIFEST), **names = NULL;
	const char **built = NULL;
	size_t n = 0, nb = 0, k = 0;
	struct stat mst;
	strata_error ignored = STRATA_ERROR_INIT;
	bool fresh = false;

	if (!mpath || stat(mpath, &mst) != 0 || strata_fs_list(&names, &n, src_dir, &ignored) < 0)
		goto done;
	built = calloc(dist->n * 2 + 1, sizeof(*built));
	if (!built)
		goto done;
	/* (a built file edited by hand is the manifest check's to find) */
	for (size_t i = 0; i < dist->n; i++) {
		built[nb++] = base_name(dist->items[i]->path);
		if (dist->items[i]->down_path)
			built[nb++] = base_name(dist->items[i]->down_path);
	}
	qsort(built, nb, sizeof(*built), cmp_cstr);
	for (size_t i = 0; i < n; i++) {
		strata_file_kind kind;
		char *v = NULL, *nm = NULL, *path;
		struct stat st;
		bool same;
		strata_migration_parse_name(&kind, &v, &nm, names[i], &ignored);
		free(v);
		free(nm);
		if (kind == STRATA_FILE_NONE)
			continue;
		if (k == nb || strcmp(built[k], names[i]) != 0)
			goto done; /* added in src (or removed: the lists part ways) */
		k++;
		path = strata_fs_join(src_dir, names[i]);
		/* a source written in the build's last clock tick may be newer: not fresh */
		same = path && stat(path, &st) == 0 && newer(&mst, &st);
		free(path);
		if (!same)
			goto done;
	}
	fresh = k == nb;
done:
	strata_fs_names_free(names);
	free(built);
	free(mpath);
	return fresh;
}

int strata_verify_build(const strata_catalog *dist, const char *src_dir, const char *dist_dir,
                        strata_error *e)
{
	strata_catalog src = {0};
	size_t i = 0, j = 0;
	int error;

	if (!strata_fs_is_dir(src_dir))
		return 0; /* a deployed dist without its sources */
	if (build_is_fresh(dist, src_dir, dist_dir))
		return 0;
	if ((error = strata_catalog_load(&src, &src_dir, 1, e)) < 0) {
		strata_error_hint(e, "fix the source, then run 'strata build'");
		return error;
	}
	while (error == 0 && (i < src.n || j < dist->n)) {
		const strata_migration *s = i < src.n ? src.items[i] : NULL;
		const strata_migration *d = j < dist->n ? dist->items[j] : NULL;
		int cmp = !s   ? 1
		          : !d ? -1
		               : strata_migration_key_cmp(s->version, s->name, d->version, d->name);
		if (cmp < 0) {
			strata_error_at(e, s->path, 0, 0);
			strata_error_hint(e, "run 'strata build' to update %s", dist_dir);
			error = strata_error_set(e, STRATA_EINVALID, "migration is not built yet");
		} else if (cmp > 0) {
			strata_error_at(e, d->path, 0, 0);
			strata_error_hint(e,
			                  "run 'strata build' to update %s (it removes what src "
			                  "no longer has)",
			                  dist_dir);
			error = strata_error_set(e, STRATA_EINVALID,
			                         "built migration is no longer in %s", src_dir);
		} else if (strcmp(s->checksum, d->checksum) != 0) {
			strata_error_at(e, s->path, 0, 0);
			strata_error_hint(e, "run 'strata build' to update %s", dist_dir);
			error = strata_error_set(e, STRATA_EINVALID,
			                         "migration changed since the last build");
		}
		i += cmp <= 0;
		j += cmp >= 0;
	}
	strata_catalog_free(&src);
	return error;
}

int strata_verify_applied(const strata_catalog *c, const strata_history *h, strata_error *e)
{
	const strata_migration *first = NULL;
	const strata_applied *first_a = NULL;
	strata_buf others = STRATA_BUF_INIT;
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++) {
		const strata_applied *a = &h->items[i];
		const strata_migration *m;
		if (a->status != STRATA_APPLIED_OK || !a->checksum[0])
			continue;
		m = strata_catalog_find(c, a->version, a->name);
		if (!m || strcmp(m->checksum, a->checksum) == 0)
			continue;
		if (!first) {
			first = m;
			first_a = a;
		} else {
			strata_buf_printf(&others, "%s%s", others.len ? ", " : "", m->path);
		}
		n++;
	}
	if (!first)
		return 0;
	strata_error_at(e, first->path, 0, 0);
	strata_error_detail(e, "applied %s with sha256 %.12s…, the file now has %.12s…%s%s",
	                    first_a->applied_at, first_a->checksum, first->checksum,
	                    n > 1 ? "; changed too: " : "", strata_buf_cstr(&others));
	strata_buf_free(&others);
	strata_error_hint(e, "restore the file as it was applied and put the change in a new "
	                     "migration; --ignore-checksums skips this check");
	return strata_error_set(e, STRATA_EINVALID,
	                        "applied migration %s-%s was changed after it was applied%s",
	                        first->version, first->name, n > 1 ? " (and others)" : "");
}

int strata_verify_finished(const strata_catalog *c, const strata_history *h, strata_error *e)
{
	const strata_applied *u = strata_history_unfinished(h);
	const strata_migration *m;
	if (!u)
		return 0;
	m = strata_catalog_find(c, u->version, u->name);
	if (m)
		strata_error_at(e, m->path, 0, 0);
	strata_error_detail(e, "it is transaction:false and stopped before statement %d",
	                    u->progress + 1);
	strata_error_hint(e, "fix the file and run 'strata migrations repair' to resume from that "
	                     "statement, or fix the database by hand and run 'strata migrations "
	                     "repair --mark-applied'");
	return strata_error_set(e, STRATA_EINVALID, "migration %s-%s is %s", u->version, u->name,
	                        strata_applied_status_name(u->status));
}

int strata_verify_all(const strata_catalog *c, const strata_history *h, const strata_plan *plan,
                      const strata_verify_opts *o, bool all, strata_verify_cb report, void *ud)
{
	int problems = 0;
	for (int k = 0; k < 5 && (all || problems == 0); k++) {
		strata_error e = STRATA_ERROR_INIT;
		int bad = 0;
		switch (k) {
		case 0:
			bad = strata_verify_finished(c, h, &e) < 0;
			break;
		case 1:
			bad = !o->skip_checksums &&
			      strata_verify_manifests(c, o->dirs, o->ndirs, &e) < 0;
			break;
		case 2:
			bad = !o->skip_checksums && o->dist_dir &&
			      strata_verify_build(c, o->src_dir, o->dist_dir, &e) < 0;
			break;
		case 3:
			bad = !o->skip_checksums && strata_verify_applied(c, h, &e) < 0;
			break;
		case 4:
			bad = plan && !o->allow_out_of_order &&
			      strata_plan_check_order(plan, h, &e) < 0;
			break;
		}
		if (bad) {
			report(ud, &e);
			problems++;
		}
	}
	return problems;
}
