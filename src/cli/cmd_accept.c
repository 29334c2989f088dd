/* strata migrations accept VERSION...: an applied migration whose file was edited on purpose gets
 * the file's checksum in the history (strata_accept). */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/out.h"

/* clang-format off */
const struct cli_opt cmd_migrations_accept_opts[] = {
	CLI_DIR_OPT,
	{"dry-run", CLI_KEY_DRY_RUN, NULL, "say what would be accepted; change nothing", false},
	CLI_LOCK_OPTS,
	{0},
};
/* clang-format on */

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	int rc = cli_run_arg(ctx->cmd, key, arg, ud);
	return rc == CLI_NOT_SHARED ? cli_usage_error(ctx->cmd, "unexpected option") : rc;
}

/* VERSION or VERSION-NAME. */
static bool version_arg(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && (s[n] == '\0' || (s[n] == '-' && s[n + 1]));
}

static void print_report(struct cli_ctx *ctx, bool dry_run, const strata_accept_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const strata_accept_entry *en = &r->entries[i];
		if (en->accepted)
			out_info(ctx, "  %-9s %s-%s  sha256 %.12s… -> %.12s… (%s)\n",
			         dry_run ? "accept" : "accepted", en->version, en->name,
			         en->old_checksum, en->new_checksum, en->file);
		else
			out_info(ctx, "  %-9s %s-%s  (its file matches the history)\n", "unchanged",
			         en->version, en->name);
	}
	if (dry_run)
		out_note(ctx,
		         "dry run: %zu migration%s would be accepted in %s, %zu unchanged; nothing "
		         "was changed",
		         r->accepted, r->accepted == 1 ? "" : "s", ctx->display, r->unchanged);
	else
		out_info(ctx, "accepted %zu migration%s in %s, %zu unchanged\n", r->accepted,
		         r->accepted == 1 ? "" : "s", ctx->display, r->unchanged);
}

int cmd_migrations_accept(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_run_args a;
	struct cli_session s;
	strata_accept_options ao = STRATA_ACCEPT_OPTIONS_INIT;
	strata_accept_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc;

	memset(&s, 0, sizeof(s));
	cli_run_args_init(&a);
	if ((rc = cli_parse(ctx, argc, argv, take, &a)) >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage_error(ctx->cmd, "give the version of each migration to accept");
	for (int i = optind; i < argc; i++)
		if (!version_arg(argv[i]))
			return cli_usage_error(ctx->cmd, "'%s' is not VERSION or VERSION-NAME",
			                       argv[i]);
	if ((rc = cli_session_open(ctx, &a, true, a.ro.dry_run ? STRATA_DB_NO_CREATE : 0, &s)) !=
	    EXIT_OK)
		goto done;
	ctx->display = strata_db_display(s.db);
	ao.dry_run = a.ro.dry_run;
	ao.lock_wait_ms = a.ro.lock_wait_ms;
	ao.lock_strategy = a.ro.lock_strategy;
	ao.lock_ttl_ms = a.ro.lock_ttl_ms;
	if (strata_accept(s.db, s.src, (const char *const *)argv + optind, (size_t)(argc - optind),
	                  &ao, &r, &e) < 0) {
		out_error(&e);
		fprintf(stderr, "strata: nothing was accepted\n");
		rc = EXIT_FAIL;
		goto done;
	}
	print_report(ctx, a.ro.dry_run, r);
done:
	strata_accept_report_free(r);
	cli_session_close(&s);
	return rc;
}
