/*
 * migration.h: one migration, read from its file(s).
 *
 * These layouts are read:
 *   <version>-<name>.sql (or _), one file for both directions, in one of two formats told apart
 *   by the file's first marker line (so a strata file is never read as goose's):
 *     strata's (and dbmate's): '-- migrate:up [transaction:false]' and '-- migrate:down';
 *     goose's: '-- +goose Up', '-- +goose Down', '-- +goose StatementBegin' ... '-- +goose
 *     StatementEnd' around one statement that holds semicolons, and '-- +goose NO TRANSACTION'
 *     (the whole file, both directions, runs outside a transaction);
 *   <version>_<name>.up.sql + <version>_<name>.down.sql (golang-migrate); a leading
 *   '-- strata:no-transaction' line marks the up or down file as non-transactional;
 *   V<version>__<name>.sql + U<version>__<name>.sql (Flyway's versioned migration and its undo),
 *   and V<version>__<name>.sql.conf, Flyway's per-script config, whose
 *   'executeInTransaction=false' makes both halves non-transactional.
 * The version is the leading digits, of any length, compared as a number; a migration's
 * identity is version plus name.
 */
#ifndef STRATA_CORE_MIGRATION_H
#define STRATA_CORE_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>

#include "strata.h"

typedef enum {
	STRATA_FILE_NONE,
	STRATA_FILE_SINGLE,      /* <version>-<name>.sql: strata's, dbmate's or goose's */
	STRATA_FILE_UP,          /* golang-migrate's <version>_<name>.up.sql */
	STRATA_FILE_DOWN,        /* ... and its .down.sql */
	STRATA_FILE_FLYWAY_UP,   /* Flyway's V<version>__<name>.sql */
	STRATA_FILE_FLYWAY_UNDO, /* Flyway's U<version>__<name>.sql */
	STRATA_FILE_FLYWAY_CONF  /* Flyway's V<version>__<name>.sql.conf */
} strata_file_kind;

/* The format a section was written in: what its messages tell to write. */
typedef enum {
	STRATA_FORMAT_STRATA, /* '-- migrate:up' sections (strata's, dbmate's), or in memory */
	STRATA_FORMAT_PAIR,   /* golang-migrate's .up.sql/.down.sql */
	STRATA_FORMAT_GOOSE,  /* '-- +goose Up' sections */
	STRATA_FORMAT_FLYWAY  /* Flyway's V and U files */
} strata_format;

typedef struct strata_section {
	bool present;
	bool no_transaction;
	strata_format format;
	const char *file; /* the file it sits in (borrowed from its migration) */
	const char *text; /* that file's whole text, for line:column */
	size_t offset;    /* where the section's SQL begins in text */
	size_t len;
	/* goose's StatementBegin/StatementEnd blocks: nblocks pairs [start, end) of byte offsets
	 * into text (not the section), each one statement whatever semicolons it holds
	 * (core/sqlsplit.h). Owned by the migration. */
	size_t *blocks;
	size_t nblocks;
	strata_step_fn fn; /* a step written in C (strata_source_add), instead of SQL */
	void *fn_ud;
} strata_section;

typedef struct strata_migration {
	char *version; /* the leading digits as written */
	char *name;
	strata_file_kind kind; /* of `path` */
	char *path;            /* the migration file (the .up.sql of a pair, Flyway's V file) */
	char *down_path;       /* the .down.sql of a pair, Flyway's U file, else NULL */
	char *conf_path;       /* Flyway's V<version>__<name>.sql.conf, else NULL */
	char *text, *down_text, *conf_text;
	bool conf_no_transaction; /* a .conf file alone: it says executeInTransaction=false */
	strata_section up, down;
	char checksum[65]; /* SHA-256 of the file(s), CR LF read as LF */
	size_t dir_index;  /* which --dir it came from */
	/* false for a migration listed from a build manifest (core/catalog.h) and not read yet:
	 * then only the names, paths and checksum (the manifest's) are set, and `up.present`. */
	bool loaded;
} strata_migration;

/* Splits a file name into version and name (each out optional: NULL when not wanted). Returns
 * the kind, or STRATA_FILE_NONE for a file that is not a migration (README.md). A .sql file that
 * starts with a digit but is not named <version>-<name>.sql is an error, so a typo is not silently
 * skipped; so is a Flyway file strata cannot run (a dotted version as in V1.1__x.sql, a
 * repeatable R__x.sql, a baseline B1__x.sql, an undo's own U1__x.sql.conf). */
int strata_migration_parse_name(strata_file_kind *kind_out, char **version_out, char **name_out,
                                const char *fname, strata_error *e);

/* Whether name[0..len) may be a migration's name: letters (ASCII or any other UTF-8 character),
 * digits, '_', and '-' or '.' after the first character. Otherwise *bad_out (optional) gets
 * the offset of the first character that may not be there. build and migration:create use
 * the same rule. */
bool strata_migration_name_valid(const char *name, size_t len, size_t *bad_out);

/* Reads and parses one migration file. For STRATA_FILE_UP/DOWN and Flyway's V and U files only
 * that half is set; for a .conf file neither (conf_no_transaction says what it holds). */
int strata_migration_load(strata_migration **out, const char *path, size_t dir_index,
                          strata_error *e);
/* Parses text already in memory (takes ownership of text, which must be NUL-terminated). */
int strata_migration_parse(strata_migration **out, const char *path, char *text, size_t len,
                           strata_file_kind kind, strata_error *e);
/* A migration given in memory (strata.h's strata_migration_def): its SQL, or C functions, with
 * `path` naming it in messages ("memory:1-CreateUsers"). Its checksum covers its SQL (a
 * function counts by its fingerprint), so a database that applied another version says so. */
int strata_migration_from_memory(strata_migration **out, const char *path,
                                 const strata_migration_def *def, strata_error *e);

/* Reads, parses and hashes a migration that is not loaded yet, and fails unless its SHA-256 is
 * the one already in m->checksum (the build manifest's): what runs is what was built. */
int strata_migration_ensure(strata_migration *m, strata_error *e);
/* The error for a built migration file whose SHA-256 is not the one its build manifest lists:
 * names the file and says to edit the source and build. Returns STRATA_EINVALID. */
int strata_migration_mismatch(strata_error *e, const char *path, const char *manifest_sha256,
                              const char *file_sha256);
/* Folds the file `part` (the .down.sql of a pair; Flyway's U file or V's .conf) into the
 * migration `up`, recomputes its checksum over all its files, and frees `part`. */
int strata_migration_merge_pair(strata_migration *up, strata_migration *part, strata_error *e);
/* The file name of Flyway's U file for the V file path `v_path` ("U1__x.sql" for
 * "dir/V1__x.sql"), malloc'd; NULL when out of memory. */
char *strata_flyway_undo_name(const char *v_path);
void strata_migration_free(strata_migration *m);

/* Numeric comparison of two digit strings of any length. */
int strata_version_cmp(const char *a, const char *b);
/* Orders by version, then name. */
int strata_migration_key_cmp(const char *va, const char *na, const char *vb, const char *nb);
/* True for a section with nothing but white space and '--' comments. */
bool strata_section_is_empty(const strata_section *s);
/* Maps a byte offset inside section s to the file's line:column and fills e's place. */
void strata_section_locate(const strata_section *s, size_t off, strata_error *e);
/* How to run section s (the up section when `up`) without a transaction, in its own format's
 * words: "mark the section '-- migrate:up transaction:false'", "add '-- +goose NO TRANSACTION'
 * ...". Writes into buf (n bytes) and returns it. */
const char *strata_section_no_txn_how(const strata_section *s, bool up, char *buf, size_t n);
/* Whether a string is all digits (a version). */
bool strata_is_version(const char *s);

#endif
