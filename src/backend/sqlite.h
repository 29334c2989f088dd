/* sqlite.h: the SQLite backend (libsqlite3), the embedded default. */
#ifndef STRATA_BACKEND_SQLITE_H
#define STRATA_BACKEND_SQLITE_H

#include "backend/backend.h"

extern const struct strata_backend_ops strata_sqlite_ops;

#endif
