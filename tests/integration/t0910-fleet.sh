#!/usr/bin/env bash
# strata fleet (issue 14): the same migrations on 500 SQLite files, 100 PostgreSQL databases and
# 300 tenant schemas; a broken target reported while the others finish (--continue) or stopping
# new ones (the default); --canary; --shard shares with nothing missed or doubled; three runners
# over one list migrate each target exactly once; SIGKILL half-way and a rerun finishes exactly;
# Ctrl-C stops it with 130.
. "$(dirname "$0")/lib.sh"

mig m "1-a.sql" "-- migrate:up\ncreate table t1 (x int);\n-- migrate:down\ndrop table t1;\n"
mig m "2-b.sql" "-- migrate:up\ncreate table t2 (x int);\n-- migrate:down\ndrop table t2;\n"

# targets N FILE: N SQLite targets named db1..dbN
targets() {
	local i
	: >"$2"
	for ((i = 1; i <= $1; i++)); do echo "db$i sqlite:$TEST_DIR/f/db$i.sqlite"; done >>"$2"
	mkdir -p "$TEST_DIR/f"
}
# migrated N: how many of db1..dbN hold exactly the two migrations and both tables
migrated() {
	local i n=0
	for ((i = 1; i <= $1; i++)); do
		[ "$(sqlite3 "$TEST_DIR/f/db$i.sqlite" "select (select count(*) from strata_migrations) || ',' || (select count(*) from sqlite_master where name in ('t1','t2'))" 2>/dev/null)" = "2,2" ] && n=$((n + 1))
	done
	echo "$n"
}

targets 500 list.txt
check "500 SQLite targets, 8 at a time" 0 '' \
	'^fleet run: 500 targets in .*: 500 done \(1000 migrations applied, 0 up to date\), 0 failed, 0 busy, 0 not started$' \
	strata fleet run --targets list.txt --dir m --parallel 8
is "... a line per target" "$(grep -c '^ok  *db[0-9]* *applied 2' <<<"$out")" "500"
is "... each migrated exactly" "$(migrated 500)" "500"
check "a rerun finds them all up to date" 0 '' '500 done \(0 migrations applied, 500 up to date\)' \
	strata fleet run --targets list.txt --dir m --parallel 8
check "fleet show says nothing is pending" 0 '"pending":0' '' \
	strata fleet show --targets list.txt --dir m --json
is "... a JSON object a line, then the summary" "$(grep -c '"pending":0' <<<"$out")" "500"
like "... summary" "$(tail -1 <<<"$out")" '^\{"summary":\{"targets":500,"done":500,'

# fleet show counts each target's pending migrations and one failed part-way, from the listing
# it streams (as `migrations show` does: one entry at a time, whatever the number of migrations)
rm -rf f && targets 4 list.txt
strata --database-url sqlite:f/db1.sqlite migrations run --dir m >/dev/null
strata --database-url sqlite:f/db2.sqlite migrations run --dir m --to 1 >/dev/null
strata --database-url sqlite:f/db4.sqlite migrations run --dir m >/dev/null
sqlite3 f/db4.sqlite "update strata_migrations set status = 'failed' where name = 'b'"
check "fleet show counts what is pending on each target" 0 '' '4 done, 0 failed' \
	strata fleet show --targets list.txt --dir m --parallel 2
like "... none on the first" "$out" 'db1  0 pending$'
like "... one on the second" "$out" 'db2  1 pending$'
like "... both on the third" "$out" 'db3  2 pending$'
like "... and a failed one on the fourth" "$out" 'db4  0 pending, a migration failed part-way'
check "... the same in JSON" 0 '"target":"db2".*"pending":1,"failed_migrations":0' '' \
	strata fleet show --targets list.txt --dir m --json
like "... the failed one" "$out" '"target":"db4".*"pending":0,"failed_migrations":1'

# a broken target: the default stops starting new ones; --continue finishes the others
rm -rf f && targets 6 list.txt
sed -i '3s|.*|broken sqlite:/nonexistent/dir/x.db|' list.txt
check "a broken target stops the fleet from starting more (parallel 1)" 1 '' \
	'2 done .*, 1 failed, 0 busy, 3 not started' \
	strata fleet run --targets list.txt --dir m --parallel 1
like "... names it with its error" "$err" '^failed +broken \(sqlite:/nonexistent/dir/x\.db\): cannot open SQLite database'
like "... and says to run again" "$err" 'run the same command again'
is "... the two before it are migrated" "$(migrated 2)" "2"
check "--continue finishes the others" 1 '' '5 done .*, 1 failed, 0 busy, 0 not started' \
	strata fleet run --targets list.txt --dir m --parallel 1 --continue
is "... they are migrated" "$(migrated 2),$([ "$(sqlite3 f/db6.sqlite 'select count(*) from strata_migrations')" = 2 ] && echo 6)" "2,6"

# a migration failing on one target: named with its file:line:col
rm -rf f && targets 5 list.txt
sqlite3 f/db4.sqlite "create table t2 (y int)"
# the summary counts what the failed target committed before it failed: 4 x 2 + 1
check "a migration failing on one target" 1 '"done":4,"failed":1,.*"migrations":9,' '^$' \
	strata fleet run --targets list.txt --dir m --parallel 2 --continue --json
like "... its JSON line says where" "$(grep '"target":"db4"' <<<"$out")" '"status":"failed".*"error":"table t2 already exists","error_file":"m/2-b.sql","error_line":2,"error_column":14'
is "... and its first migration stays, the second rolled back" "$(sqlite3 f/db4.sqlite 'select group_concat(name) from strata_migrations')" "a"

# --canary: a failure among the first N starts no other target
rm -rf f && targets 10 list.txt
sed -i '2s|.*|broken sqlite:/nonexistent/dir/x.db|' list.txt
check "--canary 3 with a broken canary starts no other target" 1 '' \
	'a canary target failed: no other target was started' \
	strata fleet run --targets list.txt --dir m --parallel 4 --canary 3 --continue
# the third canary may not have started: the failure of the second stops the fleet at once
like "... counts" "$err" '[12] done .*, 1 failed, 0 busy, [78] not started'
is "... the targets after the canaries untouched" "$(ls f | grep -cv '^db[13]\.sqlite$')" "0"
sed -i '2s|.*|db2 sqlite:'"$TEST_DIR"'/f/db2.sqlite|' list.txt
check "... a good canary lets the rest run" 0 '' '10 done' \
	strata fleet run --targets list.txt --dir m --parallel 4 --canary 3

# --shard: three shares, each target in exactly one
rm -rf f && targets 90 list.txt
: >shards.txt
for s in 0 1 2; do
	strata fleet run --targets list.txt --dir m --shard "$s/3" --json 2>/dev/null | grep '"target"' >>shards.txt
done
is "three shards ran 90 targets" "$(wc -l <shards.txt)" "90"
is "... each once" "$(sed -E 's/.*"target":"([^"]*)".*/\1/' shards.txt | sort -u | wc -l)" "90"
is "... all migrated" "$(migrated 90)" "90"
check "--shard 3/3 is a usage error" 2 '' 'shard is I/N' strata fleet run --targets list.txt --dir m --shard 3/3

# three runners over one list at once: every target migrated exactly once, none missed
rm -rf f && targets 200 list.txt
for r in 1 2 3; do
	"$STRATA" fleet run --targets list.txt --dir m --parallel 4 --json >"run$r.json" 2>"run$r.err" &
done
wait
is "three concurrent runners: every target migrated" "$(migrated 200)" "200"
is "... each migration recorded once (no duplicate rows)" \
	"$(for i in $(seq 1 200); do sqlite3 "f/db$i.sqlite" 'select count(*) from strata_migrations'; done | sort -u)" "2"
is "... every target reported done by some runner" \
	"$(cat run1.json run2.json run3.json | grep '"status":"ok"' | sed -E 's/.*"target":"([^"]*)".*/\1/' | sort -u | wc -l)" "200"
is "... and the applied migrations add up to 400" \
	"$(cat run1.json run2.json run3.json | grep -o '"applied":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s }')" "400"

# SIGKILL half-way, then a rerun: every target ends exactly migrated
rm -rf f && targets 150 list.txt
mig slow "1-a.sql" "-- migrate:up\ncreate table t1 (x int);\nwith recursive c(x) as (select 1 union all select x + 1 from c where x < 200000) select count(*) from c;\n-- migrate:down\ndrop table t1;\n"
cp m/2-b.sql slow/
# the binary itself in the background ($! is its pid; strata is a shell function); a fleet
# writes its lines as they come, also to a file
"$STRATA" fleet run --targets list.txt --dir slow --parallel 2 >kill.out 2>&1 &
pid=$!
until_true 400 bash -c "[ \$(grep -c '^ok' kill.out) -ge 10 ]" || diag "the fleet did not get going"
kill -9 "$pid"
wait "$pid" 2>/dev/null
n_before=$(migrated 150)
[ "$n_before" -gt 0 ] && [ "$n_before" -lt 150 ] && ok "killed half-way ($n_before of 150 migrated)" ||
	not_ok "killed half-way ($n_before of 150 migrated)"
check "... a rerun finishes what is left" 0 '' '150 done' \
	strata fleet run --targets list.txt --dir slow --parallel 4
is "... every target exactly migrated" "$(migrated 150)" "150"

# Ctrl-C
rm -rf f && targets 150 list.txt
"$STRATA" fleet run --targets list.txt --dir slow --parallel 2 >int.out 2>int.err &
pid=$!
until_true 400 bash -c "[ \$(grep -c '^ok' int.out) -ge 3 ]" || diag "the fleet did not get going"
kill -INT "$pid"
wait "$pid"
is "SIGINT stops it: exit 130" "$?" "130"
like "... and says what was not started" "$(cat int.err)" '[0-9]+ not started'
check "... a rerun finishes it" 0 '' '150 done' strata fleet run --targets list.txt --dir slow --parallel 4
is "... exactly" "$(migrated 150)" "150"

check "no list of targets is a usage error" 2 '' 'give the targets with one of' strata fleet run --dir m

# PostgreSQL: 100 databases from a query, 300 tenant schemas
if pg_available; then
	need_pg
	fid=$$
	for i in $(seq 1 100); do echo "CREATE DATABASE fleet_${fid}_$i;"; done | "$PSQL" -X -q -d postgres >/dev/null
	base="postgres://${PGUSER}:${PGPASSWORD:-}@${PGHOST}:${PGPORT:-5432}"
	q="select datname, '$base/' || datname from pg_database where datname like 'fleet\\_${fid}\\_%'"
	check "pg: 100 databases from --targets-query, 8 at a time" 0 '' '100 done \(200 migrations applied' \
		strata --database-url "$PG_URL" fleet run --targets-query "$q" --dir m --parallel 8
	is "... each migrated" "$(for i in 1 50 100; do "$PSQL" -X -At -d "fleet_${fid}_$i" -c 'select count(*) from strata_migrations'; done | sort -u)" "2"
	unlike "... the password never shows" "$out$err" "${PGPASSWORD:-no password}"
	check "pg: a rerun: one summary query each" 0 '' '100 done \(0 migrations applied, 100 up to date\)' \
		strata --database-url "$PG_URL" fleet run --targets-query "$q" --dir m --parallel 8
	for i in $(seq 1 100); do echo "DROP DATABASE fleet_${fid}_$i;"; done | "$PSQL" -X -q -d postgres >/dev/null

	pg_q "do \$\$ begin for i in 1..300 loop execute format('create schema tenant_%s', i); end loop; end \$\$" >/dev/null
	pg_q "create table tenant_150.t2 (y int)" >/dev/null
	sq="select nspname from pg_namespace where nspname like 'tenant\\_%'"
	check "pg: 300 tenant schemas, a migration failing on one" 1 '' '299 done .*, 1 failed' \
		strata --database-url "$PG_URL" fleet run --schemas-query "$sq" --dir m --parallel 8 --continue
	like "... names the tenant and the file" "$err" 'failed +tenant_150 \(.*schema tenant_150\)\): m/2-b\.sql:2:[0-9]+: relation "t2" already exists'
	is "... each tenant keeps its own history" "$(pg_q "select count(*) from tenant_7.strata_migrations"),$(pg_q "select count(*) from tenant_150.strata_migrations")" "2,1"
	is "... and its own tables" "$(pg_q "select count(*) from pg_tables where tablename = 't1' and schemaname like 'tenant\\_%'")" "300"
	is "... nothing in public" "$(pg_q "select count(*) from pg_tables where schemaname = 'public'")" "0"
	pg_q "drop table tenant_150.t2" >/dev/null
	check "pg: after the fix a rerun applies the one left" 0 '' '300 done \(1 migration applied, 299 up to date\)' \
		strata --database-url "$PG_URL" fleet run --schemas-query "$sq" --dir m --parallel 8
	check "pg: --schemas lists tenants by name" 0 '' '2 done' \
		strata --database-url "$PG_URL" fleet show --schemas tenant_1,tenant_2 --dir m
else
	skip "fleet on PostgreSQL" "no PostgreSQL server"
fi

done_testing
