/* engine.c: finding the engine of a URL, opening and interrupting connections. */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/text.h"

const struct strata_engine *strata_engine_for_url(const char *url, char **target, strata_error *e)
{
	strata_buf forms = STRATA_BUF_INIT;
	const char *suggest = NULL;
	char *shown;
	size_t n = 0;

	*target = NULL;
	for (size_t i = 0; strata_engines[i]; i++) {
		const struct strata_engine *en = strata_engines[i];
		int rc = en->url_target(url, target, e);
		if (rc < 0)
			return NULL;
		if (rc > 0)
			return en;
	}
	/* no engine takes it: say which URLs there are, and which was meant when it is close */
	for (size_t i = 0; strata_engines[i]; i++) {
		const struct strata_engine *en = strata_engines[i];
		for (size_t k = 0; en->near_schemes && en->near_schemes[k] && !suggest; k++)
			if (strata_url_scheme_len(url) &&
			    strata_ascii_ncasecmp(url, en->near_schemes[k],
			                          strlen(en->near_schemes[k])) == 0)
				suggest = en->suggestion;
		n++;
	}
	for (size_t i = 0; strata_engines[i]; i++)
		strata_buf_printf(&forms, "%s%s",
		                  i == 0       ? ""
		                  : i + 1 == n ? ", or "
		                               : ", ",
		                  strata_engines[i]->url_forms);
	if (suggest)
		strata_error_hint(e, "did you mean '%s'?", suggest);
	else
		strata_error_hint(e, "use %s", strata_buf_cstr(&forms));
	strata_buf_free(&forms);
	shown = strata_dburl_mask(url);
	strata_error_set(e, STRATA_EINVALID, "unsupported database URL '%s'", shown ? shown : "");
	free(shown);
	return NULL;
}

int strata_conn_open(strata_conn **out, const strata_dburl *url, unsigned flags, strata_error *e)
{
	int error;

	*out = NULL;
	if ((error = url->engine->open(out, url, flags, e)) < 0)
		return error;
	(*out)->url = url;
	return 0;
}

void strata_conn_close(strata_conn *c)
{
	if (c)
		c->engine->close(c);
}

void strata_conn_interrupt(strata_conn *c)
{
	if (!c)
		return;
	c->interrupted = 1;
	if (c->engine->interrupt)
		c->engine->interrupt(c);
}

int strata_conn_interrupted(strata_error *e)
{
	return strata_error_set(e, STRATA_EINTERRUPTED, "interrupted");
}
