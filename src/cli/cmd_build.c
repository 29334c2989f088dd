/* strata build [--src DIR] [--out DIR] [--dialect postgres|sqlite] [--strict] [--enable RULES]
 *              [--base DIR]... */
#include <stdio.h>

#include "cli/check.h"
#include "cli/cmds.h"
#include "cli/out.h"

const struct cli_opt cmd_build_opts[] = {
    CHECK_SRC_OPT,
    {"out", CHECK_OUT, "DIR", "where to write them (default: dist/migrations)", false},
    {"dialect", CHECK_DIALECT, "NAME",
     "parse as postgres or sqlite (default: \"dialect\" in strata.json, else the database "
     "URL's kind)",
     false},
    {"strict", CHECK_STRICT, NULL, "lint warnings fail the build too", false},
    {"enable", CHECK_ENABLE, "RULES", "turn on off-by-default lint rules (comma-separated)", false},
    CHECK_BASE_OPT,
    {0},
};

int cmd_build(struct cli_ctx *ctx, int argc, char **argv)
{
	struct check_opts o;
	strata_error e = STRATA_ERROR_INIT;
	strata_build_report *r = NULL;
	char dur[32];
	int rc = check_start(ctx, argc, argv, &o);

	if (rc >= 0)
		goto done;
	rc = EXIT_OK;
	if (strata_build(o.src, o.out, &o.bo, &r, &e) < 0) {
		if (r)
			cli_lint_print(stderr, &r->lint);
		if (e.code == STRATA_ENOTFOUND && !e.line)
			snprintf(
			    e.hint, sizeof(e.hint),
			    "create migrations with 'strata migration:create -n NAME', or point "
			    "--src at them");
		check_hint(&o, &e);
		out_error(&e);
		fprintf(stderr, "strata: build stopped; %s was not changed\n", o.out);
		rc = EXIT_FAIL;
		goto done;
	}
	cli_lint_print(stderr, &r->lint);
	out_info(ctx, "built %zu migration%s from %s into %s", r->built, r->built == 1 ? "" : "s",
	         o.src, o.out);
	if (r->lint.warnings)
		out_info(ctx, " (%zu lint warning%s)", r->lint.warnings,
		         r->lint.warnings == 1 ? "" : "s");
	if (r->removed)
		out_info(ctx, " (removed %zu stale file%s)", r->removed,
		         r->removed == 1 ? "" : "s");
	out_info(ctx, " in %s\n", out_duration(dur, r->ms));
done:
	strata_build_report_free(r);
	check_end(&o);
	return rc;
}
