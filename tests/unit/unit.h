/*
 * unit.h: what every tests/unit/test_<module>.c includes: cmocka (which wants these headers first)
 * and small fixture helpers for tests that need files on disk.
 *
 * Run one: CMOCKA_MESSAGE_OUTPUT=TAP build/tests/unit/test_buf
 * Run all: CMOCKA_MESSAGE_OUTPUT=TAP prove build/tests/unit/
 * Each file runs exactly one group, so its TAP output has exactly one plan line.
 */
#ifndef STRATA_TESTS_UNIT_H
#define STRATA_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strata.h"

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the path and removes the tree. */
static inline char *unit_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char buf[4096];
	char *dir;
	int n = snprintf(buf, sizeof(buf), "%s/strata-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	dir = mkdtemp(buf);
	assert_non_null(dir);
	dir = strdup(dir);
	assert_non_null(dir);
	return dir;
}

/* "a/b" into a new allocation (asserts on OOM). */
static inline char *unit_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static inline void unit_write_len(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = unit_path(dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot create '%s': %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static inline void unit_write(const char *dir, const char *name, const char *data)
{
	unit_write_len(dir, name, data, strlen(data));
}

static inline void unit_remove(const char *dir, const char *name)
{
	char *path = unit_path(dir, name);
	assert_int_equal(unlink(path), 0);
	free(path);
}

static inline char *unit_mkdir(const char *dir, const char *name)
{
	char *path = unit_path(dir, name);
	if (mkdir(path, 0755) < 0)
		fail_msg("cannot create directory '%s': %s", path, strerror(errno));
	return path;
}

static inline int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf dir, then frees dir. */
static inline void unit_rmtree(char *dir)
{
	if (!dir)
		return;
	nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

#endif
