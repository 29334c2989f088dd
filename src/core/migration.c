#include "core/migration.h"
#include "core/migration_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"

bool strata_is_version(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int strata_version_cmp(const char *a, const char *b)
{
	size_t la, lb;
	int c;
	while (*a == '0' && a[1])
		a++;
	while (*b == '0' && b[1])
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

int strata_migration_key_cmp(const char *va, const char *na, const char *vb, const char *nb)
{
	int c = strata_version_cmp(va, vb);
	if (c)
		return c;
	c = strcmp(na, nb);
	return c < 0 ? -1 : c > 0;
}

bool strata_migration_name_valid(const char *name, size_t len, size_t *bad_out)
{
	size_t bad = 0;
	bool ok = len > 0 && strata_utf8_valid(name, len, &bad);
	for (size_t i = 0; ok && i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		ok = isalnum(c) || c == '_' || c >= 0x80 || (i > 0 && (c == '-' || c == '.'));
		bad = i;
	}
	if (!ok && bad_out)
		*bad_out = bad;
	return ok;
}

/* Sets the outs of a parsed name: version fname[vs, vs+vl), name fname[ns, ns+nl). */
int strata_migration__name_outs(strata_file_kind *kind_out, strata_file_kind kind,
                                char **version_out, char **name_out, const char *fname, size_t vs,
                                size_t vl, size_t ns, size_t nl, strata_error *e)
{
	char *v = version_out ? strndup(fname + vs, vl) : NULL;
	char *n = name_out ? strndup(fname + ns, nl) : NULL;
	if ((version_out && !v) || (name_out && !n)) {
		free(v);
		free(n);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	if (version_out)
		*version_out = v;
	if (name_out)
		*name_out = n;
	*kind_out = kind;
	return 0;
}

int strata_migration__bad_name(const char *fname, size_t ns, size_t nl, strata_error *e)
{
	size_t bad = 0;
	if (strata_migration_name_valid(fname + ns, nl, &bad))
		return 0;
	strata_error_at(e, fname, 0, 0);
	strata_error_hint(e, "a name is letters, digits, '_', '-' and '.', starting with a "
	                     "letter, a digit or '_' (as strata_create() makes "
	                     "them): rename the file");
	return strata_error_set(e, STRATA_EINVALID,
	                        "'%s': the migration's name '%.*s' cannot hold '%c'", fname,
	                        (int)nl, fname + ns, fname[ns + bad]);
}

int strata_migration_parse_name(strata_file_kind *kind_out, char **version_out, char **name_out,
                                const char *fname, strata_error *e)
{
	size_t len = strlen(fname), digits = 0, name_end;
	strata_file_kind kind = STRATA_FILE_SINGLE;

	*kind_out = STRATA_FILE_NONE;
	if (version_out)
		*version_out = NULL;
	if (name_out)
		*name_out = NULL;
	if (fname[0] == 'V' || fname[0] == 'U' || fname[0] == 'R' || fname[0] == 'B')
		return strata_flyway__name(kind_out, version_out, name_out, fname, e);
	if (!isdigit((unsigned char)fname[0]))
		return 0;
	if (len > 4 && !ends_with(fname, len, ".sql") &&
	    strata_ascii_casecmp(fname + len - 4, ".sql") == 0) {
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e, "rename it to %.*s.sql", (int)(len - 4), fname);
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "'%s' looks like a migration, but only files ending in '.sql' are read", fname);
	}
	if (!ends_with(fname, len, ".sql"))
		return 0;
	while (isdigit((unsigned char)fname[digits]))
		digits++;
	name_end = len - 4;
	if (ends_with(fname, len, ".up.sql")) {
		kind = STRATA_FILE_UP;
		name_end = len - 7;
	} else if (ends_with(fname, len, ".down.sql")) {
		kind = STRATA_FILE_DOWN;
		name_end = len - 9;
	}
	if ((fname[digits] != '-' && fname[digits] != '_') || name_end <= digits + 1) {
		strata_error_at(e, fname, 0, 0);
		strata_error_hint(e, "name migration files <version>-<name>.sql, for example "
		                     "1712345678901-CreateUsers.sql");
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "'%s' looks like a migration but has no name after its version", fname);
	}
	if (strata_migration__bad_name(fname, digits + 1, name_end - digits - 1, e) < 0)
		return e->code;
	return strata_migration__name_outs(kind_out, kind, version_out, name_out, fname, 0, digits,
	                                   digits + 1, name_end - digits - 1, e);
}

/* If the line is '-- migrate:up|down ...', returns 1 for up, 2 for down and sets *opts_at to
 * where its options begin. */
int strata_migration__directive(const char *t, const struct line *l, size_t *opts_at)
{
	size_t i = skip_blank(t, l->start, l->end);
	static const char *const words[] = {"migrate:up", "migrate:down"};
	if (l->end - i < 2 || t[i] != '-' || t[i + 1] != '-')
		return 0;
	i = skip_blank(t, i + 2, l->end);
	for (int w = 0; w < 2; w++) {
		size_t wl = strlen(words[w]);
		if (l->end - i >= wl && memcmp(t + i, words[w], wl) == 0 &&
		    (i + wl == l->end || t[i + wl] == ' ' || t[i + wl] == '\t')) {
			*opts_at = i + wl;
			return w + 1;
		}
	}
	return 0;
}

void strata_migration__locate(strata_error *e, const char *path, const char *text, size_t off)
{
	unsigned line, col;
	size_t ls;
	strata_text_linecol(text, off, &line, &col, &ls);
	strata_error_at(e, path, line, col);
	strata_error_source(e, text + ls, (size_t)-1);
}

static int parse_options(strata_section *s, const char *path, const char *t, size_t i, size_t end,
                         strata_error *e)
{
	while ((i = skip_blank(t, i, end)) < end) {
		size_t j = i;
		while (j < end && t[j] != ' ' && t[j] != '\t')
			j++;
		if (j - i == 17 && memcmp(t + i, "transaction:false", 17) == 0) {
			s->no_transaction = true;
		} else if (j - i == 16 && memcmp(t + i, "transaction:true", 16) == 0) {
			s->no_transaction = false;
		} else {
			strata_migration__locate(e, path, t, i);
			strata_error_hint(e, "the one option here is 'transaction:false'");
			return strata_error_set(e, STRATA_EINVALID, "unknown option '%.*s'",
			                        (int)(j - i), t + i);
		}
		i = j;
	}
	return 0;
}

static int parse_single(strata_migration *m, strata_error *e)
{
	const char *t = m->text;
	size_t len = strlen(t), pos = skip_bom(t, len), opts, at;
	strata_section *cur = NULL;
	struct line l;

	/* the format is the first marker line's: goose's annotations, or strata's lines */
	for (size_t p = pos; next_line(t, len, p, &l); p = l.next) {
		if (strata_migration__directive(t, &l, &opts))
			break;
		if (strata_goose__line(t, &l, &at))
			return strata_goose__parse(m, e);
	}
	while (next_line(t, len, pos, &l)) {
		int d = strata_migration__directive(t, &l, &opts);
		pos = l.next;
		if (!d) {
			if (strata_goose__line(t, &l, &at))
				return strata_goose__mixed(m, at, false, e);
			if (!cur && !line_is_comment_or_blank(t, &l)) {
				strata_migration__locate(e, m->path, t,
				                         skip_blank(t, l.start, l.end));
				strata_error_hint(
				    e, "put the statements under a '-- migrate:up' line");
				return strata_error_set(
				    e, STRATA_EINVALID,
				    "SQL before the first '-- migrate:up' line");
			}
			continue;
		}
		if (cur)
			cur->len = l.start - cur->offset;
		cur = d == 1 ? &m->up : &m->down;
		if (cur->present) {
			strata_migration__locate(e, m->path, t, skip_blank(t, l.start, l.end));
			strata_error_hint(e, "a migration has one '-- migrate:up' and at most one "
			                     "'-- migrate:down' section");
			return strata_error_set(e, STRATA_EINVALID, "second '-- migrate:%s' line",
			                        d == 1 ? "up" : "down");
		}
		cur->present = true;
		cur->file = m->path;
		cur->text = t;
		cur->offset = l.next;
		if (parse_options(cur, m->path, t, opts, l.end, e) < 0)
			return e->code;
	}
	if (cur)
		cur->len = len - cur->offset;
	if (!m->up.present) {
		strata_error_at(e, m->path, 1, 1);
		strata_error_hint(e,
		                  "add a '-- migrate:up' line above the statements to apply, and "
		                  "a '-- migrate:down' line above those that undo them");
		return strata_error_set(e, STRATA_EINVALID,
		                        "migration has no '-- migrate:up' section");
	}
	return 0;
}

static void parse_half(strata_section *s, const char *path, const char *t)
{
	size_t len = strlen(t), pos = skip_bom(t, len);
	struct line l;
	s->present = true;
	s->format = STRATA_FORMAT_PAIR;
	s->file = path;
	s->text = t;
	s->offset = pos;
	s->len = len - pos;
	/* a leading '-- strata:no-transaction' line, before any statement */
	while (next_line(t, len, pos, &l) && line_is_comment_or_blank(t, &l)) {
		size_t i = skip_blank(t, l.start, l.end);
		if (i < l.end) {
			i = skip_blank(t, i + 2, l.end);
			if (l.end - i >= 21 && memcmp(t + i, "strata:no-transaction", 21) == 0 &&
			    skip_blank(t, i + 21, l.end) == l.end)
				s->no_transaction = true;
		}
		pos = l.next;
	}
}

int strata_migration_parse(strata_migration **out, const char *path, char *text, size_t len,
                           strata_file_kind kind, strata_error *e)
{
	strata_migration *m = NULL;
	const char *base = strrchr(path, '/');
	strata_file_kind k2;
	size_t bad;
	int error = 0;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(text);
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	m->text = text;
	base = base ? base + 1 : path;
	if ((error = strata_migration_parse_name(&k2, &m->version, &m->name, base, e)) < 0)
		goto done;
	if (k2 == STRATA_FILE_NONE) {
		strata_error_at(e, path, 0, 0);
		error =
		    strata_error_set(e, STRATA_EINVALID, "'%s' is not a migration file name", base);
		goto done;
	}
	if (strlen(text) != len) {
		strata_migration__locate(e, path, text, strlen(text));
		strata_error_hint(e, "migrations are UTF-8 text; is this a binary file?");
		error = strata_error_set(e, STRATA_EINVALID, "NUL byte in migration file");
		goto done;
	}
	if (!strata_utf8_valid(text, len, &bad)) {
		strata_migration__locate(e, path, text, bad);
		strata_error_hint(e,
		                  "save the file as UTF-8 (for example: iconv -f LATIN1 -t UTF-8)");
		error = strata_error_set(e, STRATA_EINVALID,
		                         "migration file is not valid UTF-8 "
		                         "(byte 0x%02X)",
		                         (unsigned char)text[bad]);
		goto done;
	}
	if (strata_sha256_text(m->checksum, text, len) < 0) {
		error = strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256 of '%s'", path);
		goto done;
	}
	m->loaded = true;
	m->kind = kind;
	switch (kind) {
	case STRATA_FILE_SINGLE:
		error = parse_single(m, e);
		break;
	case STRATA_FILE_UP:
	case STRATA_FILE_DOWN:
		parse_half(kind == STRATA_FILE_UP ? &m->up : &m->down, m->path, text);
		break;
	case STRATA_FILE_FLYWAY_UP:
	case STRATA_FILE_FLYWAY_UNDO:
		strata_flyway__half(kind == STRATA_FILE_FLYWAY_UP ? &m->up : &m->down, m->path,
		                    text);
		break;
	case STRATA_FILE_FLYWAY_CONF:
		error = strata_flyway__conf(m, e);
		break;
	case STRATA_FILE_NONE:
		break;
	}
done:
	if (error < 0) {
		strata_migration_free(m);
		m = NULL;
	}
	*out = m;
	return error;
}

int strata_migration_load(strata_migration **out, const char *path, size_t dir_index,
                          strata_error *e)
{
	char *text = NULL, *version = NULL, *name = NULL;
	const char *base = strrchr(path, '/');
	size_t len = 0;
	strata_file_kind kind;
	int error;

	*out = NULL;
	base = base ? base + 1 : path;
	if ((error = strata_migration_parse_name(&kind, &version, &name, base, e)) < 0)
		goto done;
	if (kind == STRATA_FILE_NONE) {
		error =
		    strata_error_set(e, STRATA_EINVALID, "'%s' is not a migration file name", base);
		goto done;
	}
	if ((error = strata_fs_read(&text, &len, path, e)) < 0)
		goto done;
	if ((error = strata_migration_parse(out, path, text, len, kind, e)) < 0)
		goto done;
	(*out)->dir_index = dir_index;
done:
	free(version);
	free(name);
	return error;
}

int strata_migration_mismatch(strata_error *e, const char *path, const char *manifest_sha256,
                              const char *file_sha256)
{
	strata_error_at(e, path, 0, 0);
	strata_error_detail(e, "manifest sha256 %.12s…, file sha256 %.12s…", manifest_sha256,
	                    file_sha256);
	strata_error_hint(e, "edit migrations in the src directory and run strata_build(), never "
	                     "the built copy");
	return strata_error_set(e, STRATA_EINVALID, "migration does not match the build manifest");
}

#define SWAP_PTR(a, b)                                                                             \
	do {                                                                                       \
		char *tmp_ = (a);                                                                  \
		(a) = (b);                                                                         \
		(b) = tmp_;                                                                        \
	} while (0)

int strata_migration_ensure(strata_migration *m, strata_error *e)
{
	strata_migration *f = NULL, *part = NULL;
	int error;

	if (m->loaded)
		return 0;
	error = strata_migration_load(&f, m->path, m->dir_index, e);
	if (error == 0 && m->down_path &&
	    (error = strata_migration_load(&part, m->down_path, m->dir_index, e)) == 0)
		error = strata_migration_merge_pair(f, part, e);
	if (error == 0 && m->conf_path &&
	    (error = strata_migration_load(&part, m->conf_path, m->dir_index, e)) == 0)
		error = strata_migration_merge_pair(f, part, e);
	if (error < 0)
		goto done;
	if (strcmp(f->checksum, m->checksum) != 0) {
		error = strata_migration_mismatch(e, m->path, m->checksum, f->checksum);
		goto done;
	}
	/* the sections point into f's texts and at f's path strings: take those over */
	SWAP_PTR(m->path, f->path);
	SWAP_PTR(m->down_path, f->down_path);
	SWAP_PTR(m->conf_path, f->conf_path);
	SWAP_PTR(m->text, f->text);
	SWAP_PTR(m->down_text, f->down_text);
	SWAP_PTR(m->conf_text, f->conf_text);
	free(m->up.blocks);
	free(m->down.blocks);
	m->up = f->up;
	m->down = f->down;
	f->up.blocks = f->down.blocks = NULL;
	m->kind = f->kind;
	m->loaded = true;
done:
	strata_migration_free(f);
	return error;
}

int strata_migration_merge_pair(strata_migration *up, strata_migration *part, strata_error *e)
{
	strata_buf all = STRATA_BUF_INIT;
	int error = 0;

	if (part->kind == STRATA_FILE_FLYWAY_CONF) {
		up->conf_path = part->path;
		up->conf_text = part->text;
		up->up.no_transaction = up->down.no_transaction = part->conf_no_transaction;
	} else {
		up->down_path = part->path;
		up->down_text = part->text;
		up->down = part->down;
		part->down.blocks = NULL;
	}
	part->path = part->text = NULL;
	strata_migration_free(part);
	/* the checksum covers every file: up NUL down (a pair's, as ever), then NUL "conf" NUL and
	 * the config when there is one */
	strata_buf_puts(&all, up->text);
	strata_buf_put(&all, "\0", 1);
	strata_buf_puts(&all, up->down_text ? up->down_text : "");
	if (up->conf_text) {
		strata_buf_put(&all, "\0conf\0", 6);
		strata_buf_puts(&all, up->conf_text);
	}
	if (all.failed || strata_sha256_text(up->checksum, all.ptr, all.len) < 0)
		error =
		    strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256 of '%s'", up->path);
	strata_buf_free(&all);
	return error;
}

char *strata_flyway_undo_name(const char *v_path)
{
	char *u = strdup(strata_fs_base_name(v_path));
	if (u)
		u[0] = 'U';
	return u;
}

void strata_migration_free(strata_migration *m)
{
	if (!m)
		return;
	free(m->version);
	free(m->name);
	free(m->path);
	free(m->down_path);
	free(m->conf_path);
	free(m->text);
	free(m->down_text);
	free(m->conf_text);
	free(m->up.blocks);
	free(m->down.blocks);
	free(m);
}

bool strata_section_is_empty(const strata_section *s)
{
	const char *t;
	size_t pos, end;
	struct line l;
	if (!s->present)
		return true;
	if (s->fn)
		return false;
	t = s->text;
	pos = s->offset;
	end = s->offset + s->len;
	while (next_line(t, end, pos, &l)) {
		if (!line_is_comment_or_blank(t, &l))
			return false;
		pos = l.next;
	}
	return true;
}

void strata_section_locate(const strata_section *s, size_t off, strata_error *e)
{
	strata_migration__locate(e, s->file, s->text, s->offset + off);
}

/* A section of a migration given in memory: its own text, or a function. */
static int memory_section(strata_section *sec, const char *path, char **text, const char *sql,
                          strata_step_fn fn, void *ud, bool no_txn, strata_error *e)
{
	if (!sql && !fn)
		return 0;
	sec->present = true;
	sec->file = path;
	sec->no_transaction = no_txn && !fn;
	sec->fn = fn;
	sec->fn_ud = ud;
	if (!(*text = strdup(sql ? sql : "")))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	sec->text = *text;
	sec->len = strlen(*text);
	return 0;
}

int strata_migration_from_memory(strata_migration **out, const char *path,
                                 const strata_migration_def *def, strata_error *e)
{
	strata_migration *m = NULL;
	strata_buf sum = STRATA_BUF_INIT;
	size_t bad = 0;
	int error = 0;

	*out = NULL;
	if (!def->id || !strata_is_version(def->id))
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: the id '%s' is not a version (digits only)", path,
		                        def->id ? def->id : "(null)");
	if (!def->name || !strata_migration_name_valid(def->name, strlen(def->name), &bad))
		return strata_error_set(
		    e, STRATA_EINVALID,
		    "%s: the name '%s' is not a migration name (letters, digits, "
		    "'_', '-' and '.', starting with a letter, a digit or '_')",
		    path, def->name ? def->name : "(null)");
	if (def->flags &
	    ~(STRATA_MIGRATION_UP_NO_TRANSACTION | STRATA_MIGRATION_DOWN_NO_TRANSACTION))
		return strata_error_set(e, STRATA_EINVALID, "%s: unknown flags 0x%x", path,
		                        def->flags);
	if (((def->flags & STRATA_MIGRATION_UP_NO_TRANSACTION) && def->up_fn) ||
	    ((def->flags & STRATA_MIGRATION_DOWN_NO_TRANSACTION) && def->down_fn))
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: a function runs in its migration's transaction; "
		                        "a NO_TRANSACTION flag is for SQL",
		                        path);
	if (!def->up_sql == !def->up_fn || (def->down_sql && def->down_fn))
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: give each direction SQL or a function, not both (and "
		                        "an up direction)",
		                        path);
	if (!(m = calloc(1, sizeof(*m))) || !(m->path = strdup(path)) ||
	    !(m->version = strdup(def->id)) || !(m->name = strdup(def->name))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if ((error =
	         memory_section(&m->up, m->path, &m->text, def->up_sql, def->up_fn, def->userdata,
	                        def->flags & STRATA_MIGRATION_UP_NO_TRANSACTION, e)) < 0 ||
	    (error = memory_section(&m->down, m->path, &m->down_text, def->down_sql, def->down_fn,
	                            def->userdata,
	                            def->flags & STRATA_MIGRATION_DOWN_NO_TRANSACTION, e)) < 0)
		goto done;
	/* the checksum: each direction's SQL, or "function" and the fingerprint */
	strata_buf_puts(&sum, def->up_fn ? "function:" : "sql:");
	strata_buf_puts(&sum,
	                def->up_fn ? (def->fingerprint ? def->fingerprint : "") : def->up_sql);
	strata_buf_put(&sum, "", 1);
	strata_buf_puts(&sum, def->down_fn ? "function:" : def->down_sql ? "sql:" : "none");
	strata_buf_puts(&sum, def->down_fn    ? (def->fingerprint ? def->fingerprint : "")
	                      : def->down_sql ? def->down_sql
	                                      : "");
	if (sum.failed || strata_sha256_text(m->checksum, sum.ptr, sum.len) < 0) {
		error = strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256 of %s", path);
		goto done;
	}
	m->loaded = true;
done:
	strata_buf_free(&sum);
	if (error < 0)
		strata_migration_free(m);
	else
		*out = m;
	return error;
}
