#include "core/sqlcheck.h"

#include "core/pgq.h"
#include "core/sqlsplit.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (!out || !name)
		return strata_error_set(e, STRATA_EINVALID, "strata_dialect_parse: no %s",
		                        !out ? "out" : "name");
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

/* ---- PostgreSQL ----------------------------------------------------------------------------- */

/* obj's member key (yajl_tree_get with a path of one), or NULL. */
static yajl_val obj_get(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	return YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

static size_t get_size(yajl_val obj, const char *key)
{
	yajl_val v = obj_get(obj, key);
	return YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0 ? (size_t)YAJL_GET_INTEGER(v) : 0;
}

/* Sets e's message to msg (which may be e->msg) with the hint every PostgreSQL parse error gets;
 * returns STRATA_EINVALID. */
static int pg_dialect_hint(strata_error *e, const char *msg)
{
	char copy[sizeof(e->msg)];
	snprintf(copy, sizeof(copy), "%s", msg);
	strata_error_hint(e,
	                  "migrations are checked as PostgreSQL %s SQL; choose another dialect "
	                  "with strata_build_options.dialect",
	                  PG_MAJORVERSION);
	return strata_error_set(e, STRATA_EINVALID, "%s", copy);
}

/* A syntax error in statement text[0, len), which starts at byte `base` of section s. */
static int pg_syntax_error(const strata_section *s, size_t base, const char *text, size_t len,
                           const PgQueryError *err, strata_error *e)
{
	size_t at;
	/* cursorpos is 1-based and counts characters, not bytes; 0 means no position */
	if (err->cursorpos > 0)
		at = strata_utf8_char_to_byte(text, len, (size_t)err->cursorpos - 1);
	else
		at = strata_sql_skip_blank(STRATA_DIALECT_POSTGRES, text, 0, len);
	strata_section_locate(s, base + at, e);
	return pg_dialect_hint(e, err->message ? err->message : "syntax error");
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct strata_pg_parser {
	const strata_section *sec;
	strata_sql_split *split;
	strata_sql_piece piece; /* the statement(s) being read */
	yajl_val tree;          /* the piece's parse tree */
	yajl_val stmts;
	size_t next; /* in stmts */
};

int strata_pg_parser_new(strata_pg_parser **out, const strata_section *s, strata_error *e)
{
	strata_pg_parser *p = calloc(1, sizeof(*p));
	int error;
	*out = NULL;
	if (!p)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	p->sec = s;
	if ((error = strata_sql_split_new(&p->split, STRATA_DIALECT_POSTGRES, s, e)) < 0) {
		free(p);
		return error;
	}
	*out = p;
	return 0;
}

void strata_pg_parser_free(strata_pg_parser *p)
{
	if (!p)
		return;
	yajl_tree_free(p->tree);
	strata_sql_split_free(p->split);
	free(p);
}

/* Splits off the next statement (usually one; text the splitter could not tell apart may hold
 * several) and parses it. 1, 0 at the end, or an error. */
static int parse_piece(strata_pg_parser *p, strata_error *e)
{
	PgQueryParseResult r;
	char errbuf[256];
	size_t len;
	int more;

	yajl_tree_free(p->tree);
	p->tree = p->stmts = NULL;
	p->next = 0;
	if ((more = strata_sql_split_next(p->split, &p->piece, e)) <= 0) {
		if (more < 0 && e->code == STRATA_EINVALID)
			pg_dialect_hint(e, e->msg);
		return more;
	}
	len = p->piece.end - p->piece.off;
	r = pg_query_parse(p->piece.text);
	if (r.error) {
		more = pg_syntax_error(p->sec, p->piece.off, p->piece.text, len, r.error, e);
	} else {
		p->tree = yajl_tree_parse(r.parse_tree, errbuf, sizeof(errbuf));
		p->stmts = obj_get(p->tree, "stmts");
		if (!p->tree || (p->stmts && !YAJL_IS_ARRAY(p->stmts))) {
			strata_section_locate(p->sec, p->piece.off, e);
			more = strata_error_set(e, STRATA_ERROR,
			                        "cannot read the parse tree of libpg_query");
		}
	}
	pg_query_free_parse_result(r);
	return more;
}

int strata_pg_parser_next(strata_pg_parser *p, strata_sql_stmt *out, strata_error *e)
{
	int more;
	for (;;) {
		while (p->stmts && p->next < p->stmts->u.array.len) {
			const char *text = p->piece.text;
			size_t len = p->piece.end - p->piece.off;
			yajl_val raw = p->stmts->u.array.values[p->next++];
			yajl_val node = obj_get(raw, "stmt");
			size_t loc = get_size(raw, "stmt_location"),
			       slen = get_size(raw, "stmt_len");
			size_t end = slen ? loc + slen : len, off;
			if (loc > len || end > len || !YAJL_IS_OBJECT(node) ||
			    node->u.object.len != 1)
				continue;
			off = strata_sql_skip_blank(STRATA_DIALECT_POSTGRES, text, loc, end);
			while (end > off && (is_blank(text[end - 1]) || text[end - 1] == ';'))
				end--;
			out->lead = p->next == 1 ? p->piece.lead : p->piece.off + loc;
			out->off = p->piece.off + off;
			out->len = end - off;
			out->base = p->piece.off;
			out->kind = node->u.object.keys[0];
			out->node = node->u.object.values[0];
			return 1;
		}
		if ((more = parse_piece(p, e)) <= 0)
			return more;
	}
}

/* ---- SQLite --------------------------------------------------------------------------------- */

struct strata_sqlcheck {
	sqlite3 *db;
	const strata_catalog *base; /* applied first, in version order among the checked */
	size_t b;                   /* base's migrations applied so far */
	bool attach;      /* the statement being prepared attaches or detaches a database */
	bool txn_control; /* ... begins, commits or rolls back, or is a savepoint */
};

static int authorize(void *p, int action, const char *a, const char *b, const char *c,
                     const char *d)
{
	struct strata_sqlcheck *k = p;
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
	return len >= wl && strata_ascii_ncasecmp(s, word, wl) == 0 &&
	       (len == wl || !(isalnum((unsigned char)s[wl]) || s[wl] == '_'));
}

static int sq_error(struct strata_sqlcheck *k, const strata_section *sec, const char *which,
                    size_t at, strata_error *e)
{
	const char *msg = sqlite3_errmsg(k->db);
	char how[300];
	strata_section_locate(sec, at, e);
	if (strstr(msg, "within a transaction") || strstr(msg, "transaction within"))
		strata_error_hint(
		    e, "this statement cannot run inside the migration's transaction; %s",
		    strata_section_no_txn_how(sec, strcmp(which, "up") == 0, how, sizeof(how)));
	else
		strata_error_detail(e, "SQLite migrations are checked by applying them in order to "
		                       "an empty in-memory database");
	if (strncmp(msg, "no such table", 13) == 0 || strncmp(msg, "no such column", 14) == 0)
		strata_error_hint(e,
		                  "if it comes from migrations this one builds on (the core's, "
		                  "another source's), name their directory as a base, so that the "
		                  "check applies them first (strata_build_options.base_dirs)");
	return strata_error_set(e, STRATA_EINVALID, "%s", msg);
}

/* Prepares and runs one statement (its text may hold more than one only when SQLite says so). */
static int sq_statement(struct strata_sqlcheck *k, const strata_section *sec, const char *which,
                        const strata_sql_piece *pc, bool in_txn, bool keep_txn, strata_error *e)
{
	const char *text = pc->text, *p = text, *end = text + (pc->end - pc->off);
	int error = 0;

	while (p < end && error == 0) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		size_t at = pc->off + strata_sql_skip_blank(STRATA_DIALECT_SQLITE, text,
		                                            (size_t)(p - text), pc->end - pc->off);
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
			char how[300];
			strata_section_locate(sec, at, e);
			strata_error_hint(e, "remove it, or %s",
			                  strata_section_no_txn_how(sec, strcmp(which, "up") == 0,
			                                            how, sizeof(how)));
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

/* Runs a section's statements one by one, like the SQLite backend does, after the check that a
 * transactional one holds no BEGIN, COMMIT or ROLLBACK of its own (core/sqlsplit.h). `in_txn`:
 * inside our savepoint, which no statement may end. In `keep_txn` mode (a non-transactional down
 * section, run inside the savepoint all the same) statements that would end it are parsed but
 * not run. */
static int sq_section(struct strata_sqlcheck *k, const strata_section *sec, const char *which,
                      bool in_txn, bool keep_txn, strata_error *e)
{
	strata_sql_split *sp = NULL;
	strata_sql_piece pc;
	int error, more = 0;

	if ((error = strata_sql_split_new(&sp, STRATA_DIALECT_SQLITE, sec, e)) < 0)
		return error;
	while (error == 0 && (more = strata_sql_split_next(sp, &pc, e)) > 0) {
		const char *kind =
		    sec->no_transaction
		        ? NULL
		        : strata_sql_txn_control(STRATA_DIALECT_SQLITE, pc.text, pc.end - pc.off);
		if (kind)
			error = strata_sql_txn_error(sec, which[0] == 'u', pc.off, kind, false, e);
		else
			error = sq_statement(k, sec, which, &pc, in_txn, keep_txn, e);
	}
	if (error == 0 && more < 0)
		error = more;
	strata_sql_split_free(sp);
	return error;
}

static int sq_exec(struct strata_sqlcheck *k, const char *sql, const strata_section *sec,
                   strata_error *e)
{
	if (sqlite3_exec(k->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	strata_section_locate(
	    sec, strata_sql_skip_blank(STRATA_DIALECT_SQLITE, sec->text + sec->offset, 0, sec->len),
	    e);
	strata_error_hint(e, "remove BEGIN, COMMIT or ROLLBACK from the migration, or mark the "
	                     "section 'transaction:false'");
	return strata_error_set(e, STRATA_EINVALID,
	                        "the migration ends the transaction it runs in");
}

static int sq_migration(struct strata_sqlcheck *k, const strata_migration *m, strata_error *e)
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

/* A migration the checked ones build on: its up section applied, as a database that has it
 * would be; an error in it is the base's, and said so. */
static int sq_base(struct strata_sqlcheck *k, const strata_migration *m, strata_error *e)
{
	int error = sq_section(k, &m->up, "up", false, false, e);
	if (error < 0 && !e->hint[0])
		strata_error_hint(e, "this migration is one the checked ones build on (a base "
		                     "directory): fix it where it comes from");
	return error;
}

int strata_sqlcheck_sqlite_open(strata_sqlcheck **out, const strata_catalog *base, strata_error *e)
{
	strata_sqlcheck *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!k)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (sqlite3_open_v2(":memory:", &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		strata_sqlcheck_sqlite_close(k);
		return strata_error_set(e, STRATA_ERROR,
		                        "cannot open an in-memory SQLite database");
	}
	sqlite3_set_authorizer(k->db, authorize, k);
	k->base = base;
	*out = k;
	return 0;
}

int strata_sqlcheck_sqlite_add(strata_sqlcheck *k, const strata_migration *m, strata_error *e)
{
	const strata_catalog *base = k->base;
	int error = 0;
	/* the base's migrations before m among them, as one database would have them */
	while (error == 0 && base && k->b < base->n &&
	       strata_migration_key_cmp(base->items[k->b]->version, base->items[k->b]->name,
	                                m->version, m->name) < 0)
		error = sq_base(k, base->items[k->b++], e);
	return error < 0 ? error : sq_migration(k, m, e);
}

void strata_sqlcheck_sqlite_close(strata_sqlcheck *k)
{
	if (!k)
		return;
	sqlite3_close(k->db);
	free(k);
}

int strata_sqlcheck_sqlite(const strata_catalog *base, const strata_catalog *c, strata_error *e)
{
	strata_sqlcheck *k = NULL;
	int error = strata_sqlcheck_sqlite_open(&k, base, e);

	for (size_t i = 0; i < c->n && error == 0; i++)
		error = strata_sqlcheck_sqlite_add(k, c->items[i], e);
	strata_sqlcheck_sqlite_close(k);
	return error;
}
