/*
 * cli.h: what every subcommand shares: the context of global options, the command and option
 * tables (help is generated from them), option parsing, and opening the project and database.
 * Only src/cli/ prints or picks exit codes.
 */
#ifndef STRATA_CLI_CLI_H
#define STRATA_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "backend/backend.h"
#include "core/config.h"
#include "core/dburl.h"
#include "core/integrity.h"
#include "core/sqlcheck.h"

/* 3 and 4: migrations show --exit-code */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_PENDING = 3, EXIT_UNFINISHED = 4 };

#define CLI_MAX_DIRS 64
#define CLI_DEFAULT_LOCK_WAIT_MS (60 * 1000)
#define CLI_DEFAULT_LOCK_TIMEOUT_MS (5 * 1000)
#define CLI_DEFAULT_LOCK_RETRIES 3
#define CLI_DEFAULT_LOCK_TTL_MS (30 * 1000)

struct cli_ctx {
	const char *database_url; /* --database-url */
	const char *config_path;  /* --config */
	int verbose, quiet;
	int wait_ms;           /* --wait/--wait-timeout: retry connecting this long; 0: once */
	const struct cmd *cmd; /* the running command */
};

struct cli_opt {
	const char *name; /* long name */
	int key;          /* the short letter, or a value >= 256 for long-only options */
	const char *arg;  /* the argument's name in help; NULL for a flag */
	const char *help;
	bool many; /* may be given more than once (--dir); any other option with a value once */
};

struct cmd {
	const char *name; /* "migrations run" */
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *usage;   /* what follows the name in the synopsis */
	const char *summary; /* one line, for the command list */
	const char *details; /* more help, or NULL */
	const struct cli_opt *opts;
	bool connects; /* works on the database (Ctrl-C and SIGTERM roll back, exit 130/143) */
};

extern const struct cmd cli_cmds[]; /* ends with { 0 } */

/* getopt_long over a command's option table. */
typedef struct cli_parser {
	struct option longopts[32];
	char shortopts[80];
	char prog[64];
	const struct cmd *cmd;
	bool seen[32]; /* per option of the table: given already */
} cli_parser;

enum { CLI_OPT_END = -1, CLI_OPT_HELP = -2, CLI_OPT_BAD = -3 };

void cli_parser_init(cli_parser *p, const struct cmd *c, int argc, char **argv);
/* The next option's key, CLI_OPT_END, CLI_OPT_HELP (help was printed) or CLI_OPT_BAD (a
 * message was printed). optarg holds the argument. */
int cli_next(cli_parser *p, int argc, char **argv);
/* Prints "strata CMD: MSG" and the --help pointer; returns EXIT_USAGE. */
int cli_usage_error(const struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_print_help(const struct cmd *c);

/* The lock options that migrations run/revert/repair and seed share: keys, table entries, parser.
 */
enum { CLI_KEY_LOCK_WAIT = 900, CLI_KEY_LOCK_STRATEGY, CLI_KEY_LOCK_TTL };
/* clang-format off */
#define CLI_LOCK_OPTS \
	{"lock-wait", CLI_KEY_LOCK_WAIT, "DURATION", "wait at most this long for another runner (default: 60s)", false}, \
	{"lock-strategy", CLI_KEY_LOCK_STRATEGY, "advisory|table", "PostgreSQL: a session advisory lock (default), or a lock row that works through PgBouncer", false}, \
	{"lock-ttl", CLI_KEY_LOCK_TTL, "DURATION", "table lock: it expires this long after its runner stops renewing it (default: 30s)", false}
/* clang-format on */
/* Parses one of them into its field; prints a usage error and returns -1 on a bad value. */
int cli_lock_opt(const struct cmd *c, int key, const char *arg, int *wait_ms, int *strategy,
                 int *ttl_ms);

/* "30s", "500ms", "2m", "1h", "0". Any other number needs its unit: a bare 5000 would be
 * milliseconds to a PostgreSQL user and seconds to others. */
int cli_parse_duration(const char *s, int *ms_out);
/* Digits only. */
bool cli_is_uint(const char *s);

/* Loads the config and parses the database URL; prints any error. Returns an exit code. */
int cli_load(struct cli_ctx *ctx, strata_config *cfg, strata_dburl *url);
/* When e names a file in the dist directory whose source in the src directory is identical,
 * names the source instead: that is the file the user edits. */
void cli_map_to_src(const strata_config *cfg, strata_error *e);
/* A strata_verify_cb: prints the problem, naming the src file (ud: the strata_config). */
void cli_report_problem(void *ud, const strata_error *e);
/* strata_verify_all, printing each problem with cli_report_problem. A run reads the history
 * brief (STRATA_HISTORY_BRIEF, no dates): when there is a problem to report, it is read again
 * in full first, so the report says when the migration was applied. Returns the number of
 * problems. */
int cli_verify(strata_backend *b, const strata_catalog *c, strata_history *h, bool brief,
               const strata_plan *plan, const strata_verify_opts *vo, bool all,
               const strata_config *cfg);
/* What a run needs that an option, else the config, else a default gives: every field left -1
 * by the options is filled (timeouts in ms, retries, strategy, ttl). Prints a config error naming
 * the key and returns EXIT_FAIL on a bad value in the config, else EXIT_OK. */
struct cli_run_settings {
	int lock_timeout_ms, statement_timeout_ms, lock_retries, lock_strategy, lock_ttl_ms;
};
#define CLI_RUN_SETTINGS_UNSET                                                                     \
	{                                                                                          \
		-1, -1, -1, -1, -1                                                                 \
	}
int cli_resolve_run_settings(const strata_config *cfg, struct cli_run_settings *rs);
/* A check of SQL at build or lint failed: when the migrations were read as SQLite only because
 * nothing named a dialect (no option, no "dialect", no URL), says how to read them as
 * PostgreSQL. `dialect` is a strata_dialect; `named` the dialect the user gave, or NULL. */
void cli_dialect_hint(strata_error *e, int dialect, const char *named, const strata_config *cfg);
/* Prints "bad value for KEY in the config" and returns EXIT_FAIL. */
int cli_config_error(const strata_config *cfg, const char *key, const char *value);
/* Opens the database; prints any error. Returns an exit code. */
int cli_connect(struct cli_ctx *ctx, const strata_dburl *url, unsigned flags, strata_backend **out);

#endif
