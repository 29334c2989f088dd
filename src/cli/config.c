#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static char *in_project(const char *project_dir, const char *rel)
{
	char *p = NULL;
	if (rel[0] == '/' || strcmp(project_dir, ".") == 0)
		return strdup(rel);
	return asprintf(&p, "%s/%s", project_dir, rel) < 0 ? NULL : p;
}

/* The whole file, NUL-terminated (the caller frees). */
static int read_file(char **out, const char *path, strata_error *e)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t len = 0, cap = 0, n;
	int error = 0;

	*out = NULL;
	if (!f) {
		strata_error_at(e, path, 0, 0);
		return strata_error_set(e, errno == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
		                        "cannot read '%s': %s", path, strerror(errno));
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(data, cap = (cap ? cap * 2 : 8192));
			if (!p) {
				error = strata_error_set(e, STRATA_ERROR, "out of memory");
				goto done;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		error = strata_error_set(e, STRATA_ERROR, "cannot read '%s'", path);
		goto done;
	}
	data[len] = '\0';
	*out = data;
	data = NULL;
done:
	free(data);
	fclose(f);
	return error;
}

/* The keys of strata.json: one table, so help, docs and checks agree. */
static const struct config_key {
	const char *name;
	size_t field; /* offsetof a char * in cli_config (an int for a boolean) */
	bool path;    /* relative to the config's directory */
	const char *const *allowed;
	bool boolean; /* true or false, not a string */
} config_keys[] = {
    {"database_url", offsetof(cli_config, config_url), false, NULL, false},
    {"src_dir", offsetof(cli_config, src_dir), true, NULL, false},
    {"dist_dir", offsetof(cli_config, dist_dir), true, NULL, false},
    {"dialect", offsetof(cli_config, dialect), false,
     (const char *const[]){"postgres", "sqlite", NULL}, false},
    {"lock_timeout", offsetof(cli_config, lock_timeout), false, NULL, false},
    {"statement_timeout", offsetof(cli_config, statement_timeout), false, NULL, false},
    {"lock_strategy", offsetof(cli_config, lock_strategy), false,
     (const char *const[]){"advisory", "table", NULL}, false},
    {"lock_ttl", offsetof(cli_config, lock_ttl), false, NULL, false},
    {"require_database_url", offsetof(cli_config, require_database_url), false, NULL, true},
    {"base_dirs", offsetof(cli_config, base_dirs), true, NULL, false},
    {"dump_schema", offsetof(cli_config, dump_schema), true, NULL, false},
};
#define N_CONFIG_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Points e at offset at of the string value raw in the config file: its line and column when
 * the file has it as written (no JSON escapes), else the file alone. */
static void config_locate(strata_error *e, const char *path, const char *raw, size_t at)
{
	strata_error scratch = STRATA_ERROR_INIT;
	char *text = NULL, *needle = NULL;
	const char *hit;
	unsigned line = 1, col = 1;

	if (read_file(&text, path, &scratch) == 0 && asprintf(&needle, "\"%s\"", raw) >= 0 &&
	    (hit = strstr(text, needle)) != NULL) {
		for (const char *p = text; p < hit + 1 + at; p++, col++)
			if (*p == '\n') {
				line++;
				col = 0;
			}
		strata_error_at(e, path, line, col);
	} else {
		strata_error_at(e, path, 0, 0);
	}
	free(needle);
	free(text);
}

/* A string of the config with its ${VAR} expanded (see cli/env.h), in *out. */
static int config_expand(const cli_config *c, cli_env *env, const char *raw, char **out,
                         strata_error *e)
{
	size_t at = 0;
	int error = cli_env_expand(env, raw, c->config_path, &at, out, e);
	if (error == STRATA_EINVALID)
		config_locate(e, c->config_path, raw, at);
	return error;
}

/* A directory of the config: expanded, and relative to the config's directory. */
static int config_dir(const cli_config *c, cli_env *env, const char *raw, char **out,
                      strata_error *e)
{
	char *dir = NULL;
	int error = config_expand(c, env, raw, &dir, e);
	if (error < 0)
		return error;
	*out = in_project(c->project_dir, dir);
	free(dir);
	return *out ? 0 : strata_error_set(e, STRATA_ERROR, "out of memory");
}

/* "base_dirs": a list of directories, each relative to the config's directory. */
static int read_base_dirs(cli_config *c, cli_env *env, yajl_val v, strata_error *e)
{
	if (!YAJL_IS_ARRAY(v)) {
		strata_error_at(e, c->config_path, 0, 0);
		strata_error_hint(e, "for example \"base_dirs\": [\"../core/dist/migrations\"]");
		return strata_error_set(e, STRATA_EINVALID,
		                        "'base_dirs' must be a list of directories");
	}
	for (size_t i = 0; i < c->nbase; i++)
		free(c->base_dirs[i]);
	free(c->base_dirs);
	c->nbase = 0;
	c->base_dirs = calloc(v->u.array.len + 1, sizeof(*c->base_dirs));
	if (!c->base_dirs)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val d = v->u.array.values[i];
		if (!YAJL_IS_STRING(d) || !*d->u.string) {
			strata_error_at(e, c->config_path, 0, 0);
			return strata_error_set(e, STRATA_EINVALID,
			                        "'base_dirs' must be a list of directories");
		}
		int error = config_dir(c, env, d->u.string, &c->base_dirs[c->nbase++], e);
		if (error < 0)
			return error;
	}
	return 0;
}

static int read_config_file(cli_config *c, cli_env *env, strata_error *e)
{
	char *text = NULL, errbuf[512];
	yajl_val root = NULL;
	int error = 0;

	if ((error = read_file(&text, c->config_path, e)) < 0)
		goto done;
	root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (!root || !YAJL_IS_OBJECT(root)) {
		char *nl = strchr(errbuf, '\n');
		if (nl)
			*nl = '\0';
		strata_error_at(e, c->config_path, 0, 0);
		strata_error_hint(e, "the config is a JSON object, for example "
		                     "{\"database_url\": \"postgres://app@localhost/app\"}");
		error = strata_error_set(e, STRATA_EINVALID, "cannot parse config: %s",
		                         root ? "not a JSON object" : errbuf);
		goto done;
	}
	for (size_t i = 0; i < root->u.object.len; i++) {
		const char *k = root->u.object.keys[i];
		yajl_val v = root->u.object.values[i];
		const struct config_key *key = NULL;
		char **slot;
		for (size_t j = 0; j < N_CONFIG_KEYS && !key; j++)
			if (strcmp(k, config_keys[j].name) == 0)
				key = &config_keys[j];
		if (!key) {
			char known[512];
			size_t kl = 0;
			strata_error_at(e, c->config_path, 0, 0);
			known[0] = '\0';
			for (size_t j = 0; j < N_CONFIG_KEYS && kl < sizeof(known); j++)
				kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s",
				                       j ? ", " : "", config_keys[j].name);
			strata_error_hint(e, "known keys: %s", known);
			error =
			    strata_error_set(e, STRATA_EINVALID, "unknown key '%s' in config", k);
			goto done;
		}
		if (strcmp(k, "base_dirs") == 0) {
			if ((error = read_base_dirs(c, env, v, e)) < 0)
				goto done;
			continue;
		}
		if (key->boolean) {
			if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
				strata_error_at(e, c->config_path, 0, 0);
				error = strata_error_set(e, STRATA_EINVALID,
				                         "'%s' must be true or false", k);
				goto done;
			}
			*(int *)((char *)c + key->field) = YAJL_IS_TRUE(v);
			continue;
		}
		if (!YAJL_IS_STRING(v)) {
			strata_error_at(e, c->config_path, 0, 0);
			error = strata_error_set(e, STRATA_EINVALID, "'%s' must be a string", k);
			goto done;
		}
		if (key->allowed) {
			size_t a = 0;
			while (key->allowed[a] && strcmp(key->allowed[a], v->u.string) != 0)
				a++;
			if (!key->allowed[a]) {
				strata_error_at(e, c->config_path, 0, 0);
				strata_error_hint(e, "'%s' is '%s' or '%s'", k, key->allowed[0],
				                  key->allowed[1]);
				error = strata_error_set(e, STRATA_EINVALID,
				                         "bad value '%s' for '%s'", v->u.string, k);
				goto done;
			}
		}
		slot = (char **)((char *)c + key->field);
		free(*slot);
		*slot = NULL;
		if (key->path && (error = config_dir(c, env, v->u.string, slot, e)) < 0)
			goto done;
		if (!key->path)
			*slot = strdup(v->u.string);
		if (!*slot) {
			error = strata_error_set(e, STRATA_ERROR, "out of memory");
			goto done;
		}
	}
done:
	yajl_tree_free(root);
	free(text);
	return error;
}

static bool is_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* A database URL that is set but empty is an error, never "use the default". */
static int empty_url(strata_error *e, const char *where)
{
	strata_error_hint(e,
	                  "a secret that failed to inject leaves it empty: set it to the database "
	                  "URL, or remove it to use the next source (see 'strata --help')");
	return strata_error_set(e, STRATA_EINVALID, "the database URL in %s is set but empty",
	                        where);
}

/* DATABASE_URL (or DATABASE_URL_FILE) from the environment, else from the env files, in *url;
 * NULL when none of them sets it. */
static int url_from_env(cli_config *c, cli_env *env, const char *default_env, char **url,
                        strata_error *e)
{
	cli_env_origin from;
	const char *where;
	int error = cli_env_secret(env, "DATABASE_URL", url, &from, e);

	if (error < 0 || !*url)
		return error;
	if (!from.file) {
		c->url_source = from.via_file ? "DATABASE_URL_FILE" : "DATABASE_URL";
		where = "the DATABASE_URL environment variable";
	} else {
		/* the default env file is ".env" whatever the project's directory */
		const char *name =
		    default_env && strcmp(from.file, default_env) == 0 ? ".env" : from.file;
		if (asprintf(&c->url_source_buf, "%s%s", name,
		             from.via_file ? " (DATABASE_URL_FILE)" : "") < 0) {
			c->url_source_buf = NULL;
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		c->url_source = c->url_source_buf;
		where = from.file;
	}
	if (from.via_file)
		where = "the file DATABASE_URL_FILE names";
	if (is_blank(*url)) {
		free(*url);
		*url = NULL;
		return empty_url(e, where);
	}
	return 0;
}

int cli_config_load(cli_config *out, const char *config_path, const char *cli_url, strata_error *e)
{
	return cli_config_load_env(out, config_path, cli_url, NULL, 0, e);
}

int cli_config_load_env(cli_config *out, const char *config_path, const char *cli_url,
                        const char *const *env_files, size_t nenv, strata_error *e)
{
	char *env_path = NULL, *url = NULL;
	cli_env *env = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (config_path) {
		const char *slash = strrchr(config_path, '/');
		out->config_path = strdup(config_path);
		out->project_dir = slash ? strndup(config_path, (size_t)(slash - config_path) +
		                                                    (slash == config_path))
		                         : strdup(".");
	} else {
		out->project_dir = strdup(".");
		if (access(CLI_CONFIG_FILE, F_OK) == 0)
			out->config_path = strdup(CLI_CONFIG_FILE);
	}
	out->src_dir = in_project(out->project_dir ? out->project_dir : ".", "src/migrations");
	out->dist_dir = in_project(out->project_dir ? out->project_dir : ".", "dist/migrations");
	if (!out->project_dir || !out->src_dir || !out->dist_dir ||
	    (config_path && !out->config_path)) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if (!(env_path = in_project(out->project_dir, ".env"))) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	if ((error = cli_env_load(&env, env_files, nenv, env_path, e)) < 0)
		goto done;
	if (out->config_path && (error = read_config_file(out, env, e)) < 0)
		goto done;

	if (cli_url) {
		url = strdup(cli_url);
		out->url_source = "--database-url";
	} else if ((error = url_from_env(out, env, env_path, &url, e)) < 0) {
		goto done;
	} else if (!url) {
		if (out->config_url) {
			if ((error = config_expand(out, env, out->config_url, &url, e)) < 0)
				goto done;
			if (is_blank(url)) {
				error = empty_url(e, out->config_path);
				goto done;
			}
			out->url_source = "config";
		} else if (out->require_database_url) {
			strata_error_at(e, out->config_path, 0, 0);
			strata_error_hint(
			    e, "give the database with --database-url or DATABASE_URL "
			       "(or DATABASE_URL in .env, \"database_url\" in the config)");
			error =
			    strata_error_set(e, STRATA_EINVALID,
			                     "no database URL, and this project allows no SQLite "
			                     "default (\"require_database_url\": true)");
			goto done;
		} else {
			if (asprintf(&url, "sqlite:%s%s" CLI_DEFAULT_SQLITE,
			             strcmp(out->project_dir, ".") != 0 ? out->project_dir : "",
			             strcmp(out->project_dir, ".") != 0 ? "/" : "") < 0)
				url = NULL;
			out->url_source = "default";
		}
	}
	if (!url) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
		goto done;
	}
	out->database_url = url;
	url = NULL;
done:
	cli_env_free(env);
	free(env_path);
	free(url);
	if (error < 0)
		cli_config_free(out);
	return error;
}

void cli_config_free(cli_config *c)
{
	if (!c)
		return;
	free(c->project_dir);
	free(c->config_path);
	free(c->url_source_buf);
	if (c->database_url)
		memset(c->database_url, 0, strlen(c->database_url));
	free(c->database_url);
	free(c->src_dir);
	free(c->dist_dir);
	free(c->config_url);
	free(c->dialect);
	free(c->dump_schema);
	free(c->lock_timeout);
	free(c->lock_strategy);
	free(c->lock_ttl);
	free(c->statement_timeout);
	for (size_t i = 0; i < c->nbase; i++)
		free(c->base_dirs[i]);
	free(c->base_dirs);
	memset(c, 0, sizeof(*c));
}
