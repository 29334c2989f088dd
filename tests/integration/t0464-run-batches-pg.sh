#!/usr/bin/env bash
# A run of one build after a prefix of it (t0463), with one transaction per migration, holds 256
# migrations at a time (issue 15: memory that does not grow with the build): every batch is
# read and checked first, then each is read again (each file checked against the manifest
# again) and run. Nothing half-applied still holds across batches: a migration whose source
# changed since the build, or whose built file does not match the manifest, in the second batch
# stops the run before the first batch runs. Compared with a twin database run through the full read (of the sources,
# --dir src/migrations).
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p "$TEST_DIR/p/src/migrations" && cd "$TEST_DIR/p" || bail "no project"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
A=$PG_URL
A_DB=$PG_DB
need_pg
TWIN=$PG_URL
for i in $(seq 1 400); do
	printf -- '-- migrate:up\ncreate table t%d (x int);\n-- migrate:down\ndrop table t%d;\n' "$i" "$i" \
		>"src/migrations/$i-t$i.sql"
done
PG_DB=$A_DB
# both NAME EXIT ARGS...: the run on the first database, then on the twin through the full read
both() { twin_run "$1" "$2" "$A" "$TWIN" "${@:3}"; }
count() { pg_q "select count(*) from strata_migrations"; }

check 'build 400' 0 '^built 400 migrations' '^$' strata build
# a source edited after the build, in the second batch (300 of 400): the build is out of date
cp src/migrations/300-t300.sql 300.keep
printf -- '-- migrate:up\ncreate table t300 (x int, y int);\n-- migrate:down\ndrop table t300;\n' \
	>src/migrations/300-t300.sql
# the edit after the manifest, the directory (nothing added or removed) before it
touch -d "@$(($(stat -c %Y dist/migrations/manifest.json) + 2))" src/migrations/300-t300.sql
touch -d '2000-01-01' src/migrations
check 'a new database; 300 edited in place since the build: refused by the checks' 1 '' \
	'300-t300.sql: migration changed since the last build' strata migrations run
like '... nothing applied' "$err" 'nothing was applied'
is '... nothing in the history' "$(count)" 0
cat 300.keep >src/migrations/300-t300.sql
touch -d '2000-01-01' src/migrations/300-t300.sql src/migrations

# a built file that no longer matches the manifest, in the second batch
cp dist/migrations/350-t350.sql 350.keep
printf -- '-- migrate:up\ncreate table t350 (x int, y int);\n' >dist/migrations/350-t350.sql
touch -d '2000-01-01' dist/migrations/350-t350.sql dist/migrations
check 'a built file changed after the build, in the second batch: refused' 1 '' \
	'350-t350' strata migrations run
is '... nothing applied' "$(count)" 0
cp 350.keep dist/migrations/350-t350.sql
touch -d '2000-01-01' dist/migrations/350-t350.sql dist/migrations

# a statement that fails when it runs, in the second batch: the ones before it stay applied
printf -- '-- migrate:up\nselect 1/0;\n-- migrate:down\n' >src/migrations/320-t320.sql
check 'build with 320 failing' 0 '^built 400 migrations' '^$' strata build
both 'run: 320 fails' 1 migrations run
like '... 320 named' "$err" '320-t320'
is '... 319 applied' "$(count)" 319
check '-v: the history is the first 319, and the steps count on from there' 1 \
	'^  \[1/81\] 320-t320 ' '' strata -v --database-url "$A" migrations run
like '... the history not read' "$out" "summary is the build's first 319 migrations"
printf -- '-- migrate:up\ncreate table t320 (x int);\n-- migrate:down\ndrop table t320;\n' \
	>src/migrations/320-t320.sql
check 'build 320 fixed' 0 '^built 400 migrations' '^$' strata build
check '-v: the rest' 0 '^  \[81/81\] 400-t400 ' '' strata -v --database-url "$A" migrations run
run strata --database-url "$TWIN" migrations run --dir src/migrations
is 'the twin too' "$rc" 0
is 'the histories are the same' "$(pg_q "select string_agg(version || name || checksum || status, ',' order by version::int) from strata_migrations")" \
	"$("$PSQL" -X -At -d "${TWIN##*/}" -c "select string_agg(version || name || checksum || status, ',' order by version::int) from strata_migrations")"

# a file of the second batch changed while the first batch runs: the second does not start, and
# the run says what stays applied
both 'revert all' 0 migrations revert --all
printf -- '-- migrate:up\nselect pg_sleep(2);\n-- migrate:down\nselect 1;\n' >src/migrations/10-t10.sql
check 'build with 10 slow' 0 '^built 400 migrations' '^$' strata build
cp dist/migrations/300-t300.sql 300.dist
strata --database-url "$A" migrations run >run.out 2>run.err &
pid=$!
nine() { [ "$(count)" -ge 9 ]; }
until_true 400 nine || not_ok 'the first batch started'
printf -- '-- migrate:up\ncreate table t300 (x int, z int);\n-- migrate:down\ndrop table t300;\n' \
	>dist/migrations/300-t300.sql
wait "$pid"
is '... the run fails' "$?" 1
like '... naming the changed file' "$(cat run.err)" '300-t300'
like '... and what stays' "$(cat run.err)" 'the 256 migrations applied stay applied; the rest did not start'
is '... the first batch applied' "$(count)" 256
cp 300.dist dist/migrations/300-t300.sql
touch -d '2000-01-01' dist/migrations/300-t300.sql dist/migrations
check '... the file back: the rest' 0 '^applied 144 migrations in ' '^$' strata migrations run
check 'revert all' 0 '^reverted 400 migrations in ' '^$' strata migrations revert --all

# a dry run of the build is read and checked a batch at a time too, then printed a batch at a
# time: what the full read prints (the files' directory aside), and nothing written (each row's
# version, xmin, stays; no history row appears)
rows() { pg_q "select count(*) || ':' || coalesce(string_agg(xmin::text, ',' order by version), '') from strata_migrations"; }
dry_same() {
	local w o e c
	w=$(rows)
	run strata migrations run --dry-run
	c=$rc o=$(sed 's#(dist/migrations/#(src/migrations/#' <<<"$out") e=$err
	is "$1: exit" "$c" 0
	run strata migrations run --dry-run --dir src/migrations
	is "$1: ... as the full read: exit" "$rc" "$c"
	is "$1: ... stdout" "$o" "$out"
	is "$1: ... stderr" "$e" "$err"
	is "$1: ... nothing written" "$(rows)" "$w"
}
dry_same 'a dry run of 400 from an empty history'
is '... every one printed' "$(grep -c '^-- apply ' <<<"$out")" 400
check 'apply the first 100' 0 '^applied 100 migrations in ' '' strata migrations run --to 100
dry_same 'a dry run of the 300 after them'
check '-v: from the summary, then the batches' 0 '^-- apply 400-t400 ' '' \
	strata -v migrations run --dry-run
like '... the history not read' "$out" "summary is the build's first 100 migrations"
cp dist/migrations/350-t350.sql 350.keep
printf -- '-- migrate:up\ncreate table t350 (x int, y int);\n' >dist/migrations/350-t350.sql
touch -d '2000-01-01' dist/migrations/350-t350.sql dist/migrations
check 'a dry run with a built file of the second batch changed: refused, nothing printed' 1 '^$' \
	'350-t350' strata migrations run --dry-run
cp 350.keep dist/migrations/350-t350.sql
touch -d '2000-01-01' dist/migrations/350-t350.sql dist/migrations
check 'revert the 100' 0 '^reverted 100 migrations in ' '' strata migrations revert --all

# 400 pending from an empty history, through the library's report: every step in it
check 'run all 400 again: two batches' 0 '^applied 400 migrations in ' '' strata -v migrations run
like '... the second counts on from the first' "$out" '^  \[257/400\] 257-t257 '
like '... to the last' "$out" '^  \[400/400\] 400-t400 '
is '... in order' "$(printf '%s\n' "$out" | awk '$1 == "applied" && NF == 4 {print $2}' | sed -n '1p;256p;257p;400p' | paste -sd, -)" \
	1-t1,256-t256,257-t257,400-t400
# show --json of 400 (about 110 KiB, written in pieces as it is made): one whole document
check 'show --json of 400' 0 '' '^$' strata migrations show --json
is '... one valid document with every entry, in order' "$(printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); m=d["migrations"]; print(len(m), d["applied"], m[0]["name"], m[255]["name"], m[-1]["name"])')" \
	'400 400 t1 t256 t400'

# the library's report of a run stopped part-way, with its list of steps and without
# (no_step_list, which the command uses): the same stop, the same failed step, PLANNED for one
# that never started (tests/integration/report_stop.c, linked with this build's libstrata.a)
lib_client report_stop
lib_client dry_stop
# stop AT LIST: a new database, the build run until step AT (0-based) is done
stop() {
	need_pg
	"$TEST_DIR/report_stop" "$PG_URL" dist/migrations src/migrations "$1" "$2" 2>&1
	PG_DB=$A_DB
}
for at in 100 255 257; do
	with=$(stop "$at" 1)
	without=$(stop "$at" 0)
	is "interrupted once step $((at + 1)) is done: the report without the list says what the list says" \
		"${without/listed=0/listed=1}" "$with"
done
like '... within a batch: the next step did not start' "$(stop 100 0)" \
	'^failed_step 102-t102 dist/migrations/102-t102\.sql state=0 timed=0$'
like '... at the end of the first batch: the first of the second' "$(stop 255 0)" \
	'^failed_step 257-t257 dist/migrations/257-t257\.sql state=0 timed=0$'
like '... and what it says of the run' "$(stop 257 0)" \
	'^STRATA_EINTERRUPTED n=400 done=258 failed=258 not_started=1 listed=0$'
# a dry run of 400 on a new database, interrupted as its first batch is handed out: no second
need_pg
is 'a dry run interrupted in its first batch stops before the second' \
	"$("$TEST_DIR/dry_stop" "$PG_URL" dist/migrations src/migrations run 2>&1)" \
	'STRATA_EINTERRUPTED planned=256'
is '... and makes no history table' "$(pg_q "select to_regclass('strata_migrations') is null")" t
PG_DB=$A_DB
done_testing
