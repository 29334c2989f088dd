#include "core/dburl.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/text.h"

#define MASK "****"

size_t strata_url_scheme_len(const char *s)
{
	size_t i = 0;
	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

/* The [start, end) of the password in a URL's userinfo, if any. The userinfo is taken to end at
 * the last '@': libpq stops at the first '@' or '/', but a password written with a raw '@', '/',
 * '?' or '#' in it must be masked all the same, and masking too much is harmless. */
static int userinfo_password(const char *url, size_t *start, size_t *end)
{
	const char *auth = strstr(url, "://"), *at, *colon;
	if (!auth)
		return 0;
	auth += 3;
	at = strrchr(auth, '@');
	if (!at)
		return 0;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return 0;
	*start = (size_t)(colon + 1 - url);
	*end = (size_t)(at - url);
	return 1;
}

/* Finds the next "password" parameter or keyword value at or after *from. In free text (`in_text`)
 * an unquoted value also ends at a quote or parenthesis: "dblink('password=pw')". */
static int param_password(const char *s, size_t *from, size_t *start, size_t *end, bool in_text)
{
	for (size_t i = *from; s[i]; i++) {
		size_t j;
		if (strata_ascii_ncasecmp(s + i, "password", 8) != 0)
			continue;
		/* password= and sslpassword=, not some_password= */
		size_t b = i >= 3 && strata_ascii_ncasecmp(s + i - 3, "ssl", 3) == 0 ? i - 3 : i;
		if (b > 0 && (isalnum((unsigned char)s[b - 1]) || s[b - 1] == '_'))
			continue;
		j = i + 8;
		while (s[j] == ' ' || s[j] == '\t')
			j++;
		if (s[j] != '=')
			continue;
		j++;
		while (s[j] == ' ' || s[j] == '\t')
			j++;
		*start = j;
		if (s[j] == '\'') {
			j++;
			while (s[j] && s[j] != '\'') {
				if (s[j] == '\\' && s[j + 1])
					j++;
				j++;
			}
			if (s[j])
				j++;
		} else {
			while (s[j] && s[j] != '&' && s[j] != ' ' && s[j] != '\t' && s[j] != '#' &&
			       !(in_text && strchr("'\"()\r\n", s[j])))
				j++;
		}
		*end = j;
		*from = j;
		return 1;
	}
	return 0;
}

char *strata_dburl_mask(const char *url)
{
	strata_buf a = STRATA_BUF_INIT, b = STRATA_BUF_INIT;
	size_t pos = 0, s, en, from = 0;
	const char *t;

	/* the user-info first, then every password= value wherever it is (even before it) */
	if (userinfo_password(url, &s, &en)) {
		strata_buf_put(&a, url, s);
		strata_buf_puts(&a, MASK);
		strata_buf_puts(&a, url + en);
	} else {
		strata_buf_puts(&a, url);
	}
	t = strata_buf_cstr(&a);
	while (param_password(t, &from, &s, &en, false)) {
		strata_buf_put(&b, t + pos, s - pos);
		strata_buf_puts(&b, MASK);
		pos = en;
	}
	strata_buf_puts(&b, t + pos);
	if (a.failed)
		strata_buf_free(&b);
	strata_buf_free(&a);
	return strata_buf_detach(&b);
}

static char *extract_password(const char *url)
{
	size_t s, en, from = 0;
	if (userinfo_password(url, &s, &en) || param_password(url, &from, &s, &en, false)) {
		if (en > s && url[s] == '\'') {
			s++;
			if (en > s && url[en - 1] == '\'')
				en--;
		}
		if (en > s)
			return strndup(url + s, en - s);
	}
	return NULL;
}

char *strata_url_decode(const char *s)
{
	char *d = malloc(strlen(s) + 1), *w = d;
	if (!d)
		return NULL;
	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], '\0'};
			*w++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return d;
}

int strata_dburl_parse(strata_dburl *out, const char *url, strata_error *e)
{
	int error = 0;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*url))
		url++;
	if (!*url) {
		strata_error_hint(e, "name a database: a postgres:// or sqlite: URL");
		return strata_error_set(e, STRATA_EINVALID, "the database URL is empty");
	}
	out->display = strata_dburl_mask(url);
	out->password = extract_password(url);
	if (!out->display) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if (!(out->engine = strata_engine_for_url(url, &out->target, e)))
		error = e->code ? e->code : STRATA_EINVALID;
done:
	if (error < 0)
		strata_dburl_free(out);
	return error;
}

void strata_dburl_free(strata_dburl *u)
{
	if (!u)
		return;
	free(u->target);
	free(u->display);
	free(u->schema);
	if (u->password)
		memset(u->password, 0, strlen(u->password));
	free(u->password);
	memset(u, 0, sizeof(*u));
}

/* Replaces s[start, end) with the mask in a buffer of `size` bytes (cutting what no longer fits;
 * the NUL always does); returns where the text after the mask now starts. */
static size_t put_mask(char *s, size_t size, size_t start, size_t end)
{
	size_t ml = strlen(MASK), tail = strlen(s + end);
	size_t room = size - start - 1; /* bytes available from start on, before the NUL */
	size_t m = ml < room ? ml : room;
	size_t keep = tail < room - m ? tail : room - m;
	memmove(s + start + m, s + end, keep);
	memcpy(s + start, MASK, m);
	s[start + m + keep] = '\0';
	return start + m;
}

/* The next URL user-info password in free text at or after `from`: in "scheme://user:PW@host",
 * the URL runs to the first blank or quote, and its user-info to the last '@' in it (a raw '@',
 * '/' or '?' in a password still belongs to it). */
static int url_password_in(const char *s, size_t from, size_t *start, size_t *end)
{
	const char *p = s + from;
	while ((p = strstr(p, "://")) != NULL) {
		const char *a = p + 3, *stop = a + strcspn(a, " \t\r\n\"'`<>"), *at = NULL, *colon;
		for (const char *q = a; q < stop; q++)
			if (*q == '@')
				at = q;
		colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
		if (colon) {
			*start = (size_t)(colon + 1 - s);
			*end = (size_t)(at - s);
			return 1;
		}
		p = stop;
	}
	return 0;
}

void strata_dburl_scrub(const strata_dburl *u, char *s, size_t size)
{
	size_t at = 0, ps, pe;
	(void)u;
	if (!s || !size)
		return;
	/* every URL's user-info, then every password= value (as strata_dburl_mask does) */
	while (url_password_in(s, at, &ps, &pe))
		at = put_mask(s, size, ps, pe);
	at = 0;
	while (param_password(s, &at, &ps, &pe, true))
		at = put_mask(s, size, ps, pe);
}

/* u's password as written, and percent-decoded (NULL when that is the same), for
 * strata_dburl_scrub_conninfo. */
static char *decoded_password(const char *pw)
{
	char *d = strata_url_decode(pw);
	if (!d)
		return NULL;
	if (strcmp(d, pw) == 0) {
		free(d);
		return NULL;
	}
	return d;
}

void strata_dburl_scrub_conninfo(const strata_dburl *u, char *s, size_t size)
{
	char *dec;
	size_t at = 0;
	strata_dburl_scrub(u, s, size);
	if (!u || !u->password || !*u->password || !s || !size)
		return;
	dec = decoded_password(u->password);
	/* libpq quotes what it could not read of a connection string ("invalid percent-encoded
	 * token: \"p%zz\"", "missing \"=\" after \"w0rd\""): a quoted piece of the password */
	while (s[at]) {
		char *open = strchr(s + at, '"'), *close;
		size_t n;
		bool part;
		if (!open || !(close = strchr(open + 1, '"')))
			break;
		n = (size_t)(close - open - 1);
		*close = '\0';
		part = n > 0 && (strstr(u->password, open + 1) || (dec && strstr(dec, open + 1)));
		*close = '"';
		if (part)
			at = put_mask(s, size, (size_t)(open + 1 - s), (size_t)(close - s)) + 1;
		else
			at = (size_t)(close + 1 - s);
		if (at >= size || at > strlen(s))
			break;
	}
	free(dec);
}

void strata_dburl_scrub_error(const strata_dburl *u, strata_error *e)
{
	strata_dburl_scrub(u, e->msg, sizeof(e->msg));
	strata_dburl_scrub(u, e->detail, sizeof(e->detail));
	strata_dburl_scrub(u, e->hint, sizeof(e->hint));
	strata_dburl_scrub(u, e->source_line, sizeof(e->source_line));
}

void strata_dburl_scrub_conninfo_error(const strata_dburl *u, strata_error *e)
{
	strata_dburl_scrub_conninfo(u, e->msg, sizeof(e->msg));
	strata_dburl_scrub_conninfo(u, e->detail, sizeof(e->detail));
	strata_dburl_scrub_conninfo(u, e->hint, sizeof(e->hint));
}
