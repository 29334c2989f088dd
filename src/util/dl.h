/*
 * dl.h: a shared library loaded when first needed (dlopen) instead of linked, its functions
 * resolved into pointers: libpq (engine/pg/pq.h) and libpg_query (core/pgq.h).
 */
#ifndef STRATA_UTIL_DL_H
#define STRATA_UTIL_DL_H

#include <stddef.h>

/* A function to resolve: its name, and the pointer to set (the address of a function pointer,
 * written through as void *, as dlsym's manual does). */
typedef struct strata_dl_sym {
	const char *name;
	void **slot;
} strata_dl_sym;

/* Opens soname (never closed) and sets each slot; failure gets "" when every one was found,
 * else what went wrong (dlerror, or the first function missing, then `missing_note`). */
void strata_dl_load(const char *soname, const strata_dl_sym *syms, size_t n,
                    const char *missing_note, char *failure, size_t cap);

#endif
