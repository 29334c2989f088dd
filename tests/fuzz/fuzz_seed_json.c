/*
 * fuzz_seed_json.c: libFuzzer target for the JSON layer of `strata seed`
 * (src/core/seed_scan.c, seed_reader.c, seed_json.c), with no database: pass 1
 * (strata_seed_scan_file, fully parsed and structural only), then pass 2 (a reader over every
 * section's rows), and the conversions the engines use (compact JSON text, PostgreSQL array
 * literals, COPY escaping, file:line:col).
 *
 * Input: the seed file's bytes. The first byte's low bit picks the structural scan (as for
 * files larger than STRATA_SEED_FULL_CHECK_MAX), so pass 2 meets syntax errors too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/seed_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void walk(const strata_seed_node *n, strata_buf *b, int depth)
{
	if (depth > 64)
		return;
	if (n->kind == STRATA_SEED_STRING)
		strata_seed_copy_escape(b, n->s, n->len);
	if (n->kind == STRATA_SEED_ARRAY)
		strata_seed_pg_array(b, n);
	for (const strata_seed_node *c = n->child; c; c = c->next)
		walk(c, b, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_seed_scan scan = {0};
	bool structural = size > 0 && (data[0] & 1);
	FILE *f;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/strata-fuzz-seed.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/seed.json", dir);
	}
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (strata_seed_scan_file_ex(&scan, path, structural ? 0 : STRATA_SEED_FULL_CHECK_MAX, &e) <
	    0) {
		strata_seed_locate(path, size / 2, &e);
		return 0;
	}
	for (size_t i = 0; i < scan.n; i++) {
		strata_seed_reader *r = NULL;
		const strata_seed_node *row = NULL;
		strata_buf b = STRATA_BUF_INIT;
		int rows = 0;
		if (strata_seed_reader_open(&r, path, scan.sections[i].array_off, false, &e) < 0)
			continue;
		while (rows++ < 10000 && strata_seed_reader_next(r, &row, &e) == 0 && row) {
			strata_buf_reset(&b);
			strata_seed_json_text(&b, row);
			walk(row, &b, 0);
			(void)strata_seed_member(row, "id");
			strata_seed_locate(path, row->off, &e);
		}
		strata_seed_reader_free(r);
		strata_buf_free(&b);
	}
	strata_seed_scan_free(&scan);
	return 0;
}
