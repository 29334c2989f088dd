/* out.h: results to stdout, diagnostics to stderr, errors in three parts with file:line:col. */
#ifndef STRATA_CLI_OUT_H
#define STRATA_CLI_OUT_H

#include <stdio.h>

#include "cli/cli.h"

/* strata: error: FILE:LINE:COL: MESSAGE [SQLSTATE], the source line with a caret, detail, hint */
void out_error(const strata_error *e);
/* Progress and results on stdout, unless -q. */
void out_info(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Only with -v. */
void out_verbose(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* strata: note: ... on stderr (unless -q). */
void out_note(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* How many terminal columns s takes (by character width, not bytes). */
int out_width(const char *s);
/* s, then spaces up to `width` columns (a left-aligned table cell). */
void out_pad(FILE *f, const char *s, int width);
/* "12.3 ms", "4.56 s" */
const char *out_duration(char buf[32], double ms);

#endif
