/*
 * seed.c: a seed run (strata_seed_run, the steps are in seed.h): which files to load (their
 * records in strata_seeds), their sections in foreign-key order, each section through the row
 * writer (seed_write.c), the records, and the report.
 */
#include "core/seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/seed_engine.h"
#include "core/seed_json.h"
#include "core/seed_load.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/error.h"

/* Frees the report's files and tables (the pointers stay). */
static void report_lists_free(strata_seed_report *r)
{
	for (size_t i = 0; i < r->ntables; i++)
		free(r->tables[i].name);
	free(r->tables);
	free(r->files);
}

void strata_seed__report_clear(strata_seed_report *r)
{
	if (!r)
		return;
	report_lists_free(r);
	memset(r, 0, sizeof(*r));
}

struct item {
	size_t file; /* index into the options' files */
	const strata_seed_section *sec;
	strata_seed_table *t;
	char **group; /* keys of the tables its rows write: its own and nested ones */
	size_t ngroup;
	bool done;
};

int strata_seed__oom(strata_error *e)
{
	return strata_error_set(e, STRATA_ERROR, "out of memory");
}

int strata_seed__fail_at(strata_seed_load *g, size_t off, strata_error *e, int code)
{
	strata_seed_locate(g->path, off, e);
	return code;
}

static bool in_group(const struct item *it, const char *key)
{
	for (size_t i = 0; i < it->ngroup; i++)
		if (strcmp(it->group[i], key) == 0)
			return true;
	return false;
}

/* Whether b's rows reference a table a writes (outside b's own nesting). */
static bool depends_on(strata_seed_load *g, const struct item *b, const struct item *a)
{
	if (in_group(b, a->t->key))
		return false;
	for (size_t i = 0; i < b->ngroup; i++) {
		strata_seed_table *u = NULL;
		for (size_t k = 0; k < g->ntables && !u; k++)
			if (strcmp(g->tables[k]->key, b->group[i]) == 0)
				u = g->tables[k];
		for (size_t k = 0; u && k < u->nfks; k++)
			if (strcmp(u->fks[k].ref_key, a->t->key) == 0 ||
			    in_group(a, u->fks[k].ref_key))
				return true;
	}
	return false;
}

/* Resolves every section's tables and sorts items into foreign-key order (stable). */
static int order_items(strata_seed_load *g, struct item *items, size_t n, strata_error *e)
{
	struct item *sorted = NULL;
	size_t done = 0;
	int error = 0;

	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		g->path = g->o->files[it->file];
		error = strata_seed__lookup(g, it->sec->table, &it->t, e);
		if (error == STRATA_ENOTFOUND) {
			strata_error_hint(e,
			                  "create it with a migration (a seed applies the pending "
			                  "migrations of its source first)");
			error = strata_seed__fail_at(g, it->sec->key_off, e,
			                             strata_error_set(e, STRATA_EINVALID,
			                                              "unknown table '%s'",
			                                              it->sec->table));
		}
		if (error < 0)
			goto done;
		it->group = calloc(it->sec->nnested + 1, sizeof(*it->group));
		if (!it->group) {
			error = strata_seed__oom(e);
			goto done;
		}
		it->group[it->ngroup++] = it->t->key;
		for (size_t k = 0; k < it->sec->nnested; k++) {
			strata_seed_table *nt = NULL;
			if (strata_seed_table_col(it->t, it->sec->nested[k]) >= 0)
				continue;
			error = strata_seed__lookup(g, it->sec->nested[k], &nt, e);
			if (error == STRATA_ENOTFOUND) {
				error = 0; /* write_row says what is wrong with it */
				continue;
			}
			if (error < 0)
				goto done;
			if (!in_group(it, nt->key))
				it->group[it->ngroup++] = nt->key;
		}
	}
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	if (!sorted) {
		error = strata_seed__oom(e);
		goto done;
	}
	while (done < n) {
		size_t pick = n;
		for (size_t b = 0; b < n && pick == n; b++) {
			bool blocked = false;
			if (items[b].done)
				continue;
			for (size_t a = 0; a < n && !blocked; a++)
				blocked =
				    a != b && !items[a].done && depends_on(g, &items[b], &items[a]);
			if (!blocked)
				pick = b;
		}
		if (pick == n) {
			char names[400] = "";
			size_t first = n;
			for (size_t i = 0; i < n; i++) {
				size_t len = strlen(names);
				if (items[i].done)
					continue;
				if (first == n)
					first = i;
				snprintf(names + len, sizeof(names) - len, "%s'%s'",
				         len ? ", " : "", items[i].t->name);
			}
			g->path = g->o->files[items[first].file];
			strata_error_hint(
			    e, "break the cycle: make one of the references nullable and "
			       "fill it in a later seed file, or nest one table's rows "
			       "under the other's");
			error = strata_seed__fail_at(
			    g, items[first].sec->key_off, e,
			    strata_error_set(e, STRATA_EINVALID,
			                     "cannot order the tables by their foreign "
			                     "keys: %s reference each other in a cycle",
			                     names));
			goto done;
		}
		items[pick].done = true;
		sorted[done++] = items[pick];
	}
	if (n)
		memcpy(items, sorted, n * sizeof(*items));
done:
	free(sorted);
	return error;
}

int strata_seed_scan_files(strata_seed_scan **out, const strata_seed_opts *o, strata_error *e)
{
	strata_seed_scan *scans = calloc(o->nfiles ? o->nfiles : 1, sizeof(*scans));
	int error = 0;

	*out = NULL;
	if (!scans)
		return strata_seed__oom(e);
	for (size_t i = 0; i < o->nfiles && error == 0; i++)
		error = strata_seed_scan_file(&scans[i], o->files[i], e);
	if (error < 0)
		strata_seed_scans_free(scans, o->nfiles);
	else
		*out = scans;
	return error;
}

void strata_seed_scans_free(strata_seed_scan *scans, size_t n)
{
	for (size_t i = 0; scans && i < n; i++)
		strata_seed_scan_free(&scans[i]);
	free(scans);
}

/* The record's name for a file: the path as given, without a leading "./". */
static const char *record_path(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	return p;
}

/* The report's files, with their SHA-256 and the time their scans took. */
static int report_files(strata_seed_report *r, const strata_seed_opts *o,
                        const strata_seed_scan *scans, strata_error *e)
{
	r->files = calloc(o->nfiles ? o->nfiles : 1, sizeof(*r->files));
	if (!r->files)
		return strata_seed__oom(e);
	for (size_t i = 0; i < o->nfiles; i++) {
		r->files[i].path = o->files[i];
		memcpy(r->files[i].sha256, scans[i].sha256, sizeof(r->files[i].sha256));
		r->scan_ms += scans[i].ms;
	}
	return 0;
}

/* File i's status from its record in strata_seeds: new (loaded), unchanged (skipped) or changed
 * (refused unless force). A file given twice is refused. */
static int file_status(strata_seed_load *g, const strata_seed_scan *scans, size_t i,
                       strata_seed_report *r, strata_error *e)
{
	const strata_seed_opts *o = g->o;
	char sha[65] = "";
	bool dup = false;
	int error;

	for (size_t k = 0; k < i; k++)
		dup |= strcmp(record_path(o->files[k]), record_path(o->files[i])) == 0;
	if (dup) {
		strata_error_at(e, o->files[i], 0, 0);
		return strata_error_set(e, STRATA_EINVALID, "seed file given twice");
	}
	if ((error = g->ops->record_get(g->be, record_path(o->files[i]), sha, e)) < 0)
		return error;
	if (sha[0] && strcmp(sha, scans[i].sha256) == 0) {
		r->files[i].status = STRATA_SEED_FILE_UNCHANGED;
		return 0;
	}
	if (sha[0] && !o->force) {
		strata_error_at(e, o->files[i], 0, 0);
		strata_error_detail(e, "it was loaded with SHA-256 %.12s…, it is now %.12s…", sha,
		                    scans[i].sha256);
		strata_error_hint(e, "load it again with strata_seed_options.force (with "
		                     "STRATA_SEED_CONFLICT_SKIP or STRATA_SEED_CONFLICT_UPDATE "
		                     "for the rows it already wrote)");
		return strata_error_set(e, STRATA_EINVALID,
		                        "seed file changed since it was loaded; nothing was "
		                        "written");
	}
	r->files[i].status = STRATA_SEED_FILE_LOADED;
	r->files[i].forced = sha[0] != '\0';
	return 0;
}

/* The files to load (file_status), their sections appended to *items (*nitems of them). */
static int select_files(strata_seed_load *g, const strata_seed_scan *scans, strata_seed_report *r,
                        struct item **items, size_t *nitems, strata_error *e)
{
	size_t cap = 0;
	int error;

	for (size_t i = 0; i < g->o->nfiles; i++) {
		if ((error = file_status(g, scans, i, r, e)) < 0)
			return error;
		if (r->files[i].status != STRATA_SEED_FILE_LOADED)
			continue;
		for (size_t k = 0; k < scans[i].n; k++) {
			struct item *it;
			if (strata_array_grow((void **)items, &cap, *nitems + 1, sizeof(**items)) <
			    0)
				return strata_seed__oom(e);
			it = &(*items)[(*nitems)++];
			memset(it, 0, sizeof(*it));
			it->file = i;
			it->sec = &scans[i].sections[k];
		}
	}
	return 0;
}

static void items_free(struct item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].group);
	free(items);
}

/* Writes every item's rows, in order, and counts them per file. */
static int load_items(strata_seed_load *g, const struct item *items, size_t n,
                      strata_seed_report *r, strata_error *e)
{
	double t1 = strata_now_ms();
	int error;

	for (size_t i = 0; i < n; i++) {
		g->path = g->o->files[items[i].file];
		g->file_rows = 0;
		if ((error = strata_seed__load_section(g, items[i].t, items[i].sec->array_off, e)) <
		    0)
			return error;
		r->files[items[i].file].rows += g->file_rows;
		r->rows += g->file_rows;
	}
	r->load_ms = strata_now_ms() - t1;
	return 0;
}

/* Records each loaded file's SHA-256 and rows in strata_seeds. */
static int record_files(strata_seed_load *g, const strata_seed_scan *scans,
                        const strata_seed_report *r, strata_error *e)
{
	int error;
	for (size_t i = 0; i < g->o->nfiles; i++)
		if (r->files[i].status == STRATA_SEED_FILE_LOADED &&
		    (error = g->ops->record_put(g->be, record_path(g->o->files[i]), scans[i].sha256,
		                                r->files[i].rows, e)) < 0)
			return error;
	return 0;
}

/* Commits, or rolls a dry run back; nothing is committed once the run was interrupted (the
 * caller rolls back after a failure). */
static int end_transaction(strata_seed_load *g, strata_error *e)
{
	if (g->b->interrupted)
		return strata_conn_interrupted(e);
	if (g->o->dry_run) {
		g->ops->rollback(g->be);
		return 0;
	}
	return g->ops->commit(g->be, e);
}

/* The report's tables, in the order they were first written. */
static int report_tables(const strata_seed_load *g, strata_seed_report *r, strata_error *e)
{
	r->tables = calloc(g->ntables ? g->ntables : 1, sizeof(*r->tables));
	if (!r->tables)
		return strata_seed__oom(e);
	for (unsigned ord = 1; ord <= g->next_order; ord++)
		for (size_t i = 0; i < g->ntables; i++) {
			strata_seed_table *t = g->tables[i];
			if (t->order != ord)
				continue;
			if (!(r->tables[r->ntables].name = strdup(t->name)))
				return strata_seed__oom(e);
			r->tables[r->ntables++].rows = t->rows;
		}
	return 0;
}

int strata_seed_run(struct strata_conn *b, const strata_seed_opts *o, const strata_seed_scan *scans,
                    strata_seed_report *r, strata_error *e)
{
	strata_seed_load g;
	struct item *items = NULL;
	size_t nitems = 0;
	bool began = false;
	double t0 = strata_now_ms();
	int error = 0;

	/* the seed's part of the report (what the caller filled before, migrated, stays) */
	r->files = NULL;
	r->tables = NULL;
	r->ntables = r->rows = 0;
	r->scan_ms = r->load_ms = r->ms = 0;
	memset(&g, 0, sizeof(g));
	strata_seed__levels_init(&g);
	g.o = o;
	g.b = b;
	g.ops = b->engine->seed;
	if ((error = report_files(r, o, scans, e)) < 0 || (error = g.ops->open(&g.be, b, e)) < 0 ||
	    (error = g.ops->begin(g.be, e)) < 0)
		goto done;
	began = true;
	if ((error = select_files(&g, scans, r, &items, &nitems, e)) < 0 ||
	    (error = order_items(&g, items, nitems, e)) < 0 ||
	    (error = load_items(&g, items, nitems, r, e)) < 0 ||
	    (error = record_files(&g, scans, r, e)) < 0 || (error = end_transaction(&g, e)) < 0)
		goto done;
	began = false;
	error = report_tables(&g, r, e);
done:
	if (began)
		g.ops->rollback(g.be);
	if (g.be)
		g.ops->close(g.be);
	items_free(items, nitems);
	strata_seed__tables_free(&g);
	strata_seed__levels_free(&g);
	r->ms = strata_now_ms() - t0 + r->scan_ms;
	if (error < 0 && b->interrupted && error != STRATA_ECONNECT)
		error = e->code = STRATA_EINTERRUPTED; /* whatever the database said of it */
	if (error < 0) {
		strata_dburl_scrub_error(b->url, e);
		report_lists_free(r);
		r->files = NULL;
		r->tables = NULL;
		r->ntables = r->rows = 0;
		r->rolled_back = true;
	}
	return error;
}
