/*
 * report_stop URL DIST SRC AT LIST: runs the build DIST (sources SRC) on URL through the library,
 * interrupted once step AT (0-based) is done, with the report's list of steps (LIST 1) or
 * without (0, no_step_list), and prints what the report says of the stop: t0464 compares the
 * two. The time of the failed step prints as whether it has one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "strata.h"

static strata_db *db;
static long at;

static void on_event(const strata_event *ev, void *ud)
{
	(void)ud;
	if (ev->kind == STRATA_EVENT_STEP_DONE && (long)ev->index == at)
		strata_db_interrupt(db);
}

int main(int argc, char **argv)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_db_options dbo = STRATA_DB_OPTIONS_INIT;
	strata_run_options ro = STRATA_RUN_OPTIONS_INIT;
	strata_source *src = NULL;
	strata_run_report *r = NULL;
	const strata_step_report *st;
	int rc;

	if (argc != 6) {
		fprintf(stderr, "usage: report_stop URL DIST SRC AT LIST\n");
		return 2;
	}
	at = atol(argv[4]);
	ro.no_step_list = atoi(argv[5]) == 0;
	dbo.on_event = on_event;
	if (strata_db_open(&db, argv[1], &dbo, &e) < 0 || strata_source_new(&src, &e) < 0 ||
	    strata_source_add_build(src, argv[2], argv[3], &e) < 0) {
		fprintf(stderr, "report_stop: %s\n", e.msg);
		return 2;
	}
	rc = strata_run(db, src, &ro, &r, &e);
	st = r ? r->failed_step : NULL;
	printf("%s n=%zu done=%zu failed=%ld not_started=%d listed=%d\n", strata_error_name(rc),
	       r ? r->n : 0, r ? r->done : 0, r ? r->failed : -2, r ? r->not_started : -1,
	       r && r->steps != NULL);
	if (st)
		printf("failed_step %s-%s %s state=%d timed=%d\n", st->version, st->name, st->file,
		       (int)st->state, st->ms > 0);
	else
		printf("failed_step none\n");
	strata_run_report_free(r);
	strata_source_free(src);
	strata_db_close(db);
	return 0;
}
