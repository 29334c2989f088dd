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

/* Builds src into out with bo; prints what it did or why not. Returns an exit code. */
static int build_one(struct cli_ctx *ctx, const struct check_opts *o, const char *src,
                     const char *out, const strata_build_options *bo)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_build_report *r = NULL;
	char dur[32];
	int rc = EXIT_OK;

	if (strata_build(src, out, bo, &r, &e) < 0) {
		if (r)
			cli_lint_print(stderr, &r->lint);
		if (e.code == STRATA_ENOTFOUND && !e.line)
			snprintf(
			    e.hint, sizeof(e.hint),
			    "create migrations with 'strata migration:create -n NAME', or point "
			    "--src at them");
		check_hint(o, &e);
		out_error(&e);
		if (r && r->partial)
			fprintf(stderr,
			        "strata: build stopped part-way: %s holds some of the new files "
			        "and its old manifest, and runs refuse it; run strata build again "
			        "once that is fixed\n",
			        out);
		else
			fprintf(stderr, "strata: build stopped; %s was not changed\n", out);
		rc = EXIT_FAIL;
		goto done;
	}
	cli_lint_print(stderr, &r->lint);
	out_info(ctx, "built %zu migration%s from %s into %s", r->built, r->built == 1 ? "" : "s",
	         src, out);
	if (r->lint.warnings)
		out_info(ctx, " (%zu lint warning%s)", r->lint.warnings,
		         r->lint.warnings == 1 ? "" : "s");
	if (r->removed)
		out_info(ctx, " (removed %zu stale file%s)", r->removed,
		         r->removed == 1 ? "" : "s");
	out_info(ctx, " in %s\n", out_duration(dur, r->ms));
done:
	strata_build_report_free(r);
	return rc;
}

/* strata.json's "sources": each build in order, a SQLite one checked on top of the base
 * directories and every source listed before it (its src, or the directory used as is). */
static int build_sources(struct cli_ctx *ctx, const struct check_opts *o)
{
	const cli_config *cfg = &o->cfg;
	const char *base[2 * CLI_MAX_DIRS];
	strata_build_options bo = o->bo;
	size_t nbase = 0, built = 0;
	int rc = EXIT_OK;

	for (size_t i = 0; i < o->bo.nbase && nbase < CLI_MAX_DIRS; i++)
		base[nbase++] = o->bo.base_dirs[i];
	for (size_t i = 0; i < cfg->nsources && rc == EXIT_OK; i++) {
		const cli_source *s = &cfg->sources[i];
		bo.base_dirs = base;
		bo.nbase = nbase;
		if (s->src && ++built)
			rc = build_one(ctx, o, s->src, s->dist, &bo);
		if (nbase < 2 * CLI_MAX_DIRS)
			base[nbase++] = s->src ? s->src : s->dist;
	}
	if (rc == EXIT_OK && !built)
		out_info(ctx, "nothing to build: every source in %s is a directory used as is\n",
		         cfg->config_path);
	return rc;
}

int cmd_build(struct cli_ctx *ctx, int argc, char **argv)
{
	struct check_opts o;
	int rc = check_start(ctx, argc, argv, &o);

	if (rc < 0)
		rc = o.cfg.nsources && !o.paths_given ? build_sources(ctx, &o)
		                                      : build_one(ctx, &o, o.src, o.out, &o.bo);
	check_end(&o);
	return rc;
}
