/*
 * build.h: turns authored migrations (src/migrations) into the ones that run (dist/migrations).
 *
 * Every file is validated (names, sections, UTF-8, duplicates), parsed as SQL of the project's
 * dialect and linted (src/core/sqlcheck.h, src/core/lint.h) before anything is written; then
 * each migration is copied, migration files in the output that no longer exist in the source
 * are removed, and manifest.json records each migration's SHA-256.
 */
#ifndef STRATA_CORE_BUILD_H
#define STRATA_CORE_BUILD_H

#include <stddef.h>

#include "core/lint.h"
#include "strata.h"

typedef struct strata_build_opts {
	unsigned version;
	strata_dialect dialect; /* what the migrations are parsed as */
	bool strict;            /* lint warnings fail the build too */
	const char *enable;     /* off-by-default lint rules to turn on (comma-separated) */
	/* SQLite: directories of migrations these build on (another source's, a core's), applied
	 * first by the check; nothing of theirs is written */
	const char *const *base_dirs;
	size_t nbase;
} strata_build_opts;

#define STRATA_BUILD_OPTS_VERSION 1
#define STRATA_BUILD_OPTS_INIT                                                                     \
	{                                                                                          \
		STRATA_BUILD_OPTS_VERSION, STRATA_DIALECT_SQLITE, false, NULL, NULL, 0             \
	}

typedef struct strata_build_result {
	size_t built;            /* migrations written */
	size_t removed;          /* stale files removed from the output */
	strata_lint_result lint; /* every lint finding, also when the build fails */
	bool lint_failed;        /* the build stopped on lint errors (or warnings, if strict) */
} strata_build_result;

/* opts NULL means STRATA_BUILD_OPTS_INIT. r is always initialised: free it with
 * strata_build_result_free. */
int strata_build(const char *src_dir, const char *out_dir, const strata_build_opts *opts,
                 strata_build_result *r, strata_error *e);
void strata_build_result_free(strata_build_result *r);

#endif
