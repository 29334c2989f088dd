/* strata lint [--src DIR] [--dialect postgres|sqlite] [--format text|json] [--strict]
 *             [--enable RULE[,RULE]] [--list-rules] */
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cli/cmds.h"
#include "cli/out.h"

enum { OPT_SRC = 256, OPT_DIALECT, OPT_FORMAT, OPT_STRICT, OPT_ENABLE, OPT_LIST_RULES, OPT_BASE };

const struct cli_opt cmd_lint_opts[] = {
    {"src", OPT_SRC, "DIR", "authored migrations (default: src/migrations)", false},
    {"dialect", OPT_DIALECT, "NAME",
     "postgres or sqlite (default: \"dialect\" in strata.json, else the database URL's kind)",
     false},
    {"format", OPT_FORMAT, "FORMAT", "text or json (--list-rules: also markdown)", false},
    {"strict", OPT_STRICT, NULL, "warnings fail too (exit 1)", false},
    {"enable", OPT_ENABLE, "RULES", "turn on off-by-default rules (comma-separated ids)", false},
    {"list-rules", OPT_LIST_RULES, NULL, "print every rule, its severity, reason and fix", false},
    {"base", OPT_BASE, "DIR",
     "SQLite: check on top of the migrations in DIR (another source's: the core's); "
     "repeatable (default: \"base_dirs\" in strata.json)",
     true},
    {0},
};

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_MARKDOWN };

/* A rule's fix as this command says it (its flags for the library's option names). */
static const char *fix(const strata_lint_rule *r)
{
	static char buf[1024];
	out_flags(buf, sizeof(buf), r->fix);
	return buf;
}

void cli_lint_print(FILE *f, const strata_lint_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const strata_lint_finding *x = &r->items[i];
		fprintf(f, "strata: %s: %s:%u:%u: %s [%s]\n",
		        strata_lint_severity_name(x->rule->severity), x->file, x->line, x->column,
		        x->rule->reason, x->rule->id);
		out_caret(f, x->line, x->column, x->source_line);
		fprintf(f, "hint: %s\n", fix(x->rule));
	}
	fflush(f);
}

#define GEN_STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))
#define GEN_KV(g, k, v) (GEN_STR(g, k), GEN_STR(g, v))

static void gen_opt_str(yajl_gen g, const char *k, const char *v)
{
	GEN_STR(g, k);
	if (v)
		GEN_STR(g, v);
	else
		yajl_gen_null(g);
}

static void print_gen(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		fwrite(buf, 1, len, stdout);
		if (len == 0 || buf[len - 1] != '\n') /* beautified yajl output ends with one */
			fputc('\n', stdout);
	}
	fflush(stdout);
}

static void print_json(const strata_lint_report *r, strata_dialect d, const strata_error *e,
                       int failed)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	GEN_KV(g, "dialect", strata_dialect_name(d));
	GEN_STR(g, "ok");
	yajl_gen_bool(g, !failed);
	GEN_STR(g, "migrations");
	yajl_gen_integer(g, (long long)r->migrations);
	GEN_STR(g, "errors");
	yajl_gen_integer(g, (long long)r->errors);
	GEN_STR(g, "warnings");
	yajl_gen_integer(g, (long long)r->warnings);
	GEN_STR(g, "findings");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n; i++) {
		const strata_lint_finding *x = &r->items[i];
		yajl_gen_map_open(g);
		GEN_KV(g, "file", x->file);
		GEN_STR(g, "line");
		yajl_gen_integer(g, x->line);
		GEN_STR(g, "column");
		yajl_gen_integer(g, x->column);
		GEN_KV(g, "severity", strata_lint_severity_name(x->rule->severity));
		GEN_KV(g, "rule", x->rule->id);
		GEN_KV(g, "reason", x->rule->reason);
		GEN_KV(g, "fix", fix(x->rule));
		gen_opt_str(g, "subject", x->subject);
		GEN_KV(g, "version", x->version);
		GEN_KV(g, "source", x->source_line);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	GEN_STR(g, "error");
	if (e && e->code) {
		yajl_gen_map_open(g);
		gen_opt_str(g, "file", e->file[0] ? e->file : NULL);
		GEN_STR(g, "line");
		yajl_gen_integer(g, e->line);
		GEN_STR(g, "column");
		yajl_gen_integer(g, e->column);
		GEN_KV(g, "message", e->msg);
		gen_opt_str(g, "hint", e->hint[0] ? e->hint : NULL);
		yajl_gen_map_close(g);
	} else {
		yajl_gen_null(g);
	}
	yajl_gen_map_close(g);
	print_gen(g);
	yajl_gen_free(g);
}

/* "    code" for markdown: each line indented four spaces */
static void md_code(const char *s)
{
	fputs("    ", stdout);
	for (; *s; s++) {
		fputc(*s, stdout);
		if (*s == '\n')
			fputs("    ", stdout);
	}
	fputc('\n', stdout);
}

static void list_rules(enum format fmt)
{
	const strata_lint_rule *r;
	if (fmt == FORMAT_JSON) {
		yajl_gen g = yajl_gen_alloc(NULL);
		if (!g)
			return;
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
		yajl_gen_array_open(g);
		for (r = strata_lint_rules(); r->id; r++) {
			yajl_gen_map_open(g);
			GEN_KV(g, "id", r->id);
			GEN_KV(g, "severity", strata_lint_severity_name(r->severity));
			GEN_STR(g, "default");
			yajl_gen_bool(g, !r->off_by_default);
			GEN_KV(g, "reason", r->reason);
			GEN_KV(g, "fix", fix(r));
			GEN_KV(g, "bad", r->bad);
			GEN_KV(g, "good", r->good);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		print_gen(g);
		yajl_gen_free(g);
		return;
	}
	if (fmt == FORMAT_MARKDOWN) {
		printf("<!-- generated by 'strata lint --list-rules --format markdown' from "
		       "src/core/lint.c -->\n\n| rule | severity | reason |\n|---|---|---|\n");
		for (r = strata_lint_rules(); r->id; r++)
			printf("| [`%s`](#%s) | %s%s | %s |\n", r->id, r->id,
			       strata_lint_severity_name(r->severity),
			       r->off_by_default ? " (off by default)" : "", r->reason);
		for (r = strata_lint_rules(); r->id; r++) {
			printf("\n### %s\n\n**%s**", r->id, strata_lint_severity_name(r->severity));
			if (r->off_by_default)
				printf(" (off by default: turn it on with `--enable %s`)", r->id);
			printf(": %s.\n\nFix: %s.\n\nReported:\n\n", r->reason, fix(r));
			md_code(r->bad);
			printf("\nInstead:\n\n");
			md_code(r->good);
		}
		fflush(stdout);
		return;
	}
	for (r = strata_lint_rules(); r->id; r++)
		printf("%-36s %-8s %s%s\n%-36s %-8s fix: %s\n", r->id,
		       strata_lint_severity_name(r->severity),
		       r->off_by_default ? "(off by default) " : "", r->reason, "", "", fix(r));
	fflush(stdout);
}

int cmd_lint(struct cli_ctx *ctx, int argc, char **argv)
{
	cli_parser p;
	cli_config cfg;
	strata_lint_report *res = NULL;
	static const strata_lint_report none;
	strata_build_options lo = STRATA_BUILD_OPTIONS_INIT;
	strata_error e = STRATA_ERROR_INIT;
	const char *src = NULL, *dialect = NULL, *base_dirs[CLI_MAX_DIRS];
	size_t nbase = 0;
	enum format fmt = FORMAT_TEXT;
	int key, list = 0, rc = EXIT_OK, failed;

	cli_parser_init(&p, ctx->cmd, argc, argv);
	while ((key = cli_next(&p, argc, argv)) != CLI_OPT_END) {
		if (key == CLI_OPT_HELP)
			return EXIT_OK;
		if (key == CLI_OPT_BAD)
			return EXIT_USAGE;
		if (key == OPT_SRC) {
			src = optarg;
		} else if (key == OPT_DIALECT) {
			if (strata_dialect_parse(&lo.dialect, optarg, &e) < 0)
				return cli_usage_error(ctx->cmd,
				                       "unknown dialect '%s' (postgres "
				                       "or sqlite)",
				                       optarg);
			dialect = optarg;
		} else if (key == OPT_FORMAT) {
			if (strcmp(optarg, "text") == 0)
				fmt = FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				fmt = FORMAT_JSON;
			else if (strcmp(optarg, "markdown") == 0)
				fmt = FORMAT_MARKDOWN;
			else
				return cli_usage_error(
				    ctx->cmd, "unknown format '%s' (text or json)", optarg);
		} else if (key == OPT_STRICT) {
			lo.strict = true;
		} else if (key == OPT_ENABLE) {
			lo.enable = optarg;
		} else if (key == OPT_LIST_RULES) {
			list = 1;
		} else if (key == OPT_BASE) {
			if (nbase == CLI_MAX_DIRS)
				return cli_usage_error(ctx->cmd, "too many --base (at most %d)",
				                       CLI_MAX_DIRS);
			base_dirs[nbase++] = optarg;
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
	if (list) {
		list_rules(fmt);
		return EXIT_OK;
	}
	if (fmt == FORMAT_MARKDOWN)
		return cli_usage_error(ctx->cmd, "--format markdown goes with --list-rules");
	if ((rc = cli_load(ctx, &cfg)) != EXIT_OK)
		return rc;
	if (!src)
		src = cfg.src_dir;
	if ((rc = cli_dialect(ctx, dialect ? dialect : cfg.dialect, &cfg, &lo.dialect)) != EXIT_OK)
		goto done;
	out_verbose(ctx, "checking %s as %s SQL\n", src, strata_dialect_name(lo.dialect));
	lo.base_dirs = nbase ? base_dirs : (const char *const *)cfg.base_dirs;
	lo.nbase = nbase ? nbase : cfg.nbase;
	if (strata_lint(src, &lo, &res, &e) < 0)
		cli_dialect_hint(&e, lo.dialect, dialect ? dialect : cfg.dialect, &cfg);
	if (!res)
		res = (strata_lint_report *)&none;
	failed = e.code != 0 || res->errors > 0 || (lo.strict && res->warnings > 0);
	rc = failed ? EXIT_FAIL : EXIT_OK;
	if (fmt == FORMAT_JSON) {
		print_json(res, lo.dialect, &e, failed);
		if (e.code)
			out_error(&e);
		goto done;
	}
	cli_lint_print(stdout, res);
	if (e.code) {
		out_error(&e);
		goto done;
	}
	out_info(ctx, "%zu error%s, %zu warning%s in %zu migration%s (%s)%s\n", res->errors,
	         res->errors == 1 ? "" : "s", res->warnings, res->warnings == 1 ? "" : "s",
	         res->migrations, res->migrations == 1 ? "" : "s", strata_dialect_name(lo.dialect),
	         lo.strict && res->warnings && !res->errors ? "; warnings fail with --strict" : "");
done:
	if (res != &none)
		strata_lint_report_free(res);
	cli_config_free(&cfg);
	return rc;
}
