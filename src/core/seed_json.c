/*
 * seed_json.c: a row's values (strata_seed_node trees): a member by name, and a value as compact
 * JSON text, as a PostgreSQL array literal, or escaped for COPY, as the engines write them.
 * Reading the file is in seed_scan.c (pass 1) and seed_reader.c (pass 2).
 */
#include "core/seed_json.h"

#include <stdio.h>
#include <string.h>

const strata_seed_node *strata_seed_member(const strata_seed_node *obj, const char *key)
{
	if (!obj || obj->kind != STRATA_SEED_OBJECT)
		return NULL;
	for (const strata_seed_node *m = obj->child; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

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
