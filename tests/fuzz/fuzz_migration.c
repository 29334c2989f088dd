/*
 * fuzz_migration.c: libFuzzer target for the migration file parser (src/core/migration.c).
 *
 * Input: a file name, '\n', then the file's text. The name goes through
 * strata_migration_parse_name(); the text through strata_migration_parse() as the kind the name
 * says (a single file, strata's, dbmate's or goose's; one half of a golang-migrate pair; a
 * Flyway V or U file, or its .sql.conf), then every helper that walks a parsed section
 * (emptiness, statement starts, line:column, the no-transaction hint), and the splitter of each
 * dialect over each section (goose's StatementBegin blocks included): aborts when a statement
 * is outside its section or does not follow the one before it, or a block is outside the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/migration.h"
#include "core/sqlsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits section s with dialect d, checking the order and the bounds of each statement. */
static void split_section(const strata_section *s, strata_dialect d)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_sql_split *sp = NULL;
	strata_sql_piece pc;
	size_t last = 0;
	if (strata_sql_split_new(&sp, d, s, &e) == 0) {
		while (strata_sql_split_next(sp, &pc, &e) > 0) {
			if (pc.lead != last || pc.off < pc.lead || pc.end <= pc.off ||
			    pc.end > s->len || strlen(pc.text) > pc.end - pc.off)
				abort();
			last = pc.end;
		}
	}
	strata_sql_split_free(sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
	char name[300] = "1-Fuzz.sql", path[320];
	strata_error e = STRATA_ERROR_INIT;
	strata_file_kind kind = STRATA_FILE_SINGLE;
	char *version = NULL, *mname = NULL, *text;
	strata_migration *m = NULL;
	size_t tlen;

	if (nl) {
		size_t nlen = (size_t)(nl - data);
		memcpy(name, data, nlen);
		name[nlen] = '\0';
		data = nl + 1;
		size -= nlen + 1;
		if (strlen(name) == nlen &&
		    strata_migration_parse_name(&kind, &version, &mname, name, &e) < 0)
			kind = STRATA_FILE_SINGLE;
		if (version && mname && strata_is_version(version))
			(void)strata_migration_key_cmp(version, mname, "10", "x");
		free(version);
		free(mname);
		if (kind == STRATA_FILE_NONE || strlen(name) != nlen || strchr(name, '/')) {
			snprintf(name, sizeof(name), "1-Fuzz.sql");
			kind = STRATA_FILE_SINGLE;
		}
	}
	snprintf(path, sizeof(path), "dir/%s", name);
	tlen = size;
	text = malloc(tlen + 1);
	if (!text)
		return 0;
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	strata_error_clear(&e);
	if (strata_migration_parse(&m, path, text, tlen, kind, &e) == 0) { /* owns text */
		const strata_section *ss[2] = {&m->up, &m->down};
		for (int i = 0; i < 2; i++) {
			const strata_section *s = ss[i];
			size_t off, end;
			if (!s->present)
				continue;
			(void)strata_section_is_empty(s);
			end = s->offset + s->len;
			for (off = s->offset; off < end;) {
				size_t next = strata_sql_skip_blank(i ? STRATA_DIALECT_SQLITE
				                                      : STRATA_DIALECT_POSTGRES,
				                                    s->text, off, end);
				if (next <= off)
					next = off + 1;
				off = next;
			}
			strata_section_locate(s, 0, &e);
			strata_section_locate(s, s->len, &e);
			strata_section_locate(s, s->len / 2, &e);
			for (size_t b = 0; b < s->nblocks; b++)
				if (s->blocks[2 * b] > s->blocks[2 * b + 1] ||
				    s->blocks[2 * b + 1] > tlen ||
				    (b && s->blocks[2 * b] < s->blocks[2 * b - 1]))
					abort();
			{
				char how[300];
				(void)strata_section_no_txn_how(s, i == 0, how, sizeof(how));
			}
			split_section(s, STRATA_DIALECT_SQLITE);
			split_section(s, STRATA_DIALECT_POSTGRES);
		}
	}
	strata_migration_free(m);
	return 0;
}
