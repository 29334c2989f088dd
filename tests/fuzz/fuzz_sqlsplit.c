/*
 * fuzz_sqlsplit.c: libFuzzer target for the statement splitter (src/core/sqlsplit.c).
 *
 * Input: one byte for a window size (1 to 64 bytes), one for the dialect (odd: PostgreSQL,
 * even: SQLite), then a section's SQL. It is split twice, with the default window and with the
 * small one. Aborts when a statement does not follow the one before it, when its text is not
 * the section's, when the text after the last one is more than blanks and empty statements,
 * when the bytes read are not linear in the input, or when the two splits of an input that
 * splits without error (and holds no NUL) differ. Each statement also goes through the
 * transaction-control check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sqlsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t ends[2][MAX_INPUT];
	strata_section s = {0};
	strata_dialect d;
	size_t win, n[2] = {0, 0};
	int rc[2] = {0, 0};
	char *text;

	if (size < 2 || size > MAX_INPUT)
		return 0;
	win = 1 + data[0] % 64;
	d = (data[1] & 1) ? STRATA_DIALECT_POSTGRES : STRATA_DIALECT_SQLITE;
	data += 2;
	size -= 2;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	s.present = true;
	s.file = "x.sql";
	s.text = text;
	s.len = size;
	for (int pass = 0; pass < 2; pass++) {
		strata_error e = STRATA_ERROR_INIT;
		strata_sql_split *sp = NULL;
		strata_sql_piece pc;
		size_t last = 0;
		int more;
		if (strata_sql_split_new(&sp, d, &s, &e) < 0)
			abort();
		if (pass)
			strata_sql_split__window(sp, win);
		while ((more = strata_sql_split_next(sp, &pc, &e)) > 0) {
			if (pc.lead != last || pc.off < pc.lead || pc.end <= pc.off ||
			    pc.end > size)
				abort();
			if (memcmp(pc.text, text + pc.off, pc.end - pc.off) != 0 ||
			    pc.text[pc.end - pc.off] != '\0')
				abort();
			(void)strata_sql_txn_control(d, pc.text, pc.end - pc.off);
			last = pc.end;
			ends[pass][n[pass]++] = pc.end;
		}
		rc[pass] = more;
		while (more == 0 && last < size) {
			last = strata_sql_skip_blank(d, text, last, size);
			if (last < size && text[last] != ';')
				abort(); /* a statement left out */
			last++;
		}
		if (strata_sql_split__scanned(sp) > 8 * size + 65536)
			abort();
		strata_sql_split_free(sp);
	}
	if (rc[0] == 0 && rc[1] == 0 && !memchr(text, '\0', size) &&
	    (n[0] != n[1] || memcmp(ends[0], ends[1], n[0] * sizeof(ends[0][0])) != 0))
		abort();
	free(text);
	return 0;
}
