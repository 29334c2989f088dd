/* revert_test.c: strata_test_migrations (reversibility): each migration's up, down and up again
 * on a scratch database, the schema before its up against the one after its down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/schema_internal.h"
#include "core/catalog.h"
#include "core/runner.h"
#include "core/schema.h"
#include "util/array.h"
#include "util/buf.h"
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

/* The report: an entry per migration, its strings copied (the migrations are read one at a
 * time when they can be), and what a failed one points into. */
struct test_report {
	strata_test_report pub;
	size_t n, cap;
	strata_test_entry *pubs;    /* one per migration */
	struct test_entry **failed; /* one per migration: what a failure's entry points into */
	size_t *at;                 /* one per migration: its version, name and file in strings */
	strata_buf strings;
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
	for (size_t i = 0; r->failed && i < r->n; i++)
		test_entry_free(r->failed[i]);
	free(r->failed);
	free(r->pubs);
	free(r->at);
	strata_buf_free(&r->strings);
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
	char what[512];
	int error;

	if (t->pub.result != STRATA_TEST_NOT_RESTORED)
		return 0;
	snprintf(what, sizeof(what), "after the rollback is not the one before the up of %s-%s",
	         t->pub.version, t->pub.name);
	if ((error = api_schema_digests_again(sc->db, owners, d, what, e)) < 0)
		return error;
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
	/* it ran in the transaction: it runs again */
	return api_scratch_apply(sc, m, STRATA_UP, e);
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

/* One strata_test_migrations at work. */
struct tester {
	struct scratch *sc;
	const strata_schema_options *o;
	struct test_report *r;
	bool stopped; /* an up failed: nothing after it can run */
};

/* An entry kept in the report (not no_entry_list): its strings copied, and what it points
 * into (kept, may be NULL). */
static int keep_entry(struct test_report *r, const strata_test_entry *p, struct test_entry *kept,
                      strata_error *e)
{
	void **const arrays[] = {(void **)&r->pubs, (void **)&r->failed, (void **)&r->at};
	const size_t size[] = {sizeof(*r->pubs), sizeof(*r->failed), sizeof(*r->at)};

	if (strata_array_grow_together(&r->cap, r->n + 1, arrays, size, 3) < 0) {
		test_entry_free(kept);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	r->at[r->n] = r->strings.len;
	strata_buf_put(&r->strings, p->version, strlen(p->version) + 1);
	strata_buf_put(&r->strings, p->name, strlen(p->name) + 1);
	strata_buf_put(&r->strings, p->file, strlen(p->file) + 1);
	r->pubs[r->n] = *p;
	r->failed[r->n] = kept;
	r->n++;
	if (r->strings.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

/* The source's next migration, in version order: applied untested up to o->from, tested after
 * it, untested (not applied) after an up that failed; then counted, handed out (TESTED) and,
 * unless no_entry_list, kept in the report. */
static int test_next(struct tester *t, const strata_migration *m, strata_error *e)
{
	struct test_report *r = t->r;
	strata_test_entry one = {.result = STRATA_TEST_OK};
	struct test_entry *kept = NULL;
	strata_event ev = {.kind = STRATA_EVENT_TESTED, .test = &one};
	int error = 0;

	if (t->stopped || (t->o->from && strata_version_cmp(m->version, t->o->from) <= 0)) {
		one.result = STRATA_TEST_UNTESTED;
		if (!t->stopped && (error = api_scratch_apply(t->sc, m, STRATA_UP, e)) < 0) {
			strata_error_detail(e, "applying the migrations before %s failed",
			                    t->o->from);
			return error;
		}
	} else if (t->sc->db->conn->interrupted) { /* strata_db_interrupt of the caller's db */
		return strata_conn_interrupted(e);
	} else if ((error = test_one(t->sc, m, t->o->owners, &one, &kept, e)) < 0) {
		test_entry_free(kept);
		return error;
	}
	t->stopped = t->stopped || error > 0;
	one.version = m->version;
	one.name = m->name;
	one.file = m->path;
	if (one.result == STRATA_TEST_OK)
		r->pub.ok++;
	else if (one.result == STRATA_TEST_UNTESTED)
		r->pub.untested++;
	else
		r->pub.failed++;
	api_emit(t->sc->origin, &ev);
	if (t->o->no_entry_list) {
		test_entry_free(kept);
		return 0;
	}
	return keep_entry(r, &one, kept, e);
}

/* One directory, to be read a migration at a time (catalog.h's walk): read whole once here,
 * none kept, so that a file that does not read fails before anything is tested (by the full
 * read, which says it as it always did); then rewound. NULL when the full read must answer. */
static strata_catalog_walk *walk_open(api_session *s)
{
	const strata_source *src = s->src;
	strata_error ignored = STRATA_ERROR_INIT;
	strata_catalog_walk *w = NULL;
	double t0 = strata_now_ms();
	size_t n;

	if (src->ndirs != 1 || src->nmems ||
	    strata_catalog_walk_open(&w, src->dirs[0].dir, &ignored) < 0)
		return NULL;
	if (strata_catalog_walk_check(w, &n, &ignored) < 0) {
		strata_catalog_walk_close(w);
		return NULL;
	}
	api_phase(s->db, "read", strata_now_ms() - t0, n, 0);
	return w;
}

/* The walk's migrations tested in turn. */
static int test_walk(struct tester *t, strata_catalog_walk *w, strata_error *e)
{
	strata_migration *m = NULL;
	int more, error = 0;

	while (error == 0 && (more = strata_catalog_walk_next(w, &m, e)) > 0) {
		error = test_next(t, m, e);
		strata_migration_free(m);
	}
	return error < 0 ? error : more < 0 ? more : 0; /* more: a file changed since read */
}

/* The entries kept, their strings pointed into the report's (not no_entry_list). */
static void test_summary(struct test_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		strata_test_entry *p = &r->pubs[i];
		p->version = r->strings.ptr + r->at[i];
		p->name = p->version + strlen(p->version) + 1;
		p->file = p->name + strlen(p->name) + 1;
	}
	r->pub.entries = r->n ? r->pubs : NULL;
	r->pub.n = r->n;
}

int strata_test_migrations(strata_db *db, strata_source *src, const strata_schema_options *o,
                           strata_test_report **out, strata_error *e)
{
	strata_schema_options so;
	struct scratch sc = {0};
	api_session s;
	struct test_report *r;
	struct tester t = {.sc = &sc, .o = &so};
	double t0 = strata_now_ms();
	strata_catalog_walk *w = NULL;
	void *p;
	int error;

	*out = NULL;
	if ((error = api_schema_options(&so, o, "strata_test_migrations", e)) < 0 ||
	    (error = api_begin(&s, db, src, so.run, sizeof(*r), &p, "strata_test_migrations", e)) <
	        0)
		return error;
	t.r = r = p;
	r->strings = (strata_buf)STRATA_BUF_INIT;
	/* one directory a migration at a time, else the full read; read before anything is made */
	if ((!(w = walk_open(&s)) && (error = api_session_read(&s, API_READ_ALL, e)) < 0) ||
	    (error = api_scratch_open(&sc, db, &so, e)) < 0 ||
	    (error = api_scratch_history(&sc, e)) < 0)
		goto done;
	if (w)
		error = test_walk(&t, w, e);
	for (size_t i = 0; !w && i < s.cat.n && error == 0; i++)
		error = test_next(&t, s.cat.items[i], e);
	if (error < 0)
		goto done;
	test_summary(r);
	r->pub.ms = strata_now_ms() - t0;
done:
	strata_catalog_walk_close(w);
	api_scratch_close(&sc);
	api_session_close(&s);
	if (error < 0)
		strata_test_report_free(&r->pub);
	else
		*out = &r->pub;
	return error;
}
