/* status.c: strata_status (every migration and its state) and strata_validate (every check a run
 * makes, all problems reported). Both only read. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/runner.h"
#include "util/clock.h"
#include "util/error.h"

struct status_report {
	strata_status_report pub;
	strata_catalog cat;
	strata_history hist;
	strata_status_entry *entries;
};

void strata_status_report_free(strata_status_report *pub)
{
	struct status_report *r = (struct status_report *)pub;
	if (!r)
		return;
	free(r->entries);
	strata_history_free(&r->hist);
	strata_catalog_free(&r->cat);
	free(r);
}

static strata_state state_of(const strata_plan_row *row)
{
	switch (row->kind) {
	case STRATA_ROW_APPLIED:
		return STRATA_STATE_APPLIED;
	case STRATA_ROW_PENDING:
		return STRATA_STATE_PENDING;
	case STRATA_ROW_MISSING:
		return STRATA_STATE_MISSING;
	case STRATA_ROW_FAILED:
		break;
	}
	return row->a->status == STRATA_APPLIED_RUNNING ? STRATA_STATE_RUNNING
	                                                : STRATA_STATE_FAILED;
}

static int fill(struct status_report *r, const strata_plan_rows *rows, strata_error *e)
{
	r->entries = calloc(rows->n ? rows->n : 1, sizeof(*r->entries));
	if (!r->entries)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < rows->n; i++) {
		const strata_plan_row *row = &rows->items[i];
		strata_status_entry *p = &r->entries[i];
		p->version = row->m ? row->m->version : row->a->version;
		p->name = row->m ? row->m->name : row->a->name;
		p->file = row->m ? row->m->path : NULL;
		p->state = state_of(row);
		p->applied_at = row->a ? row->a->applied_at : NULL;
		p->duration_ms = row->a ? row->a->duration_ms : 0;
		p->progress = row->a ? row->a->progress : 0;
		p->out_of_order = row->a && row->a->out_of_order;
		p->previous_checksum = row->a ? row->a->previous_checksum : NULL;
		p->accepted_at = row->a ? row->a->accepted_at : NULL;
	}
	r->pub.entries = r->entries;
	r->pub.n = rows->n;
	r->pub.applied = rows->applied;
	r->pub.pending = rows->pending;
	r->pub.missing = rows->missing;
	r->pub.failed = rows->failed;
	return 0;
}

int strata_status(strata_db *db, strata_source *src, strata_status_report **out, strata_error *e)
{
	api_session s;
	struct status_report *r = NULL;
	strata_plan_rows rows = {0};
	void *p;
	int error;

	if (!out)
		return api_bad_arg(e, "strata_status", "out is NULL");
	*out = NULL;
	if ((error = api_begin(&s, db, src, NULL, sizeof(*r), &p, "strata_status", e)) < 0)
		return error;
	r = p;
	if ((error = api_session_read(&s, API_READ_BUILT, e)) < 0 ||
	    (error = api_session_history(&s, 0, e)) < 0 ||
	    (error = strata_plan_status(&rows, &s.cat, &s.hist, e)) < 0 ||
	    (error = fill(r, &rows, e)) < 0)
		goto done;
	r->pub.db_exists = strata_db_exists(db);
	/* the report keeps what its strings point into */
	r->cat = s.cat;
	r->hist = s.hist;
	memset(&s.cat, 0, sizeof(s.cat));
	memset(&s.hist, 0, sizeof(s.hist));
	*out = &r->pub;
	r = NULL;
done:
	strata_plan_rows_free(&rows);
	strata_status_report_free(r ? &r->pub : NULL);
	api_session_close(&s);
	return error;
}

/* ---- validate -------------------------------------------------------------------------------- */

struct problems {
	strata_problems pub;
	strata_error *items;
	size_t cap;
	bool oom;
};

void strata_problems_free(strata_problems *pub)
{
	struct problems *p = (struct problems *)pub;
	if (!p)
		return;
	free(p->items);
	free(p);
}

static void add_problem(void *ud, const strata_error *e)
{
	struct problems *p = ud;
	if (p->pub.n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		strata_error *n = realloc(p->items, ncap * sizeof(*n));
		if (!n) {
			p->oom = true;
			return;
		}
		p->items = n;
		p->cap = ncap;
	}
	p->items[p->pub.n++] = *e;
	p->pub.items = p->items;
}

int strata_validate(strata_db *db, strata_source *src, const strata_run_options *o,
                    strata_problems **out, strata_error *e)
{
	api_session s;
	struct problems *p = NULL;
	strata_plan plan = {0};
	strata_run_opts ro = {.fake = false};
	strata_run_result rr = {0};
	strata_error pe = STRATA_ERROR_INIT;
	double t0;
	int error;

	void *obj;

	if (!out)
		return api_bad_arg(e, "strata_validate", "out is NULL");
	*out = NULL;
	if ((error = api_begin(&s, db, src, o, sizeof(*p), &obj, "strata_validate", e)) < 0)
		return error;
	p = obj;
	/* one directory: proven clean holding a migration at a time, or read whole to say what
	 * is wrong */
	t0 = strata_now_ms();
	if (api_validate_streamed(&s, &p->pub.migrations, &p->pub.pending, e) > 0) {
		api_phase(db, "checked", strata_now_ms() - t0, p->pub.migrations, 0);
		*out = &p->pub;
		p = NULL;
		goto done;
	}
	if ((error = api_session_read(&s, API_READ_ALL, e)) < 0 ||
	    (error = api_session_history(&s, 0, e)) < 0 ||
	    (error = strata_plan_up(&plan, &s.cat, &s.hist, NULL, e)) < 0)
		goto done;
	api_session_verify(&s, &plan, true, add_problem, p, &pe);
	/* what a run checks of the pending files before it sends anything */
	ro.one_transaction = s.o.one_transaction;
	if (strata_runner_precheck(db->conn, &plan, &ro, &rr, &pe) < 0) {
		api_map_to_src(src, &pe);
		add_problem(p, &pe);
	}
	if (p->oom) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	p->pub.migrations = s.cat.n;
	p->pub.pending = plan.n;
	*out = &p->pub;
	p = NULL;
done:
	strata_plan_free(&plan);
	strata_problems_free(p ? &p->pub : NULL);
	api_session_close(&s);
	return error;
}
