/* sort.c: a heap sort in place (sort.h). */
#include "util/sort.h"

#include <stdlib.h>
#include <string.h>

static void swap(unsigned char *a, unsigned char *b, size_t size)
{
	unsigned char t[STRATA_SORT_MAX_SIZE];
	memcpy(t, a, size);
	memcpy(a, b, size);
	memcpy(b, t, size);
}

/* Moves element i down the max-heap of the first n elements to where it belongs. */
static void sift_down(unsigned char *p, size_t i, size_t n, size_t size,
                      int (*cmp)(const void *, const void *, void *), void *ud)
{
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp(p + child * size, p + (child + 1) * size, ud) < 0)
			child++;
		if (cmp(p + i * size, p + child * size, ud) >= 0)
			return;
		swap(p + i * size, p + child * size, size);
		i = child;
	}
}

/* After the root was swapped with the heap's last element: the new root taken down to a leaf
 * along the larger children, then up to where it belongs (Floyd's: about half the compares of
 * sift_down, as an element from the bottom mostly belongs near the bottom). */
static void sift_leaf(unsigned char *p, size_t n, size_t size,
                      int (*cmp)(const void *, const void *, void *), void *ud)
{
	size_t i = 0, child;
	while ((child = 2 * i + 1) < n) {
		if (child + 1 < n && cmp(p + child * size, p + (child + 1) * size, ud) < 0)
			child++;
		swap(p + i * size, p + child * size, size);
		i = child;
	}
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (cmp(p + parent * size, p + i * size, ud) >= 0)
			return;
		swap(p + parent * size, p + i * size, size);
		i = parent;
	}
}

void strata_sort_r(void *base, size_t n, size_t size,
                   int (*cmp)(const void *a, const void *b, void *ud), void *ud)
{
	unsigned char *p = base;
	if (size > STRATA_SORT_MAX_SIZE) {
		qsort_r(base, n, size, cmp, ud);
		return;
	}
	if (n < 2 || size == 0)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(p, i, n, size, cmp, ud);
	for (size_t end = n - 1; end > 0; end--) {
		swap(p, p + end * size, size);
		sift_leaf(p, end, size, cmp, ud);
	}
}
