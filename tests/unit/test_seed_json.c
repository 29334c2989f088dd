/* test_seed_json.c: the JSON side of strata seed, no database (src/core/seed_scan.c, seed_reader.c,
 * seed_json.c, seed_json_pos.c). */
#include "unit.h"

#include "core/seed_json.h"
#include "util/buf.h"

struct fx {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = unit_mkdtemp();
	f->path = unit_path(f->dir, "seed.json");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->path);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

static void put(struct fx *f, const char *text)
{
	unit_write(f->dir, "seed.json", text);
}

static const char SEED[] =
    "{\n"
    "  \"authors\": [\n"
    "    {\"name\": \"Lem\", \"born\": 1921, \"alive\": false, \"x\": null,\n"
    "     \"books\": [{\"title\": \"Solaris\", \"tags\": [\"sf\", 1.5e3]}]},\n"
    "    {\"name\": \"caf\xC3\xA9 \\\"q\\\"\"}\n"
    "  ],\n"
    "  \"inv.items\": []\n"
    "}\n";

static void test_scan_sections(void **state)
{
	struct fx *f = *state;
	strata_seed_scan s;
	strata_error e = STRATA_ERROR_INIT;

	put(f, SEED);
	assert_int_equal(strata_seed_scan_file(&s, f->path, &e), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.sections[0].table, "authors");
	assert_int_equal(s.sections[0].key_off, strchr(SEED, '"') - SEED);
	assert_int_equal(s.sections[0].array_off, strchr(SEED, '[') - SEED);
	assert_int_equal(s.sections[0].nnested, 2); /* "books" and "tags" hold arrays */
	assert_string_equal(s.sections[0].nested[0], "books");
	assert_string_equal(s.sections[0].nested[1], "tags");
	assert_string_equal(s.sections[1].table, "inv.items");
	assert_int_equal(s.sections[1].nnested, 0);
	assert_int_equal(s.size, sizeof(SEED) - 1);
	assert_int_equal(strlen(s.sha256), 64);
	strata_seed_scan_free(&s);
}

static void test_scan_sha_crlf(void **state)
{
	struct fx *f = *state;
	strata_seed_scan a, b;
	strata_error e = STRATA_ERROR_INIT;

	put(f, "{\"t\": [\n{\"a\": 1}\n]}\n");
	assert_int_equal(strata_seed_scan_file(&a, f->path, &e), 0);
	/* SHA-256 of the text itself */
	assert_string_equal(a.sha256,
	                    "5130be03bd0f2203074c9cf9eedf259b9f022a409760e91698c8c47b3f9190c5");
	put(f, "{\"t\": [\r\n{\"a\": 1}\r\n]}\r\n");
	assert_int_equal(strata_seed_scan_file(&b, f->path, &e), 0);
	assert_string_equal(a.sha256, b.sha256); /* CR LF reads as LF */
	strata_seed_scan_free(&b);
	put(f, "{\"t\": [\n{\"a\": 2}\n]}\n");
	assert_int_equal(strata_seed_scan_file(&b, f->path, &e), 0);
	assert_string_not_equal(b.sha256, a.sha256);
	strata_seed_scan_free(&b);
	strata_seed_scan_free(&a);
}

static void expect_scan_error(struct fx *f, const char *text, unsigned line, unsigned col,
                              const char *msg)
{
	strata_seed_scan s;
	strata_error e = STRATA_ERROR_INIT;
	put(f, text);
	assert_int_equal(strata_seed_scan_file(&s, f->path, &e), STRATA_EINVALID);
	if (!strstr(e.msg, msg))
		fail_msg("'%s' does not contain '%s'", e.msg, msg);
	assert_string_equal(e.file, f->path);
	if (e.line != line || e.column != col)
		fail_msg("%s: at %u:%u, wanted %u:%u", e.msg, e.line, e.column, line, col);
	assert_int_equal(s.n, 0);
}

static void test_scan_errors(void **state)
{
	struct fx *f = *state;
	expect_scan_error(f, "{\"t\": [\n  {\"a\": }\n]}", 2, 9, "malformed JSON");
	expect_scan_error(f, "{\"t\": [\n  {\"a\": 1}\n]", 3, 2, "malformed JSON");
	expect_scan_error(f, "", 1, 1, "malformed JSON");
	expect_scan_error(f, "[]", 1, 1, "must be a JSON object of tables");
	expect_scan_error(f, "{\"t\": 5}", 1, 7, "the rows of table 't' must be a JSON array");
	expect_scan_error(f, "{\"t\": {}}", 1, 7, "the rows of table 't' must be a JSON array");
	expect_scan_error(f, "{\"t\": [{}, \"x\"]}", 1, 12,
	                  "a row of table 't' must be a JSON object");
	expect_scan_error(f, "{\"t\": [[1]]}", 1, 8, "a row of table 't' must be a JSON object");
	expect_scan_error(f, "{\"\": []}", 1, 2, "a table name must not be empty");
	expect_scan_error(f, "{\"t\": [\"\xff\"]}", 1, 9, "malformed JSON"); /* at the bad byte */
}

/* Past STRATA_SEED_FULL_CHECK_MAX the scan is structural: same sections, nested keys, hash. */
static void test_scan_structural(void **state)
{
	struct fx *f = *state;
	strata_seed_scan a, b;
	strata_error e = STRATA_ERROR_INIT;

	put(f, SEED);
	assert_int_equal(strata_seed_scan_file(&a, f->path, &e), 0);
	assert_true(a.checked);
	assert_int_equal(strata_seed_scan_file_ex(&b, f->path, 0, &e), 0);
	assert_false(b.checked);
	assert_int_equal(b.n, a.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(b.sections[i].table, a.sections[i].table);
		assert_int_equal(b.sections[i].key_off, a.sections[i].key_off);
		assert_int_equal(b.sections[i].array_off, a.sections[i].array_off);
		assert_int_equal(b.sections[i].nnested, a.sections[i].nnested);
		for (size_t k = 0; k < a.sections[i].nnested; k++)
			assert_string_equal(b.sections[i].nested[k], a.sections[i].nested[k]);
	}
	assert_string_equal(b.sha256, a.sha256);
	strata_seed_scan_free(&a);
	strata_seed_scan_free(&b);
}

static void expect_structural_error(struct fx *f, const char *text, unsigned line, unsigned col,
                                    const char *msg)
{
	strata_seed_scan s;
	strata_error e = STRATA_ERROR_INIT;
	put(f, text);
	assert_int_equal(strata_seed_scan_file_ex(&s, f->path, 0, &e), STRATA_EINVALID);
	if (!strstr(e.msg, msg))
		fail_msg("'%s' does not contain '%s'", e.msg, msg);
	if (e.line != line || e.column != col)
		fail_msg("%s: at %u:%u, wanted %u:%u", e.msg, e.line, e.column, line, col);
}

static void test_scan_structural_errors(void **state)
{
	struct fx *f = *state;
	strata_seed_scan s;
	strata_error e = STRATA_ERROR_INIT;
	expect_structural_error(f, "[]", 1, 1, "must be a JSON object of tables");
	expect_structural_error(f, "{\"t\": 5}", 1, 7,
	                        "the rows of table 't' must be a JSON array");
	expect_structural_error(f, "{\"t\": [{}, \"x\"]}", 1, 12,
	                        "a row of table 't' must be a JSON object");
	expect_structural_error(f, "{\"t\": [{}]\n \"u\": []}", 2, 2, "expected ',' or '}'");
	expect_structural_error(f, "{\"t\" [{}]}", 1, 6, "expected ':'");
	expect_structural_error(f, "{\"t\": [{\"a\": \"]\"}]", 1, 19, "the file ends inside");
	expect_structural_error(f, "{\"t\": []} x", 1, 11, "trailing garbage");
	expect_structural_error(f, "{\"\": []}", 1, 2, "a table name must not be empty");
	/* inside rows only brackets and strings are followed: this is for pass 2 to find */
	put(f, "{\"t\": [{\"a\": tru, \"b\\\"\": [1]}], \"u\\\"v\": []}");
	assert_int_equal(strata_seed_scan_file_ex(&s, f->path, 0, &e), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.sections[1].table, "u\"v");
	assert_int_equal(s.sections[0].nnested, 0); /* a key with an escape is not captured */
	strata_seed_scan_free(&s);
}

static void test_scan_missing_file(void **state)
{
	struct fx *f = *state;
	strata_seed_scan s;
	strata_error e = STRATA_ERROR_INIT;
	assert_int_equal(strata_seed_scan_file(&s, f->path, &e), STRATA_ENOTFOUND);
	assert_string_equal(e.file, f->path);
	assert_non_null(strstr(e.msg, "cannot open seed file"));
}

static void test_reader_rows(void **state)
{
	struct fx *f = *state;
	strata_seed_scan s;
	strata_seed_reader *r = NULL;
	const strata_seed_node *row, *m, *b;
	strata_error e = STRATA_ERROR_INIT;

	put(f, SEED);
	assert_int_equal(strata_seed_scan_file(&s, f->path, &e), 0);
	assert_int_equal(strata_seed_reader_open(&r, f->path, s.sections[0].array_off, false, &e),
	                 0);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_non_null(row);
	assert_int_equal(row->kind, STRATA_SEED_OBJECT);
	assert_int_equal(row->n, 5);
	assert_int_equal(row->off, strstr(SEED, "{\"name\": \"Lem\"") - SEED);
	m = strata_seed_member(row, "name");
	assert_non_null(m);
	assert_int_equal(m->kind, STRATA_SEED_STRING);
	assert_string_equal(m->s, "Lem");
	assert_int_equal(m->off, strstr(SEED, "\"name\": \"Lem\"") - SEED); /* the key's quote */
	m = strata_seed_member(row, "born");
	assert_int_equal(m->kind, STRATA_SEED_NUMBER);
	assert_string_equal(m->s, "1921");
	m = strata_seed_member(row, "alive");
	assert_int_equal(m->kind, STRATA_SEED_BOOL);
	assert_string_equal(m->s, "false");
	assert_int_equal(strata_seed_member(row, "x")->kind, STRATA_SEED_NULL);
	assert_null(strata_seed_member(row, "nope"));
	m = strata_seed_member(row, "books");
	assert_int_equal(m->kind, STRATA_SEED_ARRAY);
	assert_int_equal(m->n, 1);
	b = m->child;
	assert_int_equal(b->kind, STRATA_SEED_OBJECT);
	assert_null(b->key);
	assert_int_equal(b->off, strstr(SEED, "{\"title\"") - SEED);
	assert_string_equal(strata_seed_member(b, "title")->s, "Solaris");
	m = strata_seed_member(b, "tags");
	assert_int_equal(m->n, 2);
	assert_string_equal(m->child->s, "sf");
	assert_string_equal(m->child->next->s, "1.5e3");

	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_non_null(row);
	m = strata_seed_member(row, "name");
	assert_string_equal(m->s, "caf\xC3\xA9 \"q\""); /* decoded */
	assert_int_equal(m->len, 9);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_null(row); /* end of the section, though the file goes on */
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_null(row);
	strata_seed_reader_free(r);

	assert_int_equal(strata_seed_reader_open(&r, f->path, s.sections[1].array_off, false, &e),
	                 0);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_null(row); /* an empty section */
	strata_seed_reader_free(r);
	strata_seed_scan_free(&s);
}

static void test_reader_continued(void **state)
{
	struct fx *f = *state;
	strata_seed_reader *r = NULL;
	const strata_seed_node *row;
	strata_error e = STRATA_ERROR_INIT;
	const char *text = "{\"t\": [{\"a\": 1}, {\"a\": 2},\n {\"a\": 3}], \"u\": [{\"b\": 4}]}";
	size_t off = strstr(text, "{\"a\": 2}") - text;

	put(f, text);
	assert_int_equal(strata_seed_reader_open(&r, f->path, off, true, &e), 0);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_string_equal(strata_seed_member(row, "a")->s, "2");
	assert_int_equal(row->off, off);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_string_equal(strata_seed_member(row, "a")->s, "3");
	assert_int_equal(strata_seed_member(row, "a")->off, strstr(text, "\"a\": 3") - text);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_null(row);
	strata_seed_reader_free(r);
}

static void test_reader_errors(void **state)
{
	struct fx *f = *state;
	strata_seed_reader *r = NULL;
	const strata_seed_node *row;
	strata_error e = STRATA_ERROR_INIT;

	put(f, "{\"t\": [{\"a\": 1},\n 7]}");
	assert_int_equal(strata_seed_reader_open(&r, f->path, 6, false, &e), 0);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), 0);
	assert_non_null(row);
	assert_int_equal(strata_seed_reader_next(r, &row, &e), STRATA_EINVALID);
	assert_null(row);
	assert_string_equal(e.msg, "a row must be a JSON object");
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 2);
	strata_seed_reader_free(r);
}

/* Rows across many read chunks: every row and every offset comes out right. */
static void test_reader_large(void **state)
{
	struct fx *f = *state;
	strata_buf b = STRATA_BUF_INIT;
	strata_seed_scan s;
	strata_seed_reader *r = NULL;
	const strata_seed_node *row;
	strata_error e = STRATA_ERROR_INIT;
	size_t *offs = calloc(20000, sizeof(*offs));
	size_t n = 0;

	assert_non_null(offs);
	strata_buf_puts(&b, "{\"big\": [\n");
	for (size_t i = 0; i < 20000; i++) {
		offs[i] = b.len + 2;
		strata_buf_printf(
		    &b, "  {\"id\": %zu, \"s\": \"%0*zu\", \"n\": [%zu, {\"k\": \"v\"}]}%s\n", i,
		    (int)(i % 50), i, i, i + 1 < 20000 ? "," : "");
	}
	strata_buf_puts(&b, "]}\n");
	assert_false(b.failed);
	assert_true(b.len > 3 * 256 * 1024);
	unit_write_len(f->dir, "seed.json", b.ptr, b.len);
	assert_int_equal(strata_seed_scan_file(&s, f->path, &e), 0);
	assert_int_equal(strata_seed_reader_open(&r, f->path, s.sections[0].array_off, false, &e),
	                 0);
	while (strata_seed_reader_next(r, &row, &e) == 0 && row) {
		char want[64];
		const strata_seed_node *id = strata_seed_member(row, "id");
		snprintf(want, sizeof(want), "%zu", n);
		assert_string_equal(id->s, want);
		if (row->off != offs[n])
			fail_msg("row %zu at %zu, wanted %zu", n, row->off, offs[n]);
		assert_int_equal(id->off, offs[n] + 1);
		snprintf(want, sizeof(want), "%0*zu", (int)(n % 50), n);
		assert_int_equal(strata_seed_member(row, "s")->len, strlen(want));
		assert_int_equal(strata_seed_member(row, "n")->n, 2);
		n++;
	}
	assert_int_equal(n, 20000);
	strata_seed_reader_free(r);
	strata_seed_scan_free(&s);
	strata_buf_free(&b);
	free(offs);
}

static const strata_seed_node *first_row(struct fx *f, const char *text, strata_seed_reader **r)
{
	const strata_seed_node *row = NULL;
	strata_error e = STRATA_ERROR_INIT;
	put(f, text);
	assert_int_equal(strata_seed_reader_open(r, f->path, strchr(text, '[') - text, false, &e),
	                 0);
	assert_int_equal(strata_seed_reader_next(*r, &row, &e), 0);
	assert_non_null(row);
	return row;
}

static void test_json_text(void **state)
{
	struct fx *f = *state;
	strata_seed_reader *r = NULL;
	strata_buf b = STRATA_BUF_INIT;
	const strata_seed_node *row = first_row(f,
	                                        "{\"t\": [{\"v\": {\"a\": [1, -2.5e3, true, null], "
	                                        "\"s\": \"q\\\"\\\\\\n\\t\\u0001\\u00e9\", "
	                                        "\"o\": {}}}]}",
	                                        &r);
	assert_int_equal(strata_seed_json_text(&b, strata_seed_member(row, "v")), 0);
	assert_string_equal(b.ptr,
	                    "{\"a\":[1,-2.5e3,true,null],\"s\":\"q\\\"\\\\\\n\\t\\u0001\xC3\xA9\","
	                    "\"o\":{}}");
	strata_buf_free(&b);
	strata_seed_reader_free(r);
}

static void test_pg_array(void **state)
{
	struct fx *f = *state;
	strata_seed_reader *r = NULL;
	strata_buf b = STRATA_BUF_INIT;
	const strata_seed_node *row =
	    first_row(f,
	              "{\"t\": [{\"v\": [\"a b\", \"q\\\"\", \"back\\\\\", null, 3, false, [1, "
	              "[2]], {\"k\": \"v\"}], \"e\": []}]}",
	              &r);
	assert_int_equal(strata_seed_pg_array(&b, strata_seed_member(row, "v")), 0);
	assert_string_equal(
	    b.ptr,
	    "{\"a b\",\"q\\\"\",\"back\\\\\",NULL,3,false,{1,{2}},\"{\\\"k\\\":\\\"v\\\"}\"}");
	strata_buf_reset(&b);
	assert_int_equal(strata_seed_pg_array(&b, strata_seed_member(row, "e")), 0);
	assert_string_equal(b.ptr, "{}");
	strata_buf_free(&b);
	strata_seed_reader_free(r);
}

static void test_copy_escape(void **state)
{
	strata_buf b = STRATA_BUF_INIT;
	const char in[] = "a\tb\nc\rd\\e \\N f";
	(void)state;
	assert_int_equal(strata_seed_copy_escape(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(b.ptr, "a\\tb\\nc\\rd\\\\e \\\\N f");
	strata_buf_reset(&b);
	assert_int_equal(strata_seed_copy_escape(&b, "plain", 5), 0);
	assert_string_equal(b.ptr, "plain");
	strata_buf_free(&b);
}

static void test_locate(void **state)
{
	struct fx *f = *state;
	strata_error e = STRATA_ERROR_INIT;
	const char *text = "{\r\n  \"caf\xC3\xA9\": [\r\n    {\"x\": 1}]}";

	put(f, text);
	strata_seed_locate(f->path, strstr(text, "[") - text, &e);
	assert_string_equal(e.file, f->path);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 11); /* é is one character */
	assert_string_equal(e.source_line, "  \"caf\xC3\xA9\": [");
	strata_seed_locate(f->path, strstr(text, "\"x\"") - text, &e);
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 6);
	assert_string_equal(e.source_line, "    {\"x\": 1}]}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_scan_sections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_sha_crlf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_structural, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_structural_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_continued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pg_array, setup, teardown),
	    cmocka_unit_test(test_copy_escape),
	    cmocka_unit_test_setup_teardown(test_locate, setup, teardown),
	};
	return cmocka_run_group_tests_name("seed_json", tests, NULL, NULL);
}
