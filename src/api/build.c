/* build.c: strata_build, strata_lint and strata_create: authored migrations into built ones,
 * checked, and new ones scaffolded. No database is involved. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/build.h"
#include "core/lint.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fs.h"

static int build_options(strata_build_options *out, const strata_build_options *o, const char *fn,
                         strata_error *e)
{
	static const strata_build_options defaults = STRATA_BUILD_OPTIONS_INIT;
	if (o && (o->version < 1 || o->version > STRATA_BUILD_OPTIONS_VERSION))
		return api_bad_arg(e, fn, "options of an unknown version");
	*out = o ? *o : defaults;
	if (out->dialect != STRATA_DIALECT_SQLITE && out->dialect != STRATA_DIALECT_POSTGRES)
		return api_bad_arg(e, fn, "unknown dialect");
	if (out->nbase && !out->base_dirs)
		return api_bad_arg(e, fn, "nbase without base_dirs");
	return 0;
}

void strata_build_report_free(strata_build_report *r)
{
	if (!r)
		return;
	strata_build__report_clear(r);
	free(r);
}

int strata_build(const char *src_dir, const char *out_dir, const strata_build_options *o,
                 strata_build_report **out, strata_error *e)
{
	strata_build_options bo = STRATA_BUILD_OPTIONS_INIT;
	strata_build_report *r;
	double t0;
	int error;

	if (out)
		*out = NULL;
	if (!src_dir || !out_dir)
		return api_bad_arg(e, "strata_build", !src_dir ? "no src_dir" : "no out_dir");
	if ((error = build_options(&bo, o, "strata_build", e)) < 0)
		return error;
	if (!(r = calloc(1, sizeof(*r))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	t0 = strata_now_ms();
	error = strata_build__dir(src_dir, out_dir, &bo, r, e);
	r->ms = strata_now_ms() - t0;
	if (out)
		*out = r;
	else
		strata_build_report_free(r);
	return error;
}

void strata_lint_report_free(strata_lint_report *r)
{
	if (!r)
		return;
	strata_lint__report_clear(r);
	free(r);
}

/* Lints src_dir's migrations one at a time, holding one (catalog.h's walk): 10,000 of them in
 * the memory of one. */
static int lint_walk(strata_lint_report *r, const char *src_dir, const strata_lint_opts *lo,
                     strata_error *e)
{
	strata_catalog_walk *w = NULL;
	strata_linter *lt = NULL;
	strata_migration *m = NULL;
	int error;

	if ((error = strata_linter_open(&lt, r, lo, e)) == 0 &&
	    (error = strata_catalog_walk_open(&w, src_dir, e)) == 0)
		while ((error = strata_catalog_walk_next(w, &m, e)) > 0) {
			error = strata_linter_add(lt, m);
			strata_migration_free(m);
			if (error < 0)
				break;
		}
	strata_catalog_walk_close(w);
	strata_linter_free(lt);
	return error < 0 ? error : 0;
}

int strata_lint(const char *src_dir, const strata_build_options *o, strata_lint_report **out,
                strata_error *e)
{
	strata_build_options bo = STRATA_BUILD_OPTIONS_INIT;
	strata_lint_opts lo = STRATA_LINT_OPTS_INIT;
	strata_catalog base = {0};
	strata_lint_report *r;
	int error;

	if (out)
		*out = NULL;
	if (!src_dir)
		return api_bad_arg(e, "strata_lint", "no src_dir");
	if ((error = build_options(&bo, o, "strata_lint", e)) < 0)
		return error;
	if (!(r = calloc(1, sizeof(*r))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	lo.dialect = bo.dialect;
	lo.enable = bo.enable;
	if (bo.nbase && bo.dialect == STRATA_DIALECT_SQLITE) {
		if ((error = strata_catalog_load(&base, bo.base_dirs, bo.nbase, e)) < 0)
			goto done;
		lo.base = &base;
	}
	error = lint_walk(r, src_dir, &lo, e);
done:
	strata_catalog_free(&base);
	if (out)
		*out = r;
	else
		strata_lint_report_free(r);
	return error;
}

bool strata_name_valid(const char *name)
{
	return name && strlen(name) <= 200 && strata_migration_name_valid(name, strlen(name), NULL);
}

static const char scaffold[] = "-- migrate:up\n\n\n-- migrate:down\n\n";

int strata_create(const char *dir, const char *name, char **path_out, strata_error *e)
{
	struct timespec ts;
	char fname[512], *path = NULL;
	int fd = -1, error = 0;
	long long ms;

	if (path_out)
		*path_out = NULL;
	if (!dir || !name || !path_out)
		return api_bad_arg(e, "strata_create",
		                   !dir    ? "no dir"
		                   : !name ? "no name"
		                           : "no path_out");
	if (!strata_name_valid(name)) {
		strata_error_hint(e,
		                  "use letters, digits, '_', '-' and '.', starting with a letter, "
		                  "a digit or '_' (e.g. AddUserEmail)");
		return strata_error_set(e, STRATA_EINVALID, "'%s' is not a valid migration name",
		                        name);
	}
	if ((error = strata_fs_mkdirs(dir, e)) < 0)
		return error;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(fname, sizeof(fname), "%lld-%s.sql", ms, name);
	if (!(path = strata_fs_join(dir, fname)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 ||
	    write(fd, scaffold, sizeof(scaffold) - 1) != (ssize_t)(sizeof(scaffold) - 1)) {
		int err = errno;
		if (fd >= 0) /* nothing half-written stays */
			unlink(path);
		error = strata_error_set(e, err == EEXIST ? STRATA_EEXISTS : STRATA_ERROR,
		                         "cannot create '%s': %s", path, strerror(err));
		free(path);
		path = NULL;
	}
	if (fd >= 0)
		close(fd);
	*path_out = path;
	return error;
}
