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

/* The rules (strata.h's strata_lint_rule), ending with a row whose id is NULL. */
extern const strata_lint_rule strata_lint__rules[];
/* NULL when there is no such rule. */
const strata_lint_rule *strata_lint_rule_find(const char *id);

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

/* Parses every migration of c (see sqlcheck.h), then applies the rules to it. A syntax error
 * stops it: it returns STRATA_EINVALID with e at the place, and `out` holds the findings so far.
 * Findings are not failures: with none or many, it returns 0. `out` is always initialised and
 * is freed with strata_lint_report_free. */
int strata_lint_catalog(strata_lint_report *out, const strata_catalog *c, const strata_lint_opts *o,
                        strata_error *e);
/* The same one migration at a time, in version order, for a catalog read entry by entry
 * (catalog.h's strata_catalog_walk): open initialises `out` (which then collects the findings,
 * and must outlive the linter), add lints the next migration (with the same returns as
 * strata_lint_catalog), free frees the linter, not `out`. */
typedef struct strata_linter strata_linter;
int strata_linter_open(strata_linter **lt, strata_lint_report *out, const strata_lint_opts *o,
                       strata_error *e);
int strata_linter_add(strata_linter *lt, const strata_migration *m);
void strata_linter_free(strata_linter *lt);
/* Frees what r holds (the findings), not r itself. */
void strata_lint__report_clear(strata_lint_report *r);

#endif
