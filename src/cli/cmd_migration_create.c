/* strata migration:create -n NAME [--dir DIR]: a new, empty migration file to write in. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/out.h"

enum { OPT_DIR = 256 };

const struct cli_opt cmd_migration_create_opts[] = {
    {"name", 'n', "NAME", "the migration's name: letters, digits, _, - and . (e.g. UserChanged)",
     false},
    {"dir", OPT_DIR, "DIR", "where to write it (default: src/migrations)", false},
    {0},
};

struct create_opts {
	const char *name, *dir;
};

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	struct create_opts *o = ud;
	(void)ctx;
	if (key == 'n')
		o->name = arg;
	else if (key == OPT_DIR)
		o->dir = arg;
	return EXIT_OK;
}

/* Where a new migration goes without --dir: src_dir, or with "sources" the first one's src (the
 * project's own, listed first), else its directory. */
static const char *default_dir(const cli_config *cfg)
{
	if (!cfg->nsources)
		return cfg->src_dir;
	return cfg->sources[0].src ? cfg->sources[0].src : cfg->sources[0].dist;
}

int cmd_migration_create(struct cli_ctx *ctx, int argc, char **argv)
{
	struct create_opts o = {0};
	cli_config cfg;
	strata_error e = STRATA_ERROR_INIT;
	const char *name, *base;
	char *path = NULL;
	int rc = cli_parse(ctx, argc, argv, take, &o);

	if (rc >= 0)
		return rc;
	name = o.name;
	if (optind < argc && !name)
		name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if (!name)
		return cli_usage_error(ctx->cmd, "a name is needed: -n NAME");
	/* the rule build reads names with */
	if (!strata_name_valid(name))
		return cli_usage_error(ctx->cmd,
		                       "'%s' is not a valid migration name: use letters, digits, "
		                       "'_', '-' and '.', starting with a letter, a digit or '_' "
		                       "(e.g. AddUserEmail)",
		                       name);
	if ((rc = cli_load(ctx, &cfg)) != EXIT_OK)
		return rc;
	if (strata_create(o.dir ? o.dir : default_dir(&cfg), name, &path, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	printf("%s\n", path);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	out_note(ctx,
	         "created %s: write the change under '-- migrate:up' and its undo under "
	         "'-- migrate:down'",
	         base);
done:
	strata_free(path);
	cli_config_free(&cfg);
	return rc;
}
