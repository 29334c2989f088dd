/* schema_internal.h: what schema.c (dump, drift) and revert_test.c (reversibility) share: the
 * options, the schema read from a catalog, and the scratch database migrations are applied to. */
#ifndef STRATA_API_SCHEMA_INTERNAL_H
#define STRATA_API_SCHEMA_INTERNAL_H

#include "api/api.h"
#include "core/schema.h"

/* The options or their defaults into out, checked; fn names the function in errors. */
int api_schema_options(strata_schema_options *out, const strata_schema_options *o, const char *fn,
                       strata_error *e);
/* The schema of db from its catalog (sink: written there, not kept; see schema.h). */
int api_schema_read(strata_db *db, bool owners, strata_buf *sink, strata_schema *out,
                    strata_error *e);
/* The schema of db handed to each(ud, object), an object at a time, none kept. */
int api_schema_each(strata_db *db, bool owners,
                    int (*each)(void *ud, const strata_schema_object *o, strata_error *e), void *ud,
                    strata_error *e);
/* Pass 3 of a compare through digests (core/schema_digest.c): want read again from db when some
 * object of it was not matched, and checked to be what pass 1 read (else an error: "the scratch
 * database's schema " what); the digests are freed after, the objects that differ kept. */
int api_schema_digests_again(strata_db *db, bool owners, strata_schema_digests *d, const char *what,
                             strata_error *e);

struct scratch {
	strata_db *origin;
	strata_db *db;
	char *url;    /* made by scratch_create: dropped after */
	bool emptied; /* the user's shadow database: emptied after too */
};

/* A scratch database to apply migrations to: the user's shadow (emptied), or a new one. */
int api_scratch_open(struct scratch *s, strata_db *origin, const strata_schema_options *o,
                     strata_error *e);
/* Closes it: the shadow emptied, a new one dropped. */
void api_scratch_close(struct scratch *s);
/* strata's history table made in it, for the runner. */
int api_scratch_history(struct scratch *s, strata_error *e);
/* One step of m on it, in its own transaction. */
int api_scratch_apply(struct scratch *s, const strata_migration *m, strata_direction dir,
                      strata_error *e);

#endif
