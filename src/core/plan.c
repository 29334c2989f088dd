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

/*
 * The newest applied migration of each source (a directory, or the migrations given in memory:
 * dir_index), the source of an applied migration being the one its file is in: (*out)[i] for
 * dir_index i, NULL when none of it is applied. An applied migration with no file belongs to no
 * source. *n is how many sources the catalog has.
 */
static int newest_applied_by_source(const strata_migration ***out, size_t *n,
                                    const strata_catalog *c, const strata_history *h,
                                    strata_error *e)
{
	*n = 1;
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i]->dir_index + 1 > *n)
			*n = c->items[i]->dir_index + 1;
	if (!(*out = calloc(*n, sizeof(**out))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	/* both lists are in (version, name) order: the last match of a source is its newest */
	for (size_t i = 0, j = 0; i < c->n && j < h->n; i++) {
		const strata_migration *m = c->items[i];
		int cmp = -1;
		while (j < h->n &&
		       (cmp = strata_migration_key_cmp(h->items[j].version, h->items[j].name,
		                                       m->version, m->name)) < 0)
			j++;
		if (j < h->n && cmp == 0)
			(*out)[m->dir_index] = m;
	}
	return 0;
}

int strata_plan_up(strata_plan *out, const strata_catalog *c, const strata_history *h,
                   const char *to_version, strata_error *e)
{
	const strata_migration **newest = NULL;
	size_t nsources = 0;
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
	if ((error = newest_applied_by_source(&newest, &nsources, c, h, e)) < 0)
		return error;
	if ((error = alloc_steps(out, c->n, e)) < 0)
		goto done;
	out->sources = nsources;
	/* both lists are in (version, name) order: one merge walk, not a search per migration */
	for (size_t i = 0, j = 0; i < c->n; i++) {
		strata_migration *m = c->items[i];
		const strata_migration *top = newest[m->dir_index];
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
			goto done;
		}
		out->steps[out->n].m = m;
		if (top &&
		    strata_migration_key_cmp(m->version, m->name, top->version, top->name) < 0) {
			out->steps[out->n].out_of_order = true;
			out->steps[out->n].newer = top;
		}
		out->steps[out->n++].dir = STRATA_UP;
	}
done:
	free(newest);
	return error;
}

/* Whether m (loaded) can be reverted. A golang-migrate pair whose .down.sql exists but is empty
 * reverts as a no-op, as golang-migrate and its relatives treat it ("nothing to undo"), and so
 * does a Flyway V file whose U file is empty, and a goose file whose '-- +goose Down' section is
 * (as goose runs it). A pair without a .down.sql, a V file without its U file, a goose file
 * without a Down section, and a strata file whose '-- migrate:down' section is missing or empty,
 * cannot be reverted. The hint fits the format. */
int strata_plan_revertible(const strata_migration *m, strata_error *e)
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

struct ranked {
	uint64_t rank;
	size_t i; /* the row's index in the history (version order) */
};

static int by_rank_desc(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	if (a->rank != b->rank)
		return a->rank > b->rank ? -1 : 1;
	return a->i > b->i ? -1 : a->i < b->i; /* no rank: the higher version first */
}

/* The rows of h, the most recently applied first (by applied_rank; rows without one by
 * version, highest first). */
static struct ranked *revert_order(const strata_history *h)
{
	struct ranked *order = calloc(h->n ? h->n : 1, sizeof(*order));
	for (size_t i = 0; order && i < h->n; i++)
		order[i] = (struct ranked){h->items[i].applied_rank, i};
	if (order)
		qsort(order, h->n, sizeof(*order), by_rank_desc);
	return order;
}

/* Marks row i of h reverted and returns the applied row of the highest version still applied
 * after it, when that version is higher than row i's (*top walks down h, in version order). */
static const strata_applied *higher_still_applied(const strata_history *h, bool *gone, size_t i,
                                                  size_t *top)
{
	gone[i] = true;
	while (*top > 0 && gone[*top - 1])
		(*top)--;
	if (*top == 0 || *top - 1 < i)
		return NULL;
	return &h->items[*top - 1];
}

int strata_plan_down(strata_plan *out, const strata_catalog *c, const strata_history *h,
                     const strata_revert_opts *o, strata_error *e)
{
	size_t want = o->steps ? o->steps : 1, top = h->n;
	struct ranked *order = NULL;
	bool *gone = NULL;
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
	if (!(order = revert_order(h)) || !(gone = calloc(h->n + 1, sizeof(*gone)))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < h->n; k++) {
		const strata_applied *a = &h->items[order[k].i];
		strata_migration *m;
		if (o->to_version) {
			if (strata_version_cmp(a->version, o->to_version) <= 0)
				continue;
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
		if ((error = strata_plan_revertible(m, e)) < 0)
			goto fail;
		out->steps[out->n].m = m;
		out->steps[out->n].higher = higher_still_applied(h, gone, order[k].i, &top);
		out->steps[out->n++].dir = STRATA_DOWN;
	}
	free(order);
	free(gone);
	return 0;
fail:
	free(order);
	free(gone);
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
	strata_error_detail(e, "%s %s older than %s-%s, the newest applied migration%s",
	                    strata_buf_cstr(&names), n == 1 ? "is" : "are",
	                    first->newer ? first->newer->version : h->items[h->n - 1].version,
	                    first->newer ? first->newer->name : h->items[h->n - 1].name,
	                    p->sources > 1 ? " of its directory" : "");
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

/* Whether to_version is an applied version (else e says so). */
static int check_applied_version(const strata_history *h, const char *v, strata_error *e)
{
	if (!strata_is_version(v))
		return strata_error_set(e, STRATA_EINVALID, "'%s' is not a version (digits only)",
		                        v);
	for (size_t i = 0; i < h->n; i++)
		if (strata_version_cmp(h->items[i].version, v) == 0)
			return 0;
	strata_error_hint(e, "use a version listed as applied (strata_status()), or unrecord "
	                     "everything (all)");
	return strata_error_set(e, STRATA_ENOTFOUND, "version %s is not applied", v);
}

/* The refusals of a revert with fake that do not depend on which rows it picks. */
static int check_unrecord(const strata_catalog *c, const strata_history *h,
                          const strata_revert_opts *o, strata_error *e)
{
	const strata_applied *u = strata_history_unfinished(h);
	size_t want = o->steps ? o->steps : 1;
	if (u) {
		const strata_migration *m = strata_catalog_find(c, u->version, u->name);
		if (m)
			strata_error_at(e, m->path, 0, 0);
		strata_error_hint(e,
		                  "finish it first with strata_repair(), or record it as applied "
		                  "with strata_repair() with mark_applied; then unrecord");
		return strata_error_set(e, STRATA_EINVALID,
		                        "cannot unrecord: migration %s-%s is %s, not applied",
		                        u->version, u->name, strata_applied_status_name(u->status));
	}
	if (o->to_version)
		return check_applied_version(h, o->to_version, e);
	if (!o->all && want > h->n && h->n > 0) {
		strata_error_hint(e, "give at most %zu steps, or unrecord everything (all)", h->n);
		return strata_error_set(e, STRATA_EINVALID,
		                        "cannot unrecord %zu migrations: %zu %s applied", want,
		                        h->n, h->n == 1 ? "is" : "are");
	}
	return 0;
}

/* With steps, "the newest" by version must be the last recorded: not when one left in place was
 * recorded after one of those picked (applied out of order). h read with its dates. */
static int check_last_recorded(const strata_unrecord *u, const strata_history *h, strata_error *e)
{
	const char *first = NULL; /* when the earliest of those picked was recorded */
	for (size_t k = 0; k < u->n; k++)
		if (!first || strcmp(u->rows[k]->applied_at, first) < 0)
			first = u->rows[k]->applied_at;
	for (size_t k = 0; first && first[0] && k < h->n - u->n; k++) {
		const strata_applied *a = &h->items[k];
		if (strcmp(a->applied_at, first) <= 0)
			continue;
		strata_error_detail(e, "%s-%s was recorded after %s-%s, a newer migration",
		                    a->version, a->name, u->rows[u->n - 1]->version,
		                    u->rows[u->n - 1]->name);
		strata_error_hint(e, "say which with to (everything after a version) or all");
		return strata_error_set(e, STRATA_EINVALID,
		                        "cannot tell which %zu migration%s to unrecord: the newest "
		                        "by version are not the last recorded",
		                        u->n, u->n == 1 ? "" : "s");
	}
	return 0;
}

int strata_plan_unrecord(strata_unrecord *out, const strata_catalog *c, const strata_history *h,
                         const strata_revert_opts *o, strata_error *e)
{
	size_t want = o->steps ? o->steps : 1;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = check_unrecord(c, h, o, e)) < 0)
		return error;
	out->rows = calloc(h->n ? h->n : 1, sizeof(*out->rows));
	out->m = calloc(h->n ? h->n : 1, sizeof(*out->m));
	if (!out->rows || !out->m) {
		strata_unrecord_free(out);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	for (size_t i = h->n; i-- > 0;) {
		const strata_applied *a = &h->items[i];
		if (o->to_version ? strata_version_cmp(a->version, o->to_version) <= 0
		                  : !o->all && out->n == want)
			break;
		out->m[out->n] = strata_catalog_find(c, a->version, a->name);
		out->rows[out->n++] = a;
	}
	if (!o->to_version && !o->all && (error = check_last_recorded(out, h, e)) < 0)
		strata_unrecord_free(out);
	return error;
}

void strata_unrecord_free(strata_unrecord *u)
{
	if (!u)
		return;
	free(u->rows);
	free(u->m);
	memset(u, 0, sizeof(*u));
}
