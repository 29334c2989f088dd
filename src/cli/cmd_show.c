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

/* The listing as it streams from strata_status_each: JSON, or a table whose columns the head
 * sizes. The JSON document is indented as yajl indents, but each migration is one line (yajl's
 * compact form): one line per migration reads and greps as the table does, and costs less to
 * write (bench/README.md, "The twelfth round"). */

struct show {
	const char *display;
	yajl_gen g;     /* JSON: compact, one value at a time; NULL for the table */
	bool started;   /* the JSON document is open (its head printed) */
	size_t entries; /* JSON: migrations printed */
	int wv, wn;
};

/* s (NULL: null) as a JSON value on stdout, after what g holds. */
static void json_put(yajl_gen g, const char *s)
{
	cli_json_flush(g, 0);
	yajl_gen_reset(g, NULL);
	cli_json_str(g, s);
	cli_json_flush(g, 0);
}

static int json_head(void *ud, const strata_status_head *h)
{
	struct show *sh = ud;
	sh->started = true;
	fputs("{\n  \"database\": ", stdout);
	json_put(sh->g, sh->display);
	printf(",\n  \"database_exists\": %s,\n  \"migrations\": [",
	       h->db_exists ? "true" : "false");
	return 0;
}

static int json_entry(void *ud, const strata_status_entry *st)
{
	struct show *sh = ud;
	yajl_gen g = sh->g;
	yajl_gen_reset(g, sh->entries++ ? ",\n    " : "\n    ");
	yajl_gen_map_open(g);
	cli_json_kv(g, "version", st->version);
	cli_json_kv(g, "name", st->name);
	cli_json_kv(g, "status", state_word(st->state));
	cli_json_kv(g, "file", st->file);
	cli_json_kv(g, "applied_at", st->applied_at);
	cli_json_str(g, "duration_ms");
	if (st->applied_at) {
		char num[32];
		const char *p = out_ms3(num, st->duration_ms);
		yajl_gen_number(g, p, strlen(p));
	} else {
		yajl_gen_null(g);
	}
	cli_json_kv(g, "previous_checksum", st->previous_checksum);
	cli_json_kv(g, "accepted_at", st->accepted_at);
	yajl_gen_map_close(g);
	cli_json_flush(g, CLI_JSON_CHUNK);
	return 0;
}

/* The document's end: the counts, or (e) why the listing stopped part-way, so that what was
 * printed is one valid document that says so. */
static void json_end(struct show *sh, const strata_status_report *r, const strata_error *e)
{
	cli_json_flush(sh->g, 0);
	fputs(sh->entries ? "\n  ],\n" : "],\n", stdout);
	if (e) {
		fputs("  \"error\": ", stdout);
		json_put(sh->g, e->msg);
		fputs(",\n  \"error_file\": ", stdout);
		json_put(sh->g, e->file[0] ? e->file : NULL);
		printf(",\n  \"error_line\": %lld,\n  \"error_column\": %lld\n}\n",
		       (long long)e->line, (long long)e->column);
	} else {
		printf("  \"applied\": %zu,\n  \"pending\": %zu,\n  \"missing\": %zu,\n  "
		       "\"failed\": %zu\n}\n",
		       r->applied, r->pending, r->missing, r->failed);
	}
	fflush(stdout);
}

static int table_head(void *ud, const strata_status_head *h)
{
	struct show *sh = ud;
	/* columns as wide as the longest version and name in bytes, which is at least their
	 * display width (a name may hold wide or combining characters: out_pad pads by that) */
	sh->wv = h->longest_version > 7 ? (int)h->longest_version : 7;
	sh->wn = h->longest_name > 4 ? (int)h->longest_name : 4;
	printf("%-8s %-*s %-*s %-24s %s\n", "STATUS", sh->wv, "VERSION", sh->wn, "NAME",
	       "APPLIED AT", "DURATION");
	return 0;
}

/* fputs and a column's padding: a listing writes 10,000 of these */
static void put_col(const char *s, int width)
{
	out_pad(stdout, s, width);
	putchar(' ');
}

static int table_entry(void *ud, const strata_status_entry *st)
{
	struct show *sh = ud;
	char dur[32];
	put_col(state_word(st->state), 8);
	put_col(st->version, sh->wv);
	put_col(st->name, sh->wn);
	if (st->applied_at) {
		put_col(st->applied_at, 24);
		fputs(out_duration(dur, st->duration_ms), stdout);
	} else {
		fputs("-                        -", stdout);
	}
	/* its file was edited, and the edit accepted (migrations accept) */
	if (st->accepted_at) {
		fputs("  [edit accepted ", stdout);
		fputs(st->accepted_at, stdout);
		putchar(']');
	}
	putchar('\n');
	return 0;
}

static void table_totals(const struct show *sh, const strata_status_report *r)
{
	printf("%zu migration%s: %zu applied, %zu pending", r->n, r->n == 1 ? "" : "s", r->applied,
	       r->pending);
	if (r->missing)
		printf(", %zu applied but missing on disk", r->missing);
	if (r->failed)
		printf(", %zu failed part-way (see 'strata migrations repair')", r->failed);
	printf(" (%s%s)\n", sh->display, r->db_exists ? "" : ", which does not exist yet");
}

int cmd_migrations_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct migrations_opts o;
	struct cli_session s;
	strata_status_report r;
	strata_error e = STRATA_ERROR_INIT;
	struct show sh = {0};
	strata_status_callbacks cb = {.ud = &sh};
	int rc = cmd_migrations_start(ctx, argc, argv, true, &o, &s);

	if (rc >= 0)
		goto done;
	rc = EXIT_OK;
	sh.display = strata_db_display(s.db);
	if (o.json && !(sh.g = yajl_gen_alloc(NULL))) {
		fprintf(stderr, "strata: out of memory\n");
		rc = EXIT_FAIL;
		goto done;
	}
	cb.head = o.json ? json_head : table_head;
	cb.entry = o.json ? json_entry : table_entry;
	/* entries are printed as they come: an error part-way ends the listing with it (the JSON
	 * document closed, saying it) */
	if (strata_status_each(s.db, s.src, &cb, &r, &e) < 0) {
		if (sh.started) /* (set by json_head only) */
			json_end(&sh, NULL, &e);
		fflush(stdout);
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	if (o.json) {
		json_end(&sh, &r, NULL);
	} else {
		table_totals(&sh, &r);
	}
	/* a migration stopped part-way stops runs until it is repaired: the graver of the two */
	if (o.exit_code && r.failed)
		rc = EXIT_UNFINISHED;
	else if (o.exit_code && r.pending)
		rc = EXIT_PENDING;
done:
	if (sh.g)
		yajl_gen_free(sh.g);
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
