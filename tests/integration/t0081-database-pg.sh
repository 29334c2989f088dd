#!/usr/bin/env bash
# PostgreSQL URLs: postgres:// from every source, a libpq keyword string, only PG* variables, a
# typo in the scheme, a server that is not there, a wrong password; the password never shows.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg

PW=${PGPASSWORD:?pg_virtualenv sets PGPASSWORD}
WRONG=Wr0ngPassw0rdXyz
HP="${PGHOST}:${PGPORT:-5432}"
mig dist/migrations 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
mig dist/migrations 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
applied() { pg_q "select count(*) from strata_migrations"; }
reset() { "$STRATA" --database-url "$PG_URL" migrations revert --all >/dev/null 2>&1; }

# every source, with the password in the URL (and PGPASSWORD unset, so only the URL has it)
check 'postgres:// in --database-url' 0 \
	"^database: postgres://${PGUSER}:\\*\\*\\*\\*@$HP/$PG_DB \\(from --database-url\\)\$" '^$' \
	env -u PGPASSWORD "$STRATA" -v --database-url "$PG_URL" migrations run
is '... applied' "$(applied)" 2
reset
check 'postgresql:// in DATABASE_URL' 0 '^database: postgresql://.*:\*\*\*\*@.* \(from DATABASE_URL\)$' '^$' \
	env -u PGPASSWORD DATABASE_URL="postgresql://${PGUSER}:${PW}@${HP}/${PG_DB}" "$STRATA" -v migrations run
is '... applied' "$(applied)" 2
reset
printf 'DATABASE_URL=%s\n' "$PG_URL" >.env
check 'postgres:// in .env beats strata.json' 0 '\(from \.env\)$' '^$' \
	env -u PGPASSWORD "$STRATA" -v migrations run
is '... applied' "$(applied)" 2
reset
rm .env
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
check 'postgres:// in strata.json' 0 '\(from config\)$' '^$' env -u PGPASSWORD "$STRATA" -v migrations run
is '... applied' "$(applied)" 2
check '... show masks the password in its summary' 0 \
	"^2 migrations: 2 applied, 0 pending \\(postgres://${PGUSER}:\\*\\*\\*\\*@$HP/$PG_DB\\)\$" '^$' \
	env -u PGPASSWORD "$STRATA" migrations show
reset
rm strata.json

# a password as a URL parameter
check 'postgres://...?password=...' 0 "\\?password=\\*\\*\\*\\* \\(from --database-url\\)\$" '^$' \
	env -u PGPASSWORD "$STRATA" -v --database-url "postgres://${PGUSER}@${HP}/${PG_DB}?password=${PW}" migrations run
is '... applied' "$(applied)" 2
reset

# a libpq keyword string, password from PGPASSWORD, and one with password=...
check 'a libpq keyword string' 0 '^applied 2 migrations in ' '^$' \
	strata --database-url "host=$PGHOST port=${PGPORT:-5432} dbname=$PG_DB user=$PGUSER" migrations run
is '... applied' "$(applied)" 2
reset
check "a keyword string with password='...'" 0 "password=\\*\\*\\*\\* dbname=.* \\(from --database-url\\)\$" '^$' \
	env -u PGPASSWORD "$STRATA" -v --database-url "host=$PGHOST port=${PGPORT:-5432} password='$PW' dbname=$PG_DB user=$PGUSER" migrations run
is '... applied' "$(applied)" 2
reset

# postgres:// and nothing else: host, port, user, password and database come from PG* variables
check 'postgres:// with only PG* variables' 0 '^applied 2 migrations in ' '^$' \
	env PGDATABASE="$PG_DB" "$STRATA" --database-url postgres:// migrations run
is '... applied in PGDATABASE' "$(applied)" 2
reset
check 'postgres:///DB with the rest from PG* variables' 0 '^applied 2 migrations in ' '^$' \
	strata --database-url "postgres:///$PG_DB" migrations run
is '... applied' "$(applied)" 2

# mistakes
check 'a typo in the scheme: postgress://' 1 '^$' \
	"^strata: error: unsupported database URL 'postgress://${PGUSER}:\\*\\*\\*\\*@$HP/$PG_DB'\$" \
	strata --database-url "postgress://${PGUSER}:${WRONG}@${HP}/${PG_DB}" migrations run
like '... hint' "$err" "^hint: did you mean 'postgres://'\\?\$"
check 'pg:// suggests postgres:// too' 1 '^$' "did you mean 'postgres://'" \
	strata --database-url "pg://${PGUSER}@${HP}/${PG_DB}" migrations show

check 'a server that is not running (port 1)' 1 '^$' \
	"^strata: error: cannot connect to postgres://u:\\*\\*\\*\\*@127\\.0\\.0\\.1:1/db\$" \
	strata --database-url "postgres://u:${WRONG}@127.0.0.1:1/db" migrations run
like '... detail from libpq' "$err" '^detail: .*Connection refused'
like '... hint' "$err" '^hint: is the server running, and are the host and port in the URL right\?$'
check '... show fails the same way' 1 '^$' 'cannot connect to' \
	strata --database-url "postgres://u:${WRONG}@127.0.0.1:1/db" migrations show

check 'a wrong password' 1 '^$' \
	"^strata: error: cannot connect to postgres://${PGUSER}:\\*\\*\\*\\*@$HP/$PG_DB\$" \
	env -u PGPASSWORD "$STRATA" --database-url "postgres://${PGUSER}:${WRONG}@${HP}/${PG_DB}" migrations run
like '... detail' "$err" '^detail: .*password authentication failed for user'
like '... hint' "$err" '^hint: check the user and password in the URL, PGPASSWORD or ~/\.pgpass$'
check 'a wrong password in a keyword string' 1 '^$' "^strata: error: cannot connect to host=.* password=\\*\\*\\*\\* " \
	env -u PGPASSWORD "$STRATA" --database-url "host=$PGHOST port=${PGPORT:-5432} password=$WRONG dbname=$PG_DB user=$PGUSER" migrations run
check 'a database that does not exist' 1 '^$' 'cannot connect to' \
	strata --database-url "postgres://${PGUSER}:${PW}@${HP}/no_such_db_$$" migrations run
like '... detail' "$err" '^detail: .*database "no_such_db_[0-9]+" does not exist'
like '... hint' "$err" '^hint: create the database first'
is 'the failures changed nothing' "$(applied)" 2

# a failing migration with the password set: the error is about SQL, not the URL
mig bad 1-Bad.sql '-- migrate:up\nselect nocol;\n'
check 'a failing migration on a URL with a password' 1 '^applying 1 migration to postgres://.*:\*\*\*\*@' \
	'^strata: error: bad/1-Bad.sql:2:8: column "nocol" does not exist' \
	strata -v --database-url "$PG_URL" migrations run --dir bad --allow-out-of-order

# no output of any command above contained a password
is 'the real password never appeared in any stdout or stderr' "$(grep -c -F -- "$PW" "$TEST_DIR/.all")" 0
is 'the wrong password never appeared either' "$(grep -c -F -- "$WRONG" "$TEST_DIR/.all")" 0
like '... (and the checks did see output)' "$(wc -l <"$TEST_DIR/.all")" '^[0-9]{2,}$'
done_testing
