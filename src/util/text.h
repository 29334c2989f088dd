/* text.h: UTF-8 checks and mapping offsets in a text to line:column. */
#ifndef STRATA_UTIL_TEXT_H
#define STRATA_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Returns true when s[0..len) is well-formed UTF-8; otherwise false with *bad_out at the byte
 * offset of the first bad sequence. */
bool strata_utf8_valid(const char *s, size_t len, size_t *bad_out);
/* 1-based line and column (in characters) of byte offset `off` in s. CRLF counts as one line
 * end. *line_start_out (optional) gets the offset where that line begins. */
void strata_text_linecol(const char *s, size_t off, unsigned *line, unsigned *col,
                         size_t *line_start_out);
/* Byte offset of the `chars`-th character (0-based) of s, clamped to len. PostgreSQL reports
 * error positions in characters. */
size_t strata_utf8_char_to_byte(const char *s, size_t len, size_t chars);
/* strcasecmp and strncasecmp for keywords, file extensions and URL schemes: ASCII letters only,
 * whatever the locale (SQLite's sqlite3_stricmp and sqlite3_strnicmp). The C library's follow
 * LC_CTYPE, and a program embedding strata may set one where 'I' does not lower to 'i'
 * (Turkish): there COMMIT would not match "commit". */
int strata_ascii_casecmp(const char *a, const char *b);
int strata_ascii_ncasecmp(const char *a, const char *b, size_t n);
/* strtod as the C locale reads numbers, whatever the program's LC_NUMERIC: the decimal point is
 * '.', where a program embedding strata may have set a locale that writes ','. */
double strata_strtod_c(const char *s, char **end);
/* SHA-256 of data as 64 lowercase hex digits into out[65]. CR LF is hashed as LF, so a CRLF
 * checkout sums the same as an LF one. Returns 0, or -1 if libcrypto fails. */
int strata_sha256_text(char out[65], const char *data, size_t len);

#endif
