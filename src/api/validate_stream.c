/*
 * validate_stream.c: strata_validate's common case without holding the catalog or the history.
 * One directory (a build's output, with or without the sources it was built from, or sources
 * never built): its migrations are read one at a time (catalog.h's walk) and merged with the
 * history read row by row with its checksums (the engine's history_each); a build output's
 * files are compared with its manifest entry by entry, and its sources must be older than the
 * manifest. It only proves that nothing is wrong: at the first doubt it answers 0, and
 * strata_validate makes the full read, whose report says what is wrong and where. strata_accept
 * reads the same way, keeping only the migrations and rows of the versions it is given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "core/catalog.h"
#include "core/integrity.h"
#include "core/manifest.h"
#include "core/runner.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fs.h"

struct vs {
	api_session *s;
	strata_catalog_walk *w;
	strata_manifest_stream *ms; /* a build output's manifest, else NULL */
	const char *src_dir;        /* the sources of a build output, when they are there */
	struct stat mst;            /* the manifest's */
	strata_migration *cur;      /* the walk's current migration; NULL at its end */
	size_t migrations, pending, src_files;
	strata_buf last; /* the history row before, "version\0name\0" */
};

/* Whether the manifest's next entry is cur, file for file and checksum. */
static bool listed(struct vs *v)
{
	const strata_manifest_entry *ent;
	const strata_migration *m = v->cur;
	const char *files[] = {m->path, m->down_path, m->conf_path};
	const char *want[3];
	strata_error ignored = STRATA_ERROR_INIT;

	if (strata_manifest_stream_next(v->ms, &ent, &ignored) != 1)
		return false;
	want[0] = ent->file;
	want[1] = ent->down_file;
	want[2] = ent->conf_file;
	for (size_t k = 0; k < 3; k++)
		if (!files[k] != !want[k] ||
		    (files[k] && strcmp(strata_fs_base_name(files[k]), want[k]) != 0))
			return false;
	return ent->sha256 && strcmp(ent->sha256, m->checksum) == 0;
}

/* The walk's next migration into cur, checked against the manifest and the sources of a build
 * output; 1, 0 at the end, API_DOUBT. */
static int advance(struct vs *v)
{
	strata_error ignored = STRATA_ERROR_INIT;
	int more;

	strata_migration_free(v->cur);
	v->cur = NULL;
	if ((more = strata_catalog_walk_next(v->w, &v->cur, &ignored)) < 0)
		return API_DOUBT;
	if (more == 0) {
		const strata_manifest_entry *ent;
		/* every entry of the manifest was a file of the directory */
		return v->ms && strata_manifest_stream_next(v->ms, &ent, &ignored) != 0 ? API_DOUBT
		                                                                        : 0;
	}
	v->migrations++;
	if (v->ms && !listed(v))
		return API_DOUBT;
	if (v->src_dir && !strata_src_older(v->src_dir, v->cur, &v->mst.st_mtim))
		return API_DOUBT;
	return 1;
}

/* cur, not applied: the checks a run makes of it before sending anything; then the next. */
static int pending(struct vs *v)
{
	strata_step step = {.m = v->cur, .dir = STRATA_UP};
	strata_plan one = {.steps = &step, .n = 1, .sources = 1};
	strata_run_opts ro = {.one_transaction = v->s->o.one_transaction};
	strata_run_result rr = {0};
	strata_error ignored = STRATA_ERROR_INIT;

	v->pending++;
	if (strata_runner_precheck(v->s->db->conn, &one, &ro, &rr, &ignored) < 0)
		return API_DOUBT;
	return advance(v);
}

static int on_row(void *ud, const strata_applied *a)
{
	struct vs *v = ud;
	const char *last = strata_buf_cstr(&v->last);
	int cmp = 1, more = 0;

	/* in order, each finished */
	if ((v->last.len &&
	     strata_migration_key_cmp(last, last + strlen(last) + 1, a->version, a->name) >= 0) ||
	    a->status != STRATA_APPLIED_OK)
		return API_DOUBT;
	strata_buf_reset(&v->last);
	strata_buf_put(&v->last, a->version, strlen(a->version) + 1);
	strata_buf_put(&v->last, a->name, strlen(a->name) + 1);
	if (v->last.failed)
		return API_DOUBT;
	/* a migration not applied before an applied one: out of order */
	while (more >= 0 && v->cur &&
	       (cmp = strata_migration_key_cmp(v->cur->version, v->cur->name, a->version,
	                                       a->name)) < 0)
		more = v->s->o.allow_out_of_order ? pending(v) : API_DOUBT;
	if (more < 0)
		return API_DOUBT;
	/* applied, and in no file of the directory; or its file changed since */
	if (!v->cur || cmp != 0 || (a->checksum[0] && strcmp(a->checksum, v->cur->checksum) != 0))
		return API_DOUBT;
	return advance(v) < 0 ? API_DOUBT : 0;
}

static int count_file(void *ud, const char *fname)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind kind;
	if (strata_migration_parse_name(&kind, NULL, NULL, fname, &ignored) < 0)
		return -1;
	*(size_t *)ud += kind != STRATA_FILE_NONE;
	return 0;
}

/* The build output dir's manifest opened, and its sources (when they are there) checked to be
 * the build's: none added, removed or renamed since (the rest is per file). 1 when it is a
 * build output, 0 sources never built, API_DOUBT. */
static int open_build(struct vs *v, const char *dir, const char *src_dir)
{
	strata_error ignored = STRATA_ERROR_INIT;
	strata_history_summary sum;
	char *mpath = strata_fs_join(dir, STRATA_MANIFEST);
	bool have = mpath && stat(mpath, &v->mst) == 0;
	int error = 0;

	if (!mpath || (!have && (errno != ENOENT || src_dir)))
		error = API_DOUBT; /* a build not there: the full read says so */
	else if (have && strata_manifest_stream_open(&v->ms, dir, STRATA_MANIFEST_SHA256, NULL,
	                                             &ignored) < 0)
		error = API_DOUBT;
	else if (have && src_dir && strata_fs_is_dir(src_dir)) {
		/* the manifest newer than both directories: no file came or went since the build;
		 * and the sources hold as many migration files as the build */
		v->src_dir = src_dir;
		if (!strata_build_summary(src_dir, dir, &sum) ||
		    strata_fs_each(src_dir, count_file, &v->src_files, &ignored) < 0)
			error = API_DOUBT;
	}
	free(mpath);
	return error < 0 ? error : have;
}

/* Whether s's source and database are ones this file reads (one directory, an engine that
 * streams its history, a database that is there); then the source opened into v and its first
 * migration read: 0, or API_DOUBT. */
static int open_source(struct vs *v, api_session *s)
{
	const strata_source *src = s->src;
	strata_error ignored = STRATA_ERROR_INIT;
	size_t built_files = 0;

	if (src->ndirs != 1 || src->nmems || !s->db->conn->engine->history_each ||
	    s->o.ignore_checksums || !strata_db_exists(s->db) ||
	    open_build(v, src->dirs[0].dir, src->dirs[0].src_dir) < 0)
		return API_DOUBT;
	if (v->src_dir &&
	    (strata_fs_each(src->dirs[0].dir, count_file, &built_files, &ignored) < 0 ||
	     built_files != v->src_files))
		return API_DOUBT;
	if (strata_catalog_walk_open(&v->w, src->dirs[0].dir, &ignored) < 0 || advance(v) < 0)
		return API_DOUBT;
	return 0;
}

static void close_source(struct vs *v)
{
	strata_migration_free(v->cur);
	strata_catalog_walk_close(v->w);
	strata_manifest_stream_close(v->ms);
	strata_buf_free(&v->last);
}

int api_validate_streamed(api_session *s, size_t *migrations, size_t *pending_out, strata_error *e)
{
	strata_conn *c = s->db->conn;
	struct vs v = {.s = s, .last = STRATA_BUF_INIT};
	int error = API_DOUBT, found;

	if (open_source(&v, s) < 0)
		goto done;
	found = c->engine->history_each(c, STRATA_EACH_CHECKSUM, on_row, &v, e);
	if (found != 0) /* a doubt, a history it cannot read so, or an error (the full read's) */
		goto done;
	/* after the last applied one: pending */
	while (v.cur && (found = pending(&v)) >= 0)
		;
	if (found < 0)
		goto done;
	*migrations = v.migrations;
	*pending_out = v.pending;
	error = 1;
done:
	close_source(&v);
	return error < 0 ? 0 : error;
}

/* ---- what strata_accept reads -------------------------------------------------------------- */

struct pick {
	struct vs v;
	bool (*keep)(void *ud, const char *version);
	void *ud;
	bool oom;
};

/* A history row whose version is wanted, copied into the session's history. */
static int pick_row(void *ud, const strata_applied *a)
{
	struct pick *p = ud;
	strata_history *h = &p->v.s->hist;
	strata_error ignored = STRATA_ERROR_INIT;
	strata_applied *c;

	if (!p->keep(p->ud, a->version))
		return 0;
	if (strata_history_add(h, a->version, a->name, a->checksum, a->applied_at, a->duration_ms,
	                       &ignored) < 0)
		return p->oom = true, API_DOUBT;
	c = &h->items[h->n - 1];
	c->status = a->status;
	c->progress = a->progress;
	c->out_of_order = a->out_of_order;
	if (a->previous_checksum && a->accepted_at &&
	    (!(c->previous_checksum = strdup(a->previous_checksum)) ||
	     !(c->accepted_at = strdup(a->accepted_at))))
		return p->oom = true, API_DOUBT;
	return 0;
}

/* The walk's current migration into the session's catalog (the walk's order: sorted). */
static int pick_migration(struct pick *p)
{
	strata_catalog *cat = &p->v.s->cat;
	strata_migration **items = realloc(cat->items, (cat->n + 1) * sizeof(*items));
	if (!items)
		return p->oom = true, API_DOUBT;
	cat->items = items;
	cat->items[cat->n++] = p->v.cur;
	p->v.cur = NULL; /* the catalog's now */
	return 0;
}

int api_source_pick(api_session *s, bool (*keep)(void *ud, const char *version), void *ud,
                    bool lock, size_t *migrations, strata_error *e)
{
	strata_conn *c = s->db->conn;
	struct pick p = {.v = {.s = s, .last = STRATA_BUF_INIT}, .keep = keep, .ud = ud};
	double t0 = strata_now_ms();
	int error = API_DOUBT, more = 0;

	memset(&s->cat, 0, sizeof(s->cat));
	memset(&s->hist, 0, sizeof(s->hist));
	if (open_source(&p.v, s) < 0 || !(s->cat.from_manifest = calloc(2, sizeof(bool))))
		goto done;
	s->cat.ndirs = 1;
	while (p.v.cur && more >= 0) {
		if (keep(ud, p.v.cur->version) && pick_migration(&p) < 0)
			break;
		more = advance(&p.v);
	}
	if (p.v.cur || more < 0)
		goto done;
	/* the source proven, the history read under the lock, as the full reads are */
	if (lock && (error = api_session_lock(s, e)) < 0)
		goto done;
	error = c->engine->history_each(c, STRATA_EACH_CHECKSUM, pick_row, &p, e);
	if (error == API_DOUBT && p.oom)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else if (error == 0)
		error = 1;
	else if (error > 0 || error == API_DOUBT)
		error = API_DOUBT; /* a history it cannot read so: the full reads */
done:
	close_source(&p.v);
	if (error <= 0) {
		strata_catalog_free(&s->cat);
		strata_history_free(&s->hist);
	}
	if (error == 1) {
		s->cat_read = true;
		if (migrations)
			*migrations = p.v.migrations;
		api_phase(s->db, "checked", strata_now_ms() - t0, p.v.migrations, 0);
	}
	return error == API_DOUBT ? 0 : error;
}

/* ---- what strata_schema_check applies ------------------------------------------------------ */

struct applied_walk {
	struct vs v;
	int (*fn)(void *ud, const strata_migration *m, strata_error *e);
	void *ud;
	strata_error *e;
	size_t n;
};

/* The source or the history is not what api_validate_streamed proved (a file edited, a row
 * changed since), at a (NULL: before any row). */
static int changed(struct applied_walk *w, const strata_applied *a)
{
	strata_error_hint(w->e, "run it again; 'strata migrations validate' says what changed");
	const char *what = "the migrations or the history changed while they were read";
	if (!a)
		return strata_error_set(w->e, STRATA_ERROR, "%s", what);
	return strata_error_set(w->e, STRATA_ERROR, "%s, at %s-%s", what, a->version, a->name);
}

/* An applied row: its migration (the walk's next one it is, a file not applied skipped) to fn. */
static int apply_row(void *ud, const strata_applied *a)
{
	struct applied_walk *w = ud;
	int cmp = 1, error;

	while (w->v.cur && (cmp = strata_migration_key_cmp(w->v.cur->version, w->v.cur->name,
	                                                   a->version, a->name)) < 0)
		if (advance(&w->v) < 0)
			return changed(w, a);
	if (!w->v.cur || cmp != 0 || a->status != STRATA_APPLIED_OK ||
	    (a->checksum[0] && strcmp(a->checksum, w->v.cur->checksum) != 0))
		return changed(w, a);
	if ((error = w->fn(w->ud, w->v.cur, w->e)) < 0)
		return error;
	w->n++;
	return advance(&w->v) < 0 ? changed(w, a) : 0;
}

int api_source_each_applied(api_session *s,
                            int (*fn)(void *ud, const strata_migration *m, strata_error *e),
                            void *ud, size_t *applied, strata_error *e)
{
	strata_conn *c = s->db->conn;
	struct applied_walk w = {
	    .v = {.s = s, .last = STRATA_BUF_INIT}, .fn = fn, .ud = ud, .e = e};
	int error;

	if (open_source(&w.v, s) < 0)
		error = changed(&w, NULL);
	else if ((error = c->engine->history_each(c, STRATA_EACH_CHECKSUM, apply_row, &w, e)) > 0)
		error = changed(&w, NULL);
	close_source(&w.v);
	*applied = w.n;
	return error < 0 ? error : 0;
}
