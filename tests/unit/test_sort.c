/* test_sort.c: strata_sort_r, the sort in place (src/util/sort.c), orders as qsort_r does. */
#include "unit.h"

#include "util/sort.h"

/* records of `size` bytes (ud), in the order of their bytes */
static int cmp_bytes(const void *a, const void *b, void *ud)
{
	return memcmp(a, b, *(const size_t *)ud);
}

static int cmp_int_desc(const void *a, const void *b, void *ud)
{
	int x = *(const int *)a, y = *(const int *)b;
	(void)ud;
	return (y > x) - (y < x);
}

/* Random arrays of every size up to 300 and some larger, of records of 1 to 80 bytes (more
 * than STRATA_SORT_MAX_SIZE go to qsort_r), with many ties: the same bytes as qsort_r's. */
static void test_sort_as_qsort(void **state)
{
	static const size_t sizes[] = {1, 4, 12, 16, 33, 64, 65, 80};
	unsigned seed = 12345;
	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t size = sizes[s];
		for (size_t n = 0; n < 320; n += n < 40 ? 1 : 37) {
			unsigned char *a = malloc(n * size + 1), *b = malloc(n * size + 1);
			assert_non_null(a);
			assert_non_null(b);
			for (size_t i = 0; i < n * size; i++)
				a[i] = (unsigned char)(rand_r(&seed) % (i % size == 0 ? 5 : 256));
			memcpy(b, a, n * size);
			strata_sort_r(a, n, size, cmp_bytes, &size);
			qsort_r(b, n, size, cmp_bytes, &size);
			assert_memory_equal(a, b, n * size);
			free(a);
			free(b);
		}
	}
}

/* Already sorted, reversed, all equal; the comparison's ud is passed. */
static void test_sort_shapes(void **state)
{
	int a[1000];
	(void)state;
	for (int i = 0; i < 1000; i++)
		a[i] = i;
	strata_sort_r(a, 1000, sizeof(*a), cmp_int_desc, NULL);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(a[i], 999 - i);
	strata_sort_r(a, 1000, sizeof(*a), cmp_int_desc, NULL);
	assert_int_equal(a[0], 999);
	for (int i = 0; i < 1000; i++)
		a[i] = 7;
	strata_sort_r(a, 1000, sizeof(*a), cmp_int_desc, NULL);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(a[i], 7);
	strata_sort_r(NULL, 0, sizeof(*a), cmp_int_desc, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sort_as_qsort),
	    cmocka_unit_test(test_sort_shapes),
	};
	return cmocka_run_group_tests_name("sort", tests, NULL, NULL);
}
