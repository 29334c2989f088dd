#!/usr/bin/env bash
# migrations run with several --dir (one ordered plan), the default directory dist/migrations,
# and a migration that is in two directories.
. "$(dirname "$0")/lib.sh"

logmig() { # DIR FILE NAME
	mig "$1" "$2" "-- migrate:up\ninsert into log (id, n) select count(*) + 1, '$3' from log;\n-- migrate:down\ndelete from log where n = '$3';\n"
}

scenario() {
	local k=$1
	new_db "$k"
	mig "app_$k" 1-Log.sql '-- migrate:up\ncreate table log (id integer primary key, n text);\n-- migrate:down\ndrop table log;\n'
	logmig "app_$k" 3-App3.sql App3
	logmig "app_$k" 20-App20.sql App20
	logmig "plugin_$k" 2-Plug2.sql Plug2
	logmig "plugin_$k" 10-Plug10.sql Plug10
	logmig "plugin_$k" 3-Plug3.sql Plug3
	check "$k: two --dir are merged into one plan" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "app_$k" --dir "plugin_$k"
	is "$k: ... in version order across the directories" "$(printf '%s\n' "$out" | norm)" \
"applying 6 migrations to $DB_DISPLAY
  applied   1-Log  T
  applied   2-Plug2  T
  applied   3-App3  T
  applied   3-Plug3  T
  applied   10-Plug10  T
  applied   20-App20  T
applied 6 migrations in T"
	is "$k: ... the order they ran in" "$(dbq 'select n from log order by id' | tr '\n' ' ')" \
		"Plug2 App3 Plug3 Plug10 App20 "
	is "$k: ... history" "$(db_history)" "1-Log,2-Plug2,3-App3,3-Plug3,10-Plug10,20-App20"
	check "$k: show with only one of the dirs lists the other's as missing" 0 \
		'^6 migrations: 3 applied, 0 pending, 3 applied but missing on disk' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "app_$k"
}
each_db scenario

# the default directory is dist/migrations
new_db sqlite
check 'no dist/migrations: run fails' 1 '^$' \
	"^strata: error: cannot open directory 'dist/migrations': No such file or directory\$" \
	strata --database-url "$DB_URL" migrations run
like '... with a hint to run strata build' "$err" \
	"^hint: run 'strata build' to build dist/migrations from src/migrations, or read src/migrations itself \\(--dir\\)\$"
is '... and the database was not even created' "$(test -e "$DB_FILE" && echo exists || echo none)" none
check 'no dist/migrations: show fails the same way' 1 '^$' "hint: run 'strata build'" \
	strata --database-url "$DB_URL" migrations show
check 'a missing --dir has no build hint' 1 '^$' \
	"^strata: error: cannot open directory 'nodir': No such file or directory\$" \
	strata --database-url "$DB_URL" migrations run --dir nodir
unlike '... no hint' "$err" 'strata build'
mig dist/migrations 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
check 'with dist/migrations present, run reads it by default' 0 '^  applied   1-A ' '^$' \
	strata --database-url "$DB_URL" migrations run
is '... applied' "$(db_tables);$(db_history)" "a,strata_migrations;1-A"

# the same migration (version and name) in two directories
new_db sqlite
mig one 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
mig one 2-B.sql '-- migrate:up\ncreate table b (x int);\n'
mig two 2-B.sql '-- migrate:up\ncreate table b2 (x int);\n'
check 'a migration in two --dir is an error' 1 '^$' \
	'^strata: error: two/2-B.sql:1:1: duplicate migration 2-B$' \
	strata --database-url "$DB_URL" migrations run --dir one --dir two
like '... naming the other file too' "$err" "^detail: first seen in 'one/2-B.sql'\$"
like '... with a hint' "$err" '^hint: each migration \(version and name\) must exist once'
is '... and nothing ran (no database file)' "$(test -e "$DB_FILE" && echo exists || echo none)" none
# same version, other name: not a duplicate
mig three 2-C.sql '-- migrate:up\ncreate table c (x int);\n'
check 'the same version with another name is fine' 0 '^applied 3 migrations in ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir one --dir three
is '... applied' "$(db_history)" "1-A,2-B,2-C"
done_testing
