/*
 * fuzz_config.c: libFuzzer target for where the database comes from: URLs
 * (src/core/dburl.c: parse, mask, scrub), .env text (cli_dotenv_get) and the project config
 * strata.json (cli_config_load, through a file in a private directory).
 *
 * Input: up to three parts separated by NUL bytes: a URL, .env text, strata.json text. After a
 * URL parses, its password (if any) must not survive masking or scrubbing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "core/dburl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], cfg_path[96];

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	for (const char *p = strstr(hay, needle); p; p = strstr(p + nl, needle))
		n++;
	return n;
}

static void check_url(const char *url)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_dburl u = {0};
	char *masked = strata_dburl_mask(url);

	if (strata_dburl_parse(&u, url, &e) == 0) {
		/* masking removes at least one copy of the password (others may be the host) */
		if (u.password && *u.password && !strchr(u.password, '*') &&
		    count(u.display, u.password) >= count(url, u.password))
			abort();
		/* scrubbing a text that is just the URL masks what the URL mask masks (for a URL
		 * with nothing that ends a password early in free text) */
		if (masked && strlen(url) < 400 && !strpbrk(url, " \t\r\n\"'`<>()")) {
			char big[2048]; /* room for every mask to grow its text */
			snprintf(big, sizeof(big), "%s", url);
			strata_dburl_scrub(&u, big, sizeof(big));
			if (strcmp(big, masked) != 0)
				abort();
		}
		strata_dburl_free(&u);
	}
	free(masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *parts[3] = {"", "", ""}, *p;
	strata_error e = STRATA_ERROR_INIT;
	cli_config c;
	char *v = NULL;
	FILE *f;
	int n = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; n < 3; n++) {
		parts[n] = p;
		p += strlen(p);
		if (p >= buf + size)
			break;
		p++;
	}
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/strata-fuzz-config.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(cfg_path, sizeof(cfg_path), "%s/strata.json", dir);
		unsetenv("DATABASE_URL");
	}
	check_url(parts[0]);
	if (cli_dotenv_get(&v, parts[1], "DATABASE_URL", &e) == 0 && v)
		check_url(v);
	free(v);
	f = fopen(cfg_path, "w");
	if (f) {
		fputs(parts[2], f);
		fclose(f);
		strata_error_clear(&e);
		if (cli_config_load(&c, cfg_path, NULL, &e) == 0) {
			check_url(c.database_url);
			cli_config_free(&c);
		}
	}
	free(buf);
	return 0;
}
