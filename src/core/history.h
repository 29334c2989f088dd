/* history.h: what the database says was applied (the strata_migrations table, read once). */
#ifndef STRATA_CORE_HISTORY_H
#define STRATA_CORE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strata.h"

#define STRATA_HISTORY_TABLE "strata_migrations"

typedef enum {
	STRATA_APPLIED_OK = 0,
	STRATA_APPLIED_RUNNING, /* a transaction:false migration started and did not finish */
	STRATA_APPLIED_FAILED,  /* a transaction:false migration stopped at a failing statement */
} strata_applied_status;

typedef struct strata_applied {
	char *version, *name, *checksum;
	char *applied_at; /* ISO 8601, UTC */
	double duration_ms;
	strata_applied_status status;
	int progress;      /* statements done, for a transaction:false migration */
	bool out_of_order; /* applied after a newer migration (--allow-out-of-order) */
	bool has_row_hash; /* the row's stored strata_history_row_hash (STRATA_HISTORY_ROW_HASH) */
	uint64_t row_hash;
	/* its file's edit was accepted (strata_accept): the checksum the row had before, and when
	 * (ISO 8601, UTC); both NULL when it never was, or when they were not read */
	char *previous_checksum, *accepted_at;
	/* read with STRATA_HISTORY_APPLIED_ORDER: 1 for the first applied, n for the most recent
	 * (applied_at order, ties in the order they were applied); 0 when not read */
	uint64_t applied_rank;
	/* read row by row (the engine's history_each), the order the engine ranks them in: on
	 * PostgreSQL applied_at in microseconds (has_applied_us; of two equal times, the higher
	 * version is the later), on SQLite applied_at's text and then the row's insertion order
	 * (applied_seq, its rowid, above 0; 0 when applied_at is not text, which SQLite orders
	 * after all text) */
	bool has_applied_us;
	int64_t applied_us;
	int64_t applied_seq;
} strata_applied;

typedef struct strata_history {
	strata_applied *items;
	size_t n, cap;
} strata_history;

/* Copies the strings; the new entry is STRATA_APPLIED_OK, progress 0, in order. */
int strata_history_add(strata_history *h, const char *version, const char *name,
                       const char *checksum, const char *applied_at, double duration_ms,
                       strata_error *e);
/* Sets a's previous_checksum and accepted_at (copied; NULL or "" for none). */
int strata_applied_set_accepted(strata_applied *a, const char *previous_checksum,
                                const char *accepted_at, strata_error *e);
/* Orders by version then name; strata_history_find needs it. */
void strata_history_sort(strata_history *h);
const strata_applied *strata_history_find(const strata_history *h, const char *version,
                                          const char *name);
/* The first migration left running or failed (transaction:false), NULL when none. */
const strata_applied *strata_history_unfinished(const strata_history *h);
/* "applied", "running", "failed" and back; -1 for an unknown word. */
const char *strata_applied_status_name(strata_applied_status s);
int strata_applied_status_parse(const char *word);
void strata_history_free(strata_history *h);

/*
 * The history's summary: how many rows, how many are left running or failed, and a digest, the
 * XOR over every row of strata_history_row_hash. A database that can aggregate it cheaply
 * (PostgreSQL: from the row_hash strata stores with each row, see the backend's
 * history_summary) lets a run with nothing to do compare it with the build manifest's
 * (core/manifest.h) instead of reading every row.
 */
typedef struct strata_history_summary {
	uint64_t rows, unfinished, digest;
	bool no_table; /* history_summary: there is no history table yet (and so no row) */
	bool stale;    /* history_summary: aggregated, the engine's kept summary not up to date
	                  (history_summary_keep) */
} strata_history_summary;

/* ms since 1970-01-01 UTC as the history shows times: ISO 8601 UTC with milliseconds,
 * "2026-11-30T07:39:51.123Z". out has room for 32 bytes. */
void strata_history_time(char *out, int64_t ms);

/* The first 8 bytes, big-endian, of SHA-256 over "version<TAB>name<TAB>checksum". */
int strata_history_row_hash(uint64_t *out, const char *version, const char *name,
                            const char *checksum);

#endif
