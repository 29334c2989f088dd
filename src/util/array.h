/* array.h: arrays that grow by doubling, alone or several sharing one capacity. */
#ifndef STRATA_UTIL_ARRAY_H
#define STRATA_UTIL_ARRAY_H

#include <stddef.h>

/* Grows *p (room for *cap elements of size bytes) to hold need, doubling from 8; -1 when out of
 * memory, *p and *cap unchanged. */
int strata_array_grow(void **p, size_t *cap, size_t need, size_t size);
/* Grows the n arrays that share the capacity *cap (arrays[i] of elements of size[i] bytes) to
 * hold need each; -1 when out of memory, *cap unchanged (each array still holds that much). */
int strata_array_grow_together(size_t *cap, size_t need, void **const arrays[], const size_t size[],
                               size_t n);

#endif
