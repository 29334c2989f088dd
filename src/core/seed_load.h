/*
 * seed_load.h: the state of one seed run (strata_seed_run), shared by the files that do its
 * parts: the run itself (core/seed.c), the tables it describes (core/seed_table.c) and the row
 * writer (core/seed_write.c). Inside src/core/ only.
 */
#ifndef STRATA_CORE_SEED_LOAD_H
#define STRATA_CORE_SEED_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/seed.h"
#include "core/seed_engine.h"
#include "core/seed_json.h"
#include "util/buf.h"

#define STRATA_SEED_MAX_NEST 16

/* Scratch space of the row writer for one nesting level. */
struct strata_seed_level {
	size_t *cols;
	strata_seed_val *vals;
	size_t *tstart; /* 1 + where a composite value starts in text; 0: not composite */
	size_t cap;
	const strata_seed_node **kids;
	strata_seed_table **kid_tables;
	size_t *kid_fk, kcap;
	size_t *ret;
	char **ret_out;
	size_t rcap;
	char **fill;
	size_t fcap;
	strata_buf text;
	/* the row being written: n values, the first nmem from the file and the rest filled from
	 * its parent row; nk nested tables; nret columns the write returns */
	size_t n, nmem, nk, nret;
	/* the column each member position matched in the last row of hint_t: rows of a table
	 * usually list their keys in the same order */
	const strata_seed_table *hint_t;
	long hint[32];
};

typedef struct strata_seed_load {
	const struct strata_conn *b; /* for its interrupted flag */
	const struct strata_seed_engine *ops;
	strata_seed_be *be;
	const strata_seed_opts *o;
	strata_seed_table **tables;
	size_t ntables;
	char **missing; /* names that are no table */
	size_t nmissing;
	unsigned next_order;
	struct strata_seed_level levels[STRATA_SEED_MAX_NEST];
	const char *path; /* the file being loaded */
	size_t file_rows;
	strata_seed_failure fail; /* of the last write or flush */
} strata_seed_load;

/* seed.c */
int strata_seed__oom(strata_error *e);
/* Places e at offset off of the file being loaded and returns code. */
int strata_seed__fail_at(strata_seed_load *g, size_t off, strata_error *e, int code);

/* seed_table.c */
/* The table called name, described once; STRATA_ENOTFOUND when there is none. */
int strata_seed__lookup(strata_seed_load *g, const char *name, strata_seed_table **out,
                        strata_error *e);
/* Which of child's foreign keys references parent, or -1. */
long strata_seed__fk_to(const strata_seed_table *child, const strata_seed_table *parent);
/* Frees the tables g described and the names it found none for. */
void strata_seed__tables_free(strata_seed_load *g);

/* seed_write.c */
void strata_seed__levels_init(strata_seed_load *g);
void strata_seed__levels_free(strata_seed_load *g);
/* Writes every row of t's section (its rows' '[' at array_off in g->path) and flushes. */
int strata_seed__load_section(strata_seed_load *g, strata_seed_table *t, size_t array_off,
                              strata_error *e);

#endif
