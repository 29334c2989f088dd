/* cmd_migrations.h: what the migrations commands (run, revert, repair, show, validate) share:
 * their options, parsed and opened in one step. */
#ifndef STRATA_CLI_CMD_MIGRATIONS_H
#define STRATA_CLI_CMD_MIGRATIONS_H

#include "cli/cli.h"

struct migrations_opts {
	struct cli_run_args run; /* --dir, the run options */
	bool json, exit_code;    /* show */
	const char *dump_schema; /* run: write the schema here after it (--dump-schema) */
	bool check_drift;        /* run: the drift check first (--check-drift) */
};

/* Parses the command's options, then opens its session (cli_session_open): the database only
 * to read it when the command only reads (show, validate) or the run is a dry run. Returns -1
 * to go on, else an exit code (after --help, a usage error or an error opening). Close s
 * whatever it returns. */
int cmd_migrations_start(struct cli_ctx *ctx, int argc, char **argv, bool reads_only,
                         struct migrations_opts *o, struct cli_session *s);

#endif
