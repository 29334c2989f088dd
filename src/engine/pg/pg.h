/* pg.h: the PostgreSQL engine (libpq), for the table of engines. */
#ifndef STRATA_ENGINE_PG_H
#define STRATA_ENGINE_PG_H

#include "core/engine.h"

extern const struct strata_engine strata_pg_engine;
/* its seed loader (seed_pg.c) */
extern const struct strata_seed_engine strata_pg_seed;

#endif
