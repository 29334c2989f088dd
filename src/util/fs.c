#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

int strata_fs_read(char **out, size_t *len_out, const char *path, strata_error *e)
{
	int fd = -1, error = 0;
	char *data = NULL;
	struct stat st;
	size_t got = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		char target[512];
		ssize_t tl;
		if (err == ENOENT && (tl = readlink(path, target, sizeof(target) - 1)) > 0) {
			target[tl] = '\0';
			strata_error_hint(e, "restore '%s', or remove the link", target);
			error =
			    strata_error_set(e, STRATA_ENOTFOUND,
			                     "symbolic link to '%s', which does not exist", target);
		} else {
			error = strata_error_set(e, err == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
			                         "cannot read '%s': %s", path, strerror(err));
		}
		strata_error_at(e, path, 0, 0);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = strata_error_set(e, STRATA_EINVALID, "cannot read '%s': not a regular file",
		                         path);
		goto done;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		error = strata_error_set(e, STRATA_ERROR, "out of memory reading '%s'", path);
		goto done;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error =
			    strata_error_set(e, STRATA_ERROR, "cannot read '%s': %s", path,
			                     n < 0 ? strerror(errno) : "file shrank while reading");
			goto done;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	data = NULL;
	if (len_out)
		*len_out = got;
done:
	if (fd >= 0)
		close(fd);
	free(data);
	return error;
}

static bool tmp_name(char *buf, size_t size, const char *path)
{
	int n = snprintf(buf, size, "%s.tmp.%ld", path, (long)getpid());
	return n >= 0 && (size_t)n < size;
}

int strata_fs_atomic_open(strata_fs_atomic *w, const char *path, strata_error *e)
{
	w->path = path;
	w->fd = -1;
	if (!tmp_name(w->tmp, sizeof(w->tmp), path)) {
		w->tmp[0] = '\0';
		return strata_error_set(e, STRATA_EINVALID, "path too long: '%s'", path);
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return strata_error_set(e, STRATA_ERROR, "cannot write '%s': %s", path,
		                        strerror(errno));
	return 0;
}

int strata_fs_atomic_write(strata_fs_atomic *w, const void *data, size_t len, strata_error *e)
{
	size_t done_len = 0;
	while (done_len < len) {
		ssize_t n = write(w->fd, (const char *)data + done_len, len - done_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return strata_error_set(e, STRATA_ERROR, "cannot write '%s': %s", w->path,
			                        strerror(errno));
		done_len += (size_t)n;
	}
	return 0;
}

int strata_fs_atomic_close(strata_fs_atomic *w, int sync, strata_error *e)
{
	int fd = w->fd;
	bool synced;
	if (fd < 0)
		return 0;
	synced = !sync || fsync(fd) == 0;
	w->fd = -1;
	if (close(fd) < 0 || !synced) {
		int error = strata_error_set(e, STRATA_ERROR, "cannot write '%s': %s", w->path,
		                             strerror(errno));
		unlink(w->tmp);
		return error;
	}
	return 0;
}

int strata_fs_atomic_commit(strata_fs_atomic *w, int sync, strata_error *e)
{
	int error = strata_fs_atomic_close(w, sync, e);
	if (error < 0)
		return error;
	if (rename(w->tmp, w->path) < 0) {
		error = strata_error_set(e, STRATA_ERROR, "cannot write '%s': %s", w->path,
		                         strerror(errno));
		unlink(w->tmp);
	}
	return error;
}

void strata_fs_atomic_abort(strata_fs_atomic *w)
{
	if (w->fd < 0)
		return;
	close(w->fd);
	w->fd = -1;
	unlink(w->tmp);
}

int strata_fs_atomic_rename(const char *path, strata_error *e)
{
	char tmp[4096];
	if (!tmp_name(tmp, sizeof(tmp), path))
		return strata_error_set(e, STRATA_EINVALID, "path too long: '%s'", path);
	if (rename(tmp, path) < 0)
		return strata_error_set(e, STRATA_ERROR, "cannot write '%s': %s", path,
		                        strerror(errno));
	return 0;
}

void strata_fs_atomic_discard(const char *path)
{
	char tmp[4096];
	if (tmp_name(tmp, sizeof(tmp), path))
		unlink(tmp);
}

int strata_fs_write_atomic(const char *path, const void *data, size_t len, int sync,
                           strata_error *e)
{
	strata_fs_atomic w;
	int error;
	if ((error = strata_fs_atomic_open(&w, path, e)) < 0)
		return error;
	if ((error = strata_fs_atomic_write(&w, data, len, e)) < 0) {
		strata_fs_atomic_abort(&w);
		return error;
	}
	return strata_fs_atomic_commit(&w, sync, e);
}

int strata_fs_mkdirs(const char *path, strata_error *e)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return strata_error_set(e, STRATA_EINVALID, "bad directory name '%s'", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return strata_error_set(e, STRATA_ERROR, "cannot create directory '%s': %s",
			                        buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return strata_error_set(e, STRATA_ERROR, "cannot create directory '%s': %s", buf,
		                        strerror(errno));
	if (!strata_fs_is_dir(buf))
		return strata_error_set(e, STRATA_EINVALID, "'%s' exists and is not a directory",
		                        buf);
	return 0;
}

int strata_fs_names_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *strata_fs_base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int strata_fs_each(const char *dir, int (*fn)(void *ud, const char *name), void *ud,
                   strata_error *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int error = 0;

	if (!d)
		return strata_error_set(e, errno == ENOENT ? STRATA_ENOTFOUND : STRATA_ERROR,
		                        "cannot open directory '%s': %s", dir, strerror(errno));
	while (error >= 0 && (de = readdir(d)) != NULL) {
		char *full;
		struct stat st;
		int is_file;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type == DT_REG) {
			is_file = 1;
		} else if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
			full = strata_fs_join(dir, de->d_name);
			/* a symbolic link to nothing is listed too: reading it then says so, where
			 * skipping it would lose a migration without a word */
			is_file = full && (stat(full, &st) == 0
			                       ? S_ISREG(st.st_mode)
			                       : errno == ENOENT && lstat(full, &st) == 0 &&
			                             S_ISLNK(st.st_mode));
			free(full);
		} else {
			is_file = 0;
		}
		if (is_file)
			error = fn(ud, de->d_name);
	}
	closedir(d);
	return error < 0 ? error : 0;
}

struct list {
	char **names;
	size_t n, cap;
	bool oom;
};

static int list_one(void *ud, const char *name)
{
	struct list *l = ud;
	if (l->n + 2 > l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		char **p = realloc(l->names, ncap * sizeof(*p));
		if (!p)
			return l->oom = true, -1;
		l->names = p;
		l->cap = ncap;
	}
	if (!(l->names[l->n] = strdup(name)))
		return l->oom = true, -1;
	l->names[++l->n] = NULL;
	return 0;
}

int strata_fs_list(char ***out, size_t *n_out, const char *dir, strata_error *e)
{
	struct list l = {0};
	int error = strata_fs_each(dir, list_one, &l, e);

	*out = NULL;
	*n_out = 0;
	if (l.oom)
		error = strata_error_set(e, STRATA_ERROR, "out of memory listing '%s'", dir);
	if (error < 0) {
		for (size_t i = 0; i < l.n; i++)
			free(l.names[i]);
		free(l.names);
		return error;
	}
	if (l.n)
		qsort(l.names, l.n, sizeof(*l.names), strata_fs_names_cmp);
	*out = l.names;
	*n_out = l.n;
	return 0;
}

void strata_fs_names_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

char *strata_fs_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	int slash = dl > 0 && dir[dl - 1] != '/';
	char *p = malloc(dl + (size_t)slash + nl + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	if (slash)
		p[dl] = '/';
	memcpy(p + dl + (size_t)slash, name, nl + 1);
	return p;
}

int strata_fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
