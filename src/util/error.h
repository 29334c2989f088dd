/* error.h: fill a strata_error where the facts are known, then pass the code up unchanged.
 * strata_error_set, _detail, _hint and _at are public (strata.h); this adds what only the
 * library uses. */
#ifndef STRATA_UTIL_ERROR_H
#define STRATA_UTIL_ERROR_H

#include "strata.h"

/* Copies the source line (up to its end of line) shown under the message with a caret. */
void strata_error_source(strata_error *e, const char *line_start, size_t max);

#endif
