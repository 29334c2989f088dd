/*
 * migration_formats.c: goose's and Flyway's migration files (core/migration.h says what is read).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/migration.h"
#include "core/migration_text.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"

/* Flyway's names: V<version>__<description>.sql (and its .sql.conf), U<version>__<description>.sql.
 * Those strata cannot run are errors, never skipped: a version that is not a whole number,
 * repeatable (R__) and baseline (B<version>__) migrations, an undo's own .conf. */
int strata_flyway__name(strata_file_kind *kind_out, char **version_out, char **name_out,
                        const char *fname, strata_error *e)
{
	size_t len = strlen(fname), stem, i = 1, j;
	char p = fname[0];
	bool conf = false;

	if (!(p == 'R' && strncmp(fname, "R__", 3) == 0) &&
	    !((p == 'V' || p == 'U' || p == 'B') && isdigit((unsigned char)fname[1])))
		return 0; /* VIEWS.sql, Users.sql: not Flyway's */
	if (ends_with(fname, len, ".sql")) {
		stem = len - 4;
	} else if (ends_with(fname, len, ".sql.conf")) {
		stem = len - 9;
		conf = true;
	} else {
		if (len > 4 && strata_ascii_casecmp(fname + len - 4, ".sql") == 0) {
			strata_error_at(e, fname, 0, 0);
			strata_error_hint(e, "rename it to %.*s.sql", (int)(len - 4), fname);
			return strata_error_set(
			    e, STRATA_EINVALID,
			    "'%s' looks like a Flyway migration, but only files "
			    "ending in '.sql' are read",
			    fname);
		}
		return 0;
	}
	if (p == 'R') {
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e,
		                  "strata runs each migration once, in version order: put its "
		                  "statements in a versioned migration (V<version>__<description>"
		                  ".sql), or move the file out of the migrations directory");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'%s' is a Flyway repeatable migration (R__), which strata "
		                        "does not support",
		                        fname);
	}
	if (p == 'B') {
		if (!strstr(fname, "__"))
			return 0; /* B2B_orders.sql: no Flyway name */
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e, "rename it to a versioned migration (V<version>__<description>"
		                     ".sql), or move the file out of the migrations directory");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'%s' is a Flyway baseline migration (B<version>__), which "
		                        "strata does not support",
		                        fname);
	}
	while (isdigit((unsigned char)fname[i]))
		i++;
	if (!(i + 1 < stem && fname[i] == '_' && fname[i + 1] == '_')) {
		/* V1.1__x.sql, V1_1__x.sql: a version of several parts */
		for (j = i; j < stem && (isdigit((unsigned char)fname[j]) || fname[j] == '.' ||
		                         (fname[j] == '_' && fname[j + 1] != '_'));
		     j++)
			;
		if (j > i && j + 1 < stem && fname[j] == '_' && fname[j + 1] == '_') {
			strata_error_at(e, fname, 0, 0);
			strata_error_hint(
			    e,
			    "strata's versions are whole numbers, compared as numbers: "
			    "rename it to one (%c<integer>__%.*s.sql%s), keeping the "
			    "order of the files around it",
			    p, (int)(stem - j - 2), fname + j + 2, conf ? ".conf" : "");
			return strata_error_set(
			    e, STRATA_EINVALID,
			    "'%s': the Flyway version '%.*s' is not a whole number", fname,
			    (int)(j - 1), fname + 1);
		}
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e, "name Flyway migrations V<version>__<description>.sql (two "
		                     "underscores), for example V1__create_users.sql");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'%s' looks like a Flyway migration but has no '__' and "
		                        "description after its version",
		                        fname);
	}
	if (i + 2 >= stem) {
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e, "name Flyway migrations V<version>__<description>.sql, for "
		                     "example V1__create_users.sql");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'%s' looks like a Flyway migration but has no description "
		                        "after its version",
		                        fname);
	}
	if (conf && p == 'U') {
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e,
		                  "put executeInTransaction in V%s: strata reads the V "
		                  "file's config, which covers both directions",
		                  fname + 1);
		return strata_error_set(e, STRATA_EINVALID,
		                        "'%s': an undo migration's own config is not read", fname);
	}
	if (strata_migration__bad_name(fname, i + 2, stem - i - 2, e) < 0)
		return e->code;
	return strata_migration__name_outs(kind_out,
	                                   conf       ? STRATA_FILE_FLYWAY_CONF
	                                   : p == 'V' ? STRATA_FILE_FLYWAY_UP
	                                              : STRATA_FILE_FLYWAY_UNDO,
	                                   version_out, name_out, fname, 1, i - 1, i + 2,
	                                   stem - i - 2, e);
}

/* If the line is a goose annotation ('--', blanks, '+goose', then a blank or its end, with or
 * without white space before the '--'), sets *at to where its '--' is. */
bool strata_goose__line(const char *t, const struct line *l, size_t *at)
{
	size_t i = skip_blank(t, l->start, l->end), j;
	if (l->end - i < 2 || t[i] != '-' || t[i + 1] != '-')
		return false;
	j = skip_blank(t, i + 2, l->end);
	if (l->end - j < 6 || strata_ascii_ncasecmp(t + j, "+goose", 6) != 0 ||
	    (j + 6 < l->end && t[j + 6] != ' ' && t[j + 6] != '\t'))
		return false;
	*at = i;
	return true;
}

int strata_goose__mixed(const strata_migration *m, size_t at, bool goose_first, strata_error *e)
{
	strata_migration__locate(e, m->path, m->text, at);
	strata_error_hint(e,
	                  "a file is written either with strata's (and dbmate's) '-- migrate:up' "
	                  "and '-- migrate:down' lines or with goose's '-- +goose Up' and "
	                  "'-- +goose Down' annotations: keep one kind (its first marker "
	                  "line decides)");
	return strata_error_set(e, STRATA_EINVALID,
	                        goose_first ? "'-- migrate:' line in a file written with goose "
	                                      "annotations"
	                                    : "goose annotation in a file written with "
	                                      "'-- migrate:' lines");
}

/* ---- goose ------------------------------------------------------------------------------- */

enum goose_word { G_UP, G_DOWN, G_BEGIN, G_END, G_NO_TXN, G_ENVSUB_ON, G_ENVSUB_OFF };

/* Whether t[i, end) is the words of `want` (separated by single spaces there), in any case,
 * separated by blanks. */
static bool words_are(const char *t, size_t i, size_t end, const char *want)
{
	while (*want) {
		size_t wl = strcspn(want, " ");
		if (end - i < wl || strata_ascii_ncasecmp(t + i, want, wl) != 0)
			return false;
		i += wl;
		want += wl;
		if (*want == ' ') {
			size_t j = skip_blank(t, i, end);
			if (j == i)
				return false;
			i = j;
			want++;
		}
	}
	return i == end;
}

/* The annotation on line l (a goose_line whose '--' is at `at`), or an error at its place. */
static int goose_word(const strata_migration *m, const struct line *l, size_t at,
                      enum goose_word *out, strata_error *e)
{
	static const char *const words[] = {"up",           "down",           "statementbegin",
	                                    "statementend", "no transaction", "envsub on",
	                                    "envsub off"};
	const char *t = m->text;
	size_t i = skip_blank(t, skip_blank(t, at + 2, l->end) + 6, l->end), end = l->end;

	if (at != l->start) {
		strata_migration__locate(e, m->path, t, at);
		strata_error_hint(e, "remove the white space before it: goose reads an annotation "
		                     "only at the start of its line");
		return strata_error_set(e, STRATA_EINVALID, "indented goose annotation");
	}
	while (end > i && (t[end - 1] == ' ' || t[end - 1] == '\t'))
		end--;
	for (int w = 0; w < (int)(sizeof(words) / sizeof(*words)); w++) {
		if (words_are(t, i, end, words[w])) {
			*out = (enum goose_word)w;
			return 0;
		}
	}
	strata_migration__locate(e, m->path, t, i < end ? i : at);
	strata_error_hint(e, "goose's annotations are '-- +goose Up', '-- +goose Down', '-- +goose "
	                     "StatementBegin', '-- +goose StatementEnd' and '-- +goose NO "
	                     "TRANSACTION'");
	return strata_error_set(e, STRATA_EINVALID, "unknown goose annotation '%.*s'",
	                        (int)(l->end - l->start), t + l->start);
}

static int push_block(strata_section *s, size_t start, size_t end, strata_error *e)
{
	size_t *p = realloc(s->blocks, (s->nblocks + 1) * 2 * sizeof(*p));
	if (!p)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	s->blocks = p;
	p[s->nblocks * 2] = start;
	p[s->nblocks * 2 + 1] = end;
	s->nblocks++;
	return 0;
}

static void open_section(strata_section *s, const strata_migration *m, size_t at)
{
	s->present = true;
	s->format = STRATA_FORMAT_GOOSE;
	s->file = m->path;
	s->text = m->text;
	s->offset = at;
}

/* An Up (up) or Down line at `at` of line l: closes the section before it and opens its own. */
static int goose_section(strata_migration *m, strata_section **curp, bool up, bool in_block,
                         const struct line *l, size_t at, strata_error *e)
{
	const char *t = m->text;
	strata_section *cur = *curp;
	enum goose_word w = up ? G_UP : G_DOWN;
	/* (an Up after the Down is a second Up: the Down came after one) */
	if ((w == G_UP && m->up.present) || (w == G_DOWN && m->down.present)) {
		strata_migration__locate(e, m->path, t, at);
		strata_error_hint(e, "a goose migration has one '-- +goose Up' and at "
		                     "most one '-- +goose Down' section");
		return strata_error_set(e, STRATA_EINVALID, "second '-- +goose %s' line",
		                        w == G_UP ? "Up" : "Down");
	}
	if (w == G_DOWN && !cur) {
		strata_migration__locate(e, m->path, t, at);
		strata_error_hint(e, "the Up section comes first: add a '-- +goose Up' "
		                     "line and the statements to apply above it");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'-- +goose Down' before '-- +goose Up'");
	}
	if (in_block) {
		strata_migration__locate(e, m->path, t, at);
		strata_error_hint(e, "end the statement with '-- +goose StatementEnd' "
		                     "above this line");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'-- +goose %s' inside a StatementBegin block",
		                        w == G_UP ? "Up" : "Down");
	}
	if (cur)
		cur->len = l->start - cur->offset;
	*curp = up ? &m->up : &m->down;
	open_section(*curp, m, l->next);
	return 0;
}

/* goose's format (https://pressly.github.io/goose/documentation/annotations/): one Up, then at
 * most one Down; StatementBegin/StatementEnd around a statement that holds semicolons; NO
 * TRANSACTION anywhere runs both directions without a transaction. */
int strata_goose__parse(strata_migration *m, strata_error *e)
{
	const char *t = m->text;
	size_t len = strlen(t), pos = skip_bom(t, len), opts, at, block_at = 0, block_start = 0;
	strata_section *cur = NULL;
	bool in_block = false, no_txn = false;
	struct line l;

	for (; next_line(t, len, pos, &l); pos = l.next) {
		enum goose_word w = G_UP;
		if (strata_migration__directive(t, &l, &opts))
			return strata_goose__mixed(m, skip_blank(t, l.start, l.end), true, e);
		if (!strata_goose__line(t, &l, &at)) {
			if (!cur && !line_is_comment_or_blank(t, &l)) {
				strata_migration__locate(e, m->path, t,
				                         skip_blank(t, l.start, l.end));
				strata_error_hint(e,
				                  "put the statements under a '-- +goose Up' line");
				return strata_error_set(e, STRATA_EINVALID,
				                        "SQL before the first '-- +goose Up' line");
			}
			continue;
		}
		if (goose_word(m, &l, at, &w, e) < 0)
			return e->code;
		switch (w) {
		case G_UP:
		case G_DOWN:
			if (goose_section(m, &cur, w == G_UP, in_block, &l, at, e) < 0)
				return e->code;
			break;
		case G_BEGIN:
			if (!cur || in_block) {
				strata_migration__locate(e, m->path, t, at);
				strata_error_hint(e, "%s",
				                  !cur ? "put it under the '-- +goose Up' line"
				                       : "end the first statement with '-- +goose "
				                         "StatementEnd' before the next begins");
				return strata_error_set(e, STRATA_EINVALID,
				                        !cur
				                            ? "'-- +goose StatementBegin' before "
				                              "'-- +goose Up'"
				                            : "'-- +goose StatementBegin' inside a "
				                              "StatementBegin block");
			}
			in_block = true;
			block_at = at;
			block_start = l.next;
			break;
		case G_END:
			if (!in_block) {
				strata_migration__locate(e, m->path, t, at);
				strata_error_hint(e, "put '-- +goose StatementBegin' above the "
				                     "statement it ends");
				return strata_error_set(e, STRATA_EINVALID,
				                        "'-- +goose StatementEnd' without a "
				                        "StatementBegin");
			}
			in_block = false;
			if (push_block(cur, block_start, l.start, e) < 0)
				return e->code;
			break;
		case G_NO_TXN:
			no_txn = true;
			break;
		case G_ENVSUB_ON:
		case G_ENVSUB_OFF:
			strata_migration__locate(e, m->path, t, at);
			strata_error_detail(e,
			                    "goose replaces ${VAR} with environment variables "
			                    "between ENVSUB ON and OFF; strata runs a file as it "
			                    "is, so that its checksum is what runs");
			strata_error_hint(e, "write the values into the file and remove the ENVSUB "
			                     "lines");
			return strata_error_set(e, STRATA_EINVALID,
			                        "goose's '-- +goose ENVSUB %s' is not supported",
			                        w == G_ENVSUB_ON ? "ON" : "OFF");
		}
	}
	if (in_block) {
		strata_migration__locate(e, m->path, t, block_at);
		strata_error_hint(e, "add a '-- +goose StatementEnd' line below the statement");
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "'-- +goose StatementBegin' has no '-- +goose StatementEnd'");
	}
	if (cur)
		cur->len = len - cur->offset;
	if (!m->up.present) {
		strata_error_at(e, m->path, 1, 1);
		strata_error_hint(e,
		                  "add a '-- +goose Up' line above the statements to apply, and a "
		                  "'-- +goose Down' line above those that undo them");
		return strata_error_set(e, STRATA_EINVALID,
		                        "migration has no '-- +goose Up' section");
	}
	m->up.no_transaction = m->down.no_transaction = no_txn;
	return 0;
}

/* ---- Flyway ------------------------------------------------------------------------------- */

/* A V or U file: all of it is the one direction's SQL. */
void strata_flyway__half(strata_section *s, const char *path, const char *t)
{
	size_t len = strlen(t), pos = skip_bom(t, len);
	s->present = true;
	s->format = STRATA_FORMAT_FLYWAY;
	s->file = path;
	s->text = t;
	s->offset = pos;
	s->len = len - pos;
}

/* V<version>__<name>.sql.conf: Java properties lines ('#' and '!' comments), of which strata reads
 * executeInTransaction (and encoding, when it says UTF-8). Any other key is refused: strata
 * would not do what it asks. */
int strata_flyway__conf(strata_migration *m, strata_error *e)
{
	const char *t = m->text;
	size_t len = strlen(t), pos = skip_bom(t, len);
	struct line l;

	for (; next_line(t, len, pos, &l); pos = l.next) {
		size_t i = skip_blank(t, l.start, l.end), k = i, v, end = l.end;
		if (i == end || t[i] == '#' || t[i] == '!')
			continue;
		while (k < end && t[k] != '=' && t[k] != ':' && t[k] != ' ' && t[k] != '\t')
			k++;
		v = skip_blank(t, k, end);
		if (v == end || (t[v] != '=' && t[v] != ':')) {
			strata_migration__locate(e, m->path, t, i);
			strata_error_hint(e, "write it as key=value, for example "
			                     "executeInTransaction=false");
			return strata_error_set(e, STRATA_EINVALID, "not a key=value line");
		}
		v = skip_blank(t, v + 1, end);
		while (end > v && (t[end - 1] == ' ' || t[end - 1] == '\t'))
			end--;
		if (k - i == 20 && memcmp(t + i, "executeInTransaction", 20) == 0) {
			if (words_are(t, v, end, "false")) {
				m->conf_no_transaction = true;
			} else if (words_are(t, v, end, "true")) {
				m->conf_no_transaction = false;
			} else {
				strata_migration__locate(e, m->path, t, v);
				strata_error_hint(e, "write executeInTransaction=false (or true)");
				return strata_error_set(
				    e, STRATA_EINVALID,
				    "executeInTransaction is true or false, not "
				    "'%.*s'",
				    (int)(end - v), t + v);
			}
		} else if (k - i == 8 && memcmp(t + i, "encoding", 8) == 0) {
			if (!words_are(t, v, end, "utf-8") && !words_are(t, v, end, "utf8")) {
				strata_migration__locate(e, m->path, t, v);
				strata_error_hint(
				    e, "convert the migration to UTF-8 (for example: iconv -f "
				       "LATIN1 -t UTF-8) and remove the encoding line");
				return strata_error_set(
				    e, STRATA_EINVALID,
				    "strata reads migrations as UTF-8, not '%.*s'", (int)(end - v),
				    t + v);
			}
		} else {
			strata_migration__locate(e, m->path, t, i);
			strata_error_hint(e,
			                  "strata reads executeInTransaction (and encoding=UTF-8) "
			                  "from a Flyway script config: remove the others");
			return strata_error_set(e, STRATA_EINVALID,
			                        "'%.*s' in a Flyway script config is not supported",
			                        (int)(k - i), t + i);
		}
	}
	return 0;
}

const char *strata_section_no_txn_how(const strata_section *s, bool up, char *buf, size_t n)
{
	const char *base = s->file ? strata_fs_base_name(s->file) : "";
	switch (s->format) {
	case STRATA_FORMAT_GOOSE:
		snprintf(buf, n,
		         "add a line '-- +goose NO TRANSACTION' at the top of the file "
		         "(for both directions)");
		break;
	case STRATA_FORMAT_FLYWAY:
		/* the config is the V file's, for both directions */
		snprintf(buf, n,
		         "put executeInTransaction=false in V%s.conf beside it (for both "
		         "directions)",
		         *base ? base + 1 : base);
		break;
	case STRATA_FORMAT_PAIR:
		snprintf(buf, n, "make '-- strata:no-transaction' the first line of the file");
		break;
	default:
		snprintf(buf, n, "mark the section '-- migrate:%s transaction:false'",
		         up ? "up" : "down");
		break;
	}
	return buf;
}
