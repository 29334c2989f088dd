#!/usr/bin/env bash
# --lock-strategy table on PostgreSQL: concurrent runners apply each migration once; a holder
# keeps its row alive with a heartbeat; the timeout names the owner; a runner killed while it
# holds the lock blocks the next one only until the row expires; a runner that lost its lock
# stops before the next migration; each strategy waits for the other's holder; options and the
# config key; SQLite takes `table` as its own write lock.
. "$(dirname "$0")/lib.sh"

check 'a bad --lock-strategy is a usage error' 2 '^$' \
	"--lock-strategy is 'advisory' or 'table', not 'row'" \
	strata --database-url sqlite:x.db migrations run --lock-strategy row
check 'a bad --lock-ttl is a usage error' 2 '^$' \
	"--lock-ttl needs a duration above 0 like 30s, 500ms or 2m, not '0'" \
	strata --database-url sqlite:x.db migrations revert --lock-ttl 0
check 'seed takes --lock-strategy too' 2 '^$' "--lock-strategy is 'advisory' or 'table'" \
	strata --database-url sqlite:x.db seed -f x.json --lock-strategy x
printf '{"lock_strategy": "rows"}\n' >strata.json
check 'a bad lock_strategy in strata.json' 1 '^$' \
	"^strata: error: strata.json: bad value 'rows' for 'lock_strategy'" \
	strata --database-url sqlite:x.db migrations run
like "... and what it may be" "$err" "^hint: 'lock_strategy' is 'advisory' or 'table'$"
printf '{"lock_ttl": "soon"}\n' >strata.json
check 'a bad lock_ttl in strata.json' 1 '^$' "bad value 'soon' for 'lock_ttl' in the config" \
	strata --database-url sqlite:x.db migrations run
rm strata.json

# SQLite: `table` is SQLite's own write lock
new_db sqlite
mig s 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
check 'sqlite: --lock-strategy table runs as usual' 0 '^applied 1 migration in ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir s --lock-strategy table --lock-ttl 2s

# the rest needs PostgreSQL: without a server it is one skipped test (need_pg here printed a
# second plan after the tests above); under STRATA_REQUIRE_PG=1 pg_available bails out
if ! pg_available; then
	skip '--lock-strategy table on PostgreSQL' 'no PostgreSQL server (run under pg_virtualenv)'
	done_testing
fi
new_db pg
lock_rows() { pg_q "select count(*) from strata_lock"; }
host=$(hostname)

# 4 runners at once
N=8
mig c 1-Counter.sql '-- migrate:up\ncreate table counter (m int not null);\n-- migrate:down\ndrop table counter;\n'
for i in $(seq 2 $N); do
	mig c "$i-Step$i.sql" "-- migrate:up\nselect pg_sleep(0.05);\ninsert into counter values ($i);\n-- migrate:down\ndelete from counter where m = $i;\n"
done
pids=()
for i in 1 2 3 4; do
	"$STRATA" --database-url "$DB_URL" migrations run --dir c --lock-strategy table >"run$i.out" 2>"run$i.err" &
	pids+=($!)
done
rcs=
for p in "${pids[@]}"; do
	wait "$p"
	rcs="$rcs$? "
done
is 'table: 4 runners at once all exit 0' "$rcs" "0 0 0 0 "
empty_files '... with empty stderr' run1.err run2.err run3.err run4.err
is '... history has each migration once' "$(pg_q 'select count(*), count(distinct version) from strata_migrations')" "$N|$N"
is '... each insert ran once' "$(pg_q 'select count(*), count(distinct m) from counter')" "$((N - 1))|$((N - 1))"
is '... one runner applied them all, the others found nothing to run' \
	"$(cat run?.out | grep -cE '^applied [0-9]+ migrations? in ');$(cat run?.out | grep -cE '^nothing to run: ')" "1;3"
is '... and the lock row is gone' "$(lock_rows)" 0
is '... and no advisory lock was taken' "$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory'")" 0

# a live holder: the waiter times out naming it; the heartbeat keeps a row whose ttl is shorter
# than the migration
new_db pg
mig h 1-Slow.sql '-- migrate:up\nselect pg_sleep(3);\n-- migrate:down\n'
in_sleep() { [ "$(pg_q "select count(*) from pg_stat_activity where datname = current_database() and query like '%pg_sleep(3)%' and state = 'active' and pid <> pg_backend_pid()")" = 1 ]; }
# until a runner is inside the pg_sleep migration (up to 30 s: a loaded CI machine starts the
# ASan binary slowly)
wait_for_sleep() { until_true 600 in_sleep; }
"$STRATA" --database-url "$DB_URL" migrations run --dir h --lock-strategy table --lock-ttl 1s >holder.out 2>holder.err &
holder=$!
wait_for_sleep
t0=$(date +%s%3N)
check 'table: a second runner times out while the first holds the lock' 1 '^$' \
	"^strata: error: another strata run holds the migration lock on $(req "$DB_DISPLAY")\$" \
	strata --database-url "$DB_URL" migrations run --dir h --lock-strategy table --lock-wait 1500ms
t1=$(date +%s%3N)
like '... the error names the owner (host:pid:random), since when and when it expires' "$err" \
	"^detail: held by '$(req "$host"):$holder:[0-9a-f]{8}' since [0-9-]{10}T[0-9:]{8}Z; it expires at [0-9-]{10}T[0-9:]{8}Z \\(in [0-9]+s\\) unless that runner renews it\$"
like '... hint' "$err" '^hint: wait for it to finish, or wait longer with --lock-wait; the lock of a runner that died expires by itself$'
like '... after waiting 1.5s, longer than the holder'"'"'s 1s ttl: its heartbeat renewed it' "$((t1 - t0))" '^(1[5-9][0-9]{2}|[2-5][0-9]{3})$'
wait "$holder"
is '... the holder finished' "$?;$(cat holder.err)" "0;"
is '... and released the row' "$(lock_rows)" 0

# a runner killed (SIGKILL) inside a migration: the next one waits for the row to expire, then
# takes over and finishes
new_db pg
mig k 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
mig k 2-Slow.sql '-- migrate:up\nselect pg_sleep(3);\n-- migrate:down\n'
mig k 3-C.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
"$STRATA" --database-url "$DB_URL" migrations run --dir k --lock-strategy table --lock-ttl 2s >victim.out 2>&1 &
victim=$!
wait_for_sleep
kill -KILL "$victim"
wait "$victim" 2>/dev/null
left=$(pg_q "select ceil(1000 * extract(epoch from expires_at - clock_timestamp()))::int from strata_lock")
# (under load the row may already have expired by the time we look: that is within the ttl too)
if [ -n "$left" ] && [ "$left" -le 2000 ]; then ok "... the killed runner left its row, expiring within the 2s ttl ($left ms)"; else not_ok "... the killed runner left its row, expiring within the 2s ttl"; diag "left: '$left'"; fi
t0=$(date +%s%3N)
check 'table: the next runner takes over after the expiry and finishes' 0 '^applied [12] migrations? in ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir k --lock-strategy table --lock-ttl 2s --lock-wait 10s
t1=$(date +%s%3N)
if [ "$((t1 - t0))" -ge "$((left - 100))" ]; then ok "... it waited for the expiry (${left}ms left; waited $((t1 - t0))ms)"; else not_ok "... it waited for the expiry"; diag "left ${left}ms, waited $((t1 - t0))ms"; fi
is '... every migration applied once' "$(db_history)" "1-A,2-Slow,3-C"
is '... and its own row released' "$(lock_rows)" 0

# a row held by someone else (the config picks the strategy): the timeout names the owner
new_db pg
mig f 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
printf '{"lock_strategy": "table", "lock_ttl": "5s"}\n' >strata.json
"$STRATA" --database-url "$DB_URL" migrations show --dir f >/dev/null
pg_q "create table strata_lock (name text primary key, owner text not null, acquired_at timestamptz not null, expires_at timestamptz not null, renewed_at timestamptz not null)" >/dev/null
pg_q "insert into strata_lock values ('strata', 'ci-7:4242:abcdef01', '2030-01-02 03:04:05+00', now() + interval '1 hour', now())" >/dev/null
check 'table from strata.json: times out on a live row' 1 '^$' 'another strata run holds the migration lock' \
	strata --database-url "$DB_URL" migrations run --dir f --lock-wait 300ms
like '... naming its owner, since when and until when' "$err" \
	"^detail: held by 'ci-7:4242:abcdef01' since 2030-01-02T03:04:05Z; it expires at .*Z \\(in (3599|3600)s\\) unless that runner renews it\$"
is '... nothing applied' "$(db_tables)" "strata_lock"
printf '{"a": [{"x": 1}]}\n' >seed.json
check 'seed --lock-strategy table waits for the row too' 1 '' "held by 'ci-7:4242:abcdef01'" \
	strata --database-url "$DB_URL" seed -f seed.json --lock-strategy table --lock-wait 200ms --no-migrate
check '--lock-strategy advisory (beats the config) waits for a table holder too' 1 '^$' \
	"another strata run holds the migration lock" \
	strata --database-url "$DB_URL" migrations run --dir f --lock-strategy advisory --lock-wait 300ms
like '... naming it' "$err" "^detail: held by 'ci-7:4242:abcdef01' since "
is '... and let go of its advisory lock' "$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory'")" 0
pg_q "update strata_lock set expires_at = now() - interval '1 second'" >/dev/null
check 'table: an expired row is taken over at once' 0 '^applied 1 migration in ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir f --lock-wait 0
is '... and released' "$(lock_rows)" 0
rm strata.json

# a table runner waits for an advisory holder (it holds the lock until the test terminates it,
# not for a fixed time a slow machine could outrun)
PGAPPNAME=advholder "$PSQL" -X -q -d "$PG_DB" \
	-c 'select pg_advisory_lock(6004514643731611649)' -c 'select pg_sleep(600)' >/dev/null 2>&1 &
adv=$!
until_true 100 eval '[ "$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = '"'advisory'"' and granted")" = 1 ]'
mig f 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
check 'table: waits for a runner with the advisory lock, then times out' 1 '^$' \
	'another strata run holds the migration lock' \
	strata --database-url "$DB_URL" migrations run --dir f --lock-strategy table --lock-wait 400ms
like '... naming it' "$err" '^detail: held with the advisory lock \(--lock-strategy advisory\) by pid [0-9]+ \(advholder, from '
pg_q "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'advholder'" >/dev/null
wait "$adv" 2>/dev/null
check '... and runs once it is gone' 0 '^applied 1 migration in ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir f --lock-strategy table --lock-wait 5s

# a runner whose row was taken over stops before its next migration
new_db pg
mig l 1-Slow.sql '-- migrate:up\nselect pg_sleep(3);\n-- migrate:down\n'
mig l 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
"$STRATA" --database-url "$DB_URL" migrations run --dir l --lock-strategy table --lock-ttl 600ms >lost.out 2>lost.err &
loser=$!
wait_for_sleep
pg_q "update strata_lock set owner = 'thief:1:00000000'" >/dev/null
wait "$loser"
is 'table: a runner that lost its row fails' "$?" 1
like '... saying so' "$(cat lost.err)" "^strata: error: lost the migration lock on $(req "$DB_DISPLAY")\$"
like '... and why' "$(cat lost.err)" "^detail: the lock row of '.*:$loser:[0-9a-f]{8}' expired and another runner took it \\(or it was deleted\\)\$"
is '... the migration before stays applied, the next did not run' "$(db_history)" "1-Slow"
is '... and it left the thief'"'"'s row alone' "$(pg_q 'select owner from strata_lock')" "thief:1:00000000"
done_testing
