/*
 * main.c: global options (accepted before or after the command), the command table, dispatch.
 */
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/signals.h"

const struct cmd cli_cmds[] = {
    {.name = "migrations run",
     .connects = true,
     .run = cmd_migrations_run,
     .usage = "[--dir DIR]... [--to VERSION] [--dry-run] [--fake] [--transaction each|all]",
     .summary = "Apply every pending migration, in version order",
     .details = "Each migration runs in its own transaction with its history row, so a failure\n"
                "rolls back that migration only; --transaction all makes the whole run one\n"
                "transaction: a BEGIN, COMMIT or ROLLBACK of a migration's own is refused before\n"
                "the run starts, unless its section is marked transaction:false. Migrations are\n"
                "read from dist/migrations (see 'strata build'). PostgreSQL: a standby (in\n"
                "recovery) is refused before anything is written; --max-replica-lag waits\n"
                "after each commit for the streaming replicas to catch up, and exits 7 when\n"
                "one is still behind after --replica-wait-timeout (what committed stays).",
     .opts = cmd_migrations_run_opts},
    {.name = "migrations revert",
     .connects = true,
     .run = cmd_migrations_revert,
     .usage = "[--steps N | --to VERSION | --all] [--dir DIR]... [--dry-run] [--fake]",
     .summary = "Revert the most recently applied migration (or more)",
     .details = "Runs each migration's '-- migrate:down' section (goose's '-- +goose Down', a\n"
                ".down.sql, a Flyway U file), the most recently applied first (the history's\n"
                "applied_at, ties in the order they were applied), and says so when that is\n"
                "not the highest applied version. --to and --all choose by version. A\n"
                "migration whose down section is empty or missing cannot be reverted (an\n"
                "existing .down.sql, U file or goose Down section with nothing in it undoes\n"
                "nothing); nothing is reverted when any migration in the request cannot be.\n"
                "With --fake (to undo a wrong 'run --fake'), the migrations are only removed\n"
                "from the history, all in one transaction: no down SQL runs, and neither a down\n"
                "section nor the file is needed. It is refused, changing nothing, while a\n"
                "migration is left failed or running, when --to names a version that is not\n"
                "applied, when --steps asks for more than are applied, or when the newest by\n"
                "version are not the last recorded (one applied out of order after them).",
     .opts = cmd_migrations_revert_opts},
    {.name = "migrations show",
     .connects = true,
     .run = cmd_migrations_show,
     .usage = "[--dir DIR]... [--json] [--exit-code]",
     .summary = "List every migration and whether it is applied",
     .details = "Status is 'applied', 'pending', or 'missing' (applied, but its file is in\n"
                "none of the directories). Reads the database; changes nothing. From one\n"
                "build (or one --dir of a build's output), each line is printed as the\n"
                "build manifest and the history are read, so 10,000 migrations take no\n"
                "more memory than ten.",
     .opts = cmd_migrations_show_opts},
    {.name = "migrations validate",
     .connects = true,
     .run = cmd_migrations_validate,
     .usage = "[--dir DIR]...",
     .summary = "Check files against the build manifest, src and the history",
     .details = "Fails (exit 1), naming the file and the fix, when a built file does not match\n"
                "the manifest, the build is older than src/migrations, an applied migration's\n"
                "file changed since it was applied, a transaction:false migration is left\n"
                "failed, or a pending migration is older than the newest applied one of its\n"
                "directory (each directory or source is checked on its own).\n"
                "'migrations run' makes the same checks before it applies anything, but\n"
                "from a build it reads only the files it runs; validate reads every file.",
     .opts = cmd_migrations_validate_opts},
    {.name = "migrations repair",
     .connects = true,
     .run = cmd_migrations_repair,
     .usage = "[--mark-applied] [--dir DIR]...",
     .summary = "Finish a transaction:false migration that failed part-way",
     .details = "After fixing the file (and 'strata build'), resumes the failed migration from\n"
                "the statement that failed. With --mark-applied, after fixing the database by\n"
                "hand, records it as applied without running anything.",
     .opts = cmd_migrations_repair_opts},
    {.name = "migrations adopt",
     .connects = true,
     .run = cmd_migrations_adopt,
     .usage = "[--from TOOL] [--table NAME] [--schema NAME] [--dir DIR]... [--dry-run] [--json]",
     .summary = "Take over a database another tool migrated (TypeORM, dbmate, goose, ...)",
     .details = "Reads the other tool's history from the database (never changing it), matches\n"
                "each entry to a strata migration by the identity that tool uses, and records\n"
                "the matches as applied, in one transaction. It prints each migration adopted,\n"
                "each entry with no strata migration (left alone), and each migration that tool\n"
                "never applied (pending: 'migrations run' applies them next). Refused, changing\n"
                "nothing, when that history is not clean (golang-migrate dirty, a failed Flyway\n"
                "row, a goose version not applied, a held knex lock) or strata's history is not\n"
                "empty. docs/adopt.md says how to switch from each tool.",
     .opts = cmd_migrations_adopt_opts},
    {.name = "migrations test",
     .connects = true,
     .run = cmd_migrations_test,
     .usage = "[--dir DIR]... [--from VERSION] [--shadow-url URL] [--json]",
     .summary = "Check that each migration's down undoes its up, on a scratch database",
     .details = "For each migration in order, on a scratch database (PostgreSQL: one created\n"
                "beside the database and dropped after; SQLite: in memory): dump the schema,\n"
                "apply it, revert it, dump again (it must equal the first), apply it again.\n"
                "Reports each migration whose down does not restore the schema (with the\n"
                "difference), whose down or second up fails, or that has no down; exits 6 if\n"
                "any. The database itself is not changed.",
     .opts = cmd_migrations_test_opts},
    {.name = "fleet run",
     .connects = true,
     .run = cmd_fleet_run,
     .usage = "(--targets FILE | --targets-query SQL | --schemas A,B | --schemas-query SQL) "
              "[--parallel K] [--canary N] [--continue] [--wait-busy] [--shard I/N] [--json]",
     .summary = "Apply pending migrations on many databases or tenant schemas, in parallel",
     .details = "Each target gets what 'migrations run' does, with its own connection and lock,\n"
                "K at a time. A target another runner holds is skipped and reported (busy),\n"
                "not waited for, so several machines can run the same list at once. After a\n"
                "failure no new target starts (those running finish) unless --continue; with\n"
                "--canary N the first N run first and a failure among them stops everything.\n"
                "On a terminal a live line shows what is done, failed, running and left; then\n"
                "a summary. Exits 0 when every target succeeded, 1 when one failed, 3 when some\n"
                "were busy or not started (run it again to finish them). Tenant schemas\n"
                "(PostgreSQL) each keep their own strata_migrations and lock.",
     .opts = cmd_fleet_run_opts},
    {.name = "fleet show",
     .connects = true,
     .run = cmd_fleet_show,
     .usage = "(--targets FILE | --targets-query SQL | --schemas A,B | --schemas-query SQL) "
              "[--parallel K] [--shard I/N] [--json]",
     .summary = "Say, for each target of a fleet, how many migrations are pending",
     .opts = cmd_fleet_show_opts},
    {.name = "fleet revert",
     .connects = true,
     .run = cmd_fleet_revert,
     .usage = "(--targets FILE | --targets-query SQL | --schemas A,B | --schemas-query SQL) "
              "[--steps N | --to VERSION] [--parallel K] [--continue] [--json]",
     .summary = "Revert the most recently applied migration (or more) on every target",
     .opts = cmd_fleet_revert_opts},
    {.name = "schema dump",
     .connects = true,
     .run = cmd_schema_dump,
     .usage = "[--out FILE] [--owners]",
     .summary = "Print the database's schema as SQL, read from its catalog",
     .details = "No pg_dump or sqlite3 involved, no version line, no date: objects in a stable\n"
                "order (by schema, kind and name, dependencies first), so two databases with\n"
                "the same schema give the same bytes and a diff shows only real changes. The\n"
                "dump reloads. Objects strata cannot dump are named in a warning. strata's own\n"
                "tables are left out.",
     .opts = cmd_schema_dump_opts},
    {.name = "schema check",
     .connects = true,
     .run = cmd_schema_check,
     .usage = "[--dir DIR]... [--shadow-url URL] [--json]",
     .summary = "Compare the database's schema with what its applied migrations make (drift)",
     .details = "Applies the database's applied migrations to a scratch database (PostgreSQL:\n"
                "one created beside it and dropped after, or --shadow-url; SQLite: in memory),\n"
                "dumps both and prints each difference, object by object. Exits 5 when they\n"
                "differ. The database itself is only read.",
     .opts = cmd_schema_check_opts},
    {.name = "migrations accept",
     .connects = true,
     .run = cmd_migrations_accept,
     .usage = "VERSION[-NAME]... [--dir DIR]... [--dry-run]",
     .summary = "Record the checksum of an applied migration's edited file",
     .details = "For an applied migration whose file was edited on purpose: records the file's\n"
                "checksum in the history, keeping the old one and when it was replaced (shown by\n"
                "'migrations show'), so that run and validate pass again without\n"
                "--ignore-checksums. VERSION-NAME picks one of two migrations with the same\n"
                "version. All in one transaction under the migration lock; refused, changing\n"
                "nothing, when a version is not applied, names two migrations, has no file, is\n"
                "failed or running, or is given twice. A file that already matches is\n"
                "'unchanged'.",
     .opts = cmd_migrations_accept_opts},
    {.name = "migrations create",
     .run = cmd_migration_create,
     .usage = "NAME [--dir DIR]",
     .summary = "Create a new migration file (same as migration:create -n NAME)",
     .opts = cmd_migration_create_opts},
    {.name = "migration:create",
     .run = cmd_migration_create,
     .usage = "-n NAME [--dir DIR]",
     .summary = "Create src/migrations/<unix ms>-NAME.sql with up and down sections",
     .opts = cmd_migration_create_opts},
    {.name = "build",
     .run = cmd_build,
     .usage = "[--src DIR] [--out DIR] [--dialect postgres|sqlite] [--strict] [--enable RULE,...] "
              "[--base DIR]...",
     .summary = "Validate src/migrations and write dist/migrations with a SHA-256 manifest",
     .details = "Every migration is parsed (PostgreSQL: libpg_query; SQLite: applied to an empty\n"
                "in-memory database) and linted before anything is written: a syntax error or a\n"
                "lint error stops the build; lint warnings are printed and fail it only with\n"
                "--strict. See 'strata lint'. Every file and the manifest are written beside\n"
                "the old ones before any replaces them: a build that cannot write everything (a\n"
                "full disk) leaves the output as it was. Should putting them in place fail after\n"
                "that, build says the output is part-way; build again once that is fixed.",
     .opts = cmd_build_opts},
    {.name = "lint",
     .run = cmd_lint,
     .usage = "[--src DIR] [--dialect postgres|sqlite] [--format text|json] [--strict] "
              "[--enable RULE,...] [--list-rules] [--base DIR]...",
     .summary = "Parse src/migrations and report statements that are unsafe in production",
     .details = "PostgreSQL migrations are parsed with libpg_query and checked against the rules\n"
                "of 'strata lint --list-rules' (see docs/lint.md); SQLite migrations are applied\n"
                "to an empty in-memory database. '-- strata:nolint RULE[,RULE]' on the line\n"
                "before a statement silences those rules for it. Errors exit 1; warnings only\n"
                "with --strict. 'strata build' runs the same checks.",
     .opts = cmd_lint_opts},
    {.name = "seed",
     .connects = true,
     .run = cmd_seed,
     .usage = "-f FILE [-f FILE]... [--no-migrate] [--on-conflict error|skip|update] "
              "[--dry-run] [--force]",
     .summary = "Apply pending migrations, then load JSON seed files in one transaction",
     .details = "A seed file is a JSON object of tables: { \"table\": [ {\"column\": value}, "
                "... ] }.\nRows load in foreign-key order; a key naming a child table holds "
                "nested rows\nwhose foreign key is filled from the row. Each file is recorded "
                "in strata_seeds:\nan unchanged file is skipped, a changed one refused unless "
                "--force.\nSee docs/seed.md.",
     .opts = cmd_seed_opts},
    {0},
};

static void print_main_help(FILE *f)
{
	fprintf(f,
	        "Usage: strata [--database-url URL] [--config FILE] [--env-file FILE]... [-v|-q] "
	        "COMMAND [ARGS]\n\n"
	        "strata applies, reverts, lists and builds SQL migrations for PostgreSQL and "
	        "SQLite.\n\nCommands:\n");
	for (const struct cmd *c = cli_cmds; c->name; c++)
		fprintf(f, "  %-20s %s\n", c->name, c->summary);
	fprintf(
	    f, "\nGlobal options:\n"
	       "  --database-url URL   postgres://..., a libpq keyword string, or sqlite:PATH\n"
	       "  --config FILE        the project config (default: ./strata.json if present)\n"
	       "  --env-file FILE      read variables from FILE instead of ./.env (repeatable)\n"
	       "  -v, --verbose        say more\n"
	       "  -q, --quiet          print errors and results only\n"
	       "  --wait               PostgreSQL: retry connecting until the server is up (60s)\n"
	       "  --wait-timeout DUR   like --wait, for at most DUR (30s, 500ms, 2m)\n"
	       "  -h, --help           show help (also after any command)\n"
	       "  --version            show the version\n\n"
	       "The database is --database-url, else DATABASE_URL (also from ./.env), else\n"
	       "database_url in strata.json, else the SQLite file ./strata.db.\n"
	       "DATABASE_URL_FILE=PATH reads the URL from the file PATH instead. Values in .env\n"
	       "and strata.json expand ${VAR} and ${VAR:-default} ($$ is a literal $; '...' in\n"
	       ".env is literal); the environment wins over .env.\n"
	       "Run 'strata COMMAND --help' (or 'strata help COMMAND') for a command's options.\n");
}

/* --env-file FILE (v NULL: no value given). */
static int take_env_file(struct cli_ctx *ctx, const char *a, const char *v)
{
	if (!v || !*v) {
		fprintf(stderr,
		        "strata: option '%s' needs a value\n"
		        "Try 'strata --help' for more information.\n",
		        a);
		return -1;
	}
	if (ctx->nenv_files == CLI_MAX_ENV_FILES) {
		fprintf(stderr,
		        "strata: --env-file given more than %d times\n"
		        "Try 'strata --help' for more information.\n",
		        CLI_MAX_ENV_FILES);
		return -1;
	}
	ctx->env_files[ctx->nenv_files++] = v;
	return 0;
}

/* Takes the global options out of argv, wherever they are (before "--"). */
static int take_globals(struct cli_ctx *ctx, int *argc, char **argv, int *version)
{
	int w = 1, wait_given = 0;
	for (int r = 1; r < *argc; r++) {
		char *a = argv[r];
		const char **slot = NULL;
		size_t n = 0;
		if (strcmp(a, "--") == 0) {
			while (r < *argc)
				argv[w++] = argv[r++];
			break;
		}
		if (strncmp(a, "--database-url", 14) == 0 && (a[14] == '\0' || a[14] == '=')) {
			slot = &ctx->database_url;
			n = 14;
		} else if (strncmp(a, "--config", 8) == 0 && (a[8] == '\0' || a[8] == '=')) {
			slot = &ctx->config_path;
			n = 8;
		}
		if (slot && *slot) {
			fprintf(stderr,
			        "strata: %.*s given twice; it takes one value\n"
			        "Try 'strata --help' for more information.\n",
			        (int)n, a);
			return -1;
		}
		if (slot) {
			if (a[n] == '=') {
				*slot = a + n + 1;
			} else if (r + 1 < *argc) {
				*slot = argv[++r];
			} else {
				fprintf(stderr,
				        "strata: option '%s' needs a value\n"
				        "Try 'strata --help' for more information.\n",
				        a);
				return -1;
			}
		} else if (strncmp(a, "--env-file", 10) == 0 && (a[10] == '\0' || a[10] == '=')) {
			if (take_env_file(ctx, a,
			                  a[10] == '='    ? a + 11
			                  : r + 1 < *argc ? argv[++r]
			                                  : NULL) < 0)
				return -1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			ctx->verbose++;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			ctx->quiet = 1;
		} else if (strcmp(a, "--wait") == 0) {
			if (!ctx->wait_ms)
				ctx->wait_ms = 60 * 1000;
		} else if (strncmp(a, "--wait-timeout", 14) == 0 &&
		           (a[14] == '\0' || a[14] == '=')) {
			const char *v = a[14] == '=' ? a + 15 : r + 1 < *argc ? argv[++r] : NULL;
			if (wait_given++) {
				fprintf(stderr,
				        "strata: --wait-timeout given twice; it takes one "
				        "value\nTry 'strata --help' for more information.\n");
				return -1;
			}
			if (!v || cli_parse_duration(v, &ctx->wait_ms) < 0) {
				fprintf(
				    stderr,
				    "strata: --wait-timeout needs a duration like 30s, 500ms or "
				    "2m%s%s%s\nTry 'strata --help' for more information.\n",
				    v ? ", not '" : "", v ? v : "", v ? "'" : "");
				return -1;
			}
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			*version = 1;
		} else {
			argv[w++] = a;
		}
	}
	argv[w] = NULL;
	*argc = w;
	return 0;
}

static const struct cmd *find_cmd(int argc, char **argv, int *words)
{
	for (const struct cmd *c = cli_cmds; c->name; c++) {
		const char *space = strchr(c->name, ' ');
		if (!space) {
			if (strcmp(argv[1], c->name) == 0) {
				*words = 1;
				return c;
			}
			continue;
		}
		if (argc > 2 && strncmp(argv[1], c->name, (size_t)(space - c->name)) == 0 &&
		    argv[1][space - c->name] == '\0' && strcmp(argv[2], space + 1) == 0) {
			*words = 2;
			return c;
		}
	}
	return NULL;
}

static int group_help(const char *group, FILE *f)
{
	size_t gl = strlen(group);
	fprintf(f, "Usage: strata %s SUBCOMMAND [OPTIONS]\n\nSubcommands:\n", group);
	for (const struct cmd *c = cli_cmds; c->name; c++)
		if (strncmp(c->name, group, gl) == 0 && c->name[gl] == ' ')
			fprintf(f, "  %-10s %s\n", c->name + gl + 1, c->summary);
	fprintf(f, "\nRun 'strata %s SUBCOMMAND --help' for its options.\n", group);
	return 0;
}

/* strata help WORDS...: the help of the command (or group) the words name, on stdout. */
static int help_on(int n, char **words)
{
	char prog[] = "strata";
	char *args[4] = {prog, NULL, NULL, NULL};
	const struct cmd *c;
	int used = 0;
	if (n == 0) {
		print_main_help(stdout);
		return EXIT_OK;
	}
	if (n > 2) {
		fprintf(stderr, "strata help: too many words; try 'strata help migrations run'\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++)
		args[i + 1] = words[i];
	c = find_cmd(n + 1, args, &used);
	if (c && used == n) {
		cli_print_help(c);
		return EXIT_OK;
	}
	if (strcmp(words[0], "migrations") == 0 && n == 1)
		return group_help("migrations", stdout);
	fprintf(stderr, "strata help: no command '%s%s%s'\nTry 'strata --help' for the commands.\n",
	        words[0], n > 1 ? " " : "", n > 1 ? words[1] : "");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	const struct cmd *c;
	int version = 0, words = 0, rc;

	/* Blocks of 128 KB and more mapped and unmapped on free, always: glibc's default at start,
	 * which it raises to the size of any such block freed, so that the next blocks of that
	 * size (schema check lists a directory of 10,000 migrations twice) come from the heap and
	 * stay resident once freed: 0.2-0.3 MB more at the peak. A library leaves this to its
	 * program; this is the program. */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* character widths (show's columns); nothing else reads the locale */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
	if (take_globals(&ctx, &argc, argv, &version) < 0)
		return EXIT_USAGE;
	if (version) {
		printf("strata %s\n", STRATA_VERSION);
		return EXIT_OK;
	}
	if (argc < 2) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return help_on(0, NULL);
	if (strcmp(argv[1], "help") == 0 && argc == 3 && strcmp(argv[2], "--man") == 0)
		return cli_man(stdout);   /* strata(1), for the build to install */
	if (strcmp(argv[1], "help") == 0) /* strata help [COMMAND [SUBCOMMAND]] */
		return help_on(argc - 2, argv + 2);
	if (argv[1][0] == '-') {
		fprintf(stderr,
		        "strata: unknown option '%s'\n"
		        "Try 'strata --help' for more information.\n",
		        argv[1]);
		return EXIT_USAGE;
	}
	c = find_cmd(argc, argv, &words);
	if (!c) {
		if (strcmp(argv[1], "migrations") == 0 && argc > 2 &&
		    strcmp(argv[2], "help") == 0) {
			/* strata migrations help [SUBCOMMAND] */
			char *sub[2] = {argv[1], argc > 3 ? argv[3] : NULL};
			return argc > 4 ? help_on(3, argv + 1) : help_on(argc > 3 ? 2 : 1, sub);
		}
		if (strcmp(argv[1], "migrations") == 0) {
			int help = argc > 2 &&
			           (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
			if (argc > 2 && !help)
				fprintf(stderr, "strata migrations: unknown subcommand '%s'\n\n",
				        argv[2]);
			group_help("migrations", help ? stdout : stderr);
			return help ? EXIT_OK : EXIT_USAGE;
		}
		fprintf(stderr, "strata: unknown command '%s'\n", argv[1]);
		if (strcmp(argv[1], "migrate") == 0 || strcmp(argv[1], "up") == 0)
			fprintf(stderr, "hint: did you mean 'strata migrations run'?\n");
		else if (strcmp(argv[1], "migration") == 0 || strcmp(argv[1], "create") == 0)
			fprintf(stderr, "hint: did you mean 'strata migration:create -n NAME'?\n");
		fprintf(stderr, "Try 'strata --help' for more information.\n");
		return EXIT_USAGE;
	}
	ctx.cmd = c;
	/* the command sees argv[0] as itself and its own arguments after it */
	rc = c->run(&ctx, argc - words, argv + words);
	/* interrupted: the command rolled back and reported; the exit code says by what */
	return cli_signal_caught() ? 128 + cli_signal_caught() : rc;
}
