#include "core/integrity.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/manifest.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

static int verify_one_manifest(const strata_catalog *c, const char *dir, size_t dir_index,
                               strata_error *e)
{
	strata_manifest mf;
	size_t present = 0;
	int error;

	if (dir_index < c->ndirs && c->from_manifest[dir_index])
		return 0; /* listed from this very manifest; each file is checked when it is read */
	if ((error = strata_manifest_read(&mf, dir, e)) <= 0)
		return error; /* 0: not a built directory, nothing to check against */
	for (size_t i = 0; i < c->n; i++) {
		const strata_migration *m = c->items[i];
		const strata_manifest_entry *ent;
		if (m->dir_index != dir_index)
			continue;
		present++;
		ent = strata_manifest_find(&mf, strata_fs_base_name(m->path));
		strata_error_at(e, m->path, 0, 0);
		if (!ent) {
			strata_error_hint(e,
			                  "build migrations with strata_build() instead of writing "
			                  "them into %s by hand",
			                  dir);
			error = strata_error_set(e, STRATA_EINVALID, "migration is not in %s/%s",
			                         dir, STRATA_MANIFEST);
			goto done;
		}
		if (strcmp(ent->sha256, m->checksum) != 0) {
			error = strata_migration_mismatch(e, m->path, ent->sha256, m->checksum);
			goto done;
		}
	}
	strata_error_at(e, "", 0, 0);
	for (size_t k = 0; present < mf.n && k < mf.n; k++) {
		char *fp = strata_fs_join(dir, mf.items[k].file);
		bool missing = fp && access(fp, F_OK) != 0;
		if (missing) {
			strata_error_at(e, fp, 0, 0);
			strata_error_hint(e, "run strata_build() again");
			error =
			    strata_error_set(e, STRATA_ENOTFOUND,
			                     "migration listed in the build manifest is missing");
		}
		free(fp);
		if (missing)
			break;
	}
done:
	strata_manifest_free(&mf);
	return error < 0 ? error : 0;
}

int strata_verify_manifests(const strata_catalog *c, const char *const *dirs, size_t ndirs,
                            strata_error *e)
{
	int error = 0;
	for (size_t d = 0; d < ndirs && error == 0; d++)
		error = verify_one_manifest(c, dirs[d], d, e);
	return error;
}

/* Whether src_dir's copy of the built file `built` is older than the manifest (stat st). */
static bool src_older(const char *src_dir, const char *built, const struct timespec *mtime)
{
	char *path = strata_fs_join(src_dir, strata_fs_base_name(built));
	struct stat st;
	bool older = path && stat(path, &st) == 0 && strata_timespec_after(mtime, &st.st_mtim);
	free(path);
	return older;
}

bool strata_src_older(const char *src_dir, const strata_migration *m, const struct timespec *mtime)
{
	return src_older(src_dir, m->path, mtime) &&
	       (!m->down_path || src_older(src_dir, m->down_path, mtime)) &&
	       (!m->conf_path || src_older(src_dir, m->conf_path, mtime));
}

/* The common case, cheaply: src holds exactly the migration files dist was built from, and none
 * of them changed after the build wrote its manifest. Only stats files; a false answer sends the
 * caller to the full comparison (read and hash src). */
static bool build_is_fresh(const strata_catalog *dist, size_t idx, const char *src_dir,
                           const char *dist_dir)
{
	char *mpath = strata_fs_join(dist_dir, STRATA_MANIFEST), **names = NULL;
	const char **built = NULL;
	size_t n = 0, nb = 0, k = 0;
	struct stat mst, st;
	strata_error ignored = STRATA_ERROR_INIT;
	bool fresh = false;

	if (!mpath || stat(mpath, &mst) != 0)
		goto done;
	if (idx < dist->ndirs && dist->from_manifest[idx] && stat(src_dir, &st) == 0 &&
	    strata_timespec_after(&mst.st_mtim, &st.st_mtim)) {
		/* no file was added to src, removed or renamed since the build: only what this run
		 * reads (what it executes) is checked for edits in place */
		fresh = true;
		for (size_t i = 0; i < dist->n && fresh; i++) {
			const strata_migration *m = dist->items[i];
			fresh = m->dir_index != idx || !m->loaded ||
			        strata_src_older(src_dir, m, &mst.st_mtim);
		}
		goto done;
	}
	if (strata_fs_list(&names, &n, src_dir, &ignored) < 0)
		goto done;
	built = calloc(dist->n * 3 + 1, sizeof(*built));
	if (!built)
		goto done;
	/* (a built file edited by hand is the manifest check's to find) */
	for (size_t i = 0; i < dist->n; i++) {
		if (dist->items[i]->dir_index != idx)
			continue;
		built[nb++] = strata_fs_base_name(dist->items[i]->path);
		if (dist->items[i]->down_path)
			built[nb++] = strata_fs_base_name(dist->items[i]->down_path);
		if (dist->items[i]->conf_path)
			built[nb++] = strata_fs_base_name(dist->items[i]->conf_path);
	}
	qsort(built, nb, sizeof(*built), strata_fs_names_cmp);
	for (size_t i = 0; i < n; i++) {
		strata_file_kind kind;
		char *path;
		bool same;
		strata_migration_parse_name(&kind, NULL, NULL, names[i], &ignored);
		if (kind == STRATA_FILE_NONE)
			continue;
		if (k == nb || strcmp(built[k], names[i]) != 0)
			goto done; /* added in src (or removed: the lists part ways) */
		k++;
		path = strata_fs_join(src_dir, names[i]);
		/* a source written in the build's last clock tick may be newer: not fresh */
		same = path && stat(path, &st) == 0 &&
		       strata_timespec_after(&mst.st_mtim, &st.st_mtim);
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

bool strata_build_summary(const char *src_dir, const char *dist_dir, strata_history_summary *out)
{
	struct timespec mt;
	struct stat st;
	if (!strata_manifest_read_summary(dist_dir, out, &mt))
		return false;
	/* strictly newer: a file added to dist in the manifest's own clock tick leaves them equal
	 */
	if (stat(dist_dir, &st) != 0 || !strata_timespec_after(&mt, &st.st_mtim))
		return false;
	/* strictly older: a source written in the build's last clock tick may be newer */
	return !src_dir || stat(src_dir, &st) != 0 || strata_timespec_after(&mt, &st.st_mtim);
}

int strata_verify_build(const strata_catalog *dist, size_t idx, const char *src_dir,
                        const char *dist_dir, strata_error *e)
{
	strata_catalog src = {0};
	size_t i = 0, j = 0;
	int error;

	if (!strata_fs_is_dir(src_dir))
		return 0; /* a deployed dist without its sources */
	if (build_is_fresh(dist, idx, src_dir, dist_dir))
		return 0;
	/* a catalog of some of the build only (a run in batches) cannot be compared with all the
	 * sources: refused, the run reads the whole build, which can */
	if (dist->partial) {
		strata_error_at(e, src_dir, 0, 0);
		return strata_error_set(e, STRATA_EINVALID,
		                        "a source changed since the last build");
	}
	if ((error = strata_catalog_load(&src, &src_dir, 1, e)) < 0) {
		strata_error_hint(e, "fix the source, then run strata_build()");
		return error;
	}
	while (j < dist->n && dist->items[j]->dir_index != idx)
		j++;
	while (error == 0 && (i < src.n || j < dist->n)) {
		const strata_migration *s = i < src.n ? src.items[i] : NULL;
		const strata_migration *d = j < dist->n ? dist->items[j] : NULL;
		int cmp = !s   ? 1
		          : !d ? -1
		               : strata_migration_key_cmp(s->version, s->name, d->version, d->name);
		if (cmp < 0) {
			strata_error_at(e, s->path, 0, 0);
			strata_error_hint(e, "run strata_build() to update %s", dist_dir);
			error = strata_error_set(e, STRATA_EINVALID, "migration is not built yet");
		} else if (cmp > 0) {
			strata_error_at(e, d->path, 0, 0);
			strata_error_hint(e,
			                  "run strata_build() to update %s (it removes what src "
			                  "no longer has)",
			                  dist_dir);
			error = strata_error_set(e, STRATA_EINVALID,
			                         "built migration is no longer in %s", src_dir);
		} else if (strcmp(s->checksum, d->checksum) != 0) {
			strata_error_at(e, s->path, 0, 0);
			strata_error_hint(e, "run strata_build() to update %s", dist_dir);
			error = strata_error_set(e, STRATA_EINVALID,
			                         "migration changed since the last build");
		}
		i += cmp <= 0;
		if (cmp >= 0)
			for (j++; j < dist->n && dist->items[j]->dir_index != idx; j++)
				;
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

	/* both lists are in (version, name) order: one merge walk */
	for (size_t i = 0, j = 0; i < h->n; i++) {
		const strata_applied *a = &h->items[i];
		const strata_migration *m = NULL;
		int cmp = -1;
		while (j < c->n &&
		       (cmp = strata_migration_key_cmp(c->items[j]->version, c->items[j]->name,
		                                       a->version, a->name)) < 0)
			j++;
		if (j < c->n && cmp == 0)
			m = c->items[j];
		if (a->status != STRATA_APPLIED_OK || !a->checksum[0])
			continue;
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
	strata_error_detail(e, "applied %s%swith sha256 %.12s…, the file now has %.12s…%s%s",
	                    first_a->applied_at, first_a->applied_at[0] ? " " : "",
	                    first_a->checksum, first->checksum, n > 1 ? "; changed too: " : "",
	                    strata_buf_cstr(&others));
	strata_buf_free(&others);
	strata_error_hint(e,
	                  "restore the file as it was applied and put the change in a new "
	                  "migration; if the edit is deliberate, record it with strata_accept() "
	                  "for '%s-%s'; ignore_checksums skips this check",
	                  first->version, first->name);
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
	strata_error_hint(e, "fix the file and run strata_repair() to resume from that statement, "
	                     "or fix the database by hand and run strata_repair() with "
	                     "mark_applied");
	return strata_error_set(e, STRATA_EINVALID, "migration %s-%s is %s", u->version, u->name,
	                        strata_applied_status_name(u->status));
}

/* The freshness of every build the options name: the first stale one fails. */
static int verify_builds(const strata_catalog *c, const strata_verify_opts *o, strata_error *e)
{
	int error = 0;
	if (!o->src_dirs)
		return o->dist_dir
		           ? strata_verify_build(c, o->dist_index, o->src_dir, o->dist_dir, e)
		           : 0;
	for (size_t i = 0; i < o->ndirs && error == 0; i++)
		if (o->src_dirs[i])
			error = strata_verify_build(c, i, o->src_dirs[i], o->dirs[i], e);
	return error;
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
			bad = !o->skip_checksums && verify_builds(c, o, &e) < 0;
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
