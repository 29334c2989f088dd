/*
 * stale_missing URL DIST SRC CMD: on one connection, a dry run of the build DIST (sources SRC)
 * on URL, a new database (strata finds its history table missing); then CMD (another process
 * makes the history there); then a run up to version 6, the build's last (`to`: it reads the
 * history without the summary, so what the dry run found is all it knows of the table). Prints
 * each one's result: t0466 wants both OK, and counts the statements that failed in the server.
 */
#include <stdio.h>
#include <stdlib.h>

#include "strata.h"

int main(int argc, char **argv)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_run_options ro = STRATA_RUN_OPTIONS_INIT;
	strata_source *src = NULL;
	strata_run_report *r = NULL;
	strata_db *db;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: stale_missing URL DIST SRC CMD\n");
		return 2;
	}
	if (strata_db_open(&db, argv[1], NULL, &e) < 0 || strata_source_new(&src, &e) < 0 ||
	    strata_source_add_build(src, argv[2], argv[3], &e) < 0) {
		fprintf(stderr, "stale_missing: %s\n", e.msg);
		return 2;
	}
	ro.dry_run = true;
	rc = strata_run(db, src, &ro, &r, &e);
	printf("dry run: %s %zu\n", strata_error_name(rc), r ? r->n : 0);
	strata_run_report_free(r);
	r = NULL;
	if (system(argv[4]) != 0)
		printf("the command failed\n");
	ro = (strata_run_options)STRATA_RUN_OPTIONS_INIT;
	ro.to = "6";
	rc = strata_run(db, src, &ro, &r, &e);
	printf("run --to: %s %zu%s%s\n", strata_error_name(rc), r ? r->n : 0, rc ? " " : "",
	       rc ? e.msg : "");
	strata_run_report_free(r);
	strata_source_free(src);
	strata_db_close(db);
	return 0;
}
