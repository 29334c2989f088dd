/*
 * manifest.h: dist/migrations/manifest.json, what `strata build` wrote.
 *
 * The manifest lists every built migration with its file (and the .down.sql of a
 * golang-migrate pair, or Flyway's U file and .sql.conf) and its SHA-256. Build writes it last and
 * then sets its modification time past the directory's, so a directory whose manifest is strictly
 * newer holds exactly the files listed: a run can take the list and the checksums from the manifest
 * and read only the files it executes (core/catalog.h). Equal times prove nothing (a file added in
 * the same clock tick leaves them equal): then the listing is compared.
 */
#ifndef STRATA_CORE_MANIFEST_H
#define STRATA_CORE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/history.h"
#include "core/migration.h"
#include "strata.h"
#include "util/buf.h"

#define STRATA_MANIFEST "manifest.json"

struct strata_catalog;

typedef struct strata_manifest_entry {
	const char *file;      /* the migration file (the .up.sql of a pair) */
	const char *down_file; /* the .down.sql of a pair (Flyway's U file), else NULL */
	const char *conf_file; /* Flyway's V<version>__<name>.sql.conf, else NULL */
	const char *sha256;    /* 64 hex digits */
} strata_manifest_entry;

typedef struct strata_manifest {
	strata_manifest_entry *items; /* sorted by file */
	size_t n;
	struct timespec mtime; /* the manifest's modification time */
	char *strings;         /* owns what the entries point to */
} strata_manifest;

/* Reads dir/manifest.json. Returns 1 when it was read, 0 when dir has none, and < 0 (naming the
 * file, with the fix) when it cannot be read or is not a manifest. */
int strata_manifest_read(strata_manifest *out, const char *dir, strata_error *e);
/* Binary search by file name; NULL when absent. */
const strata_manifest_entry *strata_manifest_find(const strata_manifest *m, const char *file);
void strata_manifest_free(strata_manifest *m);

/* The manifest's summary of what a fully applied history holds (core/history.h): "count" and
 * "history_digest" (16 hex digits), written before the list so that reading them stops early.
 * Returns 1 when dir has a manifest with a summary (and its modification time in *mtime), else
 * 0; never fails (without a summary a run reads everything). */
int strata_manifest_read_summary(const char *dir, strata_history_summary *out,
                                 struct timespec *mtime);

/*
 * Reading a manifest entry by entry, in the order build wrote them (version order), holding only
 * the piece of the file being parsed: what a listing of 10,000 migrations needs. open reads the
 * header: longest[0] and [1] are its "longest_version" and "longest_name" (bytes; 0 when the
 * manifest is from a strata that did not write them). next sets *ent (valid until the next call;
 * its sha256 is read only with STRATA_MANIFEST_SHA256, else NULL) and returns 1, or 0 at the end,
 * or < 0 (naming the file) when the manifest is unreadable.
 */
typedef struct strata_manifest_stream strata_manifest_stream;
/* what open reads of each entry, beyond its files: its sha256 */
#define STRATA_MANIFEST_SHA256 1u
/* only its file (entry->file; the others NULL), from the manifest's "files" list, which build
 * writes before the entries: a listing reads that and stops, a sixth of the file and one string
 * an entry. A manifest without the list (an older build) is read entry by entry. */
#define STRATA_MANIFEST_FILES 2u
int strata_manifest_stream_open(strata_manifest_stream **out, const char *dir, unsigned what,
                                size_t longest[2], strata_error *e);
int strata_manifest_stream_next(strata_manifest_stream *s, const strata_manifest_entry **ent,
                                strata_error *e);
/* Back to the first entry, reading the same file again; fails (changing nothing) when it was
 * replaced or written over since it was opened. */
int strata_manifest_stream_rewind(strata_manifest_stream *s, strata_error *e);
const char *strata_manifest_stream_path(const strata_manifest_stream *s);
void strata_manifest_stream_close(strata_manifest_stream *s);

/* Writes dir/manifest.json for catalog c (loaded from the files just written into dir). */
int strata_manifest_write(const struct strata_catalog *c, const char *dir, strata_error *e);
/* The same in two steps: stage writes it whole beside the old one (a temporary file, as
 * util/fs.h's atomic writer names it), commit puts it in place, discard removes it. */
int strata_manifest_stage(const struct strata_catalog *c, const char *dir, strata_error *e);
int strata_manifest_commit(const char *dir, strata_error *e);
void strata_manifest_discard(const char *dir);

/* The same written migration by migration: the header (what open writes before the list) is
 * made first, from every migration (header_add each, in any order), then each is added in
 * version order; close finishes the file beside the old one (commit puts it in place) and
 * frees the writer, abort removes it. */
typedef struct strata_manifest_header {
	size_t count;
	uint64_t digest; /* XOR of strata_history_row_hash over them */
	size_t longest_version, longest_name;
	/* when set, header_add appends each migration's file name and a NUL (in version order, as
	 * build walks them): the "files" list written before the entries */
	strata_buf *files;
} strata_manifest_header;
int strata_manifest_header_add(strata_manifest_header *h, const strata_migration *m);
/* Whether a and b sum the same migrations, and (where both keep them) of the same files. */
bool strata_manifest_header_same(const strata_manifest_header *a, const strata_manifest_header *b);
typedef struct strata_manifest_writer strata_manifest_writer;
int strata_manifest_writer_open(strata_manifest_writer **out, const char *dir,
                                const strata_manifest_header *h, strata_error *e);
int strata_manifest_writer_add(strata_manifest_writer *mw, const strata_migration *m,
                               strata_error *e);
int strata_manifest_writer_close(strata_manifest_writer *mw, strata_error *e);
void strata_manifest_writer_abort(strata_manifest_writer *mw);

/* Whether a is later than b. */
bool strata_timespec_after(const struct timespec *a, const struct timespec *b);

#endif
