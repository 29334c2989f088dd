/*
 * config.h: where the database and the migrations are, for the command (the library reads no
 * environment and no file it is not given).
 *
 * The database URL comes from the first of: --database-url, the DATABASE_URL environment
 * variable (or DATABASE_URL_FILE), DATABASE_URL (or DATABASE_URL_FILE) in the project's .env
 * file or the --env-file files, "database_url" in the project config (strata.json), and else the
 * embedded SQLite file strata.db in the project directory. ${VAR} expands in env file values and
 * in strata.json's database_url and directories (see cli/env.h).
 *
 * strata.json (all keys optional; relative paths are relative to the file):
 *   { "database_url": "postgres://app@localhost/app",
 *     "src_dir": "src/migrations", "dist_dir": "dist/migrations",
 *     "dialect": "postgres" | "sqlite",            (what build parses migrations as)
 *     "lock_timeout": "5s", "statement_timeout": "0",
 *     "lock_strategy": "advisory" | "table", "lock_ttl": "30s",
 *     "max_replica_lag": "10s", "replica_wait_timeout": "5m",
 *     "require_database_url": true,                 (no SQLite default: a URL is needed)
 *     "base_dirs": ["../core/dist/migrations"],    (what build checks SQLite migrations on)
 *     "sources": ["plugins/x/migrations",           (instead of src_dir/dist_dir: several)
 *                 {"name": "core", "src": "src/migrations", "dist": "dist/migrations"}] }
 *
 * A DATABASE_URL that is set but empty (in the environment or .env) is an error, not "unset":
 * a CI secret that failed to inject must not turn a deploy into a run against a local file.
 */
#ifndef STRATA_CLI_CONFIG_H
#define STRATA_CLI_CONFIG_H

#include "cli/env.h"
#include "strata.h"

#define CLI_CONFIG_FILE "strata.json"
#define CLI_DEFAULT_SQLITE "strata.db"

/* One entry of "sources": a build (src, built into dist) or, src NULL, a directory used as is
 * (dist). Paths are relative to the config's directory. */
typedef struct cli_source {
	char *name; /* as given, else the path as written */
	char *src, *dist;
} cli_source;

typedef struct cli_config {
	char *project_dir;  /* the config file's directory, else "." */
	char *config_path;  /* NULL when there is none */
	char *database_url; /* never NULL after a successful load */
	const char
	    *url_source;      /* "--database-url", "DATABASE_URL", ".env", the config, "default" */
	char *url_source_buf; /* what url_source points to when it names an env file */
	char *src_dir, *dist_dir;
	/* as written in the config file, NULL when absent */
	char *config_url;
	char *dialect; /* "postgres" or "sqlite" */
	char *lock_timeout, *statement_timeout;
	char *lock_strategy, *lock_ttl;               /* "advisory" or "table"; a duration */
	char *max_replica_lag, *replica_wait_timeout; /* durations */
	/* "require_database_url": true: no SQLite default; a run without a URL fails */
	int require_database_url;
	/* "base_dirs": ["../core/dist/migrations"]: what build and lint check SQLite migrations on
	 * top of (relative to the config's directory) */
	char **base_dirs;
	size_t nbase;
	/* "dump_schema": "db/schema.sql": where migrations run writes the schema after a run that
	 * changed something (relative to the config's directory) */
	char *dump_schema;
	/* "sources": every command that reads migrations reads all of them (--dir overrides); build
	 * builds each, checking SQLite ones on top of those listed before; 0: src_dir, dist_dir */
	cli_source *sources;
	size_t nsources;
} cli_config;

/* config_path NULL means ./strata.json when it exists; cli_url NULL means not given. */
int cli_config_load(cli_config *out, const char *config_path, const char *cli_url, strata_error *e);
/* The same, reading the env files env_files (each must exist; see cli/env.h) instead of the
 * project's .env (read when it exists) when nenv > 0. */
int cli_config_load_env(cli_config *out, const char *config_path, const char *cli_url,
                        const char *const *env_files, size_t nenv, strata_error *e);
void cli_config_free(cli_config *c);

#endif
