#include "cli/cli.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/out.h"
#include "cli/signals.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fs.h"

static const struct cli_opt global_opts[] = {
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
	print_opts(global_opts);
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

int cli_load(struct cli_ctx *ctx, strata_config *cfg, strata_dburl *url)
{
	strata_error e = STRATA_ERROR_INIT;
	if (strata_config_load(cfg, ctx->config_path, ctx->database_url, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	if (strata_dburl_parse(url, cfg->database_url, &e) < 0) {
		if (!e.detail[0])
			snprintf(e.detail, sizeof(e.detail), "the URL came from %s",
			         cfg->url_source);
		out_error(&e);
		strata_config_free(cfg);
		return EXIT_FAIL;
	}
	out_verbose(ctx, "database: %s (from %s)\n", url->display, cfg->url_source);
	return EXIT_OK;
}

int cli_connect(struct cli_ctx *ctx, const strata_dburl *url, unsigned flags, strata_backend **out)
{
	strata_error e = STRATA_ERROR_INIT;
	double start = strata_now_ms(), left;
	int delay_ms = 100, tries = 1;
	char dur[32];

	/* --wait: retry with backoff (0.1 s, 0.2 s ... at most 2 s) while the server cannot be
	 * reached, as dbmate's wait does; any other error, or the deadline, ends the wait */
	while (strata_backend_open(out, url, flags, &e) == STRATA_ECONNECT &&
	       url->kind == STRATA_DB_POSTGRES && ctx->wait_ms > 0 &&
	       (left = ctx->wait_ms - (strata_now_ms() - start)) > 0) {
		struct timespec ts;
		int ms = delay_ms < left ? delay_ms : (int)left + 1;
		if (tries == 1)
			out_verbose(ctx, "waiting up to %.1f s for %s\n", ctx->wait_ms / 1000.0,
			            url->display);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		delay_ms = delay_ms >= 1000 ? 2000 : delay_ms * 2;
		tries++;
		strata_error_clear(&e);
	}
	if (e.code < 0) {
		if (tries > 1 && e.code == STRATA_ECONNECT)
			strata_error_hint(&e,
			                  "gave up after %d attempts in %.1f s (--wait-timeout)",
			                  tries, (strata_now_ms() - start) / 1000.0);
		out_error(&e);
		return EXIT_FAIL;
	}
	out_verbose(ctx, "connected in %s\n", out_duration(dur, strata_now_ms() - start));
	cli_signals_watch(*out); /* from now on Ctrl-C and SIGTERM roll back and report */
	return EXIT_OK;
}

void cli_map_to_src(const strata_config *cfg, strata_error *e)
{
	size_t dl = strlen(cfg->dist_dir);
	char *src = NULL, *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	strata_error ignored = STRATA_ERROR_INIT;

	if (!e->file[0] || strncmp(e->file, cfg->dist_dir, dl) != 0 || e->file[dl] != '/')
		return;
	src = strata_fs_join(cfg->src_dir, e->file + dl + 1);
	if (src && strata_fs_read(&a, &al, e->file, &ignored) == 0 &&
	    strata_fs_read(&b, &bl, src, &ignored) == 0 && al == bl && memcmp(a, b, al) == 0)
		snprintf(e->file, sizeof(e->file), "%s", src);
	free(src);
	free(a);
	free(b);
}

int cli_config_error(const strata_config *cfg, const char *key, const char *value)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_error_at(&e, cfg->config_path, 0, 0);
	strata_error_hint(&e, "write a duration like \"5s\", \"500ms\" or \"2m\"");
	strata_error_set(&e, STRATA_EINVALID, "bad value '%s' for '%s' in the config", value, key);
	out_error(&e);
	return EXIT_FAIL;
}

void cli_report_problem(void *ud, const strata_error *e)
{
	strata_error copy = *e;
	cli_map_to_src(ud, &copy);
	out_error(&copy);
}

static void ignore_problem(void *ud, const strata_error *e)
{
	(void)ud;
	(void)e;
}

int cli_verify(strata_backend *b, const strata_catalog *c, strata_history *h, bool brief,
               const strata_plan *plan, const strata_verify_opts *vo, bool all,
               const strata_config *cfg)
{
	strata_history full;
	strata_error ignored = STRATA_ERROR_INIT;
	if (brief) {
		if (strata_verify_all(c, h, plan, vo, all, ignore_problem, NULL) == 0)
			return 0;
		if (b->ops->history_load(b, &full, 0, &ignored) == 0) {
			strata_history_free(h);
			*h = full;
		}
	}
	return strata_verify_all(c, h, plan, vo, all, cli_report_problem, (void *)cfg);
}

int cli_lock_opt(const struct cmd *c, int key, const char *arg, int *wait_ms, int *strategy,
                 int *ttl_ms)
{
	strata_lock_strategy ls;
	if (key == CLI_KEY_LOCK_WAIT && cli_parse_duration(arg, wait_ms) < 0) {
		cli_usage_error(c, "--lock-wait needs a duration like 30s, 500ms or 2m, not '%s'",
		                arg);
		return -1;
	}
	if (key == CLI_KEY_LOCK_STRATEGY) {
		if (strata_lock_strategy_parse(arg, &ls) < 0) {
			cli_usage_error(c, "--lock-strategy is 'advisory' or 'table', not '%s'",
			                arg);
			return -1;
		}
		*strategy = (int)ls;
	}
	if (key == CLI_KEY_LOCK_TTL && (cli_parse_duration(arg, ttl_ms) < 0 || *ttl_ms <= 0)) {
		cli_usage_error(c,
		                "--lock-ttl needs a duration above 0 like 30s, 500ms or 2m, not "
		                "'%s'",
		                arg);
		return -1;
	}
	return 0;
}

int cli_resolve_run_settings(const strata_config *cfg, struct cli_run_settings *rs)
{
	static const struct {
		const char *key;
		size_t cfg_off, rs_off;
		int dflt;
	} durations[] = {
	    {"lock_timeout", offsetof(strata_config, lock_timeout),
	     offsetof(struct cli_run_settings, lock_timeout_ms), CLI_DEFAULT_LOCK_TIMEOUT_MS},
	    {"statement_timeout", offsetof(strata_config, statement_timeout),
	     offsetof(struct cli_run_settings, statement_timeout_ms), 0},
	    {"lock_ttl", offsetof(strata_config, lock_ttl),
	     offsetof(struct cli_run_settings, lock_ttl_ms), CLI_DEFAULT_LOCK_TTL_MS},
	};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		const char *v = *(char *const *)((const char *)cfg + durations[i].cfg_off);
		int *slot = (int *)((char *)rs + durations[i].rs_off);
		if (*slot >= 0)
			continue; /* the option wins */
		if (v &&
		    (cli_parse_duration(v, slot) < 0 || (slot == &rs->lock_ttl_ms && *slot <= 0)))
			return cli_config_error(cfg, durations[i].key, v);
		if (!v)
			*slot = durations[i].dflt;
	}
	if (rs->lock_strategy < 0 && cfg->lock_strategy) {
		strata_lock_strategy ls;
		if (strata_lock_strategy_parse(cfg->lock_strategy, &ls) < 0)
			return cli_config_error(cfg, "lock_strategy", cfg->lock_strategy);
		rs->lock_strategy = (int)ls;
	}
	if (rs->lock_strategy < 0)
		rs->lock_strategy = STRATA_LOCK_ADVISORY;
	if (rs->lock_retries < 0)
		rs->lock_retries = CLI_DEFAULT_LOCK_RETRIES;
	return EXIT_OK;
}

void cli_dialect_hint(strata_error *e, int dialect, const char *named, const strata_config *cfg)
{
	/* SQLite because nothing said otherwise: PostgreSQL migrations fail here */
	if (e->code != STRATA_EINVALID || e->hint[0] || !e->line || named ||
	    dialect != STRATA_DIALECT_SQLITE || strcmp(cfg->url_source, "default") != 0)
		return;
	strata_error_hint(e, "the migrations were checked as SQLite SQL, the default when no "
	                     "--dialect, \"dialect\" in strata.json or database URL names one; "
	                     "for PostgreSQL migrations use --dialect postgres");
}
