/*
 * buf.h: a growable byte buffer with a maximum size (curl's dynbuf, git's strbuf).
 *
 * `ptr` is always NUL-terminated once anything was added. A failed append (out of memory or past
 * `max`) frees the content and makes the buffer sticky-failed: later appends fail too, so a chain
 * of appends needs one check at the end. A zero-filled buffer ({0}) is a valid empty one with
 * the default maximum.
 */
#ifndef STRATA_UTIL_BUF_H
#define STRATA_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strata_buf {
	char *ptr;
	size_t len, cap, max;
	bool failed;
} strata_buf;

#define STRATA_BUF_MAX_DEFAULT ((size_t)1 << 30)
#define STRATA_BUF_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0, STRATA_BUF_MAX_DEFAULT, false                                          \
	}

void strata_buf_init(strata_buf *b, size_t max);
int strata_buf_put(strata_buf *b, const void *data, size_t len);
/* Room for `extra` more bytes (and the NUL) at once, so that a buffer whose final size is known
 * does not grow step by step (each step a copy, the old block left to the allocator). */
int strata_buf_reserve(strata_buf *b, size_t extra);
int strata_buf_puts(strata_buf *b, const char *s);
int strata_buf_printf(strata_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The content, never NULL: "" when empty. */
const char *strata_buf_cstr(const strata_buf *b);
/* Hands the allocation to the caller (who frees it) and empties b. NULL if nothing or failed. */
char *strata_buf_detach(strata_buf *b);
void strata_buf_reset(strata_buf *b);
void strata_buf_free(strata_buf *b);

#endif
