/* out.h: results to stdout, diagnostics to stderr, errors in three parts with file:line:col, and
 * the library's events as progress lines. */
#ifndef STRATA_CLI_OUT_H
#define STRATA_CLI_OUT_H

#include <stdio.h>

#include "cli/cli.h"

/* strata: error: FILE:LINE:COL: MESSAGE [SQLSTATE], the source line with a caret, detail, hint;
 * the library's names of options (lock_wait_ms, strata_build()) shown as this command's flags.
 * An interrupt is said as such. */
void out_error(const strata_error *e);
/* s with the library's names of options (lock_wait_ms, strata_build()) replaced by this
 * command's flags, into out (size n). */
void out_flags(char *out, size_t n, const char *s);
/* The library's events (a strata_event_fn; userdata: the struct cli_ctx). */
void out_event(const strata_event *ev, void *userdata);
/* Progress and results on stdout (stderr when stdout carries JSON), unless -q. */
void out_info(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Only with -v. */
#define out_verbose(ctx, ...)                                                                      \
	do {                                                                                       \
		if ((ctx)->verbose)                                                                \
			out_info(ctx, __VA_ARGS__);                                                \
	} while (0)
/* strata: note: ... on stderr (unless -q). */
void out_note(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "12.3 ms", "4.56 s" */
const char *out_duration(char buf[32], double ms);
/* ms with three decimals ("%.3f", halves rounded up), without printf; returns where in buf. */
const char *out_ms3(char buf[32], double ms);
/* How many terminal columns s takes (by character width, not bytes). */
int out_width(const char *s);
/* s, then spaces up to `width` columns (a left-aligned table cell). */
void out_pad(FILE *f, const char *s, int width);
/* The source line of a place with a caret under column, as errors show it. */
void out_caret(FILE *f, unsigned line, unsigned column, const char *src);

#endif
