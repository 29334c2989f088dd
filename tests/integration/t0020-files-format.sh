#!/usr/bin/env bash
# Migration files: golang-migrate .up.sql/.down.sql pairs, CRLF, no final newline or semicolon,
# an empty up section, files that are not migrations, and files that are broken.
. "$(dirname "$0")/lib.sh"

scenario() {
	local k=$1 d=m_$1
	new_db "$k"
	# golang-migrate pair
	mig "$d" 1_create_a.up.sql 'create table a (x int);\n'
	mig "$d" 1_create_a.down.sql 'drop table a;\n'
	# CRLF line endings, with a comment and two statements
	mig "$d" 2-Crlf.sql '-- migrate:up\r\n-- a comment\r\ncreate table b (x int);\r\ninsert into b values (1);\r\n-- migrate:down\r\ndrop table b;\r\n'
	# no final newline and no final semicolon, in both sections
	mig "$d" 3-NoEol.sql '-- migrate:up\ncreate table c (x int);\ncreate table c2 (x int)\n-- migrate:down\ndrop table c2;\ndrop table c'
	# an empty up section: recorded, nothing run
	mig "$d" 4-EmptyUp.sql '-- migrate:up\n\n-- only a comment\n-- migrate:down\n'
	# a UTF-8 BOM and non-ASCII text
	mig "$d" 5-Bom.sql '\xef\xbb\xbf-- migrate:up\ncreate table e (x text);\ninsert into e values ('"'"'café'"'"');\n-- migrate:down\ndrop table e;\n'
	# not migrations: ignored
	mig "$d" README.md '# Migrations\n\nsome text, 1-2-3\n'
	mig "$d" notes.txt 'hello\n'
	mig "$d" .9-Hidden.sql 'this is not SQL\n'
	mkdir -p "$d/6-subdir.sql"

	check "$k: the files all run" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... stdout" "$(printf '%s\n' "$out" | norm)" "applying 5 migrations to $DB_DISPLAY
  applied   1-create_a  T
  applied   2-Crlf  T
  applied   3-NoEol  T
  applied   4-EmptyUp  T
  applied   5-Bom  T
applied 5 migrations in T"
	is "$k: ... tables" "$(db_tables)" "a,b,c,c2,e,strata_migrations"
	is "$k: ... history" "$(db_history)" "1-create_a,2-Crlf,3-NoEol,4-EmptyUp,5-Bom"
	is "$k: ... CRLF file's insert ran" "$(dbq 'select x from b')" 1
	is "$k: ... UTF-8 text arrived intact" "$(dbq 'select x from e')" "café"
	check "$k: show lists 5 applied (README.md, dirs and dot files ignored)" 0 \
		'^5 migrations: 5 applied, 0 pending ' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	# reverting uses the .down.sql of the pair and the down sections without final newline
	check "$k: revert 5-Bom" 0 '^  reverted  5-Bom ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	check "$k: revert of an empty down section (4-EmptyUp) is refused" 1 '^$' \
		"^strata: error: $d/4-EmptyUp.sql: cannot revert 4-EmptyUp: its down section is empty\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	# take 4 away from the history by hand so the rest can be reverted
	dbq "delete from strata_migrations where version = '4'" >/dev/null
	check "$k: revert --steps 3 (no final newline, CRLF, golang-migrate down file)" 0 \
		'^reverted 3 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --steps 3
	is "$k: ... all gone" "$(db_tables);$(db_history)" "strata_migrations;"
}
each_db scenario

# Broken files: the whole run stops before the database is touched.
broken() { # NAME FILE CONTENT EXIT STDERR_RE
	local d=broken_$_n
	new_db sqlite
	mig "$d" 1-Good.sql '-- migrate:up\ncreate table good (x int);\n'
	mig "$d" "$2" "$3"
	check "$1" "$4" '^$' "$5" strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$1: nothing ran (no database file)" "$(test -e "$DB_FILE" && echo exists || echo none)" none
}
d='broken_[0-9]+'
broken 'a file of SQL without -- migrate:up' 2-NoUp.sql 'create table x (y int);\n' 1 \
	"^strata: error: $d/2-NoUp.sql:1:1: SQL before the first '-- migrate:up' line\$"
like '... hint' "$err" "^hint: put the statements under a '-- migrate:up' line\$"
broken 'a file with only a down section' 2-OnlyDown.sql '-- migrate:down\ndrop table x;\n' 1 \
	"^strata: error: $d/2-OnlyDown.sql:1:1: migration has no '-- migrate:up' section\$"
broken 'an empty file' 2-Empty.sql '' 1 \
	"^strata: error: $d/2-Empty.sql:1:1: migration has no '-- migrate:up' section\$"
broken 'SQL after a comment, before -- migrate:up' 2-Late.sql '-- header\n  select 1;\n-- migrate:up\n' 1 \
	"^strata: error: $d/2-Late.sql:2:3: SQL before the first '-- migrate:up' line\$"
like '... shows the line and a caret' "$err" '^     2 \|   select 1;$'
like '... the caret under column 3' "$err" '^       \|   \^$'
broken 'a non-UTF-8 file' 2-Latin1.sql '-- migrate:up\ncreate table t (x text);\ninsert into t values ('"'"'caf\xe9'"'"');\n' 1 \
	"^strata: error: $d/2-Latin1.sql:3:27: migration file is not valid UTF-8 \\(byte 0xE9\\)\$"
like '... hint' "$err" '^hint: save the file as UTF-8'
broken 'a NUL byte' 2-Nul.sql '-- migrate:up\nselect 1;\x00\n' 1 \
	"^strata: error: $d/2-Nul.sql:2:10: NUL byte in migration file\$"
broken 'a .sql name with a version and no name' 2.sql '-- migrate:up\nselect 1;\n' 1 \
	"^strata: error: $d/2.sql: '2.sql' looks like a migration but has no name after its version\$"
like '... hint' "$err" '^hint: name migration files <version>-<name>.sql'
broken 'a .sql name with a version and an empty name' 2-.sql '-- migrate:up\nselect 1;\n' 1 \
	"'2-.sql' looks like a migration but has no name after its version\$"
broken 'a .sql name with digits then a letter' 2abc.sql '-- migrate:up\nselect 1;\n' 1 \
	"'2abc.sql' looks like a migration but has no name after its version\$"
broken 'a second -- migrate:up' 2-Twice.sql '-- migrate:up\nselect 1;\n-- migrate:up\nselect 2;\n' 1 \
	"^strata: error: $d/2-Twice.sql:3:1: second '-- migrate:up' line\$"
broken 'an unknown option on -- migrate:up' 2-Opt.sql '-- migrate:up transaction:maybe\nselect 1;\n' 1 \
	"^strata: error: $d/2-Opt.sql:1:15: unknown option 'transaction:maybe'\$"
broken 'a .down.sql without its .up.sql' 2_lonely.down.sql 'drop table x;\n' 1 \
	"^strata: error: $d/2_lonely.down.sql:1:1: down migration has no matching .up.sql file\$"
like '... hint' "$err" '^hint: add 2_lonely.up.sql beside it$'
done_testing
