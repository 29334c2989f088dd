#!/usr/bin/env bash
# Concurrent deploys: 16 `strata migrations run` started at once on one database, round after
# round (RELIABILITY_MODE=short 3 rounds per database, long 50; CONCURRENT_ROUNDS overrides):
# every migration applied exactly once, every process exits 0, none hangs (a 120 s timeout
# would say deadlock). Then a runner SIGKILLed while it holds the lock: the others take over (on
# PostgreSQL the advisory lock dies with the session; on SQLite the OS drops the file lock and
# the hot journal is rolled back) and finish the job, each migration once.
. "$(dirname "$0")/lib.sh"

ROUNDS=${CONCURRENT_ROUNDS:-$(pick 3 50)}
RUNNERS=16
N=20

mkm() { # DIR KIND
	local i s=''
	[ "$2" = pg ] && s='select pg_sleep(0.01);\n'
	mig "$1" 1-Counter.sql '-- migrate:up\ncreate table counter (m int not null);\n-- migrate:down\ndrop table counter;\n'
	for i in $(seq 2 $N); do
		mig "$1" "$i-Step$i.sql" "-- migrate:up\n${s}insert into counter values ($i);\ncreate table t$i (x int);\n-- migrate:down\ndrop table t$i;\n"
	done
}

expected_applied=$(for i in $(seq 1 $N); do printf '%s ' "$i-$([ "$i" = 1 ] && echo Counter || echo "Step$i")"; done)

rounds() {
	local k=$1 d=m_$1 r i fails=0 pids rcs bad t0 slowest=0 ms
	mkm "$d" "$k"
	for r in $(seq 1 "$ROUNDS"); do
		new_db "$k"
		pids=() rcs='' bad=''
		t0=$(now_ms)
		for i in $(seq 1 $RUNNERS); do
			timeout 120 "$STRATA" --database-url "$DB_URL" migrations run --dir "$d" >"r$i.out" 2>"r$i.err" &
			pids+=($!)
		done
		for i in "${pids[@]}"; do
			wait "$i"
			rcs="$rcs$? "
		done
		ms=$(($(now_ms) - t0))
		[ "$ms" -gt "$slowest" ] && slowest=$ms
		[ "$rcs" = "$(printf '0 %.0s' $(seq 1 $RUNNERS))" ] || bad="exit codes: $rcs"
		[ -z "$(cat r*.err)" ] || bad="$bad; stderr: $(cat r*.err | head -3)"
		[ "$(dbq 'select count(*), count(distinct version) from strata_migrations')" = "$N|$N" ] ||
			bad="$bad; history: $(dbq 'select count(*), count(distinct version) from strata_migrations')"
		[ "$(dbq 'select count(*), count(distinct m) from counter')" = "$((N - 1))|$((N - 1))" ] ||
			bad="$bad; counter: $(dbq 'select count(*), count(distinct m) from counter')"
		[ "$(cat r*.out | grep -E '^  applied   ' | awk '{print $2}' | sort -n | tr '\n' ' ')" = "$expected_applied" ] ||
			bad="$bad; the runners' reports do not add up to each migration once"
		if [ -n "$bad" ]; then
			fails=$((fails + 1))
			[ "$fails" -le 3 ] && diag "$k round $r: $bad"
		fi
	done
	is "$k: $ROUNDS rounds of $RUNNERS runners at once: each exits 0, each migration applied once" "$fails" 0
	figure "concurrent.$k.rounds" "$ROUNDS"
	figure "concurrent.$k.failures" "$fails"
	figure "concurrent.$k.slowest_round_ms" "$slowest"
}

rounds sqlite
if pg_available; then rounds pg; else skip 'concurrent rounds on PostgreSQL' 'no PostgreSQL server'; fi

# a runner killed while it holds the lock, in the middle of a slow migration. No sleep orders
# the events: the test waits until the holder is inside its slow migration and the 4 others are
# waiting for the lock, and says so, before it kills the holder.
LOCK_KEY=6004514643731611649
# strata_lock_waits GRANTED: strata sessions holding (t) or awaiting (f) strata's advisory lock
strata_lock_waits() {
	pg_q "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.database = (select oid from pg_database where datname = current_database()) and l.locktype = 'advisory' and (l.classid::bigint << 32 | l.objid::bigint) = $LOCK_KEY and a.application_name = 'strata' and l.granted = $1"
}
# holds_lock KIND: the first runner holds the migration lock and is in its slow migration
# (PostgreSQL: its advisory lock is granted; SQLite: the run's flock is held and the write lock
# taken)
holds_lock() {
	if [ "$1" = pg ]; then
		[ "$(strata_lock_waits true)" = 1 ]
	else
		! flock -n "$DB_FILE" true && ! sqlite3 "$DB_FILE" 'begin immediate; rollback;' >/dev/null 2>&1
	fi
}
# all_wait KIND: the 4 others wait for it: on PostgreSQL their sessions await the advisory lock;
# on SQLite each said (-v) it waits for the run's lock, an flock on the file
all_wait() {
	if [ "$1" = pg ]; then
		[ "$(strata_lock_waits false)" = 4 ]
	else
		[ "$(cat k?.out | grep -c '^waiting for the migration lock')" = 4 ]
	fi
}
killed_holder() {
	local k=$1 d=h_$1 i pids=() rcs='' holder t0 gate gatepid ready=
	new_db "$k"
	mkdir -p "$d"
	if [ "$k" = pg ]; then
		# the slow migration waits for a gate, advisory lock 7, that this test holds in a psql
		# session reading a fifo, and lets go of only after the kill
		mig "$d" 1-Slow.sql '-- migrate:up\ncreate table slow (x int);\nselect pg_advisory_xact_lock(7);\ninsert into slow values (1);\n'
		rm -f gate.in && mkfifo gate.in
		PGAPPNAME=gate "$PSQL" -X -q -At -d "$PG_DB" <gate.in >/dev/null 2>&1 &
		gatepid=$!
		exec {gate}>gate.in
		echo 'select pg_advisory_lock(7);' >&"$gate"
	else
		mig "$d" 1-Slow.sql '-- migrate:up\ncreate table slow (x int);\nwith recursive c(x) as (select 1 union all select x + 1 from c where x < 10000000) insert into slow select 1 from c where x = 1;\n'
	fi
	for i in $(seq 2 8); do mig "$d" "$i-T$i.sql" "-- migrate:up\ncreate table t$i (x int);\n"; done
	"$STRATA" --database-url "$DB_URL" migrations run --dir "$d" >holder.out 2>&1 &
	holder=$!
	# wait until it holds the lock
	until_true 600 holds_lock "$k"
	for i in 1 2 3 4; do
		"$STRATA" -v --database-url "$DB_URL" migrations run --dir "$d" >"k$i.out" 2>"k$i.err" &
		pids+=($!)
	done
	# wait until the 4 wait for the lock (all_wait)
	until_true 1500 eval 'all_wait "$k" || ! kill -0 "$holder" 2>/dev/null'
	all_wait "$k" && ready=4
	# ... while the holder is still inside its slow migration (it printed no "applied" yet)
	is "$k: the holder is inside its slow migration while the 4 other runners wait for the lock" \
		"$(kill -0 "$holder" 2>/dev/null && echo running);$(grep -c '^  applied ' holder.out);${ready:-not all 4}" "running;0;4"
	t0=$(now_ms)
	kill -KILL "$holder"
	wait "$holder" 2>/dev/null
	if [ "$k" = pg ]; then # open the gate: the killed runner's session ends, its lock with it
		echo 'select pg_advisory_unlock(7);' >&"$gate"
		exec {gate}>&-
	fi
	for i in "${pids[@]}"; do
		wait "$i"
		rcs="$rcs$? "
	done
	# (the gate's psql ends when no process holds its fifo open any more: the runners had it too)
	[ "$k" = pg ] && wait "$gatepid"
	is "$k: a runner SIGKILLed while holding the lock: the 4 waiting runners exit 0" "$rcs" "0 0 0 0 "
	empty_files "$k: ... with empty stderr" k1.err k2.err k3.err k4.err
	is "$k: ... every migration applied once" "$(dbq 'select count(*), count(distinct version) from strata_migrations')" "8|8"
	is "$k: ... the killed migration fully there once" "$(dbq 'select count(*) from slow')" 1
	figure "concurrent.$k.killed_holder_takeover_ms" "$(($(now_ms) - t0))"
}
killed_holder sqlite
if pg_available; then killed_holder pg; else skip 'killed lock holder on PostgreSQL' 'no PostgreSQL server'; fi
done_testing
