/* catalog.h: every migration found in one or more directories, in version order. */
#ifndef STRATA_CORE_CATALOG_H
#define STRATA_CORE_CATALOG_H

#include "core/migration.h"

typedef struct strata_catalog {
	strata_migration **items; /* owned */
	size_t n;
} strata_catalog;

/* Loads every migration below the given directories (not recursive) and merges them into one
 * ordered list. The same migration (version and name) twice is an error naming both files. */
int strata_catalog_load(strata_catalog *out, const char *const *dirs, size_t ndirs,
                        strata_error *e);
/* Binary search; NULL when absent. */
strata_migration *strata_catalog_find(const strata_catalog *c, const char *version,
                                      const char *name);
void strata_catalog_free(strata_catalog *c);

#endif
