/* cmds.h: the subcommands, one file each; main.c's table lists them. */
#ifndef STRATA_CLI_CMDS_H
#define STRATA_CLI_CMDS_H

#include <stdio.h>

#include "cli/cli.h"

/* cmd_migrations.c */
int cmd_migrations_run(struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrations_revert(struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrations_show(struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrations_validate(struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrations_repair(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_migrations_run_opts[], cmd_migrations_revert_opts[],
    cmd_migrations_show_opts[], cmd_migrations_validate_opts[], cmd_migrations_repair_opts[];
/* cmd_adopt.c */
int cmd_migrations_adopt(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_migrations_adopt_opts[];
/* cmd_schema.c */
int cmd_schema_dump(struct cli_ctx *ctx, int argc, char **argv);
int cmd_schema_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_migrations_test(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_schema_dump_opts[], cmd_schema_check_opts[],
    cmd_migrations_test_opts[];
/* Writes db's schema to path (NULL: standard output), warnings to standard error. */
int cli_schema_write(struct cli_ctx *ctx, strata_db *db, bool owners, const char *path);
/* The drift check of db against src, printed; EXIT_DRIFT when they differ. */
int cli_schema_check(struct cli_ctx *ctx, strata_db *db, strata_source *src,
                     const strata_schema_options *so, bool json);
/* cmd_accept.c */
int cmd_migrations_accept(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_migrations_accept_opts[];
/* cmd_fleet.c */
int cmd_fleet_run(struct cli_ctx *ctx, int argc, char **argv);
int cmd_fleet_revert(struct cli_ctx *ctx, int argc, char **argv);
int cmd_fleet_show(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_fleet_run_opts[], cmd_fleet_revert_opts[], cmd_fleet_show_opts[];
/* cmd_migration_create.c */
int cmd_migration_create(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_migration_create_opts[];
/* cmd_build.c */
int cmd_build(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_build_opts[];
/* cmd_lint.c */
int cmd_lint(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_lint_opts[];
/* Each finding as "strata: warning: FILE:LINE:COL: reason [rule]", the source line with a caret,
 * and "hint: fix" (lint prints them to stdout, build to stderr). */
void cli_lint_print(FILE *f, const strata_lint_report *r);
/* man.c: strata(1) in roff, from cli_cmds and cli_global_opts. Returns an exit code. */
int cli_man(FILE *f);
/* cmd_seed.c */
int cmd_seed(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_seed_opts[];

#endif
