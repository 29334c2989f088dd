/* json.h: JSON on stdout (migrations show --json, lint --format json), through yajl's
 * generator, indented by two spaces. */
#ifndef STRATA_CLI_JSON_H
#define STRATA_CLI_JSON_H

#include <yajl/yajl_gen.h>

#include "strata.h"

/* A generator, or NULL when out of memory. */
yajl_gen cli_json_open(void);
/* For a long document, written as it is made: prints what g holds when that is at least
 * at_least bytes (0: whatever it holds), and empties it. yajl's own buffer gathers the tokens,
 * so stdio sees a few large writes instead of one per token. */
void cli_json_flush(yajl_gen g, size_t at_least);
/* what a long listing (show, migrations test) is written out in pieces of, at least */
#define CLI_JSON_CHUNK ((size_t)32 * 1024)
/* A string, or null for NULL. */
void cli_json_str(yajl_gen g, const char *s);
/* "key": value (a string, or null for NULL). */
void cli_json_kv(yajl_gen g, const char *key, const char *value);
/* "key": an integer. */
void cli_json_int(yajl_gen g, const char *key, long long value);
/* "error": e's message, "error_file" (null for none), "error_line", "error_column". */
void cli_json_error(yajl_gen g, const strata_error *e);
/* A streamed listing that e stopped part-way ({..., "key": [entries so far): its array
 * closed, e's members (cli_json_error), the document closed and printed, g freed; so that what
 * was printed is one valid document, which says why it ends there. */
void cli_json_end_listing(yajl_gen g, const strata_error *e);
/* Prints what was generated, ending in a newline, and frees g. NULL-safe. */
void cli_json_close(yajl_gen g);

#endif
