#include "core/seed_json.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>

#include "util/clock.h"
#include "util/error.h"

#define CHUNK (256 * 1024)
#define BLOCK 16384
#define MAX_DEPTH 128
#define MAX_FREE_BLOCKS 64

/* ---------------------------------------------------------------- shared parse state ---- */

/* Where the chunk being parsed sits in the file, to turn yajl's offsets into file offsets. */
struct where {
	yajl_handle h;
	const unsigned char *chunk;
	size_t chunk_len;
	size_t base; /* file offset of chunk[0] */
};

/* File offset just past the token yajl is reporting. */
static size_t pos_after(const struct where *w)
{
	return w->base + yajl_get_bytes_consumed(w->h);
}

/* File offset where the token that ends at pos_after() begins: its opening quote for a string,
 * its first character otherwise. A token split across chunks is placed at the chunk start. */
static size_t tok_start(const struct where *w)
{
	size_t end = yajl_get_bytes_consumed(w->h), p;
	const unsigned char *c = w->chunk;
	if (end == 0 || end > w->chunk_len)
		return w->base;
	p = end - 1;
	if (c[p] == '"') {
		while (p > 0) {
			size_t bs = 0;
			p--;
			if (c[p] != '"')
				continue;
			while (p >= bs + 1 && c[p - bs - 1] == '\\')
				bs++;
			if (bs % 2 == 0)
				return w->base + p;
		}
		return w->base;
	}
	while (p > 0 && (strchr("0123456789.+-eEtruefalsn", c[p - 1]) && c[p - 1]))
		p--;
	return w->base + p;
}

static int set_parse_error(yajl_handle h, const unsigned char *chunk, size_t len, size_t base,
                           const char *path, strata_error *e)
{
	unsigned char *m = yajl_get_error(h, 0, chunk, len);
	char msg[256];
	size_t n, at;
	snprintf(msg, sizeof(msg), "%s", m ? (const char *)m : "parse error");
	if (m)
		yajl_free_error(h, m);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	/* yajl stops just past the offending token: point at its last character */
	at = yajl_get_bytes_consumed(h);
	strata_seed_locate(path, base + (at > 0 ? at - 1 : 0), e);
	strata_error_hint(e, "a seed file is one JSON object: { \"table\": [ {\"column\": value}, "
	                     "... ], ... }");
	return strata_error_set(e, STRATA_EINVALID, "malformed JSON: %s", msg);
}

/* ------------------------------------------------------------------------ pass 1: scan ---- */

struct scan {
	struct where w;
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
	strata_error_hint(s->e, "a seed file is one JSON object: { \"table\": [ {\"column\": "
	                        "value}, ... ], ... }");
	s->err = strata_error_set(s->e, STRATA_EINVALID, "%s", msg);
	return 0;
}

static strata_seed_section *cur_section(struct scan *s)
{
	return s->out->n ? &s->out->sections[s->out->n - 1] : NULL;
}

/* A value (scalar, '{' or '[') begins at the current depth. */
static int scan_value(struct scan *s, bool is_map, bool is_array)
{
	bool was_key = s->key_pending;
	s->key_pending = false;
	if (s->depth == 0 && !is_map)
		return scan_fail(s, tok_start(&s->w),
		                 "a seed file must be a JSON object of tables");
	if (s->depth == 1) {
		if (!is_array)
			return scan_fail(s, is_map ? pos_after(&s->w) - 1 : tok_start(&s->w),
			                 "the rows of table '%s' must be a JSON array",
			                 cur_section(s)->table);
		cur_section(s)->array_off = pos_after(&s->w) - 1;
	} else if (s->depth == 2 && !is_map) {
		return scan_fail(s, is_array ? pos_after(&s->w) - 1 : tok_start(&s->w),
		                 "a row of table '%s' must be a JSON object",
		                 cur_section(s)->table);
	} else if (was_key && is_array) {
		strata_seed_section *sec = cur_section(s);
		char **grown;
		for (size_t i = 0; i < sec->nnested; i++)
			if (strcmp(sec->nested[i], s->key) == 0)
				return 1;
		if (sec->nnested >= 64)
			return 1;
		grown = realloc(sec->nested, (sec->nnested + 1) * sizeof(*grown));
		if (!grown || !(grown[sec->nnested] = strdup(s->key))) {
			if (grown)
				sec->nested = grown;
			s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
			return 0;
		}
		sec->nested = grown;
		sec->nnested++;
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

static int sc_start_map(void *ctx)
{
	struct scan *s = ctx;
	if (!scan_value(s, true, false))
		return 0;
	if (++s->depth > MAX_DEPTH)
		return scan_fail(s, pos_after(&s->w) - 1, "JSON nested too deeply");
	return 1;
}

static int sc_key(void *ctx, const unsigned char *k, size_t len)
{
	struct scan *s = ctx;
	if (s->depth == 1) {
		strata_seed_section *grown =
		    realloc(s->out->sections, (s->out->n + 1) * sizeof(*grown));
		if (!grown) {
			s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
			return 0;
		}
		s->out->sections = grown;
		memset(&grown[s->out->n], 0, sizeof(*grown));
		grown[s->out->n].key_off = tok_start(&s->w);
		grown[s->out->n].table = strndup((const char *)k, len);
		s->out->n++;
		if (!grown[s->out->n - 1].table) {
			s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
			return 0;
		}
		if (len == 0 || memchr(k, '\0', len))
			return scan_fail(s, grown[s->out->n - 1].key_off,
			                 "a table name must not be empty");
	} else if (s->depth >= 3) {
		size_t n = len < sizeof(s->key) - 1 ? len : sizeof(s->key) - 1;
		memcpy(s->key, k, n);
		s->key[n] = '\0';
		s->key_pending = true;
	}
	return 1;
}

static int sc_end_map(void *ctx)
{
	struct scan *s = ctx;
	s->key_pending = false;
	s->depth--;
	return 1;
}

static int sc_start_array(void *ctx)
{
	struct scan *s = ctx;
	if (!scan_value(s, false, true))
		return 0;
	if (++s->depth > MAX_DEPTH)
		return scan_fail(s, pos_after(&s->w) - 1, "JSON nested too deeply");
	return 1;
}

static int sc_end_array(void *ctx)
{
	struct scan *s = ctx;
	s->key_pending = false;
	s->depth--;
	return 1;
}

static const yajl_callbacks scan_cbs = {
    sc_null,      sc_bool, NULL,       NULL,           sc_number,    sc_string,
    sc_start_map, sc_key,  sc_end_map, sc_start_array, sc_end_array,
};

/* SHA-256 with CR LF read as LF, fed in chunks. */
static int hash_chunk(EVP_MD_CTX *md, bool *pending_cr, const unsigned char *p, size_t len)
{
	size_t from = 0;
	const unsigned char *cr;
	int ok = 1;
	if (*pending_cr && len) {
		if (p[0] != '\n')
			ok = EVP_DigestUpdate(md, "\r", 1);
		*pending_cr = false;
	}
	while (ok && from < len && (cr = memchr(p + from, '\r', len - from)) != NULL) {
		size_t i = (size_t)(cr - p);
		if (i + 1 == len) {
			ok = EVP_DigestUpdate(md, p + from, i - from);
			*pending_cr = true;
			from = len;
		} else if (p[i + 1] == '\n') {
			ok = EVP_DigestUpdate(md, p + from, i - from);
			from = i + 1; /* the LF is hashed with what follows */
		} else {
			ok = EVP_DigestUpdate(md, p + from, i + 1 - from);
			from = i + 1;
		}
	}
	if (ok && from < len)
		ok = EVP_DigestUpdate(md, p + from, len - from);
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
	bool in_str, esc, expect_row, after_comma;
	int after_str; /* 1: a string just ended (a key?), 2: and a ':' followed */
	bool key_ok;   /* the nested key is captured whole */
	size_t klen;
	char key[256];
	strata_buf tkey; /* the table name being read */
};

static int fast_bad(struct scan *s, size_t off, const char *what)
{
	strata_seed_locate(s->path, off, s->e);
	strata_error_hint(s->e, "a seed file is one JSON object: { \"table\": [ {\"column\": "
	                        "value}, ... ], ... }");
	s->err = strata_error_set(s->e, STRATA_EINVALID, "malformed JSON: %s", what);
	return s->err;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int fast_nested(struct scan *s, struct fast *f)
{
	strata_seed_section *sec = cur_section(s);
	char **grown;
	if (!f->key_ok)
		return 0;
	f->key[f->klen] = '\0';
	for (size_t i = 0; i < sec->nnested; i++)
		if (strcmp(sec->nested[i], f->key) == 0)
			return 0;
	if (sec->nnested >= 64)
		return 0;
	grown = realloc(sec->nested, (sec->nnested + 1) * sizeof(*grown));
	if (grown)
		sec->nested = grown;
	if (!grown || !(grown[sec->nnested] = strdup(f->key)))
		return s->err = strata_error_set(s->e, STRATA_ERROR, "out of memory");
	sec->nnested++;
	return 0;
}

static int fast_feed(struct scan *s, struct fast *f, const unsigned char *p, size_t n, size_t base)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t off = base + i;
		switch (f->state) {
		case F_ROWS:
			if (f->in_str) {
				/* the common case: plain characters of a string */
				while (i < n && p[i] != '"' && p[i] != '\\' && !f->esc) {
					if (f->depth > 0 && f->klen < sizeof(f->key) - 1)
						f->key[f->klen++] = (char)p[i];
					else
						f->key_ok = false;
					i++;
				}
				if (i == n)
					break;
				c = p[i];
				if (f->esc) {
					f->esc = false;
					f->key_ok = false;
				} else if (c == '\\') {
					f->esc = true;
				} else {
					f->in_str = false;
					f->after_str = 1;
				}
				break;
			}
			if (is_ws(c))
				break;
			if (f->depth == 0 && f->expect_row && c != '{' && c != ']')
				return (scan_fail(s, off,
				                  "a row of table '%s' must be a JSON object",
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
				if (++f->depth > MAX_DEPTH)
					return (scan_fail(s, off, "JSON nested too deeply"),
					        s->err);
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
			break;
		case F_START:
			if (is_ws(c))
				break;
			if (c != '{')
				return (scan_fail(s, off,
				                  "a seed file must be a JSON object of tables"),
				        s->err);
			f->state = F_KEY_OR_END;
			break;
		case F_KEY_OR_END:
		case F_KEY:
			if (is_ws(c))
				break;
			if (c == '}' && f->state == F_KEY_OR_END) {
				f->state = F_END;
				break;
			}
			if (c != '"')
				return fast_bad(s, off, "expected a table name in double quotes");
			{
				strata_seed_section *grown =
				    realloc(s->out->sections, (s->out->n + 1) * sizeof(*grown));
				if (!grown)
					return s->err = strata_error_set(s->e, STRATA_ERROR,
					                                 "out of memory");
				s->out->sections = grown;
				memset(&grown[s->out->n], 0, sizeof(*grown));
				grown[s->out->n++].key_off = off;
			}
			strata_buf_reset(&f->tkey);
			f->esc = false;
			f->state = F_TKEY;
			break;
		case F_TKEY:
			if (f->esc) {
				f->esc = false;
				if (c != '"' && c != '\\' && c != '/')
					return fast_bad(s, off,
					                "unsupported escape in a table name");
				strata_buf_put(&f->tkey, &c, 1);
			} else if (c == '\\') {
				f->esc = true;
			} else if (c == '"') {
				strata_seed_section *sec = cur_section(s);
				if (f->tkey.failed ||
				    !(sec->table = strndup(strata_buf_cstr(&f->tkey), f->tkey.len)))
					return s->err = strata_error_set(s->e, STRATA_ERROR,
					                                 "out of memory");
				if (f->tkey.len == 0)
					return (scan_fail(s, sec->key_off,
					                  "a table name must not be empty"),
					        s->err);
				f->state = F_COLON;
			} else {
				strata_buf_put(&f->tkey, &c, 1);
			}
			break;
		case F_COLON:
			if (is_ws(c))
				break;
			if (c != ':')
				return fast_bad(s, off, "expected ':' after a table name");
			f->state = F_ARRAY;
			break;
		case F_ARRAY:
			if (is_ws(c))
				break;
			if (c != '[')
				return (scan_fail(s, off,
				                  "the rows of table '%s' must be a JSON array",
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
			if (is_ws(c))
				break;
			if (c == ',')
				f->state = F_KEY;
			else if (c == '}')
				f->state = F_END;
			else
				return fast_bad(s, off, "expected ',' or '}' after a table's rows");
			break;
		case F_END:
			if (!is_ws(c))
				return fast_bad(s, off, "trailing garbage after the seed object");
			break;
		}
	}
	return 0;
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
	EVP_MD_CTX *md = NULL;
	bool pending_cr = false;
	unsigned char digest[32];
	unsigned int dlen = 0;
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
	buf = malloc(CHUNK);
	md = EVP_MD_CTX_new();
	s.w.h = full ? yajl_alloc(&scan_cbs, NULL, &s) : NULL;
	if (!buf || !md || (full && !s.w.h) || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	for (;;) {
		size_t n = fread(buf, 1, CHUNK, f);
		if (n == 0)
			break;
		if (hash_chunk(md, &pending_cr, buf, n) < 0) {
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
				error = set_parse_error(s.w.h, buf, n, s.w.base, path, e);
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
	if ((pending_cr && !EVP_DigestUpdate(md, "\r", 1)) ||
	    !EVP_DigestFinal_ex(md, digest, &dlen) || dlen != 32) {
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
	EVP_MD_CTX_free(md);
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

/* ---------------------------------------------------------------- pass 2: row reader ---- */

typedef struct block {
	struct block *next;
	size_t used, cap;
	max_align_t align[]; /* data follows */
} block;

typedef struct row {
	struct row *next;
	block *blocks;
	strata_seed_node *root;
} row;

struct strata_seed_reader {
	struct where w;
	FILE *f;
	char *path;
	unsigned char *buf;
	bool continued, started, done, eof;
	unsigned depth; /* open containers, the rows' array included */
	strata_seed_node *stack[MAX_DEPTH];
	block *cur;              /* the arena of the row being built */
	const char *pending_key; /* the key whose value comes next */
	size_t pending_key_len, pending_key_off;
	row *head, *tail; /* complete rows, not yet handed out */
	row *given;       /* the row handed out last */
	block *free_blocks;
	unsigned nfree;
	strata_error *e;
	int err;
};

static void blocks_release(strata_seed_reader *r, block *b)
{
	while (b) {
		block *next = b->next;
		if (b->cap == BLOCK && r->nfree < MAX_FREE_BLOCKS) {
			b->next = r->free_blocks;
			r->free_blocks = b;
			r->nfree++;
		} else {
			free(b);
		}
		b = next;
	}
}

static void *arena_alloc(strata_seed_reader *r, size_t size)
{
	block *b = r->cur;
	void *p;
	size = (size + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < size) {
		if (size <= BLOCK && r->free_blocks) {
			b = r->free_blocks;
			r->free_blocks = b->next;
			r->nfree--;
		} else {
			size_t cap = size > BLOCK ? size : BLOCK;
			b = malloc(sizeof(block) + cap);
			if (!b)
				return NULL;
			b->cap = cap;
		}
		b->used = 0;
		b->next = r->cur;
		r->cur = b;
	}
	p = (char *)b->align + b->used;
	b->used += size;
	return p;
}

static char *arena_strndup(strata_seed_reader *r, const void *s, size_t len)
{
	char *p = arena_alloc(r, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static int rd_fail(strata_seed_reader *r, size_t off, const char *msg)
{
	strata_seed_locate(r->path, off, r->e);
	r->err = strata_error_set(r->e, STRATA_EINVALID, "%s", msg);
	return 0;
}

static int rd_oom(strata_seed_reader *r)
{
	r->err = strata_error_set(r->e, STRATA_ERROR, "out of memory");
	return 0;
}

/* A new value at the current depth; for '{'/'[' value_off is its bracket. */
static strata_seed_node *rd_add(strata_seed_reader *r, strata_seed_kind kind, size_t value_off)
{
	strata_seed_node *n, *parent;
	if (r->depth == 0) {
		rd_fail(r, value_off, "expected the '[' of a table's rows");
		return NULL;
	}
	if (r->depth == 1 && kind != STRATA_SEED_OBJECT) {
		rd_fail(r, value_off, "a row must be a JSON object");
		return NULL;
	}
	n = arena_alloc(r, sizeof(*n));
	if (!n) {
		rd_oom(r);
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->off = value_off;
	if (r->depth == 1)
		return n; /* a row: the root of its own tree */
	parent = r->stack[r->depth - 2];
	if (parent->kind == STRATA_SEED_OBJECT) {
		n->key = r->pending_key;
		n->key_len = r->pending_key_len;
		n->off = r->pending_key_off;
	}
	if (parent->last)
		parent->last->next = n;
	else
		parent->child = n;
	parent->last = n;
	parent->n++;
	return n;
}

static int rd_scalar(strata_seed_reader *r, strata_seed_kind kind, const char *s, size_t len,
                     bool copy)
{
	/* a member of an object is placed at its key: find where the value starts only for an
	 * element of an array (or a misplaced row) */
	bool member = r->depth >= 2 && r->stack[r->depth - 2]->kind == STRATA_SEED_OBJECT;
	strata_seed_node *n = rd_add(r, kind, member ? 0 : tok_start(&r->w));
	if (!n)
		return 0;
	n->s = copy ? arena_strndup(r, s, len) : s;
	n->len = len;
	if (!n->s)
		return rd_oom(r);
	return 1;
}

static int rd_null(void *ctx)
{
	return rd_scalar(ctx, STRATA_SEED_NULL, "null", 4, false);
}

static int rd_bool(void *ctx, int v)
{
	return rd_scalar(ctx, STRATA_SEED_BOOL, v ? "true" : "false", v ? 4 : 5, false);
}

static int rd_number(void *ctx, const char *v, size_t len)
{
	return rd_scalar(ctx, STRATA_SEED_NUMBER, v, len, true);
}

static int rd_string(void *ctx, const unsigned char *v, size_t len)
{
	return rd_scalar(ctx, STRATA_SEED_STRING, (const char *)v, len, true);
}

static int rd_open(strata_seed_reader *r, strata_seed_kind kind)
{
	strata_seed_node *n;
	if (r->depth == 0) {
		if (kind != STRATA_SEED_ARRAY)
			return rd_fail(r, pos_after(&r->w) - 1,
			               "expected the '[' of a table's rows");
		r->depth = 1;
		return 1;
	}
	if (r->depth >= MAX_DEPTH)
		return rd_fail(r, pos_after(&r->w) - 1, "JSON nested too deeply");
	n = rd_add(r, kind, pos_after(&r->w) - 1);
	if (!n)
		return 0;
	r->stack[r->depth - 1] = n;
	r->depth++;
	return 1;
}

static int rd_start_map(void *ctx)
{
	return rd_open(ctx, STRATA_SEED_OBJECT);
}

static int rd_start_array(void *ctx)
{
	return rd_open(ctx, STRATA_SEED_ARRAY);
}

static int rd_key(void *ctx, const unsigned char *k, size_t len)
{
	strata_seed_reader *r = ctx;
	r->pending_key_off = tok_start(&r->w);
	r->pending_key = arena_strndup(r, k, len);
	r->pending_key_len = len;
	return r->pending_key ? 1 : rd_oom(r);
}

static int rd_close(strata_seed_reader *r)
{
	r->depth--;
	if (r->depth == 0) {
		r->done = true;
		return 0; /* the rows' array is over: stop here, whatever follows */
	}
	if (r->depth == 1) {
		row *w = arena_alloc(r, sizeof(*w));
		if (!w)
			return rd_oom(r);
		w->next = NULL;
		w->root = r->stack[0];
		w->blocks = r->cur;
		r->cur = NULL;
		if (r->tail)
			r->tail->next = w;
		else
			r->head = w;
		r->tail = w;
	}
	return 1;
}

static int rd_end(void *ctx)
{
	return rd_close(ctx);
}

static const yajl_callbacks reader_cbs = {
    rd_null,      rd_bool, NULL,   NULL,           rd_number, rd_string,
    rd_start_map, rd_key,  rd_end, rd_start_array, rd_end,
};

int strata_seed_reader_open(strata_seed_reader **out, const char *path, size_t off, bool continued,
                            strata_error *e)
{
	strata_seed_reader *r = calloc(1, sizeof(*r));
	int error = 0;

	*out = NULL;
	if (!r)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	r->path = strdup(path);
	r->buf = malloc(CHUNK);
	r->w.h = yajl_alloc(&reader_cbs, NULL, r);
	if (!r->path || !r->buf || !r->w.h) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	r->f = fopen(path, "rb");
	if (!r->f || fseeko(r->f, (off_t)off, SEEK_SET) != 0) {
		strata_error_at(e, path, 0, 0);
		error = strata_error_set(e, STRATA_ENOTFOUND, "cannot open seed file: %s",
		                         strerror(errno));
		goto done;
	}
	r->continued = continued;
	r->w.base = off;
	*out = r;
	r = NULL;
done:
	strata_seed_reader_free(r);
	return error;
}

static int feed(strata_seed_reader *r, const unsigned char *p, size_t n)
{
	yajl_status st;
	r->w.chunk = p;
	r->w.chunk_len = n;
	st = n ? yajl_parse(r->w.h, p, n) : yajl_complete_parse(r->w.h);
	if (st == yajl_status_ok)
		return 0;
	if (r->err)
		return r->err;
	if (st == yajl_status_client_canceled && r->done)
		return 0;
	if (n == 0) {
		strata_seed_locate(r->path, r->w.base, r->e);
		return r->err = strata_error_set(r->e, STRATA_EINVALID,
		                                 "malformed JSON: the file ends inside a value");
	}
	return r->err = set_parse_error(r->w.h, p, n, r->w.base, r->path, r->e);
}

int strata_seed_reader_next(strata_seed_reader *r, const strata_seed_node **out, strata_error *e)
{
	*out = NULL;
	r->e = e;
	if (r->given) {
		blocks_release(r, r->given->blocks);
		r->given = NULL;
	}
	if (r->err && !r->head)
		return r->err;
	while (!r->head && !r->done && !r->err) {
		size_t n;
		int error;
		if (!r->started && r->continued) {
			static const unsigned char open[] = "[";
			r->started = true;
			r->w.base -= 1;
			if ((error = feed(r, open, 1)) < 0)
				return error;
			r->w.base += 1;
			continue;
		}
		r->started = true;
		if (r->eof) {
			if ((error = feed(r, NULL, 0)) < 0)
				return error;
			r->done = true;
			break;
		}
		n = fread(r->buf, 1, CHUNK, r->f);
		if (n == 0) {
			if (ferror(r->f)) {
				strata_error_at(e, r->path, 0, 0);
				return r->err = strata_error_set(e, STRATA_ERROR,
				                                 "cannot read seed file: %s",
				                                 strerror(errno));
			}
			r->eof = true;
			continue;
		}
		error = feed(r, r->buf, n);
		r->w.base += n;
		if (error < 0 && !r->head)
			return error; /* rows before the error come out first */
	}
	if (r->head) {
		r->given = r->head;
		r->head = r->head->next;
		if (!r->head)
			r->tail = NULL;
		*out = r->given->root;
	}
	return 0;
}

void strata_seed_reader_free(strata_seed_reader *r)
{
	if (!r)
		return;
	if (r->given)
		blocks_release(r, r->given->blocks);
	while (r->head) {
		row *next = r->head->next;
		blocks_release(r, r->head->blocks);
		r->head = next;
	}
	r->nfree = MAX_FREE_BLOCKS; /* free everything from here on */
	blocks_release(r, r->cur);
	while (r->free_blocks) {
		block *next = r->free_blocks->next;
		free(r->free_blocks);
		r->free_blocks = next;
	}
	if (r->w.h)
		yajl_free(r->w.h);
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->path);
	free(r);
}

const strata_seed_node *strata_seed_member(const strata_seed_node *obj, const char *key)
{
	if (!obj || obj->kind != STRATA_SEED_OBJECT)
		return NULL;
	for (const strata_seed_node *m = obj->child; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

/* ----------------------------------------------------------------------- conversions ---- */

static void json_string(strata_buf *out, const char *s, size_t len)
{
	size_t from = 0;
	strata_buf_put(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[8];
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			esc = u;
		}
		if (!esc)
			continue;
		strata_buf_put(out, s + from, i - from);
		strata_buf_puts(out, esc);
		from = i + 1;
	}
	strata_buf_put(out, s + from, len - from);
	strata_buf_put(out, "\"", 1);
}

int strata_seed_json_text(strata_buf *out, const strata_seed_node *n)
{
	switch (n->kind) {
	case STRATA_SEED_STRING:
		json_string(out, n->s, n->len);
		break;
	case STRATA_SEED_ARRAY:
	case STRATA_SEED_OBJECT:
		strata_buf_put(out, n->kind == STRATA_SEED_ARRAY ? "[" : "{", 1);
		for (const strata_seed_node *c = n->child; c; c = c->next) {
			if (c != n->child)
				strata_buf_put(out, ",", 1);
			if (n->kind == STRATA_SEED_OBJECT) {
				json_string(out, c->key, c->key_len);
				strata_buf_put(out, ":", 1);
			}
			strata_seed_json_text(out, c);
		}
		strata_buf_put(out, n->kind == STRATA_SEED_ARRAY ? "]" : "}", 1);
		break;
	default:
		strata_buf_put(out, n->s, n->len);
		break;
	}
	return out->failed ? STRATA_ERROR : 0;
}

static void array_quoted(strata_buf *out, const char *s, size_t len)
{
	size_t from = 0;
	strata_buf_put(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		strata_buf_put(out, s + from, i - from);
		strata_buf_put(out, "\\", 1);
		from = i;
	}
	strata_buf_put(out, s + from, len - from);
	strata_buf_put(out, "\"", 1);
}

int strata_seed_pg_array(strata_buf *out, const strata_seed_node *n)
{
	strata_buf_put(out, "{", 1);
	for (const strata_seed_node *c = n->child; c; c = c->next) {
		if (c != n->child)
			strata_buf_put(out, ",", 1);
		switch (c->kind) {
		case STRATA_SEED_NULL:
			strata_buf_puts(out, "NULL");
			break;
		case STRATA_SEED_STRING:
			array_quoted(out, c->s, c->len);
			break;
		case STRATA_SEED_ARRAY:
			strata_seed_pg_array(out, c);
			break;
		case STRATA_SEED_OBJECT: {
			strata_buf json = STRATA_BUF_INIT;
			strata_seed_json_text(&json, c);
			if (json.failed)
				out->failed = true;
			array_quoted(out, strata_buf_cstr(&json), json.len);
			strata_buf_free(&json);
			break;
		}
		default:
			strata_buf_put(out, c->s, c->len);
			break;
		}
	}
	strata_buf_put(out, "}", 1);
	return out->failed ? STRATA_ERROR : 0;
}

int strata_seed_copy_escape(strata_buf *out, const char *s, size_t len)
{
	size_t from = 0;
	for (size_t i = 0; i < len; i++) {
		const char *esc;
		switch (s[i]) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			continue;
		}
		strata_buf_put(out, s + from, i - from);
		strata_buf_put(out, esc, 2);
		from = i + 1;
	}
	strata_buf_put(out, s + from, len - from);
	return out->failed ? STRATA_ERROR : 0;
}

void strata_seed_locate(const char *path, size_t off, strata_error *e)
{
	FILE *f = fopen(path, "rb");
	unsigned char buf[8192];
	unsigned line = 1, col = 1;
	size_t pos = 0, line_start = 0;
	char src[256];
	size_t n;

	strata_error_at(e, path, 0, 0);
	if (!f)
		return;
	while (pos < off && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (size_t i = 0; i < n && pos < off; i++, pos++) {
			unsigned char c = buf[i];
			if (c == '\n') {
				line++;
				col = 1;
				line_start = pos + 1;
			} else if (c != '\r' && (c & 0xC0) != 0x80) {
				col++;
			}
		}
	}
	strata_error_at(e, path, line, col);
	if (fseeko(f, (off_t)line_start, SEEK_SET) == 0) {
		n = fread(src, 1, sizeof(src) - 1, f);
		src[n] = '\0';
		strata_error_source(e, src, n);
	}
	fclose(f);
}
