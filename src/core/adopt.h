/*
 * adopt.h: what other migration tools left in a database (their history tables), read through
 * the engine interface, and matched to strata's migrations.
 *
 * Each tool is a row of a table (adopt.c): where its history lives by default, the column that
 * tells it from a tool with the same table name (golang-migrate's `dirty`), and a reader that
 * turns its rows into adopt_items, refusing a history that is not clean. docs/adopt.md is the
 * same knowledge for users.
 */
#ifndef STRATA_CORE_ADOPT_H
#define STRATA_CORE_ADOPT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/catalog.h"
#include "core/engine.h"
#include "strata.h"

/* One entry of the other tool's history, as strata reads it. */
typedef struct adopt_item {
	char *as;      /* what the tool calls it: a class name, a file name, a version */
	char *version; /* the strata version it must have; NULL when the tool has none */
	char *name;    /* the strata name it must have; NULL: any */
	bool upto;     /* every migration with a version <= version (golang-migrate's current
	                  version, Flyway's baseline) */
} adopt_item;

typedef struct adopt_history {
	strata_tool tool;
	char *table; /* as read: "public.migrations", or "migrations" on SQLite */
	adopt_item *items;
	size_t n, cap;
} adopt_history;

/* A tool whose table is in the database, with entries. */
typedef struct adopt_found {
	strata_tool tool;
	char *table;
	long rows;
} adopt_found;

/* Every tool whose default history table is in the database and holds entries (*n of them,
 * at most STRATA_TOOL_SQITCH). */
int adopt_detect(strata_conn *c, adopt_found *found, size_t *n, strata_error *e);
void adopt_found_free(adopt_found *found, size_t n);

/* Reads tool's history (table and schema NULL: its defaults), refusing one that is not clean. */
int adopt_read(strata_conn *c, strata_tool tool, const char *table, const char *schema,
               adopt_history *out, strata_error *e);
void adopt_history_free(adopt_history *h);

/* What each migration of the catalog and each item became. */
typedef struct adopt_match {
	const adopt_item **by_migration; /* per catalog migration: the item that adopts it, or
	                                    NULL (pending) */
	bool *item_matched;              /* per item: whether some migration is it */
	size_t adopted, only_there;
} adopt_match;

/* Matches h to c. An item that two migrations could be is an error naming both. */
int adopt_match_catalog(adopt_match *out, const adopt_history *h, const strata_catalog *c,
                        strata_error *e);
void adopt_match_free(adopt_match *m);

#endif
