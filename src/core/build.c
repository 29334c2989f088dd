#include "core/build.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/manifest.h"
#include "util/error.h"
#include "util/fs.h"

/* Writes text, the build's copy of path, into out_dir under a temporary name (util/fs.h's
 * atomic writer), not yet in place; *staged says whether it did: an unchanged file is left
 * alone, so rebuilding a large history writes only what changed. */
static int stage_file(const char *out_dir, const char *path, const char *text, bool *staged,
                      strata_error *e)
{
	char *dst = strata_fs_join(out_dir, strata_fs_base_name(path)), *old = NULL;
	size_t len = strlen(text), old_len = 0;
	strata_error ignored = STRATA_ERROR_INIT;
	strata_fs_atomic w;
	int error = 0;
	*staged = false;
	if (!dst)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (strata_fs_read(&old, &old_len, dst, &ignored) < 0 || old_len != len ||
	    memcmp(old, text, len) != 0) {
		if ((error = strata_fs_atomic_open(&w, dst, e)) == 0 &&
		    (error = strata_fs_atomic_write(&w, text, len, e)) == 0)
			error = strata_fs_atomic_close(&w, 0, e);
		if (error < 0)
			strata_fs_atomic_abort(&w);
		*staged = error == 0;
	}
	free(old);
	free(dst);
	return error;
}

/* The staged files (written[i] where staged[i]) into place, or (`keep` false) removed; after a
 * rename fails, the rest are removed. */
static int place_staged(const char *out_dir, const char **written, const bool *staged, size_t n,
                        bool keep, strata_error *e)
{
	int error = 0;
	for (size_t i = 0; i < n; i++) {
		char *dst;
		if (!staged[i])
			continue;
		if (!(dst = strata_fs_join(out_dir, written[i]))) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			continue;
		}
		if (keep && error == 0)
			error = strata_fs_atomic_rename(dst, e);
		if (!keep || error < 0) /* not kept, or this rename or one before it failed */
			strata_fs_atomic_discard(dst);
		free(dst);
	}
	return error;
}

/* Removes what a build killed part-way left in out_dir: its temporary files (util/fs.h's
 * "<name>.tmp.<pid>"), those of a process that is gone. A live build's are its own. */
static void remove_leftovers(const char *out_dir)
{
	strata_error ignored = STRATA_ERROR_INIT;
	char **names = NULL;
	size_t n = 0;

	if (strata_fs_list(&names, &n, out_dir, &ignored) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *tmp = NULL, *p = names[i];
		char *path, *end;
		long pid;
		while ((p = strstr(p, ".tmp.")) != NULL)
			tmp = p++;
		if (!tmp)
			continue;
		pid = strtol(tmp + 5, &end, 10);
		if (*end || end == tmp + 5 || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((path = strata_fs_join(out_dir, names[i])) != NULL)
			unlink(path);
		free(path);
	}
	strata_fs_names_free(names);
}

/* Removes migration files from out_dir that the build did not write (deleted or renamed in src). */
static int remove_stale(const char *out_dir, const char **written, size_t n_written,
                        size_t *removed, strata_error *e)
{
	char **names = NULL;
	size_t n = 0;
	int error;

	if ((error = strata_fs_list(&names, &n, out_dir, e)) < 0)
		return error;
	for (size_t i = 0; i < n && error == 0; i++) {
		strata_file_kind kind;
		char *path;
		strata_error ignored = STRATA_ERROR_INIT;
		const char *key = names[i];
		strata_migration_parse_name(&kind, NULL, NULL, names[i], &ignored);
		if (kind == STRATA_FILE_NONE ||
		    bsearch(&key, written, n_written, sizeof(*written), strata_fs_names_cmp))
			continue;
		path = strata_fs_join(out_dir, names[i]);
		if (!path || unlink(path) < 0)
			error = strata_error_set(e, STRATA_ERROR, "cannot remove stale '%s': %s",
			                         path ? path : names[i],
			                         path ? strerror(errno) : "out of memory");
		else
			(*removed)++;
		free(path);
	}
	strata_fs_names_free(names);
	return error;
}

/* The written migration of c whose file (or down file) is named `name`, NULL when none. */
static const strata_migration *written_as(const strata_catalog *c, const char *name,
                                          const char **text)
{
	for (size_t i = 0; i < c->n; i++) {
		const strata_migration *m = c->items[i];
		if (strcmp(strata_fs_base_name(m->path), name) == 0) {
			*text = m->text;
			return m;
		}
		if (m->down_path && strcmp(strata_fs_base_name(m->down_path), name) == 0) {
			*text = m->down_text;
			return m;
		}
		if (m->conf_path && strcmp(strata_fs_base_name(m->conf_path), name) == 0) {
			*text = m->conf_text;
			return m;
		}
	}
	return NULL;
}

/*
 * The output directory may hold only what an earlier build wrote there: build replaces or
 * removes a migration file only when the manifest it wrote last lists it. Any other migration
 * file in it (written by hand, or into a directory that never was a build output) stops the
 * build before anything is written, unless this build writes the very same bytes to it.
 */
static int check_out_dir(const strata_catalog *c, const char *out_dir, strata_error *e)
{
	strata_manifest prev;
	char **names = NULL;
	const char **listed = NULL; /* every file the manifest lists, halves and configs too */
	size_t n = 0, nl = 0;
	int error, have_prev;

	if (!strata_fs_is_dir(out_dir))
		return 0;
	if ((have_prev = strata_manifest_read(&prev, out_dir, e)) < 0)
		return have_prev;
	if (have_prev) {
		if (!(listed = calloc(prev.n * 3 + 1, sizeof(*listed)))) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < prev.n; i++) {
			listed[nl++] = prev.items[i].file;
			if (prev.items[i].down_file)
				listed[nl++] = prev.items[i].down_file;
			if (prev.items[i].conf_file)
				listed[nl++] = prev.items[i].conf_file;
		}
		qsort(listed, nl, sizeof(*listed), strata_fs_names_cmp);
	}
	if ((error = strata_fs_list(&names, &n, out_dir, e)) < 0)
		goto done;
	for (size_t i = 0; i < n && error == 0; i++) {
		strata_file_kind kind;
		char *path = NULL, *old = NULL;
		const char *text = NULL;
		size_t old_len = 0;
		strata_error ignored = STRATA_ERROR_INIT;
		bool same;
		const char *key = names[i];
		strata_migration_parse_name(&kind, NULL, NULL, names[i], &ignored);
		if (kind == STRATA_FILE_NONE ||
		    (nl && bsearch(&key, listed, nl, sizeof(*listed), strata_fs_names_cmp)))
			continue;
		path = strata_fs_join(out_dir, names[i]);
		same = path && written_as(c, names[i], &text) &&
		       strata_fs_read(&old, &old_len, path, &ignored) == 0 &&
		       old_len == strlen(text) && memcmp(old, text, old_len) == 0;
		if (!same) {
			strata_error_at(e, path ? path : names[i], 0, 0);
			strata_error_hint(
			    e, "build writes only into its own output: move the file into "
			       "the source directory, or build into another output directory");
			error =
			    strata_error_set(e, STRATA_EEXISTS,
			                     "migration file was not written by strata_build()%s; "
			                     "build changes nothing",
			                     have_prev ? " (its manifest does not list it)" : "");
		}
		free(old);
		free(path);
	}
done:
	strata_fs_names_free(names);
	free(listed);
	if (have_prev > 0)
		strata_manifest_free(&prev);
	return error;
}

/* Parses and lints every migration; fails on a syntax error or a lint error (with `strict`, a
 * warning), before anything is written. */
static int check(const strata_catalog *c, const strata_build_options *o, strata_build_report *r,
                 strata_error *e)
{
	strata_lint_opts lo = STRATA_LINT_OPTS_INIT;
	strata_catalog base = {0};
	size_t n;
	int error;

	lo.dialect = o->dialect;
	lo.enable = o->enable;
	if (o->nbase && o->dialect == STRATA_DIALECT_SQLITE) {
		if ((error = strata_catalog_load(&base, o->base_dirs, o->nbase, e)) < 0)
			return error;
		lo.base = &base;
	}
	error = strata_lint_catalog(&r->lint, c, &lo, e);
	strata_catalog_free(&base);
	if (error < 0)
		return error;
	n = r->lint.errors + (o->strict ? r->lint.warnings : 0);
	if (n == 0)
		return 0;
	r->lint_failed = true;
	strata_error_hint(e,
	                  "fix %s, or silence one with '-- strata:nolint RULE' on the line "
	                  "before its statement",
	                  n == 1 ? "it" : "them");
	if (r->lint.errors)
		return strata_error_set(e, STRATA_EINVALID, "%zu lint error%s", r->lint.errors,
		                        r->lint.errors == 1 ? "" : "s");
	return strata_error_set(e, STRATA_EINVALID, "%zu lint warning%s (strict)", r->lint.warnings,
	                        r->lint.warnings == 1 ? "" : "s");
}

int strata_build__dir(const char *src_dir, const char *out_dir, const strata_build_options *opts,
                      strata_build_report *r, strata_error *e)
{
	static const strata_build_options defaults = STRATA_BUILD_OPTIONS_INIT;
	strata_catalog c = {0};
	const char **written = NULL;
	bool *staged = NULL, manifest_staged = false;
	size_t nw = 0;
	int error;

	memset(r, 0, sizeof(*r));
	if ((error = strata_catalog_load(&c, &src_dir, 1, e)) < 0)
		goto done;
	if ((error = check(&c, opts ? opts : &defaults, r, e)) < 0 ||
	    (error = check_out_dir(&c, out_dir, e)) < 0)
		goto done;
	if ((error = strata_fs_mkdirs(out_dir, e)) < 0)
		goto done;
	remove_leftovers(out_dir);
	/* every file and the manifest are written beside the old ones first: a failure (a full
	 * disk) removes them and leaves out_dir as it was; only then do they replace the old ones,
	 * the manifest last, as before */
	written = calloc(c.n * 3 + 1, sizeof(*written));
	staged = calloc(c.n * 3 + 1, sizeof(*staged));
	if (!written || !staged) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < c.n && error == 0; i++) {
		const strata_migration *m = c.items[i];
		const char *paths[] = {m->path, m->down_path, m->conf_path};
		const char *texts[] = {m->text, m->down_text, m->conf_text};
		for (size_t k = 0; k < 3 && error == 0; k++) {
			if (!paths[k])
				continue;
			written[nw] = strata_fs_base_name(paths[k]);
			error = stage_file(out_dir, paths[k], texts[k], &staged[nw], e);
			nw++;
		}
	}
	if (error == 0 && (error = strata_manifest_stage(&c, out_dir, e)) == 0)
		manifest_staged = true;
	if (error < 0) {
		strata_error ignored = STRATA_ERROR_INIT;
		place_staged(out_dir, written, staged, nw, false, &ignored);
		goto done;
	}
	/* from here on, a failure leaves the output part-way */
	r->partial = true;
	if ((error = place_staged(out_dir, written, staged, nw, true, e)) < 0)
		goto done;
	qsort(written, nw, sizeof(*written), strata_fs_names_cmp);
	if ((error = remove_stale(out_dir, written, nw, &r->removed, e)) < 0)
		goto done;
	if ((error = strata_manifest_commit(out_dir, e)) == 0) {
		manifest_staged = false;
		r->partial = false;
		r->built = c.n;
	}
done:
	if (manifest_staged)
		strata_manifest_discard(out_dir);
	free(written);
	free(staged);
	strata_catalog_free(&c);
	return error;
}

void strata_build__report_clear(strata_build_report *r)
{
	if (r)
		strata_lint__report_clear(&r->lint);
}
