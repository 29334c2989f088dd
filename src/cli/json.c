/* json.c: see json.h. */
#include "cli/json.h"

#include <stdio.h>
#include <string.h>

yajl_gen cli_json_open(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
	}
	return g;
}

void cli_json_flush(yajl_gen g, size_t at_least)
{
	const unsigned char *buf;
	size_t len;
	if (g && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok && len && len >= at_least) {
		fwrite(buf, 1, len, stdout);
		yajl_gen_clear(g);
	}
}

void cli_json_str(yajl_gen g, const char *s)
{
	if (s)
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
	else
		yajl_gen_null(g);
}

void cli_json_kv(yajl_gen g, const char *key, const char *value)
{
	cli_json_str(g, key);
	cli_json_str(g, value);
}

void cli_json_int(yajl_gen g, const char *key, long long value)
{
	cli_json_str(g, key);
	yajl_gen_integer(g, value);
}

void cli_json_error(yajl_gen g, const strata_error *e)
{
	cli_json_kv(g, "error", e->msg);
	cli_json_kv(g, "error_file", e->file[0] ? e->file : NULL);
	cli_json_int(g, "error_line", (long long)e->line);
	cli_json_int(g, "error_column", (long long)e->column);
}

void cli_json_end_listing(yajl_gen g, const strata_error *e)
{
	yajl_gen_array_close(g);
	cli_json_error(g, e);
	yajl_gen_map_close(g);
	cli_json_close(g);
}

void cli_json_close(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	if (!g)
		return;
	/* (after cli_json_flush the buffer may hold nothing: the newline went out with the rest) */
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		fwrite(buf, 1, len, stdout);
		if (len == 0 || buf[len - 1] != '\n') /* beautified yajl output ends with one */
			fputc('\n', stdout);
	}
	fflush(stdout);
	yajl_gen_free(g);
}
