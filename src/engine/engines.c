/* engines.c: the one table of engines. Adding an engine: its files, and a row here. */
#include "core/engine.h"
#include "engine/pg/pg.h"
#include "engine/sqlite/sqlite.h"

const struct strata_engine *const strata_engines[] = {
    &strata_pg_engine,
    &strata_sqlite_engine,
    NULL,
};
