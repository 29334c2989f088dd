/*
 * env.h: the variables the command reads: the process environment, the env files (./.env, or
 * each --env-file, in order), ${VAR} expansion in their values and in strata.json, and NAME_FILE
 * for secrets. (The library reads no environment: only the command does, here and in config.c.)
 *
 * An env file is lines of NAME=VALUE, optionally after 'export ', and '#' comments. VALUE is
 * '…' (literal, no expansion), "…" (expanded) or unquoted (expanded; ' #' starts a comment;
 * outer white space is trimmed). Expansion:
 *   ${NAME}            NAME's value; NAME not set is an error (file:line:col of the '${')
 *   ${NAME:-DEFAULT}   NAME's value, else DEFAULT (expanded too) when NAME is unset or empty
 *   $$                 one literal '$'
 * and any other '$' is an error. NAME is looked up in the process environment first, then in
 * the assignments before it: above it in its file, and in the env files read before. The
 * process environment wins over every env file; a later assignment over an earlier one. A value
 * is expanded only when strata uses it, so lines of the file meant for other tools are never
 * checked. Values from the process environment (and NAME_FILE files) are taken as they are.
 */
#ifndef STRATA_CLI_ENV_H
#define STRATA_CLI_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "strata.h"

typedef struct cli_env cli_env;

/* An empty set of env files (the process environment only). */
int cli_env_new(cli_env **out, strata_error *e);
/* Reads each of files (nfiles of them; each must exist), in order; with none, default_file when
 * it exists (default_file may be NULL). */
int cli_env_load(cli_env **out, const char *const *files, size_t nfiles, const char *default_file,
                 strata_error *e);
/* Adds the assignments of one env file's text, named file in messages. */
int cli_env_add_text(cli_env *env, const char *text, const char *file, strata_error *e);
void cli_env_free(cli_env *env);

/* text with its ${VAR} expanded, every variable of the env files visible (the process
 * environment first). On an error, *at is the offset in text of what is wrong, and e names file
 * (file may be NULL) but no line: the caller knows where text sits. */
int cli_env_expand(cli_env *env, const char *text, const char *file, size_t *at, char **out,
                   strata_error *e);

/* Where cli_env_secret found a value. */
typedef struct cli_env_origin {
	const char *file; /* the env file that set it (borrowed from env); NULL: the environment */
	unsigned line;
	bool via_file; /* NAME_FILE was set: the value is that file's contents */
} cli_env_origin;

/* NAME's value (the caller frees it; NULL when NAME and NAME_FILE are set nowhere). The process
 * environment wins over the env files; at each of those two levels NAME is the value, and
 * NAME_FILE names a file holding it (trailing newlines trimmed; an empty or unreadable file is an
 * error). Both set at one level is an error. The value may be empty (the caller decides). */
int cli_env_secret(cli_env *env, const char *name, char **out, cli_env_origin *from,
                   strata_error *e);

/* Reads KEY's value from a .env file's text into *out (caller frees); STRATA_ENOTFOUND if absent.
 * Lines are KEY=VALUE, optionally 'export ', with '…' or "…" quotes and # comments. The value is
 * as written (not expanded). */
int cli_dotenv_get(char **out, const char *text, const char *key, strata_error *e);

#endif
