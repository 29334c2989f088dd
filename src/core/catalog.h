/* catalog.h: every migration found in one or more directories, in version order. */
#ifndef STRATA_CORE_CATALOG_H
#define STRATA_CORE_CATALOG_H

#include <stdbool.h>

#include "core/migration.h"

struct strata_history;
struct strata_history_summary;
struct strata_manifest_entry;

typedef struct strata_catalog {
	strata_migration **items; /* owned */
	size_t n;
	/* per directory: its migrations were listed from its build manifest, not read */
	bool *from_manifest;
	size_t ndirs;
	/* some of one built directory's migrations only (strata_catalog_load_listed, the batches
	 * below), from a directory whose manifest vouches for its listing */
	bool partial;
} strata_catalog;

/* Loads every migration below the given directories (not recursive) and merges them into one
 * ordered list. The same migration (version and name) twice is an error naming both files. */
int strata_catalog_load(strata_catalog *out, const char *const *dirs, size_t ndirs,
                        strata_error *e);

/* Like strata_catalog_load, but a directory with a readable build manifest (core/manifest.h)
 * that lists exactly the directory's migration files is taken from the manifest: names and
 * checksums, no file read. Such migrations are not `loaded`; strata_migration_ensure reads one
 * (and checks it against the manifest's checksum) when it is about to run. The listing is taken
 * from the manifest alone when the manifest is strictly newer than the directory (equal times are
 * racy: a file added in the same clock tick leaves them equal). Any other directory is
 * read in full, so the integrity checks see what is there. */
int strata_catalog_load_built(strata_catalog *out, const char *const *dirs, size_t ndirs,
                              strata_error *e);
/* strata_catalog_load or (built) strata_catalog_load_built of dirs, plus the migrations of
 * `extra` (given in memory, loaded; dir_index becomes ndirs), which the catalog takes over:
 * all of them are freed, taken in or not, whatever the outcome. */
int strata_catalog_load_all(strata_catalog *out, const char *const *dirs, size_t ndirs, bool built,
                            strata_migration **extra, size_t nextra, strata_error *e);
/* The migration of manifest entry ent of the built directory dir, not read yet (its files are
 * read and checked against the entry's checksum by strata_migration_ensure): 1 (*out NULL) when
 * the entry is not what build writes. */
int strata_catalog_entry(strata_migration **out, const char *dir,
                         const struct strata_manifest_entry *ent, strata_error *e);
/* The migrations of the built directory `dir` (as directory 0 of one) that history h holds, by
 * version and name, listed from its manifest read entry by entry (strata_manifest_stream): what a
 * revert of the newest few needs, holding neither the whole manifest nor a migration per entry.
 * Only for a directory whose manifest vouches for it (strata_build_summary). Returns 1 (c empty)
 * when the manifest is not as build writes it: then strata_catalog_load_built. */
int strata_catalog_load_listed(strata_catalog *out, const char *dir, const struct strata_history *h,
                               strata_error *e);
/* The migrations of the built directory `dir` (as directory 0 of one) after the first
 * applied->rows of its manifest, when the history whose summary is `applied` (core/history.h)
 * holds exactly those first rows: the pending migrations of a build applied up to some point,
 * the history not read. Only for a directory whose manifest vouches for it
 * (strata_build_summary). The manifest is read entry by entry. open returns 1 (*out NULL) when
 * the history is not such a prefix of the manifest, or the manifest is not as build writes it;
 * next lists in `out` up to max more migrations (none at the end; < 0 for a manifest that turns
 * out unreadable there); rewind goes back to the first after the prefix, failing when the
 * manifest changed since open. */
typedef struct strata_catalog_batches strata_catalog_batches;
int strata_catalog_batches_open(strata_catalog_batches **out, const char *dir,
                                const struct strata_history_summary *applied, strata_error *e);
int strata_catalog_batches_next(strata_catalog_batches *b, strata_catalog *out, size_t max,
                                strata_error *e);
int strata_catalog_batches_rewind(strata_catalog_batches *b, strata_error *e);
void strata_catalog_batches_close(strata_catalog_batches *b);
/*
 * One directory's migrations (not recursive) one at a time, in version order, each read when its
 * turn comes: what strata_catalog_load(dir) holds, holding the migration files' names (about 40
 * bytes a file) and one migration. open lists the directory (an ill-named migration file is its
 * error, as catalog_load's); next gives the next migration (the caller's to free) and 1, 0 at
 * the end, or < 0 for a file that cannot be read or parsed, or a migration twice or a part
 * alone (the errors of catalog_load); has says whether fname is one of the migration files
 * listed (down halves and configurations too); longest gives the longest version and name
 * listed (bytes, as written); rewind starts again from the first; check reads and parses every
 * migration, keeping none, counts them, and rewinds: 0, or next's error for the first that
 * fails (what the full read says of it).
 */
typedef struct strata_catalog_walk strata_catalog_walk;
int strata_catalog_walk_open(strata_catalog_walk **out, const char *dir, strata_error *e);
int strata_catalog_walk_next(strata_catalog_walk *w, strata_migration **out, strata_error *e);
bool strata_catalog_walk_has(const strata_catalog_walk *w, const char *fname);
void strata_catalog_walk_longest(const strata_catalog_walk *w, size_t longest[2]);
void strata_catalog_walk_rewind(strata_catalog_walk *w);
int strata_catalog_walk_check(strata_catalog_walk *w, size_t *count, strata_error *e);
void strata_catalog_walk_close(strata_catalog_walk *w);
/* For catalog_walk.c: where a file of a migration goes among its files (the migration file,
 * then a pair's .down.sql or Flyway's U file, then Flyway's .conf); and, on c sorted, the
 * folding of a migration's files into one and the refusal of duplicates and lone parts. */
int strata_catalog__file_rank(strata_file_kind kind);
int strata_catalog__merge(strata_catalog *c, strata_error *e);
/* Binary search; NULL when absent. */
strata_migration *strata_catalog_find(const strata_catalog *c, const char *version,
                                      const char *name);
void strata_catalog_free(strata_catalog *c);

#endif
