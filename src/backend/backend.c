#include "backend/backend.h"

#include "backend/pg.h"
#include "backend/sqlite.h"
#include "util/error.h"

int strata_backend_open(strata_backend **out, const strata_dburl *url, unsigned flags,
                        strata_error *e)
{
	const struct strata_backend_ops *ops =
	    url->kind == STRATA_DB_POSTGRES ? &strata_pg_ops : &strata_sqlite_ops;
	int error;

	*out = NULL;
	if ((error = ops->open(out, url, flags, e)) < 0)
		return error;
	(*out)->url = url;
	return 0;
}

void strata_backend_close(strata_backend *b)
{
	if (b)
		b->ops->close(b);
}

void strata_backend_interrupt(strata_backend *b)
{
	if (!b)
		return;
	b->interrupted = 1;
	if (b->ops->interrupt)
		b->ops->interrupt(b);
}

int strata_backend_interrupted(strata_error *e)
{
	return strata_error_set(e, STRATA_EINTERRUPTED, "interrupted");
}
