/* strata seed: apply pending migrations, then load JSON seed files in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/out.h"

enum {
	OPT_FILE = 'f',
	OPT_NO_MIGRATE = 256,
	OPT_ON_CONFLICT,
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
    {"dry-run", CLI_KEY_DRY_RUN, NULL, "load everything, report, then roll back", false},
    {"force", OPT_FORCE, NULL,
     "load a seed file again although it changed since it was "
     "loaded",
     false},
    CLI_DIR_OPT,
    CLI_REPLICA_OPTS,
    CLI_LOCK_OPTS,
    {0},
};

struct opts {
	const char *files[MAX_FILES];
	size_t nfiles;
	bool no_migrate, force;
	strata_seed_conflict conflict;
	struct cli_run_args run; /* --dir, and how pending migrations run first */
};

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	static const char *const conflicts[] = {[STRATA_SEED_CONFLICT_ERROR] = "error",
	                                        [STRATA_SEED_CONFLICT_SKIP] = "skip",
	                                        [STRATA_SEED_CONFLICT_UPDATE] = "update"};
	struct opts *o = ud;
	int rc = cli_run_arg(ctx->cmd, key, arg, &o->run);

	if (rc != CLI_NOT_SHARED)
		return rc;
	if (key == OPT_FILE && o->nfiles == MAX_FILES)
		return cli_usage_error(ctx->cmd, "too many -f (at most %d)", MAX_FILES);
	if (key == OPT_FILE)
		o->files[o->nfiles++] = arg;
	o->no_migrate |= key == OPT_NO_MIGRATE;
	o->force |= key == OPT_FORCE;
	if (key != OPT_ON_CONFLICT)
		return EXIT_OK;
	for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++)
		if (strcmp(arg, conflicts[i]) == 0) {
			o->conflict = (strata_seed_conflict)i;
			return EXIT_OK;
		}
	return cli_usage_error(ctx->cmd, "--on-conflict is 'error', 'skip' or 'update', not '%s'",
	                       arg);
}

static int parse(struct cli_ctx *ctx, int argc, char **argv, struct opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	cli_run_args_init(&o->run);
	if ((rc = cli_parse(ctx, argc, argv, take, o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(
		    ctx->cmd, "unexpected argument '%s' (give seed files with -f)", argv[optind]);
	if (o->nfiles == 0)
		return cli_usage_error(ctx->cmd, "no seed file: give one with -f FILE");
	return -1;
}

/* The line before the first pending migration runs. */
static void announce(struct cli_ctx *ctx, const strata_event *ev)
{
	out_info(ctx, "applying %zu migration%s to %s\n", ev->total, ev->total == 1 ? "" : "s",
	         ctx->display);
}

static void report(struct cli_ctx *ctx, const struct opts *o, const strata_seed_report *r)
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
		         o->nfiles, o->nfiles == 1 ? "" : "s", ctx->display);
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
	         o->run.ro.dry_run ? "dry run: checked" : "seeded", r->rows,
	         r->rows == 1 ? "" : "s", loaded, loaded == 1 ? "" : "s", out_duration(dur, r->ms),
	         out_duration(rd, r->scan_ms), out_duration(wr, r->load_ms),
	         r->load_ms > 0 ? (double)r->rows * 1000.0 / r->load_ms : 0.0);
	if (o->run.ro.dry_run)
		out_note(ctx, "dry run: everything was rolled back; nothing was written to %s",
		         ctx->display);
}

/* What ran before the seed files loaded: the migrations applied first, and the seed's start. */
static void print_progress(struct cli_ctx *ctx, const struct opts *o, const strata_seed_report *r)
{
	char dur[32];
	if (r->migrated && r->migrated->done)
		out_info(ctx, "applied %zu migration%s in %s\n", r->migrated->done,
		         r->migrated->done == 1 ? "" : "s", out_duration(dur, r->migrated->ms));
	out_info(ctx, "seeding %s from %zu file%s%s\n", ctx->display, o->nfiles,
	         o->nfiles == 1 ? "" : "s", o->run.ro.dry_run ? " (dry run)" : "");
}

/* What went wrong, after the error: the migrations that stay applied, or the seed rolled back. */
static void report_failure(const strata_seed_report *r, const strata_error *e)
{
	const strata_run_report *m = r ? r->migrated : NULL;

	fflush(stdout);
	if (m && m->not_started && m->done) {
		/* stopped after a commit: waiting for the replicas, interrupted, or (a run in
		 * batches) the next batch's files are not what the checks read */
		fprintf(stderr,
		        "strata: the %zu migration%s applied stay%s applied; nothing was "
		        "seeded\n",
		        m->done, m->done == 1 ? "" : "s", m->done == 1 ? "s" : "");
	} else if (m && m->failed_step && !m->not_started) {
		const strata_step_report *st = m->failed_step;
		fprintf(stderr, "strata: %s-%s was rolled back; nothing was seeded\n", st->version,
		        st->name);
		if (m->done)
			fprintf(stderr,
			        "strata: the %zu migration%s applied before it stay%s applied\n",
			        m->done, m->done == 1 ? "" : "s", m->done == 1 ? "s" : "");
	} else if (m && (m->not_started || m->failed >= 0) && e->code != STRATA_EINTERRUPTED) {
		fprintf(stderr, "strata: nothing was applied or seeded\n");
	} else if (r && r->rolled_back) {
		fprintf(stderr, "strata: nothing was seeded; the transaction was rolled back\n");
	}
}

int cmd_seed(struct cli_ctx *ctx, int argc, char **argv)
{
	struct opts o;
	struct cli_session s = {0};
	strata_seed_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
	int rc = parse(ctx, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if ((rc = cli_session_open(ctx, &o.run, !o.no_migrate,
	                           o.run.ro.dry_run ? STRATA_DB_NO_CREATE : 0, &s)) != EXIT_OK)
		goto done;
	so.files = o.files;
	so.nfiles = o.nfiles;
	so.conflict = o.conflict;
	so.force = o.force;
	so.dry_run = o.run.ro.dry_run;
	o.run.ro.no_step_list = true; /* the migrations are printed as they run */
	so.run = &o.run.ro;
	ctx->verb = "applied";
	ctx->display = strata_db_display(s.db);
	ctx->opts = NULL;
	ctx->announce = announce;
	if (strata_seed(s.db, s.src, &so, &r, &e) < 0) {
		if (r && r->rolled_back)
			print_progress(ctx, &o, r);
		out_error(&e);
		report_failure(r, &e);
		rc = e.code == STRATA_EREPLICA ? EXIT_REPLICA : EXIT_FAIL;
		goto done;
	}
	if (r->pending) {
		out_note(ctx,
		         "dry run: %zu migration%s pending, so the seed files were only "
		         "checked for well-formed JSON; nothing was changed",
		         r->pending, r->pending == 1 ? "" : "s");
		goto done;
	}
	print_progress(ctx, &o, r);
	report(ctx, &o, r);
done:
	strata_seed_report_free(r);
	cli_session_close(&s);
	return rc;
}
