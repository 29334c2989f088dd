/*
 * dburl.h: which database a URL names, and the same URL safe to show.
 *
 *   postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://)
 *   host=localhost dbname=app user=app                  (a libpq keyword string)
 *   postgres://                                         (everything from PG* variables)
 *   sqlite:path/to/file.db   sqlite:///abs/file.db      (also sqlite3:)
 */
#ifndef STRATA_CORE_DBURL_H
#define STRATA_CORE_DBURL_H

#include <stddef.h>

#include "strata.h"

typedef enum { STRATA_DB_SQLITE, STRATA_DB_POSTGRES } strata_db_kind;

typedef struct strata_dburl {
	strata_db_kind kind;
	char *target;   /* the libpq conninfo (URL or keywords), or the SQLite file path */
	char *display;  /* the URL with any password replaced by **** */
	char *password; /* as written in the URL, to scrub from messages; NULL if none */
} strata_dburl;

int strata_dburl_parse(strata_dburl *out, const char *url, strata_error *e);
void strata_dburl_free(strata_dburl *u);
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
