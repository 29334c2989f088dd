/* runner.c: carries out a plan (see runner.h). */
#include "core/runner.h"

#include <string.h>
#include <time.h>

#include "core/sqlsplit.h"
#include "util/clock.h"
#include "util/error.h"

static void emit(const strata_run_opts *o, strata_event_kind kind, const strata_plan *p, size_t i,
                 double ms)
{
	const strata_step *s = &p->steps[i];
	strata_event ev = {.kind = kind,
	                   .version = s->m->version,
	                   .name = s->m->name,
	                   .file = s->dir == STRATA_DOWN && s->m->down_path ? s->m->down_path
	                                                                    : s->m->path,
	                   .direction = s->dir,
	                   .index = o->index_base + i,
	                   .total = o->total ? o->total : p->n,
	                   .statement = s->resume_from,
	                   .ms = ms};
	if (o->on_event)
		o->on_event(&ev, o->ud);
}

/* Sleeps for ms milliseconds (a lock-timeout backoff), less when the connection is interrupted. */
static void pause_ms(const strata_conn *c, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && !c->interrupted)
		;
}

static const strata_section *section_of(const strata_step *s)
{
	return s->dir == STRATA_UP ? &s->m->up : &s->m->down;
}

/* Refuses section sec when the database's session reads SQL otherwise than the tokenizer the
 * check splits it with (sql_read_differs) and the section has a word a transaction-control
 * statement starts with: the check could not tell what the database would run. */
static int unreadable(const strata_conn *c, const strata_section *sec, bool up, strata_error *e)
{
	const char *why = c->engine->sql_read_differs ? c->engine->sql_read_differs(c) : NULL;
	char how[300];
	if (!why || !strata_sql_may_hold_txn_control(sec))
		return 0;
	strata_section_locate(
	    sec, strata_sql_skip_blank(c->engine->dialect, sec->text + sec->offset, 0, sec->len),
	    e);
	strata_error_detail(
	    e,
	    "strata checks that a migration begins or ends no transaction of its "
	    "own by reading its SQL as the database does with the default settings; "
	    "with %s, it may read this one otherwise",
	    why);
	strata_error_hint(e, "%s, or %s to run it without a transaction", c->engine->sql_read_fix,
	                  strata_section_no_txn_how(sec, up, how, sizeof(how)));
	return strata_error_set(e, STRATA_EINVALID,
	                        "cannot check this migration for BEGIN, COMMIT or ROLLBACK: %s",
	                        why);
}

int strata_runner_precheck(const strata_conn *c, const strata_plan *p, const strata_run_opts *o,
                           strata_run_result *r, strata_error *e)
{
	int error = 0;

	if (o->fake) /* no SQL runs */
		return 0;
	for (size_t i = 0; i < p->n && error == 0; i++) {
		const strata_step *s = &p->steps[i];
		const strata_section *sec = section_of(s);
		r->failed = i;
		if (sec->no_transaction && o->one_transaction) {
			strata_error_at(e, sec->file, 0, 0);
			strata_error_hint(e, "run with one_transaction off");
			error = strata_error_set(e, STRATA_EINVALID,
			                         "%s-%s is marked transaction:false and cannot "
			                         "run inside one transaction for all migrations",
			                         s->m->version, s->m->name);
		} else if (!sec->no_transaction && !sec->fn) {
			error = unreadable(c, sec, s->dir == STRATA_UP, e);
			if (error == 0)
				error =
				    strata_sql_check_txn(sec, s->dir == STRATA_UP,
				                         c->engine->dialect, o->one_transaction, e);
		}
	}
	if (error == 0)
		r->failed = 0;
	else
		r->not_started = true; /* refused: nothing was sent */
	return error;
}

/* A C step: in a transaction of its own (unless the run's), the function, then its history row. */
static int apply_fn(strata_conn *c, const strata_step *s, const strata_apply_opts *ao,
                    strata_apply_result *ar, strata_error *e)
{
	const strata_section *sec = section_of(s);
	strata_tx tx = {.conn = c};
	double t0 = strata_now_ms();
	int error = 0;

	if (!ao->in_transaction && (error = c->engine->begin(c, s, ao, e)) < 0)
		return error; /* STRATA_EEXISTS: another runner did it */
	if (!ao->fake && (error = sec->fn(&tx, sec->fn_ud, e)) < 0) {
		if (!e->msg[0])
			strata_error_set(e, error, "the migration's function failed");
		if (!e->file[0])
			strata_error_at(e, sec->file, 0, 0);
	}
	if (error == 0)
		error = c->engine->record(c, s, strata_now_ms() - t0, ar, e);
	if (!ao->in_transaction) {
		if (error == 0)
			error = c->engine->commit(c, e);
		else
			c->engine->rollback(c);
	}
	return error;
}

/* One step, retried with backoff while it gives up waiting for a table's lock. */
static int run_step(strata_conn *c, const strata_plan *p, size_t i, const strata_run_opts *o,
                    const strata_apply_opts *ao, strata_apply_result *ar, strata_run_result *r,
                    strata_error *e)
{
	const strata_step *s = &p->steps[i];
	const strata_section *sec = section_of(s);
	int error;

	for (int attempt = 0;; attempt++) {
		error = sec->fn ? apply_fn(c, s, ao, ar, e) : c->engine->apply(c, s, ao, ar, e);
		/* a lock timeout rolled the step back whole: wait, then try again */
		if (error == STRATA_ELOCKTIMEOUT && !o->one_transaction && !sec->no_transaction &&
		    attempt < o->lock_retries && !c->interrupted) {
			int delay = 500 << (attempt < 4 ? attempt : 4);
			r->retries++;
			emit(o, STRATA_EVENT_STEP_RETRY, p, i, delay);
			pause_ms(c, delay);
			strata_error_clear(e);
			if (c->interrupted)
				return strata_conn_interrupted(e);
			continue;
		}
		return error;
	}
}

/* After a commit: the replicas, when the run waits for them (and the engine has any). A wait
 * that ends in failure stops the run before step `next` (p->n: after the last). */
static int wait_replicas(strata_conn *c, const strata_run_opts *o, size_t next,
                         strata_run_result *r, strata_error *e)
{
	int error;
	if (o->max_replica_lag_ms <= 0 || !c->engine->replicas_wait)
		return 0;
	error = c->engine->replicas_wait(c, o->max_replica_lag_ms, o->replica_wait_timeout_ms,
	                                 o->on_event, o->ud, e);
	if (error < 0) {
		if (c->interrupted && error != STRATA_ECONNECT)
			error = e->code = STRATA_EINTERRUPTED;
		r->failed = next;
		r->not_started = true;
	}
	return error;
}

static void set_state(strata_run_result *r, size_t i, strata_step_state st, double ms)
{
	if (r->state)
		r->state[i] = st;
	if (r->step_ms)
		r->step_ms[i] = ms;
}

int strata_runner_execute(strata_conn *c, const strata_plan *p, const strata_run_opts *o,
                          strata_run_result *r, strata_error *e)
{
	strata_apply_opts ao = {.in_transaction = o->one_transaction,
	                        .fake = o->fake,
	                        .lock_timeout_ms = o->set_timeouts ? o->lock_timeout_ms : -1,
	                        .statement_timeout_ms =
	                            o->set_timeouts ? o->statement_timeout_ms : -1};
	strata_step_state *state = r->state;
	double *step_ms = r->step_ms, t_run = strata_now_ms();
	int error = 0;

	memset(r, 0, sizeof(*r));
	r->state = state;
	r->step_ms = step_ms;
	r->failed_statement = -1;
	if (!o->prechecked && (error = strata_runner_precheck(c, p, o, r, e)) < 0)
		return error;
	if (o->one_transaction && (error = c->engine->begin(c, NULL, &ao, e)) < 0)
		return error;
	for (size_t i = 0; i < p->n && error == 0; i++) {
		strata_apply_result ar = {0, -1, -1};
		double t0 = strata_now_ms(), ms;
		if (c->interrupted) { /* between two steps: the next one does not start */
			error = strata_conn_interrupted(e);
			r->failed = i;
			r->not_started = true;
			break;
		}
		emit(o, STRATA_EVENT_STEP_START, p, i, 0);
		error = run_step(c, p, i, o, &ao, &ar, r, e);
		if (error < 0 && c->interrupted && error != STRATA_ECONNECT)
			error = e->code = STRATA_EINTERRUPTED; /* whatever the database said */
		/* the time the history records, so that run and show print the same */
		ms = ar.duration_ms >= 0 ? ar.duration_ms : strata_now_ms() - t0;
		if (error == STRATA_EEXISTS) {
			error = 0;
			r->skipped++;
			set_state(r, i, STRATA_STEP_SKIPPED, 0);
			emit(o, STRATA_EVENT_STEP_SKIPPED, p, i, strata_now_ms() - t0);
		} else if (error == 0) {
			r->done++;
			set_state(r, i, STRATA_STEP_DONE, ms);
			emit(o, STRATA_EVENT_STEP_DONE, p, i, ms);
			if (!o->one_transaction)
				error = wait_replicas(c, o, i + 1, r, e);
		} else {
			r->failed = i;
			r->statements = ar.statements;
			r->failed_statement = ar.failed_at;
			set_state(r, i, STRATA_STEP_FAILED, 0);
			if (error == STRATA_ELOCKTIMEOUT && !e->hint[0])
				strata_error_hint(
				    e,
				    "another session holds a lock this migration needs%s; "
				    "end that session, or raise lock_timeout_ms",
				    r->retries ? " (retried with backoff)" : "");
		}
	}
	if (o->one_transaction) {
		if (error == 0)
			error = c->engine->commit(c, e);
		if (error < 0) {
			c->engine->rollback(c);
			r->done = 0;
			for (size_t i = 0; r->state && i < p->n; i++)
				if (r->state[i] == STRATA_STEP_DONE)
					r->state[i] = STRATA_STEP_PLANNED;
		} else {
			error = wait_replicas(c, o, p->n, r, e);
		}
	}
	r->ms = strata_now_ms() - t_run;
	return error;
}
