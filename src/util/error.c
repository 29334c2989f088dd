#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void strata_error_clear(strata_error *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

static void vfill(char *dst, size_t n, const char *fmt, va_list ap)
{
	int len = vsnprintf(dst, n, fmt, ap);
	if (len >= (int)n && n > 4)
		memcpy(dst + n - 4, "...", 4); /* say that it was cut rather than cut silently */
}

/* fmt and the arguments after it into the array buf. */
#define FILL(buf, fmt)                                                                             \
	do {                                                                                       \
		va_list ap_;                                                                       \
		va_start(ap_, fmt);                                                                \
		vfill(buf, sizeof(buf), fmt, ap_);                                                 \
		va_end(ap_);                                                                       \
	} while (0)

int strata_error_set(strata_error *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	FILL(e->msg, fmt);
	return code;
}

void strata_error_detail(strata_error *e, const char *fmt, ...)
{
	if (e)
		FILL(e->detail, fmt);
}

void strata_error_hint(strata_error *e, const char *fmt, ...)
{
	if (e)
		FILL(e->hint, fmt);
}

void strata_error_at(strata_error *e, const char *file, unsigned line, unsigned col)
{
	if (!e)
		return;
	if (file)
		snprintf(e->file, sizeof(e->file), "%s", file);
	e->line = line;
	e->column = col;
}

void strata_error_source(strata_error *e, const char *line_start, size_t max)
{
	size_t n = 0;
	if (!e || !line_start)
		return;
	while (n < max && line_start[n] && line_start[n] != '\n' && line_start[n] != '\r' &&
	       n + 1 < sizeof(e->source_line))
		n++;
	memcpy(e->source_line, line_start, n);
	e->source_line[n] = '\0';
}
