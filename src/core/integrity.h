/*
 * integrity.h: is what runs what was built, and what was applied what is on disk?
 *
 * Three checks, each failing with the file and the fix:
 *   - the manifest: every migration in a directory that holds manifest.json matches its SHA-256
 *     there, and every migration the manifest lists is present;
 *   - the build: the dist directory holds exactly the src directory's migrations, unchanged;
 *   - the history: an applied migration's file still has the checksum it was applied with.
 */
#ifndef STRATA_CORE_INTEGRITY_H
#define STRATA_CORE_INTEGRITY_H

#include <stdbool.h>
#include <time.h>

#include "core/catalog.h"
#include "core/history.h"
#include "core/plan.h"

/* Checks the migrations of c that came from dirs[i] (i = dir_index) against dirs[i]/manifest.json,
 * for each directory that has one. */
int strata_verify_manifests(const strata_catalog *c, const char *const *dirs, size_t ndirs,
                            strata_error *e);
/* Checks that dist's migrations from dist_dir (those of dir_index idx) are an up-to-date build of
 * src_dir. */
int strata_verify_build(const strata_catalog *dist, size_t idx, const char *src_dir,
                        const char *dist_dir, strata_error *e);
/* Checks every applied migration found in c against its recorded checksum. */
int strata_verify_applied(const strata_catalog *c, const strata_history *h, strata_error *e);

/* Whether the build in dist_dir can answer for a run without being read: its manifest has a
 * summary (core/manifest.h, copied to *out) and neither dist_dir nor src_dir (when it exists)
 * gained, lost or renamed a file since the build. A history whose summary equals it then has
 * every migration applied, unchanged and finished: nothing to run, no check that can fail. */
bool strata_build_summary(const char *src_dir, const char *dist_dir, strata_history_summary *out);
/* Whether src_dir holds the source of each file of the built migration m (its .down.sql, its
 * Flyway U file and .conf too), each older than mtime (the build manifest's): not edited since
 * the build. */
bool strata_src_older(const char *src_dir, const strata_migration *m, const struct timespec *mtime);

/* Fails when a transaction:false migration is left running or failed (see migrations repair). */
int strata_verify_finished(const strata_catalog *c, const strata_history *h, strata_error *e);

typedef struct strata_verify_opts {
	const char *const *dirs; /* the directories the catalog came from */
	size_t ndirs;
	const char *src_dir, *dist_dir; /* set: check that dist_dir is a fresh build of src_dir */
	size_t dist_index;              /* ... dist_dir's dir_index in the catalog */
	/* set: per dirs[i], the src_dir it is a build of (NULL: not a build); every build is
	 * checked for freshness, instead of src_dir/dist_dir alone */
	const char *const *src_dirs;
	bool skip_checksums; /* manifests, build and applied checksums (emergencies) */
	bool allow_out_of_order;
} strata_verify_opts;

typedef void (*strata_verify_cb)(void *ud, const strata_error *e);

/* Every check before a run, in order: unfinished migrations, manifests, build, applied
 * checksums, then out-of-order steps of `plan` (may be NULL). Calls `report` for each problem
 * and stops after the first unless `all`. Returns how many it found. */
int strata_verify_all(const strata_catalog *c, const strata_history *h, const strata_plan *plan,
                      const strata_verify_opts *o, bool all, strata_verify_cb report, void *ud);

#endif
