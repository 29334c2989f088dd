#include "core/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/sha256.h"

bool strata_timespec_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* The reader: a streaming (yajl event) parse that keeps only the four strings per entry, so a
 * manifest of 10,000 migrations costs its strings, not a tree of every value. */

enum field { F_NONE, F_FILE, F_DOWN, F_SHA, F_CONF };

struct raw_entry {
	size_t off[4]; /* into strings, +1; 0 = absent (file, down_file, sha256, conf_file) */
};

struct reader {
	int depth;      /* 1: the top object, 2: the migrations array, 3: one entry */
	bool in_list;   /* the array under "migrations" */
	bool list_seen; /* a "migrations" array was there */
	bool bad;       /* something that is not a manifest */
	enum field field;
	strata_buf strings;
	struct raw_entry *ents;
	size_t n, cap;
	/* streaming (strata_manifest_stream): entries complete so far (the last of n may be half
	 * read), and where in strings the entry being read began */
	size_t done, mark;
	bool no_sha; /* streaming: checksums not kept (the listing needs none) */
	/* the top-level "files" list (in_files: its value is being read; files_seen: it was an
	 * array), before "migrations": an array of strings, which every reader of the entries
	 * checks names their files in their order (nfiles and files_sha against nentries and
	 * entries_sha). Streaming with STRATA_MANIFEST_FILES (files_only), its strings are the
	 * entries, and the parse stops (files_end) at "migrations"; nfiles must then be "count". */
	bool files_only, in_files, files_seen, files_end, count_seen;
	size_t nfiles, nentries, count;
	SHA256_CTX files_sha, entries_sha;
	/* the top-level number being read: 1 "longest_version", 2 "longest_name" (0: absent), 3
	 * "count" */
	int top;
	size_t longest[2];
};

/* A new entry, its strings from here on (none yet); false when out of memory. */
static bool new_entry(struct reader *r)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		struct raw_entry *p = realloc(r->ents, ncap * sizeof(*p));
		if (!p)
			return false;
		r->ents = p;
		r->cap = ncap;
	}
	memset(&r->ents[r->n++], 0, sizeof(*r->ents));
	r->mark = r->strings.len;
	return true;
}

/* s kept in strings as field f of the last entry; false (r->bad) when it holds a NUL or
 * memory ran out. */
static bool keep_string(struct reader *r, enum field f, const unsigned char *s, size_t len)
{
	size_t off = r->strings.len + 1;
	if (memchr(s, '\0', len) || strata_buf_put(&r->strings, s, len) < 0 ||
	    strata_buf_put(&r->strings, "", 1) < 0)
		return !(r->bad = true);
	r->ents[r->n - 1].off[f - 1] = off;
	return true;
}

/* One string of "files": counted, and summed; with files_only, an entry of its own, complete. */
static int on_file(struct reader *r, const unsigned char *s, size_t len)
{
	if (memchr(s, '\0', len))
		return r->bad = true, 0;
	r->nfiles++;
	if (!r->files_only) { /* (the listing reads no entry to check the list against) */
		SHA256_Update(&r->files_sha, s, len);
		SHA256_Update(&r->files_sha, "", 1);
		return 1;
	}
	if (!new_entry(r) || !keep_string(r, F_FILE, s, len))
		return r->bad = true, 0;
	r->done = r->n;
	return 1;
}

/* "files" holds strings only: anything else in it (or a "files" that is no array) is not a
 * manifest build writes. */
static bool in_files_value(const struct reader *r)
{
	return r->in_files && (r->depth == 1 || r->depth == 2);
}

/* An entry of "migrations" read whole: its file summed, as "files" was. */
static void entry_done(struct reader *r)
{
	const size_t off = r->ents[r->n - 1].off[F_FILE - 1];
	const char *file = off ? r->strings.ptr + off - 1 : "";
	if (!r->files_seen)
		return;
	SHA256_Update(&r->entries_sha, file, strlen(file) + 1);
	r->nentries++;
}

/* Whether "files" (when there was one) names the entries' files, in their order. */
static bool files_match(struct reader *r)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	if (!r->files_seen)
		return true;
	SHA256_Final(a, &r->files_sha);
	SHA256_Final(b, &r->entries_sha);
	return r->nfiles == r->nentries && memcmp(a, b, sizeof(a)) == 0;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct reader *r = ctx;
	if (r->depth == 2 && r->in_files)
		return on_file(r, s, len);
	if (in_files_value(r))
		return r->bad = true, 0;
	if (r->depth != 3 || !r->in_list || r->field == F_NONE)
		return 1;
	if (!keep_string(r, r->field, s, len))
		return 0;
	r->field = F_NONE;
	return 1;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct reader *r = ctx;
	r->field = F_NONE;
	r->top = 0;
	if (r->depth == 1 && len == 15 && memcmp(k, "longest_version", 15) == 0)
		r->top = 1;
	else if (r->depth == 1 && len == 12 && memcmp(k, "longest_name", 12) == 0)
		r->top = 2;
	else if (r->depth == 1 && len == 5 && memcmp(k, "count", 5) == 0)
		r->top = 3;
	if (r->depth == 1) {
		r->in_list = len == 10 && memcmp(k, "migrations", 10) == 0;
		r->in_files = !r->list_seen && len == 5 && memcmp(k, "files", 5) == 0;
		if (r->in_list && r->files_seen && r->files_only)
			return r->files_end = true, 0; /* (yajl_status_client_canceled) */
	} else if (r->depth == 3 && len == 4 && memcmp(k, "file", 4) == 0)
		r->field = F_FILE;
	else if (r->depth == 3 && len == 9 && memcmp(k, "down_file", 9) == 0)
		r->field = F_DOWN;
	else if (r->depth == 3 && len == 6 && memcmp(k, "sha256", 6) == 0 && !r->no_sha)
		r->field = F_SHA;
	else if (r->depth == 3 && len == 9 && memcmp(k, "conf_file", 9) == 0)
		r->field = F_CONF;
	return 1;
}

static int on_start_map(void *ctx)
{
	struct reader *r = ctx;
	if ((r->depth == 2 && r->in_list && !new_entry(r)) || in_files_value(r))
		return r->bad = true, 0;
	r->depth++;
	return 1;
}

static int on_end(void *ctx)
{
	struct reader *r = ctx;
	r->depth--;
	if (r->depth == 1)
		r->in_list = r->in_files = false;
	if (r->depth == 2 && r->in_list && r->n > r->done) {
		entry_done(r);
		r->done = r->n;
	}
	r->field = F_NONE;
	return 1;
}

static int on_start_array(void *ctx)
{
	struct reader *r = ctx;
	if (r->depth == 1 && r->in_list)
		r->list_seen = true;
	if (r->depth == 2 && r->in_files) /* (an array in the list) */
		return r->bad = true, 0;
	if (r->depth == 1 && r->in_files) {
		r->files_seen = true;
		SHA256_Init(&r->files_sha);
		SHA256_Init(&r->entries_sha);
	}
	r->depth++;
	return 1;
}

static int on_other(void *ctx)
{
	struct reader *r = ctx;
	r->field = F_NONE; /* a key whose value is not a string is no use */
	return in_files_value(r) ? (r->bad = true, 0) : 1;
}

static int on_bool(void *ctx, int b)
{
	(void)b;
	return on_other(ctx);
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct reader *r = ctx;
	size_t digits = 0;
	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (r->depth == 1 && r->top == 3 && len < 10 && digits == len) {
		r->count = strtoul(s, NULL, 10);
		r->count_seen = true;
	} else if (r->depth == 1 && r->top && len < 10 && s[0] != '-') {
		r->longest[r->top - 1] = strtoul(s, NULL, 10);
	}
	r->top = 0;
	return on_other(ctx);
}

static const yajl_callbacks reader_callbacks = {
    .yajl_null = on_other,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const strata_manifest_entry *)a)->file,
	              ((const strata_manifest_entry *)b)->file);
}

static bool is_sha256(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

/* Entry i from its raw offsets; false when it lacks its file or checksum. */
static bool entry_at(strata_manifest_entry *m, const struct reader *r, size_t i)
{
	const size_t *off = r->ents[i].off;
	if (!off[0] || (!off[2] && !r->no_sha))
		return false;
	m->file = r->strings.ptr + off[0] - 1;
	m->down_file = off[1] ? r->strings.ptr + off[1] - 1 : NULL;
	m->sha256 = off[2] ? r->strings.ptr + off[2] - 1 : NULL;
	m->conf_file = off[3] ? r->strings.ptr + off[3] - 1 : NULL;
	return *m->file && !strchr(m->file, '/') && (r->no_sha || is_sha256(m->sha256)) &&
	       !(m->down_file && strchr(m->down_file, '/')) &&
	       !(m->conf_file && strchr(m->conf_file, '/'));
}

/* Turns the raw offsets into entries; false when an entry lacks its file or checksum. */
static bool finish(strata_manifest *out, struct reader *r)
{
	out->items = calloc(r->n + 1, sizeof(*out->items));
	if (!out->items)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (!entry_at(&out->items[i], r, i))
			return false;
	out->n = r->n;
	qsort(out->items, out->n, sizeof(*out->items), cmp_entry);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(out->items[i - 1].file, out->items[i].file) == 0)
			return false;
	return true;
}

int strata_manifest_read(strata_manifest *out, const char *dir, strata_error *e)
{
	struct reader r = {0};
	char *path = strata_fs_join(dir, STRATA_MANIFEST);
	unsigned char chunk[65536];
	yajl_handle h = NULL;
	FILE *f = NULL;
	struct stat st;
	bool ok = true;
	int error = 1;

	memset(out, 0, sizeof(*out));
	if (!path)
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			error = 0;
		else
			error = strata_error_set(e, STRATA_ERROR, "cannot read '%s': %s", path,
			                         strerror(errno));
		goto done;
	}
	if (fstat(fileno(f), &st) < 0 || !(h = yajl_alloc(&reader_callbacks, NULL, &r))) {
		error = strata_error_set(e, STRATA_ERROR, "cannot read '%s'", path);
		goto done;
	}
	out->mtime = st.st_mtim;
	for (size_t n; ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0;)
		ok = yajl_parse(h, chunk, n) == yajl_status_ok;
	ok = ok && !ferror(f) && yajl_complete_parse(h) == yajl_status_ok && !r.bad &&
	     r.list_seen && files_match(&r) && !r.strings.failed && finish(out, &r);
	if (!ok) {
		strata_error_at(e, path, 0, 0);
		strata_error_hint(e, "run strata_build() to write it again");
		error = strata_error_set(e, STRATA_EINVALID, "the build manifest is unreadable");
		goto done;
	}
	out->strings = strata_buf_detach(&r.strings);
done:
	if (h)
		yajl_free(h);
	if (f)
		fclose(f);
	free(r.ents);
	strata_buf_free(&r.strings);
	free(path);
	if (error <= 0)
		strata_manifest_free(out);
	return error;
}

/* The summary reader: the top-level "count" and "history_digest", up to "migrations". */
struct summary_reader {
	int depth;
	int field; /* 1: count, 2: history_digest */
	int seen;  /* bit per field */
	strata_history_summary *out;
};

static int sum_key(void *ctx, const unsigned char *k, size_t len)
{
	struct summary_reader *r = ctx;
	r->field = 0;
	if (r->depth != 1)
		return 1;
	if (len == 10 && memcmp(k, "migrations", 10) == 0)
		return 0; /* the summary comes first: stop here */
	if (len == 5 && memcmp(k, "count", 5) == 0)
		r->field = 1;
	else if (len == 14 && memcmp(k, "history_digest", 14) == 0)
		r->field = 2;
	return 1;
}

static int sum_number(void *ctx, const char *s, size_t len)
{
	struct summary_reader *r = ctx;
	char tmp[32];
	if (r->field == 1 && len < sizeof(tmp) && s[0] != '-') {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		r->out->rows = strtoull(tmp, NULL, 10);
		r->seen |= 1;
	}
	r->field = 0;
	return 1;
}

static int sum_string(void *ctx, const unsigned char *s, size_t len)
{
	struct summary_reader *r = ctx;
	char tmp[17];
	if (r->field == 2 && len == 16) {
		memcpy(tmp, s, 16);
		tmp[16] = '\0';
		if (strspn(tmp, "0123456789abcdef") == 16) {
			r->out->digest = strtoull(tmp, NULL, 16);
			r->seen |= 2;
		}
	}
	r->field = 0;
	return 1;
}

static int sum_open(void *ctx)
{
	((struct summary_reader *)ctx)->depth++;
	return 1;
}

static int sum_close(void *ctx)
{
	((struct summary_reader *)ctx)->depth--;
	return 1;
}

static int sum_other(void *ctx)
{
	((struct summary_reader *)ctx)->field = 0;
	return 1;
}

static int sum_bool(void *ctx, int b)
{
	(void)b;
	return sum_other(ctx);
}

static const yajl_callbacks summary_callbacks = {
    .yajl_null = sum_other,
    .yajl_boolean = sum_bool,
    .yajl_number = sum_number,
    .yajl_string = sum_string,
    .yajl_start_map = sum_open,
    .yajl_map_key = sum_key,
    .yajl_end_map = sum_close,
    .yajl_start_array = sum_open,
    .yajl_end_array = sum_close,
};

int strata_manifest_read_summary(const char *dir, strata_history_summary *out,
                                 struct timespec *mtime)
{
	struct summary_reader r = {.out = out};
	char *path = strata_fs_join(dir, STRATA_MANIFEST);
	unsigned char chunk[4096];
	yajl_handle h = NULL;
	FILE *f = path ? fopen(path, "re") : NULL;
	struct stat st;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (f && fstat(fileno(f), &st) == 0 && (h = yajl_alloc(&summary_callbacks, NULL, &r))) {
		*mtime = st.st_mtim;
		/* the summary sits in the first lines; a manifest without one is read to its end */
		while (r.seen != 3 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
		       yajl_parse(h, chunk, n) == yajl_status_ok)
			;
	}
	if (h)
		yajl_free(h);
	if (f)
		fclose(f);
	free(path);
	return r.seen == 3;
}

/* ---- reading it entry by entry ------------------------------------------------------------ */

struct strata_manifest_stream {
	struct reader r;
	yajl_handle h;
	FILE *f;
	char *path;
	struct stat st; /* the file's, when opened */
	size_t pos;     /* the next complete entry to hand out */
	bool eof;
	strata_manifest_entry cur;
};

static int stream_bad(strata_manifest_stream *s, strata_error *e)
{
	strata_error_at(e, s->path, 0, 0);
	strata_error_hint(e, "run strata_build() to write it again");
	return strata_error_set(e, STRATA_EINVALID, "the build manifest is unreadable");
}

/* Drops the entries handed out (keeping the one half read, moved to the front), then parses the
 * next piece of the file. */
static int stream_fill(strata_manifest_stream *s, strata_error *e)
{
	struct reader *r = &s->r;
	unsigned char chunk[16384];
	size_t n;

	if (r->done < r->n) { /* the entry being read: its strings start at mark */
		struct raw_entry keep = r->ents[r->done];
		for (int i = 0; i < 4; i++)
			keep.off[i] -= keep.off[i] ? r->mark : 0;
		memmove(r->strings.ptr, r->strings.ptr + r->mark, r->strings.len - r->mark);
		r->strings.len -= r->mark;
		r->ents[0] = keep;
		r->n = 1;
	} else {
		r->strings.len = 0;
		r->n = 0;
	}
	r->done = r->mark = s->pos = 0;
	if ((n = fread(chunk, 1, sizeof(chunk), s->f)) > 0) {
		yajl_status st = yajl_parse(s->h, chunk, n);
		if (r->files_end && !r->bad) { /* the "files" list read: the end */
			s->eof = true;
			return r->count_seen && r->nfiles == r->count ? 0 : stream_bad(s, e);
		}
		if (st != yajl_status_ok || r->bad || r->strings.failed)
			return stream_bad(s, e);
		return 0;
	}
	s->eof = true;
	if (ferror(s->f) || yajl_complete_parse(s->h) != yajl_status_ok || r->bad ||
	    !r->list_seen || !files_match(r))
		return stream_bad(s, e);
	return 0;
}

/* Parses from the file's start up to the first entry (the header, with its longest_* counts). */
static int stream_start(strata_manifest_stream *s, size_t longest[2], strata_error *e)
{
	int error = 0;
	if (!(s->h = yajl_alloc(&reader_callbacks, NULL, &s->r)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	while (s->r.done == 0 && !s->eof && error == 0)
		error = stream_fill(s, e);
	if (error == 0 && longest) {
		longest[0] = s->r.longest[0];
		longest[1] = s->r.longest[1];
	}
	return error;
}

/* Whether the file ends as build ends it: the list's last entry (or its opening) closed, then the
 * list, then the document ("} ] }" with white space). A listing that reads only the "files" list
 * would not otherwise see a manifest cut short. */
static bool ends_whole(const strata_manifest_stream *s)
{
	static const char want[] = "}]}"; /* read backwards: '}', ']', then '}' or '[' */
	char tail[64];
	off_t at = s->st.st_size > (off_t)sizeof(tail) ? s->st.st_size - (off_t)sizeof(tail) : 0;
	ssize_t n = pread(fileno(s->f), tail, sizeof(tail), at);
	int k = 0;

	for (ssize_t i = n - 1; i >= 0 && k < 3; i--) {
		if (tail[i] == ' ' || tail[i] == '\n' || tail[i] == '\t' || tail[i] == '\r')
			continue;
		if (tail[i] != want[k] && !(k == 2 && tail[i] == '['))
			return false;
		k++;
	}
	return k == 3;
}

int strata_manifest_stream_open(strata_manifest_stream **out, const char *dir, unsigned what,
                                size_t longest[2], strata_error *e)
{
	strata_manifest_stream *s = calloc(1, sizeof(*s));
	int error = 0;

	*out = NULL;
	if (!s || !(s->path = strata_fs_join(dir, STRATA_MANIFEST))) {
		strata_manifest_stream_close(s);
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	}
	s->r.files_only = what & STRATA_MANIFEST_FILES;
	s->r.no_sha = s->r.files_only || !(what & STRATA_MANIFEST_SHA256);
	if (!(s->f = fopen(s->path, "re")) || fstat(fileno(s->f), &s->st) != 0) {
		error = strata_error_set(e, STRATA_ERROR, "cannot read '%s': %s", s->path,
		                         strerror(errno));
		strata_manifest_stream_close(s);
		return error;
	}
	if ((s->r.files_only && !ends_whole(s) && (error = stream_bad(s, e)) < 0) ||
	    (error = stream_start(s, longest, e)) < 0) {
		strata_manifest_stream_close(s);
		return error;
	}
	*out = s;
	return 0;
}

int strata_manifest_stream_rewind(strata_manifest_stream *s, strata_error *e)
{
	struct stat st;
	bool no_sha = s->r.no_sha, files_only = s->r.files_only;
	strata_buf strings = s->r.strings;
	struct raw_entry *ents = s->r.ents;
	size_t cap = s->r.cap;

	/* the same file, read again: one written over in place, or replaced (build renames a new
	 * one into place), since it was opened is not what was read */
	if (stat(s->path, &st) != 0 || st.st_ino != s->st.st_ino || st.st_dev != s->st.st_dev ||
	    fstat(fileno(s->f), &st) != 0 || st.st_size != s->st.st_size ||
	    st.st_mtim.tv_sec != s->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != s->st.st_mtim.tv_nsec || fseek(s->f, 0, SEEK_SET) != 0) {
		strata_error_at(e, s->path, 0, 0);
		strata_error_hint(e, "run again once the build is done");
		return strata_error_set(e, STRATA_EINVALID,
		                        "the build manifest changed while it was read");
	}
	clearerr(s->f);
	yajl_free(s->h);
	s->h = NULL;
	memset(&s->r, 0, sizeof(s->r));
	s->r.no_sha = no_sha;
	s->r.files_only = files_only;
	s->r.strings = strings;
	s->r.strings.len = 0;
	s->r.ents = ents;
	s->r.cap = cap;
	s->pos = 0;
	s->eof = false;
	return stream_start(s, NULL, e);
}

int strata_manifest_stream_next(strata_manifest_stream *s, const strata_manifest_entry **ent,
                                strata_error *e)
{
	int error;
	for (;;) {
		if (s->pos < s->r.done) {
			if (!entry_at(&s->cur, &s->r, s->pos++))
				return stream_bad(s, e);
			*ent = &s->cur;
			return 1;
		}
		if (s->eof)
			return 0;
		if ((error = stream_fill(s, e)) < 0)
			return error;
	}
}

const char *strata_manifest_stream_path(const strata_manifest_stream *s)
{
	return s->path;
}

void strata_manifest_stream_close(strata_manifest_stream *s)
{
	if (!s)
		return;
	if (s->h)
		yajl_free(s->h);
	if (s->f)
		fclose(s->f);
	free(s->r.ents);
	strata_buf_free(&s->r.strings);
	free(s->path);
	free(s);
}

const strata_manifest_entry *strata_manifest_find(const strata_manifest *m, const char *file)
{
	strata_manifest_entry key = {.file = file};
	return m->n ? bsearch(&key, m->items, m->n, sizeof(*m->items), cmp_entry) : NULL;
}

void strata_manifest_free(strata_manifest *m)
{
	if (!m)
		return;
	free(m->items);
	free(m->strings);
	memset(m, 0, sizeof(*m));
}
