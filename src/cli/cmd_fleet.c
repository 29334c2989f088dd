/* strata fleet run | show | revert: the project's migrations on many databases or tenant schemas,
 * in parallel, with a live progress line on a terminal, a line (or a JSON object) per target
 * otherwise, and a summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/json.h"
#include "cli/out.h"
#include "cli/signals.h"

enum {
	OPT_TARGETS = 256,
	OPT_TARGETS_QUERY,
	OPT_SCHEMAS,
	OPT_SCHEMAS_QUERY,
	OPT_PARALLEL,
	OPT_CANARY,
	OPT_CONTINUE,
	OPT_WAIT_BUSY,
	OPT_SHARD,
	OPT_JSON,
	OPT_TO,
	OPT_STEPS,
};

#define MAX_LISTED 50 /* failed and busy targets named in the summary; the rest counted */

/* clang-format off */
#define FLEET_OPTS \
	{"targets", OPT_TARGETS, "FILE", "the targets: one database URL a line (or NAME URL); # comments", false}, \
	{"targets-query", OPT_TARGETS_QUERY, "SQL", "the targets: the rows of SQL on the database (URL, or name and URL)", false}, \
	{"schemas", OPT_SCHEMAS, "A,B,...", "the targets: these tenant schemas of the database (PostgreSQL)", false}, \
	{"schemas-query", OPT_SCHEMAS_QUERY, "SQL", "the targets: the tenant schemas SQL lists, in the database", false}, \
	{"parallel", OPT_PARALLEL, "K", "K targets at a time, K connections (default: the number of CPUs)", false}, \
	{"shard", OPT_SHARD, "I/N", "only the I-th of N stable shares of the targets (I from 0)", false}, \
	{"json", OPT_JSON, NULL, "a JSON object per target, one a line, then a summary object", false}, \
	CLI_DIR_OPT

const struct cli_opt cmd_fleet_run_opts[] = {
	FLEET_OPTS,
	{"canary", OPT_CANARY, "N", "migrate N targets first; if one fails, start no other", false},
	{"continue", OPT_CONTINUE, NULL, "after a failure, start the other targets anyway (default: start no more, finish those running)", false},
	{"wait-busy", OPT_WAIT_BUSY, NULL, "wait for a target another runner holds (default: skip it, and say so)", false},
	{"to", OPT_TO, "VERSION", "apply pending migrations up to and including VERSION", false},
	CLI_TIMEOUT_OPTS,
	CLI_LOCK_OPTS,
	CLI_REPLICA_OPTS,
	{0},
};

const struct cli_opt cmd_fleet_revert_opts[] = {
	FLEET_OPTS,
	{"continue", OPT_CONTINUE, NULL, "after a failure, start the other targets anyway", false},
	{"wait-busy", OPT_WAIT_BUSY, NULL, "wait for a target another runner holds", false},
	{"steps", OPT_STEPS, "N", "revert the N most recently applied migrations of each target", false},
	{"to", OPT_TO, "VERSION", "revert everything applied after VERSION, keep VERSION", false},
	CLI_TIMEOUT_OPTS,
	CLI_LOCK_OPTS,
	{0},
};

const struct cli_opt cmd_fleet_show_opts[] = {
	FLEET_OPTS,
	{0},
};
/* clang-format on */

struct fleet_cli {
	struct cli_run_args run;
	strata_fleet_options fo;
	const char *targets, *targets_query, *schemas, *schemas_query;
	bool json, tty;
	long total;
	const char *verb;
	/* the summary's lists */
	char *listed[MAX_LISTED];
	size_t nlisted;
	double t0;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	struct fleet_cli *o = ud;
	const struct cmd *c = ctx->cmd;
	unsigned a, b;
	char end;
	int rc = cli_run_arg(c, key, arg, &o->run);

	if (rc != CLI_NOT_SHARED)
		return rc;
	switch (key) {
	case OPT_TARGETS:
		o->targets = arg;
		break;
	case OPT_TARGETS_QUERY:
		o->targets_query = arg;
		break;
	case OPT_SCHEMAS:
		o->schemas = arg;
		break;
	case OPT_SCHEMAS_QUERY:
		o->schemas_query = arg;
		break;
	case OPT_PARALLEL:
		if (!cli_is_uint(arg) || atoi(arg) < 1 || atoi(arg) > 256 || strlen(arg) > 3)
			return cli_usage_error(c, "--parallel is 1 to 256, not '%s'", arg);
		o->fo.parallel = (unsigned)atoi(arg);
		break;
	case OPT_CANARY:
		if (!cli_is_uint(arg) || strlen(arg) > 9)
			return cli_usage_error(c, "--canary needs a number, not '%s'", arg);
		o->fo.canary = (size_t)atol(arg);
		break;
	case OPT_SHARD:
		if (sscanf(arg, "%u/%u%c", &a, &b, &end) != 2 || b == 0 || a >= b)
			return cli_usage_error(
			    c, "--shard is I/N with 0 <= I < N (0/3, 1/3, 2/3), not '%s'", arg);
		o->fo.shard = a;
		o->fo.shards = b;
		break;
	case OPT_CONTINUE:
		o->fo.keep_going = true;
		break;
	case OPT_WAIT_BUSY:
		o->fo.wait_busy = true;
		break;
	case OPT_JSON:
		o->json = ctx->json_stdout = true;
		break;
	case OPT_TO:
		if (!cli_is_version(arg))
			return cli_usage_error(c, "--to needs a version (digits), not '%s'", arg);
		o->run.ro.to = arg;
		break;
	case OPT_STEPS:
		if (!cli_is_uint(arg) || atoi(arg) < 1 || strlen(arg) > 9)
			return cli_usage_error(
			    c, "--steps needs a whole number of 1 or more, not '%s'", arg);
		o->run.ro.steps = (unsigned)atoi(arg);
		break;
	}
	return EXIT_OK;
}

static const char *state_word(strata_target_state s)
{
	return s == STRATA_TARGET_DONE     ? "ok"
	       : s == STRATA_TARGET_FAILED ? "failed"
	       : s == STRATA_TARGET_BUSY   ? "busy"
	                                   : "not_started";
}

static void json_target(const strata_target_result *r, strata_fleet_op op)
{
	yajl_gen g = cli_json_open();
	if (!g)
		return;
	yajl_gen_config(g, yajl_gen_beautify, 0);
	yajl_gen_map_open(g);
	cli_json_kv(g, "target", r->name);
	cli_json_kv(g, "database", r->display);
	cli_json_kv(g, "status", state_word(r->state));
	if (op == STRATA_FLEET_STATUS) {
		cli_json_int(g, "pending", (long long)r->pending);
		cli_json_int(g, "failed_migrations", (long long)r->failing);
	} else {
		cli_json_int(g, op == STRATA_FLEET_RUN ? "applied" : "reverted",
		             (long long)r->applied);
	}
	cli_json_int(g, "ms", (long long)(r->ms + 0.5));
	if (r->error && r->state != STRATA_TARGET_DONE) {
		cli_json_kv(g, "error", r->error->msg);
		cli_json_kv(g, "error_file", r->error->file[0] ? r->error->file : NULL);
		cli_json_int(g, "error_line", (long long)r->error->line);
		cli_json_int(g, "error_column", (long long)r->error->column);
		cli_json_kv(g, "sqlstate", r->error->sqlstate[0] ? r->error->sqlstate : NULL);
	}
	yajl_gen_map_close(g);
	cli_json_close(g);
}

/* The live line on a terminal: what ended, what runs, what is left, the rate and the ETA. */
static void progress(struct fleet_cli *o, const strata_fleet_report *so_far)
{
	size_t ended = so_far->done + so_far->failed + so_far->busy + so_far->not_started;
	double s = (now_ms() - o->t0) / 1000.0, rate = s > 0 ? (double)ended / s : 0;
	char left[32] = "?", eta[32] = "";

	if (o->total >= 0) {
		long l = o->total - (long)ended - (long)so_far->running - (long)so_far->other_shard;
		snprintf(left, sizeof(left), "%ld", l < 0 ? 0 : l);
		if (rate > 0 && l > 0)
			snprintf(eta, sizeof(eta), " · ETA %.0fs",
			         ((double)l + so_far->running) / rate);
	}
	fprintf(stderr,
	        "\r\033[K%s: %zu done · %zu failed · %zu busy · %zu running · %s left · %.1f/s%s",
	        o->verb, so_far->done, so_far->failed, so_far->busy, so_far->running, left, rate,
	        eta);
	fflush(stderr);
}

/* An error on one line: where (file:line:col) and what. */
static const char *one_line(char *buf, size_t n, const strata_error *e)
{
	if (!e)
		snprintf(buf, n, "the fleet stopped before it");
	else if (e->file[0] && e->line)
		snprintf(buf, n, "%s:%u:%u: %s", e->file, e->line, e->column, e->msg);
	else if (e->file[0])
		snprintf(buf, n, "%s: %s", e->file, e->msg);
	else
		snprintf(buf, n, "%s", e->msg);
	return buf;
}

static void on_target(const strata_target_result *r, const strata_fleet_report *so_far, void *ud)
{
	struct cli_ctx *ctx = ud;
	struct fleet_cli *o = (struct fleet_cli *)ctx->opts;
	char dur[32], line[1800], what[1200];
	bool quiet_ok = o->tty && !ctx->verbose;

	if (r->state != STRATA_TARGET_DONE && o->nlisted < MAX_LISTED) {
		snprintf(line, sizeof(line), "%-11s %s: %s", state_word(r->state), r->name,
		         one_line(what, sizeof(what), r->error));
		o->listed[o->nlisted++] = strdup(line);
	}
	if (o->json) {
		json_target(r, o->fo.op);
	} else if (r->state == STRATA_TARGET_DONE && !quiet_ok) {
		if (o->fo.op == STRATA_FLEET_STATUS)
			out_info(ctx, "ok          %s  %zu pending%s\n", r->name, r->pending,
			         r->failing ? ", a migration failed part-way" : "");
		else if (r->applied)
			out_info(ctx, "ok          %s  %s %zu  (%s)\n", r->name,
			         o->fo.op == STRATA_FLEET_RUN ? "applied" : "reverted", r->applied,
			         out_duration(dur, r->ms));
		else
			out_info(ctx, "ok          %s  up to date  (%s)\n", r->name,
			         out_duration(dur, r->ms));
	} else if (r->state != STRATA_TARGET_DONE) {
		if (o->tty)
			fputs("\r\033[K", stderr);
		fflush(stdout);
		fprintf(stderr, "%-11s %s (%s)%s%s\n", state_word(r->state), r->name, r->display,
		        r->error ? ": " : "",
		        r->error ? one_line(what, sizeof(what), r->error) : "");
	}
	if (o->tty && !o->json)
		progress(o, so_far);
}

/* The list of targets the options name. */
static int open_targets(struct cli_ctx *ctx, struct fleet_cli *o, struct cli_session *s,
                        strata_targets **t)
{
	strata_error e = STRATA_ERROR_INIT;
	int error;

	if (o->targets)
		error = strata_targets_file(t, o->targets, &e);
	else if (o->targets_query)
		error = strata_targets_query(t, s->db, o->targets_query, &e);
	else if (o->schemas_query)
		error = strata_targets_schemas(t, s->cfg.database_url, NULL, 0, s->db,
		                               o->schemas_query, &e);
	else {
		char *copy = strdup(o->schemas);
		size_t n = 0, max = 1;
		const char **names = NULL;
		for (const char *p = o->schemas; *p; p++)
			max += *p == ',';
		if (!copy || !(names = calloc(max, sizeof(*names)))) {
			free(copy);
			fprintf(stderr, "strata: error: out of memory\n");
			return EXIT_FAIL;
		}
		for (char *p = strtok(copy, ","); p && n < max; p = strtok(NULL, ","))
			names[n++] = p;
		error = strata_targets_schemas(t, s->cfg.database_url, names, n, NULL, NULL, &e);
		free(names);
		free(copy);
	}
	if (error < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	o->total = strata_targets_count(*t, &e);
	(void)ctx;
	return EXIT_OK;
}

static void summary(struct cli_ctx *ctx, struct fleet_cli *o, const strata_fleet_report *r)
{
	char dur[32];
	size_t ended = r->done + r->failed + r->busy + r->not_started;

	if (o->tty && !o->json)
		fputs("\r\033[K", stderr);
	if (o->json) {
		yajl_gen g = cli_json_open();
		if (!g)
			return;
		yajl_gen_config(g, yajl_gen_beautify, 0);
		yajl_gen_map_open(g);
		cli_json_str(g, "summary");
		yajl_gen_map_open(g);
		cli_json_int(g, "targets", (long long)r->targets);
		cli_json_int(g, "done", (long long)r->done);
		cli_json_int(g, "failed", (long long)r->failed);
		cli_json_int(g, "busy", (long long)r->busy);
		cli_json_int(g, "not_started", (long long)r->not_started);
		cli_json_int(g, "other_shard", (long long)r->other_shard);
		cli_json_int(g, "migrations", (long long)r->applied);
		cli_json_int(g, "up_to_date", (long long)r->up_to_date);
		cli_json_int(g, "ms", (long long)(r->ms + 0.5));
		cli_json_str(g, "canary_failed");
		yajl_gen_bool(g, r->canary_failed);
		yajl_gen_map_close(g);
		yajl_gen_map_close(g);
		cli_json_close(g);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s: %zu target%s in %s (%.1f/s): %zu done", o->verb, ended,
	        ended == 1 ? "" : "s", out_duration(dur, r->ms),
	        r->ms > 0 ? (double)ended * 1000.0 / r->ms : 0.0, r->done);
	if (o->fo.op != STRATA_FLEET_STATUS)
		fprintf(stderr, " (%zu migration%s %s, %zu up to date)", r->applied,
		        r->applied == 1 ? "" : "s",
		        o->fo.op == STRATA_FLEET_RUN ? "applied" : "reverted", r->up_to_date);
	fprintf(stderr, ", %zu failed, %zu busy, %zu not started", r->failed, r->busy,
	        r->not_started);
	if (r->other_shard)
		fprintf(stderr, ", %zu left to other shards", r->other_shard);
	fputc('\n', stderr);
	if (r->canary_failed)
		fprintf(stderr, "strata: a canary target failed: no other target was started\n");
	for (size_t i = 0; i < o->nlisted; i++)
		fprintf(stderr, "  %s\n", o->listed[i]);
	if (r->failed + r->busy + r->not_started > o->nlisted)
		fprintf(stderr, "  ... and %zu more\n",
		        r->failed + r->busy + r->not_started - o->nlisted);
	if (r->busy + r->not_started)
		fprintf(stderr, "hint: run the same command again to finish what is left\n");
	(void)ctx;
}

static int fleet(struct cli_ctx *ctx, int argc, char **argv, strata_fleet_op op, const char *verb)
{
	struct fleet_cli o = {0};
	struct cli_session s = {0};
	strata_targets *targets = NULL;
	strata_fleet *f = NULL;
	strata_fleet_report rep;
	strata_error e = STRATA_ERROR_INIT;
	int rc, given;

	o.fo = (strata_fleet_options)STRATA_FLEET_OPTIONS_INIT;
	o.fo.op = op;
	o.verb = verb;
	cli_run_args_init(&o.run);
	if ((rc = cli_parse(ctx, argc, argv, take, &o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	given = !!o.targets + !!o.targets_query + !!o.schemas + !!o.schemas_query;
	if (given != 1)
		return cli_usage_error(ctx->cmd, "give the targets with one of --targets, "
		                                 "--targets-query, --schemas and --schemas-query");
	if ((o.run.ro.steps != 0) + (o.run.ro.to != NULL) > 1)
		return cli_usage_error(ctx->cmd, "use one of --steps and --to");
	rc = cli_session_open(ctx, &o.run, true, STRATA_DB_NO_CREATE, &s);
	if (rc != EXIT_OK || (rc = open_targets(ctx, &o, &s, &targets)) != EXIT_OK)
		goto done;
	o.tty = isatty(STDERR_FILENO) && !ctx->quiet;
	setvbuf(stdout, NULL, _IOLBF,
	        0); /* a line per target as it ends, also into a file or pipe */
	o.t0 = now_ms();
	o.fo.run = &o.run.ro;
	o.fo.connect_wait_ms = ctx->wait_ms;
	o.fo.on_target = on_target;
	o.fo.userdata = ctx;
	ctx->opts = &o;
	if (strata_fleet_new(&f, s.src, strata_targets_next, targets, &o.fo, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	cli_signals_watch_fleet(f);
	if (strata_fleet_run(f, &rep, &e) < 0) {
		summary(ctx, &o, &rep);
		out_error(&e);
		rc = EXIT_FAIL;
	} else {
		summary(ctx, &o, &rep);
		rc = rep.failed ? EXIT_FAIL : rep.busy + rep.not_started ? EXIT_PENDING : EXIT_OK;
	}
	cli_signals_watch_fleet(NULL);
	if (cli_signal_caught())
		rc = 128 + cli_signal_caught();
done:
	for (size_t i = 0; i < o.nlisted; i++)
		free(o.listed[i]);
	strata_fleet_free(f);
	strata_targets_free(targets);
	cli_session_close(&s);
	return rc;
}

int cmd_fleet_run(struct cli_ctx *ctx, int argc, char **argv)
{
	return fleet(ctx, argc, argv, STRATA_FLEET_RUN, "fleet run");
}

int cmd_fleet_revert(struct cli_ctx *ctx, int argc, char **argv)
{
	return fleet(ctx, argc, argv, STRATA_FLEET_REVERT, "fleet revert");
}

int cmd_fleet_show(struct cli_ctx *ctx, int argc, char **argv)
{
	return fleet(ctx, argc, argv, STRATA_FLEET_STATUS, "fleet show");
}
