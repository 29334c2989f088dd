/*
 * schema.h: a database's schema as a list of objects, read from its catalog by the engine
 * (engine.h, schema_read), written out as SQL that reloads, and compared object by object.
 *
 * Each object has a kind ("schema", "extension", "type", "sequence", "function", "table",
 * "column", "constraint", "index", "view", "materialized view", "trigger", "rule", "policy",
 * "comment", "grant", ...), the schema it is in (NULL on SQLite), a name (for an object that
 * belongs to a table, "table.name"), and the SQL that makes it. The list is in the order the SQL
 * must run (dependencies first), and otherwise stable (by schema, kind, name), so that two
 * databases with the same schema give the same list, byte for byte. An object whose SQL is
 * part of another's (a column, in its table's CREATE TABLE) has sql NULL: it is there to be
 * compared ("column orders.status: type text, expected varchar(20)"), with `detail` saying what
 * it is ("type varchar(20) not null default 'new'").
 */
#ifndef STRATA_CORE_SCHEMA_H
#define STRATA_CORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "strata.h"
#include "util/buf.h"

typedef struct strata_schema_object {
	char *kind;
	char *schema; /* NULL on SQLite */
	char *name;
	char *sql;    /* the statements that make it, each ending with ";\n"; NULL: part of
	                 another object's */
	char *detail; /* what a diff says of it; NULL: its sql */
} strata_schema_object;

typedef struct strata_schema {
	strata_schema_object *items; /* in the order their SQL runs */
	size_t n, cap;
	/* set: each object is written there as strata_schema_render writes it, as it is added, and
	 * not kept (items stays empty; written counts them): a dump holds its SQL only */
	strata_buf *sink;
	/* set (and no sink): each object is handed to each(each_ud, object) as it is added, and
	 * not kept; written counts them. Its strings are valid during the call only. */
	int (*each)(void *ud, const struct strata_schema_object *o, strata_error *e);
	void *each_ud;
	size_t written;
	char **warnings; /* objects that could not be dumped, each named: never skipped silently */
	size_t nwarnings, capwarnings;
} strata_schema;

/* schema_read flags */
#define STRATA_SCHEMA_OWNERS 1u /* ownership and grants too */

/* Appends an object (strings copied; schema, sql and detail may be NULL), or writes it to the
 * sink. */
int strata_schema_add(strata_schema *s, const char *kind, const char *schema, const char *name,
                      const char *sql, const char *detail, strata_error *e);
/* Appends a warning (printf-style). */
int strata_schema_warn(strata_schema *s, strata_error *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void strata_schema_free(strata_schema *s);

/* The schema as SQL: each object's sql under a "-- kind schema.name" line, in list order; no
 * version, date or random line. `preamble` (may be NULL) goes first (the engine's settings the
 * SQL needs, e.g. "SET check_function_bodies = false;"). */
int strata_schema_render(const strata_schema *s, const char *preamble, strata_buf *out,
                         strata_error *e);

/* One difference between two schemas (strata.h's strata_schema_difference, with what its
 * strings point into). */
typedef struct strata_schema_change {
	strata_schema_difference pub;
	char *text;
} strata_schema_change;

typedef struct strata_schema_changes {
	strata_schema_change *items; /* by schema, name, kind */
	size_t n;
} strata_schema_changes;

/* What `have` has that `want` has not (EXTRA), the reverse (MISSING), and what differs
 * (CHANGED), object by object; a table whose only change is in its columns, constraints or
 * indexes is not listed itself. The changes borrow from both schemas. */
int strata_schema_compare(const strata_schema *have, const strata_schema *want,
                          strata_schema_changes *out, strata_error *e);
/* The same, in the words of a revert test: `have` is the schema after a migration's up and down,
 * `want` the one before its up ("left behind by its down: ..."). */
int strata_schema_compare_revert(const strata_schema *have, const strata_schema *want,
                                 strata_schema_changes *out, strata_error *e);
/* The public view of the changes (pointing into them). */
void strata_schema_changes_public(const strata_schema_changes *c, strata_schema_diff *out,
                                  strata_schema_difference **items);
void strata_schema_changes_free(strata_schema_changes *c);

/*
 * Two schemas compared without holding either whole (schema_digest.c). Each object of `want` is
 * kept as a 16-byte digest (SHA-256 of its kind, schema, name, sql and detail) and a byte of
 * state, sorted in place; then each object of `have` that has no unmatched twin there (the same
 * digest) is kept whole, and last, when some object of `want` was not matched, `want` is read
 * again to keep those. strata_schema_compare of the two small schemas then says what the
 * compare of the whole ones says.
 */
typedef struct strata_schema_digests strata_schema_digests;

/* Pass 1: a new set, to hand to strata_schema_digest_want as `want` is read. */
strata_schema_digests *strata_schema_digests_new(void);
void strata_schema_digests_free(strata_schema_digests *d);
/* each callbacks (strata_schema.each, each_ud the digests): pass 1 reads `want`; pass 2 reads
 * `have`, keeping in d's have schema (strata_schema_digests_have) every object that is not
 * matched; pass 3 reads `want` again (only when strata_schema_digests_unmatched), keeping the
 * objects not matched in d's want schema, and fails when it is not what pass 1 read. */
int strata_schema_digest_want(void *d, const strata_schema_object *o, strata_error *e);
int strata_schema_digest_have(void *d, const strata_schema_object *o, strata_error *e);
int strata_schema_digest_again(void *d, const strata_schema_object *o, strata_error *e);
/* Whether pass 3 is needed: an object of `want` that no object of `have` matched. */
bool strata_schema_digests_unmatched(const strata_schema_digests *d);
/* After pass 3, or 2 when it is not needed: whether pass 3 read as many objects as pass 1. */
bool strata_schema_digests_complete(const strata_schema_digests *d);
/* After the last pass: the digests freed, the objects kept (below) left. */
void strata_schema_digests_trim(strata_schema_digests *d);
/* The objects kept: have's not matched, want's not matched (after pass 3). */
strata_schema *strata_schema_digests_have(strata_schema_digests *d);
strata_schema *strata_schema_digests_want(strata_schema_digests *d);

#endif
