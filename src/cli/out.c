/* out.c: the one door for output (see out.h). */
#include "cli/out.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "cli/signals.h"

/* The library's hints name options as its API does; the command names its flags. Longer names
 * first, where one contains another. */
static const struct {
	const char *api, *cli;
} flags[] = {
    {"strata_repair() with mark_applied", "'strata migrations repair --mark-applied'"},
    {"strata_build_options.base_dirs", "--base DIR"},
    {"strata_build_options.dialect", "--dialect or \"dialect\" in strata.json"},
    {"strata_seed_options.force", "--force"},
    {"STRATA_SEED_CONFLICT_SKIP or STRATA_SEED_CONFLICT_UPDATE", "--on-conflict skip or update"},
    {"STRATA_SEED_CONFLICT_SKIP", "--on-conflict skip"},
    {"STRATA_SEED_CONFLICT_UPDATE", "--on-conflict update"},
    {"lock_strategy STRATA_LOCK_TABLE",
     "--lock-strategy table (or \"lock_strategy\": \"table\" in strata.json)"},
    {"lock_strategy STRATA_LOCK_ADVISORY", "--lock-strategy advisory"},
    {"strata_revert() with fake and all", "'strata migrations revert --fake --all'"},
    {"strata_adopt_options.tool", "--from TOOL"},
    {"strata_adopt_options.table", "--table"},
    {"strata_adopt_options.schema", "--schema"},
    {"strata_source_add_dir()", "--dir"},
    {"strata_build()", "'strata build'"},
    {"strata_repair()", "'strata migrations repair'"},
    {"strata_accept() for '", "'strata migrations accept "},
    {"strata_status()", "'strata migrations show'"},
    {"strata_lint_rules()", "'strata lint --list-rules'"},
    {"strata_create()", "'strata migration:create'"},
    {"one_transaction off", "--transaction each"},
    {"with one_transaction off", "with --transaction each"},
    {"with one_transaction", "with --transaction all"},
    {"ignore_checksums", "--ignore-checksums"},
    {"allow_out_of_order", "--allow-out-of-order"},
    {"lock_timeout_ms", "--lock-timeout"},
    {"replica_wait_timeout_ms", "--replica-wait-timeout"},
    {"max_replica_lag_ms", "--max-replica-lag"},
    {"lock_wait_ms", "--lock-wait"},
    {"lock_ttl_ms", "--lock-ttl"},
    {"connect_wait_ms", "--wait-timeout"},
    {"mark_applied", "--mark-applied"},
    {"(strict)", "(--strict)"},
    {"(all)", "(--all)"},
};

void out_flags(char *out, size_t n, const char *s)
{
	size_t w = 0;
	while (*s && w + 1 < n) {
		size_t k = 0;
		while (k < sizeof(flags) / sizeof(flags[0]) &&
		       strncmp(s, flags[k].api, strlen(flags[k].api)) != 0)
			k++;
		if (k < sizeof(flags) / sizeof(flags[0])) {
			w += (size_t)snprintf(out + w, n - w, "%s", flags[k].cli);
			if (w >= n)
				w = n - 1;
			s += strlen(flags[k].api);
		} else {
			out[w++] = *s++;
		}
	}
	out[w] = '\0';
}

void out_caret(FILE *f, unsigned line, unsigned column, const char *src)
{
	int w;
	if (!src || !src[0] || !line)
		return;
	w = fprintf(f, " %5u | ", line) - 2;
	fprintf(f, "%s\n%*s| ", src, w, "");
	/* the caret under the column'th character; tabs stay tabs so it lines up */
	for (unsigned col = 1, i = 0; col < column && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];
		if ((c & 0xC0) == 0x80)
			continue;
		fputc(c == '\t' ? '\t' : ' ', f);
		col++;
	}
	fputs("^\n", f);
}

void out_error(const strata_error *e)
{
	char text[1024];
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
	out_flags(text, sizeof(text), e->msg[0] ? e->msg : "unknown error");
	fputs(text, stderr);
	if (e->sqlstate[0] && (e->code == STRATA_EDB || e->code == STRATA_ELOCKTIMEOUT))
		fprintf(stderr, " [%s]", e->sqlstate);
	fputc('\n', stderr);
	if (e->source_line[0] && e->line)
		out_caret(stderr, e->line, e->column, e->source_line);
	if (e->detail[0]) {
		out_flags(text, sizeof(text), e->detail);
		fprintf(stderr, "detail: %s\n", text);
	}
	if (e->hint[0]) {
		out_flags(text, sizeof(text), e->hint);
		fprintf(stderr, "hint: %s\n", text);
	}
}

static void print_phase(struct cli_ctx *ctx, const strata_event *ev)
{
	char dur[32], dur2[32];
	if (strcmp(ev->phase, "read") == 0) {
		out_verbose(
		    ctx, "read %zu migration%s from %zu director%s%s in %s\n", ev->count,
		    ev->count == 1 ? "" : "s", ctx->ndirs, ctx->ndirs == 1 ? "y" : "ies",
		    ev->flags & STRATA_EVENT_FROM_MANIFEST ? " (listed by the build manifest)" : "",
		    out_duration(dur, ev->ms));
	} else if (strcmp(ev->phase, "connect") == 0) {
		out_verbose(ctx, "connected in %s\n", out_duration(dur, ev->ms));
	} else if (strcmp(ev->phase, "lock") == 0) {
		ctx->lock_ms = ev->ms; /* said with what comes next */
		ctx->lock_pending = true;
	} else if (strcmp(ev->phase, "history") == 0 || strcmp(ev->phase, "summary") == 0 ||
	           strcmp(ev->phase, "prefix") == 0) {
		char lock[64] = "";
		if (ctx->lock_pending)
			snprintf(lock, sizeof(lock), "locked in %s; ",
			         out_duration(dur2, ctx->lock_ms));
		ctx->lock_pending = false;
		if (strcmp(ev->phase, "summary") == 0)
			out_verbose(ctx, "%sthe history's summary matches the migrations' (%s)\n",
			            lock, out_duration(dur, ev->ms));
		else if (strcmp(ev->phase, "prefix") == 0)
			out_verbose(ctx,
			            "%sthe history's summary is the build's first %zu migration%s "
			            "(%s): the history is not read\n",
			            lock, ev->count, ev->count == 1 ? "" : "s",
			            out_duration(dur, ev->ms));
		else
			out_verbose(ctx, "%sread the history (%zu row%s) in %s\n", lock, ev->count,
			            ev->count == 1 ? "" : "s", out_duration(dur, ev->ms));
	} else if (strcmp(ev->phase, "stream") == 0) {
		out_verbose(
		    ctx, "listed %zu migration%s as the %s and the history were read, in %s\n",
		    ev->count, ev->count == 1 ? "" : "s",
		    ev->flags & STRATA_EVENT_FROM_MANIFEST ? "build manifest" : "migrations",
		    out_duration(dur, ev->ms));
	} else if (strcmp(ev->phase, "checked") == 0) {
		out_verbose(ctx,
		            "checked %zu migration%s as the migrations and the history were read, "
		            "in %s\n",
		            ev->count, ev->count == 1 ? "" : "s", out_duration(dur, ev->ms));
	} else if (strcmp(ev->phase, "plan") == 0) {
		out_verbose(ctx, "planned %zu step%s (files read and checked) in %s\n", ev->count,
		            ev->count == 1 ? "" : "s", out_duration(dur, ev->ms));
	}
}

/* A dry run's step: a comment line naming it, then its SQL. */
static void print_planned(const strata_step_report *st)
{
	printf("-- %s %s-%s (%s)%s\n", st->direction == STRATA_UP ? "apply" : "revert", st->version,
	       st->name, st->file, st->no_transaction ? " [transaction:false]" : "");
	if (st->is_function) {
		printf("-- (a function written in C)\n");
		return;
	}
	fwrite(st->sql, 1, st->sql_len, stdout);
	if (st->sql_len && st->sql[st->sql_len - 1] != '\n')
		putchar('\n');
}

void out_event(const strata_event *ev, void *userdata)
{
	struct cli_ctx *ctx = userdata;
	char dur[32], text[600];
	switch (ev->kind) {
	case STRATA_EVENT_PHASE:
		print_phase(ctx, ev);
		break;
	case STRATA_EVENT_LOCK_WAIT:
		out_verbose(ctx, "waiting for the migration lock: %s\n", ev->message);
		break;
	case STRATA_EVENT_STEP_START:
		if (ev->index == 0 && ctx->announce)
			ctx->announce(ctx, ev);
		out_verbose(ctx, "  [%zu/%zu] %s-%s (%s) ...\n", ev->index + 1, ev->total,
		            ev->version, ev->name, ev->file);
		break;
	case STRATA_EVENT_STEP_DONE:
		out_info(ctx, "  %-9s %s-%s  %s\n", ctx->verb ? ctx->verb : "applied", ev->version,
		         ev->name, out_duration(dur, ev->ms));
		break;
	case STRATA_EVENT_STEP_SKIPPED:
		out_info(ctx, "  %-9s %s-%s  (done by another runner)\n", "skipped", ev->version,
		         ev->name);
		break;
	case STRATA_EVENT_STEP_RETRY:
		out_note(ctx, "%s-%s hit the lock timeout and was rolled back; retrying in %s",
		         ev->version, ev->name, out_duration(dur, ev->ms));
		break;
	case STRATA_EVENT_NOTICE:
		out_flags(text, sizeof(text), ev->message);
		if ((ev->flags & STRATA_EVENT_WARNING) ||
		    strncmp(ev->message, "ignore_checksums:", 17) == 0) {
			fflush(stdout); /* loud even with -q: a check was skipped */
			fprintf(stderr, "strata: warning: %s\n", text);
		} else {
			out_verbose(ctx, "%s\n", text);
		}
		break;
	case STRATA_EVENT_SEED_TABLE:
		break;
	case STRATA_EVENT_REPLICA_WAIT:
		if (ev->count)
			snprintf(text, sizeof(text), "%zu bytes and ", ev->count);
		else
			text[0] = '\0';
		out_note(ctx, "waiting for replica %s: %sup to %s behind", ev->message, text,
		         out_duration(dur, ev->ms));
		break;
	case STRATA_EVENT_STEP_PLANNED:
		if (ctx->print_planned)
			print_planned(ev->step);
		break;
	case STRATA_EVENT_TESTED:
		if (ctx->on_tested)
			ctx->on_tested(ctx, ev->test);
		break;
	case STRATA_EVENT_REVERT_ORDER:
		out_note(ctx, "reverting %s-%s, the most recently applied; %s has a higher version",
		         ev->version, ev->name, ev->message);
		break;
	}
}

void out_info(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	FILE *f = ctx->json_stdout ? stderr : stdout;
	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
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

/* v (>= 0) with `decimals` decimals, written backwards from the end of buf; returns the start. */
static char *fixed(char buf[32], long long v, int decimals, const char *suffix)
{
	size_t sl = strlen(suffix);
	char *p = buf + 31 - sl;
	memcpy(p, suffix, sl + 1);
	for (int i = 0; i < decimals; i++, v /= 10)
		*--p = (char)('0' + v % 10);
	if (decimals)
		*--p = '.';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	return p;
}

const char *out_ms3(char buf[32], double ms)
{
	if (ms >= 0 && ms < 1e12)
		return fixed(buf, (long long)(ms * 1000 + 0.5), 3, "");
	snprintf(buf, 32, "%.3f", ms);
	return buf;
}

const char *out_duration(char buf[32], double ms)
{
	/* under a second "%.1f ms" (halves rounded up) without printf: a listing formats 10,000
	 * of these */
	if (ms >= 0 && ms < 999.95)
		return fixed(buf, (long)(ms * 10 + 0.5), 1, " ms");
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
	for (; *s && (unsigned char)*s < 0x80; s++) /* ASCII: a column a byte */
		w++;
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
