/*
 * dry_stop URL DIST SRC run|revert: a dry run of applying every pending migration of the build
 * DIST (sources SRC) on URL, or of reverting every applied one, through the library, with
 * no_step_list, interrupted (strata_db_interrupt) as its first step is handed out, and prints
 * the error and how many steps were handed out: t0464 and t0465 want the first batch and no
 * more.
 */
#include <stdio.h>
#include <string.h>

#include "strata.h"

static strata_db *db;
static size_t planned;

static void on_event(const strata_event *ev, void *ud)
{
	(void)ud;
	if (ev->kind == STRATA_EVENT_STEP_PLANNED && planned++ == 0)
		strata_db_interrupt(db);
}

int main(int argc, char **argv)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_db_options dbo = STRATA_DB_OPTIONS_INIT;
	strata_run_options ro = STRATA_RUN_OPTIONS_INIT;
	strata_source *src = NULL;
	strata_run_report *r = NULL;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: dry_stop URL DIST SRC run|revert\n");
		return 2;
	}
	ro.dry_run = ro.no_step_list = true;
	ro.all = strcmp(argv[4], "revert") == 0;
	dbo.on_event = on_event;
	if (strata_db_open(&db, argv[1], &dbo, &e) < 0 || strata_source_new(&src, &e) < 0 ||
	    strata_source_add_build(src, argv[2], argv[3], &e) < 0) {
		fprintf(stderr, "dry_stop: %s\n", e.msg);
		return 2;
	}
	rc = ro.all ? strata_revert(db, src, &ro, &r, &e) : strata_run(db, src, &ro, &r, &e);
	printf("%s planned=%zu\n", strata_error_name(rc), planned);
	strata_run_report_free(r);
	strata_source_free(src);
	strata_db_close(db);
	return 0;
}
