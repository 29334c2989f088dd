/*
 * cli.h: what every subcommand shares: the context of global options, the command and option
 * tables (help is generated from them), option parsing, and opening the project's database and
 * migrations through the library. The command is the library's first client: it includes
 * strata.h and its own headers only, and only it prints or picks exit codes.
 */
#ifndef STRATA_CLI_CLI_H
#define STRATA_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "cli/config.h"
#include "strata.h"

/* 3 and 4: migrations show --exit-code; 128 + the signal when interrupted */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_PENDING = 3, EXIT_UNFINISHED = 4 };

#define CLI_MAX_DIRS 64

struct cli_ctx {
	const char *database_url; /* --database-url */
	const char *config_path;  /* --config */
	int verbose, quiet;
	int wait_ms;           /* --wait/--wait-timeout: retry connecting this long; 0: once */
	const struct cmd *cmd; /* the running command */
	/* what the event printer needs to know of the command */
	const char *verb; /* "applied", "reverted", "recorded" */
	size_t ndirs;     /* how many directories it reads */
	double lock_ms;   /* -v: the lock's time, printed with the history's */
	bool lock_pending;
	const char *display; /* the database, password masked */
	const void *opts;    /* the command's parsed options, for announce */
	/* called on the first migration's start, to say what the run is about to do */
	void (*announce)(struct cli_ctx *ctx, const strata_event *ev);
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
/* The global options, for help and the man page. */
extern const struct cli_opt cli_global_opts[];

/* The lock options that migrations run/revert/repair and seed share: keys, table entries, parser.
 */
enum { CLI_KEY_LOCK_WAIT = 900, CLI_KEY_LOCK_STRATEGY, CLI_KEY_LOCK_TTL };
/* clang-format off */
#define CLI_LOCK_OPTS \
	{"lock-wait", CLI_KEY_LOCK_WAIT, "DURATION", "wait at most this long for another runner (default: 60s)", false}, \
	{"lock-strategy", CLI_KEY_LOCK_STRATEGY, "advisory|table", "PostgreSQL: a session advisory lock (default), or a lock row that works through PgBouncer", false}, \
	{"lock-ttl", CLI_KEY_LOCK_TTL, "DURATION", "table lock: it expires this long after its runner stops renewing it (default: 30s)", false}
/* clang-format on */

/* What a run needs from options, else the config, else the library's defaults: every field
 * of o that an option set stays; the rest come from the config (timeouts, strategy, ttl).
 * `given` says which the options set. Prints a config error naming the key and returns
 * EXIT_FAIL on a bad value in the config, else EXIT_OK. */
struct cli_given {
	bool lock_timeout, statement_timeout, lock_strategy, lock_ttl;
};
int cli_lock_opt(const struct cmd *c, int key, const char *arg, strata_run_options *o,
                 struct cli_given *given);
int cli_resolve_run_settings(const cli_config *cfg, strata_run_options *o,
                             const struct cli_given *given);

/* "30s", "500ms", "2m", "1h", "0". Any other number needs its unit: a bare 5000 would be
 * milliseconds to a PostgreSQL user and seconds to others. */
int cli_parse_duration(const char *s, int *ms_out);
/* Digits only. */
bool cli_is_uint(const char *s);
/* Digits only, and at least one: a version. */
bool cli_is_version(const char *s);

/* Loads the config; prints any error. Returns an exit code. */
int cli_load(struct cli_ctx *ctx, cli_config *cfg);
/* Opens the config's database with the event printer, and watches for SIGINT and SIGTERM;
 * prints any error. flags are STRATA_DB_*. Returns an exit code. */
int cli_open_db(struct cli_ctx *ctx, const cli_config *cfg, unsigned flags, strata_db **out);
/* Stops watching for signals, then closes db. NULL-safe. */
void cli_close_db(strata_db *db);
/* The migrations: each --dir, or else the project's build (dist_dir, built from src_dir).
 * Prints any error. Returns an exit code. */
int cli_source(struct cli_ctx *ctx, const cli_config *cfg, const char *const *dirs, size_t ndirs,
               strata_source **out);
/* Prints "bad value for KEY in the config" and returns EXIT_FAIL. */
int cli_config_error(const cli_config *cfg, const char *key, const char *value);
/* A check of SQL at build or lint failed: when the migrations were read as SQLite only because
 * nothing named a dialect (no option, no "dialect", no URL), says how to read them as
 * PostgreSQL. `named` is the dialect the user gave, or NULL. */
void cli_dialect_hint(strata_error *e, strata_dialect d, const char *named, const cli_config *cfg);
/* The dialect build and lint read migrations as: `named` (--dialect or "dialect"), else the
 * database URL's engine (never connected to), else SQLite. Prints any error; exit code. */
int cli_dialect(const struct cli_ctx *ctx, const char *named, const cli_config *cfg,
                strata_dialect *out);

#endif
