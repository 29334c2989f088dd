#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

void strata_buf_init(strata_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->max = max ? max : STRATA_BUF_MAX_DEFAULT;
	b->failed = false;
}

static int fail(strata_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = true;
	return STRATA_ERROR;
}

static int grow(strata_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;
	if (b->failed)
		return STRATA_ERROR;
	if (b->max == 0)
		b->max = STRATA_BUF_MAX_DEFAULT;            /* a zero-filled buffer works too */
	if (extra >= b->max || b->len > b->max - extra - 1) /* room for the NUL too */
		return fail(b);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
	p = realloc(b->ptr, cap);
	if (!p)
		return fail(b);
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int strata_buf_reserve(strata_buf *b, size_t extra)
{
	return grow(b, extra);
}

int strata_buf_put(strata_buf *b, const void *data, size_t len)
{
	if (grow(b, len) < 0)
		return STRATA_ERROR;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int strata_buf_puts(strata_buf *b, const char *s)
{
	return strata_buf_put(b, s, strlen(s));
}

int strata_buf_printf(strata_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) < 0)
		return n < 0 ? fail(b) : STRATA_ERROR;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *strata_buf_cstr(const strata_buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *strata_buf_detach(strata_buf *b)
{
	char *p = b->failed ? NULL : b->ptr;
	if (b->failed)
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = false;
	return p;
}

void strata_buf_reset(strata_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void strata_buf_free(strata_buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
