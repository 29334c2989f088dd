/* cli.c: option tables and parsing, run settings, and opening the project's database and
 * migrations through the library. */
#include "cli/cli.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/out.h"
#include "cli/signals.h"

const struct cli_opt cli_global_opts[] = {
    {"database-url", 0, "URL",
     "the database (default: DATABASE_URL, .env, strata.json, "
     "else sqlite:strata.db)",
     false},
    {"config", 0, "FILE", "the project config (default: ./strata.json if it exists)", false},
    {"verbose", 'v', NULL, "say more", false},
    {"quiet", 'q', NULL, "print errors and results only", false},
    {"wait", 0, NULL, "PostgreSQL: retry connecting until the server is up (for 60s)", false},
    {"wait-timeout", 0, "DURATION", "like --wait, for at most DURATION", false},
    {"help", 'h', NULL, "show this help", false},
    {0},
};

static void print_opts(const struct cli_opt *o)
{
	for (; o->name; o++) {
		char left[64];
		if (o->key > 0 && o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
			         o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		printf("  %-28s %s\n", left, o->help);
	}
}

void cli_print_help(const struct cmd *c)
{
	printf("Usage: strata %s %s\n\n%s.\n", c->name, c->usage ? c->usage : "", c->summary);
	if (c->details)
		printf("\n%s\n", c->details);
	if (c->opts && c->opts[0].name) {
		printf("\nOptions:\n");
		print_opts(c->opts);
	}
	printf("\nGlobal options (before or after the command):\n");
	print_opts(cli_global_opts);
	printf("\nExit status: 0 success, 1 failure, 2 bad usage%s%s.\n",
	       strcmp(c->name, "migrations show") == 0
	           ? ", 3 pending migrations, 4 a migration failed part-way (--exit-code)"
	           : "",
	       c->connects ? ", 130/143 interrupted by SIGINT/SIGTERM (what ran is rolled back)"
	                   : "");
}

void cli_parser_init(cli_parser *p, const struct cmd *c, int argc, char **argv)
{
	size_t n = 0, s = 0;
	(void)argc;
	memset(p, 0, sizeof(*p));
	p->shortopts[s++] = ':'; /* we report missing arguments ourselves */
	p->cmd = c;
	for (const struct cli_opt *o = c->opts; o && o->name && n < 30; o++, n++) {
		p->longopts[n].name = o->name;
		p->longopts[n].has_arg = o->arg ? required_argument : no_argument;
		p->longopts[n].val = o->key;
		if (o->key > 0 && o->key < 256 && s + 3 < sizeof(p->shortopts)) {
			p->shortopts[s++] = (char)o->key;
			if (o->arg)
				p->shortopts[s++] = ':';
		}
	}
	p->longopts[n].name = "help";
	p->longopts[n].val = 'h';
	p->shortopts[s++] = 'h';
	p->shortopts[s] = '\0';
	snprintf(p->prog, sizeof(p->prog), "strata %s", c->name);
	argv[0] = p->prog;
	optind = 0; /* full reset of GNU getopt between commands */
	opterr = 0;
}

int cli_usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "strata %s: ", c ? c->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'strata%s%s --help' for more information.\n", c ? " " : "",
	        c ? c->name : "");
	return EXIT_USAGE;
}

int cli_next(cli_parser *p, int argc, char **argv)
{
	int key = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
	const struct cmd *c = p->cmd;
	if (key == 'h') {
		cli_print_help(c);
		return CLI_OPT_HELP;
	}
	if (key == '?') {
		if (optopt && optopt < 256 && argv[optind - 1][1] != '-')
			cli_usage_error(c, "unknown option '-%c'", optopt);
		else
			cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
		return CLI_OPT_BAD;
	}
	if (key == ':') {
		cli_usage_error(c, "option '%s' needs a value", argv[optind - 1]);
		return CLI_OPT_BAD;
	}
	for (size_t i = 0; c->opts && c->opts[i].name && i < 30; i++) {
		const struct cli_opt *o = &c->opts[i];
		if (o->key != key || !o->arg || o->many)
			continue;
		if (p->seen[i]) {
			cli_usage_error(c, "--%s given twice; it takes one value", o->name);
			return CLI_OPT_BAD;
		}
		p->seen[i] = true;
	}
	return key;
}

int cli_parse_duration(const char *s, int *ms_out)
{
	char *end;
	double v = strtod(s, &end);
	double mult = 1000;
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || (*end == '\0' && v == 0))
		mult = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else
		return -1;
	if (v * mult > 2147483647.0)
		return -1;
	/* a positive duration never rounds down to 0, which would mean "no timeout" */
	*ms_out = v > 0 && v * mult < 1 ? 1 : (int)(v * mult);
	return 0;
}

bool cli_is_uint(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

bool cli_is_version(const char *s)
{
	return s && cli_is_uint(s);
}

int cli_load(struct cli_ctx *ctx, cli_config *cfg)
{
	strata_error e = STRATA_ERROR_INIT;
	if (cli_config_load(cfg, ctx->config_path, ctx->database_url, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_open_db(struct cli_ctx *ctx, const cli_config *cfg, unsigned flags, strata_db **out)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_db_options o = STRATA_DB_OPTIONS_INIT;

	o.flags = flags;
	o.connect_wait_ms = ctx->wait_ms;
	o.on_event = out_event;
	o.userdata = ctx;
	if (strata_db_open(out, cfg->database_url, &o, &e) < 0) {
		if (!e.detail[0] && e.code == STRATA_EINVALID)
			snprintf(e.detail, sizeof(e.detail), "the URL came from %s",
			         cfg->url_source);
		out_error(&e);
		return EXIT_FAIL;
	}
	out_verbose(ctx, "database: %s (from %s)\n", strata_db_display(*out), cfg->url_source);
	cli_signals_watch(*out); /* from now on Ctrl-C and SIGTERM roll back and report */
	return EXIT_OK;
}

void cli_close_db(strata_db *db)
{
	cli_signals_unwatch();
	strata_db_close(db);
}

int cli_source(struct cli_ctx *ctx, const cli_config *cfg, const char *const *dirs, size_t ndirs,
               strata_source **out)
{
	strata_error e = STRATA_ERROR_INIT;
	int error = strata_source_new(out, &e);

	ctx->ndirs = ndirs ? ndirs : 1;
	if (error == 0 && ndirs == 0)
		error = strata_source_add_build(*out, cfg->dist_dir, cfg->src_dir, &e);
	for (size_t i = 0; i < ndirs && error == 0; i++)
		error = strata_source_add_dir(*out, dirs[i], &e);
	if (error < 0) {
		if (error == STRATA_ENOTFOUND && ndirs == 0 && strcmp(ctx->cmd->name, "seed") == 0)
			snprintf(e.hint, sizeof(e.hint),
			         "run 'strata build' to build %s from %s, pass --dir %s, or seed "
			         "without migrating (--no-migrate)",
			         cfg->dist_dir, cfg->src_dir, cfg->src_dir);
		out_error(&e);
		strata_source_free(*out);
		*out = NULL;
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_config_error(const cli_config *cfg, const char *key, const char *value)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_error_at(&e, cfg->config_path, 0, 0);
	strata_error_hint(&e, "write a duration like \"5s\", \"500ms\" or \"2m\"");
	strata_error_set(&e, STRATA_EINVALID, "bad value '%s' for '%s' in the config", value, key);
	out_error(&e);
	return EXIT_FAIL;
}

int cli_lock_opt(const struct cmd *c, int key, const char *arg, strata_run_options *o,
                 struct cli_given *given)
{
	if (key == CLI_KEY_LOCK_WAIT && cli_parse_duration(arg, &o->lock_wait_ms) < 0) {
		cli_usage_error(c, "--lock-wait needs a duration like 30s, 500ms or 2m, not '%s'",
		                arg);
		return -1;
	}
	if (key == CLI_KEY_LOCK_STRATEGY) {
		if (strcmp(arg, "advisory") == 0) {
			o->lock_strategy = STRATA_LOCK_ADVISORY;
		} else if (strcmp(arg, "table") == 0) {
			o->lock_strategy = STRATA_LOCK_TABLE;
		} else {
			cli_usage_error(c, "--lock-strategy is 'advisory' or 'table', not '%s'",
			                arg);
			return -1;
		}
		given->lock_strategy = true;
	}
	if (key == CLI_KEY_LOCK_TTL) {
		if (cli_parse_duration(arg, &o->lock_ttl_ms) < 0 || o->lock_ttl_ms <= 0) {
			cli_usage_error(
			    c,
			    "--lock-ttl needs a duration above 0 like 30s, 500ms or 2m, "
			    "not '%s'",
			    arg);
			return -1;
		}
		given->lock_ttl = true;
	}
	return 0;
}

int cli_resolve_run_settings(const cli_config *cfg, strata_run_options *o,
                             const struct cli_given *given)
{
	const struct {
		const char *key, *value;
		int *slot;
		bool given, positive;
	} durations[] = {
	    {"lock_timeout", cfg->lock_timeout, &o->lock_timeout_ms, given->lock_timeout, false},
	    {"statement_timeout", cfg->statement_timeout, &o->statement_timeout_ms,
	     given->statement_timeout, false},
	    {"lock_ttl", cfg->lock_ttl, &o->lock_ttl_ms, given->lock_ttl, true},
	};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		int ms;
		if (durations[i].given || !durations[i].value)
			continue; /* the option wins; without either, the library's default */
		if (cli_parse_duration(durations[i].value, &ms) < 0 ||
		    (durations[i].positive && ms <= 0))
			return cli_config_error(cfg, durations[i].key, durations[i].value);
		*durations[i].slot = ms;
	}
	if (!given->lock_strategy && cfg->lock_strategy) {
		if (strcmp(cfg->lock_strategy, "table") == 0)
			o->lock_strategy = STRATA_LOCK_TABLE;
		else if (strcmp(cfg->lock_strategy, "advisory") == 0)
			o->lock_strategy = STRATA_LOCK_ADVISORY;
		else
			return cli_config_error(cfg, "lock_strategy", cfg->lock_strategy);
	}
	return EXIT_OK;
}

int cli_dialect(const struct cli_ctx *ctx, const char *named, const cli_config *cfg,
                strata_dialect *out)
{
	strata_error e = STRATA_ERROR_INIT;
	const char *engine;
	(void)ctx;
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

void cli_dialect_hint(strata_error *e, strata_dialect d, const char *named, const cli_config *cfg)
{
	/* SQLite because nothing said otherwise: PostgreSQL migrations fail here */
	if (e->code != STRATA_EINVALID || e->hint[0] || !e->line || named ||
	    d != STRATA_DIALECT_SQLITE || strcmp(cfg->url_source, "default") != 0)
		return;
	strata_error_hint(e, "the migrations were checked as SQLite SQL, the default when no "
	                     "--dialect, \"dialect\" in strata.json or database URL names one; "
	                     "for PostgreSQL migrations use --dialect postgres");
}
