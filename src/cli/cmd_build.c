/* strata build [--src DIR] [--out DIR] [--dialect postgres|sqlite] [--strict] [--enable RULES] */
#include <stdio.h>

#include "cli/cmds.h"
#include "cli/out.h"
#include "core/build.h"
#include "core/sqlcheck.h"
#include "util/clock.h"

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
	strata_config cfg = {0};
	strata_error e = STRATA_ERROR_INIT;
	strata_build_result r = {0};
	strata_build_opts bo = STRATA_BUILD_OPTS_INIT;
	const char *src = NULL, *out = NULL, *dialect = NULL, *base[CLI_MAX_DIRS];
	size_t nbase = 0;
	char dur[32];
	double t0 = strata_now_ms();
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
	if (strata_config_load(&cfg, ctx->config_path, ctx->database_url, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	if (!src)
		src = cfg.src_dir;
	if (!out)
		out = cfg.dist_dir;
	bo.base_dirs = nbase ? base : (const char *const *)cfg.base_dirs;
	bo.nbase = nbase ? nbase : cfg.nbase;
	if (strata_dialect_pick(&bo.dialect, dialect ? dialect : cfg.dialect, cfg.database_url,
	                        &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	out_verbose(ctx, "checking %s as %s SQL\n", src, strata_dialect_name(bo.dialect));
	if (strata_build(src, out, &bo, &r, &e) < 0) {
		cli_lint_print(stderr, &r.lint);
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
	cli_lint_print(stderr, &r.lint);
	out_info(ctx, "built %zu migration%s from %s into %s", r.built, r.built == 1 ? "" : "s",
	         src, out);
	if (r.lint.warnings)
		out_info(ctx, " (%zu lint warning%s)", r.lint.warnings,
		         r.lint.warnings == 1 ? "" : "s");
	if (r.removed)
		out_info(ctx, " (removed %zu stale file%s)", r.removed, r.removed == 1 ? "" : "s");
	out_info(ctx, " in %s\n", out_duration(dur, strata_now_ms() - t0));
done:
	strata_build_result_free(&r);
	strata_config_free(&cfg);
	return rc;
}
