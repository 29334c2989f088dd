/* pg.h: the PostgreSQL backend (libpq). */
#ifndef STRATA_BACKEND_PG_H
#define STRATA_BACKEND_PG_H

#include "backend/backend.h"

extern const struct strata_backend_ops strata_pg_ops;

#endif
