/*
 * seed_scan.c: pass 1 over a seed file (strata_seed_scan_file). It hashes the file (SHA-256, CR
 * LF read as LF) and finds its table sections and their nested keys, checking the shape on the
 * way: in full with yajl up to a size, structurally (strings and brackets) above it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>

#include "core/seed_json.h"
#include "core/seed_json_pos.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/sha256.h"

struct scan {
	struct strata_seed_where w;
	strata_seed_scan *out;
	const char *path;
	strata_error *e;
	int err;
	unsigned depth;
	bool key_pending; /* the last event at depth >= 3 was a key */
	char key[256];
};

static int scan_fail(struct scan *s, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int scan_fail(struct scan *s, size_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strata_seed_locate(s->path, off, s->e);
	strata_error_hint(s->e, STRATA_SEED_SHAPE_HINT);
	s->err = strata_error_set(s->e, STRATA_EINVALID, "%s", msg);
	return 0;
}

static strata_seed_section *cur_section(struct scan *s)
{
	return s->out->n ? &s->out->sections[s->out->n - 1] : NULL;
}

/* A new section whose key is at key_off, its name not yet read; NULL (s->err set) when out of
 * memory. */
static strata_seed_section *add_section(struct scan *s, size_t key_off)
{
	strata_seed_section *grown = realloc(s->out->sections, (s->out->n + 1) * sizeof(*grown));
	if (!grown) {
		s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
		return NULL;
	}
	s->out->sections = grown;
	memset(&grown[s->out->n], 0, sizeof(*grown));
	grown[s->out->n].key_off = key_off;
	return &grown[s->out->n++];
}

/* Records key as one whose value is an array in the current section's rows (a candidate nested
 * table): once, and 64 at the most. 0, or s->err when out of memory. */
static int add_nested(struct scan *s, const char *key)
{
	strata_seed_section *sec = cur_section(s);
	char **grown;
	for (size_t i = 0; i < sec->nnested; i++)
		if (strcmp(sec->nested[i], key) == 0)
			return 0;
	if (sec->nnested >= 64)
		return 0;
	grown = realloc(sec->nested, (sec->nnested + 1) * sizeof(*grown));
	if (grown)
		sec->nested = grown;
	if (!grown || !(grown[sec->nnested] = strdup(key)))
		return s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
	sec->nnested++;
	return 0;
}

/* A value (scalar, '{' or '[') begins at the current depth. */
static int scan_value(struct scan *s, bool is_map, bool is_array)
{
	bool was_key = s->key_pending;
	s->key_pending = false;
	if (s->depth == 0 && !is_map)
		return scan_fail(s, strata_seed__tok_start(&s->w),
		                 "a seed file must be a JSON object of tables");
	if (s->depth == 1) {
		if (!is_array)
			return scan_fail(s,
			                 is_map ? strata_seed__pos_after(&s->w) - 1
			                        : strata_seed__tok_start(&s->w),
			                 "the rows of table '%s' must be a JSON array",
			                 cur_section(s)->table);
		cur_section(s)->array_off = strata_seed__pos_after(&s->w) - 1;
	} else if (s->depth == 2 && !is_map) {
		return scan_fail(
		    s, is_array ? strata_seed__pos_after(&s->w) - 1 : strata_seed__tok_start(&s->w),
		    "a row of table '%s' must be a JSON object", cur_section(s)->table);
	} else if (was_key && is_array) {
		return add_nested(s, s->key) < 0 ? 0 : 1;
	}
	return 1;
}

static int sc_null(void *ctx)
{
	return scan_value(ctx, false, false);
}

static int sc_bool(void *ctx, int v)
{
	(void)v;
	return scan_value(ctx, false, false);
}

static int sc_number(void *ctx, const char *v, size_t len)
{
	(void)v;
	(void)len;
	return scan_value(ctx, false, false);
}

static int sc_string(void *ctx, const unsigned char *v, size_t len)
{
	(void)v;
	(void)len;
	return scan_value(ctx, false, false);
}

/* A '{' or '[' begins a value one level deeper. */
static int scan_open(struct scan *s, bool is_map)
{
	if (!scan_value(s, is_map, !is_map))
		return 0;
	if (++s->depth > STRATA_SEED_MAX_DEPTH)
		return scan_fail(s, strata_seed__pos_after(&s->w) - 1, "JSON nested too deeply");
	return 1;
}

static int sc_start_map(void *ctx)
{
	return scan_open(ctx, true);
}

static int sc_start_array(void *ctx)
{
	return scan_open(ctx, false);
}

static int sc_key(void *ctx, const unsigned char *k, size_t len)
{
	struct scan *s = ctx;
	if (s->depth == 1) {
		strata_seed_section *sec = add_section(s, strata_seed__tok_start(&s->w));
		if (!sec)
			return 0;
		if (!(sec->table = strndup((const char *)k, len))) {
			s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
			return 0;
		}
		if (len == 0 || memchr(k, '\0', len))
			return scan_fail(s, sec->key_off, "a table name must not be empty");
	} else if (s->depth >= 3) {
		size_t n = len < sizeof(s->key) - 1 ? len : sizeof(s->key) - 1;
		memcpy(s->key, k, n);
		s->key[n] = '\0';
		s->key_pending = true;
	}
	return 1;
}

/* A '}' or ']' closes a level. */
static int sc_end(void *ctx)
{
	struct scan *s = ctx;
	s->key_pending = false;
	s->depth--;
	return 1;
}

static const yajl_callbacks scan_cbs = {
    sc_null,      sc_bool, NULL,   NULL,           sc_number, sc_string,
    sc_start_map, sc_key,  sc_end, sc_start_array, sc_end,
};

/* SHA-256 with CR LF read as LF, fed in chunks. */
static int hash_chunk(SHA256_CTX *md, bool *pending_cr, const unsigned char *p, size_t len)
{
	size_t from = 0;
	const unsigned char *cr;
	int ok = 1;
	if (*pending_cr && len) {
		if (p[0] != '\n')
			ok = SHA256_Update(md, "\r", 1);
		*pending_cr = false;
	}
	while (ok && from < len && (cr = memchr(p + from, '\r', len - from)) != NULL) {
		size_t i = (size_t)(cr - p);
		if (i + 1 == len) {
			ok = SHA256_Update(md, p + from, i - from);
			*pending_cr = true;
			from = len;
		} else if (p[i + 1] == '\n') {
			ok = SHA256_Update(md, p + from, i - from);
			from = i + 1; /* the LF is hashed with what follows */
		} else {
			ok = SHA256_Update(md, p + from, i + 1 - from);
			from = i + 1;
		}
	}
	if (ok && from < len)
		ok = SHA256_Update(md, p + from, len - from);
	return ok ? 0 : -1;
}

/* The structural scan, for files too large to parse twice in full: it follows strings and
 * brackets only, checks the top level (an object of arrays of objects) strictly, and finds the
 * same sections and nested keys as the full scan. What lies inside the rows is checked by the
 * full parser when they are read (pass 2), still inside the one transaction. */
enum { F_START, F_KEY_OR_END, F_KEY, F_TKEY, F_COLON, F_ARRAY, F_ROWS, F_AFTER, F_END };

struct fast {
	int state;
	unsigned depth; /* inside a section: brackets open beyond the rows' array */
	bool in_str, esc, expect_row;
	int after_str; /* 1: a string just ended (a key?), 2: and a ':' followed */
	bool key_ok;   /* the nested key is captured whole */
	size_t klen;
	char key[256];
	strata_buf tkey; /* the table name being read */
};

static int fast_bad(struct scan *s, size_t off, const char *what)
{
	strata_seed_locate(s->path, off, s->e);
	strata_error_hint(s->e, STRATA_SEED_SHAPE_HINT);
	s->err = strata_error_set(s->e, STRATA_EINVALID, "malformed JSON: %s", what);
	return s->err;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int fast_nested(struct scan *s, struct fast *f)
{
	if (!f->key_ok)
		return 0;
	f->key[f->klen] = '\0';
	return add_nested(s, f->key);
}

/* Inside a string of the rows, from p[i]: runs over its plain characters (the common case),
 * keeping them as a possible nested key, then takes the character that stopped the run (an
 * escaped one, a backslash or the closing quote). Returns that character's index, or n. */
static size_t fast_string(struct fast *f, const unsigned char *p, size_t n, size_t i)
{
	while (i < n && p[i] != '"' && p[i] != '\\' && !f->esc) {
		if (f->depth > 0 && f->klen < sizeof(f->key) - 1)
			f->key[f->klen++] = (char)p[i];
		else
			f->key_ok = false;
		i++;
	}
	if (i == n)
		return n;
	if (f->esc) {
		f->esc = false;
		f->key_ok = false;
	} else if (p[i] == '\\') {
		f->esc = true;
	} else {
		f->in_str = false;
		f->after_str = 1;
	}
	return i;
}

/* A character of the rows outside strings: brackets are counted, a string followed by ':' and
 * '[' is a nested key, and between the rows only '{', ',' and the closing ']' may stand. */
static int fast_rows(struct scan *s, struct fast *f, unsigned char c, size_t off)
{
	if (is_ws(c))
		return 0;
	if (f->depth == 0 && f->expect_row && c != '{' && c != ']')
		return (scan_fail(s, off, "a row of table '%s' must be a JSON object",
		                  cur_section(s)->table),
		        s->err);
	switch (c) {
	case '"':
		f->in_str = true;
		f->klen = 0;
		f->key_ok = true;
		f->after_str = 0;
		break;
	case ':':
		f->after_str = f->after_str == 1 ? 2 : 0;
		break;
	case '[':
	case '{':
		if (c == '[' && f->after_str == 2 && fast_nested(s, f) < 0)
			return s->err;
		if (++f->depth > STRATA_SEED_MAX_DEPTH)
			return (scan_fail(s, off, "JSON nested too deeply"), s->err);
		f->expect_row = false;
		f->after_str = 0;
		break;
	case ']':
	case '}':
		if (f->depth == 0 && c == ']')
			f->state = F_AFTER;
		else if (f->depth == 0)
			return fast_bad(s, off, "'}' where a row or ']' belongs");
		else
			f->depth--;
		f->after_str = 0;
		break;
	case ',':
		f->after_str = 0;
		if (f->depth == 0)
			f->expect_row = true;
		break;
	default:
		f->after_str = 0;
		break;
	}
	return 0;
}

/* A character of a table name (F_TKEY): the escapes \" \\ \/ only; the closing quote ends it. */
static int fast_table_name(struct scan *s, struct fast *f, unsigned char c, size_t off)
{
	if (f->esc) {
		f->esc = false;
		if (c != '"' && c != '\\' && c != '/')
			return fast_bad(s, off, "unsupported escape in a table name");
		strata_buf_put(&f->tkey, &c, 1);
	} else if (c == '\\') {
		f->esc = true;
	} else if (c == '"') {
		strata_seed_section *sec = cur_section(s);
		if (f->tkey.failed ||
		    !(sec->table = strndup(strata_buf_cstr(&f->tkey), f->tkey.len)))
			return s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
		if (f->tkey.len == 0)
			return (scan_fail(s, sec->key_off, "a table name must not be empty"),
			        s->err);
		f->state = F_COLON;
	} else {
		strata_buf_put(&f->tkey, &c, 1);
	}
	return 0;
}

/* A character outside the rows: the object of tables, each one's name, ':' and '[', then ','
 * or '}', and nothing but blanks after the object. */
static int fast_top(struct scan *s, struct fast *f, unsigned char c, size_t off)
{
	if (f->state == F_TKEY)
		return fast_table_name(s, f, c, off);
	if (is_ws(c))
		return 0;
	switch (f->state) {
	case F_START:
		if (c != '{')
			return (scan_fail(s, off, "a seed file must be a JSON object of tables"),
			        s->err);
		f->state = F_KEY_OR_END;
		break;
	case F_KEY_OR_END:
	case F_KEY:
		if (c == '}' && f->state == F_KEY_OR_END) {
			f->state = F_END;
			break;
		}
		if (c != '"')
			return fast_bad(s, off, "expected a table name in double quotes");
		if (!add_section(s, off))
			return s->err;
		strata_buf_reset(&f->tkey);
		f->esc = false;
		f->state = F_TKEY;
		break;
	case F_COLON:
		if (c != ':')
			return fast_bad(s, off, "expected ':' after a table name");
		f->state = F_ARRAY;
		break;
	case F_ARRAY:
		if (c != '[')
			return (scan_fail(s, off, "the rows of table '%s' must be a JSON array",
			                  cur_section(s)->table),
			        s->err);
		cur_section(s)->array_off = off;
		f->state = F_ROWS;
		f->depth = 0;
		f->in_str = f->esc = false;
		f->expect_row = true;
		f->after_str = 0;
		break;
	case F_AFTER:
		if (c == ',')
			f->state = F_KEY;
		else if (c == '}')
			f->state = F_END;
		else
			return fast_bad(s, off, "expected ',' or '}' after a table's rows");
		break;
	case F_END:
		return fast_bad(s, off, "trailing garbage after the seed object");
	}
	return 0;
}

static int fast_feed(struct scan *s, struct fast *f, const unsigned char *p, size_t n, size_t base)
{
	int error = 0;
	for (size_t i = 0; i < n && error == 0; i++) {
		if (f->state != F_ROWS)
			error = fast_top(s, f, p[i], base + i);
		else if (f->in_str)
			i = fast_string(f, p, n, i);
		else
			error = fast_rows(s, f, p[i], base + i);
	}
	return error;
}

int strata_seed_scan_file(strata_seed_scan *out, const char *path, strata_error *e)
{
	return strata_seed_scan_file_ex(out, path, STRATA_SEED_FULL_CHECK_MAX, e);
}

int strata_seed_scan_file_ex(strata_seed_scan *out, const char *path, size_t full_check_max,
                             strata_error *e)
{
	struct scan s;
	struct fast fs;
	struct stat sb;
	bool full;
	FILE *f = NULL;
	unsigned char *buf = NULL;
	SHA256_CTX md;
	bool pending_cr = false;
	unsigned char digest[32];
	yajl_status st = yajl_status_ok;
	double t0 = strata_now_ms();
	int error = 0;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	memset(&fs, 0, sizeof(fs));
	strata_buf_init(&fs.tkey, 4096);
	s.out = out;
	s.path = path;
	s.e = e;
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &sb) < 0) {
		strata_error_at(e, path, 0, 0);
		error = strata_error_set(e, STRATA_ENOTFOUND, "cannot open seed file: %s",
		                         strerror(errno));
		goto done;
	}
	full = (size_t)sb.st_size <= full_check_max;
	out->checked = full;
	buf = malloc(STRATA_SEED_CHUNK);
	s.w.h = full ? yajl_alloc(&scan_cbs, NULL, &s) : NULL;
	if (!buf || (full && !s.w.h) || !SHA256_Init(&md)) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	for (;;) {
		size_t n = fread(buf, 1, STRATA_SEED_CHUNK, f);
		if (n == 0)
			break;
		if (hash_chunk(&md, &pending_cr, buf, n) < 0) {
			error = strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
			goto done;
		}
		if (!full) {
			if ((error = fast_feed(&s, &fs, buf, n, s.w.base)) < 0)
				goto done;
			s.w.base += n;
			continue;
		}
		s.w.chunk = buf;
		s.w.chunk_len = n;
		st = yajl_parse(s.w.h, buf, n);
		if (st != yajl_status_ok) {
			if (s.err)
				error = s.err;
			else
				error = strata_seed__parse_error(s.w.h, buf, n, s.w.base, path, e);
			goto done;
		}
		s.w.base += n;
	}
	if (ferror(f)) {
		strata_error_at(e, path, 0, 0);
		error =
		    strata_error_set(e, STRATA_ERROR, "cannot read seed file: %s", strerror(errno));
		goto done;
	}
	s.w.chunk = NULL;
	s.w.chunk_len = 0;
	if (!full && fs.state != F_END) {
		strata_seed_locate(path, s.w.base, e);
		error = strata_error_set(e, STRATA_EINVALID,
		                         "malformed JSON: the file ends inside a value");
		goto done;
	}
	st = full ? yajl_complete_parse(s.w.h) : yajl_status_ok;
	if (st != yajl_status_ok) {
		error = s.err ? s.err
		              : (strata_seed_locate(path, s.w.base, e),
		                 strata_error_set(e, STRATA_EINVALID,
		                                  "malformed JSON: the file ends inside a value"));
		goto done;
	}
	out->size = s.w.base;
	if ((pending_cr && !SHA256_Update(&md, "\r", 1)) || !SHA256_Final(digest, &md)) {
		error = strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
		goto done;
	}
	for (int i = 0; i < 32; i++)
		snprintf(out->sha256 + 2 * i, 3, "%02x", digest[i]);
	out->ms = strata_now_ms() - t0;
done:
	if (s.w.h)
		yajl_free(s.w.h);
	strata_buf_free(&fs.tkey);
	free(buf);
	if (f)
		fclose(f);
	if (error < 0)
		strata_seed_scan_free(out);
	return error;
}

void strata_seed_scan_free(strata_seed_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->sections[i].table);
		for (size_t k = 0; k < s->sections[i].nnested; k++)
			free(s->sections[i].nested[k]);
		free(s->sections[i].nested);
	}
	free(s->sections);
	memset(s, 0, sizeof(*s));
}
