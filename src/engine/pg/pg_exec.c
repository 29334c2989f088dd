/* pg_exec.c: interruptible query execution (see pg_exec.h). */
#include "engine/pg/pg_exec.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>

void strata_pg_cancel(const strata_pg_link *l)
{
	char err[256]; /* a local buffer: what makes PQcancel safe in a signal handler */
	if (l->cancel)
		(void)PQcancel(l->cancel, err, sizeof(err));
}

PGresult *strata_pg_next_result(const strata_pg_link *l)
{
	int resent = 0;
	while (PQisBusy(l->conn)) {
		struct pollfd p = {.fd = PQsocket(l->conn), .events = POLLIN};
		int interrupted = l->interrupted && *l->interrupted;
		int rc = poll(&p, 1, interrupted ? 100 : 1000);
		if (rc < 0 && errno != EINTR)
			break; /* PQgetResult reports the broken connection */
		if (interrupted && rc <= 0 && resent++ < 600)
			strata_pg_cancel(l);
		if (rc > 0 && !PQconsumeInput(l->conn))
			break;
	}
	return PQgetResult(l->conn);
}

/* The last result of a query string (with `rows`, the last that has rows), or its first error
 * (as PQexec returns). */
static PGresult *collect(const strata_pg_link *l, bool rows)
{
	PGresult *last = NULL, *r;
	while ((r = strata_pg_next_result(l)) != NULL) {
		if ((last && PQresultStatus(last) == PGRES_FATAL_ERROR) ||
		    (rows && PQresultStatus(r) != PGRES_TUPLES_OK &&
		     PQresultStatus(r) != PGRES_FATAL_ERROR)) {
			PQclear(r);
			continue;
		}
		PQclear(last);
		last = r;
	}
	return last;
}

PGresult *strata_pg_exec(const strata_pg_link *l, const char *sql)
{
	if (!PQsendQuery(l->conn, sql))
		return NULL;
	return collect(l, false);
}

PGresult *strata_pg_exec_rows(const strata_pg_link *l, const char *sql)
{
	if (!PQsendQuery(l->conn, sql))
		return NULL;
	return collect(l, true);
}

PGresult *strata_pg_exec_params(const strata_pg_link *l, const char *sql, int n,
                                const char *const *params)
{
	if (!PQsendQueryParams(l->conn, sql, n, NULL, params, NULL, NULL, 0))
		return NULL;
	return collect(l, false);
}
