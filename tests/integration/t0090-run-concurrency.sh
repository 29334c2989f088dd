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
	empty_files "$k: ... with empty stderr" run1."$k".err run2."$k".err run3."$k".err run4."$k".err
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

# advisory locks in this database held (granted = t) or awaited (f), by application_name
adv_locks() {
	pg_q "select coalesce(string_agg(a.application_name, ',' order by a.application_name), '') from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.database = (select oid from pg_database where datname = current_database()) and l.locktype = 'advisory' and l.granted = $1"
}

if pg_available; then
	new_db pg
	mig l 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	# another runner holds the lock (the same advisory lock key strata uses) until the test tells
	# it to let go: a psql session that reads its statements from a fifo
	mkfifo holder.in
	PGAPPNAME=lockholder "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$PG_DB" <holder.in >holder.out 2>holder.err &
	holder=$!
	exec {hold}>holder.in
	echo 'select pg_advisory_lock(6004514643731611649);' >&"$hold"
	until_true 600 eval '[ "$(adv_locks true)" = lockholder ]'
	is 'pg: the lock is held by another session' "$(adv_locks true)" lockholder
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
	is '... the holder still has it, no one waits' "$(adv_locks true);$(adv_locks false)" "lockholder;"

	# the default --lock-wait waits for the holder, then runs: strata's session is seen waiting
	# for the lock (granted = false) while the holder has it
	# ({hold}>&-: strata does not keep the holder's fifo open, so the holder ends when told)
	"$STRATA" --database-url "$DB_URL" migrations run --dir l >wait.out 2>wait.err {hold}>&- &
	waiter=$!
	# up to 30 s: a loaded machine starts the ASan binary slowly
	until_true 600 eval '[ "$(adv_locks false)" = strata ] || ! kill -0 "$waiter" 2>/dev/null'
	is 'pg: the default --lock-wait: strata waits for the lock (not granted) while the holder has it' \
		"$(adv_locks false);$(adv_locks true)" "strata;lockholder"
	# the holder reads the server's clock, then lets go: the lock is free only after that instant
	printf '%s\n' "select 'release_at ' || clock_timestamp();" \
		'select pg_advisory_unlock(6004514643731611649);' >&"$hold"
	exec {hold}>&-
	wait "$holder"
	is '... the holder let go (pg_advisory_unlock returned true)' "$?;$(tail -n 1 holder.out);$(cat holder.err)" "0;t;"
	release_at=$(sed -n 's/^release_at //p' holder.out)
	like '... at a time the server gave' "$release_at" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+[+-][0-9]{2}(:[0-9]{2})?$'
	wait "$waiter"
	is '... then strata exits 0' "$?" 0
	empty_files '... with empty stderr' wait.err
	like '... having applied it' "$(cat wait.out)" '^applied 1 migration in '
	is '... its history row was written after the release' \
		"$(pg_q "select applied_at > '$release_at'::timestamptz from strata_migrations where version = '1' and name = 'A'")" t
	is '... applied once' "$(db_history)" "1-A"
	is '... and afterwards no advisory lock is left' "$(adv_locks true);$(adv_locks false)" ";"
	check 'pg: a bad --lock-wait is a usage error' 2 '^$' \
		"--lock-wait needs a duration like 30s, 500ms or 2m, not 'soon'" \
		strata --database-url "$DB_URL" migrations run --dir l --lock-wait soon
else
	skip 'PostgreSQL lock tests' 'no PostgreSQL server'
fi

# SQLite: another process holds the write lock until the test tells it to let go (sqlite3 reading
# its statements from a fifo)
new_db sqlite
mig s 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
mkdir none
strata --database-url "$DB_URL" migrations run --dir none >/dev/null # makes the history table
mkfifo sqholder.in
sqlite3 "$DB_FILE" <sqholder.in >sqholder.out 2>sqholder.err &
sqholder=$!
exec {sqhold}>sqholder.in
printf '%s\n' '.timeout 5000' 'begin immediate;' "insert into strata_migrations (version, name, checksum) values ('0', 'x', 'x');" >&"$sqhold"
# wait until the holder really has the write lock
until_true 600 eval '! sqlite3 "$DB_FILE" "begin immediate; rollback;" >/dev/null 2>&1'
like 'sqlite: another process holds the write lock' "$(sqlite3 "$DB_FILE" 'begin immediate; rollback;' 2>&1)" 'database is locked'
check 'sqlite: --lock-wait 0 while another process writes' 1 '^applying 1 migration' \
	'^strata: error: database is locked$' \
	strata --database-url "$DB_URL" migrations run --dir s --lock-wait 0
like '... hint' "$err" '^hint: another process is writing to the database; wait longer with --lock-wait$'
is '... nothing applied' "$(db_tables);$(db_history)" "strata_migrations;"
# the default lock wait: strata gets as far as the write lock ("applying" is printed right
# before it asks for it) while the holder has it
"$STRATA" --database-url "$DB_URL" migrations run --dir s >sqwait.out 2>sqwait.err {sqhold}>&- &
waiter=$!
until_true 600 eval 'grep -q "^applying 1 migration" sqwait.out || ! kill -0 "$waiter" 2>/dev/null'
is 'sqlite: the default lock wait: strata is at the write lock, still running, nothing applied' \
	"$(grep -c '^applying 1 migration' sqwait.out);$(kill -0 "$waiter" 2>/dev/null && echo running);$(db_history)" \
	"1;running;"
# the holder reads SQLite's clock (the format of applied_at), then lets go
printf '%s\n' "select 'release_at ' || strftime('%Y-%m-%dT%H:%M:%fZ', 'now');" 'rollback;' >&"$sqhold"
exec {sqhold}>&-
wait "$sqholder"
is '... the holder let go' "$?;$(cat sqholder.err)" "0;"
release_at=$(sed -n 's/^release_at //p' sqholder.out)
like '... at a time SQLite gave' "$release_at" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
wait "$waiter"
is '... then strata exits 0' "$?" 0
empty_files '... with empty stderr' sqwait.err
like '... having applied it' "$(cat sqwait.out)" '^applied 1 migration in '
is '... its history row was written after the release' \
	"$(sq_q "$DB_FILE" "select applied_at > '$release_at' from strata_migrations where version = '1' and name = 'A'")" 1
is '... applied once, the holder'"'"'s row rolled back' "$(db_history)" "1-A"

# SQLite: another runner applies 1-A, 2-B (empty) and 3-C while strata, which planned all four,
# waits for the write lock: strata finds each of the three done in its own transaction, skips
# it, then applies 4-D (the same statements each time, kept on the connection between steps)
new_db sqlite
mig r 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
mig r 2-B.sql '-- migrate:up\n-- nothing to change\n'
mig r 3-C.sql '-- migrate:up\ncreate table c (x int);\n'
mig r 4-D.sql '-- migrate:up\ncreate table d (x int);\n'
strata --database-url "$DB_URL" migrations run --dir none >/dev/null # makes the history table
mkfifo other.in
sqlite3 "$DB_FILE" <other.in >other.out 2>other.err &
other=$!
exec {oth}>other.in
printf '%s\n' '.timeout 5000' 'begin immediate;' >&"$oth"
until_true 600 eval '! sqlite3 "$DB_FILE" "begin immediate; rollback;" >/dev/null 2>&1'
"$STRATA" --database-url "$DB_URL" migrations run --dir r >skip.out 2>skip.err {oth}>&- &
waiter=$!
until_true 600 eval 'grep -q "^applying 4 migrations" skip.out || ! kill -0 "$waiter" 2>/dev/null'
is 'sqlite: strata planned 4 and waits for the write lock while another runner has it' \
	"$(grep -c '^applying 4 migrations' skip.out);$(kill -0 "$waiter" 2>/dev/null && echo running)" \
	"1;running"
# the other runner applies three of them, with the rows strata writes (the checksum: the file's
# SHA-256), then commits
row() { echo "('$1', '$2', '$(sha256sum "r/$1-$2.sql" | cut -c1-64)')"; }
printf '%s\n' 'create table a (x int);' 'create table c (x int);' \
	"insert into strata_migrations (version, name, checksum) values $(row 1 A), $(row 2 B), $(row 3 C);" \
	'commit;' >&"$oth"
exec {oth}>&-
wait "$other"
is '... the other runner committed' "$?;$(cat other.err)" "0;"
wait "$waiter"
is '... then strata exits 0' "$?" 0
empty_files '... with empty stderr' skip.err
is '... skips the three done by the other runner, applies the fourth' \
	"$(norm <skip.out)" "applying 4 migrations to $DB_DISPLAY
  skipped   1-A  (done by another runner)
  skipped   2-B  (done by another runner)
  skipped   3-C  (done by another runner)
  applied   4-D  T
applied 1 migration in T (3 already done by another runner)"
is '... each applied once' "$(db_history);$(db_tables)" "1-A,2-B,3-C,4-D;a,c,d,strata_migrations"
check '... afterwards, nothing to run (the rows agree with the files)' 0 \
	'^nothing to run: 4 migrations, all applied' '^$' \
	strata --database-url "$DB_URL" migrations run --dir r
done_testing
