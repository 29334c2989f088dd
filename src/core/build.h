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

/* The build of src_dir into out_dir (strata.h's strata_build); opts NULL means
 * STRATA_BUILD_OPTIONS_INIT. r is always initialised: clear it with strata_build__report_clear. */
int strata_build__dir(const char *src_dir, const char *out_dir, const strata_build_options *opts,
                      strata_build_report *r, strata_error *e);
void strata_build__report_clear(strata_build_report *r);

#endif
