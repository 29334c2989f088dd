/* strata migrations run | revert | show | validate | repair */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cli/cmds.h"
#include "cli/out.h"
#include "cli/signals.h"
#include "core/catalog.h"
#include "core/integrity.h"
#include "core/plan.h"
#include "core/runner.h"
#include "util/clock.h"
#include "util/error.h"

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

struct opts {
	const char *dirs[CLI_MAX_DIRS];
	size_t ndirs;
	int dirs_defaulted;
	const char *to;
	unsigned steps;
	int dry_run, fake, all, json, exit_code, one_txn;
	int allow_ooo, ignore_checksums, mark_applied;
	int lock_wait_ms;
	struct cli_run_settings rs; /* -1: from config or default */
};

/* Parses the options of any of the three commands; returns -1 to go on, else an exit code. */
static int parse(struct cli_ctx *ctx, int argc, char **argv, struct opts *o)
{
	cli_parser p;
	int key;

	memset(o, 0, sizeof(*o));
	o->lock_wait_ms = CLI_DEFAULT_LOCK_WAIT_MS;
	o->rs = (struct cli_run_settings)CLI_RUN_SETTINGS_UNSET;
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
			if (!strata_is_version(optarg))
				return cli_usage_error(
				    ctx->cmd, "--to needs a version (digits), not '%s'", optarg);
			o->to = optarg;
			break;
		case OPT_STEPS:
			if (!cli_is_uint(optarg) || atoi(optarg) < 1 || strlen(optarg) > 9)
				return cli_usage_error(ctx->cmd,
				                       "--steps needs a whole number of 1 or more, "
				                       "not '%s'",
				                       optarg);
			o->steps = (unsigned)atoi(optarg);
			break;
		case OPT_ALL:
			o->all = 1;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_FAKE:
			o->fake = 1;
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
			o->one_txn = strcmp(optarg, "all") == 0;
			break;
		case OPT_ALLOW_OOO:
			o->allow_ooo = 1;
			break;
		case OPT_IGNORE_CHECKSUMS:
			o->ignore_checksums = 1;
			break;
		case OPT_MARK_APPLIED:
			o->mark_applied = 1;
			break;
		case OPT_LOCK_RETRIES:
			if (!cli_is_uint(optarg) || strlen(optarg) > 3)
				return cli_usage_error(
				    ctx->cmd, "--lock-retries needs a whole number, not '%s'",
				    optarg);
			o->rs.lock_retries = atoi(optarg);
			break;
		case OPT_LOCK_TIMEOUT:
		case OPT_STATEMENT_TIMEOUT:
			if (cli_parse_duration(optarg, key == OPT_LOCK_TIMEOUT
			                                   ? &o->rs.lock_timeout_ms
			                                   : &o->rs.statement_timeout_ms) < 0)
				return cli_usage_error(
				    ctx->cmd,
				    "--%s needs a duration like 5s, 500ms or 2m, "
				    "not '%s'",
				    key == OPT_LOCK_TIMEOUT ? "lock-timeout" : "statement-timeout",
				    optarg);
			break;
		case CLI_KEY_LOCK_WAIT:
		case CLI_KEY_LOCK_STRATEGY:
		case CLI_KEY_LOCK_TTL:
			if (cli_lock_opt(ctx->cmd, key, optarg, &o->lock_wait_ms,
			                 &o->rs.lock_strategy, &o->rs.lock_ttl_ms) < 0)
				return EXIT_USAGE;
			break;
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if ((o->steps != 0) + (o->to != NULL) + o->all > 1 &&
	    strcmp(ctx->cmd->name, "migrations revert") == 0)
		return cli_usage_error(ctx->cmd, "use one of --steps, --to and --all");
	return -1;
}

/* lock_and_load's answer when the history's summary shows nothing to run */
enum { EXIT_DONE = 100 };

/* Everything a command needs: config, URL, catalog, and (connected) backend. */
struct session {
	strata_config cfg;
	strata_dburl url;
	strata_catalog cat;
	strata_backend *b;
	strata_history hist;
	int loaded;
	/* a run that the build's summary may answer (see strata_build_summary); the catalog is
	 * read only when it does not */
	bool by_summary, cat_read;
	strata_history_summary built;
};

/* Whether some directory was listed from its manifest (its files read only when they run). */
static bool from_manifests(const strata_catalog *c)
{
	for (size_t d = 0; d < c->ndirs; d++)
		if (c->from_manifest[d])
			return true;
	return false;
}

/* How open_session reads the migration directories. */
enum read_mode {
	READ_SUMMARY, /* run: not at all while the build's summary may answer (see lock_and_load) */
	READ_BUILT,   /* from a build manifest where there is one: only what runs is read */
	READ_ALL      /* every file (validate, repair, --ignore-checksums) */
};

static int read_catalog(struct cli_ctx *ctx, const struct opts *o, struct session *s,
                        enum read_mode mode)
{
	strata_error e = STRATA_ERROR_INIT;
	double t0 = strata_now_ms();
	char dur[32];
	int error;

	s->cat_read = true;
	/* the listing and checksums from a build manifest, or every file (a plan reads the
	 * files it runs) */
	if (mode != READ_ALL && !o->ignore_checksums)
		error = strata_catalog_load_built(&s->cat, o->dirs, o->ndirs, &e);
	else
		error = strata_catalog_load(&s->cat, o->dirs, o->ndirs, &e);
	if (error < 0) {
		if (e.code == STRATA_ENOTFOUND && !e.line && o->dirs[0] == s->cfg.dist_dir)
			strata_error_hint(&e,
			                  "run 'strata build' to build %s from %s, or pass "
			                  "--dir %s",
			                  s->cfg.dist_dir, s->cfg.src_dir, s->cfg.src_dir);
		cli_map_to_src(&s->cfg, &e);
		out_error(&e);
		return EXIT_FAIL;
	}
	out_verbose(ctx, "read %zu migration%s from %zu director%s%s in %s\n", s->cat.n,
	            s->cat.n == 1 ? "" : "s", o->ndirs, o->ndirs == 1 ? "y" : "ies",
	            from_manifests(&s->cat) ? " (listed by the build manifest)" : "",
	            out_duration(dur, strata_now_ms() - t0));
	return EXIT_OK;
}

static int open_session(struct cli_ctx *ctx, struct opts *o, struct session *s, enum read_mode mode)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = cli_load(ctx, &s->cfg, &s->url)) != EXIT_OK)
		return rc;
	s->loaded = 1;
	if (o->ndirs == 0) {
		o->dirs[o->ndirs++] = s->cfg.dist_dir;
		o->dirs_defaulted = 1;
	}
	/* timeouts, retries and the lock: the option, else the config, else the defaults */
	if ((rc = cli_resolve_run_settings(&s->cfg, &o->rs)) != EXIT_OK)
		return rc;
	s->by_summary = mode == READ_SUMMARY && o->dirs_defaulted && !o->ignore_checksums &&
	                strata_build_summary(s->cfg.src_dir, s->cfg.dist_dir, &s->built);
	if (s->by_summary)
		out_verbose(ctx, "%s has a build summary of %llu migrations\n", s->cfg.dist_dir,
		            (unsigned long long)s->built.rows);
	/* read and check the files before touching the database (unless the summary may do) */
	if (!s->by_summary && (rc = read_catalog(ctx, o, s, mode)) != EXIT_OK)
		return rc;
	/* what only reads (show, validate, a dry run) does not create a SQLite file */
	return cli_connect(ctx, &s->url,
	                   o->dry_run || !strcmp(ctx->cmd->name, "migrations show") ||
	                           !strcmp(ctx->cmd->name, "migrations validate")
	                       ? STRATA_OPEN_NO_CREATE
	                       : 0,
	                   &s->b);
}

static void close_session(struct session *s)
{
	/* closing releases the lock: the advisory lock ends with the session, and the backend
	 * deletes a table lock's row; an explicit unlock would cost one more round trip */
	cli_signals_unwatch();
	strata_backend_close(s->b);
	strata_history_free(&s->hist);
	strata_catalog_free(&s->cat);
	if (s->loaded) {
		strata_dburl_free(&s->url);
		strata_config_free(&s->cfg);
	}
}

/* The refusals before a run: a transaction:false migration left failed, files that do not match
 * the build or their history, out-of-order migrations. Prints what it finds; returns the
 * number of problems. `all` goes on after the first (validate). */
/* The refusals before a run (core/integrity.h), printed with the file the user edits. */
static int preflight(struct session *s, const struct opts *o, const strata_plan *plan, int all)
{
	strata_verify_opts vo = {.dirs = o->dirs,
	                         .ndirs = o->ndirs,
	                         .src_dir = s->cfg.src_dir,
	                         .dist_dir = o->dirs_defaulted ? s->cfg.dist_dir : NULL,
	                         .skip_checksums = o->ignore_checksums,
	                         .allow_out_of_order = o->allow_ooo};
	if (o->ignore_checksums) /* loud even with -q: a check was skipped */
		fprintf(stderr, "strata: warning: --ignore-checksums: NOT checking the build "
		                "manifest, whether the build is up to date, or that applied "
		                "migrations are unchanged\n");
	return cli_verify(s->b, &s->cat, &s->hist, !all, plan, &vo, all, &s->cfg);
}

static const char *step_file(const strata_step *st)
{
	if (st->dir == STRATA_DOWN && st->m->down_path)
		return st->m->down_path;
	return st->m->path;
}

static void print_dry_run(const strata_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const strata_step *st = &plan->steps[i];
		const strata_section *sec = st->dir == STRATA_UP ? &st->m->up : &st->m->down;
		printf("-- %s %s-%s (%s)%s\n", st->dir == STRATA_UP ? "apply" : "revert",
		       st->m->version, st->m->name, step_file(st),
		       sec->no_transaction ? " [transaction:false]" : "");
		fwrite(sec->text + sec->offset, 1, sec->len, stdout);
		if (sec->len && sec->text[sec->offset + sec->len - 1] != '\n')
			putchar('\n');
	}
}

struct progress {
	struct cli_ctx *ctx;
	const char *verb;
};

static void on_event(void *ud, const strata_event *ev)
{
	struct progress *pr = ud;
	char dur[32];
	const strata_migration *m = ev->step->m;
	if (ev->kind == STRATA_EV_START) {
		out_verbose(pr->ctx, "  [%zu/%zu] %s-%s (%s) ...\n", ev->index + 1, ev->total,
		            m->version, m->name, step_file(ev->step));
	} else if (ev->kind == STRATA_EV_DONE) {
		out_info(pr->ctx, "  %-9s %s-%s  %s\n", pr->verb, m->version, m->name,
		         out_duration(dur, ev->ms));
	} else if (ev->kind == STRATA_EV_RETRY) {
		out_note(pr->ctx, "%s-%s hit the lock timeout and was rolled back; retrying in %s",
		         m->version, m->name, out_duration(dur, ev->ms));
	} else {
		out_info(pr->ctx, "  %-9s %s-%s  (done by another runner)\n", "skipped", m->version,
		         m->name);
	}
}

/* The shared body of run and revert once the plan is known. */
static int execute(struct cli_ctx *ctx, struct session *s, const struct opts *o,
                   const strata_plan *plan, strata_direction dir)
{
	strata_error e = STRATA_ERROR_INIT;
	struct progress pr = {ctx, dir == STRATA_UP ? (o->fake ? "recorded" : "applied")
	                                            : (o->fake ? "unrecorded" : "reverted")};
	strata_run_opts ro = {.fake = o->fake,
	                      .one_transaction = o->one_txn,
	                      .set_timeouts = 1,
	                      .lock_timeout_ms = o->rs.lock_timeout_ms,
	                      .statement_timeout_ms = o->rs.statement_timeout_ms,
	                      .lock_retries = o->rs.lock_retries,
	                      .on_event = on_event,
	                      .ud = &pr};
	strata_run_result r;
	char dur[32];
	const char *noun = dir == STRATA_UP ? "apply" : "revert";

	if (o->fake)
		out_info(
		    ctx,
		    "recording %zu migration%s as %s in %s, running none of their SQL (--fake)\n",
		    plan->n, plan->n == 1 ? "" : "s", dir == STRATA_UP ? "applied" : "reverted",
		    s->url.display);
	else
		out_info(ctx, "%s %zu migration%s %s %s%s\n",
		         dir == STRATA_UP ? "applying" : "reverting", plan->n,
		         plan->n == 1 ? "" : "s", dir == STRATA_UP ? "to" : "on", s->url.display,
		         o->one_txn ? " in one transaction" : "");
	if (strata_runner_execute(s->b, plan, &ro, &r, &e) < 0) {
		const strata_step *st = &plan->steps[r.failed];
		cli_map_to_src(&s->cfg, &e);
		out_error(&e);
		fflush(stdout);
		if (r.not_started && e.code != STRATA_EINTERRUPTED)
			fprintf(stderr, "strata: nothing was %s: the run stopped before it began\n",
			        dir == STRATA_UP ? "applied" : "reverted");
		else if (o->one_txn)
			fprintf(stderr,
			        "strata: %s %s-%s failed; the whole run was rolled back, "
			        "nothing changed\n",
			        noun, st->m->version, st->m->name);
		else if (r.failed_statement >= 0 && dir == STRATA_UP && e.code == STRATA_ECONNECT)
			fprintf(
			    stderr,
			    "strata: %s-%s is transaction:false: the connection was lost at "
			    "statement %d of %d; the history records it as running from there, and "
			    "'strata migrations run' will say how to finish it\n",
			    st->m->version, st->m->name, r.failed_statement + 1, r.statements);
		else if (r.failed_statement >= 0 && dir == STRATA_UP &&
		         strcmp(e.sqlstate, "55P03") == 0)
			fprintf(
			    stderr,
			    "strata: %s-%s is transaction:false: statement %d of %d timed out "
			    "waiting for a lock, the %d before it stay done, and it is recorded "
			    "as failed\n"
			    "hint: the file is fine: once the session holding the lock is gone "
			    "(see the detail), 'strata migrations repair' resumes from statement "
			    "%d; or wait longer for it with --lock-timeout\n",
			    st->m->version, st->m->name, r.failed_statement + 1, r.statements,
			    r.failed_statement, r.failed_statement + 1);
		else if (r.failed_statement >= 0 && dir == STRATA_UP)
			fprintf(
			    stderr,
			    "strata: %s-%s is transaction:false: statement %d of %d failed, the %d "
			    "before it stay done, and it is recorded as failed\n"
			    "hint: fix the file and run 'strata migrations repair' to resume from "
			    "statement %d, or fix the database by hand and run 'strata migrations "
			    "repair --mark-applied'\n",
			    st->m->version, st->m->name, r.failed_statement + 1, r.statements,
			    r.failed_statement, r.failed_statement + 1);
		else if (r.failed_statement >= 0)
			fprintf(
			    stderr,
			    "strata: %s-%s is transaction:false: statement %d of %d of its down "
			    "section failed and the %d before it stay done; it stays recorded as "
			    "applied\n",
			    st->m->version, st->m->name, r.failed_statement + 1, r.statements,
			    r.failed_statement);
		else if (r.not_started)
			fprintf(stderr, "strata: %s-%s did not start\n", st->m->version,
			        st->m->name);
		else
			fprintf(stderr, "strata: %s-%s was rolled back\n", st->m->version,
			        st->m->name);
		if (!o->one_txn && r.done)
			fprintf(stderr, "strata: the %zu migration%s %s before it stay%s %s\n",
			        r.done, r.done == 1 ? "" : "s",
			        dir == STRATA_UP ? "applied" : "reverted", r.done == 1 ? "s" : "",
			        dir == STRATA_UP ? "applied" : "reverted");
		return EXIT_FAIL;
	}
	out_info(ctx, "%s %zu migration%s in %s", pr.verb, r.done, r.done == 1 ? "" : "s",
	         out_duration(dur, r.ms));
	if (r.skipped)
		out_info(ctx, " (%zu already done by another runner)", r.skipped);
	out_info(ctx, "\n");
	return EXIT_OK;
}

/* Stores the row hashes the history's summary is made of where rows lack them (written by an
 * older strata or by hand) or have wrong ones (edited by hand); called once the run's checks
 * passed, so a refused run writes nothing. Best effort: without them, runs read the whole
 * history, as they do on a database that cannot give a summary. */
static void store_row_hashes(struct cli_ctx *ctx, struct session *s)
{
	strata_error e = STRATA_ERROR_INIT;
	if (s->by_summary && s->b->ops->history_fill_hashes &&
	    s->b->ops->history_fill_hashes(s->b, &s->hist, &e) < 0)
		out_verbose(ctx,
		            "cannot store the history's row hashes (%s): runs read all of it\n",
		            e.msg);
}

/* Takes the lock and reads what a run needs of the history (creating its table), unless the
 * history's summary shows the build fully applied: then EXIT_DONE, nothing read. */
static int lock_and_load(struct cli_ctx *ctx, struct session *s, const struct opts *o)
{
	unsigned flags = STRATA_HISTORY_CREATE | STRATA_HISTORY_BRIEF;
	strata_error e = STRATA_ERROR_INIT;
	strata_lock_opts lo = {.strategy = (strata_lock_strategy)o->rs.lock_strategy,
	                       .wait_ms = o->lock_wait_ms,
	                       .ttl_ms = o->rs.lock_ttl_ms};
	double t0 = strata_now_ms(), t1, lock_ms;
	char dur[32], dur2[32];
	int rc;
	if (s->b->ops->lock_with(s->b, &lo, &e) < 0)
		goto fail;
	t1 = strata_now_ms();
	lock_ms = t1 - t0;
	if (s->by_summary && s->b->ops->history_summary) {
		strata_history_summary db;
		int found = s->b->ops->history_summary(s->b, &db, &e);
		if (found < 0)
			goto fail;
		if (found && db.rows == s->built.rows && db.digest == s->built.digest &&
		    db.unfinished == 0) {
			out_verbose(
			    ctx, "locked in %s; the history's summary matches the build's (%s)\n",
			    out_duration(dur, lock_ms), out_duration(dur2, strata_now_ms() - t1));
			return EXIT_DONE;
		}
	}
	if (!s->cat_read && (rc = read_catalog(ctx, o, s, READ_BUILT)) != EXIT_OK)
		return rc;
	t1 = strata_now_ms();
	if (s->by_summary && s->b->ops->history_fill_hashes)
		flags |= STRATA_HISTORY_ROW_HASH;
	if (s->b->ops->history_load(s->b, &s->hist, flags, &e) < 0)
		goto fail;
	out_verbose(ctx, "locked in %s; read the history (%zu row%s) in %s\n",
	            out_duration(dur, lock_ms), s->hist.n, s->hist.n == 1 ? "" : "s",
	            out_duration(dur2, strata_now_ms() - t1));
	return EXIT_OK;
fail:
	out_error(&e);
	return EXIT_FAIL;
}

/* migrations run and migrations revert: the same steps, in opposite directions. */
static int run_or_revert(struct cli_ctx *ctx, int argc, char **argv, strata_direction dir)
{
	struct opts o;
	struct session s;
	strata_plan plan = {0};
	strata_error e = STRATA_ERROR_INIT;
	const char *verb = dir == STRATA_UP ? "applied" : "reverted";
	double t0;
	char dur[32];
	bool by_summary;
	int rc = parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	/* a plain run may be answered by the history's summary without reading anything */
	by_summary = dir == STRATA_UP && !o.dry_run && !o.to;
	if ((rc = open_session(ctx, &o, &s, by_summary ? READ_SUMMARY : READ_BUILT)) != EXIT_OK)
		goto done;
	if (o.dry_run) { /* no lock, and no history table made */
		if ((rc = !s.b->ops->history_load(s.b, &s.hist, STRATA_HISTORY_BRIEF, &e)
		              ? EXIT_OK
		              : EXIT_FAIL))
			out_error(&e);
	} else {
		rc = lock_and_load(ctx, &s, &o);
	}
	if (rc == EXIT_DONE) {
		out_info(ctx, "nothing to run: %llu migration%s, all applied (%s)\n",
		         (unsigned long long)s.built.rows, s.built.rows == 1 ? "" : "s",
		         s.url.display);
		rc = EXIT_OK;
		goto done;
	}
	if (rc != EXIT_OK)
		goto done;
	t0 = strata_now_ms();
	if (dir == STRATA_UP) {
		rc = strata_plan_up(&plan, &s.cat, &s.hist, o.to, &e) < 0 ? EXIT_FAIL : EXIT_OK;
	} else {
		strata_revert_opts ro = {.steps = o.steps, .to_version = o.to, .all = o.all};
		rc = strata_plan_down(&plan, &s.cat, &s.hist, &ro, &e) < 0 ? EXIT_FAIL : EXIT_OK;
	}
	if (rc != EXIT_OK) {
		cli_map_to_src(&s.cfg, &e);
		out_error(&e);
	} else if (dir == STRATA_UP && preflight(&s, &o, &plan, 0)) {
		rc = EXIT_FAIL;
	}
	if (rc != EXIT_OK) {
		fprintf(stderr, "strata: nothing was %s\n", verb);
		goto done;
	}
	out_verbose(ctx, "planned %zu step%s (files read and checked) in %s\n", plan.n,
	            plan.n == 1 ? "" : "s", out_duration(dur, strata_now_ms() - t0));
	store_row_hashes(ctx, &s);
	if (plan.n == 0) {
		if (dir == STRATA_UP)
			out_info(ctx, "nothing to run: %zu migration%s, all applied (%s)\n",
			         s.cat.n, s.cat.n == 1 ? "" : "s", s.url.display);
		else
			out_info(ctx, "nothing to revert (%s)\n", s.url.display);
		goto done;
	}
	if (o.dry_run) {
		print_dry_run(&plan);
		out_note(ctx, "dry run: %zu migration%s would be %s %s %s; nothing was changed",
		         plan.n, plan.n == 1 ? "" : "s", verb, dir == STRATA_UP ? "to" : "on",
		         s.url.display);
		goto done;
	}
	rc = execute(ctx, &s, &o, &plan, dir);
done:
	strata_plan_free(&plan);
	close_session(&s);
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

static const char *status_word(const strata_status *st)
{
	switch (st->kind) {
	case STRATA_STATUS_APPLIED:
		return "applied";
	case STRATA_STATUS_PENDING:
		return "pending";
	case STRATA_STATUS_MISSING:
		return "missing";
	case STRATA_STATUS_FAILED:
		break;
	}
	return strata_applied_status_name(st->a->status);
}

#define GEN_STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void show_json(const struct session *s, const strata_status_list *l)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	GEN_STR(g, "database");
	GEN_STR(g, s->url.display);
	GEN_STR(g, "database_exists");
	yajl_gen_bool(g, !s->b->missing);
	GEN_STR(g, "migrations");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < l->n; i++) {
		const strata_status *st = &l->items[i];
		yajl_gen_map_open(g);
		GEN_STR(g, "version");
		GEN_STR(g, st->m ? st->m->version : st->a->version);
		GEN_STR(g, "name");
		GEN_STR(g, st->m ? st->m->name : st->a->name);
		GEN_STR(g, "status");
		GEN_STR(g, status_word(st));
		GEN_STR(g, "file");
		if (st->m)
			GEN_STR(g, st->m->path);
		else
			yajl_gen_null(g);
		GEN_STR(g, "applied_at");
		if (st->a)
			GEN_STR(g, st->a->applied_at);
		else
			yajl_gen_null(g);
		GEN_STR(g, "duration_ms");
		if (st->a) {
			char num[32];
			int n = snprintf(num, sizeof(num), "%.3f", st->a->duration_ms);
			yajl_gen_number(g, num, (size_t)n);
		} else
			yajl_gen_null(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	GEN_STR(g, "applied");
	yajl_gen_integer(g, (long long)l->applied);
	GEN_STR(g, "pending");
	yajl_gen_integer(g, (long long)l->pending);
	GEN_STR(g, "missing");
	yajl_gen_integer(g, (long long)l->missing);
	GEN_STR(g, "failed");
	yajl_gen_integer(g, (long long)l->failed);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	yajl_gen_free(g);
}

static void show_table(const struct session *s, const strata_status_list *l)
{
	int wv = 7, wn = 4;
	char dur[32];
	/* columns by display width: a name may hold wide or combining characters */
	for (size_t i = 0; i < l->n; i++) {
		const strata_status *st = &l->items[i];
		int v = out_width(st->m ? st->m->version : st->a->version);
		int n = out_width(st->m ? st->m->name : st->a->name);
		wv = v > wv ? v : wv;
		wn = n > wn ? n : wn;
	}
	printf("%-8s %-*s %-*s %-24s %s\n", "STATUS", wv, "VERSION", wn, "NAME", "APPLIED AT",
	       "DURATION");
	for (size_t i = 0; i < l->n; i++) {
		const strata_status *st = &l->items[i];
		printf("%-8s ", status_word(st));
		out_pad(stdout, st->m ? st->m->version : st->a->version, wv);
		putchar(' ');
		out_pad(stdout, st->m ? st->m->name : st->a->name, wn);
		printf(" %-24s %s\n", st->a ? st->a->applied_at : "-",
		       st->a ? out_duration(dur, st->a->duration_ms) : "-");
	}
	printf("%zu migration%s: %zu applied, %zu pending", l->n, l->n == 1 ? "" : "s", l->applied,
	       l->pending);
	if (l->missing)
		printf(", %zu applied but missing on disk", l->missing);
	if (l->failed)
		printf(", %zu failed part-way (see 'strata migrations repair')", l->failed);
	printf(" (%s%s)\n", s->url.display, s->b->missing ? ", which does not exist yet" : "");
}

int cmd_migrations_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	struct session s;
	strata_status_list list = {0};
	strata_error e = STRATA_ERROR_INIT;
	int rc = parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if ((rc = open_session(ctx, &o, &s, READ_BUILT)) != EXIT_OK)
		goto done;
	if (s.b->ops->history_load(s.b, &s.hist, 0, &e) < 0 ||
	    strata_plan_status(&list, &s.cat, &s.hist, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	if (o.json)
		show_json(&s, &list);
	else
		show_table(&s, &list);
	/* a migration stopped part-way stops runs until it is repaired: the graver of the two */
	if (o.exit_code && list.failed)
		rc = EXIT_UNFINISHED;
	else if (o.exit_code && list.pending)
		rc = EXIT_PENDING;
done:
	strata_status_list_free(&list);
	close_session(&s);
	return rc;
}

int cmd_migrations_validate(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	struct session s;
	strata_plan plan = {0};
	strata_error e = STRATA_ERROR_INIT;
	int rc = parse(ctx, argc, argv, &o), problems;

	if (rc >= 0)
		return rc;
	if ((rc = open_session(ctx, &o, &s, READ_ALL)) != EXIT_OK)
		goto done;
	if (s.b->ops->history_load(s.b, &s.hist, 0, &e) < 0 ||
	    strata_plan_up(&plan, &s.cat, &s.hist, NULL, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	problems = preflight(&s, &o, &plan, 1);
	{
		/* what run checks of the pending files before it sends anything */
		strata_run_opts ro = {.fake = false};
		strata_run_result rr;
		strata_error pe = STRATA_ERROR_INIT;
		if (strata_runner_precheck(s.b, &plan, &ro, &rr, &pe) < 0) {
			cli_report_problem(&s.cfg, &pe);
			problems++;
		}
	}
	if (problems) {
		fprintf(stderr, "strata: %d problem%s found\n", problems, problems == 1 ? "" : "s");
		rc = EXIT_FAIL;
		goto done;
	}
	out_info(ctx,
	         "ok: %zu migration%s; %s; applied migrations unchanged; %zu pending, in order "
	         "(%s)\n",
	         s.cat.n, s.cat.n == 1 ? "" : "s",
	         o.dirs_defaulted ? "the build matches its manifest and src" : "manifests match",
	         plan.n, s.url.display);
done:
	strata_plan_free(&plan);
	close_session(&s);
	return rc;
}

int cmd_migrations_repair(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	struct session s;
	strata_plan plan = {0};
	strata_step step;
	strata_error e = STRATA_ERROR_INIT;
	const strata_applied *u;
	const strata_migration *m;
	int rc = parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if ((rc = open_session(ctx, &o, &s, READ_ALL)) != EXIT_OK ||
	    (rc = lock_and_load(ctx, &s, &o)) != EXIT_OK)
		goto done;
	u = strata_history_unfinished(&s.hist);
	if (!u) {
		out_info(ctx, "nothing to repair: no migration is failed or unfinished (%s)\n",
		         s.url.display);
		goto done;
	}
	m = strata_catalog_find(&s.cat, u->version, u->name);
	if (!m) {
		strata_error_hint(&e, "add the directory that holds it with --dir");
		strata_error_set(&e, STRATA_ENOTFOUND,
		                 "cannot repair %s-%s: its file is not in the "
		                 "migration directories",
		                 u->version, u->name);
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	o.ignore_checksums = 0;
	if (strata_verify_manifests(&s.cat, o.dirs, o.ndirs, &e) < 0 ||
	    (o.dirs_defaulted &&
	     strata_verify_build(&s.cat, s.cfg.src_dir, s.cfg.dist_dir, &e) < 0)) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	if (o.mark_applied) {
		if (s.b->ops->mark_applied(s.b, m, &e) < 0) {
			out_error(&e);
			rc = EXIT_FAIL;
			goto done;
		}
		out_info(ctx, "marked %s-%s as applied (it had stopped before statement %d)\n",
		         m->version, m->name, u->progress + 1);
		goto done;
	}
	if (!m->up.no_transaction) {
		strata_error_at(&e, m->path, 0, 0);
		strata_error_hint(&e,
		                  "it is recorded as %s, but its file is transactional now: "
		                  "use --mark-applied if the database already has the change",
		                  strata_applied_status_name(u->status));
		strata_error_set(&e, STRATA_EINVALID, "cannot resume %s-%s", m->version, m->name);
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	step = (strata_step){
	    .m = m, .dir = STRATA_UP, .out_of_order = u->out_of_order, .resume_from = u->progress};
	plan.steps = &step;
	plan.n = 1;
	out_info(ctx, "resuming %s-%s from statement %d\n", m->version, m->name, u->progress + 1);
	rc = execute(ctx, &s, &o, &plan, STRATA_UP);
	plan.steps = NULL;
	plan.n = 0;
done:
	close_session(&s);
	return rc;
}
