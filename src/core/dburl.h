/*
 * dburl.h: which engine a database URL is for (each engine says which URLs it takes: see
 * strata_engine.url_target), and the same URL safe to show: its password masked where it is
 * the password (user-info, password= values).
 */
#ifndef STRATA_CORE_DBURL_H
#define STRATA_CORE_DBURL_H

#include <stddef.h>

#include "strata.h"

struct strata_engine;

typedef struct strata_dburl {
	const struct strata_engine *engine; /* the engine that takes it (core/engine.h) */
	char *target;   /* the engine's form of it: the libpq conninfo, the SQLite file path */
	char *display;  /* the URL with any password replaced by **** */
	char *password; /* as written in the URL, to scrub from messages; NULL if none */
	/* PostgreSQL: the schema a tenant target runs in (its search_path;
	 * strata_db_options.schema), NULL for the URL's own */
	char *schema;
} strata_dburl;

/* Which engine's URL it is (strata_engine_for_url), its target, and the same URL safe to show. */
int strata_dburl_parse(strata_dburl *out, const char *url, strata_error *e);
void strata_dburl_free(strata_dburl *u);
/* Length of a URL scheme at the start of s ("postgres" in "postgres://"), 0 if none. */
size_t strata_url_scheme_len(const char *s);
/* A copy of s with every %XX replaced by its byte (a '%' not followed by two hex digits stays);
 * NULL on out-of-memory. */
char *strata_url_decode(const char *s);
/* A copy of url with every password in it (userinfo, password= parameter or keyword) masked. */
char *strata_dburl_mask(const char *url);
/* Masks, in place, in s (a NUL-terminated buffer of `size` bytes) what is a password where it
 * stands: the user-info password of every URL ("scheme://user:****@host") and every password=
 * value (URL parameter or libpq keyword). Nothing else: a password that is also a word ("app",
 * "t") stays untouched elsewhere in the text, so messages are never garbled. */
void strata_dburl_scrub(const strata_dburl *u, char *s, size_t size);
/* strata_dburl_scrub, plus what libpq says about a connection string it could not read: a
 * double-quoted piece of u's password (as written, or percent-decoded). For connection errors. */
void strata_dburl_scrub_conninfo(const strata_dburl *u, char *s, size_t size);
/* Each over every text field of an error. */
void strata_dburl_scrub_error(const strata_dburl *u, strata_error *e);
void strata_dburl_scrub_conninfo_error(const strata_dburl *u, strata_error *e);

#endif
