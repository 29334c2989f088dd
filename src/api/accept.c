/* accept.c: strata_accept: an applied migration whose file was edited on purpose gets the file's
 * checksum in the history (the old one kept, with when it was replaced), so runs pass again. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/integrity.h"
#include "util/error.h"

/* The report the caller gets (its public part first), holding what its strings point into. */
struct accept_report {
	strata_accept_report pub;
	strata_catalog cat;
	strata_history hist;
	strata_accept_entry *entries;
};

void strata_accept_report_free(strata_accept_report *pub)
{
	struct accept_report *r = (struct accept_report *)pub;
	if (!r)
		return;
	free(r->entries);
	strata_history_free(&r->hist);
	strata_catalog_free(&r->cat);
	free(r);
}

/* The options as run options (what the session takes), NULL meaning the defaults. */
static int accept_options(strata_run_options *ro, const strata_accept_options *o, strata_error *e)
{
	static const strata_accept_options defaults = STRATA_ACCEPT_OPTIONS_INIT;
	static const strata_run_options run_defaults = STRATA_RUN_OPTIONS_INIT;
	if (!o)
		o = &defaults;
	if (o->version < 1 || o->version > STRATA_ACCEPT_OPTIONS_VERSION)
		return strata_error_set(e, STRATA_EINVALID,
		                        "strata_accept: options of an unknown version %u",
		                        o->version);
	*ro = run_defaults;
	ro->dry_run = o->dry_run;
	ro->lock_wait_ms = o->lock_wait_ms;
	ro->lock_strategy = o->lock_strategy;
	ro->lock_ttl_ms = o->lock_ttl_ms;
	return 0;
}

/* Whether arg is VERSION or VERSION-NAME; *vlen is the length of its version. */
static bool arg_valid(const char *arg, size_t *vlen)
{
	const char *dash = strchr(arg, '-');
	*vlen = dash ? (size_t)(dash - arg) : strlen(arg);
	if (*vlen == 0 || (dash && !dash[1]))
		return false;
	for (size_t i = 0; i < *vlen; i++)
		if (arg[i] < '0' || arg[i] > '9')
			return false;
	return true;
}

/* The versions of the arguments, for api_source_pick: the migrations and rows it keeps. */
struct given {
	const char *const *versions;
	size_t n;
};

static bool given(void *ud, const char *version)
{
	const struct given *g = ud;
	for (size_t i = 0; i < g->n; i++) {
		char v[128];
		size_t vlen;
		if (!g->versions[i] || !arg_valid(g->versions[i], &vlen) || vlen >= sizeof(v))
			continue;
		memcpy(v, g->versions[i], vlen);
		v[vlen] = '\0';
		if (strata_version_cmp(version, v) == 0)
			return true;
	}
	return false;
}

/* The applied row arg names: exactly one, applied (not running or failed). */
static int resolve(const strata_history *h, const char *arg, const strata_applied **out,
                   strata_error *e)
{
	const strata_applied *found = NULL, *other = NULL;
	const char *name;
	char version[128];
	size_t vlen;

	*out = NULL;
	if (!arg || !arg_valid(arg, &vlen) || vlen >= sizeof(version)) {
		strata_error_hint(e, "give a version (digits), or VERSION-NAME for one of two "
		                     "migrations with the same version");
		return strata_error_set(e, STRATA_EINVALID, "'%s' is not a version",
		                        arg ? arg : "(null)");
	}
	memcpy(version, arg, vlen);
	version[vlen] = '\0';
	name = arg[vlen] ? arg + vlen + 1 : NULL;
	for (size_t i = 0; i < h->n; i++) {
		const strata_applied *a = &h->items[i];
		if (strata_version_cmp(a->version, version) != 0 || (name && strcmp(a->name, name)))
			continue;
		if (found)
			other = a;
		else
			found = a;
	}
	if (!found) {
		strata_error_hint(e, "strata_status() lists the applied migrations");
		return strata_error_set(e, STRATA_ENOTFOUND, "cannot accept %s: it is not applied",
		                        arg);
	}
	if (other) {
		strata_error_hint(e, "write %s-%s or %s-%s to say which", found->version,
		                  found->name, other->version, other->name);
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "cannot accept %s: two applied migrations have that version", arg);
	}
	if (found->status != STRATA_APPLIED_OK) {
		strata_error_hint(e, "finish it first with strata_repair()");
		return strata_error_set(
		    e, STRATA_EINVALID, "cannot accept %s-%s: it is %s, not applied",
		    found->version, found->name, strata_applied_status_name(found->status));
	}
	*out = found;
	return 0;
}

/* Its file, read, and for a build checked against the manifest and the sources: what is
 * accepted is what runs. */
static int file_of(api_session *s, const strata_applied *a, strata_migration **m, strata_error *e)
{
	if (!(*m = strata_catalog_find(&s->cat, a->version, a->name))) {
		strata_error_hint(e,
		                  "add the directory that holds it with strata_source_add_dir()");
		return strata_error_set(e, STRATA_ENOTFOUND,
		                        "cannot accept %s-%s: its file is in none of the source's "
		                        "migrations",
		                        a->version, a->name);
	}
	return strata_migration_ensure(*m, e);
}

/* The checks of the source as a whole (repair makes the same): built files match their
 * manifests, and a build is not older than its sources. */
static int check_source(api_session *s, strata_error *e)
{
	const char **dirs = api_dir_list(s->src);
	const char *dist, *srcd;
	int error;
	if (!dirs)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if ((error = strata_verify_manifests(&s->cat, dirs, s->src->ndirs, e)) < 0 ||
	    (api_lone_build(s->src, &dist, &srcd) &&
	     (error = strata_verify_build(&s->cat, 0, srcd, dist, e)) < 0))
		api_map_to_src(s->src, e);
	free(dirs);
	return error;
}

/* Every argument resolved to its row and file, into the report's entries; nothing written. */
static int plan(api_session *s, struct accept_report *r, const char *const *versions, size_t n,
                const strata_applied **rows, strata_error *e)
{
	int error;
	for (size_t i = 0; i < n; i++) {
		strata_migration *m;
		strata_accept_entry *en = &r->entries[i];
		if ((error = resolve(&s->hist, versions[i], &rows[i], e)) < 0)
			return error;
		for (size_t j = 0; j < i; j++) {
			if (rows[j] != rows[i])
				continue;
			strata_error_hint(e, "give each migration once");
			return strata_error_set(
			    e, STRATA_EINVALID, "%s-%s is given twice ('%s' and '%s')",
			    rows[i]->version, rows[i]->name, versions[j], versions[i]);
		}
		if ((error = file_of(s, rows[i], &m, e)) < 0)
			return error;
		*en =
		    (strata_accept_entry){.version = rows[i]->version,
		                          .name = rows[i]->name,
		                          .file = m->path,
		                          .old_checksum = rows[i]->checksum,
		                          .new_checksum = m->checksum,
		                          .accepted = strcmp(rows[i]->checksum, m->checksum) != 0};
		if (en->accepted)
			r->pub.accepted++;
		else
			r->pub.unchanged++;
	}
	return 0;
}

/* The edits, in one transaction: the table first gets the columns they write, if it lacks them
 * (a table from an older strata; `add_columns`). */
static int record_edits(api_session *s, struct accept_report *r, bool add_columns, strata_error *e)
{
	strata_conn *c = s->db->conn;
	strata_history_edit *ed;
	strata_history tmp;
	size_t k = 0;
	int error;

	if (!c->engine->history_edit)
		return strata_error_set(e, STRATA_ERROR, "the %s engine cannot accept edits",
		                        c->engine->name);
	/* (a history read row by row had the columns: its read asks for them) */
	if (add_columns &&
	    (error = c->engine->history_load(
	         c, &tmp, STRATA_HISTORY_CREATE | STRATA_HISTORY_BRIEF | STRATA_HISTORY_ACCEPTED,
	         e)) < 0)
		return error;
	if (add_columns)
		strata_history_free(&tmp);
	if (!(ed = calloc(r->pub.accepted, sizeof(*ed))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < r->pub.n; i++)
		if (r->entries[i].accepted)
			ed[k++] = (strata_history_edit){.version = r->entries[i].version,
			                                .name = r->entries[i].name,
			                                .checksum = r->entries[i].old_checksum,
			                                .new_checksum = r->entries[i].new_checksum};
	error = c->engine->history_edit(c, ed, k, e);
	free(ed);
	return error;
}

int strata_accept(strata_db *db, strata_source *src, const char *const *versions, size_t n,
                  const strata_accept_options *o, strata_accept_report **out, strata_error *e)
{
	api_session s;
	struct accept_report *r = NULL;
	const strata_applied **rows = NULL;
	strata_run_options ro;
	struct given wanted;
	void *p;
	int error, picked;

	if (out)
		*out = NULL;
	if (n == 0 || !versions)
		return api_bad_arg(e, "strata_accept", "no version given");
	if ((error = accept_options(&ro, o, e)) < 0 ||
	    (error = api_begin(&s, db, src, &ro, sizeof(*r), &p, "strata_accept", e)) < 0)
		return error;
	r = p;
	if (!(r->entries = calloc(n, sizeof(*r->entries))) || !(rows = calloc(n, sizeof(*rows)))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	r->pub.entries = r->entries;
	r->pub.n = n;
	/* of one directory, only the migrations and rows of the versions given, the source proven
	 * as the checks below prove it; else everything. A SQLite file that is not there has
	 * nothing applied: it is not made to be refused */
	wanted.versions = versions;
	wanted.n = n;
	if ((picked = api_source_pick(&s, given, &wanted, !ro.dry_run && strata_db_exists(db), NULL,
	                              e)) < 0) {
		error = picked;
		goto done;
	}
	if ((!picked &&
	     ((error = api_session_read(&s, API_READ_ALL, e)) < 0 ||
	      (error = check_source(&s, e)) < 0 ||
	      (!ro.dry_run && strata_db_exists(db) && (error = api_session_lock(&s, e)) < 0) ||
	      (error = api_session_history(&s, 0, e)) < 0)) ||
	    (error = plan(&s, r, versions, n, rows, e)) < 0)
		goto done;
	if (!ro.dry_run && r->pub.accepted && (error = record_edits(&s, r, !picked, e)) < 0)
		goto done;
	/* the report keeps what its strings point into */
	r->cat = s.cat;
	r->hist = s.hist;
	memset(&s.cat, 0, sizeof(s.cat));
	memset(&s.hist, 0, sizeof(s.hist));
	if (out)
		*out = &r->pub;
	else
		strata_accept_report_free(&r->pub);
	r = NULL;
done:
	free(rows);
	strata_accept_report_free(r ? &r->pub : NULL);
	api_session_close(&s);
	return error;
}
