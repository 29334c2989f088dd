/*
 * embed.c: a program that migrates its own database at start-up with libstrata, from migrations
 * compiled into it (one of them a C function that moves data), then does its work.
 *
 *   ./embed                          the SQLite file library.db, made on the first run
 *   ./embed postgres://app@localhost/app
 *
 * Build it against an installed libstrata with pkg-config (see the Makefile), or with CMake's
 * find_package(strata) (see CMakeLists.txt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata.h>

/* 3: a data migration in C. Books named their author in a text column; each distinct name becomes
 * a row of authors, and each book points at it. It runs inside the migration's transaction, with
 * its history row: if it fails, none of it stays. */
static int move_authors(strata_tx *tx, void *userdata, strata_error *e)
{
	strata_rows *names = NULL;
	int error;
	(void)userdata;

	if ((error = strata_tx_query(tx,
	                             "SELECT DISTINCT author_name FROM books "
	                             "WHERE author_name IS NOT NULL ORDER BY author_name",
	                             NULL, 0, &names, e)) < 0)
		return error;
	for (size_t i = 0; i < strata_rows_count(names) && error == 0; i++) {
		char id[32];
		const char *params[2] = {id, strata_rows_get(names, i, 0)};
		snprintf(id, sizeof(id), "%zu", i + 1);
		error = strata_tx_query(tx, "INSERT INTO authors (id, name) VALUES ($1, $2)",
		                        params, 2, NULL, e);
		if (error == 0)
			error = strata_tx_query(
			    tx, "UPDATE books SET author_id = $1 WHERE author_name = $2", params, 2,
			    NULL, e);
	}
	strata_rows_free(names);
	return error;
}

/* ... and back: the text column still has the names. */
static int unmove_authors(strata_tx *tx, void *userdata, strata_error *e)
{
	(void)userdata;
	return strata_tx_exec(tx, "UPDATE books SET author_id = NULL; DELETE FROM authors;", e);
}

static const strata_migration_def migrations[] = {
    {.version = STRATA_MIGRATION_DEF_VERSION,
     .id = "20240101000000",
     .name = "CreateBooks",
     .up_sql = "CREATE TABLE books (id integer PRIMARY KEY, title text NOT NULL, "
               "author_name text);\n"
               "INSERT INTO books (id, title, author_name) VALUES "
               "(1, 'Dune', 'Frank Herbert'), (2, 'Children of Dune', 'Frank Herbert'), "
               "(3, 'The Dispossessed', 'Ursula K. Le Guin');\n",
     .down_sql = "DROP TABLE books;\n"},
    {.version = STRATA_MIGRATION_DEF_VERSION,
     .id = "20240102000000",
     .name = "CreateAuthors",
     .up_sql = "CREATE TABLE authors (id integer PRIMARY KEY, name text NOT NULL UNIQUE);\n"
               "ALTER TABLE books ADD COLUMN author_id integer REFERENCES authors (id);\n",
     .down_sql = "ALTER TABLE books DROP COLUMN author_id;\nDROP TABLE authors;\n"},
    {.version = STRATA_MIGRATION_DEF_VERSION,
     .id = "20240103000000",
     .name = "MoveAuthors",
     .up_fn = move_authors,
     .down_fn = unmove_authors,
     .fingerprint = "move_authors v1"},
};

/* Progress, as the program wants to show it. */
static void on_event(const strata_event *ev, void *userdata)
{
	(void)userdata;
	if (ev->kind == STRATA_EVENT_STEP_DONE)
		printf("migrated: %s-%s (%.1f ms)\n", ev->version, ev->name, ev->ms);
	else if (ev->kind == STRATA_EVENT_LOCK_WAIT)
		printf("waiting for another instance's migrations: %s\n", ev->message);
}

/* The program's migrations, compiled into it. */
static int source(strata_source **out, strata_error *e)
{
	int error = strata_source_new(out, e);
	for (size_t i = 0; error == 0 && i < sizeof(migrations) / sizeof(migrations[0]); i++)
		error = strata_source_add(*out, &migrations[i], "embed", e);
	return error;
}

static int migrate(strata_db *db, strata_source *src, strata_error *e)
{
	strata_run_report *r = NULL;
	int error = strata_run(db, src, NULL, &r, e);
	if (error == 0)
		printf("migrations: %zu applied now, %zu in all\n", r->done, r->migrations);
	strata_run_report_free(r);
	return error;
}

/* The program's work starts here; it would use its own database driver. This one says which
 * version of the schema it runs on, from the history (strata_status: it only reads). */
static int work(strata_db *db, strata_source *src, strata_error *e)
{
	strata_status_report *st = NULL;
	int error = strata_status(db, src, &st, e);
	if (error == 0 && st->applied > 0) {
		const strata_status_entry *last = NULL;
		for (size_t i = 0; i < st->n; i++)
			if (st->entries[i].state == STRATA_STATE_APPLIED)
				last = &st->entries[i];
		printf("schema: %s-%s, %zu migrations applied, %zu pending (%s, libstrata %s)\n",
		       last->version, last->name, st->applied, st->pending, strata_db_engine(db),
		       strata_version());
	}
	strata_status_report_free(st);
	return error;
}

int main(int argc, char **argv)
{
	const char *url = argc > 1 ? argv[1] : "sqlite:library.db";
	strata_db_options o = STRATA_DB_OPTIONS_INIT;
	strata_error e = STRATA_ERROR_INIT;
	strata_db *db = NULL;
	strata_source *src = NULL;
	int error;

	o.on_event = on_event;
	if ((error = strata_db_open(&db, url, &o, &e)) == 0 && (error = source(&src, &e)) == 0 &&
	    (error = migrate(db, src, &e)) == 0)
		error = work(db, src, &e);
	if (error < 0) {
		fprintf(stderr, "embed: %s: ", strata_error_name(e.code));
		if (e.file[0] && e.line)
			fprintf(stderr, "%s:%u:%u: ", e.file, e.line, e.column);
		else if (e.file[0])
			fprintf(stderr, "%s: ", e.file);
		fprintf(stderr, "%s\n", e.msg);
		if (e.detail[0])
			fprintf(stderr, "detail: %s\n", e.detail);
		if (e.hint[0])
			fprintf(stderr, "hint: %s\n", e.hint);
	}
	strata_source_free(src);
	strata_db_close(db);
	return error < 0 ? 1 : 0;
}
