/* test_text.c: UTF-8 checks, line:column mapping and SHA-256 (src/util/text.c). */
#include "unit.h"

#include "util/text.h"

/* valid(s) with an explicit length, so strings may hold NUL bytes */
static bool valid_n(const char *s, size_t len, size_t *bad)
{
	*bad = (size_t)-1;
	return strata_utf8_valid(s, len, bad);
}

#define assert_valid(lit)                                                                          \
	do {                                                                                       \
		size_t bad_;                                                                       \
		if (!valid_n(lit, sizeof(lit) - 1, &bad_))                                         \
			fail_msg("'%s' should be valid UTF-8, bad at %zu", #lit, bad_);            \
		assert_int_equal(bad_, (size_t)-1); /* untouched on success */                     \
	} while (0)

#define assert_invalid_at(lit, at)                                                                 \
	do {                                                                                       \
		size_t bad_;                                                                       \
		if (valid_n(lit, sizeof(lit) - 1, &bad_))                                          \
			fail_msg("%s should be invalid UTF-8", #lit);                              \
		assert_int_equal(bad_, (at));                                                      \
	} while (0)

static void test_utf8_good(void **state)
{
	(void)state;
	assert_valid("");
	assert_valid("plain ASCII; select 1;\n");
	assert_valid("\x00\x7F");         /* NUL and DEL are ASCII */
	assert_valid("caf\xC3\xA9");      /* U+00E9 */
	assert_valid("\xC2\x80");         /* U+0080, smallest 2-byte */
	assert_valid("\xDF\xBF");         /* U+07FF */
	assert_valid("\xE0\xA0\x80");     /* U+0800, smallest 3-byte */
	assert_valid("\xE2\x82\xAC");     /* U+20AC euro */
	assert_valid("\xED\x9F\xBF");     /* U+D7FF, just below the surrogates */
	assert_valid("\xEE\x80\x80");     /* U+E000, just above them */
	assert_valid("\xEF\xBB\xBF");     /* U+FEFF (BOM) */
	assert_valid("\xEF\xBF\xBF");     /* U+FFFF */
	assert_valid("\xF0\x90\x80\x80"); /* U+10000, smallest 4-byte */
	assert_valid("\xF0\x9D\x84\x9E"); /* U+1D11E */
	assert_valid("\xF4\x8F\xBF\xBF"); /* U+10FFFF, the last code point */
	assert_valid("a\xC3\xA9"
	             "b\xE2\x82\xAC"
	             "c\xF0\x9F\x98\x80"
	             "d");
}

static void test_utf8_bad(void **state)
{
	(void)state;
	assert_invalid_at("\x80", 0); /* lone continuation byte */
	assert_invalid_at("ab\xBF", 2);
	assert_invalid_at("\xFF", 0);
	assert_invalid_at("\xFE", 0);
	assert_invalid_at("\xF5\x80\x80\x80", 0);     /* lead byte past U+10FFFF */
	assert_invalid_at("\xF8\x88\x80\x80\x80", 0); /* 5-byte form */
	assert_invalid_at("caf\xE9 au lait", 3);      /* Latin-1 e-acute */
	assert_invalid_at("\xC3\x28", 0);             /* lead byte, then no continuation */
	assert_invalid_at("\xE2\x28\xA1", 0);
	assert_invalid_at("\xE2\x82\x28", 0);
	assert_invalid_at("abc\xC3\xA9"
	                  "d\xFF"
	                  "e",
	                  6); /* first bad byte after good ones */
}

static void test_utf8_overlong(void **state)
{
	(void)state;
	assert_invalid_at("\xC0\x80", 0);         /* overlong NUL */
	assert_invalid_at("\xC0\xAF", 0);         /* overlong '/' */
	assert_invalid_at("\xC1\xBF", 0);         /* overlong U+007F */
	assert_invalid_at("\xE0\x80\x80", 0);     /* overlong NUL, 3 bytes */
	assert_invalid_at("\xE0\x80\xAF", 0);     /* overlong '/', 3 bytes */
	assert_invalid_at("\xE0\x9F\xBF", 0);     /* overlong U+07FF */
	assert_invalid_at("\xF0\x80\x80\x80", 0); /* overlong NUL, 4 bytes */
	assert_invalid_at("\xF0\x8F\xBF\xBF", 0); /* overlong U+FFFF */
	assert_invalid_at("ok\xC0\x80", 2);
}

static void test_utf8_surrogates_and_beyond(void **state)
{
	(void)state;
	assert_invalid_at("\xED\xA0\x80", 0);             /* U+D800 */
	assert_invalid_at("\xED\xAD\xBF", 0);             /* U+DB7F */
	assert_invalid_at("\xED\xB0\x80", 0);             /* U+DC00 */
	assert_invalid_at("\xED\xBF\xBF", 0);             /* U+DFFF */
	assert_invalid_at("\xED\xA0\xBD\xED\xB8\x80", 0); /* CESU-8 pair */
	assert_invalid_at("x\xF4\x90\x80\x80", 1);        /* U+110000 */
	assert_invalid_at("\xF7\xBF\xBF\xBF", 0);         /* U+1FFFFF */
}

static void test_utf8_truncated(void **state)
{
	size_t bad = 0;
	(void)state;
	assert_invalid_at("\xC3", 0);
	assert_invalid_at("ab\xE2\x82", 2);
	assert_invalid_at("ab\xE2", 2);
	assert_invalid_at("\xF0\x9D\x84", 0);
	assert_invalid_at("x\xF0", 1);
	/* the length is what counts, not a NUL: a 2-byte char cut by len is truncated */
	assert_false(strata_utf8_valid("\xC3\xA9", 1, &bad));
	assert_int_equal(bad, 0);
	assert_true(strata_utf8_valid("a\xC3\xA9", 1, &bad));
	/* bad_out is optional */
	assert_false(strata_utf8_valid("\xFF", 1, NULL));
}

static void linecol(const char *s, size_t off, unsigned line, unsigned col, size_t start)
{
	unsigned l = 0, c = 0;
	size_t ls = (size_t)-1;
	strata_text_linecol(s, off, &l, &c, &ls);
	if (l != line || c != col || ls != start)
		fail_msg("offset %zu: got %u:%u (line at %zu), expected %u:%u (line at %zu)", off,
		         l, c, ls, line, col, start);
}

static void test_linecol_basic(void **state)
{
	const char *s = "abc\ndef\n\nxyz";
	unsigned l = 0, c = 0;
	(void)state;
	linecol(s, 0, 1, 1, 0);
	linecol(s, 2, 1, 3, 0);
	linecol(s, 3, 1, 4, 0); /* the '\n' itself is on line 1 */
	linecol(s, 4, 2, 1, 4);
	linecol(s, 6, 2, 3, 4);
	linecol(s, 8, 3, 1, 8); /* the empty line */
	linecol(s, 9, 4, 1, 9);
	linecol(s, 11, 4, 3, 9);
	linecol(s, 12, 4, 4, 9);  /* the end of the text */
	linecol(s, 500, 4, 4, 9); /* past the end stops at the NUL */
	/* line_start_out is optional */
	strata_text_linecol(s, 5, &l, &c, NULL);
	assert_int_equal(l, 2);
	assert_int_equal(c, 2);
}

static void test_linecol_crlf(void **state)
{
	const char *s = "ab\r\ncd\r\n\r\nef";
	(void)state;
	linecol(s, 1, 1, 2, 0);
	linecol(s, 2, 1, 3, 0); /* the '\r' */
	linecol(s, 3, 1, 3, 0); /* the '\n' of a CR LF: the CR is not a column */
	linecol(s, 4, 2, 1, 4);
	linecol(s, 5, 2, 2, 4);
	linecol(s, 8, 3, 1, 8);
	linecol(s, 10, 4, 1, 10);
	linecol(s, 11, 4, 2, 10);
}

static void test_linecol_counts_characters_not_bytes(void **state)
{
	/* "héllo wörld": é and ö are 2 bytes each */
	const char *s = "h\xC3\xA9llo w\xC3\xB6rld\n\xE2\x82\xAC\xF0\x9F\x98\x80x";
	(void)state;
	linecol(s, 1, 1, 2, 0);  /* é */
	linecol(s, 3, 1, 3, 0);  /* the first l */
	linecol(s, 8, 1, 8, 0);  /* ö */
	linecol(s, 10, 1, 9, 0); /* r */
	/* line 2: € (3 bytes), 😀 (4 bytes), x */
	linecol(s, 14, 2, 1, 14);
	linecol(s, 17, 2, 2, 14);
	linecol(s, 21, 2, 3, 14);
}

static void test_linecol_tab_is_one_column(void **state)
{
	const char *s = "\tx\n\t\ty";
	(void)state;
	linecol(s, 1, 1, 2, 0);
	linecol(s, 5, 2, 3, 3);
}

static void test_char_to_byte(void **state)
{
	const char *s = "h\xC3\xA9llo"; /* h é l l o: 6 bytes, 5 chars */
	const char *t = "\xF0\x9F\x98\x80"
	                "a\xE2\x82\xAC"; /* 😀 a €: 8 bytes, 3 chars */
	(void)state;
	assert_int_equal(strata_utf8_char_to_byte(s, 6, 0), 0);
	assert_int_equal(strata_utf8_char_to_byte(s, 6, 1), 1);
	assert_int_equal(strata_utf8_char_to_byte(s, 6, 2), 3);
	assert_int_equal(strata_utf8_char_to_byte(s, 6, 4), 5);
	assert_int_equal(strata_utf8_char_to_byte(s, 6, 5), 6);
	assert_int_equal(strata_utf8_char_to_byte(s, 6, 99), 6); /* clamped */
	assert_int_equal(strata_utf8_char_to_byte(t, 8, 1), 4);
	assert_int_equal(strata_utf8_char_to_byte(t, 8, 2), 5);
	assert_int_equal(strata_utf8_char_to_byte(t, 8, 3), 8);
	assert_int_equal(strata_utf8_char_to_byte(t, 3, 1), 3); /* clamped to len mid-char */
	assert_int_equal(strata_utf8_char_to_byte("", 0, 3), 0);
}

static void sha(char out[65], const char *s, size_t len)
{
	memset(out, 'X', 65);
	assert_int_equal(strata_sha256_text(out, s, len), 0);
	assert_int_equal(out[64], '\0');
}

static void test_sha256_vectors(void **state)
{
	char out[65];
	(void)state;
	sha(out, "", 0);
	assert_string_equal(out,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha(out, "abc", 3);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha(out, "abc\n", 4);
	assert_string_equal(out,
	                    "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb");
	/* only len bytes count */
	sha(out, "abcdef", 3);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_crlf_equals_lf(void **state)
{
	char lf[65], crlf[65], other[65];
	const char *a =
	    "-- migrate:up\ncreate table t (id int);\n\n-- migrate:down\ndrop table t;\n";
	const char *b = "-- migrate:up\r\ncreate table t (id int);\r\n\r\n-- migrate:down\r\n"
	                "drop table t;\r\n";
	(void)state;
	sha(lf, a, strlen(a));
	sha(crlf, b, strlen(b));
	assert_string_equal(lf, crlf);
	/* the CRLF form of "abc\n" sums as "abc\n" */
	sha(crlf, "abc\r\n", 5);
	assert_string_equal(crlf,
	                    "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb");
	/* a lone CR is content, not a line end */
	sha(other, "a\rb", 3);
	assert_string_equal(other,
	                    "af9081672dd5ef3247a30c2db5b0dafcc9bcf981a26aefb3c55d210d43fcc14e");
	/* a CR at the very end stays too */
	sha(other, "abc\r", 4);
	assert_string_not_equal(other,
	                        "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb");
	assert_string_not_equal(other,
	                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* a different text sums differently */
	sha(other, a, strlen(a) - 1);
	assert_string_not_equal(other, lf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_good),
	    cmocka_unit_test(test_utf8_bad),
	    cmocka_unit_test(test_utf8_overlong),
	    cmocka_unit_test(test_utf8_surrogates_and_beyond),
	    cmocka_unit_test(test_utf8_truncated),
	    cmocka_unit_test(test_linecol_basic),
	    cmocka_unit_test(test_linecol_crlf),
	    cmocka_unit_test(test_linecol_counts_characters_not_bytes),
	    cmocka_unit_test(test_linecol_tab_is_one_column),
	    cmocka_unit_test(test_char_to_byte),
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_sha256_crlf_equals_lf),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
