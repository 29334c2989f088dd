/* sqlite.h: the SQLite engine (libsqlite3), for the table of engines. */
#ifndef STRATA_ENGINE_SQLITE_H
#define STRATA_ENGINE_SQLITE_H

#include "core/engine.h"

extern const struct strata_engine strata_sqlite_engine;
/* its seed loader (sqlite_seed.c) */
extern const struct strata_seed_engine strata_sqlite_seed;

#endif
