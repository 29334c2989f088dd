/*
 * lint.h: rules for migrations that parse but hurt in production (long locks, table rewrites,
 * statements that cannot run in a transaction, lost data).
 *
 * Every rule is one row of strata_lint_rules[]: its id, severity, one-line reason and fix, and a
 * bad and a good example (docs/lint.md and 'strata lint --list-rules' are generated from it).
 * The rules read PostgreSQL parse trees (src/core/sqlcheck.h); for SQLite only the parse check
 * applies. A '-- strata:nolint RULE[,RULE]' comment among the lines just before a statement
 * silences those rules for that statement.
 *
 * "An existing table" is one the same migration did not create: a table created by an earlier
 * migration may already be large and busy in production, so only the migration that creates a
 * table may index, alter or fill it freely.
 */
#ifndef STRATA_CORE_LINT_H
#define STRATA_CORE_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/catalog.h"
#include "core/sqlcheck.h"
#include "strata.h"

typedef enum { STRATA_LINT_ERROR, STRATA_LINT_WARNING } strata_lint_severity;

typedef struct strata_lint_rule {
	const char *id; /* "create-index-not-concurrently" */
	strata_lint_severity severity;
	bool off_by_default; /* only with --enable ID */
	const char *reason;  /* one line: what goes wrong */
	const char *fix;     /* one line: what to do instead */
	const char *bad;     /* example SQL that the rule reports */
	const char *good;    /* the same change done safely */
} strata_lint_rule;

/* Every rule, ending with a row whose id is NULL. */
extern const strata_lint_rule strata_lint_rules[];
/* NULL when there is no such rule. */
const strata_lint_rule *strata_lint_rule_find(const char *id);
const char *strata_lint_severity_name(strata_lint_severity s);

typedef struct strata_lint_finding {
	const strata_lint_rule *rule;
	char *file; /* the src file */
	unsigned line, column;
	char *source_line; /* that line of the file, for a caret */
	char *subject;     /* what it is about, "users" or "users.email"; NULL if nothing */
	char *version;     /* the migration's version */
} strata_lint_finding;

typedef struct strata_lint_opts {
	unsigned version;
	strata_dialect dialect;
	const char *enable; /* ids of off-by-default rules to turn on, comma-separated, or NULL */
	/* SQLite: the migrations c builds on, applied first (see strata_sqlcheck_sqlite) */
	const strata_catalog *base;
} strata_lint_opts;

#define STRATA_LINT_OPTS_VERSION 1
#define STRATA_LINT_OPTS_INIT                                                                      \
	{                                                                                          \
		STRATA_LINT_OPTS_VERSION, STRATA_DIALECT_POSTGRES, NULL, NULL                      \
	}

typedef struct strata_lint_result {
	strata_lint_finding *items; /* owned; in migration, then statement order */
	size_t n, cap;
	size_t errors, warnings;
	size_t migrations, statements; /* how much was checked (statements: PostgreSQL only) */
} strata_lint_result;

/* Parses every migration of c (see sqlcheck.h), then applies the rules to it. A syntax error
 * stops it: it returns STRATA_EINVALID with e at the place, and `out` holds the findings so far.
 * Findings are not failures: with none or many, it returns 0. `out` is always initialised and
 * is freed with strata_lint_result_free. */
int strata_lint_catalog(strata_lint_result *out, const strata_catalog *c, const strata_lint_opts *o,
                        strata_error *e);
void strata_lint_result_free(strata_lint_result *r);

#endif
