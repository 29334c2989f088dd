/*
 * seed_json_pos.h: what the two passes over a seed file share (pass 1 in core/seed_scan.c,
 * pass 2 in core/seed_reader.c): how much is read at a time, how deep JSON may nest, yajl's
 * offsets turned into file offsets, and the malformed-JSON error. Inside src/core/ only.
 */
#ifndef STRATA_CORE_SEED_JSON_POS_H
#define STRATA_CORE_SEED_JSON_POS_H

#include <stddef.h>
#include <yajl/yajl_parse.h>

#include "strata.h"

#define STRATA_SEED_CHUNK (256 * 1024) /* bytes read from the file at a time */
#define STRATA_SEED_MAX_DEPTH 128

/* The hint of every error in the shape of a seed file. */
#define STRATA_SEED_SHAPE_HINT                                                                     \
	"a seed file is one JSON object: { \"table\": [ {\"column\": value}, ... ], ... }"

/* Where the chunk being parsed sits in the file, to turn yajl's offsets into file offsets. */
struct strata_seed_where {
	yajl_handle h;
	const unsigned char *chunk;
	size_t chunk_len;
	size_t base; /* file offset of chunk[0] */
};

/* File offset just past the token yajl is reporting (inline: it is asked for every token). */
static inline size_t strata_seed__pos_after(const struct strata_seed_where *w)
{
	return w->base + yajl_get_bytes_consumed(w->h);
}

/* File offset where the token that ends at strata_seed__pos_after() begins: its opening quote
 * for a string, its first character otherwise. A token split across chunks is placed at the
 * chunk start. */
size_t strata_seed__tok_start(const struct strata_seed_where *w);

/* Fills e from yajl's error on chunk (at file offset base of path): "malformed JSON: ...",
 * placed at the offending token, with the shape hint. Returns STRATA_EINVALID. */
int strata_seed__parse_error(yajl_handle h, const unsigned char *chunk, size_t len, size_t base,
                             const char *path, strata_error *e);

#endif
