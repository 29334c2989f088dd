/* schema.c: the list of a schema's objects, and the SQL it is written out as. */
#include "core/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;
	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*failed = true;
	return d;
}

/* One object as strata_schema_render writes it: a blank line between objects, none after the
 * last (the file ends with ";\n"); one whose SQL is part of another's writes nothing. */
static void render(strata_buf *out, const char *kind, const char *schema, const char *name,
                   const char *sql)
{
	if (!sql)
		return;
	strata_buf_printf(out, "%s-- %s %s%s%s\n", out->len ? "\n" : "", kind, schema ? schema : "",
	                  schema ? "." : "", name);
	strata_buf_puts(out, sql);
}

int strata_schema_add(strata_schema *s, const char *kind, const char *schema, const char *name,
                      const char *sql, const char *detail, strata_error *e)
{
	strata_schema_object *o;
	bool failed = false;

	if (s->sink) {
		render(s->sink, kind, schema, name, sql);
		s->written++;
		return s->sink->failed ? strata_error_set(e, STRATA_ERROR, "out of memory") : 0;
	}
	if (s->each) {
		const strata_schema_object one = {.kind = (char *)kind,
		                                  .schema = (char *)schema,
		                                  .name = (char *)name,
		                                  .sql = (char *)sql,
		                                  .detail = (char *)detail};
		s->written++;
		return s->each(s->each_ud, &one, e);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		strata_schema_object *p = realloc(s->items, cap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		s->items = p;
		s->cap = cap;
	}
	o = &s->items[s->n];
	o->kind = dup_or_null(kind, &failed);
	o->schema = dup_or_null(schema, &failed);
	o->name = dup_or_null(name, &failed);
	o->sql = dup_or_null(sql, &failed);
	o->detail = dup_or_null(detail, &failed);
	if (failed || !o->kind || !o->name) {
		free(o->kind);
		free(o->schema);
		free(o->name);
		free(o->sql);
		free(o->detail);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	s->n++;
	return 0;
}

int strata_schema_warn(strata_schema *s, strata_error *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->nwarnings == s->capwarnings) {
		size_t cap = s->capwarnings ? s->capwarnings * 2 : 8;
		char **p = realloc(s->warnings, cap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		s->warnings = p;
		s->capwarnings = cap;
	}
	if (!(s->warnings[s->nwarnings] = strdup(msg)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->nwarnings++;
	return 0;
}

void strata_schema_free(strata_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		strata_schema_object *o = &s->items[i];
		free(o->kind);
		free(o->schema);
		free(o->name);
		free(o->sql);
		free(o->detail);
	}
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->items);
	free(s->warnings);
	memset(s, 0, sizeof(*s));
}

int strata_schema_render(const strata_schema *s, const char *preamble, strata_buf *out,
                         strata_error *e)
{
	if (preamble && *preamble) {
		strata_buf_puts(out, preamble);
		strata_buf_puts(out, "\n");
	}
	for (size_t i = 0; i < s->n; i++) {
		const strata_schema_object *o = &s->items[i];
		render(out, o->kind, o->schema, o->name, o->sql);
	}
	if (out->failed)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}
