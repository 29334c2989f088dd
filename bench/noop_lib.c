/*
 * noop_lib URL DIR...: a run through the library API, as an application that migrates its own
 * database at start-up calls it (see examples/embed/embed.c): strata_db_open(URL), a source of
 * the directories DIR... (strata_source_add_dir: a build's output such as dist/migrations, what
 * the command's --dir reads), strata_run with the default options. Exits 0 when nothing was
 * pending, 3 when it applied something, 1 on an error, 2 on bad usage. Prints one line: what
 * the run found. Part of bench/run (nothing pending, mode "library"): built in bench/out/ against
 * build-bench/libstrata.a and the libraries CMakeLists.txt links it with, as the strata command is.
 */
#include <stdio.h>

#include <strata.h>

int main(int argc, char **argv)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_db *db = NULL;
	strata_source *src = NULL;
	strata_run_report *r = NULL;
	int error, code = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: noop_lib URL DIR...\n");
		return 2;
	}
	error = strata_db_open(&db, argv[1], NULL, &e);
	if (error == 0)
		error = strata_source_new(&src, &e);
	for (int i = 2; i < argc && error == 0; i++)
		error = strata_source_add_dir(src, argv[i], &e);
	if (error == 0)
		error = strata_run(db, src, NULL, &r, &e);
	if (error < 0) {
		fprintf(stderr, "noop_lib: %s: ", strata_error_name(e.code));
		if (e.file[0])
			fprintf(stderr, "%s: ", e.file);
		fprintf(stderr, "%s\n", e.msg);
		if (e.detail[0])
			fprintf(stderr, "detail: %s\n", e.detail);
		if (e.hint[0])
			fprintf(stderr, "hint: %s\n", e.hint);
		code = 1;
	} else if (r->done > 0) {
		fprintf(stderr, "noop_lib: %zu of %zu migrations were pending (applied now)\n", r->done,
		        r->migrations);
		code = 3;
	} else {
		printf("nothing to run: %zu migrations%s\n", r->migrations,
		       r->by_summary ? " (answered by the summaries)" : "");
	}
	strata_run_report_free(r);
	strata_source_free(src);
	strata_db_close(db);
	return code;
}
