/* adopt.c: strata_adopt: another tool's history read, matched to the source's migrations, and
 * the matches recorded as applied, all in one transaction. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/adopt.h"
#include "core/runner.h"
#include "util/clock.h"
#include "util/error.h"

static const char *const tool_names[] = {
    [STRATA_TOOL_AUTO] = "auto",     [STRATA_TOOL_TYPEORM] = "typeorm",
    [STRATA_TOOL_DBMATE] = "dbmate", [STRATA_TOOL_GOLANG_MIGRATE] = "golang-migrate",
    [STRATA_TOOL_GOOSE] = "goose",   [STRATA_TOOL_FLYWAY] = "flyway",
    [STRATA_TOOL_KNEX] = "knex",     [STRATA_TOOL_SQITCH] = "sqitch",
};

const char *strata_tool_name(strata_tool t)
{
	return (unsigned)t < sizeof(tool_names) / sizeof(tool_names[0]) ? tool_names[t] : "auto";
}

int strata_tool_parse(strata_tool *out, const char *name, strata_error *e)
{
	for (size_t t = STRATA_TOOL_TYPEORM; t < sizeof(tool_names) / sizeof(tool_names[0]); t++) {
		if (name && strcmp(name, tool_names[t]) == 0) {
			*out = (strata_tool)t;
			return 0;
		}
	}
	if (name && strcmp(name, "migrate") == 0) {
		*out = STRATA_TOOL_GOLANG_MIGRATE;
		return 0;
	}
	strata_error_hint(e, "the tools are typeorm (Medusa's), dbmate, golang-migrate, goose, "
	                     "flyway, knex and sqitch");
	return strata_error_set(e, STRATA_EINVALID, "no tool named '%s' to adopt from",
	                        name ? name : "");
}

/* The report the caller gets, holding what its strings point into. */
struct adopt_report {
	strata_adopt_report pub;
	strata_catalog cat;
	adopt_history hist;
	strata_adopt_entry *entries;
};

void strata_adopt_report_free(strata_adopt_report *pub)
{
	struct adopt_report *r = (struct adopt_report *)pub;
	if (!r)
		return;
	free(r->entries);
	adopt_history_free(&r->hist);
	strata_catalog_free(&r->cat);
	free(r);
}

/* The tool asked for, or the one whose table holds entries. */
static int choose_tool(api_session *s, const strata_adopt_options *o, strata_tool *tool,
                       strata_error *e)
{
	adopt_found found[STRATA_TOOL_SQITCH + 1];
	size_t n;
	int error;

	*tool = o->tool;
	if (o->tool == STRATA_TOOL_AUTO && (o->table || o->schema))
		return strata_error_set(e, STRATA_EINVALID,
		                        "a table or schema to read needs the tool named "
		                        "(strata_adopt_options.tool)");
	if ((error = adopt_detect(s->db->conn, found, &n, e)) < 0)
		return error;
	for (size_t i = 0; i < n && o->tool != STRATA_TOOL_AUTO; i++)
		if (found[i].tool != o->tool)
			api_warning(s->db,
			            "%s's history is here too (%s, %ld entries): it is left as it "
			            "is; adopting from %s as asked",
			            strata_tool_name(found[i].tool), found[i].table, found[i].rows,
			            strata_tool_name(o->tool));
	if (o->tool != STRATA_TOOL_AUTO) {
		error = 0;
	} else if (n == 0) {
		strata_error_detail(e,
		                    "looked for migrations (typeorm), schema_migrations (dbmate, "
		                    "golang-migrate), goose_db_version, flyway_schema_history, "
		                    "knex_migrations and sqitch.changes, with entries");
		strata_error_hint(e, "name the tool with strata_adopt_options.tool, and its table "
		                     "with strata_adopt_options.table if it was renamed");
		error =
		    strata_error_set(e, STRATA_ENOTFOUND, "no other migration tool's history in %s",
		                     s->db->url.display);
	} else if (n > 1) {
		strata_error_detail(e, "%s (%s, %ld entries) and %s (%s, %ld entries)",
		                    strata_tool_name(found[0].tool), found[0].table, found[0].rows,
		                    strata_tool_name(found[1].tool), found[1].table, found[1].rows);
		strata_error_hint(e, "name the tool in use with strata_adopt_options.tool");
		error = strata_error_set(e, STRATA_EINVALID,
		                         "%zu tools have migrated %s: which one is in use?", n,
		                         s->db->url.display);
	} else {
		*tool = found[0].tool;
		error = 0;
	}
	adopt_found_free(found, n);
	return error;
}

/* Refuses a database strata has already written its history in. */
static int check_history_empty(api_session *s, strata_error *e)
{
	if (s->hist.n == 0)
		return 0;
	strata_error_hint(e, "adopt takes over a database strata has not migrated yet; to undo an "
	                     "adopt or a wrong fake run, strata_revert() with fake and all");
	return strata_error_set(e, STRATA_EEXISTS,
	                        "strata's history in %s already has %zu migration%s: it was "
	                        "adopted or written before",
	                        s->db->url.display, s->hist.n, s->hist.n == 1 ? "" : "s");
}

/* The entries of the report: adopted and pending in version order, then what only the tool
 * has, in its order. */
static int report_entries(struct adopt_report *r, const strata_catalog *c, const adopt_match *m,
                          strata_error *e)
{
	const adopt_history *h = &r->hist;
	size_t n = 0;

	if (!(r->entries = calloc(c->n + h->n + 1, sizeof(*r->entries))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < c->n; i++) {
		strata_adopt_entry *en = &r->entries[n++];
		en->state = m->by_migration[i] ? STRATA_ADOPT_ADOPTED : STRATA_ADOPT_PENDING;
		en->version = c->items[i]->version;
		en->name = c->items[i]->name;
		en->file = c->items[i]->path;
		en->as = m->by_migration[i] ? m->by_migration[i]->as : NULL;
	}
	for (size_t k = 0; k < h->n; k++)
		if (!m->item_matched[k])
			r->entries[n++] = (strata_adopt_entry){.state = STRATA_ADOPT_ONLY_THERE,
			                                       .as = h->items[k].as};
	r->pub.entries = r->entries;
	r->pub.n = n;
	r->pub.adopted = m->adopted;
	r->pub.only_there = m->only_there;
	r->pub.pending = c->n - m->adopted;
	return 0;
}

/* The adopted migrations as the steps of a fake run. */
static int adopt_plan(strata_plan *p, const strata_catalog *c, const adopt_match *m,
                      strata_error *e)
{
	memset(p, 0, sizeof(*p));
	if (!(p->steps = calloc(c->n ? c->n : 1, sizeof(*p->steps))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < c->n; i++)
		if (m->by_migration[i])
			p->steps[p->n++] = (strata_step){.m = c->items[i], .dir = STRATA_UP};
	return 0;
}

/* Under the lock, the history checked empty again (another runner may have been first), the
 * plan recorded in one transaction. */
static int record(api_session *s, const strata_plan *p, strata_error *e)
{
	strata_run_opts ro = {.fake = true, .one_transaction = true};
	strata_run_result rr = {0};
	int error;

	if ((error = api_session_lock(s, e)) < 0 ||
	    (error = api_session_history(s, STRATA_HISTORY_CREATE | STRATA_HISTORY_BRIEF, e)) < 0 ||
	    (error = check_history_empty(s, e)) < 0)
		return error;
	return strata_runner_execute(s->db->conn, p, &ro, &rr, e);
}

/* Reads the tool's history and matches it; fills the report and the plan. */
static int map(api_session *s, const strata_adopt_options *o, struct adopt_report *r,
               strata_plan *plan, strata_error *e)
{
	adopt_match m;
	strata_tool tool;
	int error;

	if ((error = choose_tool(s, o, &tool, e)) < 0 ||
	    (error = adopt_read(s->db->conn, tool, o->table, o->schema, &r->hist, e)) < 0)
		return error;
	r->pub.tool = tool;
	r->pub.table = r->hist.table;
	if ((error = adopt_match_catalog(&m, &r->hist, &s->cat, e)) < 0)
		return error;
	if ((error = report_entries(r, &s->cat, &m, e)) == 0)
		error = adopt_plan(plan, &s->cat, &m, e);
	adopt_match_free(&m);
	return error;
}

int strata_adopt(strata_db *db, strata_source *src, const strata_adopt_options *o,
                 strata_adopt_report **out, strata_error *e)
{
	static const strata_adopt_options defaults = STRATA_ADOPT_OPTIONS_INIT;
	struct adopt_report *r;
	strata_plan plan = {0};
	api_session s;
	double t0 = strata_now_ms();
	void *p;
	int error;

	if (out)
		*out = NULL;
	o = o ? o : &defaults;
	if (o->version < 1 || o->version > STRATA_ADOPT_OPTIONS_VERSION)
		return strata_error_set(e, STRATA_EINVALID,
		                        "strata_adopt: options of an unknown version %u",
		                        o->version);
	if ((error = api_begin(&s, db, src, o->run, sizeof(*r), &p, "strata_adopt", e)) < 0)
		return error;
	r = p;
	r->pub.dry_run = o->dry_run;
	/* everything is read and checked before the lock; the history table is made only to be
	 * written */
	if ((error = api_session_read(&s, API_READ_ALL, e)) < 0 ||
	    (error = api_session_history(&s, STRATA_HISTORY_BRIEF, e)) < 0 ||
	    (error = check_history_empty(&s, e)) < 0 || (error = map(&s, o, r, &plan, e)) < 0)
		goto done;
	if (api_session_verify(&s, &plan, false, NULL, NULL, e) > 0) {
		error = e->code ? e->code : STRATA_EINVALID;
		goto done;
	}
	api_phase(db, "plan", strata_now_ms() - t0, plan.n, 0);
	if (!o->dry_run && plan.n)
		error = record(&s, &plan, e);
	r->pub.ms = strata_now_ms() - t0;
done:
	strata_plan_free(&plan);
	r->cat = s.cat;
	memset(&s.cat, 0, sizeof(s.cat));
	api_session_close(&s);
	if (error == 0 && out)
		*out = &r->pub;
	else
		strata_adopt_report_free(&r->pub);
	return error;
}
