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
    {"env-file", 0, "FILE",
     "read variables from FILE instead of the project's .env (repeatable, read in order; "
     "FILE must exist)",
     true},
    {"verbose", 'v', NULL, "say more (on stderr with --json)", false},
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

/* Whether the command takes the option with this key. */
static bool takes(const struct cmd *c, int key)
{
	for (const struct cli_opt *o = c->opts; o && o->name; o++)
		if (o->key == key)
			return true;
	return false;
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
	printf("\nExit status: 0 success, 1 failure, 2 bad usage%s%s%s.\n",
	       strcmp(c->name, "migrations show") == 0
	           ? ", 3 pending migrations, 4 a migration failed part-way (--exit-code)"
	           : "",
	       takes(c, CLI_KEY_MAX_REPLICA_LAG)
	           ? ", 7 a replica still behind after --replica-wait-timeout (what committed "
	             "stays applied)"
	           : "",
	       c->connects ? ", 130/143 interrupted by SIGINT/SIGTERM (what ran is rolled back)"
	                   : "");
}

/* getopt_long over a command's option table. */
typedef struct cli_parser {
	struct option longopts[32];
	char shortopts[80];
	char prog[64];
	const struct cmd *cmd;
	bool seen[32]; /* per option of the table: given already */
} cli_parser;

enum { CLI_OPT_END = -1, CLI_OPT_HELP = -2, CLI_OPT_BAD = -3 };

static void parser_init(cli_parser *p, const struct cmd *c, char **argv)
{
	size_t n = 0, s = 0;
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

/* The next option's key, CLI_OPT_END, CLI_OPT_HELP (help was printed) or CLI_OPT_BAD (a
 * message was printed). optarg holds the argument. */
static int next_opt(cli_parser *p, int argc, char **argv)
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

int cli_parse(struct cli_ctx *ctx, int argc, char **argv, cli_take_fn take, void *ud)
{
	cli_parser p;
	int key, rc;

	parser_init(&p, ctx->cmd, argv);
	while ((key = next_opt(&p, argc, argv)) != CLI_OPT_END) {
		if (key == CLI_OPT_HELP)
			return EXIT_OK;
		if (key == CLI_OPT_BAD)
			return EXIT_USAGE;
		if ((rc = take(ctx, key, optarg, ud)) != EXIT_OK)
			return rc;
	}
	return -1;
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
	if (cli_config_load_env(cfg, ctx->config_path, ctx->database_url, ctx->env_files,
	                        ctx->nenv_files, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int open_db(struct cli_ctx *ctx, const cli_config *cfg, unsigned flags, strata_db **out)
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

static void close_db(strata_db *db)
{
	cli_signals_unwatch();
	strata_db_close(db);
}

/* The config's "sources": each build (dist with its src) or directory, in order. */
static int add_config_sources(strata_source *s, const cli_config *cfg, strata_error *e)
{
	int error = 0;
	for (size_t i = 0; i < cfg->nsources && error == 0; i++)
		error = cfg->sources[i].src ? strata_source_add_build(s, cfg->sources[i].dist,
		                                                      cfg->sources[i].src, e)
		                            : strata_source_add_dir(s, cfg->sources[i].dist, e);
	return error;
}

static int source(struct cli_ctx *ctx, const cli_config *cfg, const char *const *dirs, size_t ndirs,
                  strata_source **out)
{
	strata_error e = STRATA_ERROR_INIT;
	int error = strata_source_new(out, &e);

	ctx->ndirs = ndirs ? ndirs : cfg->nsources ? cfg->nsources : 1;
	if (error == 0 && ndirs == 0 && cfg->nsources)
		error = add_config_sources(*out, cfg, &e);
	else if (error == 0 && ndirs == 0)
		error = strata_source_add_build(*out, cfg->dist_dir, cfg->src_dir, &e);
	for (size_t i = 0; i < ndirs && error == 0; i++)
		error = strata_source_add_dir(*out, dirs[i], &e);
	if (error < 0) {
		if (error == STRATA_ENOTFOUND && ndirs == 0 && !cfg->nsources &&
		    strcmp(ctx->cmd->name, "seed") == 0)
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

static int config_error(const cli_config *cfg, const char *key, const char *value)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_error_at(&e, cfg->config_path, 0, 0);
	strata_error_hint(&e, "write a duration like \"5s\", \"500ms\" or \"2m\"");
	strata_error_set(&e, STRATA_EINVALID, "bad value '%s' for '%s' in the config", value, key);
	out_error(&e);
	return EXIT_FAIL;
}

void cli_run_args_init(struct cli_run_args *a)
{
	static const strata_run_options defaults = STRATA_RUN_OPTIONS_INIT;
	memset(a, 0, sizeof(*a));
	a->ro = defaults;
}

/* --lock-wait, --lock-timeout, --statement-timeout, --lock-ttl, --max-replica-lag,
 * --replica-wait-timeout: a duration (ttl and replica wait: above 0). */
static int duration_arg(const struct cmd *c, int key, const char *arg, struct cli_run_args *a)
{
	static const struct {
		int key;
		const char *name, *like; /* an example value */
		size_t slot;             /* offset of the field in strata_run_options */
		bool positive;
	} d[] = {
	    {CLI_KEY_LOCK_WAIT, "lock-wait", "30s", offsetof(strata_run_options, lock_wait_ms),
	     false},
	    {CLI_KEY_LOCK_TIMEOUT, "lock-timeout", "5s",
	     offsetof(strata_run_options, lock_timeout_ms), false},
	    {CLI_KEY_STATEMENT_TIMEOUT, "statement-timeout", "5s",
	     offsetof(strata_run_options, statement_timeout_ms), false},
	    {CLI_KEY_LOCK_TTL, "lock-ttl", "30s", offsetof(strata_run_options, lock_ttl_ms), true},
	    {CLI_KEY_MAX_REPLICA_LAG, "max-replica-lag", "10s",
	     offsetof(strata_run_options, max_replica_lag_ms), false},
	    {CLI_KEY_REPLICA_WAIT_TIMEOUT, "replica-wait-timeout", "5m",
	     offsetof(strata_run_options, replica_wait_timeout_ms), true},
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		int *slot = (int *)((char *)&a->ro + d[i].slot);
		if (d[i].key != key)
			continue;
		if (cli_parse_duration(arg, slot) < 0 || (d[i].positive && *slot <= 0))
			return cli_usage_error(
			    c, "--%s needs a duration%s like %s, 500ms or 2m, not '%s'", d[i].name,
			    d[i].positive ? " above 0" : "", d[i].like, arg);
		a->given.lock_timeout |= key == CLI_KEY_LOCK_TIMEOUT;
		a->given.statement_timeout |= key == CLI_KEY_STATEMENT_TIMEOUT;
		a->given.lock_ttl |= key == CLI_KEY_LOCK_TTL;
		a->given.max_replica_lag |= key == CLI_KEY_MAX_REPLICA_LAG;
		a->given.replica_wait_timeout |= key == CLI_KEY_REPLICA_WAIT_TIMEOUT;
		return EXIT_OK;
	}
	return CLI_NOT_SHARED;
}

int cli_run_arg(const struct cmd *c, int key, const char *arg, struct cli_run_args *a)
{
	switch (key) {
	case CLI_KEY_DIR:
		if (a->ndirs == CLI_MAX_DIRS)
			return cli_usage_error(c, "too many --dir (at most %d)", CLI_MAX_DIRS);
		a->dirs[a->ndirs++] = arg;
		return EXIT_OK;
	case CLI_KEY_DRY_RUN:
		a->ro.dry_run = true;
		return EXIT_OK;
	case CLI_KEY_LOCK_STRATEGY:
		if (strcmp(arg, "advisory") != 0 && strcmp(arg, "table") != 0)
			return cli_usage_error(
			    c, "--lock-strategy is 'advisory' or 'table', not '%s'", arg);
		a->ro.lock_strategy =
		    strcmp(arg, "table") == 0 ? STRATA_LOCK_TABLE : STRATA_LOCK_ADVISORY;
		a->given.lock_strategy = true;
		return EXIT_OK;
	case CLI_KEY_LOCK_RETRIES:
		if (!cli_is_uint(arg) || strlen(arg) > 3)
			return cli_usage_error(c, "--lock-retries needs a whole number, not '%s'",
			                       arg);
		a->ro.lock_retries = atoi(arg);
		return EXIT_OK;
	}
	return duration_arg(c, key, arg, a);
}

/* The run settings no option gave, from the config: every field an option set stays, the
 * library's defaults stay for what neither sets. A bad value in the config is an error naming
 * the key. */
static int resolve_run_settings(const cli_config *cfg, strata_run_options *o,
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
	    {"max_replica_lag", cfg->max_replica_lag, &o->max_replica_lag_ms,
	     given->max_replica_lag, false},
	    {"replica_wait_timeout", cfg->replica_wait_timeout, &o->replica_wait_timeout_ms,
	     given->replica_wait_timeout, true},
	};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		int ms;
		if (durations[i].given || !durations[i].value)
			continue; /* the option wins; without either, the library's default */
		if (cli_parse_duration(durations[i].value, &ms) < 0 ||
		    (durations[i].positive && ms <= 0))
			return config_error(cfg, durations[i].key, durations[i].value);
		*durations[i].slot = ms;
	}
	if (!given->lock_strategy && cfg->lock_strategy) {
		if (strcmp(cfg->lock_strategy, "table") == 0)
			o->lock_strategy = STRATA_LOCK_TABLE;
		else if (strcmp(cfg->lock_strategy, "advisory") == 0)
			o->lock_strategy = STRATA_LOCK_ADVISORY;
		else
			return config_error(cfg, "lock_strategy", cfg->lock_strategy);
	}
	return EXIT_OK;
}

int cli_session_open(struct cli_ctx *ctx, struct cli_run_args *a, bool with_source,
                     unsigned db_flags, struct cli_session *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = cli_load(ctx, &s->cfg)) != EXIT_OK)
		return rc;
	s->loaded = true;
	if ((rc = resolve_run_settings(&s->cfg, &a->ro, &a->given)) != EXIT_OK ||
	    (with_source && (rc = source(ctx, &s->cfg, a->dirs, a->ndirs, &s->src)) != EXIT_OK))
		return rc;
	return open_db(ctx, &s->cfg, db_flags, &s->db);
}

void cli_session_close(struct cli_session *s)
{
	close_db(s->db);
	strata_source_free(s->src);
	if (s->loaded)
		cli_config_free(&s->cfg);
	memset(s, 0, sizeof(*s));
}
