/* json.h: JSON on stdout (migrations show --json, lint --format json), through yajl's
 * generator, indented by two spaces. */
#ifndef STRATA_CLI_JSON_H
#define STRATA_CLI_JSON_H

#include <yajl/yajl_gen.h>

/* A generator, or NULL when out of memory. */
yajl_gen cli_json_open(void);
/* A string, or null for NULL. */
void cli_json_str(yajl_gen g, const char *s);
/* "key": value (a string, or null for NULL). */
void cli_json_kv(yajl_gen g, const char *key, const char *value);
/* "key": an integer. */
void cli_json_int(yajl_gen g, const char *key, long long value);
/* Prints what was generated, ending in a newline, and frees g. NULL-safe. */
/* Writes what g made so far to stdout (a long document streams). */
void cli_json_flush(yajl_gen g);
void cli_json_close(yajl_gen g);

#endif
