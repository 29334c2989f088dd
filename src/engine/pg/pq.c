/* pq.c: libpq loaded on first use (see pq.h). */
#define STRATA_PQ_NO_REDIRECT
#include "engine/pg/pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "util/error.h"

#define LIBPQ "libpq.so.5"

struct strata_pq strata_pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512]; /* what went wrong, "" when libpq is loaded */

static void load(void)
{
	void *h = dlopen(LIBPQ, RTLD_LAZY | RTLD_LOCAL);
	const char *missing = NULL;
	if (!h) {
		snprintf(failure, sizeof(failure), "%s", dlerror());
		return;
	}
#define STRATA_PQ_RESOLVE(f)                                                                       \
	if (!(*(void **)&strata_pq.f = dlsym(h, #f)) && !missing)                                  \
		missing = #f;
	STRATA_PQ_FUNCTIONS(STRATA_PQ_RESOLVE)
#undef STRATA_PQ_RESOLVE
	if (missing)
		snprintf(failure, sizeof(failure), "%s has no %s (libpq 14 or later is needed)",
		         LIBPQ, missing);
}

int strata_pq_load(strata_error *e)
{
	pthread_once(&once, load);
	if (!failure[0])
		return 0;
	strata_error_hint(e,
	                  "install PostgreSQL's client library (Debian: apt-get install libpq5)");
	return strata_error_set(e, STRATA_ECONNECT, "cannot load libpq for PostgreSQL: %s",
	                        failure);
}
