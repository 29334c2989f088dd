/* revert_test.c: strata_test_migrations (reversibility): each migration's up, down and up again
 * on a scratch database, the schema before its up against the one after its down. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/schema_internal.h"
#include "core/runner.h"
#include "core/schema.h"
#include "util/clock.h"
#include "util/error.h"

/* ---- reversibility ------------------------------------------------------------------------ */

/* What one migration's test holds while it runs, kept after only when the report points into
 * it: the error of a step that failed, the difference a down left. */
struct test_entry {
	strata_test_entry pub;
	strata_error error;
	/* the schema before the up as digests, and then what differs (a test in one transaction,
	 * rolled back: the database is read again as it was); else before and after whole */
	strata_schema_digests *dg;
	strata_schema before, after;
	strata_schema_changes changes;
	strata_schema_difference *items;
};

struct test_report {
	strata_test_report pub;
	strata_catalog cat;
	strata_test_entry *pubs;    /* one per migration */
	struct test_entry **failed; /* one per migration: what a failure's entry points into */
};

static void test_entry_free(struct test_entry *t)
{
	if (!t)
		return;
	free(t->items);
	strata_schema_changes_free(&t->changes);
	strata_schema_digests_free(t->dg);
	strata_schema_free(&t->before);
	strata_schema_free(&t->after);
	free(t);
}

void strata_test_report_free(strata_test_report *pub)
{
	struct test_report *r = (struct test_report *)pub;
	if (!r)
		return;
	for (size_t i = 0; r->failed && i < r->cat.n; i++)
		test_entry_free(r->failed[i]);
	free(r->failed);
	free(r->pubs);
	strata_catalog_free(&r->cat);
	free(r);
}

static bool has_down(const strata_migration *m)
{
	return m->down_path || !strata_section_is_empty(&m->down);
}

/* One step of m inside the transaction the caller began. */
static int tx_step(strata_conn *c, const strata_migration *m, strata_direction dir, strata_error *e)
{
	strata_step st = {.m = m, .dir = dir};
	strata_apply_opts ao = {
	    .in_transaction = true, .lock_timeout_ms = -1, .statement_timeout_ms = -1};
	strata_apply_result ar = {0, -1, -1};
	return c->engine->apply(c, &st, &ao, &ar, e);
}

/* Whether m's up and down can run in one transaction that is then rolled back: SQL, both
 * transactional, with no BEGIN or COMMIT of their own. */
static bool rollback_test(strata_conn *c, const strata_migration *m)
{
	strata_step st = {.m = m, .dir = STRATA_UP};
	strata_plan p = {.steps = &st, .n = 1};
	strata_run_opts ro = {.one_transaction = true};
	strata_run_result rr = {0};
	strata_error ignored = STRATA_ERROR_INIT;
	if (m->up.no_transaction || m->down.no_transaction || m->up.fn || m->down.fn)
		return false;
	if (strata_runner_precheck(c, &p, &ro, &rr, &ignored) < 0)
		return false;
	st.dir = STRATA_DOWN;
	return !has_down(m) || strata_runner_precheck(c, &p, &ro, &rr, &ignored) == 0;
}

/* Compares the schema now with the one before the up: NOT_RESTORED when they differ, with the
 * difference; with digests (t->dg), the difference comes from revert_diff. */
static int compare_after(struct scratch *sc, bool owners, struct test_entry *t, strata_error *e)
{
	int error;
	if (t->dg) {
		if ((error = api_schema_each(sc->db, owners, strata_schema_digest_have, t->dg, e)) <
		    0)
			return error;
		if (strata_schema_digests_unmatched(t->dg) || strata_schema_digests_have(t->dg)->n)
			t->pub.result = STRATA_TEST_NOT_RESTORED;
		return 0;
	}
	if ((error = api_schema_read(sc->db, owners, NULL, &t->after, e)) < 0 ||
	    (error = strata_schema_compare_revert(&t->after, &t->before, &t->changes, e)) < 0)
		return error;
	if (t->changes.n) {
		t->pub.result = STRATA_TEST_NOT_RESTORED;
		strata_schema_changes_public(&t->changes, &t->pub.diff, &t->items);
	}
	return 0;
}

/* After the rollback of a test that found a difference through digests: the objects of the
 * schema before the up that differ, read again now that the database is as it was, and the
 * difference. */
static int revert_diff(struct scratch *sc, bool owners, struct test_entry *t, strata_error *e)
{
	strata_schema_digests *d = t->dg;
	int error;

	if (t->pub.result != STRATA_TEST_NOT_RESTORED)
		return 0;
	if (strata_schema_digests_unmatched(d) &&
	    (error = api_schema_each(sc->db, owners, strata_schema_digest_again, d, e)) < 0)
		return error;
	if (!strata_schema_digests_complete(d))
		return strata_error_set(
		    e, STRATA_ERROR,
		    "the scratch database's schema after the rollback is not the "
		    "one before the up of %s-%s",
		    t->pub.version, t->pub.name);
	strata_schema_digests_trim(d);
	if ((error = strata_schema_compare_revert(
	         strata_schema_digests_have(d), strata_schema_digests_want(d), &t->changes, e)) < 0)
		return error;
	strata_schema_changes_public(&t->changes, &t->pub.diff, &t->items);
	return 0;
}

/* Up, down, compare, up again, all in one transaction rolled back after, so that a down that
 * leaves something behind does not spoil the migrations after it; then up for good. Returns 1
 * when the scratch database cannot go on (its up failed), < 0 on an error of the test itself. */
static int test_in_rollback(struct scratch *sc, const strata_migration *m, bool owners,
                            struct test_entry *t, strata_error *e)
{
	strata_conn *c = sc->db->conn;
	strata_apply_opts ao = {
	    .in_transaction = true, .lock_timeout_ms = -1, .statement_timeout_ms = -1};
	strata_test_entry *p = &t->pub;
	int error;

	if ((error = c->engine->begin(c, NULL, &ao, e)) < 0)
		return error;
	if (tx_step(c, m, STRATA_UP, &t->error) < 0) {
		c->engine->rollback(c);
		p->result = STRATA_TEST_UP_FAILED;
		return 1;
	}
	if (!has_down(m))
		p->result = STRATA_TEST_NO_DOWN;
	else if (tx_step(c, m, STRATA_DOWN, &t->error) < 0)
		p->result = STRATA_TEST_DOWN_FAILED;
	else if ((error = compare_after(sc, owners, t, e)) < 0) {
		c->engine->rollback(c);
		return error;
	} else if (tx_step(c, m, STRATA_UP, &t->error) < 0 && p->result == STRATA_TEST_OK)
		p->result = STRATA_TEST_REUP_FAILED;
	c->engine->rollback(c);
	if ((error = revert_diff(sc, owners, t, e)) < 0)
		return error;
	if (api_scratch_apply(sc, m, STRATA_UP, e) <
	    0) /* it ran in the transaction: it runs again */
		return error = e->code;
	return 0;
}

/* The same, step by step, for a migration that cannot run in one transaction
 * (transaction:false, a C step): a down that leaves something behind stops the test there. */
static int test_in_steps(struct scratch *sc, const strata_migration *m, bool owners,
                         struct test_entry *t, strata_error *e)
{
	strata_test_entry *p = &t->pub;
	int error;

	if (api_scratch_apply(sc, m, STRATA_UP, &t->error) < 0) {
		p->result = STRATA_TEST_UP_FAILED;
		return 1;
	}
	if (!has_down(m)) {
		p->result = STRATA_TEST_NO_DOWN;
		return 0;
	}
	if (api_scratch_apply(sc, m, STRATA_DOWN, &t->error) < 0) {
		p->result = STRATA_TEST_DOWN_FAILED; /* rolled back: it stays applied */
		return 0;
	}
	if ((error = compare_after(sc, owners, t, e)) < 0)
		return error;
	if (api_scratch_apply(sc, m, STRATA_UP, &t->error) < 0) {
		/* after a down that left something behind, that is the cause */
		if (p->result != STRATA_TEST_NOT_RESTORED)
			p->result = STRATA_TEST_REUP_FAILED;
		return 1;
	}
	return 0;
}

/* Dump, up, down, dump (the same as the first), up again: one migration's test, into *pub; what
 * the entry points into (the error, the difference) into *kept, else nothing kept. */
static int test_one(struct scratch *sc, const strata_migration *m, bool owners,
                    strata_test_entry *pub, struct test_entry **kept, strata_error *e)
{
	struct test_entry *t = calloc(1, sizeof(*t));
	double t0 = strata_now_ms();
	int error;

	if (!t)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	t->error = (strata_error)STRATA_ERROR_INIT;
	t->pub.version = m->version; /* for messages; the report sets them again */
	t->pub.name = m->name;
	if (!rollback_test(sc->db->conn, m)) {
		if ((error = api_schema_read(sc->db, owners, NULL, &t->before, e)) >= 0)
			error = test_in_steps(sc, m, owners, t, e);
	} else if (!(t->dg = strata_schema_digests_new())) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	} else if ((error = api_schema_each(sc->db, owners, strata_schema_digest_want, t->dg, e)) >=
	           0) {
		error = test_in_rollback(sc, m, owners, t, e);
	}
	if (error >= 0 && t->error.code == STRATA_EINTERRUPTED) /* not the migration's fault */
		error = strata_conn_interrupted(e);
	if (t->changes.n == 0) { /* a difference borrows from both: kept for the report */
		strata_schema_free(&t->before);
		strata_schema_free(&t->after);
		strata_schema_digests_free(t->dg);
		t->dg = NULL;
	}
	t->pub.ms = strata_now_ms() - t0;
	if (t->error.code || t->error.msg[0])
		t->pub.error = &t->error;
	*pub = t->pub;
	if (t->pub.error || t->changes.n)
		*kept = t;
	else
		test_entry_free(t);
	return error;
}

/* The migrations up to o->from applied untested, then each tested in turn. */
static int test_all(struct scratch *sc, const strata_schema_options *o, struct test_report *r,
                    strata_error *e)
{
	const strata_catalog *c = &r->cat;
	size_t i = 0;
	int error = 0;

	for (; o->from && i < c->n && strata_version_cmp(c->items[i]->version, o->from) <= 0; i++) {
		r->pubs[i].result = STRATA_TEST_UNTESTED;
		if ((error = api_scratch_apply(sc, c->items[i], STRATA_UP, e)) < 0) {
			strata_error_detail(e, "applying the migrations before %s failed", o->from);
			return error;
		}
	}
	for (; i < c->n; i++) {
		if (sc->db->conn->interrupted) /* strata_db_interrupt of the caller's database */
			return strata_conn_interrupted(e);
		if ((error = test_one(sc, c->items[i], o->owners, &r->pubs[i], &r->failed[i], e)) >
		    0)
			break; /* its up failed: nothing after it can run */
		if (error < 0)
			return error;
	}
	for (i++; i < c->n; i++) /* after a failed up: not tested */
		r->pubs[i].result = STRATA_TEST_UNTESTED;
	return 0;
}

static void test_summary(struct test_report *r)
{
	for (size_t i = 0; i < r->cat.n; i++) {
		strata_test_entry *p = &r->pubs[i];
		const strata_migration *m = r->cat.items[i];
		p->version = m->version;
		p->name = m->name;
		p->file = m->path;
		if (p->result == STRATA_TEST_OK)
			r->pub.ok++;
		else if (p->result == STRATA_TEST_UNTESTED)
			r->pub.untested++;
		else
			r->pub.failed++;
	}
	r->pub.entries = r->pubs;
	r->pub.n = r->cat.n;
}

int strata_test_migrations(strata_db *db, strata_source *src, const strata_schema_options *o,
                           strata_test_report **out, strata_error *e)
{
	strata_schema_options so;
	struct scratch sc = {0};
	api_session s;
	struct test_report *r;
	double t0 = strata_now_ms();
	void *p;
	int error;

	*out = NULL;
	if ((error = api_schema_options(&so, o, "strata_test_migrations", e)) < 0 ||
	    (error = api_begin(&s, db, src, so.run, sizeof(*r), &p, "strata_test_migrations", e)) <
	        0)
		return error;
	r = p;
	if ((error = api_session_read(&s, API_READ_ALL, e)) < 0)
		goto done;
	r->cat = s.cat;
	memset(&s.cat, 0, sizeof(s.cat));
	r->failed = calloc(r->cat.n + 1, sizeof(*r->failed));
	r->pubs = calloc(r->cat.n + 1, sizeof(*r->pubs));
	if (!r->failed || !r->pubs) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if ((error = api_scratch_open(&sc, db, &so, e)) < 0 ||
	    (error = api_scratch_history(&sc, e)) < 0 || (error = test_all(&sc, &so, r, e)) < 0)
		goto done;
	test_summary(r);
	r->pub.ms = strata_now_ms() - t0;
done:
	api_scratch_close(&sc);
	api_session_close(&s);
	if (error < 0)
		strata_test_report_free(&r->pub);
	else
		*out = &r->pub;
	return error;
}
