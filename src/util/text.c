#include "util/text.h"

#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"

bool strata_utf8_valid(const char *str, size_t len, size_t *bad_out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + n >= len)
			goto bad;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, past U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_out)
		*bad_out = i;
	return false;
}

void strata_text_linecol(const char *s, size_t off, unsigned *line, unsigned *col,
                         size_t *line_start_out)
{
	unsigned l = 1, c = 1;
	size_t start = 0, i = 0;

	if (off >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3; /* a byte-order mark takes no column */
	for (; i < off && s[i]; i++) {
		if (s[i] == '\n') {
			l++;
			c = 1;
			start = i + 1;
		} else if (s[i] == '\r' && s[i + 1] == '\n') {
			continue;
		} else if (((unsigned char)s[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
	if (line_start_out)
		*line_start_out = start;
}

size_t strata_utf8_char_to_byte(const char *s, size_t len, size_t chars)
{
	size_t i = 0;
	while (i < len && chars > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars--;
	}
	return i;
}

int strata_sha256_text(char out[65], const char *data, size_t len)
{
	unsigned char md[32];
	SHA256_CTX ctx;
	size_t from = 0;
	int ok = SHA256_Init(&ctx);

	for (size_t i = 0; ok && i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') {
			ok = SHA256_Update(&ctx, data + from, i - from);
			from = i + 1;
		}
	}
	if (ok)
		ok = SHA256_Update(&ctx, data + from, len - from);
	if (ok)
		ok = SHA256_Final(md, &ctx);
	if (!ok)
		return -1;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

int strata_ascii_casecmp(const char *a, const char *b)
{
	return sqlite3_stricmp(a, b);
}

int strata_ascii_ncasecmp(const char *a, const char *b, size_t n)
{
	return sqlite3_strnicmp(a, b, n > INT_MAX ? INT_MAX : (int)n);
}

static locale_t c_numeric; /* the C locale's LC_NUMERIC, made once; never freed */
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_make(void)
{
	c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

double strata_strtod_c(const char *s, char **end)
{
	pthread_once(&c_numeric_once, c_numeric_make);
	/* without memory for a locale object, the process's: right unless it changed LC_NUMERIC */
	return c_numeric ? strtod_l(s, end, c_numeric) : strtod(s, end);
}
