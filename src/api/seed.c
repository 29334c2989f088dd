/* seed.c: strata_seed: pending migrations first (as strata_run, under the same lock), then the
 * seed files in one transaction. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/seed.h"
#include "util/error.h"

void strata_seed_report_free(strata_seed_report *r)
{
	if (!r)
		return;
	strata_run_report_free(r->migrated);
	strata_seed__report_clear(r);
	free(r);
}

static int seed_options(strata_seed_options *out, const strata_seed_options *o, strata_error *e)
{
	if (!o)
		return api_bad_arg(e, "strata_seed", "no options (the files to load)");
	if (o->version < 1 || o->version > STRATA_SEED_OPTIONS_VERSION)
		return api_bad_arg(e, "strata_seed", "options of an unknown version");
	if (!o->nfiles || !o->files)
		return api_bad_arg(e, "strata_seed", "no seed file");
	for (size_t i = 0; i < o->nfiles; i++)
		if (!o->files[i])
			return api_bad_arg(e, "strata_seed", "a seed file is NULL");
	*out = *o;
	return 0;
}

/* The migrations of src under the seed's lock: a dry run only counts what is pending. */
static int migrate(strata_db *db, strata_source *src, const strata_seed_options *o,
                   strata_seed_report *r, strata_error *e)
{
	strata_run_options ro;
	int error;

	if ((error = api_run_options(&ro, o->run, "strata_seed", e)) < 0)
		return error;
	ro.dry_run = o->dry_run;
	error = api_run(db, src, &ro, true, &r->migrated, e); /* under the seed's lock */
	if (error == 0 && o->dry_run && r->migrated)
		r->pending = r->migrated->n;
	return error;
}

int strata_seed(strata_db *db, strata_source *src, const strata_seed_options *o,
                strata_seed_report **out, strata_error *e)
{
	strata_seed_options so = STRATA_SEED_OPTIONS_INIT;
	strata_seed_opts sopts;
	strata_seed_report *r = NULL;
	struct strata_seed_scan *scans = NULL;
	api_session s;
	int error;

	if (out)
		*out = NULL;
	if (!db)
		return api_bad_arg(e, "strata_seed", "no database");
	if ((error = seed_options(&so, o, e)) < 0 ||
	    (error = api_session_open(&s, db, src, so.run, "strata_seed", e)) < 0)
		return error;
	if (!(r = calloc(1, sizeof(*r)))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	sopts = (strata_seed_opts){.files = so.files,
	                           .nfiles = so.nfiles,
	                           .conflict = so.conflict,
	                           .force = so.force,
	                           .dry_run = so.dry_run};
	/* every file must be well-formed before the database is touched */
	if ((error = strata_seed_scan_files(&scans, &sopts, e)) < 0)
		goto done;
	/* one lock for the migrations and the seed: nobody else runs in between */
	if ((error = api_session_lock(&s, e)) < 0)
		goto done;
	if (src && (error = migrate(db, src, &so, r, e)) < 0)
		goto done;
	if (r->pending) /* a dry run with migrations pending: the tables may not be there */
		goto done;
	error = strata_seed_run(db->conn, &sopts, scans, r, e);
done:
	strata_seed_scans_free(scans, so.nfiles);
	api_session_close(&s);
	if (out)
		*out = r;
	else
		strata_seed_report_free(r);
	return error;
}
