/* schema_digest.c: two schemas compared holding the digests of one and the differences (see
 * schema.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "util/error.h"
#include "util/sha256.h"

#define HALF 16 /* bytes of SHA-256 kept: a collision needs 2^64 objects */

struct digest {
	unsigned char key[HALF];  /* kind, schema, name */
	unsigned char body[HALF]; /* sql, detail */
};

struct entry {
	struct digest d;
	uint32_t index; /* the order pass 1 read it in */
};

struct strata_schema_digests {
	struct entry *items;  /* want's objects: read order, then by key and body (sorted) */
	uint32_t *pos;        /* by index: where the object is in items, once sorted */
	unsigned char *seen;  /* by position in items: matched in pass 2 */
	size_t n, cap, again; /* again: objects read by pass 3 */
	size_t unmatched;
	bool sorted, mismatch;
	strata_schema have, want;
};

/* SHA-256 of the strings (NULL as ""), each ended by a NUL, cut to HALF bytes. */
static int hash(unsigned char out[HALF], const char *const *parts, size_t n)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	int ok = SHA256_Init(&ctx);
	for (size_t i = 0; i < n && ok; i++) {
		const char *p = parts[i] ? parts[i] : "";
		ok = SHA256_Update(&ctx, p, strlen(p) + 1);
	}
	if (!ok || !SHA256_Final(md, &ctx))
		return -1;
	memcpy(out, md, HALF);
	return 0;
}

static int digest_of(struct digest *d, const strata_schema_object *o, strata_error *e)
{
	const char *key[] = {o->kind, o->schema, o->name}, *body[] = {o->sql, o->detail};
	if (hash(d->key, key, 3) < 0 || hash(d->body, body, 2) < 0)
		return strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
	return 0;
}

static int cmp_digest(const struct digest *a, const struct digest *b)
{
	int c = memcmp(a->key, b->key, HALF);
	return c ? c : memcmp(a->body, b->body, HALF);
}

static int cmp_entry(const void *a, const void *b)
{
	return cmp_digest(&((const struct entry *)a)->d, &((const struct entry *)b)->d);
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
	if (d->n == UINT32_MAX)
		return strata_error_set(e, STRATA_ERROR, "too many objects in the schema");
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct entry *p = realloc(d->items, cap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		d->items = p;
		d->cap = cap;
	}
	if (digest_of(&d->items[d->n].d, o, e) < 0)
		return STRATA_ERROR;
	d->items[d->n].index = (uint32_t)d->n;
	d->n++;
	return 0;
}

/* After pass 1: the digests sorted, none seen. */
static int sort(strata_schema_digests *d, strata_error *e)
{
	d->sorted = true;
	d->pos = malloc((d->n ? d->n : 1) * sizeof(*d->pos));
	d->seen = calloc(d->n ? d->n : 1, 1);
	if (!d->pos || !d->seen)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (d->n)
		qsort(d->items, d->n, sizeof(*d->items), cmp_entry);
	for (size_t i = 0; i < d->n; i++)
		d->pos[d->items[i].index] = (uint32_t)i;
	d->unmatched = d->n;
	return 0;
}

/* The first position in items whose digest is not below k. */
static size_t lower_bound(const strata_schema_digests *d, const struct digest *k)
{
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_digest(&d->items[mid].d, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int strata_schema_digest_have(void *ud, const strata_schema_object *o, strata_error *e)
{
	strata_schema_digests *d = ud;
	struct digest k;

	if (!d->sorted && sort(d, e) < 0)
		return STRATA_ERROR;
	if (digest_of(&k, o, e) < 0)
		return STRATA_ERROR;
	/* an unmatched twin in want: the same object, nothing to say */
	for (size_t i = lower_bound(d, &k); i < d->n && cmp_digest(&d->items[i].d, &k) == 0; i++) {
		if (!d->seen[i]) {
			d->seen[i] = 1;
			d->unmatched--;
			return 0;
		}
	}
	return strata_schema_add(&d->have, o->kind, o->schema, o->name, o->sql, o->detail, e);
}

int strata_schema_digest_again(void *ud, const strata_schema_object *o, strata_error *e)
{
	strata_schema_digests *d = ud;
	struct digest k;
	size_t i = d->again++;

	if (!d->sorted && sort(d, e) < 0)
		return STRATA_ERROR;
	if (digest_of(&k, o, e) < 0)
		return STRATA_ERROR;
	if (i >= d->n || cmp_digest(&d->items[d->pos[i]].d, &k) != 0) {
		d->mismatch = true;
		return 0;
	}
	if (d->seen[d->pos[i]])
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
	free(d->pos);
	free(d->seen);
	d->items = NULL;
	d->pos = NULL;
	d->seen = NULL;
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
