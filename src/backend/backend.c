#include "backend/backend.h"

#include "backend/pg.h"
#include "backend/sqlite.h"
#include "util/error.h"

int strata_backend_open(strata_backend **out, const strata_dburl *url, strata_error *e)
{
	const struct strata_backend_ops *ops =
	    url->kind == STRATA_DB_POSTGRES ? &strata_pg_ops : &strata_sqlite_ops;
	int error;

	*out = NULL;
	if ((error = ops->open(out, url, e)) < 0)
		return error;
	(*out)->url = url;
	return 0;
}

void strata_backend_close(strata_backend *b)
{
	if (b)
		b->ops->close(b);
}
