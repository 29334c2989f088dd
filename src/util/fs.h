/* fs.h: files and directories, with errors that name the path. */
#ifndef STRATA_UTIL_FS_H
#define STRATA_UTIL_FS_H

#include <stddef.h>

#include "strata.h"

/* Reads the whole file into *out (NUL-terminated, caller frees); *len_out gets its size. */
int strata_fs_read(char **out, size_t *len_out, const char *path, strata_error *e);
/* Writes data to path through a temporary file and rename(2): readers see the old file or the
 * new one, never half of one. With `sync`, the data is on disk before the rename. */
int strata_fs_write_atomic(const char *path, const void *data, size_t len, int sync,
                           strata_error *e);
/* The same in steps: open, write any number of times, then commit (close, and rename into
 * place; with `sync`, the data is on disk first) or abort (the temporary file is removed). A
 * writer may also close first and leave its temporary file complete, to be put in place later
 * by strata_fs_atomic_rename (several files made ready before any of them replaces its old
 * one), or removed by strata_fs_atomic_discard. The temporary file is path + ".tmp.<pid>". */
typedef struct strata_fs_atomic {
	const char *path; /* borrowed: must outlive the writer */
	char tmp[4096];
	int fd;
} strata_fs_atomic;
int strata_fs_atomic_open(strata_fs_atomic *w, const char *path, strata_error *e);
int strata_fs_atomic_write(strata_fs_atomic *w, const void *data, size_t len, strata_error *e);
int strata_fs_atomic_close(strata_fs_atomic *w, int sync, strata_error *e);
int strata_fs_atomic_commit(strata_fs_atomic *w, int sync, strata_error *e);
void strata_fs_atomic_abort(strata_fs_atomic *w);
/* For a writer closed earlier in this process: its temporary file of path, into place or
 * removed. */
int strata_fs_atomic_rename(const char *path, strata_error *e);
void strata_fs_atomic_discard(const char *path);
/* mkdir -p. */
int strata_fs_mkdirs(const char *path, strata_error *e);
/* The names of the regular files in dir, sorted by strcmp; *out is a NULL-terminated array the
 * caller frees with strata_fs_names_free. */
int strata_fs_list(char ***out, size_t *n_out, const char *dir, strata_error *e);
/* The same names given to fn one at a time, in the directory's order (not sorted), holding
 * none; fn's return below 0 stops it and is returned. */
int strata_fs_each(const char *dir, int (*fn)(void *ud, const char *name), void *ud,
                   strata_error *e);
void strata_fs_names_free(char **names);
/* A qsort/bsearch comparator for arrays of C strings, in strata_fs_list's order. */
int strata_fs_names_cmp(const void *a, const void *b);
/* The part of path after its last '/' (path itself when it has none). */
const char *strata_fs_base_name(const char *path);
/* "dir/name" into a new allocation, NULL on OOM. */
char *strata_fs_join(const char *dir, const char *name);
int strata_fs_is_dir(const char *path);

#endif
