/* strata migrations show | validate: what the library reports of the migrations and the history,
 * as a table, JSON, or a list of problems. Both only read. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_migrations.h"
#include "cli/cmds.h"
#include "cli/json.h"
#include "cli/out.h"

static const char *state_word(strata_state s)
{
	switch (s) {
	case STRATA_STATE_APPLIED:
		return "applied";
	case STRATA_STATE_PENDING:
		return "pending";
	case STRATA_STATE_MISSING:
		return "missing";
	case STRATA_STATE_RUNNING:
		return "running";
	case STRATA_STATE_FAILED:
		break;
	}
	return "failed";
}

static void show_json(const char *display, const strata_status_report *r)
{
	yajl_gen g = cli_json_open();

	if (!g)
		return;
	yajl_gen_map_open(g);
	cli_json_kv(g, "database", display);
	cli_json_str(g, "database_exists");
	yajl_gen_bool(g, r->db_exists);
	cli_json_str(g, "migrations");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n; i++) {
		const strata_status_entry *st = &r->entries[i];
		yajl_gen_map_open(g);
		cli_json_kv(g, "version", st->version);
		cli_json_kv(g, "name", st->name);
		cli_json_kv(g, "status", state_word(st->state));
		cli_json_kv(g, "file", st->file);
		cli_json_kv(g, "applied_at", st->applied_at);
		cli_json_str(g, "duration_ms");
		if (st->applied_at) {
			char num[32];
			int n = snprintf(num, sizeof(num), "%.3f", st->duration_ms);
			yajl_gen_number(g, num, (size_t)n);
		} else {
			yajl_gen_null(g);
		}
		cli_json_kv(g, "previous_checksum", st->previous_checksum);
		cli_json_kv(g, "accepted_at", st->accepted_at);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	cli_json_int(g, "applied", (long long)r->applied);
	cli_json_int(g, "pending", (long long)r->pending);
	cli_json_int(g, "missing", (long long)r->missing);
	cli_json_int(g, "failed", (long long)r->failed);
	yajl_gen_map_close(g);
	cli_json_close(g);
}

static void show_table(const char *display, const strata_status_report *r)
{
	int wv = 7, wn = 4;
	char dur[32];
	/* columns by display width: a name may hold wide or combining characters */
	for (size_t i = 0; i < r->n; i++) {
		int v = out_width(r->entries[i].version);
		int n = out_width(r->entries[i].name);
		wv = v > wv ? v : wv;
		wn = n > wn ? n : wn;
	}
	printf("%-8s %-*s %-*s %-24s %s\n", "STATUS", wv, "VERSION", wn, "NAME", "APPLIED AT",
	       "DURATION");
	for (size_t i = 0; i < r->n; i++) {
		const strata_status_entry *st = &r->entries[i];
		printf("%-8s ", state_word(st->state));
		out_pad(stdout, st->version, wv);
		putchar(' ');
		out_pad(stdout, st->name, wn);
		printf(" %-24s %s", st->applied_at ? st->applied_at : "-",
		       st->applied_at ? out_duration(dur, st->duration_ms) : "-");
		/* its file was edited, and the edit accepted (migrations accept) */
		if (st->accepted_at)
			printf("  [edit accepted %s]", st->accepted_at);
		putchar('\n');
	}
	printf("%zu migration%s: %zu applied, %zu pending", r->n, r->n == 1 ? "" : "s", r->applied,
	       r->pending);
	if (r->missing)
		printf(", %zu applied but missing on disk", r->missing);
	if (r->failed)
		printf(", %zu failed part-way (see 'strata migrations repair')", r->failed);
	printf(" (%s%s)\n", display, r->db_exists ? "" : ", which does not exist yet");
}

int cmd_migrations_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct migrations_opts o;
	struct cli_session s;
	strata_status_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc = cmd_migrations_start(ctx, argc, argv, true, &o, &s);

	if (rc >= 0)
		goto done;
	rc = EXIT_OK;
	if (strata_status(s.db, s.src, &r, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	if (o.json)
		show_json(strata_db_display(s.db), r);
	else
		show_table(strata_db_display(s.db), r);
	/* a migration stopped part-way stops runs until it is repaired: the graver of the two */
	if (o.exit_code && r->failed)
		rc = EXIT_UNFINISHED;
	else if (o.exit_code && r->pending)
		rc = EXIT_PENDING;
done:
	strata_status_report_free(r);
	cli_session_close(&s);
	return rc;
}

int cmd_migrations_validate(struct cli_ctx *ctx, int argc, char **argv)
{
	struct migrations_opts o;
	struct cli_session s;
	strata_problems *p = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc = cmd_migrations_start(ctx, argc, argv, true, &o, &s);

	if (rc >= 0)
		goto done;
	rc = EXIT_OK;
	if (strata_validate(s.db, s.src, &o.run.ro, &p, &e) < 0) {
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	for (size_t i = 0; i < p->n; i++)
		out_error(&p->items[i]);
	if (p->n) {
		fprintf(stderr, "strata: %zu problem%s found\n", p->n, p->n == 1 ? "" : "s");
		rc = EXIT_FAIL;
		goto done;
	}
	out_info(ctx,
	         "ok: %zu migration%s; %s; applied migrations unchanged; %zu pending, in order "
	         "(%s)\n",
	         p->migrations, p->migrations == 1 ? "" : "s",
	         o.run.ndirs == 0 && s.cfg.nsources > 1 ? "every build matches its manifest and src"
	         : o.run.ndirs == 0                     ? "the build matches its manifest and src"
	                                                : "manifests match",
	         p->pending, strata_db_display(s.db));
done:
	strata_problems_free(p);
	cli_session_close(&s);
	return rc;
}
