#!/usr/bin/env bash
# Messages a new user meets: unknown global options, --fake's wording, `strata help ...`, a
# host name that does not resolve, SQLite result codes, the SQLite dialect at build, column
# widths in show, migration names build and migration:create agree on, files that are almost
# migrations, percent-encoded sqlite: URLs, durations without a unit, and the time run prints
# being the time show prints.
. "$(dirname "$0")/lib.sh"

mig m 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'

# unknown global option
check 'an unknown option before the command is an unknown option, not a command' 2 '^$' \
	"^strata: unknown option '--json'\$" strata --json migrations show
like '... with the pointer to --help' "$err" "^Try 'strata --help' for more information\\.\$"
check 'a short one too' 2 '^$' "^strata: unknown option '-x'\$" strata -x

# --fake does not say "applying"
new_db sqlite
check '--fake says it records, not applies' 0 \
	"^recording 1 migration as applied in $(req "$DB_URL"), running none of their SQL \\(--fake\\)\$" '^$' \
	strata --database-url "$DB_URL" migrations run --dir m --fake
unlike '... no "applying"' "$out" '^applying'
like '... the line for the migration says recorded' "$out" '^  recorded  1-A '
is '... no table, only the history' "$(db_tables);$(db_history)" "strata_migrations;1-A"

# help in every form users try
check 'strata help' 0 '^Usage: strata ' '^$' strata help
check 'strata help migrations' 0 '^Usage: strata migrations SUBCOMMAND' '^$' strata help migrations
check 'strata migrations help' 0 '^Usage: strata migrations SUBCOMMAND' '^$' strata migrations help
check 'strata help migrations run' 0 '^Usage: strata migrations run ' '^$' strata help migrations run
check 'strata migrations help show' 0 '^Usage: strata migrations show ' '^$' strata migrations help show
check 'strata help seed' 0 '^Usage: strata seed ' '^$' strata help seed
check 'strata help bogus' 2 '^$' "^strata help: no command 'bogus'\$" strata help bogus

# a host name that does not resolve: the hint is about the host, not the URL's syntax
check 'an unresolvable host' 1 '^$' \
	'^strata: error: cannot connect to postgres://u@no-such-host\.invalid/db$' \
	strata --database-url postgres://u@no-such-host.invalid/db migrations show --dir m
like '... the hint names the host name' "$err" \
	"^hint: the host name in the URL does not resolve: check its spelling, and that this machine's DNS knows it\$"
unlike '... not the URL syntax' "$err" "URL's syntax"

# SQLite result codes are not SQLSTATEs
new_db sqlite
mig k 1-K.sql '-- migrate:up\ncreate table k (id int primary key);\n'
printf '{"k": [{"id": 1}, {"id": 1}]}\n' >dup.json
check 'a SQLite constraint error in a seed' 1 '' \
	'^strata: error: dup\.json:1:20: cannot write a row of '"'"'k'"'"': UNIQUE constraint failed: k\.id$' \
	strata --database-url "$DB_URL" seed -f dup.json --dir k
unlike '... shows no result code as if it were a SQLSTATE' "$err" '\[[0-9]+\]'

# build with no dialect, no config and no URL: SQLite, and the hint says how to pick PostgreSQL
mkdir -p pgproj/src/migrations
mig pgproj/src/migrations 1-Pg.sql '-- migrate:up\ncreate table t (id serial primary key, d jsonb default $$x$$::jsonb);\n'
cd pgproj || bail "cd"
check 'build of PostgreSQL SQL with no dialect set' 1 '^$' \
	'^strata: error: src/migrations/1-Pg\.sql:2:56: near "\$\$x\$\$::jsonb": syntax error$' \
	strata build
like '... the hint says it was read as SQLite and how to read it as PostgreSQL' "$err" \
	'^hint: the migrations were checked as SQLite SQL, the default when no --dialect, "dialect" in strata\.json or database URL names one; for PostgreSQL migrations use --dialect postgres$'
check '... lint says the same' 1 '' 'for PostgreSQL migrations use --dialect postgres$' strata lint
check '... and --dialect postgres builds it' 0 '^built 1 migration' '' strata build --dialect postgres
cd "$TEST_DIR" || bail "cd"

# show's columns by display width
mkdir w
for n in 'Ünïcödé' '日本語の名前' 'plain' $'e\xcc\x81te'; do
	mig w "$(($(ls w | wc -l) + 1))-$n.sql" '-- migrate:up\n'
done
new_db sqlite
check 'show with wide and combining characters in names' 0 '' '^$' \
	strata --database-url "$DB_URL" migrations show --dir w
cols=$(printf '%s\n' "$out" | sed -n '2,5p' | python3 -c '
import sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
print(" ".join(str(width(l[:l.index(" -")])) for l in sys.stdin.read().splitlines()))')
is '... the APPLIED AT column starts at the same display column on every row (NAME is as wide as the longest name in bytes)' "$cols" "35 35 35 35"

# names: build and migration:create agree
mkdir n1 n2 n3
mig n1 '2-has space.sql' '-- migrate:up\n'
check "build refuses a name with a space" 1 '^$' \
	"^strata: error: n1/2-has space\\.sql: '2-has space\\.sql': the migration's name 'has space' cannot hold ' '\$" \
	strata build --src n1 --out o1 --dialect postgres
like '... with a hint' "$err" "^hint: a name is letters, digits, '_', '-' and '\\.', starting with a letter, a digit or '_'"
mig n2 '11--double.sql' '-- migrate:up\n'
check 'build refuses a name starting with -' 1 '^$' "the migration's name '-double' cannot hold '-'\$" \
	strata build --src n2 --out o2 --dialect postgres
check 'migration:create refuses the same names' 2 '^$' "'has space' is not a valid migration name" \
	strata migration:create -n 'has space' --dir n3
check '... and -double' 2 '^$' "'-double' is not a valid migration name" \
	strata migration:create -n -double --dir n3
check 'migration:create takes what build takes: add-users.v2' 0 '/[0-9]{13}-add-users\.v2\.sql$' '' \
	strata migration:create -n add-users.v2 --dir n3
check '... and build reads it' 0 '^built 1 migration' '' strata build --src n3 --out o3 --dialect postgres

# files that are almost migrations are not skipped silently
mkdir x1 x2
mig x1 4-x.SQL '-- migrate:up\n'
check 'a .SQL file that looks like a migration' 1 '^$' \
	"^strata: error: x1/4-x\\.SQL: '4-x\\.SQL' looks like a migration, but only files ending in '\\.sql' are read\$" \
	strata --database-url sqlite:x.db migrations show --dir x1
like '... hint' "$err" '^hint: rename it to 4-x\.sql$'
ln -s ../nowhere/5-y.sql x2/5-y.sql
check 'a dangling symbolic link named like a migration' 1 '^$' \
	"^strata: error: x2/5-y\\.sql: symbolic link to '\\.\\./nowhere/5-y\\.sql', which does not exist\$" \
	strata --database-url sqlite:x.db migrations show --dir x2
rm -f x.db

# sqlite: URLs are percent-decoded
check 'sqlite:my%20db.sqlite' 0 '^applied 1 migration' '^$' \
	strata --database-url 'sqlite:my%20db.sqlite' migrations run --dir m
is '... made "my db.sqlite"' "$(ls -- my*)" "my db.sqlite"

# durations need their unit (a bare 5000 is milliseconds to PostgreSQL users, seconds to others)
check '--lock-timeout 5000 is a usage error' 2 '^$' \
	"^strata migrations run: --lock-timeout needs a duration like 5s, 500ms or 2m, not '5000'\$" \
	strata --database-url sqlite:d.db migrations run --dir m --lock-timeout 5000
check '--lock-wait 3 too' 2 '^$' "not '3'\$" strata migrations run --dir m --lock-wait 3
check '--wait-timeout 10 too' 2 '^$' "not '10'" strata --wait-timeout 10 migrations show --dir m
check '0 needs none' 0 '^applied 1 migration' '^$' \
	strata --database-url sqlite:d.db migrations run --dir m --lock-timeout 0 --lock-wait 0
printf '{"lock_timeout": "5000"}\n' >strata.json
check 'a bare number in the config is refused too' 1 '^$' \
	"^strata: error: strata\\.json: bad value '5000' for 'lock_timeout' in the config\$" \
	strata --database-url sqlite:d2.db migrations run --dir m
rm strata.json

# the time run prints is the time show prints
scenario() {
	new_db "$1"
	mig "t_$1" 1-T.sql '-- migrate:up\ncreate table t (x int);\ninsert into t select 1;\n-- migrate:down\ndrop table t;\n'
	mig "t_$1" 2-Nt.sql '-- migrate:up transaction:false\ncreate table u (x int);\n-- migrate:down\ndrop table u;\n'
	run strata --database-url "$DB_URL" migrations run --dir "t_$1"
	ran=$(printf '%s\n' "$out" | sed -n 's/^  applied   \([^ ]*\)  \(.*\)$/\1 \2/p' | tr '\n' ';')
	run strata --database-url "$DB_URL" migrations show --dir "t_$1"
	shown=$(printf '%s\n' "$out" | awk '$1 == "applied" {print $2 "-" $3, $5, $6}' | tr '\n' ';')
	like "$1: run printed times" "$ran" '^1-T [0-9.]+ m?s;2-Nt [0-9.]+ m?s;$'
	is "$1: ... and show prints the same ones" "$shown" "$ran"
}
each_db scenario
done_testing
