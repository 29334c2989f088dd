#include "core/runner.h"

#include <string.h>
#include <time.h>

#include "core/sqlsplit.h"
#include "util/clock.h"
#include "util/error.h"

static void emit(const strata_run_opts *o, strata_event_kind kind, const strata_plan *p, size_t i,
                 double ms)
{
	strata_event ev = {kind, &p->steps[i], i, p->n, ms};
	if (o->on_event)
		o->on_event(o->ud, &ev);
}

/* Sleeps for ms milliseconds (a lock-timeout backoff), less when the backend is interrupted. */
static void pause_ms(const strata_backend *b, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && !b->interrupted)
		;
}

/* The checks before anything is sent, so that a refused run changes nothing: with one
 * transaction, no step may be transaction:false; no step that runs in a transaction may begin or
 * end one of its own (core/sqlsplit.h, with the backend's SQL dialect). */
int strata_runner_precheck(const strata_backend *b, const strata_plan *p, const strata_run_opts *o,
                           strata_run_result *r, strata_error *e)
{
	strata_dialect d = STRATA_DIALECT_SQLITE;
	int error = 0;

	if (o->fake) /* no SQL runs */
		return 0;
	if (strcmp(b->ops->name, "postgres") == 0)
		d = STRATA_DIALECT_POSTGRES;
	for (size_t i = 0; i < p->n && error == 0; i++) {
		const strata_step *s = &p->steps[i];
		const strata_section *sec = s->dir == STRATA_UP ? &s->m->up : &s->m->down;
		r->failed = i;
		if (sec->no_transaction && o->one_transaction) {
			strata_error_at(e, sec->file, 0, 0);
			strata_error_hint(e, "run with --transaction each");
			error = strata_error_set(e, STRATA_EINVALID,
			                         "%s-%s is marked transaction:false and cannot "
			                         "run inside one transaction for all migrations",
			                         s->m->version, s->m->name);
		} else if (!sec->no_transaction) {
			error = strata_sql_check_txn(sec, s->dir == STRATA_UP, d,
			                             o->one_transaction, e);
		}
	}
	if (error == 0)
		r->failed = 0;
	else
		r->not_started = true; /* refused: nothing was sent */
	return error;
}

int strata_runner_execute(strata_backend *b, const strata_plan *p, const strata_run_opts *o,
                          strata_run_result *r, strata_error *e)
{
	strata_apply_opts ao = {.in_transaction = o->one_transaction,
	                        .fake = o->fake,
	                        .lock_timeout_ms = o->set_timeouts ? o->lock_timeout_ms : -1,
	                        .statement_timeout_ms =
	                            o->set_timeouts ? o->statement_timeout_ms : -1};
	double t_run = strata_now_ms();
	int error = 0;

	memset(r, 0, sizeof(*r));
	r->failed_statement = -1;
	if ((error = strata_runner_precheck(b, p, o, r, e)) < 0)
		return error;
	if (o->one_transaction && (error = b->ops->begin(b, e)) < 0)
		return error;
	for (size_t i = 0; i < p->n && error == 0; i++) {
		const strata_step *s = &p->steps[i];
		const strata_section *sec = s->dir == STRATA_UP ? &s->m->up : &s->m->down;
		strata_apply_result ar = {0, -1, -1};
		double t0 = strata_now_ms();
		if (b->interrupted) { /* between two steps: the next one does not start */
			error = strata_backend_interrupted(e);
			r->failed = i;
			r->not_started = true;
			break;
		}
		emit(o, STRATA_EV_START, p, i, 0);
		for (int attempt = 0;; attempt++) {
			error = b->ops->apply(b, s, &ao, &ar, e);
			/* a lock timeout rolled the step back whole: wait, then try again */
			if (error < 0 && strcmp(e->sqlstate, "55P03") == 0 && !o->one_transaction &&
			    !sec->no_transaction && attempt < o->lock_retries && !b->interrupted) {
				int delay = 500 << (attempt < 4 ? attempt : 4);
				r->retries++;
				emit(o, STRATA_EV_RETRY, p, i, delay);
				pause_ms(b, delay);
				strata_error_clear(e);
				if (b->interrupted) {
					error = strata_backend_interrupted(e);
					break;
				}
				continue;
			}
			break;
		}
		if (error < 0 && b->interrupted && error != STRATA_ECONNECT)
			error = e->code = STRATA_EINTERRUPTED; /* whatever the database said */
		if (error == STRATA_EEXISTS) {
			error = 0;
			r->skipped++;
			emit(o, STRATA_EV_SKIPPED, p, i, strata_now_ms() - t0);
		} else if (error == 0) {
			r->done++;
			/* the time the history records, so that run and show print the same */
			emit(o, STRATA_EV_DONE, p, i,
			     ar.duration_ms >= 0 ? ar.duration_ms : strata_now_ms() - t0);
		} else {
			r->failed = i;
			r->statements = ar.statements;
			r->failed_statement = ar.failed_at;
			if (strcmp(e->sqlstate, "55P03") == 0 && !e->hint[0])
				strata_error_hint(
				    e,
				    "another session holds a lock this migration needs%s; "
				    "end that session, or raise --lock-timeout",
				    r->retries ? " (retried with backoff)" : "");
		}
	}
	if (o->one_transaction) {
		if (error == 0)
			error = b->ops->commit(b, e);
		if (error < 0) {
			b->ops->rollback(b);
			r->done = 0;
		}
	}
	r->ms = strata_now_ms() - t_run;
	return error;
}
