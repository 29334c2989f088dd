/*
 * locale_run LOCALE URL DIR [SEED]: runs the migrations of DIR on URL through the library under
 * setlocale(LC_ALL, LOCALE), as a program embedding strata may set its user's locale, and prints
 * whether the C library's strncasecmp takes COMMIT for "commit" there, then the run's outcome,
 * then (SEED) the outcome of loading that seed file: t0472 runs it in Turkish, where 'I' does not
 * lower to 'i', and in German, where numbers are written with a decimal comma.
 */
#include <locale.h>
#include <stdio.h>
#include <strings.h>

#include "strata.h"

int main(int argc, char **argv)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_run_options ro = STRATA_RUN_OPTIONS_INIT;
	strata_db *db = NULL;
	strata_source *src = NULL;
	strata_run_report *r = NULL;
	strata_seed_report *sr = NULL;
	int rc;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: locale_run LOCALE URL DIR [SEED]\n");
		return 2;
	}
	if (!setlocale(LC_ALL, argv[1])) {
		fprintf(stderr, "locale_run: no locale %s\n", argv[1]);
		return 3;
	}
	printf("libc: COMMIT %s commit\n",
	       strncasecmp("COMMIT", "commit", 6) == 0 ? "is" : "is not");
	if (strata_db_open(&db, argv[2], NULL, &e) < 0 || strata_source_new(&src, &e) < 0 ||
	    strata_source_add_dir(src, argv[3], &e) < 0) {
		fprintf(stderr, "locale_run: %s\n", e.msg);
		return 2;
	}
	rc = strata_run(db, src, &ro, &r, &e);
	printf("%s %s:%u:%u: %s\n", strata_error_name(rc), e.file, e.line, e.column, e.msg);
	if (argc == 5) {
		strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
		const char *files[] = {argv[4]};
		so.files = files;
		so.nfiles = 1;
		strata_error_clear(&e);
		rc = strata_seed(db, NULL, &so, &sr, &e);
		printf("seed: %s %zu rows %s\n", strata_error_name(rc), sr ? sr->rows : 0, e.msg);
	}
	strata_seed_report_free(sr);
	strata_run_report_free(r);
	strata_source_free(src);
	strata_db_close(db);
	return 0;
}
