/* json.h: JSON on stdout (migrations show --json, lint --format json), through yajl's
 * generator, indented by two spaces. */
#ifndef STRATA_CLI_JSON_H
#define STRATA_CLI_JSON_H

#include <yajl/yajl_gen.h>

/* A generator, or NULL when out of memory. */
yajl_gen cli_json_open(void);
/* A generator that writes to stdout as it goes (through stdio's buffer), for a long document:
 * nothing is held. */
yajl_gen cli_json_open_stdout(void);
/* A string, or null for NULL. */
void cli_json_str(yajl_gen g, const char *s);
/* "key": value (a string, or null for NULL). */
void cli_json_kv(yajl_gen g, const char *key, const char *value);
/* "key": an integer. */
void cli_json_int(yajl_gen g, const char *key, long long value);
/* Prints what was generated, ending in a newline, and frees g. NULL-safe. */
void cli_json_close(yajl_gen g);

#endif
