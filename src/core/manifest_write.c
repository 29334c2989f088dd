/* manifest_write.c: writing dist/migrations/manifest.json (see manifest.h): the header, then
 * the entries a migration at a time, beside the old file until commit puts it in place. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>

#include "core/catalog.h"
#include "core/manifest.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

/* the manifest is written in pieces of about this size */
#define MANIFEST_CHUNK ((size_t)32 * 1024)
#define GEN_STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

/*
 * The rename that put the manifest in place changed dir's modification time. A run trusts the
 * manifest's listing only when the manifest is strictly newer than dir (equal times are racy: a
 * file added in the same clock tick leaves them equal), so touch the manifest until the file
 * system's clock has moved past dir's time: one tick, a few milliseconds on most file systems
 * (2 s at most on coarse ones; past that the listing is compared on every run, which is only
 * slower).
 */
static int touch_past_dir(const char *path, const char *dir, strata_error *e)
{
	struct stat ds, ms;
	for (int tries = 0; tries < 2500; tries++) {
		struct timespec pause = {0, 1000000L};
		if (utimensat(AT_FDCWD, path, NULL, 0) < 0 || stat(path, &ms) < 0 ||
		    stat(dir, &ds) < 0)
			return strata_error_set(e, STRATA_ERROR, "cannot touch '%s': %s", path,
			                        strerror(errno));
		if (strata_timespec_after(&ms.st_mtim, &ds.st_mtim))
			break;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* What the manifest's generator holds, written out once it is at least `at_least` bytes (0:
 * whatever it holds), so that 10,000 entries do not sit in memory at once. */
static int manifest_flush(yajl_gen g, strata_fs_atomic *w, size_t at_least, strata_error *e)
{
	const unsigned char *buf;
	size_t len;
	int error;
	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		return strata_error_set(e, STRATA_ERROR, "cannot write the manifest");
	if (len < at_least || len == 0)
		return 0;
	if ((error = strata_fs_atomic_write(w, buf, len, e)) < 0)
		return error;
	yajl_gen_clear(g);
	return 0;
}

struct strata_manifest_writer {
	yajl_gen g;
	strata_fs_atomic w;
	char *path; /* which w names in its messages */
};

void strata_manifest_writer_abort(strata_manifest_writer *mw)
{
	if (!mw)
		return;
	strata_fs_atomic_abort(&mw->w);
	yajl_gen_free(mw->g);
	free(mw->path);
	free(mw);
}

int strata_manifest_writer_open(strata_manifest_writer **out, const char *dir,
                                const strata_manifest_header *h, strata_error *e)
{
	strata_manifest_writer *mw = calloc(1, sizeof(*mw));
	char hex[17];
	yajl_gen g;
	int error;

	*out = NULL;
	if (mw)
		mw->w.fd = -1;
	if (!mw || !(mw->path = strata_fs_join(dir, STRATA_MANIFEST)) ||
	    !(mw->g = yajl_gen_alloc(NULL))) {
		strata_manifest_writer_abort(mw);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	if ((error = strata_fs_atomic_open(&mw->w, mw->path, e)) < 0) {
		strata_manifest_writer_abort(mw);
		return error;
	}
	g = mw->g;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	GEN_STR(g, "format");
	yajl_gen_integer(g, 1);
	GEN_STR(g, "generator");
	GEN_STR(g, "strata " STRATA_VERSION);
	snprintf(hex, sizeof(hex), "%016" PRIx64, h->digest);
	GEN_STR(g, "count");
	yajl_gen_integer(g, (long long)h->count);
	GEN_STR(g, "history_digest");
	GEN_STR(g, hex);
	/* what a listing streamed from the manifest needs first: its widest columns, in bytes */
	GEN_STR(g, "longest_version");
	yajl_gen_integer(g, (long long)h->longest_version);
	GEN_STR(g, "longest_name");
	yajl_gen_integer(g, (long long)h->longest_name);
	/* and its files: the list a listing reads instead of the entries (one string each, a sixth
	 * of the bytes), stopping at "migrations" */
	if (h->files) {
		const char *p = strata_buf_cstr(h->files), *end = p + h->files->len;
		GEN_STR(g, "files");
		yajl_gen_array_open(g);
		for (; p < end && (error = manifest_flush(g, &mw->w, MANIFEST_CHUNK, e)) == 0;
		     p += strlen(p) + 1)
			GEN_STR(g, p);
		yajl_gen_array_close(g);
		if (error < 0) {
			strata_manifest_writer_abort(mw);
			return error;
		}
	}
	GEN_STR(g, "migrations");
	yajl_gen_array_open(g);
	*out = mw;
	return 0;
}

int strata_manifest_writer_add(strata_manifest_writer *mw, const strata_migration *m,
                               strata_error *e)
{
	yajl_gen g = mw->g;
	yajl_gen_map_open(g);
	GEN_STR(g, "version");
	GEN_STR(g, m->version);
	GEN_STR(g, "name");
	GEN_STR(g, m->name);
	GEN_STR(g, "file");
	GEN_STR(g, strata_fs_base_name(m->path));
	if (m->down_path) {
		GEN_STR(g, "down_file");
		GEN_STR(g, strata_fs_base_name(m->down_path));
	}
	if (m->conf_path) {
		GEN_STR(g, "conf_file");
		GEN_STR(g, strata_fs_base_name(m->conf_path));
	}
	GEN_STR(g, "sha256");
	GEN_STR(g, m->checksum);
	yajl_gen_map_close(g);
	return manifest_flush(g, &mw->w, MANIFEST_CHUNK, e);
}

int strata_manifest_writer_close(strata_manifest_writer *mw, strata_error *e)
{
	int error;
	yajl_gen_array_close(mw->g);
	yajl_gen_map_close(mw->g);
	if ((error = manifest_flush(mw->g, &mw->w, 0, e)) == 0)
		error = strata_fs_atomic_close(&mw->w, 0, e);
	strata_manifest_writer_abort(mw);
	return error;
}

int strata_manifest_header_add(strata_manifest_header *h, const strata_migration *m)
{
	uint64_t row;
	size_t v = strlen(m->version), n = strlen(m->name);
	if (strata_history_row_hash(&row, m->version, m->name, m->checksum) < 0)
		return STRATA_ERROR;
	h->count++;
	h->digest ^= row;
	h->longest_version = v > h->longest_version ? v : h->longest_version;
	h->longest_name = n > h->longest_name ? n : h->longest_name;
	if (h->files) {
		const char *file = strata_fs_base_name(m->path);
		strata_buf_put(h->files, file, strlen(file) + 1);
		if (h->files->failed)
			return STRATA_ERROR;
	}
	return 0;
}

bool strata_manifest_header_same(const strata_manifest_header *a, const strata_manifest_header *b)
{
	return a->count == b->count && a->digest == b->digest &&
	       a->longest_version == b->longest_version && a->longest_name == b->longest_name &&
	       (!a->files || !b->files ||
	        (a->files->len == b->files->len &&
	         memcmp(strata_buf_cstr(a->files), strata_buf_cstr(b->files), a->files->len) == 0));
}

int strata_manifest_stage(const strata_catalog *c, const char *dir, strata_error *e)
{
	strata_buf files = STRATA_BUF_INIT;
	strata_manifest_header h = {.files = &files};
	strata_manifest_writer *mw = NULL;
	int error = 0;

	for (size_t i = 0; i < c->n; i++)
		if (strata_manifest_header_add(&h, c->items[i]) < 0) {
			strata_buf_free(&files);
			return strata_error_set(e, STRATA_ERROR, "cannot compute SHA-256");
		}
	error = strata_manifest_writer_open(&mw, dir, &h, e);
	strata_buf_free(&files);
	if (error < 0)
		return error;
	for (size_t i = 0; i < c->n && error == 0; i++)
		error = strata_manifest_writer_add(mw, c->items[i], e);
	if (error < 0) {
		strata_manifest_writer_abort(mw);
		return error;
	}
	return strata_manifest_writer_close(mw, e);
}

int strata_manifest_commit(const char *dir, strata_error *e)
{
	char *path = strata_fs_join(dir, STRATA_MANIFEST);
	int error;
	if (!path)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if ((error = strata_fs_atomic_rename(path, e)) == 0)
		error = touch_past_dir(path, dir, e);
	free(path);
	return error;
}

void strata_manifest_discard(const char *dir)
{
	char *path = strata_fs_join(dir, STRATA_MANIFEST);
	if (path)
		strata_fs_atomic_discard(path);
	free(path);
}

int strata_manifest_write(const strata_catalog *c, const char *dir, strata_error *e)
{
	int error = strata_manifest_stage(c, dir, e);
	if (error == 0 && (error = strata_manifest_commit(dir, e)) < 0)
		strata_manifest_discard(dir);
	return error;
}
