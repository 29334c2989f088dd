/*
 * api.h: what the public functions of strata.h share (src/api/ only): the database and source
 * handles, and the session a use case runs in (catalog, history, lock, events).
 *
 * The use cases are written once, here: the strata command and every program that embeds the
 * library run the same checks, locks and plans. They reach the database only through the
 * engine interface (core/engine.h) and name no engine.
 */
#ifndef STRATA_API_API_H
#define STRATA_API_API_H

#include <stdbool.h>

#include "core/catalog.h"
#include "core/engine.h"
#include "core/history.h"
#include "core/plan.h"
#include "strata.h"

struct strata_db {
	strata_dburl url;
	strata_conn *conn;
	strata_db_options opts;
	/* a scratch database a use case works in for this one (schema check, migrations test):
	 * interrupting this one interrupts it too; set and cleared on the caller's thread */
	strata_db *volatile scratch;
};

/* One directory of a source; src_dir is set for a build (strata_source_add_build). */
struct api_dir {
	char *dir;
	char *src_dir;
};

/* A migration given in memory: the caller's definition, its strings copied (and owned here),
 * and the path messages name it by ("label:version-name"). */
struct api_mem {
	strata_migration_def def;
	char *path;
};

struct strata_source {
	struct api_dir *dirs;
	size_t ndirs;
	struct api_mem *mems;
	size_t nmems;
};

/* Events: the db's callback, when it has one. */
void api_emit(const strata_db *db, const strata_event *ev);
void api_phase(const strata_db *db, const char *phase, double ms, size_t count, unsigned flags);
void api_notice(const strata_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A notice flagged STRATA_EVENT_WARNING: shown even without progress. */
void api_warning(const strata_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The options, NULL meaning the defaults; STRATA_EINVALID for a version this library does not
 * know or a value out of range. */
int api_run_options(strata_run_options *out, const strata_run_options *o, const char *fn,
                    strata_error *e);

/* How the catalog of a source is read. */
enum api_read {
	API_READ_BUILT, /* from a build manifest where there is one: only what runs is read */
	API_READ_ALL    /* every file (validate, repair, ignore_checksums) */
};

/* The source's migrations in one ordered catalog (directories, then those given in memory). */
int api_catalog(strata_catalog *out, const strata_source *src, enum api_read mode, strata_error *e);
/* The directories of src, as the catalog functions take them (borrowed strings; free the array
 * with free). */
const char **api_dir_list(const strata_source *src);
/* The build of src when it is its only part: dist_dir and src_dir, else false. */
bool api_lone_build(const strata_source *src, const char **dist_dir, const char **src_dir);
/* Whether every part of src is a build, or a directory with a build's manifest (a build output
 * given as a directory), whose manifest can answer for a run without being read
 * (strata_build_summary): *out is their summaries combined, what the history's is when every
 * migration of every build is applied. With `walk`, src may also be one directory of sources
 * without a manifest (not a build's output), whose summary is made by reading, parsing and
 * hashing every migration in it, one at a time (catalog.h's walk): the checks a full read
 * makes, without holding the migrations. false when src is neither, or the walk fails (the
 * full read then says why). */
bool api_source_summary(const strata_source *src, bool walk, strata_history_summary *out);
/* The hint for a build output that is not there: build it, or read its sources. */
void api_hint_build(strata_error *e, const char *dist_dir, const char *src_dir);
/* When e names a built file whose source (in a build's src_dir) is the same, names the source
 * instead: that is the file one edits. */
void api_map_to_src(const strata_source *src, strata_error *e);

/* A session: what one use case holds while it runs. */
typedef struct api_session {
	strata_db *db;
	const strata_source *src;
	strata_run_options o;
	strata_catalog cat;
	bool cat_read;
	strata_history hist;
	bool locked;
	bool outer_lock; /* the caller holds the lock (a seed's migrations): neither take nor free
	                    it */
	/* a run that the build's summary may answer: the catalog is read only when it does not */
	bool by_summary;
	strata_history_summary built;
	/* the history's summary, as the last check of it found it (applied_found) */
	strata_history_summary applied;
	bool applied_found;
	double applied_ms; /* how long that check took */
	/* a run of the migrations after a prefix of one build, read batch by batch (run.c) */
	strata_catalog_batches *batches;
	bool applied_order; /* read each history row's applied_rank (revert) */
} api_session;

/* fn: the public function, for errors in the options. */
int api_session_open(api_session *s, strata_db *db, const strata_source *src,
                     const strata_run_options *o, const char *fn, strata_error *e);
/* What a use case does first: db and src checked (and db not interrupted), the session opened,
 * and a zeroed report of `size` bytes in *report. On failure nothing is left open. */
int api_begin(api_session *s, strata_db *db, const strata_source *src, const strata_run_options *o,
              size_t size, void **report, const char *fn, strata_error *e);
void api_session_close(api_session *s);
/* What the reads of validate_stream.c, unrecord_stream.c and revert_batches.c return, and their
 * history callbacks return to stop the history, at the first doubt: no error, the full read
 * decides. */
#define API_DOUBT (-1000)
/* validate_stream.c: strata_validate's proof that nothing is wrong, for one directory, holding
 * one migration and one history row at a time: 1 (the counts set) when proven, 0 when not (or
 * on an error, which the full read then meets and reports). */
int api_validate_streamed(api_session *s, size_t *migrations, size_t *pending, strata_error *e);
/* strata_schema_check's common case (validate_stream.c): once api_validate_streamed has proved
 * the source and the history, each applied migration handed to fn in version order, one at a
 * time, read again from the source (*applied: how many). 0, or < 0 on error: fn's, or the
 * source or the history changed since proved. */
int api_source_each_applied(api_session *s,
                            int (*fn)(void *ud, const strata_migration *m, strata_error *e),
                            void *ud, size_t *applied, strata_error *e);
/* strata_accept's reads, the same way: the source proven clean (its files against the build
 * manifest, its sources older than it), and of it and of the history only the migrations and
 * the rows whose version `keep` says, into s->cat and s->hist, sorted as the full reads sort
 * them; the history under the lock when `lock`. 1 when read so, 0 when not (nothing read: the
 * full reads say what is wrong), < 0 on an error. */
int api_source_pick(api_session *s, bool (*keep)(void *ud, const char *version), void *ud,
                    bool lock, size_t *migrations, strata_error *e);
/* unrecord_stream.c: what a revert with fake of the newest `steps` (not to a version, not all)
 * reads of one directory, holding a few rows: the history twice row by row (that every row is
 * finished, which are the newest by version, that none other was recorded after them), then
 * their migrations and rows (api_source_pick). 1 when read so (*migrations: the source's
 * count), 0 when not (the full reads say what is wrong), < 0 on an error. Under the lock
 * unless a dry run. */
int api_unrecord_pick(api_session *s, size_t *migrations, strata_error *e);
/* Whether a history row's date (as the engine's row by row read gives it) reads the same as in
 * the full read, whose strings the checks compare: "YYYY-MM-DDTHH:MM:SS.mmmZ" of a year from 1
 * to 9999, or none. The row by row read formats other years otherwise than PostgreSQL's
 * to_char (10000, 1 BC). */
bool api_plain_date(const char *s);
int api_session_read(api_session *s, enum api_read mode, strata_error *e);
/* Takes the migration lock. */
int api_session_lock(api_session *s, strata_error *e);
/* Reads the history with flags (STRATA_HISTORY_*). */
int api_session_history(api_session *s, unsigned flags, strata_error *e);
/* The checks before a run (core/integrity.h), the first problem in e (all of them to `report`
 * with `all`); the history is read again in full before reporting, so that messages say when a
 * migration was applied. Returns the number of problems. */
int api_session_verify(api_session *s, const strata_plan *plan, bool all,
                       void (*report)(void *ud, const strata_error *e), void *ud, strata_error *e);

/* strata_run, under a lock the caller holds already when `locked` (a seed's migrations). */
int api_run(strata_db *db, strata_source *src, const strata_run_options *o, bool locked,
            strata_run_report **out, strata_error *e);

/* Arguments a caller got wrong: STRATA_EINVALID naming the function. */
int api_bad_arg(strata_error *e, const char *fn, const char *what);

#endif
