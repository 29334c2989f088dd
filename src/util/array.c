/* array.c: see array.h. */
#include "util/array.h"

#include <stdlib.h>

int strata_array_grow(void **p, size_t *cap, size_t need, size_t size)
{
	void *q;
	size_t n = *cap ? *cap : 8;
	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

int strata_array_grow_together(size_t *cap, size_t need, void **const arrays[], const size_t size[],
                               size_t n)
{
	size_t c = *cap;
	if (need <= *cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		c = *cap;
		if (strata_array_grow(arrays[i], &c, need, size[i]) < 0)
			return -1;
	}
	*cap = c;
	return 0;
}
