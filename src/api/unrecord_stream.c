/*
 * unrecord_stream.c: what a revert with fake of the newest few reads, holding those few rows.
 * The full read takes the whole history with its dates: every row must be finished, the newest
 * `steps` by version are the ones unrecorded, and none other may have been recorded after the
 * earliest of them (core/plan.c's strata_plan_unrecord). Here the history is read row by row
 * twice, to find those rows and then to check the others' dates, and then only their
 * migrations and rows are read (validate_stream.c's api_source_pick), on which
 * strata_plan_unrecord makes the same plan. At any doubt nothing is kept, and the full read
 * says what is wrong.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/error.h"

/* more than this many steps: the full read */
#define MAX_STEPS 256

struct newest {
	size_t k;     /* how many: the steps */
	size_t n;     /* rows read */
	char **keys;  /* ring of the last k rows' "version\0name\0", oldest at n % k */
	char **dates; /* ... and their applied_at */
	char *first;  /* the earliest date among them (pass 2) */
	char *lowest; /* the lowest key among them (pass 2) */
	char *last;   /* the row before, to check the order */
	bool oom;
};

static char *key_of(const strata_applied *a)
{
	size_t lv = strlen(a->version), ln = strlen(a->name);
	char *k = malloc(lv + ln + 2);
	if (k) {
		memcpy(k, a->version, lv + 1);
		memcpy(k + lv + 1, a->name, ln + 1);
	}
	return k;
}

static int key_cmp(const char *k, const strata_applied *a)
{
	return strata_migration_key_cmp(k, k + strlen(k) + 1, a->version, a->name);
}

bool api_plain_date(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (!s || !*s)
		return true;
	if (strlen(s) != sizeof(shape) - 1 || strncmp(s, "0000", 4) == 0)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Pass 1: every row finished and in order; the last k kept. */
static int ring_row(void *ud, const strata_applied *a)
{
	struct newest *w = ud;
	size_t slot = w->n % w->k;
	char *key, *date;

	if (a->status != STRATA_APPLIED_OK || !api_plain_date(a->applied_at) ||
	    (w->last && key_cmp(w->last, a) >= 0))
		return API_DOUBT;
	if (!(key = key_of(a)) || !(date = strdup(a->applied_at ? a->applied_at : ""))) {
		free(key);
		w->oom = true;
		return API_DOUBT;
	}
	free(w->keys[slot]);
	free(w->dates[slot]);
	w->keys[slot] = key;
	w->dates[slot] = date;
	w->last = key;
	w->n++;
	return 0;
}

/* Pass 2: no row below the newest k recorded after the earliest of them. */
static int dates_row(void *ud, const strata_applied *a)
{
	struct newest *w = ud;
	if (!api_plain_date(a->applied_at))
		return API_DOUBT;
	if (key_cmp(w->lowest, a) <= 0)
		return 0; /* one of them */
	return w->first[0] && a->applied_at && strcmp(a->applied_at, w->first) > 0 ? API_DOUBT : 0;
}

/* Whether version is one of the newest k's. */
static bool among(void *ud, const char *version)
{
	const struct newest *w = ud;
	for (size_t i = 0; i < w->k; i++)
		if (w->keys[i] && strata_version_cmp(w->keys[i], version) == 0)
			return true;
	return false;
}

int api_unrecord_pick(api_session *s, size_t *migrations, strata_error *e)
{
	strata_conn *c = s->db->conn;
	struct newest w = {.k = s->o.steps ? s->o.steps : 1};
	int error = 0;

	if (!s->o.fake || s->o.to || s->o.all || w.k > MAX_STEPS || s->src->ndirs != 1 ||
	    s->src->nmems || !c->engine->history_each || !strata_db_exists(s->db))
		return 0;
	w.keys = calloc(w.k, sizeof(*w.keys));
	w.dates = calloc(w.k, sizeof(*w.dates));
	if (!w.keys || !w.dates) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if (!s->o.dry_run && (error = api_session_lock(s, e)) < 0)
		goto done;
	error = c->engine->history_each(c, 0, ring_row, &w, e);
	if (error != 0 || w.n < w.k)
		goto doubt; /* unfinished, out of order, too few, or not read so */
	for (size_t i = 0; i < w.k; i++) {
		if (!w.first || strcmp(w.dates[i], w.first) < 0)
			w.first = w.dates[i];
		if (!w.lowest ||
		    strata_migration_key_cmp(w.keys[i], w.keys[i] + strlen(w.keys[i]) + 1, w.lowest,
		                             w.lowest + strlen(w.lowest) + 1) < 0)
			w.lowest = w.keys[i];
	}
	if ((error = c->engine->history_each(c, 0, dates_row, &w, e)) != 0)
		goto doubt;
	error = api_source_pick(s, among, &w, false, migrations, e);
	goto done;
doubt:
	/* a real error (the connection) is the full read's too; a doubt or a history it cannot
	 * read so sends it there */
	if (w.oom)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	else if (error > 0 || error == API_DOUBT)
		error = 0;
done:
	for (size_t i = 0; w.keys && i < w.k; i++) {
		free(w.keys[i]);
		free(w.dates[i]);
	}
	free(w.keys);
	free(w.dates);
	return error;
}
