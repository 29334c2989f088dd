/* run.c: strata_run, strata_revert and strata_repair: the checks, the lock, the plan, the run,
 * and the report of what became of each migration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/run_internal.h"
#include "core/integrity.h"
#include "core/runner.h"
#include "util/clock.h"
#include "util/error.h"

void strata_run_report_free(strata_run_report *pub)
{
	struct run_report *r = (struct run_report *)pub;
	if (!r)
		return;
	api_run_report_clear(r);
	if (r->one) /* the plan borrows the repair's step */
		r->plan.steps = NULL;
	free(r->one);
	strata_unrecord_free(&r->unrec);
	strata_history_free(&r->hist);
	strata_plan_free(&r->plan);
	strata_catalog_free(&r->cat);
	free(r);
}

void api_run_report_clear(struct run_report *r)
{
	for (size_t i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	free(r->strings);
	free(r->keys);
	free(r->firsts);
	free(r->steps);
	free(r->state);
	free(r->ms);
	r->strings = NULL;
	r->keys = NULL;
	r->firsts = NULL;
	r->steps = NULL;
	r->state = NULL;
	r->ms = NULL;
	r->nstrings = r->strings_cap = r->nfirsts = r->firsts_cap = r->cap = 0;
}

/* Room for each step's state and time, for the runner to fill. */
static int report_alloc(struct run_report *r, strata_error *e)
{
	size_t n = r->plan.n ? r->plan.n : 1;
	r->steps = calloc(n, sizeof(*r->steps));
	r->state = calloc(n, sizeof(*r->state));
	r->ms = calloc(n, sizeof(*r->ms));
	if (!r->steps || !r->state || !r->ms)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

void api_step_report(const strata_step *st, strata_step_report *p)
{
	const strata_section *sec = st->dir == STRATA_UP ? &st->m->up : &st->m->down;
	*p = (strata_step_report){
	    .version = st->m->version,
	    .name = st->m->name,
	    .file = st->dir == STRATA_DOWN && st->m->down_path ? st->m->down_path : st->m->path,
	    .direction = st->dir,
	    .no_transaction = sec->no_transaction,
	    .out_of_order = st->out_of_order,
	    .is_function = sec->fn != NULL,
	    .state = STRATA_STEP_PLANNED,
	    .sql = sec->fn || !sec->text ? NULL : sec->text + sec->offset,
	    .sql_len = sec->fn || !sec->text ? 0 : sec->len};
}

void api_say_planned(const api_session *s, const strata_plan *p, size_t base, size_t total)
{
	strata_event_fn fn = s->db->opts.on_event;
	for (size_t i = 0; fn && i < p->n; i++) {
		strata_step_report st;
		strata_event ev = {.kind = STRATA_EVENT_STEP_PLANNED,
		                   .index = base + i,
		                   .total = total,
		                   .step = &st};
		api_step_report(&p->steps[i], &st);
		ev.version = st.version;
		ev.name = st.name;
		ev.file = st.file;
		ev.direction = st.direction;
		fn(&ev, s->db->opts.userdata);
	}
}

/* The public steps, from the plan and what the runner recorded. */
static void report_steps(struct run_report *r)
{
	for (size_t i = 0; r->steps && i < r->plan.n; i++) {
		api_step_report(&r->plan.steps[i], &r->steps[i]);
		r->steps[i].state = r->state ? r->state[i] : STRATA_STEP_PLANNED;
		r->steps[i].ms = r->ms ? r->ms[i] : 0;
	}
	r->pub.steps = r->steps;
	r->pub.n = r->steps ? r->plan.n : 0;
}

void api_run_opts(const api_session *s, strata_run_opts *ro)
{
	*ro = (strata_run_opts){.fake = s->o.fake,
	                        .one_transaction = s->o.one_transaction,
	                        .set_timeouts = true,
	                        .lock_timeout_ms = s->o.lock_timeout_ms,
	                        .statement_timeout_ms = s->o.statement_timeout_ms,
	                        .lock_retries = s->o.lock_retries,
	                        .on_event = s->db->opts.on_event,
	                        .ud = s->db->opts.userdata,
	                        .max_replica_lag_ms = s->o.max_replica_lag_ms,
	                        .replica_wait_timeout_ms = s->o.replica_wait_timeout_ms};
}

/* Runs the plan and records the outcome in the report. */
static int execute(api_session *s, struct run_report *r, strata_error *e)
{
	strata_run_opts ro;
	strata_run_result rr = {.state = r->state, .step_ms = r->ms};
	int error;

	api_run_opts(s, &ro);
	error = strata_runner_execute(s->db->conn, &r->plan, &ro, &rr, e);

	r->pub.done = rr.done;
	r->pub.skipped = rr.skipped;
	r->pub.retries = rr.retries;
	r->pub.ms = rr.ms;
	if (error < 0) {
		r->pub.failed = (long)rr.failed;
		r->pub.not_started = rr.not_started;
		r->pub.statements = rr.statements;
		r->pub.failed_statement = rr.failed_statement;
		api_map_to_src(s->src, e);
	}
	return error;
}

/* Stores the row hashes the history's summary is made of where rows lack them (written by an
 * older strata or by hand) or have wrong ones; called once the run's checks passed, so a refused
 * run writes nothing, nor does a dry run (which reads no row hashes). Best effort: without them,
 * runs read the whole history. */
static void store_row_hashes(api_session *s)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_conn *c = s->db->conn;
	if (s->by_summary && !s->o.dry_run && c->engine->history_fill_hashes &&
	    c->engine->history_fill_hashes(c, &s->hist, &e) < 0)
		api_notice(s->db, "cannot store the history's row hashes (%s): runs read all of it",
		           e.msg);
}

/* Whether the history's summary shows the build fully applied: then nothing is read. `unlocked`:
 * before the lock, which the engine then takes only for the length of its one query, and when
 * no other runner holds it (core/engine.h). */
static int summary_matches(api_session *s, bool unlocked, strata_error *e)
{
	strata_conn *c = s->db->conn;
	strata_history_summary db;
	double t0 = strata_now_ms();
	int found;

	s->applied_found = false;
	if (!s->by_summary || !c->engine->history_summary)
		return 0;
	if ((found = c->engine->history_summary(c, s->o.lock_wait_ms, unlocked, &db, e)) < 0)
		return found;
	s->applied_found = found;
	s->applied = db;
	s->applied_ms = strata_now_ms() - t0;
	if (!found || db.no_table || db.rows != s->built.rows || db.digest != s->built.digest ||
	    db.unfinished)
		return 0;
	api_phase(s->db, "summary", strata_now_ms() - t0, (size_t)db.rows, 0);
	/* nothing to run, from the history's aggregate: the next run reads the summary again */
	if (db.stale && !s->o.dry_run && c->engine->history_summary_keep)
		c->engine->history_summary_keep(c);
	return 1;
}

/* What load returns when the summary answered (1: nothing to run) or failed. */
static int by_summary(struct run_report *r, const api_session *s, int error)
{
	if (error > 0) {
		r->pub.by_summary = true;
		r->pub.migrations = (size_t)s->built.rows;
	}
	return error;
}

/* A run of one build whose history (its summary, under the lock) is the build's first rows, as
 * when a deploy brings a few new migrations or the database is new, with one transaction per
 * migration: of the build only the ones after them are listed, a batch at a time, from its
 * manifest read entry by entry (run_batches.c); the history is not read. 1 (nothing read) when
 * the history is not such a prefix: then the full read. */
static int load_pending(api_session *s, strata_error *e)
{
	int error;

	/* as for nothing to run, the summary trusts the row hashes strata writes with each row: a
	 * checksum edited by hand in the history, its row hash left, is not seen (validate sees it;
	 * the files are what the history's hashes say, which is what matters for what runs) */
	if (!s->applied_found || s->applied.unfinished || s->o.one_transaction ||
	    s->src->ndirs != 1 || s->src->nmems)
		return 1;
	if ((error = strata_catalog_batches_open(&s->batches, s->src->dirs[0].dir, &s->applied,
	                                         e)) != 0)
		return error;
	/* nothing applied: the history table is made (or found empty, as the lock keeps it; a dry
	 * run makes none) */
	if (s->applied.rows == 0 &&
	    ((error =
	          api_session_history(s,
	                              s->o.dry_run ? STRATA_HISTORY_BRIEF
	                                           : STRATA_HISTORY_CREATE | STRATA_HISTORY_BRIEF,
	                              e)) < 0 ||
	     s->hist.n)) {
		strata_catalog_batches_close(s->batches);
		s->batches = NULL;
		return error < 0 ? error : 1;
	}
	if (s->applied.rows)
		api_phase(s->db, "prefix", s->applied_ms, (size_t)s->applied.rows, 0);
	return 0;
}

/* Under the lock, when the summary did not answer: the catalog (unless read) and the whole
 * history. Also for a batched run that its checks refused, so that the refusal is the one a run
 * without batches makes. */
static int load_all(api_session *s, strata_error *e)
{
	unsigned flags = STRATA_HISTORY_CREATE | STRATA_HISTORY_BRIEF;
	int error;

	strata_catalog_batches_close(s->batches);
	s->batches = NULL;
	if (!s->cat_read && (error = api_session_read(s, API_READ_BUILT, e)) < 0)
		return error;
	if (s->o.dry_run) /* (a dry run's batches refused something) */
		return api_session_history(s, STRATA_HISTORY_BRIEF, e);
	if (s->by_summary && s->db->conn->engine->history_fill_hashes)
		flags |= STRATA_HISTORY_ROW_HASH;
	return api_session_history(s, flags, e);
}

/* Reads what a run needs (the catalog, unless the summary may do; the history), under the lock
 * unless it is a dry run. Returns 1 when the summary answered: nothing to run. */
static int load(api_session *s, struct run_report *r, bool summary, strata_error *e)
{
	enum api_read mode = s->o.ignore_checksums ? API_READ_ALL : API_READ_BUILT;
	int error;

	/* the files are read and checked before the database is touched: whole, or (when the
	 * summary may answer) from a build's manifest, or a migration at a time */
	s->by_summary = summary && !s->o.to && !s->o.ignore_checksums &&
	                s->db->conn->engine->history_summary &&
	                api_source_summary(s->src, true, &s->built);
	if (!s->by_summary && (error = api_session_read(s, mode, e)) < 0)
		return error;
	if (s->o.dry_run) { /* no lock (the summary's try of it aside), no history table made */
		if ((error = summary_matches(s, true, e)) != 0)
			return by_summary(r, s, error);
		if (!s->cat_read && (error = load_pending(s, e)) <= 0)
			return error;
		if (!s->cat_read && (error = api_session_read(s, mode, e)) < 0)
			return error;
		return api_session_history(s, STRATA_HISTORY_BRIEF, e);
	}
	/* with the advisory lock, the summary is read first, the lock taken in the same round
	 * trip; else (the table lock, or the caller's) under the lock, as the rest */
	if (s->o.lock_strategy == STRATA_LOCK_ADVISORY && !s->outer_lock &&
	    (error = summary_matches(s, true, e)) != 0)
		return by_summary(r, s, error);
	if ((error = api_session_lock(s, e)) < 0)
		return error;
	if ((error = summary_matches(s, false, e)) != 0)
		return by_summary(r, s, error);
	if (!s->cat_read && (error = load_pending(s, e)) <= 0)
		return error;
	return load_all(s, e);
}

/* What a revert of the newest `steps` from one build reads (no fake, no version to go down to,
 * not all): of the history, those rows and the highest versions (history_newest); of the
 * build, only the migrations they name, from its manifest read entry by entry. Neither grows
 * with the number of migrations. A dry run reads the same, without the lock. Returns 1 (having
 * read nothing, maybe holding the lock) when this source or this history cannot be read so:
 * then load. */
static int load_newest(api_session *s, strata_error *e)
{
	strata_conn *c = s->db->conn;
	const char *dir = s->src->ndirs == 1 ? s->src->dirs[0].dir : NULL;
	double t0;
	int error;

	if (s->o.fake || s->o.to || s->o.all || s->o.ignore_checksums ||
	    !c->engine->history_newest || !dir || !api_source_summary(s->src, false, &s->built))
		return 1;
	if (!s->o.dry_run && (error = api_session_lock(s, e)) < 0)
		return error;
	t0 = strata_now_ms();
	if ((error =
	         c->engine->history_newest(c, s->o.steps ? s->o.steps : 1, NULL, &s->hist, e)) != 0)
		return error;
	api_phase(s->db, "history", strata_now_ms() - t0, s->hist.n, 0);
	t0 = strata_now_ms();
	if ((error = strata_catalog_load_listed(&s->cat, dir, &s->hist, e)) != 0) {
		strata_history_free(&s->hist);
		return error;
	}
	s->cat_read = true;
	api_phase(s->db, "read", strata_now_ms() - t0, s->cat.n, STRATA_EVENT_FROM_MANIFEST);
	return 0;
}

/* The plan made, the report sized for it; runs it unless it is empty or a dry run. */
static int run_plan(api_session *s, struct run_report *r, strata_error *e)
{
	int error;
	/* a revert's catalog may hold only what it reverts (load_newest) */
	r->pub.migrations = s->cat.partial ? (size_t)s->built.rows : s->cat.n;
	if ((error = report_alloc(r, e)) < 0 || r->plan.n == 0)
		return error;
	if (s->o.dry_run) {
		api_say_planned(s, &r->plan, 0, r->plan.n);
		return 0;
	}
	return execute(s, r, e);
}

/* Hands the catalog over to the report (its steps point into it) and the report to the caller. */
static void finish(api_session *s, struct run_report *r, strata_run_report **out)
{
	r->cat = s->cat;
	memset(&s->cat, 0, sizeof(s->cat));
	if (!r->unrecording && !r->batched)
		report_steps(r);
	if (!r->pub.failed_step && r->pub.steps && r->pub.failed >= 0 &&
	    (size_t)r->pub.failed < r->pub.n)
		r->pub.failed_step = &r->pub.steps[r->pub.failed];
	if (s->o.no_step_list && !r->unrecording)
		r->pub.steps = NULL;
	api_session_close(s);
	if (out)
		*out = &r->pub;
	else
		strata_run_report_free(&r->pub);
}

/* What run, revert and repair do first: check the arguments, open the session and make the
 * report. */
static int begin(api_session *s, struct run_report **r, strata_db *db, strata_source *src,
                 const strata_run_options *o, strata_run_report **out, const char *fn,
                 strata_error *e)
{
	void *p;
	int error;

	if (out)
		*out = NULL;
	if ((error = api_begin(s, db, src, o, sizeof(**r), &p, fn, e)) < 0)
		return error;
	*r = p;
	(*r)->pub.failed = -1;
	(*r)->pub.failed_statement = -1;
	return 0;
}

int strata_run(strata_db *db, strata_source *src, const strata_run_options *o,
               strata_run_report **out, strata_error *e)
{
	return api_run(db, src, o, false, out, e);
}

int api_run(strata_db *db, strata_source *src, const strata_run_options *o, bool locked,
            strata_run_report **out, strata_error *e)
{
	api_session s;
	struct run_report *r;
	double t0 = strata_now_ms();
	int error;

	if ((error = begin(&s, &r, db, src, o, out, locked ? "strata_seed" : "strata_run", e)) < 0)
		return error;
	s.outer_lock = locked;
	if ((error = load(&s, r, true, e)) != 0) {
		error = error > 0 ? 0 : error;
		goto done;
	}
	/* 1: the batches' checks refused something, which the full read says */
	if (s.batches &&
	    ((error = api_run_batches(&s, r, t0, e)) <= 0 || (error = load_all(&s, e)) < 0))
		goto done;
	if ((error = strata_plan_up(&r->plan, &s.cat, &s.hist, s.o.to, e)) < 0) {
		api_map_to_src(src, e);
		r->pub.not_started = true;
		goto done;
	}
	if (api_session_verify(&s, &r->plan, false, NULL, NULL, e) > 0) {
		error = e->code ? e->code : STRATA_EINVALID;
		r->pub.not_started = true;
		goto done;
	}
	api_phase(db, "plan", strata_now_ms() - t0, r->plan.n, 0);
	store_row_hashes(&s);
	error = run_plan(&s, r, e);
done:
	finish(&s, r, out);
	return error;
}

/* The report of a revert with fake: one step per row removed (a NULL file when it has none). */
static void unrecord_steps(struct run_report *r, strata_step_state state)
{
	for (size_t i = 0; i < r->unrec.n; i++) {
		const strata_applied *a = r->unrec.rows[i];
		const strata_migration *m = r->unrec.m[i];
		r->steps[i] =
		    (strata_step_report){.version = a->version,
		                         .name = a->name,
		                         .file = m ? (m->down_path ? m->down_path : m->path) : NULL,
		                         .direction = STRATA_DOWN,
		                         .out_of_order = a->out_of_order,
		                         .state = state};
	}
	r->pub.steps = r->steps;
	r->pub.n = r->unrec.n;
	r->pub.done = state == STRATA_STEP_DONE ? r->unrec.n : 0;
}

/* revert with fake: the newest rows removed from the history, all in one transaction, running
 * no SQL of theirs, needing no file. The history is read again with its dates (which rows were
 * recorded last), unless `read` is false: api_unrecord_pick read what is needed of it. */
static int revert_fake(api_session *s, struct run_report *r, const strata_revert_opts *ro,
                       bool read, strata_error *e)
{
	strata_conn *c = s->db->conn;
	strata_history_edit *ed = NULL;
	double t0 = strata_now_ms();
	int error;

	r->unrecording = true;
	r->pub.not_started = true;
	if ((read && (error = api_session_history(s, 0, e)) < 0) ||
	    (error = strata_plan_unrecord(&r->unrec, &s->cat, &s->hist, ro, e)) < 0)
		return error;
	r->hist = s->hist; /* the report's steps point into it */
	memset(&s->hist, 0, sizeof(s->hist));
	r->pub.migrations = s->cat.n;
	if (!(r->steps = calloc(r->unrec.n ? r->unrec.n : 1, sizeof(*r->steps))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	unrecord_steps(r, STRATA_STEP_PLANNED);
	if (s->o.dry_run || r->unrec.n == 0)
		return 0;
	if (!c->engine->history_edit)
		return strata_error_set(e, STRATA_ERROR, "the %s engine cannot unrecord migrations",
		                        c->engine->name);
	if (!(ed = calloc(r->unrec.n, sizeof(*ed))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < r->unrec.n; i++)
		ed[i] = (strata_history_edit){.version = r->unrec.rows[i]->version,
		                              .name = r->unrec.rows[i]->name,
		                              .checksum = r->unrec.rows[i]->checksum};
	error = c->engine->history_edit(c, ed, r->unrec.n, e);
	free(ed);
	if (error < 0)
		return error;
	r->pub.not_started = false;
	r->pub.ms = strata_now_ms() - t0;
	unrecord_steps(r, STRATA_STEP_DONE);
	return 0;
}

void api_say_revert_order(api_session *s, const char *version, const char *name, const char *path,
                          const char *higher_version, const char *higher_name)
{
	char higher[512];
	strata_event ev = {.kind = STRATA_EVENT_REVERT_ORDER,
	                   .version = version,
	                   .name = name,
	                   .file = path,
	                   .direction = STRATA_DOWN,
	                   .message = higher};
	snprintf(higher, sizeof(higher), "%s-%s", higher_version, higher_name);
	api_emit(s->db, &ev);
}

void api_say_not_highest(api_session *s, const strata_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const strata_step *st = &plan->steps[i];
		if (!st->higher)
			continue;
		api_say_revert_order(s, st->m->version, st->m->name, st->m->path,
		                     st->higher->version, st->higher->name);
		return;
	}
}

int strata_revert(strata_db *db, strata_source *src, const strata_run_options *o,
                  strata_run_report **out, strata_error *e)
{
	api_session s;
	struct run_report *r;
	strata_revert_opts ro;
	size_t n = 0;
	int error, picked = 0;

	if ((error = begin(&s, &r, db, src, o, out, "strata_revert", e)) < 0)
		return error;
	s.applied_order = true; /* the most recently applied first */
	/* to a version or all, a batch at a time (revert_batches.c) */
	if ((error = api_revert_batches(&s, r, e)) <= 0)
		goto done;
	/* (with fake, of the newest few: those rows and their files, unrecord_stream.c) */
	if ((error = load_newest(&s, e)) > 0 &&
	    (error = picked = api_unrecord_pick(&s, &n, e)) == 0)
		error = load(&s, r, false, e);
	if (error < 0)
		goto done;
	ro = (strata_revert_opts){.steps = s.o.steps, .to_version = s.o.to, .all = s.o.all};
	if (s.o.fake) {
		error = revert_fake(&s, r, &ro, picked != 1, e);
		if (picked == 1)
			r->pub.migrations = n; /* the source's, not the catalog's few */
		goto done;
	}
	if ((error = strata_plan_down(&r->plan, &s.cat, &s.hist, &ro, e)) < 0) {
		api_map_to_src(src, e);
		r->pub.not_started = true;
		goto done;
	}
	api_say_not_highest(&s, &r->plan);
	error = run_plan(&s, r, e);
done:
	finish(&s, r, out);
	return error;
}

/* The migration left failed or running, and its file; the checks a resumed run needs. */
static int repair_target(api_session *s, const strata_applied **u, strata_migration **m,
                         strata_error *e)
{
	const char **dirs = api_dir_list(s->src);
	int error = 0;

	*m = NULL;
	if (!(*u = strata_history_unfinished(&s->hist)))
		goto done;
	if (!(*m = strata_catalog_find(&s->cat, (*u)->version, (*u)->name))) {
		strata_error_hint(e,
		                  "add the directory that holds it with strata_source_add_dir()");
		error = strata_error_set(e, STRATA_ENOTFOUND,
		                         "cannot repair %s-%s: it is in none of the source's "
		                         "migrations",
		                         (*u)->version, (*u)->name);
		goto done;
	}
	if (!dirs) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	error = strata_verify_manifests(&s->cat, dirs, s->src->ndirs, e);
	for (size_t i = 0; i < s->src->ndirs && error == 0; i++)
		if (s->src->dirs[i].src_dir)
			error = strata_verify_build(&s->cat, i, s->src->dirs[i].src_dir,
			                            s->src->dirs[i].dir, e);
	if (error < 0)
		api_map_to_src(s->src, e);
done:
	free(dirs);
	return error;
}

/* The common answer without holding the migrations or the history: under the lock, the source
 * and the history are proven as strata_validate proves them (validate_stream.c), which doubts
 * any row that is not applied, and at least one migration is applied (a database strata never
 * ran on takes the full read, which makes the history table). 1 when so; 0 when the full read
 * must answer (something to repair, a doubt); < 0 on error. */
static int nothing_to_repair(api_session *s, strata_error *e)
{
	size_t migrations, pending;
	double t0 = strata_now_ms();
	int error;

	if ((error = api_session_lock(s, e)) < 0)
		return error;
	if (api_validate_streamed(s, &migrations, &pending, e) != 1 || migrations == pending)
		return 0;
	api_phase(s->db, "checked", strata_now_ms() - t0, migrations, 0);
	return 1;
}

int strata_repair(strata_db *db, strata_source *src, const strata_run_options *o,
                  strata_run_report **out, strata_error *e)
{
	api_session s;
	struct run_report *r;
	const strata_applied *u = NULL;
	strata_migration *m = NULL;
	int error;

	if ((error = begin(&s, &r, db, src, o, out, "strata_repair", e)) < 0)
		return error;
	if ((error = nothing_to_repair(&s, e)) != 0) {
		error = error < 0 ? error : 0;
		goto done;
	}
	if ((error = api_session_read(&s, API_READ_ALL, e)) < 0 ||
	    (error = api_session_lock(&s, e)) < 0 ||
	    (error = api_session_history(&s, STRATA_HISTORY_CREATE | STRATA_HISTORY_BRIEF, e)) <
	        0 ||
	    (error = repair_target(&s, &u, &m, e)) < 0 || !u)
		goto done;
	r->pub.repaired = true;
	r->pub.resumed_from = u->progress;
	if (!(r->one = calloc(1, sizeof(*r->one)))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	*r->one = (strata_step){
	    .m = m, .dir = STRATA_UP, .out_of_order = u->out_of_order, .resume_from = u->progress};
	r->plan.steps = r->one;
	r->plan.n = 1;
	if ((error = report_alloc(r, e)) < 0)
		goto done;
	if (s.o.mark_applied) {
		if ((error = db->conn->engine->mark_applied(db->conn, m, e)) == 0) {
			r->pub.marked_applied = true;
			r->pub.done = 1;
			r->state[0] = STRATA_STEP_DONE;
		}
		goto done;
	}
	if (!m->up.no_transaction) {
		strata_error_at(e, m->path, 0, 0);
		strata_error_hint(e,
		                  "it is recorded as %s, but its file is transactional now: "
		                  "use mark_applied if the database already has the change",
		                  strata_applied_status_name(u->status));
		error = strata_error_set(e, STRATA_EINVALID, "cannot resume %s-%s", m->version,
		                         m->name);
		goto done;
	}
	s.o.fake = false;
	error = execute(&s, r, e);
done:
	finish(&s, r, out);
	return error;
}
