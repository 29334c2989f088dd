#!/usr/bin/env bash
# Secrets: a distinctive password in the URL (userinfo, ?password=, a libpq keyword string),
# DATABASE_URL, .env and strata.json, through many commands: run, -v run, show, show --json,
# --dry-run, validate, revert, a failing migration, seed, bad connections (refused, wrong
# password, bad port, --wait-timeout). No output, error, --json or history row may contain it.
. "$(dirname "$0")/lib.sh"
need_pg

PW='Sup3rS3cr3t-Xq7zW'
ROLE=strata_sec_$$
"$PSQL" -X -q -d postgres -c "create role $ROLE login superuser password '$PW'" >/dev/null || bail "cannot create role"
trap '"$PSQL" -X -q -d postgres -c "drop owned by $ROLE cascade" -d "$PG_DB" >/dev/null 2>&1; "$PSQL" -X -q -d postgres -c "drop role if exists $ROLE" >/dev/null 2>&1; _cleanup' EXIT
H=${PGHOST}
case $H in /*) H=localhost ;; esac
URL="postgres://$ROLE:$PW@$H:${PGPORT:-5432}/$PG_DB"

n=0
go() { n=$((n + 1)); run "$@"; }

mig m 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
mig m 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
printf '{"a": [{"x": 1}, {"x": 2}]}\n' >seed.json
go "$STRATA" --database-url "$URL" migrations run --dir m --dry-run
go "$STRATA" --database-url "$URL" -v migrations run --dir m
is 'the run with the password in the URL works' "$rc" 0
go "$STRATA" --database-url "$URL" migrations show --dir m
go "$STRATA" --database-url "$URL" migrations show --dir m --json
go "$STRATA" --database-url "$URL" -v migrations validate --dir m
go "$STRATA" --database-url "$URL" -v seed -f seed.json --dir m
go "$STRATA" --database-url "$URL" seed -f seed.json --dir m --dry-run --force
go "$STRATA" --database-url "$URL" migrations revert --dir m -v
go "$STRATA" --database-url "$URL?password=$PW&application_name=sec" migrations run --dir m -v
go "$STRATA" --database-url "host=$H port=${PGPORT:-5432} dbname=$PG_DB user=$ROLE password=$PW" -v migrations show --dir m
# (a migration's own text is shown as written: the password is masked where it is the password,
# in URLs and password= values, so a failing line with password=... is masked, see t0082)
mig m 3-Bad.sql "-- migrate:up\nselect dblink_connect('host=h password=$PW') from nope;\n-- migrate:down\n"
go "$STRATA" --database-url "$URL" -v migrations run --dir m
is 'a failing migration fails' "$rc" 1
rm m/3-Bad.sql
# bad connections
go "$STRATA" --database-url "postgres://$ROLE:$PW@127.0.0.1:1/x" -v migrations run --dir m
go "$STRATA" --database-url "postgres://$ROLE:$PW@127.0.0.1:1/x" --wait-timeout 300ms -v migrations show --dir m
go "$STRATA" --database-url "postgres://$ROLE:$PW@$H:notaport/x" migrations run --dir m
go "$STRATA" --database-url "postgres://$ROLE:${PW}x@$H:${PGPORT:-5432}/$PG_DB" migrations run --dir m
go "$STRATA" --database-url "postgres://$ROLE:$PW@/$PG_DB?host=/nonexistent" migrations run --dir m
go "$STRATA" --database-url "postgres://$ROLE:$PW@[::1" migrations run --dir m
go "$STRATA" --database-url "host=127.0.0.1 port=1 password=$PW" -v migrations run --dir m
go "$STRATA" --database-url "host=x password='$PW unterminated" migrations run --dir m
# from DATABASE_URL, .env and strata.json
DATABASE_URL=$URL go "$STRATA" -v migrations show --dir m
DATABASE_URL="postgres://$ROLE:$PW@127.0.0.1:1/x" go "$STRATA" -v migrations run --dir m
mkdir p && cd p || bail 'cd'
mkdir -p src/migrations && cp ../m/*.sql src/migrations/
printf 'DATABASE_URL="%s"\n' "$URL" >.env
go "$STRATA" -v build
go "$STRATA" -v migrations run
go "$STRATA" -v migrations show --json
printf 'DATABASE_URL=postgres://%s:%s@127.0.0.1:1/x\n' "$ROLE" "$PW" >.env
go "$STRATA" -v migrations run
rm .env
printf '{"database_url": "%s"}\n' "$URL" >strata.json
go "$STRATA" -v migrations show
go "$STRATA" -v seed -f ../seed.json --force
printf '{"database_url": "postgres://%s:%s@127.0.0.1:1/x", "nope": 1}\n' "$ROLE" "$PW" >strata.json
go "$STRATA" -v migrations show
printf '{"database_url": "postgres://%s:%s@127.0.0.1:1/x"}\n' "$ROLE" "$PW" >strata.json
go "$STRATA" -v migrations show
go "$STRATA" --config strata.json -v migrations run --dry-run
cd ..
leaks=$(grep -c -- "$PW" .all)
is "$n commands: the password shows in none of their output" "$leaks" 0
[ "$leaks" = 0 ] || diag "$(grep -n -- "$PW" .all | head -5)"
hist=$(pg_q "select * from strata_migrations" ; pg_q "select * from strata_seeds")
like '... the history tables have rows' "$hist" 'A'
unlike '... nor in the history tables' "$hist" "$PW"
figure secrets.commands "$n"
figure secrets.leaks "$leaks"
done_testing
