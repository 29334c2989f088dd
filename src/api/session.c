/* session.c: what a use case holds while it runs: options, the catalog, the lock, the history,
 * and the checks before a run. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/integrity.h"
#include "util/clock.h"
#include "util/error.h"

int api_run_options(strata_run_options *out, const strata_run_options *o, const char *fn,
                    strata_error *e)
{
	static const strata_run_options defaults = STRATA_RUN_OPTIONS_INIT;
	if (!o) {
		*out = defaults;
		return 0;
	}
	if (o->version < 1 || o->version > STRATA_RUN_OPTIONS_VERSION)
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: run options of an unknown version %u", fn, o->version);
	*out = defaults;
	if (o->version == 1) /* a version-1 caller's struct ends before max_replica_lag_ms */
		memcpy(out, o, offsetof(strata_run_options, max_replica_lag_ms));
	else if (o->version == 2) /* ... a version-2 one before no_step_list */
		memcpy(out, o, offsetof(strata_run_options, no_step_list));
	else
		*out = *o;
	out->version = STRATA_RUN_OPTIONS_VERSION;
	o = out;
	if (o->to && !strata_is_version(o->to))
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: to: '%s' is not a version (digits only)", fn, o->to);
	if (o->lock_wait_ms < 0 || o->lock_timeout_ms < 0 || o->statement_timeout_ms < 0 ||
	    o->lock_retries < 0 || o->lock_ttl_ms <= 0)
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: run options out of range: times and retries may not "
		                        "be negative, and lock_ttl_ms must be above 0",
		                        fn);
	if (o->max_replica_lag_ms < 0 || o->replica_wait_timeout_ms <= 0)
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "%s: run options out of range: max_replica_lag_ms may not be "
		    "negative, and replica_wait_timeout_ms must be above 0",
		    fn);
	if (o->lock_strategy != STRATA_LOCK_ADVISORY && o->lock_strategy != STRATA_LOCK_TABLE)
		return strata_error_set(e, STRATA_EINVALID, "%s: unknown lock_strategy %d", fn,
		                        (int)o->lock_strategy);
	if ((o->steps != 0) + (o->to != NULL) + o->all > 1)
		return strata_error_set(e, STRATA_EINVALID, "%s: give one of steps, to and all",
		                        fn);
	return 0;
}

int api_session_open(api_session *s, strata_db *db, const strata_source *src,
                     const strata_run_options *o, const char *fn, strata_error *e)
{
	memset(s, 0, sizeof(*s));
	s->db = db;
	s->src = src;
	return api_run_options(&s->o, o, fn, e);
}

int api_begin(api_session *s, strata_db *db, const strata_source *src, const strata_run_options *o,
              size_t size, void **report, const char *fn, strata_error *e)
{
	int error;

	*report = NULL;
	memset(s, 0, sizeof(*s));
	if (!db || !src)
		return api_bad_arg(e, fn, !db ? "no database" : "no source");
	if (db->conn->interrupted)
		return strata_conn_interrupted(e);
	if ((error = api_session_open(s, db, src, o, fn, e)) < 0)
		return error;
	if (!(*report = calloc(1, size))) {
		api_session_close(s);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	return 0;
}

void api_session_close(api_session *s)
{
	/* a table lock's row is deleted, an advisory lock let go, for the next use of the db */
	if (s->locked)
		s->db->conn->engine->unlock(s->db->conn);
	strata_history_free(&s->hist);
	strata_catalog_free(&s->cat);
	strata_catalog_batches_close(s->batches);
	memset(s, 0, sizeof(*s));
}

static bool from_manifests(const strata_catalog *c)
{
	for (size_t d = 0; d < c->ndirs; d++)
		if (c->from_manifest[d])
			return true;
	return false;
}

int api_session_read(api_session *s, enum api_read mode, strata_error *e)
{
	double t0 = strata_now_ms();
	int error;

	s->cat_read = true;
	if ((error = api_catalog(&s->cat, s->src, mode, e)) < 0) {
		const char *dist, *src;
		if (e->code == STRATA_ENOTFOUND && !e->line && api_lone_build(s->src, &dist, &src))
			api_hint_build(e, dist, src);
		api_map_to_src(s->src, e);
		return error;
	}
	api_phase(s->db, "read", strata_now_ms() - t0, s->cat.n,
	          from_manifests(&s->cat) ? STRATA_EVENT_FROM_MANIFEST : 0);
	return 0;
}

static void on_lock_wait(void *ud, const char *holder)
{
	strata_event ev = {.kind = STRATA_EVENT_LOCK_WAIT, .message = holder};
	api_emit(ud, &ev);
}

int api_session_lock(api_session *s, strata_error *e)
{
	strata_conn *c = s->db->conn;
	strata_lock_opts lo = {.strategy = s->o.lock_strategy,
	                       .wait_ms = s->o.lock_wait_ms,
	                       .ttl_ms = s->o.lock_ttl_ms,
	                       .on_wait = on_lock_wait,
	                       .ud = s->db};
	double t0 = strata_now_ms();
	int error;

	if (s->outer_lock || s->locked)
		return 0;
	if ((error = c->engine->lock(c, &lo, e)) < 0)
		return error;
	s->locked = true;
	api_phase(s->db, "lock", strata_now_ms() - t0, 0, 0);
	return 0;
}

int api_session_history(api_session *s, unsigned flags, strata_error *e)
{
	strata_conn *c = s->db->conn;
	double t0 = strata_now_ms();
	int error;

	strata_history_free(&s->hist);
	if (s->applied_order)
		flags |= STRATA_HISTORY_APPLIED_ORDER;
	if ((error = c->engine->history_load(c, &s->hist, flags, e)) < 0)
		return error;
	api_phase(s->db, "history", strata_now_ms() - t0, s->hist.n, 0);
	return 0;
}

struct verify_ctx {
	const strata_source *src;
	void (*report)(void *ud, const strata_error *e);
	void *ud;
	strata_error *first;
	int n;
};

static void collect(void *ud, const strata_error *e)
{
	struct verify_ctx *v = ud;
	strata_error copy = *e;
	api_map_to_src(v->src, &copy);
	if (v->n++ == 0)
		*v->first = copy;
	if (v->report)
		v->report(v->ud, &copy);
}

static void ignore(void *ud, const strata_error *e)
{
	(void)ud;
	(void)e;
}

int api_session_verify(api_session *s, const strata_plan *plan, bool all,
                       void (*report)(void *ud, const strata_error *e), void *ud, strata_error *e)
{
	strata_verify_opts vo = {.skip_checksums = s->o.ignore_checksums,
	                         .allow_out_of_order = s->o.allow_out_of_order};
	const char **dirs = api_dir_list(s->src);
	const char **srcs = calloc(s->src->ndirs + 1, sizeof(*srcs));
	struct verify_ctx v = {.src = s->src, .report = report, .ud = ud, .first = e};
	strata_history full;
	strata_error ignored = STRATA_ERROR_INIT;
	int n;

	if (!dirs || !srcs) {
		free(dirs);
		free(srcs);
		strata_error_set(e, STRATA_ERROR, "out of memory");
		return 1;
	}
	vo.dirs = dirs;
	vo.ndirs = s->src->ndirs;
	vo.src_dirs = srcs; /* every build's freshness */
	for (size_t i = 0; i < s->src->ndirs; i++)
		srcs[i] = s->src->dirs[i].src_dir;
	if (s->o.ignore_checksums)
		api_notice(s->db, "ignore_checksums: NOT checking the build manifest, whether the "
		                  "build is up to date, or that applied migrations are unchanged");
	/* a run reads the history brief (no dates): with a problem to report, it is read again in
	 * full first, so that the report says when the migration was applied */
	if (strata_verify_all(&s->cat, &s->hist, plan, &vo, all, ignore, NULL) == 0) {
		free(dirs);
		free(srcs);
		return 0;
	}
	if (s->db->conn->engine->history_load(s->db->conn, &full, 0, &ignored) == 0) {
		strata_history_free(&s->hist);
		s->hist = full;
	}
	strata_verify_all(&s->cat, &s->hist, plan, &vo, all, collect, &v);
	n = v.n;
	free(dirs);
	free(srcs);
	return n;
}
