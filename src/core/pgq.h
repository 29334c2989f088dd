/*
 * pgq.h: libpg_query, loaded the first time a PostgreSQL statement is split or parsed
 * (strata_pgq_load) instead of when strata starts: a command that reads no SQL of PostgreSQL's
 * (nothing pending, show, a run on SQLite, --version) does not map and relocate it, about
 * 0.7 MiB of memory. As pq.h does for libpq: each libpg_query function strata calls is a
 * pointer in strata_pgq, and the macros below make the calls go through them (include this
 * header instead of <pg_query.h>).
 */
#ifndef STRATA_CORE_PGQ_H
#define STRATA_CORE_PGQ_H

#include <pg_query.h>

#include "strata.h"

/* every libpg_query function strata calls */
#define STRATA_PGQ_FUNCTIONS(X)                                                                    \
	X(pg_query_parse)                                                                          \
	X(pg_query_free_parse_result)                                                              \
	X(pg_query_split_with_scanner)                                                             \
	X(pg_query_free_split_result)

struct strata_pgq {
#define STRATA_PGQ_POINTER(f) __typeof__(f) *f;
	STRATA_PGQ_FUNCTIONS(STRATA_PGQ_POINTER)
#undef STRATA_PGQ_POINTER
};
extern struct strata_pgq strata_pgq;

/* Loads libpg_query once, from any thread; 0, or an error saying what to install. */
int strata_pgq_load(strata_error *e);

#ifndef STRATA_PGQ_NO_REDIRECT
#define pg_query_parse (strata_pgq.pg_query_parse)
#define pg_query_free_parse_result (strata_pgq.pg_query_free_parse_result)
#define pg_query_split_with_scanner (strata_pgq.pg_query_split_with_scanner)
#define pg_query_free_split_result (strata_pgq.pg_query_free_split_result)
#endif

#endif
