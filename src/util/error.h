/* error.h: fill a strata_error where the facts are known, then pass the code up unchanged. */
#ifndef STRATA_UTIL_ERROR_H
#define STRATA_UTIL_ERROR_H

#include "strata.h"

/* Sets the message (overwriting any earlier one) and returns code, so that
 * `return strata_error_set(e, STRATA_EINVALID, "...")` reads as one step. */
int strata_error_set(strata_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void strata_error_detail(strata_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strata_error_hint(strata_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records where the input is at fault. line/col are 1-based, 0 when unknown. */
void strata_error_at(strata_error *e, const char *file, unsigned line, unsigned col);
/* Copies the source line (up to its end of line) shown under the message with a caret. */
void strata_error_source(strata_error *e, const char *line_start, size_t max);

#endif
