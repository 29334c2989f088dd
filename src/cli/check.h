/* check.h: what build and lint share: their options (one parser; each command's table lists its
 * own) and how the config settles what they did not give. */
#ifndef STRATA_CLI_CHECK_H
#define STRATA_CLI_CHECK_H

#include "cli/cli.h"

enum {
	CHECK_SRC = 256,
	CHECK_OUT,
	CHECK_DIALECT,
	CHECK_STRICT,
	CHECK_ENABLE,
	CHECK_BASE,
	CHECK_FORMAT,
	CHECK_LIST_RULES,
};

/* clang-format off */
#define CHECK_SRC_OPT {"src", CHECK_SRC, "DIR", "authored migrations (default: src/migrations)", false}
#define CHECK_BASE_OPT {"base", CHECK_BASE, "DIR", "SQLite: check on top of the migrations in DIR (another source's: the core's); repeatable (default: \"base_dirs\" in strata.json)", true}
/* clang-format on */

enum check_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_MARKDOWN };

struct check_opts {
	const char *src, *out; /* --src, --out, else the config's */
	const char *named;     /* --dialect, else the config's "dialect", else NULL */
	const char *base[CLI_MAX_DIRS];
	size_t nbase;
	strata_build_options bo; /* dialect, strict, enable, base_dirs */
	enum check_format format;
	bool list; /* lint --list-rules */
	cli_config cfg;
	bool loaded;
	bool paths_given; /* --src or --out: the config's "sources" are not used */
};

/* Parses build's or lint's options; unless --list-rules, loads the config and settles src, out,
 * the base directories and the dialect (cli_dialect). Returns -1 to go on, else an exit code.
 * Call check_end whatever it returns. */
int check_start(struct cli_ctx *ctx, int argc, char **argv, struct check_opts *o);
void check_end(struct check_opts *o);
/* After a failed check: the dialect hint (cli_dialect_hint). */
void check_hint(const struct check_opts *o, strata_error *e);

#endif
