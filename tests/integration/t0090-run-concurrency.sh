#!/usr/bin/env bash
# Several `migrations run` at once on one database: every migration is applied exactly once.
# --lock-wait when another runner holds the lock.
. "$(dirname "$0")/lib.sh"

N=10
mkm() { # DIR SLEEP_SQL
	local i
	mig "$1" 1-Counter.sql '-- migrate:up\ncreate table counter (m int not null, x int not null);\n-- migrate:down\ndrop table counter;\n'
	for i in $(seq 2 $N); do
		mig "$1" "$i-Step$i.sql" "-- migrate:up\n$2insert into counter values ($i, 1);\ncreate table t$i (x int);\n-- migrate:down\ndrop table t$i;\n"
	done
}

scenario() {
	local k=$1 d=m_$1 i pids=() rcs=
	new_db "$k"
	if [ "$k" = pg ]; then mkm "$d" 'select pg_sleep(0.02);\n'; else mkm "$d" ''; fi
	for i in 1 2 3 4; do
		"$STRATA" --database-url "$DB_URL" migrations run --dir "$d" >"run$i.$k.out" 2>"run$i.$k.err" &
		pids+=($!)
	done
	for i in 0 1 2 3; do
		wait "${pids[$i]}"
		rcs="$rcs$? "
	done
	is "$k: 4 runners at once all exit 0" "$rcs" "0 0 0 0 "
	is "$k: ... with empty stderr" "$(cat run?."$k".err)" ""
	is "$k: ... history has each migration once" "$(dbq 'select count(*), count(distinct version) from strata_migrations')" "$N|$N"
	is "$k: ... each insert ran once" "$(dbq 'select count(*), count(distinct m), sum(x) from counter')" "$((N - 1))|$((N - 1))|$((N - 1))"
	is "$k: ... the runners together report each migration applied once" \
		"$(cat run?."$k".out | grep -E '^  applied   ' | awk '{print $2}' | sort -n | tr '\n' ' ')" \
		"$(for i in $(seq 1 $N); do printf '%s ' "$i-$([ "$i" = 1 ] && echo Counter || echo "Step$i")"; done)"
	is "$k: ... every runner ends with a summary or 'nothing to run'" \
		"$(cat run?."$k".out | grep -cE '^(applied [0-9]+ migrations? in |nothing to run: )')" 4
	check "$k: afterwards, nothing to run" 0 "^nothing to run: $N migrations, all applied" '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
}
each_db scenario

if pg_available; then
	new_db pg
	mig l 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	# another runner holds the lock (the same advisory lock key strata uses)
	PGAPPNAME=lockholder "$PSQL" -X -q -d "$PG_DB" \
		-c 'select pg_advisory_lock(6004514643731611649)' -c 'select pg_sleep(5)' >/dev/null 2>&1 &
	holder=$!
	for _ in $(seq 100); do
		[ "$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory' and granted")" = 1 ] && break
		sleep 0.05
	done
	is 'pg: the lock is held by another session' \
		"$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory' and granted")" 1
	check 'pg: --lock-wait 0 while another runner holds the lock' 1 '^$' \
		"^strata: error: another strata run holds the migration lock on $(req "$DB_DISPLAY")\$" \
		strata --database-url "$DB_URL" migrations run --dir l --lock-wait 0
	like '... names who holds it' "$err" '^detail: held by pid [0-9]+ \(lockholder, from '
	like '... hint' "$err" '^hint: wait for it to finish, or wait longer with --lock-wait$'
	is '... nothing applied (not even the history table made)' "$(db_tables)" ""
	t0=$(date +%s%3N)
	check 'pg: --lock-wait 300ms waits, then fails the same way' 1 '^$' \
		'^strata: error: another strata run holds the migration lock on ' \
		strata --database-url "$DB_URL" migrations run --dir l --lock-wait 300ms
	t1=$(date +%s%3N)
	like '... after waiting about 300ms' "$((t1 - t0))" '^([3-9][0-9]{2}|[1-3][0-9]{3})$'
	check 'pg: --dry-run does not need the lock' 0 '^-- apply 1-A' 'would be applied' \
		strata --database-url "$DB_URL" migrations run --dir l --dry-run --lock-wait 0
	check 'pg: show does not need the lock' 0 '^1 migration: 0 applied, 1 pending' '^$' \
		strata --database-url "$DB_URL" migrations show --dir l
	check 'pg: revert --lock-wait 0 also needs the lock' 1 '^$' 'holds the migration lock' \
		strata --database-url "$DB_URL" migrations revert --dir l --lock-wait 0
	# the default waits until the holder is done (here: we end it after a moment)
	( sleep 0.5; pg_q "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'lockholder'" >/dev/null ) &
	ender=$!
	check 'pg: the default --lock-wait waits for the holder, then runs' 0 '^applied 1 migration in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir l
	wait "$holder" "$ender" 2>/dev/null
	is '... applied' "$(db_history)" "1-A"
	is '... and strata let go of its lock' \
		"$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory'")" 0
	check 'pg: a bad --lock-wait is a usage error' 2 '^$' \
		"--lock-wait needs a duration like 30s, 500ms or 2m, not 'soon'" \
		strata --database-url "$DB_URL" migrations run --dir l --lock-wait soon
else
	skip 'PostgreSQL lock tests' 'no PostgreSQL server'
fi

# SQLite: another process holds the write lock
new_db sqlite
mig s 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
mkdir none
strata --database-url "$DB_URL" migrations run --dir none >/dev/null # makes the history table
( echo 'begin immediate;'; echo "insert into strata_migrations (version, name, checksum) values ('0', 'x', 'x');"; sleep 2; echo 'rollback;' ) | sqlite3 "$DB_FILE" &
holder=$!
# wait until the holder really has the write lock (a fixed sleep is flaky under load)
for _ in $(seq 1 100); do
	sqlite3 "$DB_FILE" 'begin immediate; rollback;' >/dev/null 2>&1 || break
	sleep 0.05
done
check 'sqlite: --lock-wait 0 while another process writes' 1 '^applying 1 migration' \
	'^strata: error: database is locked$' \
	strata --database-url "$DB_URL" migrations run --dir s --lock-wait 0
like '... hint' "$err" '^hint: another process is writing to the database; wait longer with --lock-wait$'
is '... nothing applied' "$(db_tables);$(db_history)" "strata_migrations;"
check 'sqlite: the default lock wait waits for it' 0 '^applied 1 migration in ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir s
wait "$holder"
is '... applied once' "$(db_history)" "1-A"
done_testing
