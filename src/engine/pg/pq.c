/* pq.c: libpq loaded on first use (see pq.h). */
#define STRATA_PQ_NO_REDIRECT
#include "engine/pg/pq.h"

#include <pthread.h>

#include "util/dl.h"
#include "util/error.h"

#define LIBPQ "libpq.so.5"

struct strata_pq strata_pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512]; /* what went wrong, "" when libpq is loaded */

static void load(void)
{
#define STRATA_PQ_SYM(f) {#f, (void **)&strata_pq.f},
	static const strata_dl_sym syms[] = {STRATA_PQ_FUNCTIONS(STRATA_PQ_SYM)};
#undef STRATA_PQ_SYM
	strata_dl_load(LIBPQ, syms, sizeof(syms) / sizeof(syms[0]),
	               " (libpq 14 or later is needed)", failure, sizeof(failure));
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
