/* schema_diff.c: two schemas compared object by object, in words. */
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_obj(const strata_schema_object *a, const strata_schema_object *b)
{
	int c = cmp_str(a->schema, b->schema);
	if (c == 0)
		c = strcmp(a->name, b->name);
	if (c == 0)
		c = strcmp(a->kind, b->kind);
	return c;
}

static int cmp_ptr(const void *a, const void *b)
{
	return cmp_obj(*(const strata_schema_object *const *)a,
	               *(const strata_schema_object *const *)b);
}

/* The objects of s, sorted by schema, name, kind. */
static const strata_schema_object **sorted(const strata_schema *s)
{
	const strata_schema_object **p = calloc(s->n ? s->n : 1, sizeof(*p));
	if (!p)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		p[i] = &s->items[i];
	qsort(p, s->n, sizeof(*p), cmp_ptr);
	return p;
}

/* What an object is, on one line: its detail, else its SQL with its white space folded. */
static void describe(strata_buf *b, const strata_schema_object *o)
{
	const char *t = o->detail ? o->detail : o->sql ? o->sql : "";
	bool space = false;
	size_t start = b->len;
	for (; *t; t++) {
		if (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r') {
			space = b->len > start;
			continue;
		}
		if (space)
			strata_buf_put(b, " ", 1);
		space = false;
		strata_buf_put(b, t, 1);
	}
	if (b->len > start && b->ptr[b->len - 1] == ';')
		b->len--, b->ptr[b->len] = '\0';
}

/* How a difference is said: missing, extra, and changed (before and between the two). */
struct words {
	const char *missing, *extra, *changed_before, *changed_between;
};

static const struct words drift_words = {"missing; the migrations make ",
                                         "not made by the migrations: ", "", ", expected "};
static const struct words revert_words = {
    "gone after its down: ", "left behind by its down: ", "after its down ", ", before its up "};

static int add(strata_schema_changes *out, size_t *cap, const struct words *w,
               strata_schema_diff_kind kind, const strata_schema_object *have,
               const strata_schema_object *want, strata_error *e)
{
	const strata_schema_object *o = have ? have : want;
	strata_schema_change *c;
	strata_buf t = STRATA_BUF_INIT;

	if (strata_array_grow((void **)&out->items, cap, out->n + 1, sizeof(*out->items)) < 0)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	c = &out->items[out->n];

	strata_buf_printf(&t, "%s %s%s%s: ", o->kind, o->schema ? o->schema : "",
	                  o->schema ? "." : "", o->name);
	if (kind == STRATA_DIFF_MISSING) {
		strata_buf_puts(&t, w->missing);
		describe(&t, want);
	} else if (kind == STRATA_DIFF_EXTRA) {
		strata_buf_puts(&t, w->extra);
		describe(&t, have);
	} else {
		strata_buf_puts(&t, w->changed_before);
		describe(&t, have);
		strata_buf_puts(&t, w->changed_between);
		describe(&t, want);
	}
	if (t.failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	c->text = strata_buf_detach(&t);
	c->pub = (strata_schema_difference){
	    .kind = kind,
	    .object = o->kind,
	    .schema = o->schema,
	    .name = o->name,
	    .have = have ? (have->detail ? have->detail : have->sql) : NULL,
	    .expected = want ? (want->detail ? want->detail : want->sql) : NULL,
	    .text = c->text};
	out->n++;
	return 0;
}

static bool same(const strata_schema_object *a, const strata_schema_object *b)
{
	return cmp_str(a->sql, b->sql) == 0 && cmp_str(a->detail, b->detail) == 0;
}

/* Whether a is a part of b (b.x), both in one schema. */
static bool part_of(const strata_schema_difference *a, const strata_schema_difference *b)
{
	size_t nl = strlen(b->name);
	return cmp_str(a->schema, b->schema) == 0 && strncmp(a->name, b->name, nl) == 0 &&
	       a->name[nl] == '.';
}

/* One line per real difference: a changed table whose parts (table.x) are listed is said by
 * them; the parts of a table that is missing or extra whole go with it. */
static void drop_explained(strata_schema_changes *out)
{
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++) {
		strata_schema_change *c = &out->items[i];
		bool explained = false;
		for (size_t j = 0; j < out->n && !explained; j++) {
			const strata_schema_difference *d = &out->items[j].pub;
			if (j == i)
				continue;
			if (c->pub.kind == STRATA_DIFF_CHANGED)
				explained = part_of(d, &c->pub);
			else
				explained = d->kind == c->pub.kind && part_of(&c->pub, d);
		}
		if (explained) {
			free(c->text);
			continue;
		}
		out->items[w++] = *c;
	}
	out->n = w;
}

static int compare(const strata_schema *have, const strata_schema *want, const struct words *wd,
                   strata_schema_changes *out, strata_error *e)
{
	const strata_schema_object **h = sorted(have), **w = sorted(want);
	size_t i = 0, j = 0, cap = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!h || !w) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	while (error == 0 && (i < have->n || j < want->n)) {
		int c = i == have->n ? 1 : j == want->n ? -1 : cmp_obj(h[i], w[j]);
		if (c < 0)
			error = add(out, &cap, wd, STRATA_DIFF_EXTRA, h[i++], NULL, e);
		else if (c > 0)
			error = add(out, &cap, wd, STRATA_DIFF_MISSING, NULL, w[j++], e);
		else if (!same(h[i], w[j]))
			error = add(out, &cap, wd, STRATA_DIFF_CHANGED, h[i++], w[j++], e);
		else
			i++, j++;
	}
	if (error == 0)
		drop_explained(out);
done:
	free(h);
	free(w);
	if (error < 0)
		strata_schema_changes_free(out);
	return error;
}

int strata_schema_compare(const strata_schema *have, const strata_schema *want,
                          strata_schema_changes *out, strata_error *e)
{
	return compare(have, want, &drift_words, out, e);
}

int strata_schema_compare_revert(const strata_schema *have, const strata_schema *want,
                                 strata_schema_changes *out, strata_error *e)
{
	return compare(have, want, &revert_words, out, e);
}

void strata_schema_changes_public(const strata_schema_changes *c, strata_schema_diff *out,
                                  strata_schema_difference **items)
{
	*items = calloc(c->n ? c->n : 1, sizeof(**items));
	out->n = *items ? c->n : 0;
	out->items = *items;
	for (size_t i = 0; *items && i < c->n; i++)
		(*items)[i] = c->items[i].pub;
}

void strata_schema_changes_free(strata_schema_changes *c)
{
	for (size_t i = 0; c && i < c->n; i++)
		free(c->items[i].text);
	if (c) {
		free(c->items);
		memset(c, 0, sizeof(*c));
	}
}
