/* adopt.c: the other tools' history tables, read and matched to strata's migrations. */
#include "core/adopt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

/* ---- reading rows ----------------------------------------------------------------------- */

/* Runs head, the qualified table qt, then tail; *out the rows. */
static int select_rows(strata_conn *c, strata_rows **out, const char *head, const char *qt,
                       const char *tail, strata_error *e)
{
	strata_buf sql = STRATA_BUF_INIT;
	int error;

	strata_buf_puts(&sql, head);
	strata_buf_puts(&sql, qt);
	strata_buf_puts(&sql, tail);
	error = c->engine->query(c, strata_buf_cstr(&sql), NULL, 0, out, e);
	strata_buf_free(&sql);
	return error;
}

static bool truthy(const char *v)
{
	return v && (strcmp(v, "t") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	             strcmp(v, "TRUE") == 0);
}

static int add_item(adopt_history *h, const char *as, const char *version, const char *name,
                    size_t name_len, bool upto, strata_error *e)
{
	adopt_item *it;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 32;
		adopt_item *p = realloc(h->items, cap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		h->items = p;
		h->cap = cap;
	}
	it = &h->items[h->n];
	memset(it, 0, sizeof(*it));
	it->upto = upto;
	it->as = strdup(as);
	it->version = version && strata_is_version(version) ? strdup(version) : NULL;
	it->name = name ? strndup(name, name_len) : NULL;
	if (!it->as || (version && strata_is_version(version) && !it->version) ||
	    (name && !it->name)) {
		free(it->as);
		free(it->version);
		free(it->name);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	h->n++;
	return 0;
}

/* The hint of a refusal of a history that is not clean: make it clean with that tool first. */
static void unclean(strata_error *e, const char *hint)
{
	strata_error_hint(e, "%s; adopt reads only a clean history, and changed nothing", hint);
}

/* ---- the tools ---------------------------------------------------------------------------- */

/* TypeORM: the class name ends with its timestamp: CreateUsers1732233600000 is the migration
 * 1732233600000-CreateUsers. */
static int read_typeorm(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error =
	    select_rows(c, &r, "SELECT \"timestamp\", \"name\" FROM ", qt, " ORDER BY \"id\"", e);
	for (size_t i = 0; error == 0 && i < strata_rows_count(r); i++) {
		const char *ts = strata_rows_get(r, i, 0), *cls = strata_rows_get(r, i, 1);
		size_t cl = cls ? strlen(cls) : 0, tl = ts ? strlen(ts) : 0;
		if (!cls)
			continue;
		if (tl && cl > tl && strcmp(cls + cl - tl, ts) == 0)
			cl -= tl;
		error = add_item(h, cls, ts, cls, cl, false, e);
	}
	strata_rows_free(r);
	return error;
}

/* dbmate: one row per applied version. */
static int read_dbmate(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error = select_rows(c, &r, "SELECT \"version\" FROM ", qt, "", e);
	for (size_t i = 0; error == 0 && i < strata_rows_count(r); i++) {
		const char *v = strata_rows_get(r, i, 0);
		if (v)
			error = add_item(h, v, v, NULL, 0, false, e);
	}
	strata_rows_free(r);
	return error;
}

/* golang-migrate: one row, the current version; every migration up to it is applied. */
static int read_golang_migrate(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error = select_rows(c, &r, "SELECT \"version\", \"dirty\" FROM ", qt, "", e);
	char as[64];

	if (error < 0)
		return error;
	if (strata_rows_count(r) > 1) {
		unclean(e, "golang-migrate keeps exactly one row: delete the others by hand");
		error = strata_error_set(e, STRATA_EINVALID, "%s has several rows", h->table);
	} else if (strata_rows_count(r) == 1 && truthy(strata_rows_get(r, 0, 1))) {
		const char *v = strata_rows_get(r, 0, 0);
		strata_error_detail(e,
		                    "a migration failed part-way: the database may hold part of "
		                    "version %s",
		                    v ? v : "?");
		unclean(e, "fix the database by hand, then mark it with golang-migrate's 'migrate "
		           "force VERSION'");
		error = strata_error_set(e, STRATA_EINVALID, "%s is dirty at version %s", h->table,
		                         v ? v : "?");
	} else if (strata_rows_count(r) == 1 && strata_rows_get(r, 0, 0) &&
	           strata_is_version(strata_rows_get(r, 0, 0))) { /* -1: nothing applied */
		const char *v = strata_rows_get(r, 0, 0);
		snprintf(as, sizeof(as), "version <= %s", v);
		error = add_item(h, as, v, NULL, 0, true, e);
	}
	strata_rows_free(r);
	return error;
}

/* goose: a row per up (and, before goose v3, per down, with is_applied false); version 0 is
 * goose's own first row. A version is applied when its latest row says so. */
static int read_goose(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error = select_rows(c, &r, "SELECT g.\"version_id\", g.\"is_applied\" FROM ", qt,
	                        " g ORDER BY g.\"version_id\", g.\"id\"", e);
	size_t n = error < 0 ? 0 : strata_rows_count(r);

	for (size_t i = 0; error == 0 && i < n; i++) {
		const char *v = strata_rows_get(r, i, 0);
		const char *next = i + 1 < n ? strata_rows_get(r, i + 1, 0) : NULL;
		if (!v || strcmp(v, "0") == 0 || (next && strcmp(next, v) == 0))
			continue; /* not its latest row */
		if (!truthy(strata_rows_get(r, i, 1))) {
			unclean(e, "apply or roll it back with goose so its latest row is applied, "
			           "or delete its rows by hand if it is not applied");
			error =
			    strata_error_set(e, STRATA_EINVALID,
			                     "%s records version %s as not applied", h->table, v);
		} else
			error = add_item(h, v, v, NULL, 0, false, e);
	}
	strata_rows_free(r);
	return error;
}

/* The item of version v, to drop it (Flyway's undo and delete rows). */
static void drop_version(adopt_history *h, const char *v)
{
	for (size_t i = h->n; i-- > 0;) {
		adopt_item *it = &h->items[i];
		if (it->version && !it->upto && strcmp(it->version, v) == 0) {
			free(it->as);
			free(it->version);
			free(it->name);
			memmove(it, it + 1, (h->n - i - 1) * sizeof(*it));
			h->n--;
			return;
		}
	}
}

/* Flyway: a row per migration run, in installed_rank order; BASELINE stands for every version
 * up to its own, UNDO_* and DELETE rows take a version back, SCHEMA rows are Flyway's own. */
static int read_flyway(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error =
	    select_rows(c, &r, "SELECT \"version\", \"type\", \"success\", \"script\" FROM ", qt,
	                " ORDER BY \"installed_rank\"", e);
	for (size_t i = 0; error == 0 && i < strata_rows_count(r); i++) {
		const char *v = strata_rows_get(r, i, 0), *type = strata_rows_get(r, i, 1);
		const char *script = strata_rows_get(r, i, 3);
		char as[600];
		type = type ? type : "";
		if (!truthy(strata_rows_get(r, i, 2))) {
			unclean(e,
			        "fix the database, then run Flyway's 'repair' to remove the failed "
			        "row");
			error =
			    strata_error_set(e, STRATA_EINVALID, "%s has a failed migration: %s",
			                     h->table, script ? script : "?");
		} else if (strcmp(type, "SCHEMA") == 0) {
			continue;
		} else if (v && (strncmp(type, "UNDO", 4) == 0 || strcmp(type, "DELETE") == 0)) {
			drop_version(h, v);
		} else if (v && strcmp(type, "BASELINE") == 0 && !strata_is_version(v)) {
			strata_error_hint(
			    e, "strata's versions are whole numbers: adopt a Flyway history "
			       "whose versions are (rename V1.1__x.sql to an integer version)");
			error = strata_error_set(
			    e, STRATA_EINVALID,
			    "%s has a baseline at version %s, which is not a whole "
			    "number",
			    h->table, v);
		} else if (v && strcmp(type, "BASELINE") == 0) {
			snprintf(as, sizeof(as), "baseline %s", v);
			error = add_item(h, as, v, NULL, 0, true, e);
		} else {
			snprintf(as, sizeof(as), "%s", script ? script : v ? v : "?");
			error = add_item(h, as, v, NULL, 0, false, e);
		}
	}
	strata_rows_free(r);
	return error;
}

/* ---- where a table is ----------------------------------------------------------------------- */

static bool is_pg(const strata_conn *c)
{
	return c->engine->dialect == STRATA_DIALECT_POSTGRES;
}

static void quote_ident(strata_buf *b, const char *id)
{
	strata_buf_put(b, "\"", 1);
	for (; *id; id++) {
		if (*id == '"')
			strata_buf_put(b, "\"", 1);
		strata_buf_put(b, id, 1);
	}
	strata_buf_put(b, "\"", 1);
}

/* Finds table (in schema, or the first schema of the search path that has it): 1 with *qt
 * (quoted, for SQL) and *shown, 0 when it is not there. */
static int locate(strata_conn *c, const char *table, const char *schema, char **qt, char **shown,
                  strata_error *e)
{
	static const char pg_sql[] =
	    "SELECT n.nspname FROM pg_catalog.pg_class c "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
	    "AND ($2::text IS NULL OR n.nspname = $2) "
	    "ORDER BY array_position(current_schemas(false), n.nspname) NULLS LAST, n.nspname "
	    "LIMIT 1";
	static const char sqlite_sql[] =
	    "SELECT 'main' FROM sqlite_schema WHERE type IN ('table', 'view') AND name = $1";
	const char *params[] = {table, schema};
	strata_buf q = STRATA_BUF_INIT, s = STRATA_BUF_INIT;
	strata_rows *r;
	int error;

	*qt = *shown = NULL;
	if (!is_pg(c) && schema && strcmp(schema, "main") != 0) {
		strata_error_hint(e, "a SQLite database has one schema, main: leave out "
		                     "strata_adopt_options.schema");
		return strata_error_set(e, STRATA_EINVALID, "no schema '%s' in a SQLite database",
		                        schema);
	}
	if ((error = c->engine->query(c, is_pg(c) ? pg_sql : sqlite_sql, params, is_pg(c) ? 2 : 1,
	                              &r, e)) < 0)
		return error;
	if (strata_rows_count(r) == 0) {
		strata_rows_free(r);
		return 0;
	}
	if (is_pg(c)) {
		quote_ident(&q, strata_rows_get(r, 0, 0));
		strata_buf_put(&q, ".", 1);
		strata_buf_printf(&s, "%s.", strata_rows_get(r, 0, 0));
	}
	quote_ident(&q, table);
	strata_buf_puts(&s, table);
	strata_rows_free(r);
	*qt = strata_buf_detach(&q);
	*shown = strata_buf_detach(&s);
	if (!*qt || !*shown) {
		free(*qt);
		free(*shown);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	return 1;
}

/* Whether the table shown as `shown` ("schema.table" or "table") has column col. */
static int has_column(strata_conn *c, const char *shown, const char *col, strata_error *e)
{
	const char *dot = is_pg(c) ? strchr(shown, '.') : NULL;
	char *schema = dot ? strndup(shown, (size_t)(dot - shown)) : NULL;
	const char *params[] = {dot ? dot + 1 : shown, col, schema};
	strata_rows *r;
	int error;

	if (dot && !schema)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	error = c->engine->query(c,
	                         is_pg(c)
	                             ? "SELECT 1 FROM pg_catalog.pg_attribute a "
	                               "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
	                               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	                               "WHERE c.relname = $1 AND a.attname = $2 AND n.nspname = $3 "
	                               "AND a.attnum > 0 AND NOT a.attisdropped"
	                             : "SELECT 1 FROM pragma_table_info($1) WHERE name = $2",
	                         params, is_pg(c) ? 3 : 2, &r, e);
	free(schema);
	if (error < 0)
		return error;
	error = strata_rows_count(r) > 0;
	strata_rows_free(r);
	return error;
}

/* knex: a held knex_migrations_lock means a knex run is under way, or died holding it. */
static int knex_lock_held(strata_conn *c, const adopt_history *h, const char *table,
                          const char *schema, strata_error *e)
{
	strata_buf lock = STRATA_BUF_INIT;
	char *qt, *shown;
	strata_rows *r = NULL;
	int error;

	strata_buf_printf(&lock, "%s_lock", table);
	error = locate(c, strata_buf_cstr(&lock), schema, &qt, &shown, e);
	strata_buf_free(&lock);
	if (error <= 0)
		return error;
	error = select_rows(c, &r, "SELECT 1 FROM ", qt, " WHERE \"is_locked\" = 1", e);
	if (error == 0 && strata_rows_count(r) > 0) {
		strata_error_detail(e,
		                    "%s says a knex migration run is under way, or died holding "
		                    "it",
		                    shown);
		unclean(e, "wait for that run, or release a stale lock with 'knex migrate:unlock'");
		error = strata_error_set(e, STRATA_EINVALID, "%s is locked", h->table);
	}
	strata_rows_free(r);
	free(qt);
	free(shown);
	return error;
}

/* knex: the file name, 20241101120000_create_users.js, is the migration 20241101120000 named
 * create_users. */
static int read_knex(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error = select_rows(c, &r, "SELECT \"name\" FROM ", qt, " ORDER BY \"id\"", e);
	for (size_t i = 0; error == 0 && i < strata_rows_count(r); i++) {
		const char *f = strata_rows_get(r, i, 0), *dot, *name;
		size_t nd = 0;
		char version[64];
		if (!f)
			continue;
		while (f[nd] >= '0' && f[nd] <= '9' && nd < sizeof(version) - 1)
			nd++;
		memcpy(version, f, nd);
		version[nd] = '\0';
		name = f + nd + (f[nd] == '_' || f[nd] == '-');
		dot = strrchr(name, '.');
		error = add_item(h, f, nd ? version : NULL, name,
		                 dot ? (size_t)(dot - name) : strlen(name), false, e);
	}
	strata_rows_free(r);
	return error;
}

/* sqitch: changes deployed, by name; one project per registry. */
static int read_sqitch(strata_conn *c, const char *qt, adopt_history *h, strata_error *e)
{
	strata_rows *r;
	int error = select_rows(c, &r, "SELECT \"change\", \"project\" FROM ", qt,
	                        " ORDER BY \"committed_at\", \"change\"", e);
	const char *project = NULL;
	for (size_t i = 0; error == 0 && i < strata_rows_count(r); i++) {
		const char *ch = strata_rows_get(r, i, 0), *p = strata_rows_get(r, i, 1);
		if (p && project && strcmp(p, project) != 0) {
			strata_error_detail(e, "changes of projects '%s' and '%s'", project, p);
			unclean(e, "adopt one project per database: a registry of several is not "
			           "supported yet");
			error = strata_error_set(e, STRATA_EINVALID,
			                         "%s holds several sqitch projects", h->table);
			break;
		}
		project = p ? p : project;
		if (ch)
			error = add_item(h, ch, NULL, ch, strlen(ch), false, e);
	}
	strata_rows_free(r);
	return error;
}

struct tool {
	strata_tool id;
	const char *table, *schema;
	const char *entries;                   /* what counts its entries (after FROM the table) */
	const char *has_column, *lacks_column; /* tells it from a tool with the same table */
	int (*read)(strata_conn *c, const char *qt, adopt_history *h, strata_error *e);
};

static const struct tool tools[] = {
    {STRATA_TOOL_TYPEORM, "migrations", NULL, "", "timestamp", NULL, read_typeorm},
    {STRATA_TOOL_DBMATE, "schema_migrations", NULL, "", "version", "dirty", read_dbmate},
    {STRATA_TOOL_GOLANG_MIGRATE, "schema_migrations", NULL, "", "dirty", NULL, read_golang_migrate},
    /* goose's own first row, version 0, is not an entry */
    {STRATA_TOOL_GOOSE, "goose_db_version", NULL, " WHERE \"version_id\" <> 0", "is_applied", NULL,
     read_goose},
    {STRATA_TOOL_FLYWAY, "flyway_schema_history", NULL, " WHERE \"type\" <> 'SCHEMA'",
     "installed_rank", NULL, read_flyway},
    {STRATA_TOOL_KNEX, "knex_migrations", NULL, "", "batch", NULL, read_knex},
    {STRATA_TOOL_SQITCH, "changes", "sqitch", "", "change_id", NULL, read_sqitch},
    {0},
};

static const struct tool *tool_of(strata_tool id)
{
	for (const struct tool *t = tools; t->table; t++)
		if (t->id == id)
			return t;
	return NULL;
}

/* Whether the table at shown has the columns of t: 1, 0, or < 0 on error. */
static int looks_like(strata_conn *c, const struct tool *t, const char *shown, strata_error *e)
{
	int has = has_column(c, shown, t->has_column, e);
	if (has <= 0 || !t->lacks_column)
		return has;
	has = has_column(c, shown, t->lacks_column, e);
	return has < 0 ? has : !has;
}

int adopt_detect(strata_conn *c, adopt_found *found, size_t *n, strata_error *e)
{
	*n = 0;
	for (const struct tool *t = tools; t->table; t++) {
		strata_rows *r = NULL;
		char *qt, *shown;
		int error = locate(c, t->table, is_pg(c) ? t->schema : NULL, &qt, &shown, e);
		if (error == 0)
			continue;
		if (error > 0 && (error = looks_like(c, t, shown, e)) > 0 &&
		    (error = select_rows(c, &r, "SELECT count(*) FROM ", qt, t->entries, e)) == 0 &&
		    strata_rows_count(r) == 1 && atol(strata_rows_get(r, 0, 0)) > 0) {
			found[*n].tool = t->id;
			found[*n].rows = atol(strata_rows_get(r, 0, 0));
			found[(*n)++].table = shown;
			shown = NULL;
		}
		strata_rows_free(r);
		free(qt);
		free(shown);
		if (error < 0) {
			adopt_found_free(found, *n);
			*n = 0;
			return error;
		}
	}
	return 0;
}

void adopt_found_free(adopt_found *found, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(found[i].table);
}

/* The error for a tool's table that is not there, or is another tool's. */
static int not_there(strata_conn *c, const struct tool *t, const char *table, const char *schema,
                     const char *shown, strata_error *e)
{
	const char *name = strata_tool_name(t->id);
	if (shown) {
		strata_error_hint(e,
		                  "%s's table has a column '%s'%s%s: is it another tool's? "
		                  "Name the tool with strata_adopt_options.tool",
		                  name, t->has_column, t->lacks_column ? " and no column " : "",
		                  t->lacks_column ? t->lacks_column : "");
		return strata_error_set(e, STRATA_EINVALID, "%s is not %s's history table", shown,
		                        name);
	}
	if (!is_pg(c) && t->id == STRATA_TOOL_SQITCH)
		strata_error_hint(e, "sqitch keeps a SQLite registry in a file of its own "
		                     "(sqitch.db): adopting it is not supported yet");
	else
		strata_error_hint(e,
		                  "is this the database %s migrated? If its table was renamed, "
		                  "name it with strata_adopt_options.table%s",
		                  name, is_pg(c) ? " (and strata_adopt_options.schema)" : "");
	return strata_error_set(e, STRATA_ENOTFOUND, "no %s history here: there is no table %s%s%s",
	                        name, schema ? schema : "", schema ? "." : "", table);
}

int adopt_read(strata_conn *c, strata_tool tool, const char *table, const char *schema,
               adopt_history *out, strata_error *e)
{
	const struct tool *t = tool_of(tool);
	char *qt = NULL, *shown = NULL;
	int error;

	memset(out, 0, sizeof(*out));
	out->tool = tool;
	if (!t)
		return strata_error_set(e, STRATA_EINVALID, "no tool to adopt from");
	table = table ? table : t->table;
	schema = schema ? schema : is_pg(c) ? t->schema : NULL;
	if ((error = locate(c, table, schema, &qt, &shown, e)) <= 0) {
		if (error == 0)
			error = not_there(c, t, table, schema, NULL, e);
		return error;
	}
	out->table = shown;
	if ((error = looks_like(c, t, shown, e)) <= 0) {
		if (error == 0)
			error = not_there(c, t, table, schema, shown, e);
		goto done;
	}
	if (tool == STRATA_TOOL_KNEX && (error = knex_lock_held(c, out, table, schema, e)) < 0)
		goto done;
	error = t->read(c, qt, out, e);
done:
	free(qt);
	if (error < 0)
		adopt_history_free(out);
	return error;
}

void adopt_history_free(adopt_history *h)
{
	for (size_t i = 0; h && i < h->n; i++) {
		free(h->items[i].as);
		free(h->items[i].version);
		free(h->items[i].name);
	}
	if (h) {
		free(h->items);
		free(h->table);
		memset(h, 0, sizeof(*h));
	}
}

/* ---- matching -------------------------------------------------------------------------- */

/* The first migration of c whose version is not below v. */
static size_t lower_bound(const strata_catalog *c, const char *v)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strata_version_cmp(c->items[mid]->version, v) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int ambiguous(const adopt_history *h, const adopt_item *it, const strata_migration *a,
                     const strata_migration *b, strata_error *e)
{
	strata_error_detail(e, "%s-%s (%s) and %s-%s (%s)", a->version, a->name, a->path,
	                    b->version, b->name, b->path);
	strata_error_hint(e,
	                  "rename one of them, or adopt from sources that hold only the one "
	                  "%s applied",
	                  strata_tool_name(h->tool));
	return strata_error_set(e, STRATA_EINVALID, "%s's '%s' could be either of two migrations",
	                        strata_tool_name(h->tool), it->as);
}

/* The one migration item it names: its index in c, or c->n when none is. */
static int match_one(const adopt_history *h, const adopt_item *it, const strata_catalog *c,
                     size_t *at, strata_error *e)
{
	size_t i = it->version ? lower_bound(c, it->version) : 0;
	*at = c->n;
	for (; i < c->n; i++) {
		strata_migration *x = c->items[i];
		if (it->version && strata_version_cmp(x->version, it->version) != 0)
			break;
		if (it->name && strcmp(x->name, it->name) != 0)
			continue;
		if (*at < c->n)
			return ambiguous(h, it, c->items[*at], x, e);
		*at = i;
	}
	return 0;
}

int adopt_match_catalog(adopt_match *out, const adopt_history *h, const strata_catalog *c,
                        strata_error *e)
{
	memset(out, 0, sizeof(*out));
	out->by_migration = calloc(c->n ? c->n : 1, sizeof(*out->by_migration));
	out->item_matched = calloc(h->n ? h->n : 1, sizeof(*out->item_matched));
	if (!out->by_migration || !out->item_matched) {
		adopt_match_free(out);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	for (size_t k = 0; k < h->n; k++) {
		const adopt_item *it = &h->items[k];
		size_t at;
		int error;
		if (it->upto && !it->version)
			continue; /* never made: a range needs its version */
		if (it->upto) {
			size_t end = lower_bound(c, it->version);
			while (end < c->n &&
			       strata_version_cmp(c->items[end]->version, it->version) == 0)
				end++;
			for (size_t i = 0; i < end; i++) {
				if (!out->by_migration[i])
					out->by_migration[i] = it;
				out->item_matched[k] = true;
			}
			continue;
		}
		if (!it->version && !it->name)
			continue; /* nothing strata could match (a repeatable Flyway migration) */
		if ((error = match_one(h, it, c, &at, e)) < 0) {
			adopt_match_free(out);
			return error;
		}
		if (at < c->n && !out->by_migration[at])
			out->by_migration[at] = it;
		out->item_matched[k] = at < c->n;
	}
	for (size_t i = 0; i < c->n; i++)
		out->adopted += out->by_migration[i] != NULL;
	for (size_t k = 0; k < h->n; k++)
		out->only_there += !out->item_matched[k];
	return 0;
}

void adopt_match_free(adopt_match *m)
{
	free(m->by_migration);
	free(m->item_matched);
	memset(m, 0, sizeof(*m));
}
