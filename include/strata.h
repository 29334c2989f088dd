/*
 * strata.h: the public face of libstrata.
 *
 * Conventions (see ../shared/STYLE.md): a function that can fail returns int, 0 on success and a
 * negative STRATA_E* code on failure, and fills the caller's strata_error with a one-line message
 * and, where the input is at fault, the file, line and column. The library never prints and never
 * exits. No libpq or SQLite type appears here.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>

#define STRATA_VERSION "0.1.0"

enum {
	STRATA_OK = 0,
	STRATA_ERROR = -1,        /* anything else */
	STRATA_ENOTFOUND = -2,    /* a file, directory, migration or version that is not there */
	STRATA_EINVALID = -3,     /* bad input: a malformed migration, URL, option or config */
	STRATA_EDB = -4,          /* the database refused; sqlstate is set */
	STRATA_ELOCKED = -5,      /* another runner holds the lock past the wait */
	STRATA_ECONNECT = -6,     /* cannot reach the database */
	STRATA_EEXISTS = -7,      /* already there: a file to create, a migration applied */
	STRATA_EINTERRUPTED = -8, /* stopped by an interrupt (strata_backend_interrupt) */
};

typedef struct strata_error {
	int code;
	char sqlstate[6];
	char file[512];
	unsigned line, column; /* 1-based; 0 = unknown */
	char msg[512];
	char detail[512];
	char hint[512];
	char source_line[256]; /* the offending source line, for a caret under column */
} strata_error;

#define STRATA_ERROR_INIT                                                                          \
	{                                                                                          \
		0                                                                                  \
	}

/* Clears e back to "no error". */
void strata_error_clear(strata_error *e);

#endif
