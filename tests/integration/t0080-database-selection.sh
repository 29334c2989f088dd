#!/usr/bin/env bash
# Which database: --database-url beats DATABASE_URL beats .env beats strata.json beats the
# default SQLite file strata.db; the sqlite: URL forms; bad URLs and configs. (SQLite only; the
# PostgreSQL forms are in t0081.)
. "$(dirname "$0")/lib.sh"

mig dist/migrations 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
printf '{"database_url": "sqlite:json.db"}\n' >strata.json
printf '# local settings\nOTHER=1\nexport DATABASE_URL="sqlite:dotenv.db"  # the dev db\n' >.env

# which: the .db files that have the migration applied
which_dbs() {
	local f r=
	for f in *.db; do
		[ -f "$f" ] && [ "$(sqlite3 "$f" "select count(*) from sqlite_master where name = 'a'")" = 1 ] && r="$r$f "
	done
	echo "$r"
}
revert_all() { local f; for f in *.db; do "$STRATA" --database-url "sqlite:$f" migrations revert --all >/dev/null 2>&1; done; }

check '--database-url beats everything' 0 '^database: sqlite:cli\.db \(from --database-url\)$' '^$' \
	env DATABASE_URL=sqlite:envvar.db "$STRATA" -v --database-url sqlite:cli.db migrations run
is '... only cli.db' "$(which_dbs)" "cli.db "
revert_all
check 'DATABASE_URL beats .env' 0 '^database: sqlite:envvar\.db \(from DATABASE_URL\)$' '^$' \
	env DATABASE_URL=sqlite:envvar.db "$STRATA" -v migrations run
is '... only envvar.db' "$(which_dbs)" "envvar.db "
revert_all
# set but empty (a CI secret that failed to inject): an error, never the next source
check 'an empty DATABASE_URL is an error, not "unset"' 1 '^$' \
	'^strata: error: the database URL in the DATABASE_URL environment variable is set but empty$' \
	env DATABASE_URL= "$STRATA" -v migrations run
is '... no database was touched' "$(which_dbs)" ""
check '.env beats strata.json' 0 '^database: sqlite:dotenv\.db \(from \.env\)$' '^$' \
	strata -v migrations run
is '... only dotenv.db' "$(which_dbs)" "dotenv.db "
revert_all
printf 'DATABASE_URL=\nOTHER=2\n' >.env
check 'an empty DATABASE_URL in .env is an error too' 1 '^$' \
	'^strata: error: the database URL in \.env is set but empty$' \
	strata -v migrations run
is '... no database was touched' "$(which_dbs)" ""
rm .env
check 'strata.json beats the default' 0 '^database: sqlite:json\.db \(from config\)$' '^$' \
	strata -v migrations run
is '... only json.db' "$(which_dbs)" "json.db "
revert_all
rm strata.json
check 'the default is sqlite:strata.db' 0 '^database: sqlite:strata\.db \(from default\)$' '^$' \
	strata -v migrations run
is '... only strata.db' "$(which_dbs)" "strata.db "
like '... the summary names it' "$out" '^applying 1 migration to sqlite:strata\.db$'
revert_all
rm -f ./*.db

# sqlite URL forms
mkdir sub
for u in sqlite:sub/one.db sqlite://sub/two.db "sqlite:///$TEST_DIR/sub/three.db" sqlite3:sub/four.db \
	--database-url=sqlite:sub/five.db; do
	case $u in --*) args=("$u") ;; *) args=(--database-url "$u") ;; esac
	check "URL form $u" 0 '^applied 1 migration in ' '^$' strata "${args[@]}" migrations run
done
is '... each made its file' "$(cd sub && ls | tr '\n' ' ')" "five.db four.db one.db three.db two.db "
check 'sqlite: with no path' 1 '^$' "^strata: error: the SQLite URL 'sqlite:' names no file\$" \
	strata --database-url sqlite: migrations run
like '... hint' "$err" '^hint: write sqlite:PATH'
check 'an SQLite file in a missing directory' 1 '^$' \
	"^strata: error: cannot open SQLite database 'nodir/x.db': unable to open database file\$" \
	strata --database-url sqlite:nodir/x.db migrations run
check 'an unknown scheme' 1 '^$' "^strata: error: unsupported database URL 'mysql://u@h/db'\$" \
	strata --database-url mysql://u@h/db migrations run
like '... hint lists the forms' "$err" '^hint: use postgres://USER@HOST/DB, a libpq keyword string'
like '... says where the URL came from' "$err" '^detail: the URL came from --database-url$'
check 'sqlit: suggests sqlite' 1 '^$' "unsupported database URL 'sqlit:x.db'" \
	env DATABASE_URL=sqlit:x.db "$STRATA" migrations run
like '... hint' "$err" "^hint: did you mean 'sqlite:PATH'\\?\$"
like '... says where the URL came from' "$err" '^detail: the URL came from DATABASE_URL$'
check 'an empty --database-url' 1 '^$' '^strata: error: the database URL is empty$' \
	strata --database-url '' migrations run

# --config elsewhere: its directory is the project (dist_dir, .env and the default database)
mkdir -p proj/dist/migrations
cp dist/migrations/1-A.sql proj/dist/migrations/
echo '{}' >proj/strata.json
check '--config proj/strata.json: default database proj/strata.db' 0 \
	'^database: sqlite:proj/strata\.db \(from default\)$' '^$' \
	strata -v --config proj/strata.json migrations run --dir proj/dist/migrations
is '... created there' "$(test -f proj/strata.db && echo yes)" yes
printf '{"database_url": "sqlite:proj/j.db", "dist_dir": "out"}\n' >proj/strata.json
mkdir -p proj/out && cp dist/migrations/1-A.sql proj/out/
check '--config with dist_dir relative to the config file' 0 '^read 1 migration from 1 directory in [0-9.]+ m?s$' '^$' \
	strata -v --config proj/strata.json migrations run
is '... in proj/j.db' "$(sq_q proj/j.db 'select name from strata_migrations')" A

# broken configs
printf '{"database_url": ' >strata.json
check 'a strata.json that is not JSON' 1 '^$' '^strata: error: strata.json: cannot parse config: ' \
	strata migrations run
printf '{"databaseurl": "sqlite:x.db"}' >strata.json
check 'an unknown key in strata.json' 1 '^$' "^strata: error: strata.json: unknown key 'databaseurl' in config\$" \
	strata migrations run
like '... hint' "$err" '^hint: known keys: database_url, src_dir, dist_dir, dialect, lock_timeout, statement_timeout, lock_strategy, lock_ttl, max_replica_lag, replica_wait_timeout, require_database_url, base_dirs, dump_schema, sources$'
printf '{"database_url": 5}' >strata.json
check 'a non-string value' 1 '^$' "^strata: error: strata.json: 'database_url' must be a string\$" \
	strata migrations run
rm strata.json
check '--config naming a missing file' 1 '^$' "^strata: error: nope.json: cannot read 'nope.json': No such file or directory\$" \
	strata --config nope.json migrations run
is 'no stray database files were created by the failures' "$(ls ./*.db 2>/dev/null | tr '\n' ' ')" ""
done_testing
