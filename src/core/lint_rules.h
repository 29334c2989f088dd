/*
 * lint_rules.h: the lint rules' table (strata_lint__rules, in lint_rules.c) and the index of
 * each rule in it, which the walker in lint.c reports findings by.
 */
#ifndef STRATA_CORE_LINT_RULES_H
#define STRATA_CORE_LINT_RULES_H

#include <stddef.h>

#include "strata.h"

enum rule_index {
	R_CONCURRENTLY_IN_TXN,
	R_NEEDS_NO_TXN,
	R_CREATE_INDEX,
	R_ADD_COLUMN_NOT_NULL,
	R_ADD_FOREIGN_KEY,
	R_ADD_CHECK,
	R_ALTER_COLUMN_TYPE,
	R_SET_NOT_NULL,
	R_DROP_TABLE,
	R_DROP_COLUMN,
	R_TRUNCATE,
	R_RENAME_TABLE,
	R_RENAME_COLUMN,
	R_ADD_UNIQUE,
	R_ADD_ENUM_VALUE,
	R_LOCK_TIMEOUT,
	R_UNKNOWN_NOLINT,
	R_COUNT
};

/* The rule whose id is the n bytes at id; NULL when none. */
const strata_lint_rule *strata_lint__rule_find_n(const char *id, size_t n);

#endif
