/* schema.c: strata_schema_dump and strata_schema_check (drift): a database's schema read from
 * its catalog, and the migrations applied to a scratch database to see what schema they make;
 * the scratch databases revert_test.c's strata_test_migrations uses too. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/schema_internal.h"
#include "core/runner.h"
#include "core/schema.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"

int api_schema_options(strata_schema_options *out, const strata_schema_options *o, const char *fn,
                       strata_error *e)
{
	static const strata_schema_options defaults = STRATA_SCHEMA_OPTIONS_INIT;
	*out = defaults;
	if (o && (o->version < 1 || o->version > STRATA_SCHEMA_OPTIONS_VERSION))
		return strata_error_set(e, STRATA_EINVALID, "%s: options of an unknown version %u",
		                        fn, o->version);
	if (o && o->version == 1) /* a version-1 caller's struct ends before no_entry_list */
		memcpy(out, o, offsetof(strata_schema_options, no_entry_list));
	else if (o)
		*out = *o;
	out->version = STRATA_SCHEMA_OPTIONS_VERSION;
	if (out->from && !strata_is_version(out->from))
		return strata_error_set(e, STRATA_EINVALID, "%s: from: '%s' is not a version", fn,
		                        out->from);
	return 0;
}

/* The schema of db from its catalog into out, as out's sink or each says (schema.h). */
static int read_into(strata_db *db, bool owners, strata_schema *out, strata_error *e)
{
	strata_conn *c = db->conn;
	if (c->interrupted)
		return strata_conn_interrupted(e);
	if (!c->engine->schema_read)
		return strata_error_set(e, STRATA_EINVALID,
		                        "strata cannot read the schema of a %s "
		                        "database",
		                        c->engine->name);
	return c->engine->schema_read(c, owners ? STRATA_SCHEMA_OWNERS : 0, out, e);
}

/* The schema of db from its catalog (sink: written there, not kept; see schema.h). */
int api_schema_read(strata_db *db, bool owners, strata_buf *sink, strata_schema *out,
                    strata_error *e)
{
	memset(out, 0, sizeof(*out));
	out->sink = sink;
	return read_into(db, owners, out, e);
}

/* The schema of db handed to each(ud, object), an object at a time, none kept. */
int api_schema_each(strata_db *db, bool owners,
                    int (*each)(void *ud, const strata_schema_object *o, strata_error *e), void *ud,
                    strata_error *e)
{
	strata_schema s = {.each = each, .each_ud = ud};
	int error = read_into(db, owners, &s, e);
	strata_schema_free(&s);
	return error;
}

int api_schema_digests_again(strata_db *db, bool owners, strata_schema_digests *d, const char *what,
                             strata_error *e)
{
	int error;
	if (strata_schema_digests_unmatched(d) &&
	    (error = api_schema_each(db, owners, strata_schema_digest_again, d, e)) < 0)
		return error;
	if (!strata_schema_digests_complete(d))
		return strata_error_set(e, STRATA_ERROR, "the scratch database's schema %s", what);
	strata_schema_digests_trim(d); /* the objects that differ are all that is needed now */
	return 0;
}

/* ---- dump ---------------------------------------------------------------------------------- */

void strata_schema_dump_report_free(strata_schema_dump_report *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nwarnings; i++)
		free(d->warnings[i]);
	free(d->warnings);
	free(d->sql);
	free(d);
}

int strata_schema_dump(strata_db *db, const strata_schema_options *o,
                       strata_schema_dump_report **out, strata_error *e)
{
	strata_schema_options so;
	strata_schema s = {0};
	strata_buf sql = STRATA_BUF_INIT;
	strata_schema_dump_report *r = NULL;
	double t0 = strata_now_ms();
	int error;

	*out = NULL;
	if (!db)
		return api_bad_arg(e, "strata_schema_dump", "no database");
	/* the preamble, then each object written as it is read: the SQL is all that is held */
	if ((error = api_schema_options(&so, o, "strata_schema_dump", e)) < 0 ||
	    (error = strata_schema_render(&s, db->conn->engine->schema_preamble, &sql, e)) < 0 ||
	    (error = api_schema_read(db, so.owners, &sql, &s, e)) < 0)
		goto done;
	if ((r = calloc(1, sizeof(*r))) != NULL) {
		r->len = sql.len;
		r->sql = sql.len ? strata_buf_detach(&sql) : strdup("");
	}
	if (!r || !r->sql) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	r->objects = s.written;
	r->warnings = s.warnings; /* handed over */
	r->nwarnings = s.nwarnings;
	s.warnings = NULL;
	s.nwarnings = 0;
	r->ms = strata_now_ms() - t0;
	*out = r;
	r = NULL;
done:
	strata_schema_dump_report_free(r);
	strata_buf_free(&sql);
	strata_schema_free(&s);
	return error;
}

/* ---- scratch databases ------------------------------------------------------------------- */

static int shadow_open(struct scratch *s, const char *url, strata_error *e)
{
	strata_history h = {0};
	int error, same;

	if ((error = strata_db_open(&s->db, url, NULL, e)) < 0)
		return error;
	/* however the two URLs spell it: the engine compares what they open */
	same = s->db->conn->engine != s->origin->conn->engine ? 0
	       : s->db->conn->engine->same_database
	           ? s->db->conn->engine->same_database(s->origin->conn, s->db->conn, e)
	           : strcmp(s->db->url.target, s->origin->url.target) == 0;
	if (same < 0)
		return same;
	if (same) {
		strata_error_hint(e,
		                  "name an empty database of its own: everything in it is dropped");
		return strata_error_set(e, STRATA_EINVALID,
		                        "the scratch database is the database being checked");
	}
	if (!s->db->conn->engine->schema_reset)
		return strata_error_set(e, STRATA_EINVALID, "strata cannot empty a %s database",
		                        s->db->conn->engine->name);
	/* a database with a history of strata's is a real one, not a scratch one */
	if ((error = s->db->conn->engine->history_load(s->db->conn, &h, STRATA_HISTORY_BRIEF, e)) <
	    0)
		return error;
	if (h.n) {
		strata_history_free(&h);
		strata_error_hint(e, "name an empty database: everything in it is dropped");
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "the scratch database %s has migrations applied: is it a real "
		    "one?",
		    strata_db_display(s->db));
	}
	if ((error = s->db->conn->engine->schema_reset(s->db->conn, e)) < 0)
		return error;
	s->emptied = true;
	s->origin->scratch = s->db; /* an interrupt of origin stops the work in it too */
	return 0;
}

/* A scratch database to apply migrations to: the user's shadow (emptied), or a new one. */
int api_scratch_open(struct scratch *s, strata_db *origin, const strata_schema_options *o,
                     strata_error *e)
{
	strata_conn *c = origin->conn;
	int error;

	memset(s, 0, sizeof(*s));
	s->origin = origin;
	if (o->shadow_url)
		return shadow_open(s, o->shadow_url, e);
	if (!c->engine->scratch_create)
		return strata_error_set(e, STRATA_EINVALID,
		                        "strata cannot make a scratch %s database: name one with "
		                        "shadow_url",
		                        c->engine->name);
	if ((error = c->engine->scratch_create(c, &s->url, e)) < 0 ||
	    (error = strata_db_open(&s->db, s->url, NULL, e)) < 0)
		return error;
	origin->scratch = s->db; /* an interrupt of origin stops the work in it too */
	if (c->interrupted)
		strata_db_interrupt(s->db);
	return 0;
}

void api_scratch_close(struct scratch *s)
{
	strata_error ignored = STRATA_ERROR_INIT;
	if (s->origin)
		s->origin->scratch = NULL; /* before it is closed */
	if (s->db && s->emptied)
		s->db->conn->engine->schema_reset(s->db->conn, &ignored);
	strata_db_close(s->db);
	s->db = NULL;
	if (s->url && s->origin->conn->engine->scratch_drop)
		s->origin->conn->engine->scratch_drop(s->origin->conn, s->url);
	free(s->url);
	s->url = NULL;
}

/* Runs the steps of p on the scratch database, each in its own transaction. */
static int apply(struct scratch *s, const strata_plan *p, strata_error *e)
{
	strata_run_opts ro = {.lock_retries = 0};
	strata_run_result rr = {0};
	if (p->n == 0)
		return 0;
	return strata_runner_execute(s->db->conn, p, &ro, &rr, e);
}

int api_scratch_apply(struct scratch *s, const strata_migration *m, strata_direction dir,
                      strata_error *e)
{
	strata_step step = {.m = m, .dir = dir};
	strata_plan p = {.steps = &step, .n = 1};
	return apply(s, &p, e);
}

int api_scratch_history(struct scratch *s, strata_error *e)
{
	strata_history h = {0};
	int error = s->db->conn->engine->history_load(s->db->conn, &h, STRATA_HISTORY_CREATE, e);
	strata_history_free(&h);
	return error;
}

/* ---- drift --------------------------------------------------------------------------------- */

struct check_report {
	strata_schema_check_report pub;
	strata_schema_digests *dg; /* the objects that differ (the changes point into them) */
	strata_schema_changes changes;
	strata_schema_difference *items;
};

void strata_schema_check_report_free(strata_schema_check_report *pub)
{
	struct check_report *r = (struct check_report *)pub;
	if (!r)
		return;
	free(r->items);
	strata_schema_changes_free(&r->changes);
	strata_schema_digests_free(r->dg);
	free(r);
}

/* The migrations db's history says are applied, from the catalog, in version order. */
static int applied_plan(api_session *s, strata_plan *p, strata_error *e)
{
	memset(p, 0, sizeof(*p));
	if (!(p->steps = calloc(s->hist.n ? s->hist.n : 1, sizeof(*p->steps))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < s->hist.n; i++) {
		const strata_applied *a = &s->hist.items[i];
		strata_migration *m = strata_catalog_find(&s->cat, a->version, a->name);
		if (a->status != STRATA_APPLIED_OK) {
			strata_error_hint(e, "finish it first with strata_repair()");
			return strata_error_set(
			    e, STRATA_EINVALID, "cannot check the schema: %s-%s is %s, not applied",
			    a->version, a->name, strata_applied_status_name(a->status));
		}
		if (!m) {
			strata_error_hint(e, "add the directory that holds it with "
			                     "strata_source_add_dir(), or restore the file");
			return strata_error_set(
			    e, STRATA_ENOTFOUND,
			    "cannot check the schema: %s-%s is applied but its file "
			    "is not in the migration directories",
			    a->version, a->name);
		}
		p->steps[p->n++] = (strata_step){.m = m, .dir = STRATA_UP};
	}
	return 0;
}

/* The schemas of the scratch database (want) and of db (have) compared without holding either
 * (core/schema_digest.c): the objects that differ into r->dg, and the changes. */
static int check_compare(strata_db *want, strata_db *have, bool owners, struct check_report *r,
                         strata_error *e)
{
	strata_schema_digests *d = r->dg = strata_schema_digests_new();
	int error;

	if (!d)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if ((error = api_schema_each(want, owners, strata_schema_digest_want, d, e)) < 0 ||
	    (error = api_schema_each(have, owners, strata_schema_digest_have, d, e)) < 0 ||
	    (error = api_schema_digests_again(want, owners, d, "changed while it was read", e)) < 0)
		return error;
	return strata_schema_compare(strata_schema_digests_have(d), strata_schema_digests_want(d),
	                             &r->changes, e);
}

static void not_made(strata_error *e)
{
	strata_error_detail(e, "applying the applied migrations to a scratch database failed: "
	                       "the database was not made by these files");
}

/* One applied migration, read again from the source, to the scratch database. */
static int apply_up(void *ud, const strata_migration *m, strata_error *e)
{
	int error = api_scratch_apply(ud, m, STRATA_UP, e);
	if (error < 0)
		not_made(e);
	return error;
}

/* Applies db's applied migrations to the scratch database, and compares the schemas. With one
 * directory whose files and history api_validate_streamed proves, a migration at a time; else
 * from the full read of every file and the history. */
static int check_apply(api_session *s, const strata_schema_options *o, struct check_report *r,
                       strata_error *e)
{
	struct scratch sc = {0};
	strata_plan p = {0};
	size_t migrations, pending, applied = 0;
	double t0 = strata_now_ms();
	bool streamed = api_validate_streamed(s, &migrations, &pending, e) == 1;
	int error = 0;

	if (streamed)
		api_phase(s->db, "checked", strata_now_ms() - t0, migrations, 0);
	/* the full read: every file, the history, then the plan of what is applied */
	if (!streamed && ((error = api_session_read(s, API_READ_ALL, e)) < 0 ||
	                  (error = api_session_history(s, STRATA_HISTORY_BRIEF, e)) < 0 ||
	                  (error = applied_plan(s, &p, e)) < 0))
		goto done;
	if ((error = api_scratch_open(&sc, s->db, o, e)) < 0 ||
	    (error = api_scratch_history(&sc, e)) < 0)
		goto done;
	if (streamed) {
		error = api_source_each_applied(s, apply_up, &sc, &applied, e);
	} else {
		applied = p.n;
		if ((error = apply(&sc, &p, e)) < 0)
			not_made(e);
	}
	if (error == 0)
		error = check_compare(sc.db, s->db, o->owners, r, e);
	r->pub.applied = applied;
done:
	api_scratch_close(&sc);
	strata_plan_free(&p);
	return error;
}

int strata_schema_check(strata_db *db, strata_source *src, const strata_schema_options *o,
                        strata_schema_check_report **out, strata_error *e)
{
	strata_schema_options so;
	api_session s;
	struct check_report *r;
	double t0 = strata_now_ms();
	void *p;
	int error;

	*out = NULL;
	if ((error = api_schema_options(&so, o, "strata_schema_check", e)) < 0 ||
	    (error = api_begin(&s, db, src, so.run, sizeof(*r), &p, "strata_schema_check", e)) < 0)
		return error;
	r = p;
	if ((error = check_apply(&s, &so, r, e)) < 0)
		goto done;
	strata_schema_changes_public(&r->changes, &r->pub.diff, &r->items);
	if (!r->items)
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	r->pub.ms = strata_now_ms() - t0;
done:
	api_session_close(&s);
	if (error < 0)
		strata_schema_check_report_free(&r->pub);
	else
		*out = &r->pub;
	return error;
}
