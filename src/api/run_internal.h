/* run_internal.h: what run.c and run_batches.c share: the report a run hands back. */
#ifndef STRATA_API_RUN_INTERNAL_H
#define STRATA_API_RUN_INTERNAL_H

#include "api/api.h"
#include "core/runner.h"

/* The report the caller gets (its public part first), holding what its strings point into. */
struct run_report {
	strata_run_report pub;
	strata_catalog cat;
	strata_plan plan;
	strata_step *one; /* repair: its single step */
	/* revert with fake: the rows it removes, and the history they point into */
	strata_unrecord unrec;
	strata_history hist;
	bool unrecording;
	strata_step_report *steps;
	strata_step_state *state;
	double *ms;
	/* a run in batches (run_batches.c): room for steps (cap) and each step's key
	 * (strata_history_row_hash of its version, name and checksum) as the checks saw it; the
	 * strings of each step, or with no_step_list those of each batch's first step (firsts)
	 * and of the step that failed (failed) */
	bool batched;
	size_t cap, nstrings, strings_cap, nfirsts, firsts_cap;
	char **strings;
	uint64_t *keys;
	strata_step_report *firsts, failed;
};

/* A revert that undoes the most recently applied migration while one of a higher version stays
 * applied (a plugin's migration applied after the core's) says so, once. */
void api_say_not_highest(api_session *s, const strata_plan *plan);
/* ... that the migration of version and name (its file, path), the most recently applied, is
 * reverted while the one of higher_version and higher_name stays applied. */
void api_say_revert_order(api_session *s, const char *version, const char *name, const char *path,
                          const char *higher_version, const char *higher_name);
/* The report of step st, PLANNED, its strings and SQL borrowed from its migration. */
void api_step_report(const strata_step *st, strata_step_report *p);
/* A dry run: the steps of p, which are steps base... of total, handed out as STEP_PLANNED
 * events. */
void api_say_planned(const api_session *s, const strata_plan *p, size_t base, size_t total);
/* How the runner runs for this session. */
void api_run_opts(const api_session *s, strata_run_opts *ro);

/* The pending migrations after a prefix of one build (s->batches, run.c's load_pending), a
 * batch at a time: all checked, then all run. Returns 1 (nothing sent, the report and the
 * session's catalog emptied, e cleared) when the checks refuse something: the full read then
 * says what, as it would have without batches. */
int api_run_batches(api_session *s, struct run_report *r, double t0, strata_error *e);
/* A run in batches with no_step_list: st's report (a copy of its strings) added to the firsts,
 * the first step of each batch (run_batches.c). */
int api_report_first(struct run_report *r, const strata_step *st, strata_error *e);
/* ... and step i of the batch `plan` that failed into failed_step, with its state and time,
 * which r->state and r->ms hold for the batch. */
int api_report_failed(struct run_report *r, const strata_plan *plan, size_t i, strata_error *e);
/* A revert to a version, or of all, from one build, a batch at a time (revert_batches.c): all
 * checked, then all run, with no_step_list and one transaction per migration. Returns 1
 * (nothing sent, the report empty) when it is not such a revert, or the checks doubt anything:
 * the full read then decides. */
int api_revert_batches(api_session *s, struct run_report *r, strata_error *e);
/* A step of a run in batches that is not the one the checks read: the error, at its file. `what`:
 * "it" (a run), "the revert". */
int api_step_changed(const strata_migration *m, const char *what, strata_error *e);
/* Back to an empty report (nothing sent), for the full read. */
void api_run_report_reset(struct run_report *r);
/* Frees the report's steps, states and times, and what a batched run added, leaving them empty
 * (run.c). */
void api_run_report_clear(struct run_report *r);

#endif
