/* strata build [--src DIR] [--out DIR] [--dialect postgres|sqlite] [--strict] [--enable RULES] */
#include <stdio.h>

#include "cli/cmds.h"
#include "cli/out.h"

enum { OPT_SRC = 256, OPT_OUT, OPT_DIALECT, OPT_STRICT, OPT_ENABLE, OPT_BASE };

const struct cli_opt cmd_build_opts[] = {
    {"src", OPT_SRC, "DIR", "authored migrations (default: src/migrations)", false},
    {"out", OPT_OUT, "DIR", "where to write them (default: dist/migrations)", false},
    {"dialect", OPT_DIALECT, "NAME",
     "parse as postgres or sqlite (default: \"dialect\" in strata.json, else the database "
     "URL's kind)",
     false},
    {"strict", OPT_STRICT, NULL, "lint warnings fail the build too", false},
    {"enable", OPT_ENABLE, "RULES", "turn on off-by-default lint rules (comma-separated)", false},
    {"base", OPT_BASE, "DIR",
     "SQLite: check on top of the migrations in DIR (another source's: the core's); "
     "repeatable (default: \"base_dirs\" in strata.json)",
     true},
    {0},
};

int cmd_build(struct cli_ctx *ctx, int argc, char **argv)
{
	cli_parser p;
	cli_config cfg;
	strata_error e = STRATA_ERROR_INIT;
	strata_build_report *r = NULL;
	strata_build_options bo = STRATA_BUILD_OPTIONS_INIT;
	const char *src = NULL, *out = NULL, *dialect = NULL, *base[CLI_MAX_DIRS];
	size_t nbase = 0;
	char dur[32];
	int key, rc = EXIT_OK;

	cli_parser_init(&p, ctx->cmd, argc, argv);
	while ((key = cli_next(&p, argc, argv)) != CLI_OPT_END) {
		if (key == CLI_OPT_HELP)
			return EXIT_OK;
		if (key == CLI_OPT_BAD)
			return EXIT_USAGE;
		if (key == OPT_SRC)
			src = optarg;
		else if (key == OPT_OUT)
			out = optarg;
		else if (key == OPT_STRICT)
			bo.strict = true;
		else if (key == OPT_ENABLE)
			bo.enable = optarg;
		else if (key == OPT_BASE && nbase == CLI_MAX_DIRS)
			return cli_usage_error(ctx->cmd, "too many --base (at most %d)",
			                       CLI_MAX_DIRS);
		else if (key == OPT_BASE)
			base[nbase++] = optarg;
		else if (key == OPT_DIALECT) {
			if (strata_dialect_parse(&bo.dialect, optarg, &e) < 0)
				return cli_usage_error(ctx->cmd,
				                       "unknown dialect '%s' (postgres "
				                       "or sqlite)",
				                       optarg);
			dialect = optarg;
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_load(ctx, &cfg)) != EXIT_OK)
		return rc;
	if (!src)
		src = cfg.src_dir;
	if (!out)
		out = cfg.dist_dir;
	bo.base_dirs = nbase ? base : (const char *const *)cfg.base_dirs;
	bo.nbase = nbase ? nbase : cfg.nbase;
	if ((rc = cli_dialect(ctx, dialect ? dialect : cfg.dialect, &cfg, &bo.dialect)) != EXIT_OK)
		goto done;
	out_verbose(ctx, "checking %s as %s SQL\n", src, strata_dialect_name(bo.dialect));
	if (strata_build(src, out, &bo, &r, &e) < 0) {
		if (r)
			cli_lint_print(stderr, &r->lint);
		if (e.code == STRATA_ENOTFOUND && !e.line)
			snprintf(
			    e.hint, sizeof(e.hint),
			    "create migrations with 'strata migration:create -n NAME', or point "
			    "--src at them");
		cli_dialect_hint(&e, bo.dialect, dialect ? dialect : cfg.dialect, &cfg);
		out_error(&e);
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
	cli_config_free(&cfg);
	return rc;
}
