/*
 * pg_exec.h: sending queries on a libpq connection and waiting for their results in a way that
 * an interrupt stops (strata_conn_interrupt, called from a signal handler by the CLI).
 *
 * The interrupt sends a cancel request at once (PQcancel is async-signal-safe). A cancel that
 * reaches the server before it starts the query (while it still reads it) is dropped by the
 * server, so while interrupted these waits send the cancel again every 100 ms until the query
 * ends; and they never sleep longer than a second without looking at the flag.
 */
#ifndef STRATA_BACKEND_PG_EXEC_H
#define STRATA_BACKEND_PG_EXEC_H

#include "engine/pg/pq.h"
#include <signal.h>

typedef struct strata_pg_link {
	PGconn *conn;
	PGcancel *cancel;                         /* NULL: cannot cancel */
	const volatile sig_atomic_t *interrupted; /* the backend's flag */
} strata_pg_link;

/* Like PQgetResult, but the wait for it ends early (with the server's cancel error) when the
 * link is interrupted. */
PGresult *strata_pg_next_result(const strata_pg_link *l);
/* Like PQexec (the last result, or the first error; NULL when the query could not be sent),
 * but interruptible. */
PGresult *strata_pg_exec(const strata_pg_link *l, const char *sql);
/* Like strata_pg_exec, but for a string of several statements (a SET around a SELECT): the
 * last result that has rows, or the first error. */
PGresult *strata_pg_exec_rows(const strata_pg_link *l, const char *sql);
/* Like PQexecParams with text parameters and results, interruptible. */
PGresult *strata_pg_exec_params(const strata_pg_link *l, const char *sql, int n,
                                const char *const *params);
/* Sends the cancel request (async-signal-safe; does nothing without a cancel object). */
void strata_pg_cancel(const strata_pg_link *l);

#endif
