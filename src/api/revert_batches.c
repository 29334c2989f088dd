/*
 * revert_batches.c: a revert to a version, or of everything, from one build, BATCH migrations at
 * a time (strata_revert with no_step_list; not fake, one transaction per migration), or its dry
 * run. Memory holds one batch, not the build and the history.
 *
 * Pass 1, under the lock (a dry run takes none), proves what the full read would find, holding one
 * manifest entry and one history row at a time, merged in the order of versions: every row applied,
 * with an entry of the build's manifest of its version, name and checksum; the version to go down
 * to applied; each migration to revert read (its files checked against the manifest), revertible
 * and accepted by the runner's checks; and they are the most recently applied, every one after
 * every row that stays in the engine's order (applied_at, then on PostgreSQL the version, on
 * SQLite the order the rows were inserted in), so that each batch is the history's newest rows.
 * At any doubt nothing was sent and the full read decides, as it did.
 *
 * Pass 2 reads the history's newest rows a batch at a time (the engine's history_newest), their
 * migrations from the manifest (strata_catalog_load_listed), checks that each file is still the
 * one the history's checksum names, plans them as strata_plan_down plans and runs them. What
 * stops it (a failing migration, a file changed since pass 1, a signal, a replica behind) stops
 * it between migrations, each reverted with its row or not at all, as a revert without batches.
 * A dry run hands each batch out as STEP_PLANNED events instead, and reads the next batch after
 * the last row it handed out, as if that row and every one applied after it were gone
 * (history_newest's after).
 */
#include <stdlib.h>
#include <string.h>

#include "api/run_internal.h"
#include "core/manifest.h"
#include "core/runner.h"
#include "util/clock.h"
#include "util/error.h"

#define BATCH 256

/* A row's place in the engine's order of application (strata_applied's applied_us; or
 * applied_at's text, then applied_seq). */
struct when {
	bool set;
	int64_t us, seq;
	char at[32];
};

/* w of a; API_DOUBT when the row does not say (a date by hand, an engine that does not). */
static int when_of(struct when *w, const strata_applied *a)
{
	*w = (struct when){.set = true, .us = a->applied_us, .seq = a->applied_seq};
	if (a->has_applied_us)
		return 0;
	if (a->applied_seq <= 0 || !a->applied_at || !a->applied_at[0] ||
	    !api_plain_date(a->applied_at) || strlen(a->applied_at) >= sizeof(w->at))
		return API_DOUBT;
	strcpy(w->at, a->applied_at);
	return 0;
}

/* < 0, 0, > 0 as x was applied before y, at the same time (PostgreSQL: then the higher version
 * is the later), after it. */
static int when_cmp(const struct when *x, const struct when *y)
{
	int c;
	if (x->us != y->us)
		return x->us < y->us ? -1 : 1;
	if ((c = strcmp(x->at, y->at)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A row the note of the revert order may name: its place, version, name and file (owned). */
struct ref {
	struct when w;
	char *version, *name, *path;
};

static void ref_free(struct ref *r)
{
	free(r->version);
	free(r->name);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

/* r: the row of place w and migration m, or (m NULL) a copy of from. API_DOUBT without memory. */
static int ref_set(struct ref *r, const struct when *w, const strata_migration *m,
                   const struct ref *from)
{
	const char *v = m ? m->version : from->version, *n = m ? m->name : from->name;
	const char *p = m ? (m->path ? m->path : "") : from->path;
	char *cv = strdup(v), *cn = strdup(n), *cp = strdup(p);
	ref_free(r);
	r->w = m ? *w : from->w;
	r->version = cv;
	r->name = cn;
	r->path = cp;
	return cv && cn && cp ? 0 : API_DOUBT;
}

struct rb {
	api_session *s;
	const char *dir; /* the build */
	const char *to;  /* the version to go down to; NULL: all */
	size_t total;    /* the migrations to revert */
	bool to_found;
	struct when newest_kept; /* the latest row that stays (unset: none) */
	struct when oldest_gone; /* the earliest row reverted */
	/* the build's manifest, entry by entry, and its current entry's migration (not read) */
	strata_manifest_stream *ms;
	strata_migration *ent;
	size_t migrations;
	/* a dry run: the last step handed out, whose batch is freed (version and name, owned) */
	strata_applied after;
	/* the note of the revert order, said before the first batch as the full read says it
	 * before it runs anything: the most recently applied row to revert while one of a higher
	 * version stays applied (noted), the highest that stays then (higher); and the latest
	 * applied of the rows to revert so far (latest) */
	struct ref noted, higher, latest;
	bool order_seen; /* pass 2 met the first step a higher version outlives */
};

/* The manifest's next entry into rb->ent: 1, 0 at the end, API_DOUBT. */
static int next_entry(struct rb *rb)
{
	const strata_manifest_entry *ent;
	strata_error ignored = STRATA_ERROR_INIT;
	int more;

	strata_migration_free(rb->ent);
	rb->ent = NULL;
	if ((more = strata_manifest_stream_next(rb->ms, &ent, &ignored)) <= 0)
		return more < 0 ? API_DOUBT : 0;
	rb->migrations++;
	return strata_catalog_entry(&rb->ent, rb->dir, ent, &ignored) == 0 ? 1 : API_DOUBT;
}

/* A migration to revert: read (its files checked against the manifest), revertible, and
 * accepted by a run's checks. */
static int check_revert(struct rb *rb, strata_migration *m)
{
	strata_step step = {.m = m, .dir = STRATA_DOWN};
	strata_plan one = {.steps = &step, .n = 1, .sources = 1};
	strata_run_opts ro = {0};
	strata_run_result rr = {0};
	strata_error ignored = STRATA_ERROR_INIT;

	if (strata_migration_ensure(m, &ignored) < 0 || strata_plan_revertible(m, &ignored) < 0 ||
	    strata_runner_precheck(rb->s->db->conn, &one, &ro, &rr, &ignored) < 0)
		return API_DOUBT;
	rb->total++;
	return 0;
}

/* Pass 1, the note of the revert order, from a row of place w (in the order of versions, after
 * every row to keep, as the versions to revert are above them), `gone` when it is reverted. A
 * row to revert is reverted while a higher version stays applied when a row of a higher version
 * was applied before it (at the same time, on PostgreSQL, the higher version is the later); the
 * latest applied of those is the first reverted of them, and the note names it and the highest
 * version applied before it. */
static int note_order(struct rb *rb, const struct when *w, bool gone)
{
	/* applied before the noted row, and higher: the highest that stays when it is reverted */
	if (rb->noted.version && when_cmp(w, &rb->noted.w) < 0 &&
	    ref_set(&rb->higher, w, rb->ent, NULL) < 0)
		return API_DOUBT;
	if (!gone)
		return 0;
	if (!rb->latest.version || when_cmp(w, &rb->latest.w) >= 0)
		return ref_set(&rb->latest, w, rb->ent, NULL);
	/* applied before the latest so far, and higher: the latest is reverted while this stays */
	if (ref_set(&rb->noted, NULL, NULL, &rb->latest) < 0 ||
	    ref_set(&rb->higher, w, rb->ent, NULL) < 0)
		return API_DOUBT;
	return 0;
}

/* Pass 1, a history row (in the order of versions, as the manifest's entries): applied, with
 * the manifest entry of its version and name and its checksum; its place in the order of
 * application; when it is to be reverted, its migration checked. */
static int check_row(void *ud, const strata_applied *a)
{
	struct rb *rb = ud;
	int cmp = rb->to ? strata_version_cmp(a->version, rb->to) : 1, c = -1, more = 1;
	struct when w;

	/* (no entry left: a row after the build's last migration, as when an older build is
	 * deployed) */
	if (!rb->ent || a->status != STRATA_APPLIED_OK || when_of(&w, a) < 0)
		return API_DOUBT;
	/* the entries before it are not applied */
	while (more == 1 && (c = strata_migration_key_cmp(rb->ent->version, rb->ent->name,
	                                                  a->version, a->name)) < 0)
		if ((more = next_entry(rb)) == 0)
			return API_DOUBT; /* no entry: a row in no file of the build */
	/* (a row without a checksum, by hand, which the full read reverts unchecked, differs too)
	 */
	if (more < 0 || c != 0 || strcmp(rb->ent->version, a->version) != 0 ||
	    strcmp(rb->ent->name, a->name) != 0 || strcmp(rb->ent->checksum, a->checksum) != 0)
		return API_DOUBT;
	if (note_order(rb, &w, cmp > 0) < 0)
		return API_DOUBT;
	if (cmp <= 0) {
		rb->to_found = rb->to_found || cmp == 0;
		if (!rb->newest_kept.set || when_cmp(&w, &rb->newest_kept) > 0)
			rb->newest_kept = w;
	} else {
		if (!rb->oldest_gone.set || when_cmp(&w, &rb->oldest_gone) < 0)
			rb->oldest_gone = w;
		if (check_revert(rb, rb->ent) < 0)
			return API_DOUBT;
	}
	return next_entry(rb) < 0 ? API_DOUBT : 0;
}

/* Pass 1: 1 when proven (rb->total set), 0 when not, < 0 on an error. */
static int check_all(struct rb *rb, strata_error *e)
{
	strata_conn *c = rb->s->db->conn;
	strata_error ignored = STRATA_ERROR_INIT;
	int error;

	if (!rb->s->o.dry_run && (error = api_session_lock(rb->s, e)) < 0)
		return error;
	if (strata_manifest_stream_open(&rb->ms, rb->dir, STRATA_MANIFEST_SHA256, NULL, &ignored) <
	        0 ||
	    next_entry(rb) != 1)
		return 0;
	error = c->engine->history_each(c, STRATA_EACH_CHECKSUM, check_row, rb, e);
	if (error == API_DOUBT || error > 0) /* a doubt, or a history it cannot read so */
		return 0;
	if (error < 0)
		return error;
	/* the rest of the manifest, counted */
	while ((error = next_entry(rb)) == 1)
		;
	/* at the same time (one transaction's on PostgreSQL) the higher version, reverted, is the
	 * later */
	return error == 0 && rb->total && (!rb->to || rb->to_found) &&
	       (!rb->newest_kept.set || when_cmp(&rb->oldest_gone, &rb->newest_kept) >= 0);
}

/* Pass 2: whether the first step of the revert that a higher version outlives (the plan's
 * `higher`) is the one pass 1 noted, with the same higher version. */
static bool same_order(struct rb *rb, const strata_step *st)
{
	if (rb->order_seen || !st->higher)
		return true;
	rb->order_seen = true;
	return rb->noted.version && strcmp(st->m->version, rb->noted.version) == 0 &&
	       strcmp(st->m->name, rb->noted.name) == 0 &&
	       strcmp(st->higher->version, rb->higher.version) == 0 &&
	       strcmp(st->higher->name, rb->higher.name) == 0;
}

/* Pass 2: the history is not what pass 1 checked (another runner, or a hand, changed it). */
#define HISTORY_CHANGED "the history changed while the revert ran: "
static void hint_history_changed(strata_error *e)
{
	strata_error_hint(e, "something changed the history while this ran (a dry run takes no "
	                     "lock); see 'strata migrations show', then run it again");
}

/* Pass 2: whether each step of the batch is a row pass 1 checked, its file the one the
 * history's checksum names, in the order pass 1 found; else the error, before the batch
 * starts. */
static int same_steps(struct rb *rb, const strata_plan *plan, size_t want, strata_error *e)
{
	if (plan->n != want) {
		hint_history_changed(e);
		return strata_error_set(e, STRATA_EINVALID,
		                        HISTORY_CHANGED
		                        "it has fewer migrations to revert than were "
		                        "checked");
	}
	for (size_t i = 0; i < plan->n; i++) {
		const strata_migration *m = plan->steps[i].m;
		const strata_applied *a = strata_history_find(&rb->s->hist, m->version, m->name);
		if (!a || strcmp(a->checksum, m->checksum) != 0 ||
		    (rb->to && strata_version_cmp(m->version, rb->to) <= 0))
			return api_step_changed(m, "the revert", e);
		if (!same_order(rb, &plan->steps[i])) {
			hint_history_changed(e);
			return strata_error_set(e, STRATA_EINVALID,
			                        HISTORY_CHANGED
			                        "%s-%s is not where the checks found it "
			                        "in the order of application",
			                        m->version, m->name);
		}
	}
	return 0;
}

/* Pass 2, one batch: the history's `want` newest rows (a dry run: after rb->after, once set),
 * their migrations and their plan. 1 when the history cannot be read so (then nothing of the
 * batch was read). */
static int read_batch(struct rb *rb, strata_plan *plan, size_t want, strata_error *e)
{
	api_session *s = rb->s;
	strata_conn *c = s->db->conn;
	strata_revert_opts o = {.steps = (unsigned)want};
	int error;

	memset(plan, 0, sizeof(*plan));
	strata_history_free(&s->hist);
	strata_catalog_free(&s->cat);
	if ((error = c->engine->history_newest(c, want, rb->after.version ? &rb->after : NULL,
	                                       &s->hist, e)) != 0 ||
	    (error = strata_catalog_load_listed(&s->cat, rb->dir, &s->hist, e)) != 0)
		return error;
	if ((error = strata_plan_down(plan, &s->cat, &s->hist, &o, e)) < 0)
		return error;
	return same_steps(rb, plan, want, e);
}

/* A dry run: the batch's last step, which the next batch comes after. */
static int remember_last(struct rb *rb, const strata_plan *plan, strata_error *e)
{
	const strata_migration *m = plan->steps[plan->n - 1].m;
	free(rb->after.version);
	free(rb->after.name);
	rb->after.version = strdup(m->version);
	rb->after.name = strdup(m->name);
	if (!rb->after.version || !rb->after.name)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

/* Pass 2. 1 when the first batch cannot be read so (nothing sent: the full read). */
static int execute_all(struct rb *rb, struct run_report *r, strata_error *e)
{
	api_session *s = rb->s;
	strata_run_opts ro;
	size_t base = 0;
	int error = 0;

	api_run_opts(s, &ro);
	ro.total = rb->total;
	if (!(r->state = calloc(BATCH, sizeof(*r->state))) ||
	    !(r->ms = calloc(BATCH, sizeof(*r->ms))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	while (base < rb->total) {
		size_t want = rb->total - base < BATCH ? rb->total - base : BATCH;
		strata_run_result rr = {.state = r->state, .step_ms = r->ms};
		strata_plan plan;

		/* a dry run between its batches (a run stops in the runner) */
		if (s->o.dry_run && s->db->conn->interrupted) {
			error = strata_conn_interrupted(e);
			break;
		}
		if ((error = read_batch(rb, &plan, want, e)) != 0) {
			strata_plan_free(&plan);
			if (error > 0 && base == 0)
				return 1;
			if (error > 0) {
				strata_error_hint(e,
				                  "run the revert again: it reads the history "
				                  "whole when it cannot read it a batch at a time");
				error =
				    strata_error_set(e, STRATA_ERROR,
				                     "the history can no longer be read a batch at "
				                     "a time");
			}
			r->pub.failed = (long)base;
			r->pub.not_started = true;
			break;
		}
		/* once the first batch is read (else the full read says it) */
		if (base == 0 && rb->noted.version)
			api_say_revert_order(s, rb->noted.version, rb->noted.name, rb->noted.path,
			                     rb->higher.version, rb->higher.name);
		if (s->o.dry_run) {
			api_say_planned(s, &plan, base, rb->total);
			base += plan.n;
			error = remember_last(rb, &plan, e);
			strata_plan_free(&plan);
			if (error < 0)
				break;
			continue;
		}
		if ((error = api_report_first(r, &plan.steps[0], e)) < 0) {
			strata_plan_free(&plan);
			break;
		}
		ro.index_base = base;
		memset(r->state, 0, BATCH * sizeof(*r->state));
		memset(r->ms, 0, BATCH * sizeof(*r->ms));
		error = strata_runner_execute(s->db->conn, &plan, &ro, &rr, e);
		r->pub.done += rr.done;
		r->pub.skipped += rr.skipped;
		r->pub.retries += rr.retries;
		r->pub.ms += rr.ms;
		if (error < 0) {
			strata_error ignored = STRATA_ERROR_INIT; /* e says what failed */
			r->pub.failed = (long)(base + rr.failed);
			r->pub.not_started = rr.not_started;
			r->pub.statements = rr.statements;
			r->pub.failed_statement = rr.failed_statement;
			if (rr.failed < plan.n)
				(void)api_report_failed(r, &plan, rr.failed, &ignored);
			strata_plan_free(&plan);
			break;
		}
		base += plan.n;
		strata_plan_free(&plan);
	}
	return error;
}

int api_revert_batches(api_session *s, struct run_report *r, strata_error *e)
{
	strata_conn *c = s->db->conn;
	struct rb rb = {.s = s, .to = s->o.to};
	double t0 = strata_now_ms();
	int error;

	if (!(s->o.to || s->o.all) || !s->o.no_step_list || s->o.fake || s->o.one_transaction ||
	    s->o.ignore_checksums || s->src->ndirs != 1 || s->src->nmems ||
	    !c->engine->history_each || !c->engine->history_newest ||
	    (s->o.to && !strata_is_version(s->o.to)) || !strata_db_exists(s->db) ||
	    !api_source_summary(s->src, false, &s->built))
		return 1;
	rb.dir = s->src->dirs[0].dir;
	error = check_all(&rb, e);
	strata_migration_free(rb.ent);
	strata_manifest_stream_close(rb.ms);
	if (error <= 0) {
		error = error < 0 ? error : 1;
		goto done;
	}
	api_phase(s->db, "checked", strata_now_ms() - t0, rb.migrations, 0);
	r->batched = true;
	r->pub.n = rb.total;
	r->pub.migrations = rb.migrations;
	if ((error = execute_all(&rb, r, e)) > 0) {
		api_run_report_reset(r); /* nothing sent: the full read */
		goto done;
	}
	if (error < 0)
		api_map_to_src(s->src, e);
	strata_history_free(&s->hist);
	strata_catalog_free(&s->cat);
done:
	free(rb.after.version);
	free(rb.after.name);
	ref_free(&rb.noted);
	ref_free(&rb.higher);
	ref_free(&rb.latest);
	return error;
}
