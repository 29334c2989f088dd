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

/* 3 and 4: migrations show --exit-code; 5: schema check found drift; 6: migrations test found a
 * migration that does not revert cleanly; 7: a replica stayed behind (--replica-wait-timeout);
 * 128 + the signal when interrupted */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_PENDING = 3,
	EXIT_UNFINISHED = 4,
	EXIT_DRIFT = 5,
	EXIT_IRREVERSIBLE = 6,
	EXIT_REPLICA = 7, /* --max-replica-lag: a replica stayed behind past the wait timeout */
};

#define CLI_MAX_DIRS 64
#define CLI_MAX_ENV_FILES 16

struct cli_ctx {
	const char *database_url;                 /* --database-url */
	const char *config_path;                  /* --config */
	const char *env_files[CLI_MAX_ENV_FILES]; /* --env-file, in order (instead of ./.env) */
	size_t nenv_files;
	int verbose, quiet;
	/* stdout carries a JSON document (--json, --format json): progress and -v lines go to
	 * stderr, so that what is piped on is the document alone */
	bool json_stdout;
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
	bool print_planned; /* a dry run's steps (STEP_PLANNED) are printed, SQL and all */
	/* migrations test: each entry (TESTED) as its test ends */
	void (*on_tested)(struct cli_ctx *ctx, const strata_test_entry *t);
	void *tested_ud;
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

/* Parsing a command's arguments: cli_parse runs getopt_long over the command's option table (and
 * --help), handing each option to the command's `take`, which stores it or prints a usage error
 * and returns EXIT_USAGE. cli_parse returns -1 to go on (the arguments that are not options are
 * argv[optind..argc)), EXIT_OK after printing help, or EXIT_USAGE. An option with a value may be
 * given once, unless the table marks it `many`. */
typedef int (*cli_take_fn)(struct cli_ctx *ctx, int key, const char *arg, void *ud);
int cli_parse(struct cli_ctx *ctx, int argc, char **argv, cli_take_fn take, void *ud);
/* Prints "strata CMD: MSG" and the --help pointer; returns EXIT_USAGE. */
int cli_usage_error(const struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_print_help(const struct cmd *c);
/* The global options, for help and the man page. */
extern const struct cli_opt cli_global_opts[];

/* "30s", "500ms", "2m", "1h", "0". Any other number needs its unit: a bare 5000 would be
 * milliseconds to a PostgreSQL user and seconds to others. */
int cli_parse_duration(const char *s, int *ms_out);
/* Digits only. */
bool cli_is_uint(const char *s);
/* Digits only, and at least one: a version. */
bool cli_is_version(const char *s);

/* Loads the config; prints any error. Returns an exit code. */
int cli_load(struct cli_ctx *ctx, cli_config *cfg);

/* ---- what the commands that run migrations share (migrations *, seed) ------------------- */

enum {
	CLI_KEY_DIR = 900,
	CLI_KEY_DRY_RUN,
	CLI_KEY_LOCK_WAIT,
	CLI_KEY_LOCK_STRATEGY,
	CLI_KEY_LOCK_TTL,
	CLI_KEY_LOCK_TIMEOUT,
	CLI_KEY_STATEMENT_TIMEOUT,
	CLI_KEY_LOCK_RETRIES,
	CLI_KEY_MAX_REPLICA_LAG,
	CLI_KEY_REPLICA_WAIT_TIMEOUT,
};
/* clang-format off */
#define CLI_DIR_OPT {"dir", CLI_KEY_DIR, "DIR", "read migrations from DIR (repeatable; default: the sources of strata.json, else dist/migrations)", true}
#define CLI_LOCK_OPTS \
	{"lock-wait", CLI_KEY_LOCK_WAIT, "DURATION", "wait at most this long for another runner (default: 60s)", false}, \
	{"lock-strategy", CLI_KEY_LOCK_STRATEGY, "advisory|table", "PostgreSQL: a session advisory lock (default), or a lock row that works through PgBouncer", false}, \
	{"lock-ttl", CLI_KEY_LOCK_TTL, "DURATION", "table lock: it expires this long after its runner stops renewing it (default: 30s)", false}
#define CLI_TIMEOUT_OPTS \
	{"lock-timeout", CLI_KEY_LOCK_TIMEOUT, "DURATION", "PostgreSQL: give up a statement's lock wait after this (default: 5s; 0: never)", false}, \
	{"statement-timeout", CLI_KEY_STATEMENT_TIMEOUT, "DURATION", "PostgreSQL: cancel a statement after this (default: 0, never)", false}, \
	{"lock-retries", CLI_KEY_LOCK_RETRIES, "N", "retry a migration that hit the lock timeout N times, with backoff (default: 3)", false}
#define CLI_REPLICA_OPTS \
	{"max-replica-lag", CLI_KEY_MAX_REPLICA_LAG, "DURATION", "PostgreSQL: after each migration commits, wait until every replica has replayed it or lags less than this (default: 0, do not wait)", false}, \
	{"replica-wait-timeout", CLI_KEY_REPLICA_WAIT_TIMEOUT, "DURATION", "... giving up after this long: exit 7, what committed stays applied (default: 5m)", false}
/* clang-format on */

/* Which run settings an option gave (the others come from the config, else the library). */
struct cli_given {
	bool lock_timeout, statement_timeout, lock_strategy, lock_ttl;
	bool max_replica_lag, replica_wait_timeout;
};

/* The shared options as parsed: the directories, and the run options (the library's defaults
 * until an option sets one). */
struct cli_run_args {
	const char *dirs[CLI_MAX_DIRS];
	size_t ndirs; /* 0: the project's build */
	strata_run_options ro;
	struct cli_given given;
};

void cli_run_args_init(struct cli_run_args *a);
/* Takes one of the shared options (CLI_KEY_*): EXIT_OK, or EXIT_USAGE after a usage error;
 * CLI_NOT_SHARED when key is not one of them. */
enum { CLI_NOT_SHARED = -1 };
int cli_run_arg(const struct cmd *c, int key, const char *arg, struct cli_run_args *a);

/* What such a command holds while it runs. */
struct cli_session {
	cli_config cfg;
	bool loaded;
	strata_source *src;
	strata_db *db;
};

/* Loads the config, fills the run settings no option gave from it (timeouts, lock strategy and
 * ttl), reads the migrations (with_source: each --dir, else the project's build) and opens the
 * database (flags: STRATA_DB_*) with the event printer, watching for SIGINT and SIGTERM. Prints
 * any error; returns an exit code. Close s whatever it returns. */
int cli_session_open(struct cli_ctx *ctx, struct cli_run_args *a, bool with_source,
                     unsigned db_flags, struct cli_session *s);
void cli_session_close(struct cli_session *s);

#endif
