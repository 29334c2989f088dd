/* plan.h: what to apply or revert, decided from the migrations on disk and the history. */
#ifndef STRATA_CORE_PLAN_H
#define STRATA_CORE_PLAN_H

#include <stdbool.h>

#include "core/catalog.h"
#include "core/history.h"

typedef struct strata_step {
	const strata_migration *m; /* borrowed from the catalog */
	strata_direction dir;
	bool out_of_order; /* up: older than the newest applied migration of its source (a merged
	                      branch) */
	const strata_migration *newer; /* out_of_order: that newest applied migration */
	/* down: an applied migration of a higher version that stays applied at this step (this
	 * one was applied after it) */
	const strata_applied *higher;
	int resume_from; /* transaction:false repair: the first statement to run (0-based) */
} strata_step;

typedef struct strata_plan {
	strata_step *steps;
	size_t n;
	size_t sources; /* up: how many sources (dir_index values) the catalog has */
} strata_plan;

/* Every pending migration in order, up to and including to_version when it is not NULL. A step
 * older than the newest applied migration of its own source (the directory its file is in, or
 * the migrations given in memory; an applied migration belongs to the source its file is in) is
 * marked out_of_order: a plugin's migrations added later with older versions than the core's
 * are not, a late one inside one directory is. Each step's migration is read if it is not
 * loaded yet (strata_migration_ensure), so a plan's files are read and checked. */
int strata_plan_up(strata_plan *out, const strata_catalog *c, const strata_history *h,
                   const char *to_version, strata_error *e);

typedef struct strata_revert_opts {
	unsigned steps;         /* how many, newest first; 0 means 1 */
	const char *to_version; /* revert everything applied after it, keep it */
	bool all;
} strata_revert_opts;

/* The applied migrations to revert, each read if it is not loaded yet: the most recently
 * applied first when the history has each one's applied_rank (STRATA_HISTORY_APPLIED_ORDER),
 * else the highest versions first. steps (default 1) takes that many in that order; to_version
 * and all choose by version (every one above to_version; every one) and run in the same order.
 * Fails before anything runs when one of them has no down section or no file on disk. */
int strata_plan_down(strata_plan *out, const strata_catalog *c, const strata_history *h,
                     const strata_revert_opts *o, strata_error *e);
/* Whether m (parsed) can be reverted: the check strata_plan_down makes of each migration, with
 * its error (and a hint that fits the file's format) when it cannot. */
int strata_plan_revertible(const strata_migration *m, strata_error *e);
void strata_plan_free(strata_plan *p);

/* What a revert with fake removes from the history: applied rows, newest first. */
typedef struct strata_unrecord {
	const strata_applied **rows; /* borrowed from the history */
	const strata_migration **m;  /* each one's migration, NULL when it is in no source */
	size_t n;
} strata_unrecord;

/* The history rows a revert with fake removes, chosen as strata_plan_down chooses them, and
 * needing neither a file nor a down section. Refused, naming the fix, when what to remove is
 * not clear: a migration left running or failed anywhere in the history (repair it first),
 * to_version not applied, more steps than are applied, or steps whose newest by version are
 * not the last recorded (one was applied out of order after them: give to_version or all).
 * h must be read with its dates (applied_at) for that last check. */
int strata_plan_unrecord(strata_unrecord *out, const strata_catalog *c, const strata_history *h,
                         const strata_revert_opts *o, strata_error *e);
void strata_unrecord_free(strata_unrecord *u);
/* Fails, listing them, when steps are out of order (see --allow-out-of-order). */
int strata_plan_check_order(const strata_plan *p, const strata_history *h, strata_error *e);

typedef enum {
	STRATA_ROW_APPLIED,
	STRATA_ROW_PENDING,
	STRATA_ROW_MISSING, /* applied, but no file on disk */
	STRATA_ROW_FAILED,  /* transaction:false, stopped part-way: see migrations repair */
} strata_plan_row_kind;

typedef struct strata_plan_row {
	strata_plan_row_kind kind;
	const strata_migration *m; /* NULL when missing */
	const strata_applied *a;   /* NULL when pending */
} strata_plan_row;

typedef struct strata_plan_rows {
	strata_plan_row *items;
	size_t n, applied, pending, missing, failed;
} strata_plan_rows;

/* Disk and history merged in version order. h must be sorted. */
int strata_plan_status(strata_plan_rows *out, const strata_catalog *c, const strata_history *h,
                       strata_error *e);
void strata_plan_rows_free(strata_plan_rows *s);

#endif
