#include "cli/out.h"

#include "cli/signals.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

void out_error(const strata_error *e)
{
	fflush(stdout);
	if (e->code == STRATA_EINTERRUPTED) {
		/* not an error of the input: say what stopped it, and where it was */
		fprintf(stderr, "strata: interrupted by %s", cli_signal_name(cli_signal_caught()));
		if (e->file[0] && e->line)
			fprintf(stderr, " at %s:%u:%u", e->file, e->line, e->column);
		fputc('\n', stderr);
		return;
	}
	fputs("strata: error: ", stderr);
	if (e->file[0]) {
		fputs(e->file, stderr);
		if (e->line)
			fprintf(stderr, ":%u", e->line);
		if (e->line && e->column)
			fprintf(stderr, ":%u", e->column);
		fputs(": ", stderr);
	}
	fputs(e->msg[0] ? e->msg : "unknown error", stderr);
	if (e->sqlstate[0] && e->code == STRATA_EDB)
		fprintf(stderr, " [%s]", e->sqlstate);
	fputc('\n', stderr);
	if (e->source_line[0] && e->line) {
		int w = fprintf(stderr, " %5u | ", e->line) - 2;
		fprintf(stderr, "%s\n%*s| ", e->source_line, w, "");
		/* the caret under the column'th character; tabs stay tabs so it lines up */
		for (unsigned col = 1, i = 0; col < e->column && e->source_line[i]; i++) {
			unsigned char c = (unsigned char)e->source_line[i];
			if ((c & 0xC0) == 0x80)
				continue;
			fputc(c == '\t' ? '\t' : ' ', stderr);
			col++;
		}
		fputs("^\n", stderr);
	}
	if (e->detail[0])
		fprintf(stderr, "detail: %s\n", e->detail);
	if (e->hint[0])
		fprintf(stderr, "hint: %s\n", e->hint);
}

void out_info(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void out_verbose(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	if (!ctx->verbose || ctx->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void out_note(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	if (ctx->quiet)
		return;
	fflush(stdout);
	fputs("strata: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *out_duration(char buf[32], double ms)
{
	if (ms < 1000)
		snprintf(buf, 32, "%.1f ms", ms);
	else
		snprintf(buf, 32, "%.2f s", ms / 1000);
	return buf;
}

int out_width(const char *s)
{
	/* columns on a terminal: a UTF-8 character takes wcwidth's (0 for a combining mark, 2 for
	 * a wide one; main sets a UTF-8 LC_CTYPE), a byte that is not UTF-8 one column */
	mbstate_t st;
	int w = 0;
	memset(&st, 0, sizeof(st));
	while (*s) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, strlen(s), &st);
		int cw;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			w++;
			s++;
			continue;
		}
		cw = wcwidth(wc);
		w += cw < 0 ? 1 : cw;
		s += n;
	}
	return w;
}

void out_pad(FILE *f, const char *s, int width)
{
	fputs(s, f);
	for (int w = out_width(s); w < width; w++)
		fputc(' ', f);
}
