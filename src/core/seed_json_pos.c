/*
 * seed_json_pos.c: places in a seed file. yajl's offsets as file offsets (where a token begins),
 * a file offset as file:line:col with its source line (strata_seed_locate), and yajl's parse
 * error placed there.
 */
#include "core/seed_json_pos.h"

#include <stdio.h>
#include <string.h>

#include "core/seed_json.h"
#include "util/error.h"

size_t strata_seed__tok_start(const struct strata_seed_where *w)
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

int strata_seed__parse_error(yajl_handle h, const unsigned char *chunk, size_t len, size_t base,
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
	strata_error_hint(e, STRATA_SEED_SHAPE_HINT);
	return strata_error_set(e, STRATA_EINVALID, "malformed JSON: %s", msg);
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
