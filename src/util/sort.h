/* sort.h: an array sorted in place, allocating nothing. */
#ifndef STRATA_UTIL_SORT_H
#define STRATA_UTIL_SORT_H

#include <stddef.h>

/*
 * Sorts the n elements of `size` bytes at base by cmp (given ud), as qsort_r does, but in
 * place: glibc's qsort_r (a merge sort) allocates a copy of the array, or of pointers to its
 * elements, which at 10,000 elements is 120-320 KB more at the peak of the command sorting.
 * A heap sort: O(n log n) compares, not stable (the callers' orders have no ties, or ties
 * that are the same bytes). Elements of more than STRATA_SORT_MAX_SIZE bytes go to qsort_r.
 */
#define STRATA_SORT_MAX_SIZE 64
void strata_sort_r(void *base, size_t n, size_t size,
                   int (*cmp)(const void *a, const void *b, void *ud), void *ud);

#endif
