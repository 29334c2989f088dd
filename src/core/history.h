/* history.h: what the database says was applied (the strata_migrations table, read once). */
#ifndef STRATA_CORE_HISTORY_H
#define STRATA_CORE_HISTORY_H

#include <stddef.h>

#include "strata.h"

#define STRATA_HISTORY_TABLE "strata_migrations"

typedef struct strata_applied {
	char *version, *name, *checksum;
	char *applied_at; /* ISO 8601, UTC */
	double duration_ms;
} strata_applied;

typedef struct strata_history {
	strata_applied *items;
	size_t n, cap;
} strata_history;

/* Copies the strings. */
int strata_history_add(strata_history *h, const char *version, const char *name,
                       const char *checksum, const char *applied_at, double duration_ms,
                       strata_error *e);
/* Orders by version then name; strata_history_find needs it. */
void strata_history_sort(strata_history *h);
const strata_applied *strata_history_find(const strata_history *h, const char *version,
                                          const char *name);
void strata_history_free(strata_history *h);

#endif
