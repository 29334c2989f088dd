/* source.c: where migrations come from (strata_source): directories, builds, and migrations
 * given in memory, read into one ordered catalog when a use case needs it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "core/catalog.h"
#include "core/integrity.h"
#include "core/manifest.h"
#include "core/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

int strata_source_new(strata_source **out, strata_error *e)
{
	if (!out)
		return api_bad_arg(e, "strata_source_new", "out is NULL");
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : strata_error_set(e, STRATA_ERROR, "out of memory");
}

static void mem_free(struct api_mem *m)
{
	free((char *)m->def.id);
	free((char *)m->def.name);
	free((char *)m->def.up_sql);
	free((char *)m->def.down_sql);
	free((char *)m->def.fingerprint);
	free(m->path);
}

void strata_source_free(strata_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndirs; i++) {
		free(s->dirs[i].dir);
		free(s->dirs[i].src_dir);
	}
	for (size_t i = 0; i < s->nmems; i++)
		mem_free(&s->mems[i]);
	free(s->dirs);
	free(s->mems);
	free(s);
}

void api_hint_build(strata_error *e, const char *dist_dir, const char *src_dir)
{
	strata_error_hint(e,
	                  "run strata_build() to build %s from %s, or read %s itself "
	                  "(strata_source_add_dir())",
	                  dist_dir, src_dir, src_dir);
}

static int add_dir(strata_source *s, const char *fn, const char *dir, const char *src_dir,
                   strata_error *e)
{
	struct api_dir *p;
	struct stat st;
	if (!s || !dir || !*dir)
		return api_bad_arg(e, fn, !s ? "no source" : "no directory");
	/* said at the call, before a database is touched */
	if (stat(dir, &st) != 0) {
		int err = errno;
		if (src_dir && err == ENOENT)
			api_hint_build(e, dir, src_dir);
		return strata_error_set(e, err == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
		                        "cannot open directory '%s': %s", dir, strerror(err));
	}
	if (!S_ISDIR(st.st_mode))
		return strata_error_set(e, STRATA_EINVALID, "'%s' is not a directory", dir);
	if (!(p = realloc(s->dirs, (s->ndirs + 1) * sizeof(*p))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->dirs = p;
	p = &s->dirs[s->ndirs];
	p->dir = strdup(dir);
	p->src_dir = src_dir ? strdup(src_dir) : NULL;
	if (!p->dir || (src_dir && !p->src_dir)) {
		free(p->dir);
		free(p->src_dir);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	s->ndirs++;
	return 0;
}

int strata_source_add_dir(strata_source *s, const char *dir, strata_error *e)
{
	return add_dir(s, "strata_source_add_dir", dir, NULL, e);
}

int strata_source_add_build(strata_source *s, const char *dist_dir, const char *src_dir,
                            strata_error *e)
{
	if (!src_dir || !*src_dir)
		return api_bad_arg(e, "strata_source_add_build", "no src_dir");
	return add_dir(s, "strata_source_add_build", dist_dir, src_dir, e);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = true;
	return d;
}

int strata_source_add(strata_source *s, const strata_migration_def *def, const char *label,
                      strata_error *e)
{
	struct api_mem *p, m = {0};
	strata_migration *check = NULL;
	char path[512];
	bool oom = false;
	int error;

	if (!s || !def)
		return api_bad_arg(e, "strata_source_add", !s ? "no source" : "no definition");
	if (def->version < 1 || def->version > STRATA_MIGRATION_DEF_VERSION)
		return api_bad_arg(e, "strata_source_add", "a definition of an unknown version");
	/* checked now, so that a bad definition is the caller's error at the call */
	snprintf(path, sizeof(path), "%s:%s-%s", label ? label : "memory", def->id ? def->id : "?",
	         def->name ? def->name : "?");
	if ((error = strata_migration_from_memory(&check, path, def, e)) < 0)
		return error;
	strata_migration_free(check);
	m.def = *def;
	m.def.version = STRATA_MIGRATION_DEF_VERSION;
	m.def.id = dup_or_null(def->id, &oom);
	m.def.name = dup_or_null(def->name, &oom);
	m.def.up_sql = dup_or_null(def->up_sql, &oom);
	m.def.down_sql = dup_or_null(def->down_sql, &oom);
	m.def.fingerprint = dup_or_null(def->fingerprint, &oom);
	m.path = dup_or_null(path, &oom);
	if (oom || !(p = realloc(s->mems, (s->nmems + 1) * sizeof(*p)))) {
		mem_free(&m);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	s->mems = p;
	s->mems[s->nmems++] = m;
	return 0;
}

const char **api_dir_list(const strata_source *src)
{
	const char **dirs = calloc(src->ndirs + 1, sizeof(*dirs));
	for (size_t i = 0; dirs && i < src->ndirs; i++)
		dirs[i] = src->dirs[i].dir;
	return dirs;
}

int api_catalog(strata_catalog *out, const strata_source *src, enum api_read mode, strata_error *e)
{
	const char **dirs = api_dir_list(src);
	strata_migration **extra = calloc(src->nmems + 1, sizeof(*extra));
	size_t n = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!dirs || !extra) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < src->nmems && error == 0; i++) {
		error = strata_migration_from_memory(&extra[n], src->mems[i].path,
		                                     &src->mems[i].def, e);
		n += error == 0;
	}
	if (error < 0) {
		while (n > 0)
			strata_migration_free(extra[--n]);
		goto done;
	}
	/* takes extra's migrations over, whatever the outcome */
	error = strata_catalog_load_all(out, dirs, src->ndirs, mode == API_READ_BUILT, extra, n, e);
done:
	free(dirs);
	free(extra);
	return error;
}

bool api_lone_build(const strata_source *src, const char **dist_dir, const char **src_dir)
{
	if (src->ndirs != 1 || src->nmems || !src->dirs[0].src_dir)
		return false;
	*dist_dir = src->dirs[0].dir;
	*src_dir = src->dirs[0].src_dir;
	return true;
}

/* The summary of a directory of sources with no build manifest, walked (api_source_summary). */
static bool walked_summary(const char *dir, strata_history_summary *out)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_catalog_walk *w = NULL;
	strata_manifest_header h = {0};
	strata_migration *m = NULL;
	char *manifest = strata_fs_join(dir, STRATA_MANIFEST);
	struct stat st;
	int more = -1;

	if (manifest && stat(manifest, &st) != 0 && errno == ENOENT &&
	    strata_catalog_walk_open(&w, dir, &ignored) == 0)
		while ((more = strata_catalog_walk_next(w, &m, &ignored)) > 0) {
			int hashed = strata_manifest_header_add(&h, m);
			strata_migration_free(m);
			if (hashed < 0) {
				more = -1;
				break;
			}
		}
	strata_catalog_walk_close(w);
	free(manifest);
	memset(out, 0, sizeof(*out));
	out->rows = h.count;
	out->digest = h.digest;
	return more == 0;
}

bool api_source_summary(const strata_source *src, bool walk, strata_history_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (!src->ndirs || src->nmems)
		return false;
	for (size_t i = 0; i < src->ndirs; i++) {
		strata_history_summary one;
		/* a build, or a directory holding a build's output (--dir dist/migrations, a deploy
		 * job's copy of it): its manifest says what a fully applied history is; plain
		 * sources only as the one directory (`walk`): the walk refuses a migration twice in
		 * it, as the full read does, which one walk per directory would not across them */
		if (!strata_build_summary(src->dirs[i].src_dir, src->dirs[i].dir, &one) &&
		    (!walk || src->dirs[i].src_dir || src->ndirs > 1 ||
		     !walked_summary(src->dirs[i].dir, &one)))
			return false;
		out->rows += one.rows;
		out->digest ^= one.digest; /* the history's digest is the XOR over all its rows */
	}
	return true;
}

void api_map_to_src(const strata_source *src, strata_error *e)
{
	for (size_t i = 0; e->file[0] && i < src->ndirs; i++) {
		const char *dist = src->dirs[i].dir;
		size_t dl = strlen(dist);
		char *srcf, *a = NULL, *b = NULL;
		size_t al = 0, bl = 0;
		strata_error ignored = STRATA_ERROR_INIT;
		if (!src->dirs[i].src_dir || strncmp(e->file, dist, dl) != 0 || e->file[dl] != '/')
			continue;
		srcf = strata_fs_join(src->dirs[i].src_dir, e->file + dl + 1);
		if (srcf && strata_fs_read(&a, &al, e->file, &ignored) == 0 &&
		    strata_fs_read(&b, &bl, srcf, &ignored) == 0 && al == bl &&
		    memcmp(a, b, al) == 0)
			snprintf(e->file, sizeof(e->file), "%s", srcf);
		free(srcf);
		free(a);
		free(b);
		return;
	}
}
