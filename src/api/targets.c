/* targets.c: the lists of a fleet's targets strata reads itself: a file (read as it is used),
 * a query's rows and tenant schemas (read a page at a time). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/buf.h"
#include "util/error.h"

#define PAGE 1000

enum kind { FILE_LIST, QUERY_LIST, SCHEMA_LIST, SCHEMA_QUERY };

struct strata_targets {
	enum kind kind;
	char *path;
	FILE *f;
	unsigned line;
	char *buf;
	size_t cap;
	/* a query: its SQL, the page read and where in it */
	strata_db *db;
	char *sql;
	strata_rows *page;
	size_t at, offset;
	bool last_page;
	/* schemas: the database's URL, and the names given */
	char *url;
	char **schemas;
	size_t nschemas, next;
};

static int oom(strata_error *e)
{
	return strata_error_set(e, STRATA_ERROR, "out of memory");
}

int strata_targets_file(strata_targets **out, const char *path, strata_error *e)
{
	strata_targets *t;
	*out = NULL;
	if (!path)
		return api_bad_arg(e, "strata_targets_file", "no path");
	if (!(t = calloc(1, sizeof(*t))) || !(t->path = strdup(path))) {
		free(t);
		return oom(e);
	}
	t->kind = FILE_LIST;
	if (!(t->f = fopen(path, "r"))) {
		strata_error_at(e, path, 0, 0);
		strata_error_set(e, errno == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
		                 "cannot read the targets: %s", strerror(errno));
		strata_targets_free(t);
		return e->code;
	}
	*out = t;
	return 0;
}

static int new_query(strata_targets **out, enum kind kind, strata_db *db, const char *sql,
                     const char *url, strata_error *e)
{
	strata_targets *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t || !(t->sql = strdup(sql)) || (url && !(t->url = strdup(url)))) {
		strata_targets_free(t);
		return oom(e);
	}
	t->kind = kind;
	t->db = db;
	*out = t;
	return 0;
}

int strata_targets_query(strata_targets **out, strata_db *db, const char *sql, strata_error *e)
{
	if (!db || !sql)
		return api_bad_arg(e, "strata_targets_query", !db ? "no database" : "no query");
	return new_query(out, QUERY_LIST, db, sql, NULL, e);
}

int strata_targets_schemas(strata_targets **out, const char *url, const char *const *schemas,
                           size_t n, strata_db *db, const char *sql, strata_error *e)
{
	strata_targets *t;
	int error;

	*out = NULL;
	if (!url || (!schemas && !sql) || (sql && !db))
		return api_bad_arg(e, "strata_targets_schemas",
		                   "it needs the URL, and the schemas or a query and its database");
	if (sql)
		return new_query(out, SCHEMA_QUERY, db, sql, url, e);
	if ((error = new_query(out, SCHEMA_LIST, NULL, "", url, e)) < 0)
		return error;
	t = *out;
	if (!(t->schemas = calloc(n ? n : 1, sizeof(*t->schemas)))) {
		strata_targets_free(t);
		*out = NULL;
		return oom(e);
	}
	for (t->nschemas = 0; t->nschemas < n; t->nschemas++) {
		if (!(t->schemas[t->nschemas] = strdup(schemas[t->nschemas]))) {
			strata_targets_free(t);
			*out = NULL;
			return oom(e);
		}
	}
	return 0;
}

/* One line of the file: 1 with *url (and *name) pointing into the line, 0 at the end. */
static int file_next(strata_targets *t, const char **name, const char **url, strata_error *e)
{
	ssize_t len;
	while ((len = getline(&t->buf, &t->cap, t->f)) >= 0) {
		char *p = t->buf, *words[3];
		int n = 0;
		t->line++;
		if ((p = strchr(t->buf, '#')) != NULL)
			*p = '\0';
		for (char *w = strtok(t->buf, " \t\r\n"); w && n < 3; w = strtok(NULL, " \t\r\n"))
			words[n++] = w;
		if (n == 0)
			continue;
		if (n > 2) {
			strata_error_at(e, t->path, t->line, 0);
			strata_error_hint(e, "a line is URL, or NAME URL");
			return strata_error_set(e, STRATA_EINVALID, "a target line has %s words",
			                        "more than two");
		}
		*name = n == 2 ? words[0] : NULL;
		*url = words[n - 1];
		return 1;
	}
	if (ferror(t->f)) {
		strata_error_at(e, t->path, t->line, 0);
		return strata_error_set(e, STRATA_ERROR, "cannot read the targets");
	}
	return 0;
}

/* The next row of the query, reading the next page when this one is used up: 1 with *row, 0 at
 * the end. */
static int query_next(strata_targets *t, size_t *row, strata_error *e)
{
	strata_buf q = STRATA_BUF_INIT;
	strata_conn *c;
	int error;

	if (t->page && t->at < strata_rows_count(t->page)) {
		*row = t->at++;
		return 1;
	}
	if (t->last_page)
		return 0;
	strata_rows_free(t->page);
	t->page = NULL;
	/* a stable order, so the pages neither repeat nor skip a row */
	strata_buf_printf(&q, "SELECT * FROM (%s) AS strata_targets ORDER BY 1 LIMIT %d OFFSET %zu",
	                  t->sql, PAGE, t->offset);
	if (q.failed)
		return oom(e);
	c = t->db->conn;
	error = c->engine->query(c, strata_buf_cstr(&q), NULL, 0, &t->page, e);
	strata_buf_free(&q);
	if (error < 0) {
		strata_error_detail(e, "the query of the targets failed");
		return error;
	}
	t->offset += strata_rows_count(t->page);
	t->last_page = strata_rows_count(t->page) < PAGE;
	t->at = 0;
	if (strata_rows_count(t->page) == 0)
		return 0;
	*row = t->at++;
	return 1;
}

int strata_targets_next(void *ud, strata_target *out, strata_error *e)
{
	strata_targets *t = ud;
	const char *name = NULL, *url = NULL;
	size_t row = 0;
	int got;

	memset(out, 0, sizeof(*out));
	switch (t->kind) {
	case FILE_LIST:
		if ((got = file_next(t, &name, &url, e)) <= 0)
			return got;
		out->name = name;
		out->url = url;
		return 1;
	case SCHEMA_LIST:
		if (t->next == t->nschemas)
			return 0;
		out->url = t->url;
		out->schema = out->name = t->schemas[t->next++];
		return 1;
	case QUERY_LIST:
	case SCHEMA_QUERY:
		if ((got = query_next(t, &row, e)) <= 0)
			return got;
		if (t->kind == SCHEMA_QUERY) {
			out->url = t->url;
			out->schema = out->name = strata_rows_get(t->page, row, 0);
		} else {
			bool named = strata_rows_columns(t->page) > 1;
			out->name = named ? strata_rows_get(t->page, row, 0) : NULL;
			out->url = strata_rows_get(t->page, row, named ? 1 : 0);
		}
		if (!out->url || (t->kind == SCHEMA_QUERY && !out->schema))
			return strata_error_set(e, STRATA_EINVALID,
			                        "the query of the targets gave a NULL %s (row %zu)",
			                        t->kind == SCHEMA_QUERY ? "schema" : "URL",
			                        t->offset - strata_rows_count(t->page) + row + 1);
		return 1;
	}
	return 0;
}

long strata_targets_count(strata_targets *t, strata_error *e)
{
	strata_buf q = STRATA_BUF_INIT;
	strata_rows *r = NULL;
	long n = -1;

	if (t->kind == SCHEMA_LIST)
		return (long)t->nschemas;
	if (t->kind == FILE_LIST) {
		FILE *f = fopen(t->path, "r");
		char *line = NULL;
		size_t cap = 0;
		if (!f)
			return -1;
		for (n = 0; getline(&line, &cap, f) >= 0;) {
			char *p = line + strspn(line, " \t\r\n");
			n += *p && *p != '#' && *p != '\n';
		}
		free(line);
		fclose(f);
		return n;
	}
	strata_buf_printf(&q, "SELECT count(*) FROM (%s) AS strata_targets", t->sql);
	if (!q.failed &&
	    t->db->conn->engine->query(t->db->conn, strata_buf_cstr(&q), NULL, 0, &r, e) == 0 &&
	    strata_rows_count(r) == 1)
		n = atol(strata_rows_get(r, 0, 0));
	strata_rows_free(r);
	strata_buf_free(&q);
	return n;
}

void strata_targets_free(strata_targets *t)
{
	if (!t)
		return;
	if (t->f)
		fclose(t->f);
	for (size_t i = 0; i < t->nschemas; i++)
		free(t->schemas[i]);
	free(t->schemas);
	strata_rows_free(t->page);
	free(t->buf);
	free(t->path);
	free(t->sql);
	free(t->url);
	free(t);
}
