#include "core/lint.h"
#include "core/lint_rules.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

/* ---- walking ---------------------------------------------------------------------------- */

struct table_name {
	const char *schema, *name; /* borrowed from the parse tree */
};

/* A table the section created: its names copied, as each statement's tree is freed after it. */
struct created_table {
	char *schema, *name;
};

struct lint {
	strata_lint_report *r;
	bool enabled[R_COUNT];
	const strata_migration *m;
	const strata_section *sec;
	const strata_sql_stmt *st;
	bool up, transactional;
	bool silenced[R_COUNT]; /* by the current statement's nolint comment */
	struct created_table *created;
	size_t n_created, cap_created;
	bool lock_timeout_set, lock_reported;
	strata_error *e;
};

/* obj's member key (yajl_tree_get with a path of one), or NULL. */
static yajl_val get(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	return YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

static const char *get_str(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);
	return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static bool get_bool(yajl_val obj, const char *key)
{
	return YAJL_IS_TRUE(get(obj, key));
}

static bool str_is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

/* A node of the form {"Kind": {...}}: its fields when it is of that kind. */
static yajl_val as(yajl_val node, const char *kind)
{
	return get(node, kind);
}

static size_t array_len(yajl_val a)
{
	return YAJL_IS_ARRAY(a) ? a->u.array.len : 0;
}

/* A statement-relative location: the node's "location" when it has one, else the statement. */
static size_t loc_of(const struct lint *l, yajl_val node)
{
	yajl_val v = get(node, "location");
	long long at = YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) + (long long)l->st->base : -1;
	if (at >= (long long)l->st->off && at < (long long)(l->st->off + l->st->len + 1))
		return (size_t)at;
	return l->st->off;
}

static struct table_name range_var(yajl_val rv)
{
	struct table_name t = {get_str(rv, "schemaname"), get_str(rv, "relname")};
	return t;
}

/* A DropStmt object: a List of String names, the last being the table. */
static struct table_name list_name(yajl_val obj)
{
	struct table_name t = {NULL, NULL};
	yajl_val items = get(as(obj, "List"), "items");
	size_t n = array_len(items);
	if (n >= 1)
		t.name = get_str(as(items->u.array.values[n - 1], "String"), "sval");
	if (n >= 2)
		t.schema = get_str(as(items->u.array.values[n - 2], "String"), "sval");
	return t;
}

static bool is_new(const struct lint *l, struct table_name t)
{
	if (!t.name)
		return false;
	for (size_t i = 0; i < l->n_created; i++) {
		const struct created_table *c = &l->created[i];
		if (strcmp(c->name, t.name) == 0 &&
		    (!c->schema || !t.schema || strcmp(c->schema, t.schema) == 0))
			return true;
	}
	return false;
}

static int add_created(struct lint *l, struct table_name t)
{
	struct created_table c = {NULL, NULL};
	if (!t.name)
		return 0;
	if (l->n_created == l->cap_created) {
		size_t ncap = l->cap_created ? l->cap_created * 2 : 16;
		struct created_table *p = realloc(l->created, ncap * sizeof(*p));
		if (!p)
			return strata_error_set(l->e, STRATA_ERROR, "out of memory");
		l->created = p;
		l->cap_created = ncap;
	}
	c.name = strdup(t.name);
	c.schema = t.schema ? strdup(t.schema) : NULL;
	if (!c.name || (t.schema && !c.schema)) {
		free(c.name);
		free(c.schema);
		return strata_error_set(l->e, STRATA_ERROR, "out of memory");
	}
	l->created[l->n_created++] = c;
	return 0;
}

static void forget_created(struct lint *l)
{
	for (size_t i = 0; i < l->n_created; i++) {
		free(l->created[i].name);
		free(l->created[i].schema);
	}
	l->n_created = 0;
}

static int push_finding(strata_lint_report *r, strata_lint_finding *f, strata_error *e)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		strata_lint_finding *p = realloc(r->items, ncap * sizeof(*p));
		if (!p)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		r->items = p;
		r->cap = ncap;
	}
	r->items[r->n++] = *f;
	return 0;
}

/* Records a finding of rule `ri` at byte `off` of the section, about `table` (and `column`). */
static int report(struct lint *l, enum rule_index ri, size_t off, struct table_name table,
                  const char *column)
{
	const strata_lint_rule *rule = &strata_lint__rules[ri];
	strata_error where = STRATA_ERROR_INIT;
	strata_lint_finding f = {0};
	strata_buf subject = STRATA_BUF_INIT;
	int error;

	if (!l->enabled[ri] || l->silenced[ri])
		return 0;
	strata_section_locate(l->sec, off, &where);
	if (table.name) {
		if (table.schema)
			strata_buf_printf(&subject, "%s.", table.schema);
		strata_buf_puts(&subject, table.name);
		if (column)
			strata_buf_printf(&subject, ".%s", column);
	}
	f.rule = rule;
	f.file = strdup(where.file);
	f.line = where.line;
	f.column = where.column;
	f.source_line = strdup(where.source_line);
	f.version = strdup(l->m->version);
	f.subject = table.name ? strata_buf_detach(&subject) : NULL;
	if (!f.file || !f.source_line || !f.version || subject.failed ||
	    (table.name && !f.subject)) {
		free(f.file);
		free(f.source_line);
		free(f.version);
		free(f.subject);
		strata_buf_free(&subject);
		return strata_error_set(l->e, STRATA_ERROR, "out of memory");
	}
	if ((error = push_finding(l->r, &f, l->e)) < 0) {
		free(f.file);
		free(f.source_line);
		free(f.version);
		free(f.subject);
		return error;
	}
	if (rule->severity == STRATA_LINT_ERROR)
		l->r->errors++;
	else
		l->r->warnings++;
	return 0;
}

/* The statement takes a lock that blocks reads or writes of an existing table. */
static int strong_lock(struct lint *l)
{
	if (!l->up || l->lock_timeout_set || l->lock_reported)
		return 0;
	l->lock_reported = true;
	return report(l, R_LOCK_TIMEOUT, l->st->off, (struct table_name){0}, NULL);
}

/* A TRUNCATE's relation. */
static struct table_name relation_name(yajl_val node)
{
	return range_var(as(node, "RangeVar"));
}

/* DROP TABLE and TRUNCATE of tables (the names in list, read with name_of): the first one that
 * this migration did not create is reported with rule, and the statement's lock counts. */
static int first_existing(struct lint *l, yajl_val list,
                          struct table_name (*name_of)(yajl_val node), enum rule_index rule,
                          size_t at)
{
	int error;
	for (size_t i = 0; i < array_len(list); i++) {
		struct table_name t = name_of(list->u.array.values[i]);
		if (!is_new(l, t)) {
			if ((error = report(l, rule, at, t, NULL)) < 0)
				return error;
			return strong_lock(l);
		}
	}
	return 0;
}

/* '-- strata:nolint a,b' comments in the text just before the statement. */
static int read_nolint(struct lint *l)
{
	const char *t = l->sec->text + l->sec->offset;
	static const char tag[] = "strata:nolint";
	size_t i = l->st->lead, end = l->st->off;
	int error = 0;

	memset(l->silenced, 0, sizeof(l->silenced));
	/* a comment after the previous statement, on its line, is not before this one */
	while (i > 0 && i < end && t[i - 1] != '\n' && t[i] != '\n')
		i++;
	while (i < end && error == 0) {
		size_t eol = i, p;
		while (eol < end && t[eol] != '\n')
			eol++;
		p = i;
		while (p < eol && (t[p] == ' ' || t[p] == '\t'))
			p++;
		if (eol - p >= 2 && t[p] == '-' && t[p + 1] == '-') {
			p += 2;
			while (p < eol && (t[p] == ' ' || t[p] == '\t'))
				p++;
			if ((size_t)(eol - p) >= sizeof(tag) - 1 &&
			    memcmp(t + p, tag, sizeof(tag) - 1) == 0) {
				p += sizeof(tag) - 1;
				/* ids separated by commas and blanks, up to anything else */
				while (p < eol && error == 0) {
					size_t s;
					const strata_lint_rule *r;
					while (p < eol &&
					       (t[p] == ' ' || t[p] == '\t' || t[p] == ','))
						p++;
					s = p;
					while (p < eol &&
					       (islower((unsigned char)t[p]) ||
					        isdigit((unsigned char)t[p]) || t[p] == '-'))
						p++;
					if (p == s)
						break;
					r = strata_lint__rule_find_n(t + s, p - s);
					if (r)
						l->silenced[r - strata_lint__rules] = true;
					else
						error = report(l, R_UNKNOWN_NOLINT, s,
						               (struct table_name){0}, NULL);
				}
			}
		}
		i = eol + 1;
	}
	return error;
}

static bool has_constraint(yajl_val constraints, const char *contype)
{
	for (size_t i = 0; i < array_len(constraints); i++)
		if (str_is(get_str(as(constraints->u.array.values[i], "Constraint"), "contype"),
		           contype))
			return true;
	return false;
}

/* serial types carry their own default */
static bool is_serial(yajl_val coldef)
{
	static const char *const serials[] = {"serial",  "bigserial", "smallserial",
	                                      "serial2", "serial4",   "serial8"};
	yajl_val names = get(get(coldef, "typeName"), "names");
	size_t n = array_len(names);
	const char *tn;
	if (n != 1)
		return false;
	tn = get_str(as(names->u.array.values[0], "String"), "sval");
	for (size_t i = 0; tn && i < sizeof(serials) / sizeof(serials[0]); i++)
		if (strcmp(tn, serials[i]) == 0)
			return true;
	return false;
}

/* A constraint being added to an existing table (ADD CONSTRAINT, or on ADD COLUMN). */
static int check_constraint(struct lint *l, yajl_val con, struct table_name t, const char *col)
{
	const char *type = get_str(con, "contype");
	size_t at = loc_of(l, con);
	if (str_is(type, "CONSTR_FOREIGN") && !get_bool(con, "skip_validation"))
		return report(l, R_ADD_FOREIGN_KEY, at, t, col);
	if (str_is(type, "CONSTR_CHECK") && !get_bool(con, "skip_validation"))
		return report(l, R_ADD_CHECK, at, t, col);
	if ((str_is(type, "CONSTR_UNIQUE") || str_is(type, "CONSTR_PRIMARY")) &&
	    !get_str(con, "indexname"))
		return report(l, R_ADD_UNIQUE, at, t, col);
	return 0;
}

static int alter_table(struct lint *l, yajl_val n)
{
	struct table_name t = range_var(get(n, "relation"));
	yajl_val cmds = get(n, "cmds");
	bool fresh = is_new(l, t),
	     table = !get_str(n, "objtype") || str_is(get_str(n, "objtype"), "OBJECT_TABLE");
	bool locks = false;
	int error = 0;

	for (size_t i = 0; i < array_len(cmds) && error == 0; i++) {
		yajl_val cmd = as(cmds->u.array.values[i], "AlterTableCmd");
		const char *sub = get_str(cmd, "subtype");
		yajl_val def = get(cmd, "def");
		const char *name = get_str(cmd, "name");

		if (str_is(sub, "AT_DetachPartition") &&
		    get_bool(as(def, "PartitionCmd"), "concurrent")) {
			if (l->transactional)
				error = report(l, R_CONCURRENTLY_IN_TXN, l->st->off, t, NULL);
			continue;
		}
		if (!str_is(sub, "AT_ValidateConstraint"))
			locks = true;
		if (!l->up || fresh || !table)
			continue;
		if (str_is(sub, "AT_AddColumn")) {
			yajl_val cd = as(def, "ColumnDef");
			yajl_val cons = get(cd, "constraints");
			const char *col = get_str(cd, "colname");
			if ((has_constraint(cons, "CONSTR_NOTNULL") ||
			     has_constraint(cons, "CONSTR_PRIMARY")) &&
			    !has_constraint(cons, "CONSTR_DEFAULT") &&
			    !has_constraint(cons, "CONSTR_IDENTITY") &&
			    !has_constraint(cons, "CONSTR_GENERATED") && !is_serial(cd))
				error = report(l, R_ADD_COLUMN_NOT_NULL, loc_of(l, cd), t, col);
			for (size_t c = 0; c < array_len(cons) && error == 0; c++)
				error = check_constraint(
				    l, as(cons->u.array.values[c], "Constraint"), t, col);
		} else if (str_is(sub, "AT_AddConstraint")) {
			error = check_constraint(l, as(def, "Constraint"), t, NULL);
		} else if (str_is(sub, "AT_AlterColumnType")) {
			error = report(l, R_ALTER_COLUMN_TYPE, loc_of(l, as(def, "ColumnDef")), t,
			               name);
		} else if (str_is(sub, "AT_SetNotNull")) {
			error = report(l, R_SET_NOT_NULL, l->st->off, t, name);
		} else if (str_is(sub, "AT_DropColumn")) {
			error = report(l, R_DROP_COLUMN, l->st->off, t, name);
		}
	}
	if (error == 0 && locks && !fresh)
		error = strong_lock(l);
	return error;
}

static bool has_option(yajl_val params, const char *name)
{
	for (size_t i = 0; i < array_len(params); i++)
		if (str_is(get_str(as(params->u.array.values[i], "DefElem"), "defname"), name))
			return true;
	return false;
}

/* Statements that cannot run in a transaction block at all. */
static bool needs_no_txn(const char *kind, yajl_val n)
{
	if (str_is(kind, "VacuumStmt"))
		return get_bool(n, "is_vacuumcmd"); /* ANALYZE alone can */
	if (str_is(kind, "ReindexStmt"))
		return str_is(get_str(n, "kind"), "REINDEX_OBJECT_SYSTEM") ||
		       str_is(get_str(n, "kind"), "REINDEX_OBJECT_DATABASE");
	if (str_is(kind, "ClusterStmt"))
		return !get(n, "relation");
	return str_is(kind, "AlterSystemStmt") || str_is(kind, "CreatedbStmt") ||
	       str_is(kind, "DropdbStmt") || str_is(kind, "CreateTableSpaceStmt") ||
	       str_is(kind, "DropTableSpaceStmt");
}

static int lint_stmt(struct lint *l)
{
	const char *kind = l->st->kind;
	yajl_val n = l->st->node;
	size_t at = l->st->off;
	int error;

	if ((error = read_nolint(l)) < 0)
		return error;
	if (l->transactional && needs_no_txn(kind, n))
		return report(l, R_NEEDS_NO_TXN, at, (struct table_name){0}, NULL);

	if (str_is(kind, "IndexStmt")) {
		struct table_name t = range_var(get(n, "relation"));
		if (get_bool(n, "concurrent"))
			return l->transactional ? report(l, R_CONCURRENTLY_IN_TXN, at, t, NULL) : 0;
		if (!l->up || is_new(l, t))
			return 0;
		if ((error = report(l, R_CREATE_INDEX, at, t, NULL)) < 0)
			return error;
		return strong_lock(l);
	}
	if (str_is(kind, "DropStmt")) {
		yajl_val objs = get(n, "objects");
		if (get_bool(n, "concurrent"))
			return l->transactional ? report(l, R_CONCURRENTLY_IN_TXN, at,
			                                 (struct table_name){0}, NULL)
			                        : 0;
		if (!l->up || !str_is(get_str(n, "removeType"), "OBJECT_TABLE"))
			return 0;
		return first_existing(l, objs, list_name, R_DROP_TABLE, at);
	}
	if (str_is(kind, "ReindexStmt")) {
		if (has_option(get(n, "params"), "concurrently"))
			return l->transactional ? report(l, R_CONCURRENTLY_IN_TXN, at,
			                                 (struct table_name){0}, NULL)
			                        : 0;
		return strong_lock(l);
	}
	if (str_is(kind, "AlterTableStmt"))
		return alter_table(l, n);
	if (!l->up)
		return 0;

	if (str_is(kind, "CreateStmt"))
		return add_created(l, range_var(get(n, "relation")));
	if (str_is(kind, "CreateTableAsStmt"))
		return add_created(l, range_var(get(get(n, "into"), "rel")));
	if (str_is(kind, "VariableSetStmt")) {
		if (str_is(get_str(n, "name"), "lock_timeout"))
			l->lock_timeout_set = !str_is(get_str(n, "kind"), "VAR_RESET");
		return 0;
	}
	if (str_is(kind, "AlterEnumStmt")) {
		if (get_str(n, "newVal") && !get_str(n, "oldVal") && l->transactional)
			return report(l, R_ADD_ENUM_VALUE, at, (struct table_name){0}, NULL);
		return 0;
	}
	if (str_is(kind, "TruncateStmt")) {
		return first_existing(l, get(n, "relations"), relation_name, R_TRUNCATE, at);
	}
	if (str_is(kind, "RenameStmt")) {
		const char *rt = get_str(n, "renameType");
		struct table_name t = range_var(get(n, "relation"));
		if (is_new(l, t)) {
			struct table_name renamed = {t.schema, get_str(n, "newname")};
			return str_is(rt, "OBJECT_TABLE") ? add_created(l, renamed) : 0;
		}
		if (str_is(rt, "OBJECT_TABLE"))
			error = report(l, R_RENAME_TABLE, at, t, NULL);
		else if (str_is(rt, "OBJECT_COLUMN") &&
		         str_is(get_str(n, "relationType"), "OBJECT_TABLE"))
			error = report(l, R_RENAME_COLUMN, at, t, get_str(n, "subname"));
		if (error == 0 && t.name)
			error = strong_lock(l);
		return error;
	}
	if (str_is(kind, "ClusterStmt") || str_is(kind, "LockStmt") ||
	    str_is(kind, "CreateTrigStmt") || str_is(kind, "RuleStmt"))
		return strong_lock(l);
	return 0;
}

/* Parses and lints a section statement by statement: memory holds one statement's tree. A
 * transactional section may not begin or end a transaction of its own (core/sqlsplit.h). */
static int lint_section(struct lint *l, const strata_section *s, bool up)
{
	strata_pg_parser *pp = NULL;
	strata_sql_stmt st;
	int error, more = 0;

	if (!s->present)
		return 0;
	if ((error = strata_pg_parser_new(&pp, s, l->e)) < 0)
		return error;
	l->sec = s;
	l->up = up;
	forget_created(l);
	l->transactional = !s->no_transaction;
	l->lock_timeout_set = l->lock_reported = false;
	while (error == 0 && (more = strata_pg_parser_next(pp, &st, l->e)) > 0) {
		const char *text = s->text + s->offset + st.off;
		const char *kind =
		    l->transactional ? strata_sql_txn_control(STRATA_DIALECT_POSTGRES, text, st.len)
		                     : NULL;
		l->st = &st;
		if (kind) {
			error = strata_sql_txn_error(s, up, st.off, kind, false, l->e);
		} else {
			error = lint_stmt(l);
			l->r->statements++;
		}
	}
	if (error == 0 && more < 0)
		error = more;
	l->sec = NULL;
	l->st = NULL;
	strata_pg_parser_free(pp);
	return error;
}

static int enable_rules(struct lint *l, const char *list, strata_error *e)
{
	for (size_t i = 0; i < R_COUNT; i++)
		l->enabled[i] = !strata_lint__rules[i].off_by_default;
	while (list && *list) {
		size_t n = strcspn(list, ", ");
		const strata_lint_rule *r = n ? strata_lint__rule_find_n(list, n) : NULL;
		if (n && !r) {
			strata_error_hint(e, "every rule is in strata_lint_rules()");
			return strata_error_set(e, STRATA_EINVALID, "unknown lint rule '%.*s'",
			                        (int)n, list);
		}
		if (r)
			l->enabled[r - strata_lint__rules] = true;
		list += n;
		while (*list == ',' || *list == ' ')
			list++;
	}
	return 0;
}

struct strata_linter {
	struct lint l;
	strata_dialect dialect;
	strata_sqlcheck *sq; /* SQLite: the in-memory database the migrations are applied to */
};

int strata_linter_open(strata_linter **out, strata_lint_report *r, const strata_lint_opts *o,
                       strata_error *e)
{
	strata_linter *lt = calloc(1, sizeof(*lt));
	int error;

	*out = NULL;
	memset(r, 0, sizeof(*r));
	if (!lt)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	lt->l.r = r;
	lt->l.e = e;
	lt->dialect = o->dialect;
	if ((error = enable_rules(&lt->l, o->enable, e)) < 0 ||
	    (o->dialect == STRATA_DIALECT_SQLITE &&
	     (error = strata_sqlcheck_sqlite_open(&lt->sq, o->base, e)) < 0)) {
		strata_linter_free(lt);
		return error;
	}
	*out = lt;
	return 0;
}

int strata_linter_add(strata_linter *lt, const strata_migration *m)
{
	struct lint *l = &lt->l;
	int error;

	if (lt->dialect == STRATA_DIALECT_SQLITE) {
		l->r->migrations++;
		return strata_sqlcheck_sqlite_add(lt->sq, m, l->e);
	}
	l->m = m;
	error = lint_section(l, &m->up, true);
	if (error == 0)
		error = lint_section(l, &m->down, false);
	if (error == 0)
		l->r->migrations++;
	l->m = NULL;
	return error;
}

void strata_linter_free(strata_linter *lt)
{
	if (!lt)
		return;
	forget_created(&lt->l);
	free(lt->l.created);
	strata_sqlcheck_sqlite_close(lt->sq);
	free(lt);
}

int strata_lint_catalog(strata_lint_report *out, const strata_catalog *c, const strata_lint_opts *o,
                        strata_error *e)
{
	strata_linter *lt = NULL;
	int error = strata_linter_open(&lt, out, o, e);

	for (size_t i = 0; i < c->n && error == 0; i++)
		error = strata_linter_add(lt, c->items[i]);
	strata_linter_free(lt);
	return error;
}

void strata_lint__report_clear(strata_lint_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].source_line);
		free(r->items[i].subject);
		free(r->items[i].version);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

const strata_lint_rule *strata_lint_rules(void)
{
	return strata_lint__rules;
}
