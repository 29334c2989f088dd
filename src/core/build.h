/*
 * build.h: turns authored migrations (src/migrations) into the ones that run (dist/migrations).
 *
 * Every file is validated (names, sections, UTF-8, duplicates) before anything is written; then
 * each migration is copied, migration files in the output that no longer exist in the source
 * are removed, and manifest.json records each migration's SHA-256.
 */
#ifndef STRATA_CORE_BUILD_H
#define STRATA_CORE_BUILD_H

#include <stddef.h>

#include "strata.h"

#define STRATA_MANIFEST "manifest.json"

typedef struct strata_build_result {
	size_t built;   /* migrations written */
	size_t removed; /* stale files removed from the output */
} strata_build_result;

int strata_build(const char *src_dir, const char *out_dir, strata_build_result *r, strata_error *e);

#endif
