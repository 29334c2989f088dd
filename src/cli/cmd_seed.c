/* strata seed: apply pending migrations, then load JSON seed files in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/out.h"
#include "cli/signals.h"
#include "core/catalog.h"
#include "core/integrity.h"
#include "core/plan.h"
#include "core/runner.h"
#include "core/seed.h"
#include "core/seed_json.h"
#include "util/error.h"

enum {
	OPT_FILE = 'f',
	OPT_DIR = 256,
	OPT_NO_MIGRATE,
	OPT_ON_CONFLICT,
	OPT_DRY_RUN,
	OPT_FORCE,
};

#define MAX_FILES 256

const struct cli_opt cmd_seed_opts[] = {
    {"file", OPT_FILE, "FILE",
     "a JSON seed file to load (repeatable; all load in one "
     "transaction)",
     true},
    {"no-migrate", OPT_NO_MIGRATE, NULL, "do not apply pending migrations first", false},
    {"on-conflict", OPT_ON_CONFLICT, "error|skip|update",
     "a row whose primary key exists: fail (default), skip it, or update it", false},
    {"dry-run", OPT_DRY_RUN, NULL, "load everything, report, then roll back", false},
    {"force", OPT_FORCE, NULL,
     "load a seed file again although it changed since it was "
     "loaded",
     false},
    {"dir", OPT_DIR, "DIR", "read migrations from DIR (repeatable; default: dist/migrations)",
     true},
    CLI_LOCK_OPTS,
    {0},
};

struct opts {
	const char *files[MAX_FILES];
	size_t nfiles;
	const char *dirs[CLI_MAX_DIRS];
	size_t ndirs;
	int no_migrate, dry_run, force;
	strata_seed_conflict conflict;
	int lock_wait_ms;
	struct cli_run_settings rs; /* -1: from config or default */
};

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
		case OPT_FILE:
			if (o->nfiles == MAX_FILES)
				return cli_usage_error(ctx->cmd, "too many -f (at most %d)",
				                       MAX_FILES);
			o->files[o->nfiles++] = optarg;
			break;
		case OPT_DIR:
			if (o->ndirs == CLI_MAX_DIRS)
				return cli_usage_error(ctx->cmd, "too many --dir (at most %d)",
				                       CLI_MAX_DIRS);
			o->dirs[o->ndirs++] = optarg;
			break;
		case OPT_NO_MIGRATE:
			o->no_migrate = 1;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_ON_CONFLICT:
			if (strcmp(optarg, "error") == 0)
				o->conflict = STRATA_SEED_CONFLICT_ERROR;
			else if (strcmp(optarg, "skip") == 0)
				o->conflict = STRATA_SEED_CONFLICT_SKIP;
			else if (strcmp(optarg, "update") == 0)
				o->conflict = STRATA_SEED_CONFLICT_UPDATE;
			else
				return cli_usage_error(
				    ctx->cmd,
				    "--on-conflict is 'error', 'skip' or 'update', "
				    "not '%s'",
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
		return cli_usage_error(
		    ctx->cmd, "unexpected argument '%s' (give seed files with -f)", argv[optind]);
	if (o->nfiles == 0)
		return cli_usage_error(ctx->cmd, "no seed file: give one with -f FILE");
	return -1;
}

static void on_event(void *ud, const strata_event *ev)
{
	struct cli_ctx *ctx = ud;
	char dur[32];
	const strata_migration *m = ev->step->m;
	if (ev->kind == STRATA_EV_DONE)
		out_info(ctx, "  %-9s %s-%s  %s\n", "applied", m->version, m->name,
		         out_duration(dur, ev->ms));
	else if (ev->kind == STRATA_EV_SKIPPED)
		out_info(ctx, "  %-9s %s-%s  (done by another runner)\n", "skipped", m->version,
		         m->name);
}

/* Applies pending migrations like 'migrations run'. *pending_out: how many are pending (for a
 * dry run, which applies none). */
static int migrate(struct cli_ctx *ctx, const struct opts *o, strata_config *cfg,
                   const strata_dburl *url, strata_backend *b, size_t *pending_out)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog cat = {0};
	strata_history hist = {0};
	strata_plan plan = {0};
	strata_run_opts ro = {.on_event = on_event, .ud = ctx};
	strata_verify_opts vo;
	strata_run_result r;
	const char *dirs[CLI_MAX_DIRS];
	size_t ndirs = o->ndirs;
	char dur[32];
	int rc = EXIT_OK;

	*pending_out = 0;
	memcpy(dirs, o->dirs, sizeof(dirs));
	if (ndirs == 0)
		dirs[ndirs++] = cfg->dist_dir;
	/* from the build manifest: only the pending files are read (core/catalog.h) */
	if (strata_catalog_load_built(&cat, dirs, ndirs, &e) < 0) {
		if (e.code == STRATA_ENOTFOUND && !e.line && o->ndirs == 0)
			strata_error_hint(&e,
			                  "run 'strata build' to build %s from %s, pass --dir "
			                  "%s, or seed without migrating (--no-migrate)",
			                  cfg->dist_dir, cfg->src_dir, cfg->src_dir);
		goto fail;
	}
	if (b->ops->history_load(b, &hist,
	                         STRATA_HISTORY_BRIEF | (o->dry_run ? 0 : STRATA_HISTORY_CREATE),
	                         &e) < 0 ||
	    strata_plan_up(&plan, &cat, &hist, NULL, &e) < 0)
		goto fail;
	/* the same refusals as 'migrations run': unfinished, manifest, build, checksums, order */
	vo = (strata_verify_opts){.dirs = dirs,
	                          .ndirs = ndirs,
	                          .src_dir = cfg->src_dir,
	                          .dist_dir = o->ndirs == 0 ? cfg->dist_dir : NULL};
	if (cli_verify(b, &cat, &hist, true, &plan, &vo, false, cfg)) {
		fprintf(stderr, "strata: nothing was applied or seeded\n");
		rc = EXIT_FAIL;
		goto done;
	}
	/* the timeouts of 'migrations run' (resolved in cmd_seed) */
	ro.set_timeouts = true;
	ro.lock_timeout_ms = o->rs.lock_timeout_ms;
	ro.statement_timeout_ms = o->rs.statement_timeout_ms;
	ro.lock_retries = o->rs.lock_retries;
	*pending_out = plan.n;
	if (plan.n == 0 || o->dry_run)
		goto done;
	out_info(ctx, "applying %zu migration%s to %s\n", plan.n, plan.n == 1 ? "" : "s",
	         url->display);
	if (strata_runner_execute(b, &plan, &ro, &r, &e) < 0) {
		const strata_step *st = &plan.steps[r.failed];
		out_error(&e);
		fprintf(stderr, "strata: %s-%s %s; nothing was seeded\n", st->m->version,
		        st->m->name, r.not_started ? "did not start" : "was rolled back");
		if (r.done)
			fprintf(stderr,
			        "strata: the %zu migration%s applied before it stay%s applied\n",
			        r.done, r.done == 1 ? "" : "s", r.done == 1 ? "s" : "");
		rc = EXIT_FAIL;
		goto done;
	}
	out_info(ctx, "applied %zu migration%s in %s\n", r.done, r.done == 1 ? "" : "s",
	         out_duration(dur, r.ms));
	goto done;
fail:
	out_error(&e);
	rc = EXIT_FAIL;
done:
	strata_plan_free(&plan);
	strata_history_free(&hist);
	strata_catalog_free(&cat);
	return rc;
}

static void report(struct cli_ctx *ctx, const struct opts *o, const strata_seed_result *r,
                   const strata_dburl *url)
{
	char dur[32], rd[32], wr[32];
	size_t loaded = 0;
	int w = 5;

	for (size_t i = 0; i < o->nfiles; i++) {
		if (r->files[i].status == STRATA_SEED_FILE_UNCHANGED)
			out_info(ctx, "  %-9s %s  (unchanged since it was loaded)\n", "skipped",
			         r->files[i].path);
		else
			loaded++;
	}
	if (!loaded) {
		out_info(ctx, "nothing to seed: %zu file%s, unchanged since loaded (%s)\n",
		         o->nfiles, o->nfiles == 1 ? "" : "s", url->display);
		return;
	}
	for (size_t i = 0; i < r->ntables; i++) {
		int n = (int)strlen(r->tables[i].name);
		w = n > w ? n : w;
	}
	for (size_t i = 0; i < r->ntables; i++)
		out_info(ctx, "  %-*s %8zu row%s\n", w, r->tables[i].name, r->tables[i].rows,
		         r->tables[i].rows == 1 ? "" : "s");
	for (size_t i = 0; i < o->nfiles; i++)
		if (r->files[i].status == STRATA_SEED_FILE_LOADED)
			out_verbose(ctx, "  %s: %zu rows, sha256 %s%s\n", r->files[i].path,
			            r->files[i].rows, r->files[i].sha256,
			            r->files[i].forced ? " (changed, --force)" : "");
	out_info(ctx, "%s %zu row%s from %zu file%s in %s (read %s, write %s; %.0f rows/s)\n",
	         o->dry_run ? "dry run: checked" : "seeded", r->rows, r->rows == 1 ? "" : "s",
	         loaded, loaded == 1 ? "" : "s", out_duration(dur, r->ms),
	         out_duration(rd, r->scan_ms), out_duration(wr, r->load_ms),
	         r->load_ms > 0 ? (double)r->rows * 1000.0 / r->load_ms : 0.0);
	if (o->dry_run)
		out_note(ctx, "dry run: everything was rolled back; nothing was written to %s",
		         url->display);
}

int cmd_seed(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	strata_config cfg;
	strata_dburl url;
	strata_backend *b = NULL;
	strata_seed_result r = {0};
	strata_error e = STRATA_ERROR_INIT;
	strata_seed_opts so;
	strata_seed_scan *scans = NULL;
	size_t pending = 0;
	int rc = parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if ((rc = cli_load(ctx, &cfg, &url)) != EXIT_OK)
		return rc;
	so = (strata_seed_opts){.files = o.files,
	                        .nfiles = o.nfiles,
	                        .conflict = o.conflict,
	                        .force = o.force,
	                        .dry_run = o.dry_run};
	/* every file must be well-formed before the database is touched */
	if (strata_seed_scan_files(&scans, &so, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	/* timeouts, retries and the lock: the option, else the config, else the defaults */
	if ((rc = cli_resolve_run_settings(&cfg, &o.rs)) != EXIT_OK)
		goto done;
	if ((rc = cli_connect(ctx, &url, o.dry_run ? STRATA_OPEN_NO_CREATE : 0, &b)) != EXIT_OK)
		goto done;
	if (b->ops->lock_with(
	        b,
	        &(strata_lock_opts){.strategy = (strata_lock_strategy)o.rs.lock_strategy,
	                            .wait_ms = o.lock_wait_ms,
	                            .ttl_ms = o.rs.lock_ttl_ms},
	        &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	if (!o.no_migrate && (rc = migrate(ctx, &o, &cfg, &url, b, &pending)) != EXIT_OK)
		goto done;
	if (pending && o.dry_run) {
		out_note(ctx,
		         "dry run: %zu migration%s pending, so the seed files were only "
		         "checked for well-formed JSON; nothing was changed",
		         pending, pending == 1 ? "" : "s");
		goto done;
	}
	out_info(ctx, "seeding %s from %zu file%s%s\n", url.display, o.nfiles,
	         o.nfiles == 1 ? "" : "s", o.dry_run ? " (dry run)" : "");
	if (strata_seed_run(b, &so, scans, &r, &e) < 0) {
		out_error(&e);
		fprintf(stderr, "strata: nothing was seeded; the transaction was rolled back\n");
		rc = EXIT_FAIL;
		goto done;
	}
	report(ctx, &o, &r, &url);
done:
	strata_seed_result_free(&r);
	strata_seed_scans_free(scans, o.nfiles);
	if (b) {
		cli_signals_unwatch();
		b->ops->unlock(b);
		strata_backend_close(b);
	}
	strata_dburl_free(&url);
	strata_config_free(&cfg);
	return rc;
}
