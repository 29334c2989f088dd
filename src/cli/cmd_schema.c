/* strata schema dump | schema check, strata migrations test: the schema read from the catalog,
 * compared with what the migrations make, and each migration's down checked against its up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/json.h"
#include "cli/out.h"

enum { OPT_OUT = 256, OPT_OWNERS, OPT_SHADOW, OPT_JSON, OPT_FROM };

/* clang-format off */
#define OWNERS_OPT {"owners", OPT_OWNERS, NULL, "PostgreSQL: ownership and grants too", false}
#define SHADOW_OPT {"shadow-url", OPT_SHADOW, "URL", "an empty scratch database to use (everything in it is dropped); default: PostgreSQL creates one beside the database and drops it after, SQLite uses memory", false}
#define JSON_OPT {"json", OPT_JSON, NULL, "print JSON (stable field names)", false}

const struct cli_opt cmd_schema_dump_opts[] = {
	{"out", OPT_OUT, "FILE", "write the dump to FILE (replaced whole) instead of standard output", false},
	OWNERS_OPT,
	{0},
};

const struct cli_opt cmd_schema_check_opts[] = {
	CLI_DIR_OPT,
	SHADOW_OPT,
	OWNERS_OPT,
	JSON_OPT,
	{0},
};

const struct cli_opt cmd_migrations_test_opts[] = {
	CLI_DIR_OPT,
	{"from", OPT_FROM, "VERSION", "apply the migrations up to VERSION untested, test those after it", false},
	SHADOW_OPT,
	OWNERS_OPT,
	JSON_OPT,
	{0},
};
/* clang-format on */

struct schema_opts {
	struct cli_run_args run;
	strata_schema_options so;
	const char *out;
	bool json;
};

static int take(struct cli_ctx *ctx, int key, const char *arg, void *ud)
{
	struct schema_opts *o = ud;
	int rc = cli_run_arg(ctx->cmd, key, arg, &o->run);

	if (rc != CLI_NOT_SHARED)
		return rc;
	if (key == OPT_FROM && !cli_is_version(arg))
		return cli_usage_error(ctx->cmd, "--from needs a version (digits), not '%s'", arg);
	if (key == OPT_OUT)
		o->out = arg;
	else if (key == OPT_OWNERS)
		o->so.owners = true;
	else if (key == OPT_SHADOW)
		o->so.shadow_url = arg;
	else if (key == OPT_JSON)
		o->json = ctx->json_stdout = true;
	else if (key == OPT_FROM)
		o->so.from = arg;
	return EXIT_OK;
}

/* Parses the options and opens the database (and the source when the command reads
 * migrations). Returns -1 to go on, else an exit code. */
static int start(struct cli_ctx *ctx, int argc, char **argv, bool with_source,
                 struct schema_opts *o, struct cli_session *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	memset(o, 0, sizeof(*o));
	o->so = (strata_schema_options)STRATA_SCHEMA_OPTIONS_INIT;
	cli_run_args_init(&o->run);
	if ((rc = cli_parse(ctx, argc, argv, take, o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	o->so.run = &o->run.ro;
	rc = cli_session_open(ctx, &o->run, with_source, STRATA_DB_NO_CREATE, s);
	if (rc == EXIT_OK && s->db)
		ctx->display = strata_db_display(s->db);
	return rc == EXIT_OK ? -1 : rc;
}

/* Writes data to path through a temporary file beside it: a reader never sees half. */
static int write_file(const char *path, const char *data, size_t len)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 32);
	FILE *f;
	int ok;

	if (!tmp)
		return -1;
	snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "w"))) {
		fprintf(stderr, "strata: error: cannot write %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "strata: error: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int cli_schema_write(struct cli_ctx *ctx, strata_db *db, bool owners, const char *path)
{
	strata_schema_options so = STRATA_SCHEMA_OPTIONS_INIT;
	strata_schema_dump_report *d = NULL;
	strata_error e = STRATA_ERROR_INIT;
	char dur[32];
	int rc = EXIT_OK;

	so.owners = owners;
	if (!strata_db_exists(db))
		out_note(ctx, "%s does not exist yet: its schema is empty", strata_db_display(db));
	if (strata_schema_dump(db, &so, &d, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < d->nwarnings; i++) {
		fflush(stdout);
		fprintf(stderr, "strata: warning: %s\n", d->warnings[i]);
	}
	if (!path)
		fwrite(d->sql, 1, d->len, stdout);
	else if (write_file(path, d->sql, d->len) < 0)
		rc = EXIT_FAIL;
	else
		out_note(ctx, "wrote the schema (%zu objects) to %s in %s", d->objects, path,
		         out_duration(dur, d->ms));
	strata_schema_dump_report_free(d);
	return rc;
}

int cmd_schema_dump(struct cli_ctx *ctx, int argc, char **argv)
{
	struct schema_opts o;
	struct cli_session s;
	int rc = start(ctx, argc, argv, false, &o, &s);

	if (rc < 0)
		rc = cli_schema_write(ctx, s.db, o.so.owners, o.out);
	cli_session_close(&s);
	return rc;
}

static const char *diff_word(strata_schema_diff_kind k)
{
	return k == STRATA_DIFF_MISSING ? "missing" : k == STRATA_DIFF_EXTRA ? "extra" : "changed";
}

static void json_diff(yajl_gen g, const strata_schema_diff *d)
{
	yajl_gen_array_open(g);
	for (size_t i = 0; i < d->n; i++) {
		const strata_schema_difference *x = &d->items[i];
		yajl_gen_map_open(g);
		cli_json_kv(g, "kind", diff_word(x->kind));
		cli_json_kv(g, "object", x->object);
		cli_json_kv(g, "schema", x->schema);
		cli_json_kv(g, "name", x->name);
		cli_json_kv(g, "have", x->have);
		cli_json_kv(g, "expected", x->expected);
		cli_json_kv(g, "text", x->text);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void print_diff(FILE *f, const strata_schema_diff *d, const char *indent)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s%s\n", indent, d->items[i].text);
}

/* The drift check, printed; EXIT_DRIFT when the database differs. */
int cli_schema_check(struct cli_ctx *ctx, strata_db *db, strata_source *src,
                     const strata_schema_options *so, bool json)
{
	strata_schema_check_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	char dur[32];
	int rc;

	if (strata_schema_check(db, src, so, &r, &e) < 0) {
		out_error(&e);
		return EXIT_FAIL;
	}
	rc = r->diff.n ? EXIT_DRIFT : EXIT_OK;
	if (json) {
		yajl_gen g = cli_json_open();
		if (g) {
			yajl_gen_map_open(g);
			cli_json_kv(g, "database", strata_db_display(db));
			cli_json_int(g, "applied", (long long)r->applied);
			cli_json_str(g, "drift");
			yajl_gen_bool(g, r->diff.n > 0);
			cli_json_str(g, "differences");
			json_diff(g, &r->diff);
			yajl_gen_map_close(g);
			cli_json_close(g);
		}
	} else if (r->diff.n) {
		fflush(stdout);
		fprintf(stderr,
		        "strata: drift: %s differs from what its %zu applied migration%s make "
		        "(%zu difference%s):\n",
		        strata_db_display(db), r->applied, r->applied == 1 ? "" : "s", r->diff.n,
		        r->diff.n == 1 ? "" : "s");
		print_diff(stderr, &r->diff, "  ");
		fprintf(stderr, "hint: a change made by hand, or a migration edited after it ran; "
		                "write a migration that makes the difference, or undo it\n");
	} else {
		out_info(ctx, "no drift: %s has the schema its %zu applied migration%s make (%s)\n",
		         strata_db_display(db), r->applied, r->applied == 1 ? "" : "s",
		         out_duration(dur, r->ms));
	}
	strata_schema_check_report_free(r);
	return rc;
}

int cmd_schema_check(struct cli_ctx *ctx, int argc, char **argv)
{
	struct schema_opts o;
	struct cli_session s;
	int rc = start(ctx, argc, argv, true, &o, &s);

	if (rc < 0)
		rc = cli_schema_check(ctx, s.db, s.src, &o.so, o.json);
	cli_session_close(&s);
	return rc;
}

static const char *const result_words[] = {
    [STRATA_TEST_OK] = "ok",
    [STRATA_TEST_UNTESTED] = "untested",
    [STRATA_TEST_NO_DOWN] = "no_down",
    [STRATA_TEST_UP_FAILED] = "up_failed",
    [STRATA_TEST_DOWN_FAILED] = "down_failed",
    [STRATA_TEST_NOT_RESTORED] = "not_restored",
    [STRATA_TEST_REUP_FAILED] = "reup_failed",
};

/* --json's document, opened at the first entry (a test that fails before any entry prints no
 * JSON) and written out a piece at a time, as show's listing; NULL when out of memory. */
static yajl_gen test_json_doc(struct cli_ctx *ctx)
{
	yajl_gen g = ctx->tested_ud;
	if (!g && (g = ctx->tested_ud = cli_json_open()) != NULL) {
		yajl_gen_map_open(g);
		cli_json_str(g, "migrations");
		yajl_gen_array_open(g);
	}
	return g;
}

/* One entry of the document's "migrations". */
static void test_json_entry(struct cli_ctx *ctx, const strata_test_entry *t)
{
	yajl_gen g = test_json_doc(ctx);
	if (!g)
		return;
	yajl_gen_map_open(g);
	cli_json_kv(g, "version", t->version);
	cli_json_kv(g, "name", t->name);
	cli_json_kv(g, "file", t->file);
	cli_json_kv(g, "result", result_words[t->result]);
	if (t->error && t->error->msg[0])
		cli_json_error(g, t->error);
	if (t->diff.n) {
		cli_json_str(g, "differences");
		json_diff(g, &t->diff);
	}
	yajl_gen_map_close(g);
	cli_json_flush(g, CLI_JSON_CHUNK);
}

static void test_json_totals(struct cli_ctx *ctx, const strata_test_report *r)
{
	yajl_gen g = test_json_doc(ctx); /* opened here when there is no migration */
	ctx->tested_ud = NULL;
	if (!g)
		return;
	yajl_gen_array_close(g);
	cli_json_int(g, "ok", (long long)r->ok);
	cli_json_int(g, "failed", (long long)r->failed);
	cli_json_int(g, "untested", (long long)r->untested);
	yajl_gen_map_close(g);
	cli_json_close(g);
}

static void test_text_entry(struct cli_ctx *ctx, const strata_test_entry *t)
{
	char dur[32];
	switch (t->result) {
	case STRATA_TEST_OK:
		out_info(ctx, "  ok              %s-%s  %s\n", t->version, t->name,
		         out_duration(dur, t->ms));
		break;
	case STRATA_TEST_UNTESTED:
		out_verbose(ctx, "  untested        %s-%s\n", t->version, t->name);
		break;
	case STRATA_TEST_NO_DOWN:
		printf("  no down         %s-%s: it cannot be reverted (%s)\n", t->version, t->name,
		       t->file);
		break;
	case STRATA_TEST_NOT_RESTORED:
		printf("  not restored    %s-%s: after its down the schema differs from before its "
		       "up:\n",
		       t->version, t->name);
		print_diff(stdout, &t->diff, "                  ");
		if (t->error && t->error->msg[0]) { /* and its up failed when run again */
			printf("                  and its up failed when run again:\n");
			fflush(stdout);
			out_error(t->error);
		}
		break;
	default:
		printf("  %-15s %s-%s\n",
		       t->result == STRATA_TEST_UP_FAILED     ? "up failed"
		       : t->result == STRATA_TEST_DOWN_FAILED ? "down failed"
		                                              : "up again failed",
		       t->version, t->name);
		fflush(stdout);
		if (t->error)
			out_error(t->error);
	}
}

static void test_text_totals(struct cli_ctx *ctx, const strata_test_report *r)
{
	char dur[32];
	size_t tested = r->ok + r->failed;
	out_info(ctx, "%zu migration%s tested: %zu ok, %zu failed, %zu untested (%s)\n", tested,
	         tested == 1 ? "" : "s", r->ok, r->failed, r->untested, out_duration(dur, r->ms));
}

int cmd_migrations_test(struct cli_ctx *ctx, int argc, char **argv)
{
	struct schema_opts o;
	struct cli_session s;
	strata_test_report *r = NULL;
	strata_error e = STRATA_ERROR_INIT;
	int rc = start(ctx, argc, argv, true, &o, &s);

	if (rc >= 0)
		goto done;
	/* each entry printed as its test ends, none held */
	o.so.no_entry_list = true;
	ctx->on_tested = o.json ? test_json_entry : test_text_entry;
	if (strata_test_migrations(s.db, s.src, &o.so, &r, &e) < 0) {
		/* --json's document, once opened, is ended saying why */
		if (ctx->tested_ud)
			cli_json_end_listing(ctx->tested_ud, &e);
		ctx->tested_ud = NULL;
		out_error(&e);
		rc = EXIT_FAIL;
		goto done;
	}
	if (o.json)
		test_json_totals(ctx, r);
	else
		test_text_totals(ctx, r);
	rc = r->failed ? EXIT_IRREVERSIBLE : EXIT_OK;
done:
	ctx->on_tested = NULL;
	strata_test_report_free(r);
	cli_session_close(&s);
	return rc;
}
