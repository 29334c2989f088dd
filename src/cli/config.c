#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
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
    {"max_replica_lag", offsetof(cli_config, max_replica_lag), false, NULL, false},
    {"replica_wait_timeout", offsetof(cli_config, replica_wait_timeout), false, NULL, false},
    {"require_database_url", offsetof(cli_config, require_database_url), false, NULL, true},
    {"base_dirs", offsetof(cli_config, base_dirs), true, NULL, false},
    {"dump_schema", offsetof(cli_config, dump_schema), true, NULL, false},
    {"sources", offsetof(cli_config, sources), true, NULL, false},
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

/* An error in "sources", naming strata.json, with an example. */
static int sources_error(const cli_config *c, strata_error *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sources_error(const cli_config *c, strata_error *e, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strata_error_at(e, c->config_path, 0, 0);
	strata_error_hint(e, "each source is a directory of migrations, or a build, for example "
	                     "\"sources\": [{\"name\": \"core\", \"src\": \"src/migrations\", "
	                     "\"dist\": \"dist/migrations\"}, \"plugins/reviews/migrations\"]");
	return strata_error_set(e, STRATA_EINVALID, "bad \"sources\": %s", msg);
}

/* A path of a source: a string that is not empty, made relative to the config's directory. */
static int source_path(cli_config *c, char **out, yajl_val v, size_t i, const char *key,
                       strata_error *e)
{
	if (!YAJL_IS_STRING(v) || !*v->u.string)
		return sources_error(c, e, "\"%s\" of source %zu must be a directory (a string)",
		                     key, i + 1);
	if (!(*out = in_project(c->project_dir, v->u.string)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

/* One entry of "sources": "dir", or {"name": ..., "src": ..., "dist": ...}. */
static int read_source(cli_config *c, cli_source *s, yajl_val v, size_t i, strata_error *e)
{
	static const char *const keys[] = {"name", "src", "dist"};
	const char *given = NULL;
	int error = 0;

	if (YAJL_IS_STRING(v)) {
		if ((error = source_path(c, &s->dist, v, i, "dist", e)) < 0)
			return error;
		return (s->name = strdup(v->u.string))
		           ? 0
		           : strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	if (!YAJL_IS_OBJECT(v))
		return sources_error(c, e, "source %zu is neither a directory nor an object",
		                     i + 1);
	for (size_t k = 0; k < v->u.object.len && error == 0; k++) {
		const char *key = v->u.object.keys[k];
		yajl_val val = v->u.object.values[k];
		size_t which = 0;
		while (which < 3 && strcmp(key, keys[which]) != 0)
			which++;
		if (which == 3)
			return sources_error(c, e,
			                     "source %zu has an unknown key '%s' (name, src, dist)",
			                     i + 1, key);
		if (which == 0 && (!YAJL_IS_STRING(val) || !*val->u.string))
			return sources_error(c, e, "\"name\" of source %zu must be a string",
			                     i + 1);
		if (which == 0) {
			free(s->name);
			if (!(s->name = strdup(val->u.string)))
				return strata_error_set(e, STRATA_ERROR, "out of memory");
			continue;
		}
		if (which == 1 || !given)
			given = val->u.string;
		error = source_path(c, which == 1 ? &s->src : &s->dist, val, i, key, e);
	}
	if (error < 0)
		return error;
	if (!s->dist)
		return sources_error(c, e,
		                     "source %zu has no \"dist\" (the directory its migrations "
		                     "are read from)",
		                     i + 1);
	if (!s->name && !(s->name = strdup(given)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	return 0;
}

/* "sources": the project's sources of migrations, in the order they build on each other. */
static int read_sources(cli_config *c, yajl_val v, strata_error *e)
{
	int error = 0;
	if (!YAJL_IS_ARRAY(v))
		return sources_error(c, e, "it must be a list");
	if (v->u.array.len == 0)
		return sources_error(c, e, "the list is empty");
	if (c->sources)
		return sources_error(c, e, "given twice");
	if (!(c->sources = calloc(v->u.array.len, sizeof(*c->sources))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	for (size_t i = 0; i < v->u.array.len && error == 0; i++) {
		error = read_source(c, &c->sources[c->nsources++], v->u.array.values[i], i, e);
		for (size_t j = 0; j + 1 < c->nsources && error == 0; j++)
			if (strcmp(c->sources[j].name, c->sources[i].name) == 0)
				error =
				    sources_error(c, e, "sources %zu and %zu are both named '%s'",
				                  j + 1, i + 1, c->sources[i].name);
	}
	return error;
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
		if (strcmp(k, "sources") == 0) {
			if ((error = read_sources(c, v, e)) < 0)
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

/* "sources" replaces "src_dir" and "dist_dir": both is a contradiction. */
static int sources_alone(const cli_config *c, strata_error *e)
{
	char *src = in_project(c->project_dir, "src/migrations");
	char *dist = in_project(c->project_dir, "dist/migrations");
	bool clash =
	    !src || !dist || strcmp(c->src_dir, src) != 0 || strcmp(c->dist_dir, dist) != 0;
	free(src);
	free(dist);
	if (clash)
		return sources_error(c, e,
		                     "it replaces \"src_dir\" and \"dist_dir\": give one or "
		                     "the other");
	return 0;
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
	if (out->nsources && (error = sources_alone(out, e)) < 0)
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
	free(c->max_replica_lag);
	free(c->replica_wait_timeout);
	free(c->statement_timeout);
	for (size_t i = 0; i < c->nbase; i++)
		free(c->base_dirs[i]);
	free(c->base_dirs);
	for (size_t i = 0; i < c->nsources; i++) {
		free(c->sources[i].name);
		free(c->sources[i].src);
		free(c->sources[i].dist);
	}
	free(c->sources);
	memset(c, 0, sizeof(*c));
}
