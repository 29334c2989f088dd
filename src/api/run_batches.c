/*
 * run_batches.c: a run of the migrations after a prefix of one build, BATCH at a time, in two
 * passes. Pass 1 reads and checks every batch as a whole run checks its plan before anything is
 * sent (each file against the manifest, the build against its sources, the statements the
 * runner refuses) and adds its steps to the report, with each step's key. Anything it refuses
 * sends the run back to the full read, which refuses it as it always did. Pass 2 reads the
 * manifest again, refuses any step that is not the one pass 1 checked, reads each file again
 * (checking it against the manifest) and runs the batch; when there is one batch only, it runs
 * it as pass 1 read it. A dry run hands each batch out (STEP_PLANNED events) instead of running
 * it, and writes nothing. Memory holds one batch and the report, not the build; with
 * no_step_list the report keeps each step's key only (8 bytes), and the strings of each batch's
 * first step and of the step that failed.
 */
#include <stdlib.h>
#include <string.h>

#include "api/run_internal.h"
#include "core/history.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/error.h"

#define BATCH 256

/* Whether the report lists every step (not no_step_list). */
static bool listing(const api_session *s)
{
	return !s->o.no_step_list;
}

/* Makes room for n steps: their keys, and when listing them their reports, states and times. */
static int report_room(const api_session *s, struct run_report *r, size_t n, strata_error *e)
{
	void **const arrays[] = {(void **)&r->keys, (void **)&r->steps, (void **)&r->state,
	                         (void **)&r->ms};
	const size_t size[] = {sizeof(*r->keys), sizeof(*r->steps), sizeof(*r->state),
	                       sizeof(*r->ms)};
	if (strata_array_grow_together(&r->cap, n, arrays, size, listing(s) ? 4 : 1) < 0)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

/* The report of step st, PLANNED, with a copy of its strings, which *str holds (NULL: no
 * memory), and no SQL (its migration goes with the batch). */
static strata_step_report step_report(const strata_step *st, char **str)
{
	strata_step_report p;
	size_t lv, ln, lf;

	api_step_report(st, &p);
	lv = strlen(p.version) + 1;
	ln = strlen(p.name) + 1;
	lf = strlen(p.file) + 1;
	if (!(*str = malloc(lv + ln + lf)))
		return (strata_step_report){0};
	memcpy(*str, p.version, lv);
	memcpy(*str + lv, p.name, ln);
	memcpy(*str + lv + ln, p.file, lf);
	p.version = *str;
	p.name = *str + lv;
	p.file = *str + lv + ln;
	p.sql = NULL;
	p.sql_len = 0;
	return p;
}

/* Keeps str (a step's strings) for the report to free; else frees it. */
static int keep_strings(struct run_report *r, char *str, strata_error *e)
{
	if (!str || strata_array_grow((void **)&r->strings, &r->strings_cap, r->nstrings + 1,
	                              sizeof(*r->strings)) < 0) {
		free(str);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	r->strings[r->nstrings++] = str;
	return 0;
}

/* Adds the steps of plan p to the report, PLANNED, with their keys: each with a copy of its
 * strings, or (no_step_list) the first one only, in firsts. */
static int report_add(const api_session *s, struct run_report *r, const strata_plan *p,
                      strata_error *e)
{
	int error = report_room(s, r, r->pub.n + p->n, e);
	char *str;

	if (error == 0 && !listing(s) && p->n)
		error = api_report_first(r, &p->steps[0], e);
	for (size_t i = 0; error == 0 && i < p->n; i++) {
		const strata_migration *m = p->steps[i].m;
		size_t k = r->pub.n;
		if (strata_history_row_hash(&r->keys[k], m->version, m->name, m->checksum) < 0)
			return strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
		if (listing(s)) {
			r->steps[k] = step_report(&p->steps[i], &str);
			if ((error = keep_strings(r, str, e)) < 0)
				return error;
			r->state[k] = STRATA_STEP_PLANNED;
			r->ms[k] = 0;
		}
		r->pub.n++;
	}
	return error;
}

/* The next batch's catalog (in s->cat) and plan; 0 with an empty plan at the end. Reads, checks
 * and parses each file (strata_migration_ensure). */
static int next_batch(api_session *s, strata_plan *plan, strata_error *e)
{
	int error;
	memset(plan, 0, sizeof(*plan));
	strata_catalog_free(&s->cat);
	if ((error = strata_catalog_batches_next(s->batches, &s->cat, BATCH, e)) < 0 ||
	    s->cat.n == 0)
		return error;
	return strata_plan_up(plan, &s->cat, &s->hist, NULL, e);
}

/* Pass 1: < 0 when a check refuses something (or on error). When the first batch is the only
 * one (the manifest ended within it, as when a deploy brings a few migrations), *only gets its
 * plan, whose migrations stay in s->cat: pass 2 runs them as checked, without reading the
 * manifest and the files again. */
static int check_batches(api_session *s, struct run_report *r, const strata_run_opts *ro,
                         strata_plan *only, strata_error *e)
{
	strata_plan plan;
	int error;

	memset(only, 0, sizeof(*only));
	while ((error = next_batch(s, &plan, e)) == 0 && plan.n) {
		strata_run_result rr = {0};
		bool first_and_last = r->pub.n == 0 && s->cat.n < BATCH;
		if (api_session_verify(s, &plan, false, NULL, NULL, e) > 0)
			error = e->code ? e->code : STRATA_EINVALID;
		if (error == 0)
			error = strata_runner_precheck(s->db->conn, &plan, ro, &rr, e);
		if (error == 0)
			error = report_add(s, r, &plan, e);
		if (error == 0 && first_and_last) {
			*only = plan;
			return 0;
		}
		strata_plan_free(&plan);
		if (error < 0)
			return error;
	}
	strata_plan_free(&plan);
	return error;
}

/* Whether the batch's steps are the ones pass 1 checked, from `base` on; else the error. */
static int same_steps(const struct run_report *r, size_t base, const strata_plan *plan,
                      strata_error *e)
{
	for (size_t i = 0; i < plan->n; i++) {
		const strata_migration *m = plan->steps[i].m;
		uint64_t key;
		if (base + i < r->pub.n &&
		    strata_history_row_hash(&key, m->version, m->name, m->checksum) == 0 &&
		    key == r->keys[base + i])
			continue;
		return api_step_changed(m, "it", e);
	}
	return 0;
}

int api_step_changed(const strata_migration *m, const char *what, strata_error *e)
{
	strata_error_at(e, m->path, 0, 0);
	strata_error_hint(e, "run again once the build is done");
	return strata_error_set(e, STRATA_EINVALID,
	                        "the build changed while %s ran: %s-%s is not the migration that "
	                        "was checked",
	                        what, m->version, m->name);
}

int api_report_first(struct run_report *r, const strata_step *st, strata_error *e)
{
	char *str;
	int error;
	if (strata_array_grow((void **)&r->firsts, &r->firsts_cap, r->nfirsts + 1,
	                      sizeof(*r->firsts)) < 0)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	r->firsts[r->nfirsts] = step_report(st, &str);
	if ((error = keep_strings(r, str, e)) == 0)
		r->nfirsts++;
	return error;
}

int api_report_failed(struct run_report *r, const strata_plan *plan, size_t i, strata_error *e)
{
	char *str;
	int error;
	r->failed = step_report(&plan->steps[i], &str);
	r->failed.state = r->state[i];
	r->failed.ms = r->ms[i];
	if ((error = keep_strings(r, str, e)) == 0)
		r->pub.failed_step = &r->failed;
	return error;
}

/* Pass 2. A batch that cannot be read, or is not what pass 1 checked, stops the run before it
 * starts: what ran before it stays applied. `only` (its steps, or none): the one batch, as pass
 * 1 read and checked it. */
static int execute_batches(api_session *s, struct run_report *r, strata_run_opts *ro,
                           strata_plan *only, strata_error *e)
{
	size_t base = 0, batch = 0;
	strata_plan plan = {0};
	int error = 0;

	ro->prechecked = true;
	ro->total = r->pub.n;
	/* no_step_list: one batch's states and times, for the runner to fill */
	if (!listing(s) && (!(r->state = calloc(BATCH, sizeof(*r->state))) ||
	                    !(r->ms = calloc(BATCH, sizeof(*r->ms)))))
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	if (error == 0 && !only->n)
		error = strata_catalog_batches_rewind(s->batches, e);
	while (error == 0 && base < r->pub.n) {
		size_t off = listing(s) ? base : 0, n;
		strata_run_result rr = {.state = r->state + off, .step_ms = r->ms + off};
		if (only->n) {
			plan = *only;
			memset(only, 0, sizeof(*only));
		} else if ((error = next_batch(s, &plan, e)) < 0 ||
		           (error = same_steps(r, base, &plan, e)) < 0) {
			break;
		}
		if (!plan.n) { /* the manifest ended early */
			error = strata_error_set(e, STRATA_EINVALID,
			                         "the build changed while it ran: it has fewer "
			                         "migrations than were checked");
			break;
		}
		n = plan.n;
		if (s->o.dry_run) { /* handed out instead of run; stopped between batches */
			api_say_planned(s, &plan, base, r->pub.n);
			strata_plan_free(&plan);
			base += n;
			batch++;
			if (s->db->conn->interrupted && base < r->pub.n)
				return strata_conn_interrupted(e);
			continue;
		}
		ro->index_base = base;
		if (!listing(s)) { /* the steps the runner does not reach stay PLANNED */
			memset(r->state, 0, BATCH * sizeof(*r->state));
			memset(r->ms, 0, BATCH * sizeof(*r->ms));
		}
		error = strata_runner_execute(s->db->conn, &plan, ro, &rr, e);
		r->pub.done += rr.done;
		r->pub.skipped += rr.skipped;
		r->pub.retries += rr.retries;
		r->pub.ms += rr.ms;
		if (error < 0) {
			r->pub.failed = (long)(base + rr.failed);
			r->pub.not_started = rr.not_started;
			r->pub.statements = rr.statements;
			r->pub.failed_statement = rr.failed_statement;
			if (!listing(s) && rr.failed < plan.n) {
				strata_error ignored = STRATA_ERROR_INIT; /* e says what failed */
				(void)api_report_failed(r, &plan, rr.failed, &ignored);
			} else if (!listing(s) && batch + 1 < r->nfirsts) {
				/* stopped after the batch's last step (waiting for a replica): the
				 * next batch's first did not start */
				r->pub.failed_step = &r->firsts[batch + 1];
			}
			strata_plan_free(&plan);
			return error;
		}
		strata_plan_free(&plan);
		base += n;
		batch++;
	}
	strata_plan_free(&plan);
	if (error < 0) { /* before the batch at base started */
		r->pub.failed = (long)base;
		r->pub.not_started = true;
		if (!listing(s) && batch < r->nfirsts)
			r->pub.failed_step = &r->firsts[batch];
	}
	return error;
}

void api_run_report_reset(struct run_report *r)
{
	api_run_report_clear(r);
	r->batched = false;
	memset(&r->pub, 0, sizeof(r->pub));
	r->pub.failed = -1;
	r->pub.failed_statement = -1;
}

int api_run_batches(api_session *s, struct run_report *r, double t0, strata_error *e)
{
	strata_run_opts ro;
	strata_plan only;
	double t1 = strata_now_ms();
	int error = 0;

	r->batched = true;
	api_run_opts(s, &ro);
	if (check_batches(s, r, &ro, &only, e) < 0) {
		/* refused (or failed) before anything was sent: the full read says it */
		api_run_report_reset(r);
		strata_catalog_free(&s->cat);
		strata_error_clear(e);
		return 1;
	}
	r->pub.migrations = (size_t)s->built.rows;
	api_phase(s->db, "read", strata_now_ms() - t1, r->pub.n, STRATA_EVENT_FROM_MANIFEST);
	api_phase(s->db, "plan", strata_now_ms() - t0, r->pub.n, 0);
	if (r->pub.n && (error = execute_batches(s, r, &ro, &only, e)) < 0)
		api_map_to_src(s->src, e);
	strata_plan_free(&only);
	for (size_t i = 0; listing(s) && i < r->pub.n; i++) {
		r->steps[i].state = r->state[i];
		r->steps[i].ms = r->ms[i];
	}
	r->pub.steps = listing(s) ? r->steps : NULL;
	return error;
}
