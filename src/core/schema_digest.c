/* schema_digest.c: two schemas compared holding the digests of one and the differences (see
 * schema.h). */
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/sort.h"

#define DIGEST 16 /* bytes of SHA-256 kept: a collision needs 2^64 objects */

/* an object of want: the digest of its kind, schema, name, sql and detail */
struct entry {
	unsigned char d[DIGEST];
};

/* the state of an object of want, by its position in the sorted items */
enum {
	MATCHED = 1, /* pass 2: an object of have is it */
	AGAIN = 2    /* pass 3: read again */
};

struct strata_schema_digests {
	struct entry *items;  /* want's objects: read order, then sorted */
	unsigned char *state; /* by position in items: MATCHED, AGAIN */
	size_t n, cap, again; /* again: objects read by pass 3 */
	size_t unmatched;
	bool sorted, mismatch;
	strata_schema have, want;
};

/* SHA-256 of the object's strings (NULL as ""), each ended by a NUL, cut to DIGEST bytes. */
static int digest_of(struct entry *out, const strata_schema_object *o, strata_error *e)
{
	const char *parts[] = {o->kind, o->schema, o->name, o->sql, o->detail};
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	int ok = SHA256_Init(&ctx);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && ok; i++) {
		const char *p = parts[i] ? parts[i] : "";
		ok = SHA256_Update(&ctx, p, strlen(p) + 1);
	}
	if (!ok || !SHA256_Final(md, &ctx))
		return strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
	memcpy(out->d, md, DIGEST);
	return 0;
}

static int cmp_entry(const void *a, const void *b, void *ud)
{
	(void)ud;
	return memcmp(((const struct entry *)a)->d, ((const struct entry *)b)->d, DIGEST);
}

strata_schema_digests *strata_schema_digests_new(void)
{
	return calloc(1, sizeof(strata_schema_digests));
}

void strata_schema_digests_free(strata_schema_digests *d)
{
	if (!d)
		return;
	strata_schema_digests_trim(d);
	strata_schema_free(&d->have);
	strata_schema_free(&d->want);
	free(d);
}

int strata_schema_digest_want(void *ud, const strata_schema_object *o, strata_error *e)
{
	strata_schema_digests *d = ud;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct entry *p = realloc(d->items, cap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		d->items = p;
		d->cap = cap;
	}
	if (digest_of(&d->items[d->n], o, e) < 0)
		return STRATA_ERROR;
	d->n++;
	return 0;
}

/* After pass 1: the digests sorted (in place: no copy of them at the peak), none matched. */
static int sort(strata_schema_digests *d, strata_error *e)
{
	d->sorted = true;
	if (!(d->state = calloc(d->n ? d->n : 1, 1)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	strata_sort_r(d->items, d->n, sizeof(*d->items), cmp_entry, NULL);
	d->unmatched = d->n;
	return 0;
}

/* The first position in items whose digest is k's, with none of the state bits `skip`; n if
 * there is none. */
static size_t find(const strata_schema_digests *d, const struct entry *k, unsigned char skip)
{
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_entry(&d->items[mid], k, NULL) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < d->n && cmp_entry(&d->items[lo], k, NULL) == 0; lo++)
		if (!(d->state[lo] & skip))
			return lo;
	return d->n;
}

int strata_schema_digest_have(void *ud, const strata_schema_object *o, strata_error *e)
{
	strata_schema_digests *d = ud;
	struct entry k;
	size_t i;

	if (!d->sorted && sort(d, e) < 0)
		return STRATA_ERROR;
	if (digest_of(&k, o, e) < 0)
		return STRATA_ERROR;
	/* an unmatched twin in want: the same object, nothing to say */
	if ((i = find(d, &k, MATCHED)) < d->n) {
		d->state[i] |= MATCHED;
		d->unmatched--;
		return 0;
	}
	return strata_schema_add(&d->have, o->kind, o->schema, o->name, o->sql, o->detail, e);
}

/* Pass 3 checks that it reads what pass 1 read, as a whole: each object one of pass 1's not
 * read again yet (twins are the same bytes: which of them is which does not matter), and as
 * many (strata_schema_digests_complete). */
int strata_schema_digest_again(void *ud, const strata_schema_object *o, strata_error *e)
{
	strata_schema_digests *d = ud;
	struct entry k;
	size_t i;

	d->again++;
	if (!d->sorted && sort(d, e) < 0)
		return STRATA_ERROR;
	if (digest_of(&k, o, e) < 0)
		return STRATA_ERROR;
	if ((i = find(d, &k, AGAIN)) == d->n) {
		d->mismatch = true;
		return 0;
	}
	d->state[i] |= AGAIN;
	if (d->state[i] & MATCHED)
		return 0;
	return strata_schema_add(&d->want, o->kind, o->schema, o->name, o->sql, o->detail, e);
}

bool strata_schema_digests_unmatched(const strata_schema_digests *d)
{
	return d->sorted ? d->unmatched > 0 : d->n > 0;
}

bool strata_schema_digests_complete(const strata_schema_digests *d)
{
	return !d->mismatch && (!strata_schema_digests_unmatched(d) || d->again == d->n);
}

void strata_schema_digests_trim(strata_schema_digests *d)
{
	free(d->items);
	free(d->state);
	d->items = NULL;
	d->state = NULL;
	d->cap = 0;
}

strata_schema *strata_schema_digests_have(strata_schema_digests *d)
{
	return &d->have;
}

strata_schema *strata_schema_digests_want(strata_schema_digests *d)
{
	return &d->want;
}
