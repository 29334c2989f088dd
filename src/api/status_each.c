/*
 * status_each.c: strata_status_each, the listing of every migration handed out one entry at a
 * time. With one build whose manifest vouches for its directory (strata_build_summary), or one
 * directory of sources (read a migration at a time: catalog.h's walk), and an engine that
 * streams its history (history_each), the migrations and the history are merged as both are
 * read, in version order, holding one entry of each: memory does not grow with the number of
 * migrations. Otherwise the entries of strata_status are handed out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "core/catalog.h"
#include "core/integrity.h"
#include "core/manifest.h"
#include "core/migration.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fs.h"

struct walk {
	const strata_status_callbacks *cb;
	strata_status_report *tot;
	strata_status_head head;
	bool head_sent;
	strata_manifest_stream *ms; /* a build's manifest, read entry by entry; or */
	strata_catalog_walk *cw;    /* a directory of sources, read a migration at a time */
	const char *dir;
	/* the manifest's current entry: its version and name (parsed from its file), its path;
	 * version NULL once the manifest has ended */
	char *version, *name;
	strata_buf path;
	/* the history row before, to check that the rows come in order */
	strata_buf last;
	strata_error *e;
};

/* A callback's return: below 0 stops the listing with it; anything else goes on. */
static int send_head(struct walk *w)
{
	int r = 0;
	w->head_sent = true;
	if (w->cb->head)
		r = w->cb->head(w->cb->ud, &w->head);
	return r < 0 ? r : 0;
}

static int emit(struct walk *w, const strata_status_entry *entry)
{
	int error;
	if (!w->head_sent && (error = send_head(w)) < 0)
		return error;
	w->tot->n++;
	switch (entry->state) {
	case STRATA_STATE_APPLIED:
		w->tot->applied++;
		break;
	case STRATA_STATE_PENDING:
		w->tot->pending++;
		break;
	case STRATA_STATE_MISSING:
		w->tot->missing++;
		break;
	default:
		w->tot->failed++;
	}
	error = w->cb->entry(w->cb->ud, entry);
	return error < 0 ? error : 0;
}

/* The walk's next migration into w (version NULL at the end). */
static int advance_walk(struct walk *w)
{
	strata_migration *m = NULL;
	int found = strata_catalog_walk_next(w->cw, &m, w->e);

	free(w->version);
	free(w->name);
	w->version = w->name = NULL;
	if (found <= 0)
		return found;
	w->version = m->version; /* taken from m */
	w->name = m->name;
	m->version = m->name = NULL;
	strata_buf_reset(&w->path);
	strata_buf_puts(&w->path, m->path);
	strata_migration_free(m);
	if (w->path.failed)
		return strata_error_set(w->e, STRATA_ERROR, "out of memory");
	return 1;
}

/* The manifest's next entry into w (version NULL at the end); a manifest not as build writes it
 * (an entry that is no migration file, entries out of order) is refused. */
static int advance(struct walk *w)
{
	const strata_manifest_entry *ent;
	strata_error ignored = STRATA_ERROR_INIT;
	strata_file_kind kind;
	char *v = NULL, *n = NULL;
	int found;

	if (w->cw)
		return advance_walk(w);
	if ((found = strata_manifest_stream_next(w->ms, &ent, w->e)) <= 0) {
		free(w->version);
		free(w->name);
		w->version = w->name = NULL;
		return found;
	}
	if (strata_migration_parse_name(&kind, &v, &n, ent->file, &ignored) < 0 ||
	    (kind != STRATA_FILE_SINGLE && kind != STRATA_FILE_UP &&
	     kind != STRATA_FILE_FLYWAY_UP) ||
	    (w->version && strata_migration_key_cmp(w->version, w->name, v, n) >= 0)) {
		free(v);
		free(n);
		strata_error_at(w->e, strata_manifest_stream_path(w->ms), 0, 0);
		strata_error_hint(w->e, "run strata_build() to write it again");
		return strata_error_set(w->e, STRATA_EINVALID, "the build manifest is unreadable");
	}
	free(w->version);
	free(w->name);
	w->version = v;
	w->name = n;
	strata_buf_reset(&w->path);
	strata_buf_puts(&w->path, w->dir);
	strata_buf_put(&w->path, "/", 1);
	strata_buf_puts(&w->path, ent->file);
	if (w->path.failed)
		return strata_error_set(w->e, STRATA_ERROR, "out of memory");
	return 1;
}

/* The manifest's current entry, not applied; then the next. */
static int pending(struct walk *w)
{
	strata_status_entry entry = {.version = w->version,
	                             .name = w->name,
	                             .file = strata_buf_cstr(&w->path),
	                             .state = STRATA_STATE_PENDING};
	int error = emit(w, &entry);
	if (error < 0 || (error = advance(w)) < 0)
		return error;
	return 0;
}

/* One history row: the manifest's entries before it are pending, then it is the current entry
 * applied (or stopped part-way), or applied and in no source. */
static int on_row(void *ud, const strata_applied *a)
{
	struct walk *w = ud;
	strata_status_entry entry = {.version = a->version,
	                             .name = a->name,
	                             .applied_at = a->applied_at,
	                             .duration_ms = a->duration_ms,
	                             .progress = a->progress,
	                             .out_of_order = a->out_of_order,
	                             .previous_checksum = a->previous_checksum,
	                             .accepted_at = a->accepted_at};
	const char *last = strata_buf_cstr(&w->last);
	int cmp, error = 0;

	if (w->last.len &&
	    strata_migration_key_cmp(last, last + strlen(last) + 1, a->version, a->name) > 0)
		return strata_error_set(w->e, STRATA_ERROR,
		                        "the history came out of order at %s-%s (after %s-%s)",
		                        a->version, a->name, last, last + strlen(last) + 1);
	strata_buf_reset(&w->last);
	strata_buf_put(&w->last, a->version, strlen(a->version) + 1);
	strata_buf_put(&w->last, a->name, strlen(a->name) + 1);
	if (w->last.failed)
		return strata_error_set(w->e, STRATA_ERROR, "out of memory");
	while (w->version && error >= 0 &&
	       (cmp = strata_migration_key_cmp(w->version, w->name, a->version, a->name)) < 0)
		error = pending(w);
	if (error < 0)
		return error;
	if (w->version && cmp == 0) {
		/* the version and name as the file writes them (001 for a row's 1), as the full
		 * read shows them */
		entry.version = w->version;
		entry.name = w->name;
		entry.file = strata_buf_cstr(&w->path);
		entry.state = a->status == STRATA_APPLIED_OK        ? STRATA_STATE_APPLIED
		              : a->status == STRATA_APPLIED_RUNNING ? STRATA_STATE_RUNNING
		                                                    : STRATA_STATE_FAILED;
		if ((error = emit(w, &entry)) < 0 || (error = advance(w)) < 0)
			return error;
		return 0;
	}
	entry.state = STRATA_STATE_MISSING;
	return emit(w, &entry);
}

/* Whether src is one build (or a build's output) whose manifest vouches for its directory, or
 * one directory of sources without a manifest (*plain). */
static bool streamable(const strata_source *src, const strata_conn *c, bool *plain, size_t *count)
{
	strata_history_summary sum;
	char *manifest;
	struct stat st;

	*plain = false;
	if (!c->engine->history_each || src->ndirs != 1 || src->nmems)
		return false;
	if (strata_build_summary(src->dirs[0].src_dir, src->dirs[0].dir, &sum)) {
		*count = sum.rows;
		return true;
	}
	if (src->dirs[0].src_dir || !(manifest = strata_fs_join(src->dirs[0].dir, STRATA_MANIFEST)))
		return false;
	*plain = stat(manifest, &st) != 0 && errno == ENOENT;
	free(manifest);
	return *plain;
}

/* The merge; returns 1 (having handed out nothing) when it cannot be streamed. count: the
 * migrations of a build (a plain directory's are counted here); as few rows as that are read
 * in one piece and sorted by the engine (STRATA_EACH_FEW), more are streamed in order. */
static int stream(strata_db *db, struct walk *w, bool plain, size_t count)
{
	strata_conn *c = db->conn;
	size_t longest[2];
	int error;

	if (plain)
		error = strata_catalog_walk_open(&w->cw, w->dir, w->e);
	else
		error = strata_manifest_stream_open(&w->ms, w->dir, STRATA_MANIFEST_FILES, longest,
		                                    w->e);
	if (error < 0)
		return error;
	/* sources are read whole once before anything is listed, so that a file that does not
	 * parse fails the listing before its first line, as the full read does; then again, a
	 * migration at a time, as they are listed */
	if (plain && (error = strata_catalog_walk_check(w->cw, &count, w->e)) < 0)
		return error;
	if (plain)
		strata_catalog_walk_longest(w->cw, longest);
	/* a manifest from before longest_* (of migrations: an empty one has none): the columns are
	 * unknown */
	if (!longest[0] && !plain && count > 0)
		return 1;
	w->head.longest_version = longest[0];
	w->head.longest_name = longest[1];
	if ((error = advance(w)) < 0)
		return error;
	error = c->engine->history_each(c, count <= STRATA_EACH_FEW_ROWS ? STRATA_EACH_FEW : 0,
	                                on_row, w, w->e);
	if (error == 1 && w->tot->n == 0)
		return 1;
	while (error == 0 && w->version)
		error = pending(w);
	if (error == 0 && !w->head_sent)
		error = send_head(w);
	return error < 0 ? error : 0;
}

/* strata_status's entries handed out, for what cannot be streamed. */
static int from_report(strata_db *db, strata_source *src, struct walk *w)
{
	strata_status_report *r = NULL;
	int error = strata_status(db, src, &r, w->e);

	if (error < 0)
		return error;
	memset(w->tot, 0, sizeof(*w->tot));
	w->head.db_exists = r->db_exists;
	for (size_t i = 0; i < r->n; i++) {
		size_t v = strlen(r->entries[i].version), n = strlen(r->entries[i].name);
		w->head.longest_version = v > w->head.longest_version ? v : w->head.longest_version;
		w->head.longest_name = n > w->head.longest_name ? n : w->head.longest_name;
	}
	for (size_t i = 0; i < r->n && error >= 0; i++)
		error = emit(w, &r->entries[i]);
	if (error >= 0 && !w->head_sent)
		error = send_head(w);
	strata_status_report_free(r);
	return error < 0 ? error : 0;
}

int strata_status_each(strata_db *db, strata_source *src, const strata_status_callbacks *cb,
                       strata_status_report *totals, strata_error *e)
{
	strata_status_report tot = {0};
	struct walk w = {
	    .cb = cb, .tot = &tot, .e = e, .path = STRATA_BUF_INIT, .last = STRATA_BUF_INIT};
	int error = 1;
	bool plain;
	size_t count = 0;

	if (totals)
		memset(totals, 0, sizeof(*totals));
	if (!db || !src || !cb || !cb->entry)
		return api_bad_arg(e, "strata_status_each",
		                   !db    ? "no database"
		                   : !src ? "no source"
		                          : "no entry callback");
	if (db->conn->interrupted)
		return strata_conn_interrupted(e);
	w.head.db_exists = strata_db_exists(db);
	if (streamable(src, db->conn, &plain, &count)) {
		double t0 = strata_now_ms();
		w.dir = src->dirs[0].dir;
		if ((error = stream(db, &w, plain, count)) == 0)
			api_phase(db, "stream", strata_now_ms() - t0, tot.n,
			          plain ? 0 : STRATA_EVENT_FROM_MANIFEST);
	}
	strata_manifest_stream_close(w.ms);
	strata_catalog_walk_close(w.cw);
	free(w.version);
	free(w.name);
	strata_buf_free(&w.path);
	strata_buf_free(&w.last);
	if (error > 0) {
		struct walk again = {.cb = cb, .tot = &tot, .e = e};
		error = from_report(db, src, &again);
	}
	tot.db_exists = w.head.db_exists;
	if (totals && error == 0)
		*totals = tot;
	return error;
}
