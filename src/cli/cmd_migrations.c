/* strata migrations run | revert | repair: the options, a call to the library, and what it did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_migrations.h"
#include "cli/cmds.h"
#include "cli/out.h"

enum {
	OPT_TO = 256,
	OPT_FAKE,
	OPT_TRANSACTION,
	OPT_STEPS,
	OPT_ALL,
	OPT_JSON,
	OPT_EXIT_CODE,
	OPT_ALLOW_OOO,
	OPT_IGNORE_CHECKSUMS,
	OPT_MARK_APPLIED,
	OPT_DUMP_SCHEMA,
	OPT_CHECK_DRIFT,
};

/* clang-format off */
#define DRY_RUN_OPT {"dry-run", CLI_KEY_DRY_RUN, NULL, "print the SQL that would run; change nothing", false}
#define TXN_OPT {"transaction", OPT_TRANSACTION, "each|all", "one transaction per migration (default) or one for the whole run", false}

const struct cli_opt cmd_migrations_run_opts[] = {
	CLI_DIR_OPT,
	{"to", OPT_TO, "VERSION", "apply pending migrations up to and including VERSION", false},
	DRY_RUN_OPT,
	{"fake", OPT_FAKE, NULL, "record migrations as applied without running them", false},
	TXN_OPT,
	{"allow-out-of-order", OPT_ALLOW_OOO, NULL, "apply pending migrations older than the newest applied one of their directory", false},
	{"ignore-checksums", OPT_IGNORE_CHECKSUMS, NULL, "skip the manifest, build and applied-checksum checks (emergencies)", false},
	{"dump-schema", OPT_DUMP_SCHEMA, "FILE", "after a run that applied something, write the schema to FILE (also \"dump_schema\" in strata.json)", false},
	{"check-drift", OPT_CHECK_DRIFT, NULL, "first check that the database has the schema its applied migrations make (exit 5 if not)", false},
	CLI_TIMEOUT_OPTS,
	CLI_REPLICA_OPTS,
	CLI_LOCK_OPTS,
	{0},
};

const struct cli_opt cmd_migrations_revert_opts[] = {
	CLI_DIR_OPT,
	{"steps", OPT_STEPS, "N", "revert the N most recently applied migrations (default: 1)", false},
	{"to", OPT_TO, "VERSION", "revert every applied migration of a higher version than VERSION, keep VERSION", false},
	{"all", OPT_ALL, NULL, "revert every applied migration", false},
	{"fake", OPT_FAKE, NULL, "only remove them from the history (undo a wrong --fake): run no down SQL, need no file", false},
	DRY_RUN_OPT,
	TXN_OPT,
	CLI_TIMEOUT_OPTS,
	CLI_REPLICA_OPTS,
	CLI_LOCK_OPTS,
	{0},
};

const struct cli_opt cmd_migrations_show_opts[] = {
	CLI_DIR_OPT,
	{"json", OPT_JSON, NULL, "print JSON (stable field names) instead of a table", false},
	{"exit-code", OPT_EXIT_CODE, NULL, "exit 3 when a migration is pending, 4 when one failed part-way (repair it first)", false},
	{0},
};

const struct cli_opt cmd_migrations_validate_opts[] = {
	CLI_DIR_OPT,
	{0},
};

const struct cli_opt cmd_migrations_repair_opts[] = {
	CLI_DIR_OPT,
	{"mark-applied", OPT_MARK_APPLIED, NULL, "record the failed migration as applied (after fixing the database by hand)", false},
	CLI_TIMEOUT_OPTS,
	CLI_REPLICA_OPTS,
	CLI_LOCK_OPTS,
	{0},
};
/* clang-format on */

/* One option of a migrations command. */
static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	struct migrations_opts *o = ud;
	strata_run_options *ro = &o->run.ro;
	bool *flag = key == OPT_ALL                ? &ro->all
	             : key == OPT_FAKE             ? &ro->fake
	             : key == OPT_ALLOW_OOO        ? &ro->allow_out_of_order
	             : key == OPT_IGNORE_CHECKSUMS ? &ro->ignore_checksums
	             : key == OPT_MARK_APPLIED     ? &ro->mark_applied
	             : key == OPT_JSON             ? &o->json
	             : key == OPT_EXIT_CODE        ? &o->exit_code
	             : key == OPT_CHECK_DRIFT      ? &o->check_drift
	                                           : NULL;
	int rc = cli_run_arg(ctx->cmd, key, arg, &o->run);

	if (rc != CLI_NOT_SHARED)
		return rc;
	if (flag) {
		*flag = true;
		ctx->json_stdout = ctx->json_stdout || key == OPT_JSON;
		return EXIT_OK;
	}
	if (key == OPT_TO && !cli_is_version(arg))
		return cli_usage_error(ctx->cmd, "--to needs a version (digits), not '%s'", arg);
	if (key == OPT_TO)
		ro->to = arg;
	if (key == OPT_DUMP_SCHEMA)
		o->dump_schema = arg;
	if (key == OPT_STEPS && (!cli_is_uint(arg) || atoi(arg) < 1 || strlen(arg) > 9))
		return cli_usage_error(ctx->cmd,
		                       "--steps needs a whole number of 1 or more, not '%s'", arg);
	if (key == OPT_STEPS)
		ro->steps = (unsigned)atoi(arg);
	if (key == OPT_TRANSACTION && strcmp(arg, "all") != 0 && strcmp(arg, "each") != 0)
		return cli_usage_error(ctx->cmd, "--transaction is 'each' or 'all', not '%s'", arg);
	if (key == OPT_TRANSACTION)
		ro->one_transaction = strcmp(arg, "all") == 0;
	return EXIT_OK;
}

int cmd_migrations_start(struct cli_ctx *ctx, int argc, char **argv, bool reads_only,
                         struct migrations_opts *o, struct cli_session *s)
{
	const strata_run_options *ro = &o->run.ro;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(o, 0, sizeof(*o));
	cli_run_args_init(&o->run);
	if ((rc = cli_parse(ctx, argc, argv, take, o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if ((ro->steps != 0) + (ro->to != NULL) + ro->all > 1)
		return cli_usage_error(ctx->cmd, "use one of --steps, --to and --all");
	/* what only reads creates no SQLite file */
	rc = cli_session_open(ctx, &o->run, true,
	                      reads_only || ro->dry_run ? STRATA_DB_NO_CREATE : 0, s);
	if (rc == EXIT_OK && s->db)
		ctx->display = strata_db_display(s->db);
	return rc == EXIT_OK ? -1 : rc;
}

/* The line before the first migration runs (the events' first STEP_START). */
static void announce(struct cli_ctx *ctx, const strata_event *ev)
{
	const struct migrations_opts *o = ctx->opts;
	if (ev->statement > 0) /* a repair resumes it */
		out_info(ctx, "resuming %s-%s from statement %d\n", ev->version, ev->name,
		         ev->statement + 1);
	else if (o->run.ro.fake)
		out_info(ctx,
		         "recording %zu migration%s as applied in %s, running none of their SQL "
		         "(--fake)\n",
		         ev->total, ev->total == 1 ? "" : "s", ctx->display);
	else
		out_info(ctx, "%s %zu migration%s %s %s%s\n",
		         ev->direction == STRATA_UP ? "applying" : "reverting", ev->total,
		         ev->total == 1 ? "" : "s", ev->direction == STRATA_UP ? "to" : "on",
		         ctx->display, o->run.ro.one_transaction ? " in one transaction" : "");
}

/* What was rolled back and what stays, after a failed run. */
static void report_failure(const struct migrations_opts *o, const strata_run_report *r,
                           const strata_error *e, strata_direction dir)
{
	const strata_step_report *st = r->failed_step;
	const char *noun = dir == STRATA_UP ? "apply" : "revert";
	const char *past = dir == STRATA_UP ? "applied" : "reverted";

	fflush(stdout);
	if (r->not_started && r->done && (size_t)r->failed >= r->done) {
		/* stopped after a commit: waiting for the replicas, interrupted, or (a run in
		 * batches) the next batch's files are not what the checks read */
		fprintf(stderr, "strata: the %zu migration%s %s stay%s %s; %s\n", r->done,
		        r->done == 1 ? "" : "s", past, r->done == 1 ? "s" : "", past,
		        (size_t)r->failed < r->n ? "the rest did not start"
		                                 : "nothing else was left to run");
		return;
	}
	if (!st && e->code == STRATA_EINTERRUPTED)
		return; /* stopped before the run began (waiting for the lock): the interrupt says
		           it */
	if (!st || (r->not_started && e->code != STRATA_EINTERRUPTED)) {
		fprintf(stderr, "strata: nothing was %s%s\n", past,
		        st ? ": the run stopped before it began" : "");
		return;
	}
	if (o->run.ro.one_transaction)
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
	if (!o->run.ro.one_transaction && r->done)
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
	else if (o->run.ro.dry_run) {
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

/* revert --fake: what was (or would be) removed from the history. */
static void report_unrecorded(struct cli_ctx *ctx, const struct migrations_opts *o,
                              const strata_run_report *r)
{
	char dur[32];

	if (r->n == 0) {
		out_info(ctx, "nothing to unrecord (%s)\n", ctx->display);
		return;
	}
	if (o->run.ro.dry_run) {
		for (size_t i = 0; i < r->n; i++)
			printf("-- unrecord %s-%s (%s)\n", r->steps[i].version, r->steps[i].name,
			       r->steps[i].file ? r->steps[i].file : "no file");
		out_note(ctx,
		         "dry run: %zu migration%s would be removed from the history of %s, "
		         "running none of their SQL; nothing was changed",
		         r->n, r->n == 1 ? "" : "s", ctx->display);
		return;
	}
	out_info(ctx,
	         "unrecording %zu migration%s from the history of %s, running none of their SQL "
	         "(--fake)\n",
	         r->done, r->done == 1 ? "" : "s", ctx->display);
	for (size_t i = 0; i < r->n; i++)
		out_info(ctx, "  unrecorded %s-%s%s\n", r->steps[i].version, r->steps[i].name,
		         r->steps[i].file ? "" : "  (no file)");
	out_info(ctx, "unrecorded %zu migration%s in %s\n", r->done, r->done == 1 ? "" : "s",
	         out_duration(dur, r->ms));
}

/* --check-drift: the drift check before the run. */
static int drift_first(struct cli_ctx *ctx, const struct migrations_opts *o, struct cli_session *s)
{
	strata_schema_options so = STRATA_SCHEMA_OPTIONS_INIT;
	int rc;
	so.run = &o->run.ro;
	if ((rc = cli_schema_check(ctx, s->db, s->src, &so, false)) == EXIT_DRIFT)
		fprintf(stderr,
		        "strata: nothing was applied: the database drifted (--check-drift)\n");
	return rc;
}

/* --dump-schema FILE (or "dump_schema"): the schema written after a run that changed it, or
 * when the file is not there yet. */
static int dump_after(struct cli_ctx *ctx, const struct migrations_opts *o, struct cli_session *s,
                      const strata_run_report *r)
{
	const char *path = o->dump_schema ? o->dump_schema : s->cfg.dump_schema;
	FILE *f;
	if (!path || o->run.ro.dry_run)
		return EXIT_OK;
	if (r->done == 0 && (f = fopen(path, "r")) != NULL) {
		fclose(f);
		return EXIT_OK;
	}
	return cli_schema_write(ctx, s->db, false, path);
}

/* migrations run and migrations revert: the same steps, in opposite directions. */
static int run_or_revert(struct cli_ctx *ctx, int argc, char **argv, strata_direction dir)
{
	struct migrations_opts o;
	struct cli_session s;
	strata_run_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc = cmd_migrations_start(ctx, argc, argv, false, &o, &s);

	if (rc >= 0)
		goto done;
	rc = EXIT_OK;
	ctx->verb = dir == STRATA_UP ? (o.run.ro.fake ? "recorded" : "applied") : "reverted";
	ctx->opts = &o;
	ctx->announce = announce;
	if (dir == STRATA_UP && o.check_drift && (rc = drift_first(ctx, &o, &s)) != EXIT_OK)
		goto done;
	/* the steps are printed as they run, or (a dry run) as they are planned: the report need
	 * not list them */
	o.run.ro.no_step_list = true;
	ctx->print_planned = true;
	if ((dir == STRATA_UP ? strata_run(s.db, s.src, &o.run.ro, &r, &e)
	                      : strata_revert(s.db, s.src, &o.run.ro, &r, &e)) < 0) {
		out_error(&e);
		if (r && dir == STRATA_DOWN && o.run.ro.fake)
			fprintf(stderr, "strata: nothing was unrecorded\n");
		else if (r)
			report_failure(&o, r, &e, dir);
		rc = e.code == STRATA_EREPLICA ? EXIT_REPLICA : EXIT_FAIL;
		goto done;
	}
	if (dir == STRATA_DOWN && o.run.ro.fake)
		report_unrecorded(ctx, &o, r);
	else
		report_success(ctx, &o, r, dir);
	rc = dump_after(ctx, &o, &s, r);
done:
	strata_run_report_free(r);
	cli_session_close(&s);
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
	struct cli_session s;
	strata_run_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	char dur[32];
	int rc = cmd_migrations_start(ctx, argc, argv, false, &o, &s);

	if (rc >= 0)
		goto done;
	rc = EXIT_OK;
	ctx->verb = "applied";
	ctx->opts = &o;
	ctx->announce = announce;
	if (strata_repair(s.db, s.src, &o.run.ro, &r, &e) < 0) {
		out_error(&e);
		if (r && r->failed >= 0) /* it failed running, not before */
			report_failure(&o, r, &e, STRATA_UP);
		rc = e.code == STRATA_EREPLICA ? EXIT_REPLICA : EXIT_FAIL;
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
	cli_session_close(&s);
	return rc;
}
