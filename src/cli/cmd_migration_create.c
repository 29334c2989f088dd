/* strata migration:create -n NAME [--dir DIR], also strata migrations create NAME */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/out.h"
#include "core/migration.h"
#include "util/error.h"
#include "util/fs.h"

enum { OPT_DIR = 256 };

const struct cli_opt cmd_migration_create_opts[] = {
    {"name", 'n', "NAME", "the migration's name: letters, digits, _, - and . (e.g. UserChanged)",
     false},
    {"dir", OPT_DIR, "DIR", "where to write it (default: src/migrations)", false},
    {0},
};

static const char scaffold[] = "-- migrate:up\n\n\n-- migrate:down\n\n";

int cmd_migration_create(struct cli_ctx *ctx, int argc, char **argv)
{
	cli_parser p;
	strata_config cfg = {0};
	strata_error e = STRATA_ERROR_INIT;
	const char *name = NULL, *dir = NULL;
	char *path = NULL, fname[512];
	struct timespec ts;
	int key, fd = -1, rc = EXIT_OK;
	long long ms;

	cli_parser_init(&p, ctx->cmd, argc, argv);
	while ((key = cli_next(&p, argc, argv)) != CLI_OPT_END) {
		if (key == CLI_OPT_HELP)
			return EXIT_OK;
		if (key == CLI_OPT_BAD)
			return EXIT_USAGE;
		if (key == 'n')
			name = optarg;
		else if (key == OPT_DIR)
			dir = optarg;
	}
	if (optind < argc && !name)
		name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if (!name)
		return cli_usage_error(ctx->cmd, "a name is needed: -n NAME");
	/* the rule build reads names with (core/migration.h) */
	if (!strata_migration_name_valid(name, strlen(name), NULL) || strlen(name) > 200)
		return cli_usage_error(ctx->cmd,
		                       "'%s' is not a valid migration name: use letters, digits, "
		                       "'_', '-' and '.', starting with a letter, a digit or '_' "
		                       "(e.g. AddUserEmail)",
		                       name);
	if (strata_config_load(&cfg, ctx->config_path, ctx->database_url, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	if (!dir)
		dir = cfg.src_dir;
	if (strata_fs_mkdirs(dir, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(fname, sizeof(fname), "%lld-%s.sql", ms, name);
	path = strata_fs_join(dir, fname);
	if (!path) {
		rc = EXIT_FAIL;
		goto done;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 ||
	    write(fd, scaffold, sizeof(scaffold) - 1) != (ssize_t)(sizeof(scaffold) - 1)) {
		strata_error_set(&e, errno == EEXIST ? STRATA_EEXISTS : STRATA_ERROR,
		                 "cannot create '%s': %s", path, strerror(errno));
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	printf("%s\n", path);
	out_note(ctx,
	         "created %s: write the change under '-- migrate:up' and its undo under "
	         "'-- migrate:down'",
	         fname);
done:
	if (fd >= 0)
		close(fd);
	free(path);
	strata_config_free(&cfg);
	return rc;
}
