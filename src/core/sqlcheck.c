#include "core/sqlcheck.h"

#include <ctype.h>
#include <pg_query.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/dburl.h"
#include "util/error.h"
#include "util/text.h"

/* ---- dialect ---------------------------------------------------------------------------- */

static const struct dialect_name {
	const char *name;
	strata_dialect d;
} dialect_names[] = {
    {"postgres", STRATA_DIALECT_POSTGRES}, {"postgresql", STRATA_DIALECT_POSTGRES},
    {"pg", STRATA_DIALECT_POSTGRES},       {"sqlite", STRATA_DIALECT_SQLITE},
    {"sqlite3", STRATA_DIALECT_SQLITE},
};

int strata_dialect_parse(strata_dialect *out, const char *name, strata_error *e)
{
	for (size_t i = 0; i < sizeof(dialect_names) / sizeof(dialect_names[0]); i++) {
		if (strcmp(name, dialect_names[i].name) == 0) {
			*out = dialect_names[i].d;
			return 0;
		}
	}
	strata_error_hint(e, "the dialect is 'postgres' or 'sqlite'");
	return strata_error_set(e, STRATA_EINVALID, "unknown SQL dialect '%s'", name);
}

const char *strata_dialect_name(strata_dialect d)
{
	return d == STRATA_DIALECT_POSTGRES ? "postgres" : "sqlite";
}

int strata_dialect_pick(strata_dialect *out, const char *name, const char *database_url,
                        strata_error *e)
{
	strata_dburl u = {0};
	int error;

	*out = STRATA_DIALECT_SQLITE;
	if (name && *name)
		return strata_dialect_parse(out, name, e);
	if (!database_url || !*database_url)
		return 0;
	if ((error = strata_dburl_parse(&u, database_url, e)) < 0) {
		strata_error_hint(e, "the SQL dialect comes from the database URL when neither "
		                     "--dialect nor \"dialect\" in strata.json sets it");
		return error;
	}
	*out = u.kind == STRATA_DB_POSTGRES ? STRATA_DIALECT_POSTGRES : STRATA_DIALECT_SQLITE;
	strata_dburl_free(&u);
	return 0;
}

/* ---- PostgreSQL ----------------------------------------------------------------------------- */

static yajl_val obj_get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static size_t get_size(yajl_val obj, const char *key)
{
	yajl_val v = obj_get(obj, key);
	return YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0 ? (size_t)YAJL_GET_INTEGER(v) : 0;
}

static int pg_syntax_error(const strata_section *s, const char *sql, size_t len,
                           const PgQueryError *err, strata_error *e)
{
	size_t at;
	/* cursorpos is 1-based and counts characters, not bytes; 0 means no position */
	if (err->cursorpos > 0)
		at = strata_utf8_char_to_byte(sql, len, (size_t)err->cursorpos - 1);
	else
		at = strata_sql_skip_noise(sql, 0, len);
	strata_section_locate(s, at, e);
	strata_error_hint(e,
	                  "migrations are checked as PostgreSQL %s SQL; choose another dialect "
	                  "with --dialect or \"dialect\" in strata.json",
	                  PG_MAJORVERSION);
	return strata_error_set(e, STRATA_EINVALID, "%s",
	                        err->message ? err->message : "syntax error");
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int strata_sqlcheck_pg(strata_pg_section *out, const strata_section *s, strata_error *e)
{
	PgQueryParseResult r = {0};
	char *sql = NULL, errbuf[256];
	yajl_val stmts;
	size_t len = s->len;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->sec = s;
	if (!s->present)
		return 0;
	sql = strndup(s->text + s->offset, s->len);
	if (!sql) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	r = pg_query_parse(sql);
	if (r.error) {
		error = pg_syntax_error(s, sql, len, r.error, e);
		goto done;
	}
	out->tree = yajl_tree_parse(r.parse_tree, errbuf, sizeof(errbuf));
	stmts = obj_get(out->tree, "stmts");
	if (!out->tree || (stmts && !YAJL_IS_ARRAY(stmts))) {
		strata_section_locate(s, 0, e);
		error =
		    strata_error_set(e, STRATA_ERROR, "cannot read the parse tree of libpg_query");
		goto done;
	}
	if (!stmts || stmts->u.array.len == 0)
		goto done;
	out->stmts = calloc(stmts->u.array.len, sizeof(*out->stmts));
	if (!out->stmts) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < stmts->u.array.len; i++) {
		yajl_val raw = stmts->u.array.values[i];
		yajl_val node = obj_get(raw, "stmt");
		strata_sql_stmt *st = &out->stmts[out->n];
		size_t loc = get_size(raw, "stmt_location"), slen = get_size(raw, "stmt_len");
		size_t end = slen ? loc + slen : len;
		if (loc > len || end > len || !YAJL_IS_OBJECT(node) || node->u.object.len != 1)
			continue;
		st->lead = loc;
		st->off = strata_sql_skip_noise(sql, loc, end);
		while (end > st->off && (is_blank(sql[end - 1]) || sql[end - 1] == ';'))
			end--;
		st->len = end - st->off;
		st->kind = node->u.object.keys[0];
		st->node = node->u.object.values[0];
		out->n++;
	}
done:
	pg_query_free_parse_result(r);
	free(sql);
	if (error < 0)
		strata_pg_section_free(out);
	return error;
}

void strata_pg_section_free(strata_pg_section *p)
{
	if (!p)
		return;
	free(p->stmts);
	yajl_tree_free(p->tree);
	memset(p, 0, sizeof(*p));
}

/* ---- SQLite --------------------------------------------------------------------------------- */

struct sq_check {
	sqlite3 *db;
	bool attach;      /* the statement being prepared attaches or detaches a database */
	bool txn_control; /* ... begins, commits or rolls back, or is a savepoint */
};

static int authorize(void *p, int action, const char *a, const char *b, const char *c,
                     const char *d)
{
	struct sq_check *k = p;
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
		k->attach = true;
	else if (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT)
		k->txn_control = true;
	return SQLITE_OK;
}

static bool starts_with_word(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);
	return len >= wl && strncasecmp(s, word, wl) == 0 &&
	       (len == wl || !(isalnum((unsigned char)s[wl]) || s[wl] == '_'));
}

static int sq_error(struct sq_check *k, const strata_section *sec, const char *which, size_t at,
                    strata_error *e)
{
	const char *msg = sqlite3_errmsg(k->db);
	strata_section_locate(sec, at, e);
	if (strstr(msg, "within a transaction") || strstr(msg, "transaction within"))
		strata_error_hint(e,
		                  "this statement cannot run inside the migration's transaction; "
		                  "mark the section '-- migrate:%s transaction:false'",
		                  which);
	else
		strata_error_detail(e, "SQLite migrations are checked by applying them in order to "
		                       "an empty in-memory database");
	return strata_error_set(e, STRATA_EINVALID, "%s", msg);
}

/* Prepares and runs one statement (its text may hold more than one only when SQLite says so). */
static int sq_statement(struct sq_check *k, const strata_section *sec, const char *which,
                        const strata_sql_piece *pc, bool in_txn, bool keep_txn, strata_error *e)
{
	const char *text = pc->text, *p = text, *end = text + (pc->end - pc->off);
	int error = 0;

	while (p < end && error == 0) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		size_t at =
		    pc->off + strata_sql_skip_noise(text, (size_t)(p - text), pc->end - pc->off);
		int rc;
		k->attach = k->txn_control = false;
		/* the length counts the NUL after the statement: SQLite then reads it in place
		 * instead of copying it */
		rc = sqlite3_prepare_v2(k->db, p, (int)(end - p) + 1, &st, &tail);
		if (rc == SQLITE_OK && !st)
			break; /* only white space and comments are left */
		if (rc == SQLITE_OK && !k->attach &&
		    !(keep_txn && (k->txn_control || starts_with_word(sec->text + sec->offset + at,
		                                                      sec->len - at, "vacuum")))) {
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				;
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
		if (rc == SQLITE_OK && in_txn && sqlite3_get_autocommit(k->db)) {
			strata_section_locate(sec, at, e);
			strata_error_hint(e,
			                  "remove it, or mark the section '-- migrate:%s "
			                  "transaction:false'",
			                  which);
			error = strata_error_set(
			    e, STRATA_EINVALID,
			    "statement ends the transaction the migration runs in");
		} else if (rc != SQLITE_OK) {
			int off = sqlite3_error_offset(k->db);
			if (off >= 0 && p + off < end)
				at = pc->off + (size_t)(p - text) + (size_t)off;
			error = sq_error(k, sec, which, at, e);
		}
		sqlite3_finalize(st);
		if (!tail || tail <= p)
			break;
		p = tail;
	}
	return error;
}

/* Runs a section's statements one by one, like the SQLite backend does (split by SQLite's own
 * tokenizer, core/sqlsplit.h). `in_txn`: inside our savepoint, which no statement may end. In
 * `keep_txn` mode (a non-transactional down section, run inside the savepoint all the same)
 * statements that would end it are parsed but not run. */
static int sq_section(struct sq_check *k, const strata_section *sec, const char *which, bool in_txn,
                      bool keep_txn, strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece pc;
	int error, more = 0;

	if ((error = strata_sql_split_new(&sp, STRATA_DIALECT_SQLITE, sec, e)) < 0)
		return error;
	while (error == 0 && (more = strata_sql_split_next(sp, &pc, e)) > 0)
		error = sq_statement(k, sec, which, &pc, in_txn, keep_txn, e);
	if (error == 0 && more < 0)
		error = more;
	strata_sql_split_free(sp);
	return error;
}

static int sq_exec(struct sq_check *k, const char *sql, const strata_section *sec, strata_error *e)
{
	if (sqlite3_exec(k->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	strata_section_locate(sec, strata_sql_skip_noise(sec->text + sec->offset, 0, sec->len), e);
	strata_error_hint(e, "remove BEGIN, COMMIT or ROLLBACK from the migration, or mark the "
	                     "section 'transaction:false'");
	return strata_error_set(e, STRATA_EINVALID,
	                        "the migration ends the transaction it runs in");
}

static int sq_migration(struct sq_check *k, const strata_migration *m, strata_error *e)
{
	int error = 0;
	if (!m->up.no_transaction)
		error = sq_exec(k, "SAVEPOINT strata_up", &m->up, e);
	if (error == 0)
		error = sq_section(k, &m->up, "up", !m->up.no_transaction, false, e);
	if (error == 0 && !m->up.no_transaction)
		error = sq_exec(k, "RELEASE strata_up", &m->up, e);
	if (error < 0 || !m->down.present)
		return error;
	/* the down section against what the up section left, then undone */
	if ((error = sq_exec(k, "SAVEPOINT strata_down", &m->down, e)) < 0)
		return error;
	error = sq_section(k, &m->down, "down", true, m->down.no_transaction, e);
	if (error == 0)
		error = sq_exec(k, "ROLLBACK TO strata_down", &m->down, e);
	if (error == 0)
		error = sq_exec(k, "RELEASE strata_down", &m->down, e);
	return error;
}

int strata_sqlcheck_sqlite(const strata_catalog *c, strata_error *e)
{
	struct sq_check k = {0};
	int error = 0;

	if (sqlite3_open_v2(":memory:", &k.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		error =
		    strata_error_set(e, STRATA_ERROR, "cannot open an in-memory SQLite database");
		goto done;
	}
	sqlite3_set_authorizer(k.db, authorize, &k);
	for (size_t i = 0; i < c->n && error == 0; i++)
		error = sq_migration(&k, c->items[i], e);
done:
	sqlite3_close(k.db);
	return error;
}
