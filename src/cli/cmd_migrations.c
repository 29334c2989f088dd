/* strata migrations run | revert | repair: the options, a call to the library, and what it did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_migrations.h"
#include "cli/cmds.h"
#include "cli/out.h"
#include "cli/signals.h"

enum {
	OPT_DIR = 256,
	OPT_TO,
	OPT_DRY_RUN,
	OPT_FAKE,
	OPT_TRANSACTION,
	OPT_STEPS,
	OPT_ALL,
	OPT_JSON,
	OPT_EXIT_CODE,
	OPT_ALLOW_OOO,
	OPT_IGNORE_CHECKSUMS,
	OPT_LOCK_TIMEOUT,
	OPT_STATEMENT_TIMEOUT,
	OPT_LOCK_RETRIES,
	OPT_MARK_APPLIED,
};

/* clang-format off */
#define DIR_OPT {"dir", OPT_DIR, "DIR", "read migrations from DIR (repeatable; default: dist/migrations)", true}

#define TIMEOUT_OPTS \
	{"lock-timeout", OPT_LOCK_TIMEOUT, "DURATION", "PostgreSQL: give up a statement's lock wait after this (default: 5s; 0: never)", false}, \
	{"statement-timeout", OPT_STATEMENT_TIMEOUT, "DURATION", "PostgreSQL: cancel a statement after this (default: 0, never)", false}, \
	{"lock-retries", OPT_LOCK_RETRIES, "N", "retry a migration that hit the lock timeout N times, with backoff (default: 3)", false}
#define TXN_OPT {"transaction", OPT_TRANSACTION, "each|all", "one transaction per migration (default) or one for the whole run", false}

const struct cli_opt cmd_migrations_run_opts[] = {
	DIR_OPT,
	{"to", OPT_TO, "VERSION", "apply pending migrations up to and including VERSION", false},
	{"dry-run", OPT_DRY_RUN, NULL, "print the SQL that would run; change nothing", false},
	{"fake", OPT_FAKE, NULL, "record migrations as applied without running them", false},
	TXN_OPT,
	{"allow-out-of-order", OPT_ALLOW_OOO, NULL, "apply pending migrations older than the newest applied one", false},
	{"ignore-checksums", OPT_IGNORE_CHECKSUMS, NULL, "skip the manifest, build and applied-checksum checks (emergencies)", false},
	TIMEOUT_OPTS,
	CLI_LOCK_OPTS,
	{0},
};

const struct cli_opt cmd_migrations_revert_opts[] = {
	DIR_OPT,
	{"steps", OPT_STEPS, "N", "revert the N newest applied migrations (default: 1)", false},
	{"to", OPT_TO, "VERSION", "revert everything applied after VERSION, keep VERSION", false},
	{"all", OPT_ALL, NULL, "revert every applied migration", false},
	{"dry-run", OPT_DRY_RUN, NULL, "print the SQL that would run; change nothing", false},
	TXN_OPT,
	TIMEOUT_OPTS,
	CLI_LOCK_OPTS,
	{0},
};

const struct cli_opt cmd_migrations_show_opts[] = {
	DIR_OPT,
	{"json", OPT_JSON, NULL, "print JSON (stable field names) instead of a table", false},
	{"exit-code", OPT_EXIT_CODE, NULL, "exit 3 when a migration is pending, 4 when one failed part-way (repair it first)", false},
	{0},
};

const struct cli_opt cmd_migrations_validate_opts[] = {
	DIR_OPT,
	{0},
};

const struct cli_opt cmd_migrations_repair_opts[] = {
	DIR_OPT,
	{"mark-applied", OPT_MARK_APPLIED, NULL, "record the failed migration as applied (after fixing the database by hand)", false},
	TIMEOUT_OPTS,
	CLI_LOCK_OPTS,
	{0},
};
/* clang-format on */

/* Parses the options of any of the migrations commands; returns -1 to go on, else an exit code. */
int cmd_migrations_parse(struct cli_ctx *ctx, int argc, char **argv, struct migrations_opts *o)
{
	static const strata_run_options defaults = STRATA_RUN_OPTIONS_INIT;
	cli_parser p;
	int key;

	memset(o, 0, sizeof(*o));
	o->ro = defaults;
	cli_parser_init(&p, ctx->cmd, argc, argv);
	while ((key = cli_next(&p, argc, argv)) != CLI_OPT_END) {
		switch (key) {
		case CLI_OPT_HELP:
			return EXIT_OK;
		case CLI_OPT_BAD:
			return EXIT_USAGE;
		case OPT_DIR:
			if (o->ndirs == CLI_MAX_DIRS)
				return cli_usage_error(ctx->cmd, "too many --dir (at most %d)",
				                       CLI_MAX_DIRS);
			o->dirs[o->ndirs++] = optarg;
			break;
		case OPT_TO:
			if (!cli_is_version(optarg))
				return cli_usage_error(
				    ctx->cmd, "--to needs a version (digits), not '%s'", optarg);
			o->ro.to = optarg;
			break;
		case OPT_STEPS:
			if (!cli_is_uint(optarg) || atoi(optarg) < 1 || strlen(optarg) > 9)
				return cli_usage_error(ctx->cmd,
				                       "--steps needs a whole number of 1 or more, "
				                       "not '%s'",
				                       optarg);
			o->ro.steps = (unsigned)atoi(optarg);
			break;
		case OPT_ALL:
			o->ro.all = true;
			break;
		case OPT_DRY_RUN:
			o->ro.dry_run = true;
			break;
		case OPT_FAKE:
			o->ro.fake = true;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_EXIT_CODE:
			o->exit_code = 1;
			break;
		case OPT_TRANSACTION:
			if (strcmp(optarg, "all") != 0 && strcmp(optarg, "each") != 0)
				return cli_usage_error(
				    ctx->cmd, "--transaction is 'each' or 'all', not '%s'", optarg);
			o->ro.one_transaction = strcmp(optarg, "all") == 0;
			break;
		case OPT_ALLOW_OOO:
			o->ro.allow_out_of_order = true;
			break;
		case OPT_IGNORE_CHECKSUMS:
			o->ro.ignore_checksums = true;
			break;
		case OPT_MARK_APPLIED:
			o->ro.mark_applied = true;
			break;
		case OPT_LOCK_RETRIES:
			if (!cli_is_uint(optarg) || strlen(optarg) > 3)
				return cli_usage_error(
				    ctx->cmd, "--lock-retries needs a whole number, not '%s'",
				    optarg);
			o->ro.lock_retries = atoi(optarg);
			break;
		case OPT_LOCK_TIMEOUT:
		case OPT_STATEMENT_TIMEOUT:
			if (cli_parse_duration(optarg, key == OPT_LOCK_TIMEOUT
			                                   ? &o->ro.lock_timeout_ms
			                                   : &o->ro.statement_timeout_ms) < 0)
				return cli_usage_error(
				    ctx->cmd,
				    "--%s needs a duration like 5s, 500ms or 2m, "
				    "not '%s'",
				    key == OPT_LOCK_TIMEOUT ? "lock-timeout" : "statement-timeout",
				    optarg);
			if (key == OPT_LOCK_TIMEOUT)
				o->given.lock_timeout = true;
			else
				o->given.statement_timeout = true;
			break;
		case CLI_KEY_LOCK_WAIT:
		case CLI_KEY_LOCK_STRATEGY:
		case CLI_KEY_LOCK_TTL:
			if (cli_lock_opt(ctx->cmd, key, optarg, &o->ro, &o->given) < 0)
				return EXIT_USAGE;
			break;
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if ((o->ro.steps != 0) + (o->ro.to != NULL) + o->ro.all > 1 &&
	    strcmp(ctx->cmd->name, "migrations revert") == 0)
		return cli_usage_error(ctx->cmd, "use one of --steps, --to and --all");
	return -1;
}

int cmd_migrations_open(struct cli_ctx *ctx, struct migrations_opts *o, unsigned db_flags,
                        struct migrations_session *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = cli_load(ctx, &s->cfg)) != EXIT_OK)
		return rc;
	s->loaded = true;
	/* timeouts and the lock: the option, else the config, else the library's defaults */
	if ((rc = cli_resolve_run_settings(&s->cfg, &o->ro, &o->given)) != EXIT_OK ||
	    (rc = cli_source(ctx, &s->cfg, o->dirs, o->ndirs, &s->src)) != EXIT_OK)
		return rc;
	return cli_open_db(ctx, &s->cfg, db_flags, &s->db);
}

void cmd_migrations_close(struct migrations_session *s)
{
	cli_close_db(s->db);
	strata_source_free(s->src);
	if (s->loaded)
		cli_config_free(&s->cfg);
}

/* The line before the first migration runs (the events' first STEP_START). */
static void announce(struct cli_ctx *ctx, const strata_event *ev)
{
	const struct migrations_opts *o = ctx->opts;
	if (ev->statement > 0) /* a repair resumes it */
		out_info(ctx, "resuming %s-%s from statement %d\n", ev->version, ev->name,
		         ev->statement + 1);
	else if (o->ro.fake)
		out_info(ctx,
		         "recording %zu migration%s as applied in %s, running none of their SQL "
		         "(--fake)\n",
		         ev->total, ev->total == 1 ? "" : "s", ctx->display);
	else
		out_info(ctx, "%s %zu migration%s %s %s%s\n",
		         ev->direction == STRATA_UP ? "applying" : "reverting", ev->total,
		         ev->total == 1 ? "" : "s", ev->direction == STRATA_UP ? "to" : "on",
		         ctx->display, o->ro.one_transaction ? " in one transaction" : "");
}

static void print_dry_run(const strata_run_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const strata_step_report *st = &r->steps[i];
		printf("-- %s %s-%s (%s)%s\n", st->direction == STRATA_UP ? "apply" : "revert",
		       st->version, st->name, st->file,
		       st->no_transaction ? " [transaction:false]" : "");
		if (st->is_function) {
			printf("-- (a function written in C)\n");
			continue;
		}
		fwrite(st->sql, 1, st->sql_len, stdout);
		if (st->sql_len && st->sql[st->sql_len - 1] != '\n')
			putchar('\n');
	}
}

/* What was rolled back and what stays, after a failed run. */
static void report_failure(const struct migrations_opts *o, const strata_run_report *r,
                           const strata_error *e, strata_direction dir)
{
	const strata_step_report *st =
	    r->failed >= 0 && (size_t)r->failed < r->n ? &r->steps[r->failed] : NULL;
	const char *noun = dir == STRATA_UP ? "apply" : "revert";
	const char *past = dir == STRATA_UP ? "applied" : "reverted";

	fflush(stdout);
	if (!st && e->code == STRATA_EINTERRUPTED)
		return; /* stopped before the run began (waiting for the lock): the interrupt says
		           it */
	if (!st || (r->not_started && e->code != STRATA_EINTERRUPTED)) {
		fprintf(stderr, "strata: nothing was %s%s\n", past,
		        st ? ": the run stopped before it began" : "");
		return;
	}
	if (o->ro.one_transaction)
		fprintf(stderr,
		        "strata: %s %s-%s failed; the whole run was rolled back, nothing changed\n",
		        noun, st->version, st->name);
	else if (r->failed_statement >= 0 && dir == STRATA_UP && e->code == STRATA_ECONNECT)
		fprintf(stderr,
		        "strata: %s-%s is transaction:false: the connection was lost at "
		        "statement %d of %d; the history records it as running from there, and "
		        "'strata migrations run' will say how to finish it\n",
		        st->version, st->name, r->failed_statement + 1, r->statements);
	else if (r->failed_statement >= 0 && dir == STRATA_UP && e->code == STRATA_ELOCKTIMEOUT)
		fprintf(stderr,
		        "strata: %s-%s is transaction:false: statement %d of %d timed out "
		        "waiting for a lock, the %d before it stay done, and it is recorded "
		        "as failed\n"
		        "hint: the file is fine: once the session holding the lock is gone "
		        "(see the detail), 'strata migrations repair' resumes from statement "
		        "%d; or wait longer for it with --lock-timeout\n",
		        st->version, st->name, r->failed_statement + 1, r->statements,
		        r->failed_statement, r->failed_statement + 1);
	else if (r->failed_statement >= 0 && dir == STRATA_UP)
		fprintf(stderr,
		        "strata: %s-%s is transaction:false: statement %d of %d failed, the %d "
		        "before it stay done, and it is recorded as failed\n"
		        "hint: fix the file and run 'strata migrations repair' to resume from "
		        "statement %d, or fix the database by hand and run 'strata migrations "
		        "repair --mark-applied'\n",
		        st->version, st->name, r->failed_statement + 1, r->statements,
		        r->failed_statement, r->failed_statement + 1);
	else if (r->failed_statement >= 0)
		fprintf(stderr,
		        "strata: %s-%s is transaction:false: statement %d of %d of its down "
		        "section failed and the %d before it stay done; it stays recorded as "
		        "applied\n",
		        st->version, st->name, r->failed_statement + 1, r->statements,
		        r->failed_statement);
	else if (r->not_started)
		fprintf(stderr, "strata: %s-%s did not start\n", st->version, st->name);
	else
		fprintf(stderr, "strata: %s-%s was rolled back\n", st->version, st->name);
	if (!o->ro.one_transaction && r->done)
		fprintf(stderr, "strata: the %zu migration%s %s before it stay%s %s\n", r->done,
		        r->done == 1 ? "" : "s", past, r->done == 1 ? "s" : "", past);
}

/* What a successful run did. */
static void report_success(struct cli_ctx *ctx, const struct migrations_opts *o,
                           const strata_run_report *r, strata_direction dir)
{
	const char *past = dir == STRATA_UP ? "applied" : "reverted";
	char dur[32];

	if (r->n == 0 && dir == STRATA_UP)
		out_info(ctx, "nothing to run: %zu migration%s, all applied (%s)\n", r->migrations,
		         r->migrations == 1 ? "" : "s", ctx->display);
	else if (r->n == 0)
		out_info(ctx, "nothing to revert (%s)\n", ctx->display);
	else if (o->ro.dry_run) {
		print_dry_run(r);
		out_note(ctx, "dry run: %zu migration%s would be %s %s %s; nothing was changed",
		         r->n, r->n == 1 ? "" : "s", past, dir == STRATA_UP ? "to" : "on",
		         ctx->display);
	} else {
		out_info(ctx, "%s %zu migration%s in %s", ctx->verb, r->done,
		         r->done == 1 ? "" : "s", out_duration(dur, r->ms));
		if (r->skipped)
			out_info(ctx, " (%zu already done by another runner)", r->skipped);
		out_info(ctx, "\n");
	}
}

/* migrations run and migrations revert: the same steps, in opposite directions. */
static int run_or_revert(struct cli_ctx *ctx, int argc, char **argv, strata_direction dir)
{
	struct migrations_opts o;
	struct migrations_session s;
	strata_run_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc = cmd_migrations_parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	/* a dry run reads only: it creates no SQLite file */
	if ((rc = cmd_migrations_open(ctx, &o, o.ro.dry_run ? STRATA_DB_NO_CREATE : 0, &s)) !=
	    EXIT_OK)
		goto done;
	ctx->verb = dir == STRATA_UP ? (o.ro.fake ? "recorded" : "applied") : "reverted";
	ctx->display = strata_db_display(s.db);
	ctx->opts = &o;
	ctx->announce = announce;
	if ((dir == STRATA_UP ? strata_run(s.db, s.src, &o.ro, &r, &e)
	                      : strata_revert(s.db, s.src, &o.ro, &r, &e)) < 0) {
		out_error(&e);
		if (r)
			report_failure(&o, r, &e, dir);
		rc = EXIT_FAIL;
		goto done;
	}
	report_success(ctx, &o, r, dir);
done:
	strata_run_report_free(r);
	cmd_migrations_close(&s);
	return rc;
}

int cmd_migrations_run(struct cli_ctx *ctx, int argc, char **argv)
{
	return run_or_revert(ctx, argc, argv, STRATA_UP);
}

int cmd_migrations_revert(struct cli_ctx *ctx, int argc, char **argv)
{
	return run_or_revert(ctx, argc, argv, STRATA_DOWN);
}

int cmd_migrations_repair(struct cli_ctx *ctx, int argc, char **argv)
{
	struct migrations_opts o;
	struct migrations_session s;
	strata_run_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	char dur[32];
	int rc = cmd_migrations_parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if ((rc = cmd_migrations_open(ctx, &o, 0, &s)) != EXIT_OK)
		goto done;
	ctx->verb = "applied";
	ctx->display = strata_db_display(s.db);
	ctx->opts = &o;
	ctx->announce = announce;
	if (strata_repair(s.db, s.src, &o.ro, &r, &e) < 0) {
		out_error(&e);
		if (r && r->failed >= 0) /* it failed running, not before */
			report_failure(&o, r, &e, STRATA_UP);
		rc = EXIT_FAIL;
		goto done;
	}
	if (!r->repaired)
		out_info(ctx, "nothing to repair: no migration is failed or unfinished (%s)\n",
		         ctx->display);
	else if (r->marked_applied)
		out_info(ctx, "marked %s-%s as applied (it had stopped before statement %d)\n",
		         r->steps[0].version, r->steps[0].name, r->resumed_from + 1);
	else
		out_info(ctx, "applied %zu migration in %s\n", r->done, out_duration(dur, r->ms));
done:
	strata_run_report_free(r);
	cmd_migrations_close(&s);
	return rc;
}
