/*
 * seed_reader.c: pass 2 over a seed file (strata_seed_reader_*). It parses one section's rows
 * with yajl and hands them out one at a time, each as a small tree of strata_seed_node built in
 * its own arena of blocks, which is recycled when the next row is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "core/seed_json.h"
#include "core/seed_json_pos.h"
#include "util/error.h"

#define BLOCK 16384
#define MAX_FREE_BLOCKS 64

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
	struct strata_seed_where w;
	FILE *f;
	char *path;
	unsigned char *buf;
	bool continued, started, done, eof;
	unsigned depth; /* open containers, the rows' array included */
	strata_seed_node *stack[STRATA_SEED_MAX_DEPTH];
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
	strata_seed_node *n = rd_add(r, kind, member ? 0 : strata_seed__tok_start(&r->w));
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
			return rd_fail(r, strata_seed__pos_after(&r->w) - 1,
			               "expected the '[' of a table's rows");
		r->depth = 1;
		return 1;
	}
	if (r->depth >= STRATA_SEED_MAX_DEPTH)
		return rd_fail(r, strata_seed__pos_after(&r->w) - 1, "JSON nested too deeply");
	n = rd_add(r, kind, strata_seed__pos_after(&r->w) - 1);
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
	r->pending_key_off = strata_seed__tok_start(&r->w);
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
	r->buf = malloc(STRATA_SEED_CHUNK);
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
	return r->err = strata_seed__parse_error(r->w.h, p, n, r->w.base, r->path, r->e);
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
		n = fread(r->buf, 1, STRATA_SEED_CHUNK, r->f);
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
