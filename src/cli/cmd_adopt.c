/* strata migrations adopt: take over a database another tool migrated, and say what became of
 * each of its entries and each migration. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/json.h"
#include "cli/out.h"

enum { OPT_FROM = 256, OPT_TABLE, OPT_SCHEMA, OPT_JSON };

/* clang-format off */
const struct cli_opt cmd_migrations_adopt_opts[] = {
	{"from", OPT_FROM, "TOOL", "typeorm, dbmate, golang-migrate, goose, flyway, knex or sqitch (default: the one whose history is there)", false},
	{"table", OPT_TABLE, "NAME", "the tool's history table, when it was renamed", false},
	{"schema", OPT_SCHEMA, "NAME", "PostgreSQL: the schema of that table (default: the search path; sqitch: sqitch)", false},
	CLI_DIR_OPT,
	{"dry-run", CLI_KEY_DRY_RUN, NULL, "print what would be adopted; change nothing", false},
	{"json", OPT_JSON, NULL, "print JSON (stable field names) instead of lines", false},
	CLI_LOCK_OPTS,
	{0},
};
/* clang-format on */

struct adopt_opts {
	struct cli_run_args run;
	strata_adopt_options ao;
	bool json;
};

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	struct adopt_opts *o = ud;
	strata_error e = STRATA_ERROR_INIT;
	int rc = cli_run_arg(ctx->cmd, key, arg, &o->run);

	if (rc != CLI_NOT_SHARED)
		return rc;
	if (key == OPT_FROM && strata_tool_parse(&o->ao.tool, arg, &e) < 0)
		return cli_usage_error(ctx->cmd, "%s (%s)", e.msg, e.hint);
	if (key == OPT_TABLE)
		o->ao.table = arg;
	if (key == OPT_SCHEMA)
		o->ao.schema = arg;
	if (key == OPT_JSON)
		o->json = ctx->json_stdout = true;
	return EXIT_OK;
}

static void print_json(const strata_adopt_report *r)
{
	static const char *const arrays[] = {"adopted", "only_there", "pending"};
	yajl_gen g = cli_json_open();

	if (!g)
		return;
	yajl_gen_map_open(g);
	cli_json_kv(g, "tool", strata_tool_name(r->tool));
	cli_json_kv(g, "table", r->table);
	cli_json_str(g, "dry_run");
	yajl_gen_bool(g, r->dry_run);
	for (int state = STRATA_ADOPT_ADOPTED; state <= STRATA_ADOPT_PENDING; state++) {
		cli_json_str(g, arrays[state]);
		yajl_gen_array_open(g);
		for (size_t i = 0; i < r->n; i++) {
			const strata_adopt_entry *en = &r->entries[i];
			if ((int)en->state != state)
				continue;
			yajl_gen_map_open(g);
			if (en->version) {
				cli_json_kv(g, "version", en->version);
				cli_json_kv(g, "name", en->name);
				cli_json_kv(g, "file", en->file);
			}
			if (en->as)
				cli_json_kv(g, "as", en->as);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	cli_json_close(g);
}

static void print_lines(struct cli_ctx *ctx, const strata_adopt_report *r)
{
	const char *tool = strata_tool_name(r->tool);
	char dur[32];

	if (r->dry_run)
		out_info(ctx,
		         "dry run, nothing written: would adopt %zu from %s (%s); %zu only in %s; "
		         "%zu pending\n",
		         r->adopted, tool, r->table, r->only_there, tool, r->pending);
	else
		out_info(ctx,
		         "adopted %zu from %s (%s) in one transaction; %zu only in %s; %zu pending "
		         "(%s)\n",
		         r->adopted, tool, r->table, r->only_there, tool, r->pending,
		         out_duration(dur, r->ms));
	for (size_t i = 0; i < r->n; i++) {
		const strata_adopt_entry *en = &r->entries[i];
		if (en->state == STRATA_ADOPT_ADOPTED)
			printf("  adopted      %s-%s  (%s: %s)\n", en->version, en->name, tool,
			       en->as);
		else if (en->state == STRATA_ADOPT_PENDING)
			printf(
			    "  pending      %s-%s  (%s never applied it: 'strata migrations run' "
			    "will)\n",
			    en->version, en->name, tool);
		else
			printf("  only in %s  %s  (no strata migration is it: left alone)\n", tool,
			       en->as);
	}
}

int cmd_migrations_adopt(struct cli_ctx *ctx, int argc, char **argv)
{
	struct adopt_opts o = {.ao = STRATA_ADOPT_OPTIONS_INIT};
	struct cli_session s = {0};
	strata_adopt_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc;

	cli_run_args_init(&o.run);
	if ((rc = cli_parse(ctx, argc, argv, take, &o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	o.ao.dry_run = o.run.ro.dry_run;
	o.ao.run = &o.run.ro;
	rc = cli_session_open(ctx, &o.run, true, o.ao.dry_run ? STRATA_DB_NO_CREATE : 0, &s);
	if (rc != EXIT_OK)
		goto done;
	ctx->display = strata_db_display(s.db);
	if (strata_adopt(s.db, s.src, &o.ao, &r, &e) < 0) {
		out_error(&e);
		fprintf(stderr, "strata: nothing was adopted\n");
		rc = EXIT_FAIL;
		goto done;
	}
	if (o.json)
		print_json(r);
	else
		print_lines(ctx, r);
done:
	strata_adopt_report_free(r);
	cli_session_close(&s);
	return rc;
}
