#include "core/history.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/migration.h"
#include "util/error.h"
#include "util/sha256.h"

int strata_history_add(strata_history *h, const char *version, const char *name,
                       const char *checksum, const char *applied_at, double duration_ms,
                       strata_error *e)
{
	strata_applied *a;
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		strata_applied *p = realloc(h->items, ncap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		h->items = p;
		h->cap = ncap;
	}
	a = &h->items[h->n];
	memset(a, 0, sizeof(*a));
	a->version = strdup(version);
	a->name = strdup(name);
	a->checksum = strdup(checksum ? checksum : "");
	a->applied_at = strdup(applied_at ? applied_at : "");
	a->duration_ms = duration_ms;
	if (!a->version || !a->name || !a->checksum || !a->applied_at) {
		free(a->version);
		free(a->name);
		free(a->checksum);
		free(a->applied_at);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	h->n++;
	return 0;
}

int strata_applied_set_accepted(strata_applied *a, const char *previous_checksum,
                                const char *accepted_at, strata_error *e)
{
	if (!previous_checksum || !previous_checksum[0])
		return 0;
	a->previous_checksum = strdup(previous_checksum);
	a->accepted_at = strdup(accepted_at ? accepted_at : "");
	if (!a->previous_checksum || !a->accepted_at)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

static int cmp_applied(const void *pa, const void *pb)
{
	const strata_applied *a = pa, *b = pb;
	return strata_migration_key_cmp(a->version, a->name, b->version, b->name);
}

void strata_history_sort(strata_history *h)
{
	if (h->n > 1)
		qsort(h->items, h->n, sizeof(*h->items), cmp_applied);
}

const strata_applied *strata_history_find(const strata_history *h, const char *version,
                                          const char *name)
{
	strata_applied key = {.version = (char *)version, .name = (char *)name};
	if (!h->n)
		return NULL;
	return bsearch(&key, h->items, h->n, sizeof(*h->items), cmp_applied);
}

const strata_applied *strata_history_unfinished(const strata_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->items[i].status != STRATA_APPLIED_OK)
			return &h->items[i];
	return NULL;
}

static const char *const status_names[] = {"applied", "running", "failed"};

const char *strata_applied_status_name(strata_applied_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "unknown";
}

int strata_applied_status_parse(const char *word)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(word, status_names[i]) == 0)
			return i;
	return -1;
}

void strata_history_free(strata_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->items[i].version);
		free(h->items[i].name);
		free(h->items[i].checksum);
		free(h->items[i].applied_at);
		free(h->items[i].previous_checksum);
		free(h->items[i].accepted_at);
	}
	free(h->items);
	memset(h, 0, sizeof(*h));
}

int strata_history_row_hash(uint64_t *out, const char *version, const char *name,
                            const char *checksum)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	/* the SHA-256 of "version\tname\tchecksum", given in its parts (formatting it cost twice
	 * the hash); not SHA256(), which OpenSSL 3 makes an EVP call (util/sha256.h) */
	if (!SHA256_Init(&ctx) || !SHA256_Update(&ctx, version, strlen(version)) ||
	    !SHA256_Update(&ctx, "\t", 1) || !SHA256_Update(&ctx, name, strlen(name)) ||
	    !SHA256_Update(&ctx, "\t", 1) || !SHA256_Update(&ctx, checksum, strlen(checksum)) ||
	    !SHA256_Final(md, &ctx))
		return STRATA_ERROR;
	*out = 0;
	for (int i = 0; i < 8; i++)
		*out = *out << 8 | md[i];
	return 0;
}

/* Writes v as n digits (zero-padded) at p; returns the end. */
static char *digits(char *p, long v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

void strata_history_time(char *out, int64_t ms)
{
	/* the proleptic Gregorian calendar from a day count, in 400-year eras of 146,097 days
	 * (March-based years, so the leap day ends a year); a listing formats 10,000 of these */
	int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	int64_t sod = sec - days * 86400, z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	char *p = out;

	if (y < 0 || y > 9999) {
		snprintf(out, 32, "%" PRId64, ms);
		return;
	}
	p = digits(p, (long)y, 4);
	*p++ = '-';
	p = digits(p, (long)m, 2);
	*p++ = '-';
	p = digits(p, (long)d, 2);
	*p++ = 'T';
	p = digits(p, (long)(sod / 3600), 2);
	*p++ = ':';
	p = digits(p, (long)(sod / 60 % 60), 2);
	*p++ = ':';
	p = digits(p, (long)(sod % 60), 2);
	*p++ = '.';
	p = digits(p, (long)(ms - sec * 1000), 3);
	*p++ = 'Z';
	*p = '\0';
}
