/* test_catalog.c: loading migration directories into one ordered list (src/core/catalog.c). */
#include "unit.h"

#include "core/catalog.h"
#include "core/manifest.h"
#include "util/fs.h"

#define UPDOWN(up, down) "-- migrate:up\n" up "\n-- migrate:down\n" down "\n"

struct fx {
	char *root;
	char *a, *b; /* two migration directories under root */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->root = unit_mkdtemp();
	fx->a = unit_mkdir(fx->root, "a");
	fx->b = unit_mkdir(fx->root, "b");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	free(fx->a);
	free(fx->b);
	unit_rmtree(fx->root);
	free(fx);
	return 0;
}

static int load(strata_catalog *c, struct fx *fx, size_t ndirs, strata_error *e)
{
	const char *dirs[2] = {fx->a, fx->b};
	return strata_catalog_load(c, dirs, ndirs, e);
}

static void assert_item(const strata_catalog *c, size_t i, const char *version, const char *name,
                        size_t dir_index)
{
	assert_true(i < c->n);
	assert_string_equal(c->items[i]->version, version);
	assert_string_equal(c->items[i]->name, name);
	assert_int_equal(c->items[i]->dir_index, dir_index);
}

static void test_catalog_orders_across_dirs(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	char *p;
	unit_write(fx->a, "10-Ten.sql", UPDOWN("select 10;", ""));
	unit_write(fx->a, "1-One.sql", UPDOWN("select 1;", ""));
	unit_write(fx->b, "2-Two.sql", UPDOWN("select 2;", ""));
	unit_write(fx->b, "9-Nine.sql", UPDOWN("select 9;", ""));
	unit_write(fx->b, "9-Alpha.sql", UPDOWN("select 9;", "")); /* same version, name orders */
	unit_write(fx->a, "0003-Three.sql", UPDOWN("select 3;", ""));
	unit_write(fx->a, "README.md", "# not a migration\n");
	unit_write(fx->a, "schema.sql", "create table whatever ();\n");
	unit_write(fx->b, ".hidden-1-x.sql", "junk");

	assert_int_equal(load(&c, fx, 2, &e), 0);
	assert_int_equal(c.n, 6);
	assert_item(&c, 0, "1", "One", 0);
	assert_item(&c, 1, "2", "Two", 1);
	assert_item(&c, 2, "0003", "Three", 0);
	assert_item(&c, 3, "9", "Alpha", 1);
	assert_item(&c, 4, "9", "Nine", 1);
	assert_item(&c, 5, "10", "Ten", 0);
	p = unit_path(fx->b, "2-Two.sql");
	assert_string_equal(c.items[1]->path, p);
	free(p);
	assert_true(c.items[1]->up.present);
	assert_memory_equal(c.items[1]->text + c.items[1]->up.offset, "select 2;", 9);

	/* lookups by version and name */
	assert_ptr_equal(strata_catalog_find(&c, "3", "Three"), c.items[2]);
	assert_ptr_equal(strata_catalog_find(&c, "10", "Ten"), c.items[5]);
	assert_ptr_equal(strata_catalog_find(&c, "1", "One"), c.items[0]);
	assert_null(strata_catalog_find(&c, "9", "Beta"));
	assert_null(strata_catalog_find(&c, "11", "Ten"));
	strata_catalog_free(&c);
	assert_int_equal(c.n, 0);
	assert_null(c.items);
	strata_catalog_free(NULL);
}

static void test_catalog_empty_dir(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	unit_write(fx->a, "README.md", "nothing here\n");
	assert_int_equal(load(&c, fx, 2, &e), 0);
	assert_int_equal(c.n, 0);
	assert_null(strata_catalog_find(&c, "1", "x"));
	strata_catalog_free(&c);
}

static void test_catalog_duplicate_across_dirs(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	char *pa = unit_path(fx->a, "5-Dup.sql"), *pb = unit_path(fx->b, "5-Dup.sql");
	char detail[1024];
	unit_write(fx->a, "1-First.sql", UPDOWN("select 1;", ""));
	unit_write(fx->a, "5-Dup.sql", UPDOWN("select 5;", ""));
	unit_write(fx->b, "5-Dup.sql", UPDOWN("select 5;", ""));

	assert_int_equal(load(&c, fx, 2, &e), STRATA_EINVALID);
	assert_int_equal(e.code, STRATA_EINVALID);
	assert_string_equal(e.msg, "duplicate migration 5-Dup");
	/* the second copy is the file at fault, the first one is named in the detail */
	assert_string_equal(e.file, pb);
	snprintf(detail, sizeof(detail), "first seen in '%s'", pa);
	assert_string_equal(e.detail, detail);
	assert_int_equal(c.n, 0);
	assert_null(c.items);
	free(pa);
	free(pb);
}

static void test_catalog_duplicate_leading_zeros(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	unit_write(fx->a, "7-Same.sql", UPDOWN("select 7;", ""));
	unit_write(fx->b, "007-Same.sql", UPDOWN("select 7;", ""));
	assert_int_equal(load(&c, fx, 2, &e), STRATA_EINVALID);
	assert_non_null(strstr(e.msg, "duplicate migration"));
	assert_non_null(strstr(e.detail, "7-Same.sql"));
}

static void test_catalog_golang_pair_merged(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	strata_migration *m;
	char *up = unit_path(fx->a, "2_add_users.up.sql");
	char *down = unit_path(fx->a, "2_add_users.down.sql");
	unit_write(fx->a, "1-Init.sql", UPDOWN("select 1;", ""));
	unit_write(fx->a, "2_add_users.up.sql", "create table users (id int);\n");
	unit_write(fx->a, "2_add_users.down.sql", "-- strata:no-transaction\ndrop table users;\n");
	unit_write(fx->a, "3_only_up.up.sql", "select 3;\n");

	assert_int_equal(load(&c, fx, 1, &e), 0);
	assert_int_equal(c.n, 3);
	assert_item(&c, 0, "1", "Init", 0);
	assert_item(&c, 1, "2", "add_users", 0);
	assert_item(&c, 2, "3", "only_up", 0);
	m = c.items[1];
	assert_string_equal(m->path, up);
	assert_non_null(m->down_path);
	assert_string_equal(m->down_path, down);
	assert_true(m->up.present);
	assert_true(m->down.present);
	assert_false(m->up.no_transaction);
	assert_true(m->down.no_transaction);
	assert_memory_equal(m->up.text + m->up.offset, "create table users (id int);\n", m->up.len);
	assert_string_equal(m->down.file, down);
	assert_false(strata_section_is_empty(&m->down));
	/* an up half alone is a migration without a down section */
	assert_null(c.items[2]->down_path);
	assert_false(c.items[2]->down.present);
	assert_true(strata_section_is_empty(&c.items[2]->down));
	strata_catalog_free(&c);
	free(up);
	free(down);
}

static void test_catalog_lone_down_is_error(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	char *p = unit_path(fx->a, "4_orphan.down.sql");
	unit_write(fx->a, "1-Init.sql", UPDOWN("select 1;", ""));
	unit_write(fx->a, "4_orphan.down.sql", "drop table orphan;\n");

	assert_int_equal(load(&c, fx, 1, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "down migration has no matching .up.sql file");
	assert_string_equal(e.file, p);
	assert_non_null(strstr(e.hint, "4_orphan.up.sql"));
	assert_int_equal(c.n, 0);
	free(p);
}

static void test_catalog_pair_halves_in_different_dirs(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	unit_write(fx->a, "4_split.up.sql", "select 4;\n");
	unit_write(fx->b, "4_split.down.sql", "select -4;\n");
	/* not folded together across directories */
	assert_int_equal(load(&c, fx, 2, &e), STRATA_EINVALID);
	assert_int_equal(c.n, 0);
}

static void test_catalog_bad_name_is_error(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	char *p = unit_path(fx->b, "123.sql");
	unit_write(fx->a, "1-Init.sql", UPDOWN("select 1;", ""));
	unit_write(fx->b, "123.sql", "-- migrate:up\n");
	assert_int_equal(load(&c, fx, 2, &e), STRATA_EINVALID);
	assert_string_equal(e.msg,
	                    "'123.sql' looks like a migration but has no name after its version");
	assert_string_equal(e.file, p);
	assert_int_equal(c.n, 0);
	assert_null(c.items);
	free(p);
}

static void test_catalog_bad_file_is_error_with_place(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	char *p = unit_path(fx->a, "2-Bad.sql");
	unit_write(fx->a, "1-Init.sql", UPDOWN("select 1;", ""));
	unit_write(fx->a, "2-Bad.sql", "select 1;\n-- migrate:up\n");
	assert_int_equal(load(&c, fx, 1, &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "SQL before the first '-- migrate:up' line");
	assert_string_equal(e.file, p);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.column, 1);
	assert_int_equal(c.n, 0);
	free(p);
}

static void test_catalog_missing_dir(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	char *missing = unit_path(fx->root, "nope");
	const char *dirs[2] = {fx->a, missing};
	unit_write(fx->a, "1-Init.sql", UPDOWN("select 1;", ""));
	assert_int_equal(strata_catalog_load(&c, dirs, 2, &e), STRATA_ENOTFOUND);
	assert_int_equal(e.code, STRATA_ENOTFOUND);
	assert_non_null(strstr(e.msg, missing));
	assert_int_equal(c.n, 0);
	assert_null(c.items);
	free(missing);
}

static void test_catalog_no_dirs(void **state)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	(void)state;
	assert_int_equal(strata_catalog_load(&c, NULL, 0, &e), 0);
	assert_int_equal(c.n, 0);
	strata_catalog_free(&c);
}

/* Builds a manifest for directory a as `strata build` would: from a full read of it. */
static void write_manifest_of(struct fx *fx)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog full;
	assert_int_equal(load(&full, fx, 1, &e), 0);
	assert_int_equal(strata_manifest_write(&full, fx->a, &e), 0);
	strata_catalog_free(&full);
}

static void test_catalog_built_lists_from_manifest(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog full, c;
	const char *dirs[1] = {fx->a};
	unit_write(fx->a, "1-One.sql", UPDOWN("select 1;", "select -1;"));
	unit_write(fx->a, "2_Two.up.sql", "select 2;\n");
	unit_write(fx->a, "2_Two.down.sql", "select -2;\n");
	write_manifest_of(fx);
	assert_int_equal(load(&full, fx, 1, &e), 0);
	assert_int_equal(strata_catalog_load_built(&c, dirs, 1, &e), 0);
	assert_true(c.from_manifest[0]);
	assert_int_equal(c.n, 2);
	assert_item(&c, 0, "1", "One", 0);
	assert_item(&c, 1, "2", "Two", 0);
	for (size_t i = 0; i < 2; i++) {
		assert_false(c.items[i]->loaded);
		assert_null(c.items[i]->text);
		assert_string_equal(c.items[i]->checksum, full.items[i]->checksum);
	}
	assert_non_null(strstr(c.items[1]->down_path, "2_Two.down.sql"));
	{ /* the summary a fully applied history of these two has: count, XOR of the row hashes */
		strata_history_summary got;
		struct timespec mt;
		uint64_t want = 0, x;
		for (size_t i = 0; i < 2; i++) {
			assert_int_equal(strata_history_row_hash(&x, full.items[i]->version,
			                                         full.items[i]->name,
			                                         full.items[i]->checksum),
			                 0);
			want ^= x;
		}
		assert_int_equal(strata_manifest_read_summary(fx->a, &got, &mt), 1);
		assert_true(got.rows == 2 && got.digest == want && got.unfinished == 0);
	}
	/* read on demand: the same sections a full read gives */
	for (size_t i = 0; i < 2; i++) {
		strata_migration *m = c.items[i], *f = full.items[i];
		assert_int_equal(strata_migration_ensure(m, &e), 0);
		assert_true(m->loaded);
		assert_int_equal(m->up.len, f->up.len);
		assert_memory_equal(m->up.text + m->up.offset, f->up.text + f->up.offset,
		                    f->up.len);
		assert_int_equal(m->down.len, f->down.len);
		assert_string_equal(m->down.file, f->down.file);
		assert_int_equal(strata_migration_ensure(m, &e), 0); /* once is enough */
	}
	strata_catalog_free(&c);
	strata_catalog_free(&full);
}

/* Flyway's files: a V file with its U file and .conf is one migration, next to goose's and
 * strata's; listed from a manifest, it reads the same three files back. A U file or a .conf
 * without its V file is an error naming it. */
static void test_catalog_flyway_and_goose(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog full, c;
	const char *dirs[1] = {fx->a};
	unit_write(fx->a, "1-One.sql", UPDOWN("select 1;", "select -1;"));
	unit_write(fx->a, "V2__two.sql", "select 2;\n");
	unit_write(fx->a, "V2__two.sql.conf", "executeInTransaction=false\n");
	unit_write(fx->a, "U2__two.sql", "select -2;\n");
	unit_write(fx->a, "V3__three.sql", "select 3;\n");
	unit_write(fx->a, "00004_four.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nselect 4;\n");
	assert_int_equal(load(&full, fx, 1, &e), 0);
	assert_int_equal(full.n, 4);
	assert_item(&full, 1, "2", "two", 0);
	assert_non_null(strstr(full.items[1]->down_path, "U2__two.sql"));
	assert_non_null(strstr(full.items[1]->conf_path, "V2__two.sql.conf"));
	assert_true(full.items[1]->up.no_transaction && full.items[1]->down.no_transaction);
	assert_int_equal(full.items[1]->down.format, STRATA_FORMAT_FLYWAY);
	assert_item(&full, 2, "3", "three", 0);
	assert_null(full.items[2]->down_path);
	assert_false(full.items[2]->down.present);
	assert_item(&full, 3, "00004", "four", 0);
	assert_true(full.items[3]->up.no_transaction);

	write_manifest_of(fx);
	assert_int_equal(strata_catalog_load_built(&c, dirs, 1, &e), 0);
	assert_true(c.from_manifest[0]);
	assert_int_equal(c.n, 4);
	assert_non_null(strstr(c.items[1]->conf_path, "V2__two.sql.conf"));
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(strata_migration_ensure(c.items[i], &e), 0);
		assert_string_equal(c.items[i]->checksum, full.items[i]->checksum);
		assert_int_equal(c.items[i]->up.no_transaction, full.items[i]->up.no_transaction);
		assert_int_equal(c.items[i]->down.no_transaction,
		                 full.items[i]->down.no_transaction);
	}
	strata_catalog_free(&c);
	strata_catalog_free(&full);

	/* an edited .conf no longer matches the manifest */
	unit_write(fx->a, "V2__two.sql.conf", "executeInTransaction=true\n");
	assert_int_equal(strata_catalog_load_built(&c, dirs, 1, &e), 0);
	assert_int_equal(strata_migration_ensure(c.items[1], &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "migration does not match the build manifest");
	strata_catalog_free(&c);

	/* orphans */
	unit_write(fx->b, "U5__five.sql", "select -5;\n");
	{
		const char *db[1] = {fx->b};
		assert_int_equal(strata_catalog_load(&c, db, 1, &e), STRATA_EINVALID);
		assert_string_equal(e.msg,
		                    "Flyway undo migration has no matching V5__five.sql file");
		assert_non_null(strstr(e.file, "U5__five.sql"));
		assert_non_null(strstr(e.hint, "add V5__five.sql beside it"));
		unit_write(fx->b, "V5__five.sql", "select 5;\n");
		unit_write(fx->b, "V6__six.sql.conf", "executeInTransaction=false\n");
		assert_int_equal(strata_catalog_load(&c, db, 1, &e), STRATA_EINVALID);
		assert_string_equal(e.msg, "Flyway script config has no matching V6__six.sql file");
		/* the U file of another format's migration is no pair */
		unit_write(fx->b, "V6__six.sql", "select 6;\n");
		unit_write(fx->b, "7_seven.up.sql", "select 7;\n");
		unit_write(fx->b, "U7__seven.sql", "select -7;\n");
		assert_int_equal(strata_catalog_load(&c, db, 1, &e), STRATA_EINVALID);
		assert_string_equal(e.msg, "duplicate migration 7-seven");
	}
}

static void test_catalog_built_file_must_match_manifest(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_catalog c;
	const char *dirs[1] = {fx->a};
	unit_write(fx->a, "1-One.sql", UPDOWN("select 1;", ""));
	write_manifest_of(fx);
	unit_write(fx->a, "1-One.sql", UPDOWN("select 666;", "")); /* in place */
	assert_int_equal(strata_catalog_load_built(&c, dirs, 1, &e), 0);
	assert_int_equal(strata_migration_ensure(c.items[0], &e), STRATA_EINVALID);
	assert_string_equal(e.msg, "migration does not match the build manifest");
	assert_non_null(strstr(e.file, "1-One.sql"));
	assert_false(c.items[0]->loaded);
	strata_catalog_free(&c);
}

static void test_catalog_built_without_usable_manifest_reads_all(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_manifest mf;
	strata_catalog c;
	const char *dirs[1] = {fx->a};
	static const char *const bad[] = {
	    "{",
	    "[]",
	    "{\"migrations\": {}}",
	    "{\"migrations\": [{\"file\": \"1-One.sql\"}]}",
	    "{\"migrations\": [{\"file\": \"1-One.sql\", \"sha256\": \"abc\"}]}",
	    "{\"migrations\": [{\"file\": \"../1-One.sql\", \"sha256\": "
	    "\""
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "\"}]}",
	};
	unit_write(fx->a, "1-One.sql", UPDOWN("select 1;", ""));
	assert_int_equal(strata_manifest_read(&mf, fx->a, &e), 0); /* none */
	assert_int_equal(strata_catalog_load_built(&c, dirs, 1, &e), 0);
	assert_false(c.from_manifest[0]);
	assert_true(c.items[0]->loaded);
	strata_catalog_free(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		strata_error e2 = STRATA_ERROR_INIT;
		unit_write(fx->a, STRATA_MANIFEST, bad[i]);
		assert_int_equal(strata_manifest_read(&mf, fx->a, &e2), STRATA_EINVALID);
		assert_string_equal(e2.msg, "the build manifest is unreadable");
		assert_int_equal(strata_catalog_load_built(&c, dirs, 1, &e2), 0);
		assert_false(c.from_manifest[0]);
		assert_true(c.items[0]->loaded);
		strata_catalog_free(&c);
	}
}

static void test_manifest_duplicate_file_is_unreadable(void **state)
{
	struct fx *fx = *state;
	strata_error e = STRATA_ERROR_INIT;
	strata_manifest mf;
	char entry[160], text[400];
	snprintf(entry, sizeof(entry), "{\"file\": \"1-One.sql\", \"sha256\": \"%064d\"}", 0);
	snprintf(text, sizeof(text), "{\"format\": 1, \"migrations\": [%s, %s]}", entry, entry);
	unit_write(fx->a, STRATA_MANIFEST, text);
	assert_int_equal(strata_manifest_read(&mf, fx->a, &e), STRATA_EINVALID);
	snprintf(text, sizeof(text), "{\"format\": 1, \"migrations\": [%s]}", entry);
	unit_write(fx->a, STRATA_MANIFEST, text);
	assert_int_equal(strata_manifest_read(&mf, fx->a, &e), 1);
	assert_int_equal(mf.n, 1);
	assert_non_null(strata_manifest_find(&mf, "1-One.sql"));
	assert_null(strata_manifest_find(&mf, "2-Two.sql"));
	strata_manifest_free(&mf);
}

/* A manifest of one entry (1-One.sql) with `files` before its list: what its readers make of
 * it (1 read, else the error). */
static int read_with_files(struct fx *fx, const char *files)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_manifest mf;
	char text[400];
	int rc;
	snprintf(text, sizeof(text),
	         "{\"format\": 1, \"count\": 1, \"files\": %s, \"migrations\": [{\"file\": "
	         "\"1-One.sql\", \"sha256\": \"%064d\"}]}",
	         files, 0);
	unit_write(fx->a, STRATA_MANIFEST, text);
	rc = strata_manifest_read(&mf, fx->a, &e);
	strata_manifest_free(&mf);
	return rc;
}

/* The stream of that manifest's files only (STRATA_MANIFEST_FILES): each file handed out,
 * joined with spaces into out; returns 0, or the error. */
static int stream_files(struct fx *fx, char *out, size_t n)
{
	strata_error e = STRATA_ERROR_INIT;
	strata_manifest_stream *ms = NULL;
	const strata_manifest_entry *ent;
	size_t longest[2];
	int rc = strata_manifest_stream_open(&ms, fx->a, STRATA_MANIFEST_FILES, longest, &e);
	*out = '\0';
	while (rc == 0 && (rc = strata_manifest_stream_next(ms, &ent, &e)) > 0) {
		assert_null(ent->sha256);
		snprintf(out + strlen(out), n - strlen(out), "%s%s", *out ? " " : "", ent->file);
		rc = 0;
	}
	strata_manifest_stream_close(ms);
	return rc;
}

/* "files" (build writes the migration files' names before the entries): the readers of the
 * entries refuse a list that does not name them, in their order, or is not an array of
 * strings; the listing reads the list alone, and refuses one that is not "count" long. */
static void test_manifest_files_list(void **state)
{
	struct fx *fx = *state;
	char got[200];
	assert_int_equal(read_with_files(fx, "[\"1-One.sql\"]"), 1);
	assert_int_equal(stream_files(fx, got, sizeof(got)), 0);
	assert_string_equal(got, "1-One.sql");
	assert_int_equal(read_with_files(fx, "[\"2-Two.sql\"]"), STRATA_EINVALID);
	assert_int_equal(stream_files(fx, got, sizeof(got)), 0); /* (the listing trusts it) */
	assert_string_equal(got, "2-Two.sql");
	assert_int_equal(read_with_files(fx, "[]"), STRATA_EINVALID);
	assert_int_equal(stream_files(fx, got, sizeof(got)), STRATA_EINVALID); /* count 1 */
	assert_int_equal(read_with_files(fx, "[\"1-One.sql\", \"2-Two.sql\"]"), STRATA_EINVALID);
	assert_int_equal(stream_files(fx, got, sizeof(got)), STRATA_EINVALID);
	assert_int_equal(read_with_files(fx, "{\"x\": \"1-One.sql\"}"), STRATA_EINVALID);
	assert_int_equal(stream_files(fx, got, sizeof(got)), STRATA_EINVALID);
	assert_int_equal(read_with_files(fx, "[\"1-One.sql\", 5]"), STRATA_EINVALID);
	assert_int_equal(read_with_files(fx, "[[\"1-One.sql\"]]"), STRATA_EINVALID);
	assert_int_equal(read_with_files(fx, "\"1-One.sql\""), STRATA_EINVALID);
	assert_int_equal(stream_files(fx, got, sizeof(got)), STRATA_EINVALID);
	assert_int_equal(read_with_files(fx, "[\"2-Two.sql\"], \"files\": [\"1-One.sql\"]"),
	                 STRATA_EINVALID); /* twice */
}

/* Build's two reads must find the same files, not only the same sums. */
static void test_manifest_header_same_files(void **state)
{
	strata_buf fa = STRATA_BUF_INIT, fb = STRATA_BUF_INIT;
	strata_manifest_header a = {.count = 1, .digest = 7, .files = &fa};
	strata_manifest_header b = {.count = 1, .digest = 7, .files = &fb};
	(void)state;
	strata_buf_put(&fa, "1-One.sql", 10);
	strata_buf_put(&fb, "1-One.sql", 10);
	assert_true(strata_manifest_header_same(&a, &b));
	strata_buf_reset(&fb);
	strata_buf_put(&fb, "V1__One.sql", 12);
	assert_false(strata_manifest_header_same(&a, &b));
	b.files = NULL; /* (a header that keeps none: the sums alone) */
	assert_true(strata_manifest_header_same(&a, &b));
	b.digest = 8;
	assert_false(strata_manifest_header_same(&a, &b));
	strata_buf_free(&fa);
	strata_buf_free(&fb);
}

/* Walks dir (strata_catalog_walk) and checks it gives what strata_catalog_load(dir) holds, in
 * the same order, or fails as it does. Returns the load's result. */
static int walk_as_load(const char *dir)
{
	strata_error le = STRATA_ERROR_INIT, we = STRATA_ERROR_INIT;
	strata_catalog c;
	strata_catalog_walk *w = NULL;
	strata_migration *m = NULL;
	size_t i = 0;
	int lerr = strata_catalog_load(&c, &dir, 1, &le), werr;

	werr = strata_catalog_walk_open(&w, dir, &we);
	while (werr == 0 && (werr = strata_catalog_walk_next(w, &m, &we)) > 0) {
		assert_int_equal(lerr, 0);
		assert_true(i < c.n);
		assert_string_equal(m->version, c.items[i]->version);
		assert_string_equal(m->name, c.items[i]->name);
		assert_string_equal(m->path, c.items[i]->path);
		assert_string_equal(m->checksum, c.items[i]->checksum);
		assert_true((m->down_path == NULL) == (c.items[i]->down_path == NULL));
		if (m->down_path)
			assert_string_equal(m->down_path, c.items[i]->down_path);
		assert_true((m->conf_path == NULL) == (c.items[i]->conf_path == NULL));
		assert_int_equal(m->up.no_transaction, c.items[i]->up.no_transaction);
		assert_int_equal(m->down.present, c.items[i]->down.present);
		strata_migration_free(m);
		werr = 0;
		i++;
	}
	assert_int_equal(werr, lerr);
	if (lerr < 0) {
		assert_string_equal(we.msg, le.msg);
		assert_string_equal(we.file, le.file);
	} else {
		assert_int_equal(i, c.n);
		for (i = 0; i < c.n; i++) {
			assert_true(
			    strata_catalog_walk_has(w, strata_fs_base_name(c.items[i]->path)));
			if (c.items[i]->down_path)
				assert_true(strata_catalog_walk_has(
				    w, strata_fs_base_name(c.items[i]->down_path)));
		}
		strata_catalog_free(&c);
	}
	strata_catalog_walk_close(w);
	return lerr;
}

static void test_catalog_walk_as_load(void **state)
{
	/* beside 9-Nine.sql: a duplicate by its version's value, one of another format, a lone
	 * down half, a file that does not parse, an ill-named file */
	static const char *const bad[][2] = {{"09-Nine.sql", UPDOWN("select 9;", "")},
	                                     {"9_Nine.up.sql", "select 9;\n"},
	                                     {"5_orphan.down.sql", "select -5;\n"},
	                                     {"6-Bad.sql", "select 1;\n-- migrate:up\n"},
	                                     {"123.sql", "-- migrate:up\n"}};
	struct fx *fx = *state;
	strata_catalog_walk *w = NULL;
	strata_migration *m = NULL;
	strata_error e = STRATA_ERROR_INIT;

	assert_int_equal(walk_as_load(fx->a), 0);
	unit_write(fx->a, "README.md", "not a migration\n");
	unit_write(fx->a, "10-Ten.sql", UPDOWN("select 10;", "select -10;"));
	unit_write(fx->a, "9-Nine.sql", UPDOWN("select 9;", ""));
	unit_write(fx->a, "2_add_users.down.sql", "-- strata:no-transaction\ndrop table users;\n");
	unit_write(fx->a, "2_add_users.up.sql", "create table users (id int);\n");
	unit_write(fx->a, "V3__three.sql.conf", "executeInTransaction=false\n");
	unit_write(fx->a, "U3__three.sql", "select -3;\n");
	unit_write(fx->a, "V3__three.sql", "select 3;\n");
	unit_write(fx->a, "00004_four.sql", "-- +goose Up\nselect 4;\n");
	unit_write(fx->a, "4-Four.sql", UPDOWN("select 4;", ""));
	assert_int_equal(walk_as_load(fx->a), 0);
	/* 10 after 9, the three Flyway files one migration, the pair one */
	assert_int_equal(strata_catalog_walk_open(&w, fx->a, &e), 0);
	assert_true(strata_catalog_walk_has(w, "V3__three.sql.conf"));
	assert_true(strata_catalog_walk_has(w, "U3__three.sql"));
	assert_true(strata_catalog_walk_has(w, "00004_four.sql"));
	assert_true(strata_catalog_walk_has(w, "004-Four.sql") == false);
	assert_false(strata_catalog_walk_has(w, "README.md"));
	assert_false(strata_catalog_walk_has(w, "11-Eleven.sql"));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(strata_catalog_walk_next(w, &m, &e), 1);
		strata_migration_free(m);
	}
	strata_catalog_walk_rewind(w);
	assert_int_equal(strata_catalog_walk_next(w, &m, &e), 1);
	assert_string_equal(m->name, "add_users");
	strata_migration_free(m);
	strata_catalog_walk_close(w);

	/* each error of the load, in the same words and at the same file */
	unit_write(fx->b, "9-Nine.sql", UPDOWN("select 9;", ""));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unit_write(fx->b, bad[i][0], bad[i][1]);
		assert_int_equal(walk_as_load(fx->b), STRATA_EINVALID);
		unit_remove(fx->b, bad[i][0]);
	}
	/* more files of one version and name than a migration has */
	for (int i = 0; i < 10; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%.*s9-Nine.sql", i, "0000000000");
		unit_write(fx->b, name, UPDOWN("select 9;", ""));
	}
	assert_int_equal(walk_as_load(fx->b), STRATA_EINVALID);
	assert_int_equal(strata_catalog_walk_open(&w, fx->root, &e), 0);
	assert_int_equal(strata_catalog_walk_next(w, &m, &e), 0);
	strata_catalog_walk_close(w);
	assert_int_equal(strata_catalog_walk_open(&w, "/nonexistent/strata", &e), STRATA_ENOTFOUND);
	assert_null(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_catalog_orders_across_dirs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_empty_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_duplicate_across_dirs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_duplicate_leading_zeros, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_golang_pair_merged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_lone_down_is_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_pair_halves_in_different_dirs, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_bad_name_is_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_bad_file_is_error_with_place, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_missing_dir, setup, teardown),
	    cmocka_unit_test(test_catalog_no_dirs),
	    cmocka_unit_test_setup_teardown(test_catalog_built_lists_from_manifest, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_flyway_and_goose, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_walk_as_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_built_file_must_match_manifest, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_built_without_usable_manifest_reads_all,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest_duplicate_file_is_unreadable, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_manifest_files_list, setup, teardown),
	    cmocka_unit_test(test_manifest_header_same_files),
	};
	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
