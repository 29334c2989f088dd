/* check.c: build's and lint's options (see check.h). */
#include "cli/check.h"

#include <stdio.h>
#include <string.h>

#include "cli/out.h"

/* The dialect build and lint read migrations as: `named` (--dialect or "dialect"), else the
 * database URL's engine (never connected to), else SQLite. Prints any error; exit code. */
static int dialect(const char *named, const cli_config *cfg, strata_dialect *out)
{
	strata_error e = STRATA_ERROR_INIT;
	const char *engine;
	*out = STRATA_DIALECT_SQLITE;
	if (named && *named) {
		if (strata_dialect_parse(out, named, &e) == 0)
			return EXIT_OK;
		out_error(&e);
		return EXIT_FAIL;
	}
	if (!cfg->database_url || !*cfg->database_url)
		return EXIT_OK;
	/* the kind of the database URL, never connected to */
	if (!(engine = strata_url_engine(cfg->database_url))) {
		char *shown = strata_url_redact(cfg->database_url);
		strata_error_hint(&e, "the SQL dialect comes from the database URL when neither "
		                      "--dialect nor \"dialect\" in strata.json sets it");
		strata_error_set(&e, STRATA_EINVALID, "unsupported database URL '%s'",
		                 shown ? shown : "");
		strata_free(shown);
		out_error(&e);
		return EXIT_FAIL;
	}
	return strata_dialect_parse(out, engine, &e) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	static const char *const formats[] = {
	    [FORMAT_TEXT] = "text", [FORMAT_JSON] = "json", [FORMAT_MARKDOWN] = "markdown"};
	struct check_opts *o = ud;
	strata_error e = STRATA_ERROR_INIT;

	switch (key) {
	case CHECK_SRC:
		o->src = arg;
		break;
	case CHECK_OUT:
		o->out = arg;
		break;
	case CHECK_STRICT:
		o->bo.strict = true;
		break;
	case CHECK_ENABLE:
		o->bo.enable = arg;
		break;
	case CHECK_LIST_RULES:
		o->list = true;
		break;
	case CHECK_BASE:
		if (o->nbase == CLI_MAX_DIRS)
			return cli_usage_error(ctx->cmd, "too many --base (at most %d)",
			                       CLI_MAX_DIRS);
		o->base[o->nbase++] = arg;
		break;
	case CHECK_DIALECT:
		if (strata_dialect_parse(&o->bo.dialect, arg, &e) < 0)
			return cli_usage_error(ctx->cmd,
			                       "unknown dialect '%s' (postgres or sqlite)", arg);
		o->named = arg;
		break;
	case CHECK_FORMAT:
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
			if (strcmp(arg, formats[i]) == 0) {
				o->format = (enum check_format)i;
				ctx->json_stdout = o->format == FORMAT_JSON;
				return EXIT_OK;
			}
		return cli_usage_error(ctx->cmd, "unknown format '%s' (text or json)", arg);
	}
	return EXIT_OK;
}

int check_start(struct cli_ctx *ctx, int argc, char **argv, struct check_opts *o)
{
	static const strata_build_options defaults = STRATA_BUILD_OPTIONS_INIT;
	int rc;

	memset(o, 0, sizeof(*o));
	o->bo = defaults;
	if ((rc = cli_parse(ctx, argc, argv, take, o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if (o->list)
		return -1;
	if (o->format == FORMAT_MARKDOWN)
		return cli_usage_error(ctx->cmd, "--format markdown goes with --list-rules");
	if ((rc = cli_load(ctx, &o->cfg)) != EXIT_OK)
		return rc;
	o->loaded = true;
	o->paths_given = o->src || o->out;
	o->src = o->src ? o->src : o->cfg.src_dir;
	o->out = o->out ? o->out : o->cfg.dist_dir;
	o->bo.base_dirs = o->nbase ? o->base : (const char *const *)o->cfg.base_dirs;
	o->bo.nbase = o->nbase ? o->nbase : o->cfg.nbase;
	o->named = o->named ? o->named : o->cfg.dialect;
	if ((rc = dialect(o->named, &o->cfg, &o->bo.dialect)) != EXIT_OK)
		return rc;
	out_verbose(ctx, "checking %s as %s SQL\n", o->src, strata_dialect_name(o->bo.dialect));
	return -1;
}

void check_end(struct check_opts *o)
{
	if (o->loaded)
		cli_config_free(&o->cfg);
	o->loaded = false;
}

void check_hint(const struct check_opts *o, strata_error *e)
{
	strata_dialect d = o->bo.dialect;
	const char *named = o->named;
	const cli_config *cfg = &o->cfg;

	/* SQLite because nothing said otherwise: PostgreSQL migrations fail here */
	if (e->code != STRATA_EINVALID || e->hint[0] || !e->line || named ||
	    d != STRATA_DIALECT_SQLITE || strcmp(cfg->url_source, "default") != 0)
		return;
	strata_error_hint(e, "the migrations were checked as SQLite SQL, the default when no "
	                     "--dialect, \"dialect\" in strata.json or database URL names one; "
	                     "for PostgreSQL migrations use --dialect postgres");
}
