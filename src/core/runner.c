#include "core/runner.h"

#include <string.h>

#include "util/clock.h"
#include "util/error.h"

static void emit(const strata_run_opts *o, strata_event_kind kind, const strata_plan *p, size_t i,
                 double ms)
{
	strata_event ev = {kind, &p->steps[i], i, p->n, ms};
	if (o->on_event)
		o->on_event(o->ud, &ev);
}

int strata_runner_execute(strata_backend *b, const strata_plan *p, const strata_run_opts *o,
                          strata_run_result *r, strata_error *e)
{
	strata_apply_opts ao = {.in_transaction = o->one_transaction, .fake = o->fake};
	double t_run = strata_now_ms();
	int error = 0;

	memset(r, 0, sizeof(*r));
	if (o->one_transaction) {
		for (size_t i = 0; i < p->n; i++) {
			const strata_step *s = &p->steps[i];
			const strata_section *sec = s->dir == STRATA_UP ? &s->m->up : &s->m->down;
			if (sec->no_transaction && !o->fake) {
				strata_error_at(e, sec->file, 0, 0);
				strata_error_hint(e, "run with --transaction each");
				r->failed = i;
				return strata_error_set(
				    e, STRATA_EINVALID,
				    "%s-%s is marked transaction:false and cannot "
				    "run inside one transaction for all migrations",
				    s->m->version, s->m->name);
			}
		}
		if ((error = b->ops->begin(b, e)) < 0)
			return error;
	}
	for (size_t i = 0; i < p->n && error == 0; i++) {
		double t0 = strata_now_ms();
		emit(o, STRATA_EV_START, p, i, 0);
		error = b->ops->apply(b, &p->steps[i], &ao, e);
		if (error == STRATA_EEXISTS) {
			error = 0;
			r->skipped++;
			emit(o, STRATA_EV_SKIPPED, p, i, strata_now_ms() - t0);
		} else if (error == 0) {
			r->done++;
			emit(o, STRATA_EV_DONE, p, i, strata_now_ms() - t0);
		} else {
			r->failed = i;
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
