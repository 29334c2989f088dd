/* env.c: env files, ${VAR} expansion and NAME_FILE secrets (see env.h). No message here ever
 * holds a value: only names of variables and files, and places. */
#include "cli/env.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_VALUE_MAX (64 * 1024) /* an expanded value; more is a mistake (or a loop of copies) */
#define ENV_DEPTH_MAX 64          /* variables whose values refer to variables, nested */

/* One assignment of an env file, as written. */
struct env_var {
	char *name, *raw;
	char quote;         /* '\'', '"' or 0 */
	const char *file;   /* one of cli_env.files */
	unsigned line, col; /* of the value's first character */
	char *value;        /* expanded, once something used it */
};

struct cli_env {
	char **files;
	size_t nfiles;
	struct env_var *vars;
	size_t nvars, cap;
	int depth;
};

/* ---- reading an env file ----------------------------------------------------------------- */

/* An assignment on one line: where its name and its value (without quotes) are. */
struct dotenv_line {
	const char *name, *value;
	size_t name_len, value_len;
	char quote;
};

/* Whether the line [p, eol) assigns a variable; fills l. */
static bool dotenv_parse_line(const char *p, const char *eol, struct dotenv_line *l)
{
	const char *s = p, *v, *ve;

	while (s < eol && isspace((unsigned char)*s))
		s++;
	if (eol - s > 7 && strncmp(s, "export ", 7) == 0)
		s += 7;
	while (s < eol && isspace((unsigned char)*s))
		s++;
	if (s == eol || *s == '#')
		return false;
	l->name = s;
	while (s < eol && *s != '=' && *s != ' ' && *s != '\t')
		s++;
	l->name_len = (size_t)(s - l->name);
	while (s < eol && (*s == ' ' || *s == '\t'))
		s++;
	if (l->name_len == 0 || s == eol || *s != '=')
		return false;
	v = s + 1;
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	l->quote = 0;
	if (v < eol && (*v == '"' || *v == '\'')) {
		l->quote = *v++;
		ve = memchr(v, l->quote, (size_t)(eol - v));
		if (!ve)
			ve = eol;
	} else {
		/* '#' starts a comment only after white space: pa#ss is a value */
		for (ve = v; ve < eol; ve++)
			if (*ve == '#' && ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				break;
		while (ve > v && isspace((unsigned char)ve[-1]))
			ve--;
	}
	l->value = v;
	l->value_len = (size_t)(ve - v);
	return true;
}

int cli_dotenv_get(char **out, const char *text, const char *key, strata_error *e)
{
	size_t kl = strlen(key);
	struct dotenv_line l;

	*out = NULL;
	for (const char *p = text; *p;) { /* the last assignment wins, as in a shell */
		const char *eol = p + strcspn(p, "\n");
		if (dotenv_parse_line(p, eol, &l) && l.name_len == kl &&
		    strncmp(l.name, key, kl) == 0) {
			free(*out);
			if (!(*out = strndup(l.value, l.value_len)))
				return strata_error_set(e, STRATA_ERROR, "out of memory");
		}
		p = *eol ? eol + 1 : eol;
	}
	return *out ? 0 : STRATA_ENOTFOUND;
}

int cli_env_new(cli_env **out, strata_error *e)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : strata_error_set(e, STRATA_ERROR, "out of memory");
}

void cli_env_free(cli_env *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->nvars; i++) {
		struct env_var *v = &env->vars[i];
		memset(v->raw, 0, strlen(v->raw)); /* secrets live here */
		free(v->raw);
		if (v->value)
			memset(v->value, 0, strlen(v->value));
		free(v->value);
		free(v->name);
	}
	for (size_t i = 0; i < env->nfiles; i++)
		free(env->files[i]);
	free(env->files);
	free(env->vars);
	free(env);
}

static int env_push(cli_env *env, const struct dotenv_line *l, const char *file, unsigned line,
                    unsigned col)
{
	struct env_var *v;
	if (env->nvars == env->cap) {
		size_t cap = env->cap ? env->cap * 2 : 16;
		struct env_var *p = realloc(env->vars, cap * sizeof(*p));
		if (!p)
			return -1;
		env->vars = p;
		env->cap = cap;
	}
	v = &env->vars[env->nvars];
	memset(v, 0, sizeof(*v));
	v->name = strndup(l->name, l->name_len);
	v->raw = strndup(l->value, l->value_len);
	if (!v->name || !v->raw) {
		free(v->name);
		free(v->raw);
		return -1;
	}
	v->quote = l->quote;
	v->file = file;
	v->line = line;
	v->col = col;
	env->nvars++;
	return 0;
}

int cli_env_add_text(cli_env *env, const char *text, const char *file, strata_error *e)
{
	char **files = realloc(env->files, (env->nfiles + 1) * sizeof(*files));
	unsigned line = 1;

	if (!files)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	env->files = files;
	if (!(files[env->nfiles] = strdup(file)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	file = files[env->nfiles++];
	for (const char *p = text; *p; line++) {
		const char *eol = p + strcspn(p, "\n");
		struct dotenv_line l;
		if (dotenv_parse_line(p, eol, &l) &&
		    env_push(env, &l, file, line, (unsigned)(l.value - p) + 1) < 0)
			return strata_error_set(e, STRATA_ERROR, "out of memory");
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

/* The whole of path, NUL-terminated, in *out (the caller frees); -1 with errno set on failure. */
static int slurp(const char *path, char **out, size_t *len_out)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t len = 0, cap = 0, n;
	int saved;

	*out = NULL;
	if (!f)
		return -1;
	do {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(data, cap = (cap ? cap * 2 : 8192));
			if (!p) {
				errno = ENOMEM;
				goto fail;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f))
		goto fail;
	fclose(f);
	data[len] = '\0';
	*out = data;
	*len_out = len;
	return 0;
fail:
	saved = errno ? errno : EIO;
	if (data)
		memset(data, 0, len);
	free(data);
	fclose(f);
	errno = saved;
	return -1;
}

static int load_file(cli_env *env, const char *path, strata_error *e)
{
	char *text = NULL;
	size_t len;
	int error;

	errno = 0;
	if (slurp(path, &text, &len) < 0) {
		strata_error_at(e, path, 0, 0);
		strata_error_hint(e, "--env-file names a file that must exist (without --env-file, "
		                     "strata reads the project's .env when there is one)");
		return strata_error_set(e, errno == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
		                        "cannot read env file '%s': %s", path, strerror(errno));
	}
	error = cli_env_add_text(env, text, path, e);
	memset(text, 0, len);
	free(text);
	return error;
}

int cli_env_load(cli_env **out, const char *const *files, size_t nfiles, const char *default_file,
                 strata_error *e)
{
	int error = cli_env_new(out, e);

	for (size_t i = 0; i < nfiles && error == 0; i++)
		error = load_file(*out, files[i], e);
	if (error == 0 && nfiles == 0 && default_file && access(default_file, F_OK) == 0)
		error = load_file(*out, default_file, e);
	if (error < 0) {
		cli_env_free(*out);
		*out = NULL;
	}
	return error;
}

/* ---- expansion ----------------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom, too_long;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom || b->too_long)
		return;
	if (b->len + n > ENV_VALUE_MAX) {
		b->too_long = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_wipe(struct sbuf *b)
{
	if (b->p)
		memset(b->p, 0, b->cap);
	free(b->p);
	b->p = NULL;
}

/* One expansion: text, where it is, and what it sees. */
struct xp {
	cli_env *env;
	size_t before;      /* the assignments [0, before) are visible */
	const char *text;   /* what is expanded */
	const char *file;   /* for messages; NULL when none */
	unsigned line, col; /* of text[0]; line 0: unknown (the caller places the error) */
	bool env_file;      /* text is a value in an env file */
	size_t at;          /* an error's offset in text */
	struct sbuf out;
};

/* Points e at p (a place in x->text). */
static void xp_at(struct xp *x, const char *p, strata_error *e)
{
	x->at = (size_t)(p - x->text);
	strata_error_at(e, x->file, x->line, x->line ? x->col + (unsigned)x->at : 0);
}

static int var_value(cli_env *env, size_t i, strata_error *e);

/* NAME's value as x sees it: the process environment's, else that of the last assignment before
 * x->before (expanded), else NULL. */
static int lookup(struct xp *x, const char *name, const char **val, strata_error *e)
{
	const char *v = getenv(name);
	*val = v;
	if (v)
		return 0;
	for (size_t i = x->before; i-- > 0;)
		if (strcmp(x->env->vars[i].name, name) == 0) {
			int error = var_value(x->env, i, e);
			*val = x->env->vars[i].value;
			return error;
		}
	return 0;
}

/* The variable of '${' at start: its value (NULL when unset and not required). */
static int xp_var(struct xp *x, const char *start, const char *name, size_t n, bool required,
                  const char **val, strata_error *e)
{
	char *nm = strndup(name, n);
	int error;

	if (!nm)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	error = lookup(x, nm, val, e);
	if (error == 0 && !*val && required) {
		for (size_t i = x->before; i < x->env->nvars; i++)
			if (x->env_file && strcmp(x->env->vars[i].name, nm) == 0) {
				strata_error_detail(e, "%s is set below, at %s:%u: move it above",
				                    nm, x->env->vars[i].file, x->env->vars[i].line);
				break;
			}
		xp_at(x, start, e);
		strata_error_hint(
		    e,
		    "set %s in the environment or %s, or give a default: ${%s:-VALUE} "
		    "(a literal '$' is written $$)",
		    nm, x->env_file ? "above this line" : "an env file (.env)", nm);
		error = strata_error_set(e, STRATA_EINVALID, "variable '%s' is not set", nm);
	}
	free(nm);
	return error;
}

static int xp_syntax(struct xp *x, const char *p, const char *msg, strata_error *e)
{
	xp_at(x, p, e);
	if (strcmp(msg, "'$' starts no variable") == 0)
		strata_error_hint(e, "write ${NAME} for a variable and $$ for a literal '$'%s",
		                  x->env_file ? " (or quote the value with '...': it is literal)"
		                              : "");
	else if (strcmp(msg, "bad variable name after '${'") == 0)
		strata_error_hint(e, "a name is letters, digits and '_', and does not start with a "
		                     "digit: ${DB_PASSWORD}");
	else
		strata_error_hint(e, "write ${NAME}, or ${NAME:-DEFAULT} for a default");
	return strata_error_set(e, STRATA_EINVALID, "%s", msg);
}

/* Expands from *pp to the end (in_default: to the '}' that closes it), into x->out unless skip
 * (a default not used: it is only checked). */
static int xp_run(struct xp *x, const char **pp, bool in_default, bool skip, strata_error *e)
{
	const char *p = *pp;
	int error;

	while (*p && !(in_default && *p == '}')) {
		const char *start = p, *name, *val = NULL;
		bool use_default;
		if (*p != '$' || p[1] == '$') {
			if (!skip)
				sb_put(&x->out, p, 1);
			p += *p == '$' ? 2 : 1;
			continue;
		}
		if (p[1] != '{')
			return xp_syntax(x, p, "'$' starts no variable", e);
		name = p += 2;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == name || isdigit((unsigned char)*name))
			return xp_syntax(x, start, "bad variable name after '${'", e);
		if (*p == '\0')
			return xp_syntax(x, start, "'${' without its closing '}'", e);
		if (*p != '}' && !(p[0] == ':' && p[1] == '-'))
			return xp_syntax(x, p, "expected '}' or ':-' after the variable's name", e);
		if (!skip &&
		    (error = xp_var(x, start, name, (size_t)(p - name), *p == '}', &val, e)) < 0)
			return error;
		if (*p == '}') {
			if (!skip)
				sb_put(&x->out, val, strlen(val));
			p++;
			continue;
		}
		p += 2;
		use_default = !skip && (!val || !*val);
		if (!skip && !use_default)
			sb_put(&x->out, val, strlen(val));
		if ((error = xp_run(x, &p, true, !use_default, e)) < 0)
			return error;
		if (*p != '}')
			return xp_syntax(x, start, "'${' without its closing '}'", e);
		p++;
	}
	*pp = p;
	return 0;
}

/* Runs x over its text; the result in *out (never NULL on success). */
static int xp_all(struct xp *x, char **out, strata_error *e)
{
	const char *p = x->text;
	int error = xp_run(x, &p, false, false, e);

	*out = NULL;
	if (error == 0 && x->out.too_long) {
		xp_at(x, x->text, e);
		strata_error_hint(e,
		                  "a value is a URL, a path or a password: look for variables that "
		                  "copy each other over and over");
		error =
		    strata_error_set(e, STRATA_EINVALID, "the value expands to more than %d KiB",
		                     ENV_VALUE_MAX / 1024);
	}
	if (error == 0 && !x->out.oom && !x->out.p)
		sb_put(&x->out, "", 0);
	if (error == 0 && (x->out.oom || !x->out.p))
		error = strata_error_set(e, STRATA_ERROR, "out of memory");
	if (error < 0) {
		sb_wipe(&x->out);
		return error;
	}
	*out = x->out.p;
	x->out.p = NULL;
	return 0;
}

/* Expands assignment i, once. */
static int var_value(cli_env *env, size_t i, strata_error *e)
{
	struct env_var *v = &env->vars[i];
	struct xp x = {.env = env, .before = i, .text = v->raw, .file = v->file};
	int error;

	if (v->value)
		return 0;
	if (v->quote == '\'')
		return (v->value = strdup(v->raw))
		           ? 0
		           : strata_error_set(e, STRATA_ERROR, "out of memory");
	x.line = v->line;
	x.col = v->col;
	x.env_file = true;
	if (env->depth >= ENV_DEPTH_MAX) {
		xp_at(&x, v->raw, e);
		return strata_error_set(e, STRATA_EINVALID,
		                        "variables refer to variables more than %d deep",
		                        ENV_DEPTH_MAX);
	}
	env->depth++;
	error = xp_all(&x, &v->value, e);
	env->depth--;
	return error;
}

int cli_env_expand(cli_env *env, const char *text, const char *file, size_t *at, char **out,
                   strata_error *e)
{
	struct xp x = {.env = env, .before = env->nvars, .text = text, .file = file};
	int error = xp_all(&x, out, e);
	*at = x.at;
	return error;
}

/* ---- NAME_FILE ----------------------------------------------------------------------------- */

/* The contents of the file that var (set at from's place, or in the environment) names. */
static int read_secret(const char *path, const char *var, const cli_env_origin *from, char **out,
                       strata_error *e)
{
	size_t len = 0;
	int error;

	errno = 0;
	if (!*path) {
		strata_error_at(e, from->file, from->line, 0);
		strata_error_hint(
		    e, "set it to the path of the file that holds the value, or unset it");
		return strata_error_set(e, STRATA_EINVALID, "%s is set but empty%s", var,
		                        from->file ? "" : " in the environment");
	}
	if (slurp(path, out, &len) < 0) {
		strata_error_hint(e, "fix the path in %s, or unset it", var);
		error = strata_error_set(e, errno == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
		                         "cannot read the file %s names: %s", var, strerror(errno));
		goto fail;
	}
	while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
		(*out)[--len] = '\0';
	if (len > 0)
		return 0;
	free(*out);
	*out = NULL;
	strata_error_hint(e,
	                  "a secret that failed to mount leaves it empty: write the value into it, "
	                  "or unset %s",
	                  var);
	error = strata_error_set(e, STRATA_EINVALID, "the file %s names is empty", var);
fail:
	strata_error_at(e, path, 0, 0);
	if (from->file)
		strata_error_detail(e, "%s is set at %s:%u", var, from->file, from->line);
	return error;
}

/* The last assignment of name in the env files, or -1. */
static long last_var(const cli_env *env, const char *name)
{
	for (size_t i = env->nvars; i-- > 0;)
		if (strcmp(env->vars[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int both_set(const char *name, const char *fname, const struct env_var *a,
                    const struct env_var *b, strata_error *e)
{
	const struct env_var *later = a && b && b > a ? b : a;
	if (a && b) {
		strata_error_at(e, later->file, later->line, 0);
		strata_error_detail(e, "%s is set at %s:%u, %s at %s:%u", name, a->file, a->line,
		                    fname, b->file, b->line);
	}
	strata_error_hint(
	    e, "%s %s to read the value from the file %s names, or %s to use %s as it is",
	    a ? "remove" : "unset", name, fname, fname, name);
	return strata_error_set(e, STRATA_EINVALID, "both %s and %s are set%s", name, fname,
	                        a ? " in the env files" : " in the environment");
}

int cli_env_secret(cli_env *env, const char *name, char **out, cli_env_origin *from,
                   strata_error *e)
{
	char fname[256];
	const char *v = getenv(name), *f;
	long iv, ifl;
	int error;

	*out = NULL;
	memset(from, 0, sizeof(*from));
	snprintf(fname, sizeof(fname), "%s_FILE", name);
	f = getenv(fname);
	if (v && f)
		return both_set(name, fname, NULL, NULL, e);
	if (v)
		return (*out = strdup(v)) ? 0 : strata_error_set(e, STRATA_ERROR, "out of memory");
	if (f) {
		from->via_file = true;
		return read_secret(f, fname, from, out, e);
	}
	iv = last_var(env, name);
	ifl = last_var(env, fname);
	if (iv >= 0 && ifl >= 0)
		return both_set(name, fname, &env->vars[iv], &env->vars[ifl], e);
	if (iv < 0 && ifl < 0)
		return 0;
	from->file = env->vars[iv >= 0 ? iv : ifl].file;
	from->line = env->vars[iv >= 0 ? iv : ifl].line;
	if ((error = var_value(env, (size_t)(iv >= 0 ? iv : ifl), e)) < 0)
		return error;
	if (iv >= 0)
		return (*out = strdup(env->vars[iv].value))
		           ? 0
		           : strata_error_set(e, STRATA_ERROR, "out of memory");
	from->via_file = true;
	return read_secret(env->vars[ifl].value, fname, from, out, e);
}
