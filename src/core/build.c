#include "core/build.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

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

/* The files a build staged in out_dir (their names), and how many. */
struct staged {
	char **names;
	size_t n, cap;
};

static int staged_push(struct staged *s, const char *name)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		char **p = realloc(s->names, ncap * sizeof(*p));
		if (!p)
			return -1;
		s->names = p;
		s->cap = ncap;
	}
	if (!(s->names[s->n] = strdup(name)))
		return -1;
	s->n++;
	return 0;
}

static void staged_free(struct staged *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

/* The staged files into place, or (`keep` false) removed; after a rename fails, the rest are
 * removed. */
static int place_staged(const char *out_dir, const struct staged *s, bool keep, strata_error *e)
{
	int error = 0;
	for (size_t i = 0; i < s->n; i++) {
		char *dst = strata_fs_join(out_dir, s->names[i]);
		if (!dst) {
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
static int remove_stale(const char *out_dir, const strata_catalog_walk *written, size_t *removed,
                        strata_error *e)
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
		strata_migration_parse_name(&kind, NULL, NULL, names[i], &ignored);
		if (kind == STRATA_FILE_NONE || strata_catalog_walk_has(written, names[i]))
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

/* Whether the migration file `name` of out_dir is the one this build writes: the source's
 * file of that name (src lists the source's migration files), byte for byte. */
static bool same_as_source(const char *src_dir, const strata_catalog_walk *src,
                           const char *out_path, const char *name)
{
	strata_error ignored = STRATA_ERROR_INIT;
	char *in = NULL, *out = NULL, *src_path;
	size_t in_len = 0, out_len = 0;
	bool same;

	if (!strata_catalog_walk_has(src, name) || !(src_path = strata_fs_join(src_dir, name)))
		return false;
	same = strata_fs_read(&in, &in_len, src_path, &ignored) == 0 &&
	       strata_fs_read(&out, &out_len, out_path, &ignored) == 0 && in_len == out_len &&
	       memcmp(in, out, in_len) == 0;
	free(in);
	free(out);
	free(src_path);
	return same;
}

/*
 * The output directory may hold only what an earlier build wrote there: build replaces or
 * removes a migration file only when the manifest it wrote last lists it. Any other migration
 * file in it (written by hand, or into a directory that never was a build output) stops the
 * build before anything is written, unless this build writes the very same bytes to it.
 */
static int check_out_dir(const char *src_dir, const strata_catalog_walk *src, const char *out_dir,
                         strata_error *e)
{
	strata_manifest_stream *prev = NULL;
	const strata_manifest_entry *ent;
	char **names = NULL, *mpath = NULL;
	bool *listed = NULL; /* per name: the manifest lists it (halves and configs too) */
	size_t n = 0;
	struct stat st;
	int error, have_prev;

	if (!strata_fs_is_dir(out_dir))
		return 0;
	if ((error = strata_fs_list(&names, &n, out_dir, e)) < 0)
		return error;
	if (!(listed = calloc(n + 1, sizeof(*listed))) ||
	    !(mpath = strata_fs_join(out_dir, STRATA_MANIFEST))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	/* the last manifest read entry by entry, as 10,000 of them would not fit in memory */
	have_prev = stat(mpath, &st) == 0 || errno != ENOENT;
	if (have_prev && (error = strata_manifest_stream_open(&prev, out_dir, 0, NULL, e)) < 0)
		goto done;
	while (prev && (error = strata_manifest_stream_next(prev, &ent, e)) > 0) {
		const char *files[] = {ent->file, ent->down_file, ent->conf_file};
		for (size_t k = 0; k < 3; k++) {
			char **at = files[k] ? bsearch(&files[k], names, n, sizeof(*names),
			                               strata_fs_names_cmp)
			                     : NULL;
			if (at)
				listed[at - names] = true;
		}
	}
	for (size_t i = 0; i < n && error == 0; i++) {
		strata_file_kind kind;
		char *path = NULL;
		strata_error ignored = STRATA_ERROR_INIT;
		strata_migration_parse_name(&kind, NULL, NULL, names[i], &ignored);
		if (kind == STRATA_FILE_NONE || listed[i])
			continue;
		path = strata_fs_join(out_dir, names[i]);
		if (!path || !same_as_source(src_dir, src, path, names[i])) {
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
		free(path);
	}
done:
	strata_manifest_stream_close(prev);
	strata_fs_names_free(names);
	free(listed);
	free(mpath);
	return error;
}

/* The lint's verdict once every migration is linted: a lint error (with `strict`, a warning)
 * fails the build. */
static int lint_verdict(const strata_build_options *o, strata_build_report *r, strata_error *e)
{
	size_t n = r->lint.errors + (o->strict ? r->lint.warnings : 0);
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

/* m summed into h (strata_manifest_header_add), its file name kept. */
static int header_add(strata_manifest_header *h, const strata_migration *m, strata_error *e)
{
	if (strata_manifest_header_add(h, m) == 0)
		return 0;
	return strata_error_set(e, STRATA_ERROR,
	                        h->files->failed ? "out of memory" : "cannot compute SHA-256");
}

/* The first pass, before anything is written: every migration read, parsed and linted, and
 * summed into the manifest's header, one at a time. */
static int check_all(strata_catalog_walk *w, const strata_build_options *o, strata_build_report *r,
                     strata_manifest_header *h, strata_error *e)
{
	strata_lint_opts lo = STRATA_LINT_OPTS_INIT;
	strata_catalog base = {0};
	strata_linter *lt = NULL;
	strata_migration *m = NULL;
	int error = 0;

	lo.dialect = o->dialect;
	lo.enable = o->enable;
	if (o->nbase && o->dialect == STRATA_DIALECT_SQLITE) {
		if ((error = strata_catalog_load(&base, o->base_dirs, o->nbase, e)) < 0)
			return error;
		lo.base = &base;
	}
	if ((error = strata_linter_open(&lt, &r->lint, &lo, e)) == 0)
		while ((error = strata_catalog_walk_next(w, &m, e)) > 0) {
			error = strata_linter_add(lt, m);
			if (error == 0)
				error = header_add(h, m, e);
			strata_migration_free(m);
			if (error < 0)
				break;
		}
	strata_linter_free(lt);
	strata_catalog_free(&base);
	return error < 0 ? error : lint_verdict(o, r, e);
}

/* A migration's files staged in out_dir (those that changed; their names into s) and its
 * manifest entry written. */
static int stage_migration(const strata_migration *m, const char *out_dir, struct staged *s,
                           strata_manifest_writer *mw, strata_error *e)
{
	const char *paths[] = {m->path, m->down_path, m->conf_path};
	const char *texts[] = {m->text, m->down_text, m->conf_text};
	int error = 0;
	for (size_t k = 0; k < 3 && error == 0; k++) {
		bool staged;
		if (!paths[k] || (error = stage_file(out_dir, paths[k], texts[k], &staged, e)) < 0)
			continue;
		if (staged && staged_push(s, strata_fs_base_name(paths[k])) < 0) {
			char *dst = strata_fs_join(out_dir, strata_fs_base_name(paths[k]));
			if (dst)
				strata_fs_atomic_discard(dst);
			free(dst);
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
		}
	}
	return error < 0 ? error : strata_manifest_writer_add(mw, m, e);
}

static int changed(const char *src_dir, strata_error *e)
{
	strata_error_at(e, src_dir, 0, 0);
	strata_error_hint(e, "run the build again once nothing else writes there");
	return strata_error_set(e, STRATA_EINVALID,
	                        "migrations changed while they were being built");
}

/* The second pass: every file and the manifest staged beside the old ones, the migrations read
 * again one at a time; they must be those the first pass checked (h). */
static int stage_all(strata_catalog_walk *w, const char *src_dir, const char *out_dir,
                     const strata_manifest_header *h, struct staged *s, strata_error *e)
{
	strata_buf files = STRATA_BUF_INIT; /* the files this pass reads, as the first kept them */
	strata_manifest_header again = {.files = &files};
	strata_manifest_writer *mw = NULL;
	strata_migration *m = NULL;
	bool staging_failed = false;
	int error;

	strata_catalog_walk_rewind(w);
	if ((error = strata_manifest_writer_open(&mw, out_dir, h, e)) < 0)
		return error;
	while ((error = strata_catalog_walk_next(w, &m, e)) > 0) {
		error = stage_migration(m, out_dir, s, mw, e);
		if (error == 0)
			error = header_add(&again, m, e);
		strata_migration_free(m);
		if (error < 0) {
			staging_failed = true;
			break;
		}
	}
	/* a file the first pass read that is gone or no longer parses (the walk's error), or
	 * another sum: the source changed in between */
	if (!staging_failed && (error == STRATA_ENOTFOUND || error == STRATA_EINVALID)) {
		char was[sizeof(e->file) + sizeof(e->msg) + 2];
		snprintf(was, sizeof(was), "%s%s%s", e->file, e->file[0] ? ": " : "", e->msg);
		strata_error_detail(e, "%s", was);
		error = changed(src_dir, e);
	} else if (error == 0 && !strata_manifest_header_same(&again, h)) {
		error = changed(src_dir, e);
	}
	strata_buf_free(&files);
	if (error < 0) {
		strata_manifest_writer_abort(mw);
		return error;
	}
	return strata_manifest_writer_close(mw, e);
}

/*
 * Two passes over the source, each holding one migration at a time (catalog.h's walk): the
 * first reads, parses and lints every migration and sums them for the manifest's header; the
 * second reads them again and writes every changed file and the manifest beside the old ones
 * (a failure, a full disk, removes them and leaves out_dir as it was); only then do they
 * replace the old ones, the manifest last.
 */
int strata_build__dir(const char *src_dir, const char *out_dir, const strata_build_options *opts,
                      strata_build_report *r, strata_error *e)
{
	static const strata_build_options defaults = STRATA_BUILD_OPTIONS_INIT;
	strata_catalog_walk *w = NULL;
	/* the manifest's "files", as the first pass reads them */
	strata_buf files = STRATA_BUF_INIT;
	strata_manifest_header h = {.files = &files};
	struct staged s = {0};
	bool manifest_staged = false;
	int error;

	memset(r, 0, sizeof(*r));
	if ((error = strata_catalog_walk_open(&w, src_dir, e)) < 0 ||
	    (error = check_all(w, opts ? opts : &defaults, r, &h, e)) < 0)
		goto done;
	if ((error = check_out_dir(src_dir, w, out_dir, e)) < 0 ||
	    (error = strata_fs_mkdirs(out_dir, e)) < 0)
		goto done;
	remove_leftovers(out_dir);
	if ((error = stage_all(w, src_dir, out_dir, &h, &s, e)) < 0) {
		strata_error ignored = STRATA_ERROR_INIT;
		place_staged(out_dir, &s, false, &ignored);
		goto done;
	}
	manifest_staged = true;
	/* from here on, a failure leaves the output part-way */
	r->partial = true;
	if ((error = place_staged(out_dir, &s, true, e)) < 0 ||
	    (error = remove_stale(out_dir, w, &r->removed, e)) < 0)
		goto done;
	if ((error = strata_manifest_commit(out_dir, e)) == 0) {
		manifest_staged = false;
		r->partial = false;
		r->built = h.count;
	}
done:
	if (manifest_staged)
		strata_manifest_discard(out_dir);
	staged_free(&s);
	strata_buf_free(&files);
	strata_catalog_walk_close(w);
	return error;
}

void strata_build__report_clear(strata_build_report *r)
{
	if (r)
		strata_lint__report_clear(&r->lint);
}
