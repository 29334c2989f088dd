/*
 * migration_text.h: what the readers of migration files (migration.c: names, strata's sections,
 * golang-migrate's halves; migration_formats.c: goose's and Flyway's) share: lines of a file's
 * text, white space, and errors placed at file:line:col.
 */
#ifndef STRATA_CORE_MIGRATION_TEXT_H
#define STRATA_CORE_MIGRATION_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/migration.h"

static inline bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);
	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

/* A line of text: [start, end) without its line ending; next is where the next line starts. */
struct line {
	size_t start, end, next;
};

static inline bool next_line(const char *t, size_t len, size_t pos, struct line *l)
{
	size_t i = pos;
	if (pos >= len)
		return false;
	while (i < len && t[i] != '\n')
		i++;
	l->start = pos;
	l->next = i < len ? i + 1 : len;
	l->end = (i > pos && t[i - 1] == '\r') ? i - 1 : i;
	return true;
}

static inline size_t skip_blank(const char *t, size_t i, size_t end)
{
	while (i < end && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i;
}

static inline bool line_is_comment_or_blank(const char *t, const struct line *l)
{
	size_t i = skip_blank(t, l->start, l->end);
	return i == l->end || (l->end - i >= 2 && t[i] == '-' && t[i + 1] == '-');
}

static inline size_t skip_bom(const char *t, size_t len)
{
	return len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* If the line is '-- migrate:up|down ...', returns 1 for up, 2 for down and sets *opts_at to
 * where its options begin. */
int strata_migration__directive(const char *t, const struct line *l, size_t *opts_at);
/* Places e at path's line:column for byte off of text, with that line's source. */
void strata_migration__locate(strata_error *e, const char *path, const char *text, size_t off);
/* Sets the outs of a parsed name: version fname[vs, vs+vl), name fname[ns, ns+nl). */
int strata_migration__name_outs(strata_file_kind *kind_out, strata_file_kind kind,
                                char **version_out, char **name_out, const char *fname, size_t vs,
                                size_t vl, size_t ns, size_t nl, strata_error *e);
/* 0 when fname[ns, ns+nl) is a valid name, else the error naming the file. */
int strata_migration__bad_name(const char *fname, size_t ns, size_t nl, strata_error *e);

/* migration_formats.c */

/* strata_migration_parse_name for a name that starts with 'V', 'U', 'R' or 'B'. */
int strata_flyway__name(strata_file_kind *kind_out, char **version_out, char **name_out,
                        const char *fname, strata_error *e);
/* A V or U file: all of it is the one direction's SQL. */
void strata_flyway__half(strata_section *s, const char *path, const char *t);
/* V<version>__<name>.sql.conf into m->conf_no_transaction. */
int strata_flyway__conf(strata_migration *m, strata_error *e);
/* Whether line l is a goose annotation, indented or not (*at: where its '--' is). */
bool strata_goose__line(const char *t, const struct line *l, size_t *at);
/* The error for a marker of the other format at byte `at` of m's text. */
int strata_goose__mixed(const strata_migration *m, size_t at, bool goose_first, strata_error *e);
/* m's text in goose's format. */
int strata_goose__parse(strata_migration *m, strata_error *e);

#endif
