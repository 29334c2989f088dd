/*
 * seed_json.h: the JSON side of `strata seed`, with no database.
 *
 * A seed file is a JSON object whose keys are table names and whose values are arrays of row
 * objects. It is read in two streaming passes (yajl's event API, fixed-size chunks, so memory
 * stays flat however large the file is):
 *
 *   1. strata_seed_scan_file() checks the whole file is well-formed, hashes it (SHA-256, CR LF
 *      read as LF, like migrations), and records each table section: its name, where its key
 *      and its '[' are, and which keys inside its rows hold arrays (candidate nested tables).
 *      Nothing of the rows is kept.
 *   2. strata_seed_reader_open() seeks to one section's '[' and hands out its rows one at a time
 *      as small trees (strata_seed_node), each in its own arena, freed when the next row is read.
 *
 * Every node carries its byte offset in the file; strata_seed_locate() turns an offset into
 * file:line:col (and the source line) only when an error needs it.
 *
 * Pass 1 is in seed_scan.c, pass 2 in seed_reader.c, what both share in seed_json_pos.c (with
 * strata_seed_locate) and the conversions of values in seed_json.c.
 */
#ifndef STRATA_CORE_SEED_JSON_H
#define STRATA_CORE_SEED_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "strata.h"
#include "util/buf.h"

typedef enum {
	STRATA_SEED_NULL,
	STRATA_SEED_BOOL,
	STRATA_SEED_NUMBER,
	STRATA_SEED_STRING,
	STRATA_SEED_ARRAY,
	STRATA_SEED_OBJECT,
} strata_seed_kind;

typedef struct strata_seed_node {
	strata_seed_kind kind;
	const char *key; /* the member's name inside an object (NUL-terminated), else NULL */
	size_t key_len;
	const char *s; /* scalars: the decoded string, the number as written, "true"/"false" */
	size_t len;
	size_t off; /* byte offset in the file: of the member's key inside an object, else of the
	               value (for an object or array, its '{' or '[') */
	struct strata_seed_node *child, *last, *next; /* members or elements, in file order */
	size_t n;                                     /* how many children */
} strata_seed_node;

typedef struct strata_seed_section {
	char *table;      /* the key as written */
	size_t key_off;   /* the key's opening quote */
	size_t array_off; /* the '[' of its rows */
	char **nested; /* keys (at any depth in its rows) whose value is an array; deduplicated */
	size_t nnested;
} strata_seed_section;

typedef struct strata_seed_scan {
	strata_seed_section *sections; /* in file order */
	size_t n;
	char sha256[65];
	size_t size;  /* bytes */
	double ms;    /* how long the scan took */
	bool checked; /* fully parsed (else only its structure: see strata_seed_scan_file) */
} strata_seed_scan;

/* Files up to this size are fully parsed in pass 1; larger ones only structurally. */
#define STRATA_SEED_FULL_CHECK_MAX ((size_t)64 << 20)

/* Pass 1 over the file at path. Malformed JSON or a wrong shape (not an object of arrays of
 * objects) is STRATA_EINVALID with e at path:line:col. A file larger than
 * STRATA_SEED_FULL_CHECK_MAX is scanned structurally only (strings and brackets, the top level
 * strictly), which is several times faster than parsing it: a syntax error inside its rows is
 * found when they are read in pass 2 (and rolls the load back like any other error). */
int strata_seed_scan_file(strata_seed_scan *out, const char *path, strata_error *e);
/* The same with another threshold (0: always structural), for tests. */
int strata_seed_scan_file_ex(strata_seed_scan *out, const char *path, size_t full_check_max,
                             strata_error *e);
void strata_seed_scan_free(strata_seed_scan *s);

typedef struct strata_seed_reader strata_seed_reader;

/* Opens a reader on path at byte offset off: the '[' of a section, or, with `continued`, the
 * '{' of a row inside one (the rows from there to the end of the array are read). */
int strata_seed_reader_open(strata_seed_reader **out, const char *path, size_t off, bool continued,
                            strata_error *e);
/* The next row (an object node), or *out = NULL after the last one. The row stays valid until
 * the next call or strata_seed_reader_free(). */
int strata_seed_reader_next(strata_seed_reader *r, const strata_seed_node **out, strata_error *e);
void strata_seed_reader_free(strata_seed_reader *r);

/* The member called key (exact) of an object node, or NULL. */
const strata_seed_node *strata_seed_member(const strata_seed_node *obj, const char *key);

/* Appends n (any kind) as compact JSON text. */
int strata_seed_json_text(strata_buf *out, const strata_seed_node *n);
/* Appends the JSON array n as a PostgreSQL array literal: {1,"a b",NULL,{2,3}}. An object
 * element goes in as its JSON text (for json[]/jsonb[]). */
int strata_seed_pg_array(strata_buf *out, const strata_seed_node *n);
/* Appends s escaped for COPY's text format (backslash, tab, newline, carriage return). */
int strata_seed_copy_escape(strata_buf *out, const char *s, size_t len);

/* Fills e's file, line and column (and the source line) for byte offset off in path. */
void strata_seed_locate(const char *path, size_t off, strata_error *e);

#endif
