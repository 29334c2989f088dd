/* pgq.c: libpg_query loaded on first use (see pgq.h). */
#define STRATA_PGQ_NO_REDIRECT
#include "core/pgq.h"

#include <pthread.h>

#include "util/dl.h"
#include "util/error.h"

/* the SONAME of the libpg_query strata was built against, and its Debian package (from
 * CMakeLists.txt) */
#if !defined(STRATA_PG_QUERY_SONAME) || !defined(STRATA_PG_QUERY_DEB)
#error "STRATA_PG_QUERY_SONAME and STRATA_PG_QUERY_DEB come from CMakeLists.txt"
#endif

struct strata_pgq strata_pgq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512]; /* what went wrong, "" when libpg_query is loaded */

static void load(void)
{
#define STRATA_PGQ_SYM(f) {#f, (void **)&strata_pgq.f},
	static const strata_dl_sym syms[] = {STRATA_PGQ_FUNCTIONS(STRATA_PGQ_SYM)};
#undef STRATA_PGQ_SYM
	strata_dl_load(STRATA_PG_QUERY_SONAME, syms, sizeof(syms) / sizeof(syms[0]), "", failure,
	               sizeof(failure));
}

int strata_pgq_load(strata_error *e)
{
	pthread_once(&once, load);
	if (!failure[0])
		return 0;
	strata_error_hint(e,
	                  "install libpg_query (Debian: apt-get install " STRATA_PG_QUERY_DEB ")");
	return strata_error_set(e, STRATA_ERROR,
	                        "cannot load libpg_query to read PostgreSQL's SQL: %s", failure);
}
