#include "core/plan.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

static int alloc_steps(strata_plan *out, size_t n, strata_error *e)
{
	memset(out, 0, sizeof(*out));
	out->steps = calloc(n ? n : 1, sizeof(*out->steps));
	if (!out->steps)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

int strata_plan_up(strata_plan *out, const strata_catalog *c, const strata_history *h,
                   const char *to_version, strata_error *e)
{
	int error;
	if (to_version) {
		bool known = false;
		if (!strata_is_version(to_version))
			return strata_error_set(e, STRATA_EINVALID,
			                        "'%s' is not a version (digits only)", to_version);
		for (size_t i = 0; i < c->n && !known; i++)
			known = strata_version_cmp(c->items[i]->version, to_version) == 0;
		if (!known) {
			strata_error_hint(e, "run strata_status() to list the versions");
			return strata_error_set(e, STRATA_ENOTFOUND, "no migration has version %s",
			                        to_version);
		}
	}
	if ((error = alloc_steps(out, c->n, e)) < 0)
		return error;
	/* both lists are in (version, name) order: one merge walk, not a search per migration */
	for (size_t i = 0, j = 0; i < c->n; i++) {
		strata_migration *m = c->items[i];
		const strata_applied *newest = h->n ? &h->items[h->n - 1] : NULL;
		int cmp = -1;
		if (to_version && strata_version_cmp(m->version, to_version) > 0)
			break;
		while (j < h->n &&
		       (cmp = strata_migration_key_cmp(h->items[j].version, h->items[j].name,
		                                       m->version, m->name)) < 0)
			j++;
		if (j < h->n && cmp == 0)
			continue;
		/* read now what a catalog listed from its build manifest (core/catalog.h) */
		if ((error = strata_migration_ensure(m, e)) < 0) {
			strata_plan_free(out);
			return error;
		}
		out->steps[out->n].m = m;
		out->steps[out->n].out_of_order =
		    newest && strata_migration_key_cmp(m->version, m->name, newest->version,
		                                       newest->name) < 0;
		out->steps[out->n++].dir = STRATA_UP;
	}
	return 0;
}

/* Whether m (loaded) can be reverted. A golang-migrate pair whose .down.sql exists but is empty
 * reverts as a no-op, as golang-migrate and its relatives treat it ("nothing to undo"), and so
 * does a Flyway V file whose U file is empty, and a goose file whose '-- +goose Down' section is
 * (as goose runs it). A pair without a .down.sql, a V file without its U file, a goose file
 * without a Down section, and a strata file whose '-- migrate:down' section is missing or empty,
 * cannot be reverted. The hint fits the format. */
static int check_revertible(const strata_migration *m, strata_error *e)
{
	size_t pl = strlen(m->path);
	bool pair = m->down_path || (pl > 7 && strcmp(m->path + pl - 7, ".up.sql") == 0);
	char *undo;
	if ((pair || m->kind == STRATA_FILE_FLYWAY_UP) && m->down_path)
		return 0; /* an empty .down.sql (U file) is a no-op revert */
	if (m->up.format == STRATA_FORMAT_GOOSE && m->down.present)
		return 0; /* goose runs an empty Down section as nothing to undo */
	if (!strata_section_is_empty(&m->down))
		return 0;
	strata_error_at(e, m->path, 0, 0);
	if (m->kind == STRATA_FILE_FLYWAY_UP) {
		undo = strata_flyway_undo_name(m->path);
		/* the file name alone: e's file may be mapped from dist to src */
		strata_error_hint(e,
		                  "create %s beside it with the statements that undo it (an empty "
		                  "file means there is nothing to undo)",
		                  undo ? undo : "its U file");
		free(undo);
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "cannot revert %s-%s: it has no Flyway undo file (U%s__%s.sql)", m->version,
		    m->name, m->version, m->name);
	}
	if (pair) {
		strata_error_hint(e,
		                  "create %.*s.down.sql beside it with the statements that undo it "
		                  "(an empty file means there is nothing to undo)",
		                  (int)(pl - 7), m->path);
		return strata_error_set(e, STRATA_EINVALID,
		                        "cannot revert %s-%s: it has no .down.sql file", m->version,
		                        m->name);
	}
	if (m->up.format == STRATA_FORMAT_GOOSE) {
		strata_error_hint(e, "add a '-- +goose Down' line and the statements that undo it "
		                     "below it");
		return strata_error_set(e, STRATA_EINVALID,
		                        "cannot revert %s-%s: it has no '-- +goose Down' section",
		                        m->version, m->name);
	}
	strata_error_hint(e, "%s",
	                  m->down.present
	                      ? "write the statements that undo it under '-- migrate:down'"
	                      : "add a '-- migrate:down' line and the statements that undo it "
	                        "below it");
	return strata_error_set(e, STRATA_EINVALID, "cannot revert %s-%s: its down section is %s",
	                        m->version, m->name, m->down.present ? "empty" : "missing");
}

int strata_plan_down(strata_plan *out, const strata_catalog *c, const strata_history *h,
                     const strata_revert_opts *o, strata_error *e)
{
	size_t want = o->steps ? o->steps : 1;
	int error;

	if (o->to_version) {
		bool applied = false;
		if (!strata_is_version(o->to_version))
			return strata_error_set(e, STRATA_EINVALID,
			                        "'%s' is not a version (digits only)",
			                        o->to_version);
		for (size_t i = 0; i < h->n && !applied; i++)
			applied = strata_version_cmp(h->items[i].version, o->to_version) == 0;
		if (!applied) {
			strata_error_hint(e,
			                  "use a version listed as applied (strata_status()), or "
			                  "revert everything (all)");
			return strata_error_set(e, STRATA_ENOTFOUND, "version %s is not applied",
			                        o->to_version);
		}
	}
	if ((error = alloc_steps(out, h->n, e)) < 0)
		return error;
	for (size_t i = h->n; i-- > 0;) {
		const strata_applied *a = &h->items[i];
		strata_migration *m;
		if (o->to_version) {
			if (strata_version_cmp(a->version, o->to_version) <= 0)
				break;
		} else if (!o->all && out->n == want) {
			break;
		}
		m = strata_catalog_find(c, a->version, a->name);
		if (!m) {
			strata_error_hint(e, "add the directory that holds it with "
			                     "strata_source_add_dir(), or restore the file");
			error =
			    strata_error_set(e, STRATA_ENOTFOUND,
			                     "cannot revert %s-%s: it is applied but its file is "
			                     "not in the migration directories",
			                     a->version, a->name);
			goto fail;
		}
		if (a->status != STRATA_APPLIED_OK) {
			strata_error_at(e, m->path, 0, 0);
			strata_error_hint(e, "finish it first with strata_repair()");
			error = strata_error_set(
			    e, STRATA_EINVALID, "cannot revert %s-%s: it is %s, not applied",
			    m->version, m->name, strata_applied_status_name(a->status));
			goto fail;
		}
		if ((error = strata_migration_ensure(m, e)) < 0)
			goto fail;
		if ((error = check_revertible(m, e)) < 0)
			goto fail;
		out->steps[out->n].m = m;
		out->steps[out->n++].dir = STRATA_DOWN;
	}
	return 0;
fail:
	strata_plan_free(out);
	return error;
}

void strata_plan_free(strata_plan *p)
{
	if (!p)
		return;
	free(p->steps);
	p->steps = NULL;
	p->n = 0;
}

int strata_plan_status(strata_plan_rows *out, const strata_catalog *c, const strata_history *h,
                       strata_error *e)
{
	size_t i = 0, j = 0;
	memset(out, 0, sizeof(*out));
	out->items = calloc(c->n + h->n + 1, sizeof(*out->items));
	if (!out->items)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	while (i < c->n || j < h->n) {
		strata_plan_row *s = &out->items[out->n++];
		int cmp;
		if (i == c->n)
			cmp = 1;
		else if (j == h->n)
			cmp = -1;
		else
			cmp = strata_migration_key_cmp(c->items[i]->version, c->items[i]->name,
			                               h->items[j].version, h->items[j].name);
		if (cmp == 0 && h->items[j].status != STRATA_APPLIED_OK) {
			s->kind = STRATA_ROW_FAILED;
			s->m = c->items[i++];
			s->a = &h->items[j++];
			out->failed++;
		} else if (cmp == 0) {
			s->kind = STRATA_ROW_APPLIED;
			s->m = c->items[i++];
			s->a = &h->items[j++];
			out->applied++;
		} else if (cmp < 0) {
			s->kind = STRATA_ROW_PENDING;
			s->m = c->items[i++];
			out->pending++;
		} else {
			s->kind = STRATA_ROW_MISSING;
			s->a = &h->items[j++];
			out->missing++;
		}
	}
	return 0;
}

int strata_plan_check_order(const strata_plan *p, const strata_history *h, strata_error *e)
{
	const strata_step *first = NULL;
	strata_buf names = STRATA_BUF_INIT;
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const strata_step *s = &p->steps[i];
		if (s->dir != STRATA_UP || !s->out_of_order)
			continue;
		if (!first)
			first = s;
		strata_buf_printf(&names, "%s%s-%s", n ? ", " : "", s->m->version, s->m->name);
		n++;
	}
	if (!first)
		return 0;
	strata_error_at(e, first->m->path, 0, 0);
	strata_error_detail(e, "%s %s older than %s-%s, the newest applied migration",
	                    strata_buf_cstr(&names), n == 1 ? "is" : "are",
	                    h->items[h->n - 1].version, h->items[h->n - 1].name);
	strata_buf_free(&names);
	strata_error_hint(e, "this usually comes from merging a branch: check that it is safe to "
	                     "apply after the newer ones, then run with allow_out_of_order");
	return strata_error_set(e, STRATA_EINVALID, "%zu pending migration%s out of order", n,
	                        n == 1 ? " is" : "s are");
}

void strata_plan_rows_free(strata_plan_rows *s)
{
	if (!s)
		return;
	free(s->items);
	memset(s, 0, sizeof(*s));
}
