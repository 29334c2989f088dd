/* cmd_migrations.h: what the migrations commands (run, revert, repair, show, validate) share: their
 * options and the session each opens (config, migrations, database). */
#ifndef STRATA_CLI_CMD_MIGRATIONS_H
#define STRATA_CLI_CMD_MIGRATIONS_H

#include "cli/cli.h"

struct migrations_opts {
	const char *dirs[CLI_MAX_DIRS];
	size_t ndirs;          /* 0: the project's build */
	strata_run_options ro; /* what the options set; the rest from the config and defaults */
	struct cli_given given;
	int json, exit_code; /* show */
};

struct migrations_session {
	cli_config cfg;
	bool loaded;
	strata_source *src;
	strata_db *db;
};

/* Parses the options of any of the migrations commands; returns -1 to go on, else an exit code. */
int cmd_migrations_parse(struct cli_ctx *ctx, int argc, char **argv, struct migrations_opts *o);
/* Loads the config, resolves the run settings, reads the migrations and opens the database
 * (flags: STRATA_DB_*). Prints any error; returns an exit code. Close s whatever it returns. */
int cmd_migrations_open(struct cli_ctx *ctx, struct migrations_opts *o, unsigned db_flags,
                        struct migrations_session *s);
void cmd_migrations_close(struct migrations_session *s);

#endif
