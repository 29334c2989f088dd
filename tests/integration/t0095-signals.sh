#!/usr/bin/env bash
# Ctrl-C (SIGINT) and SIGTERM (what Kubernetes sends) stop a run: the running statement is
# cancelled on the server and its migration rolled back, the lock let go, the report says what
# was applied and what was rolled back, and strata exits 130 or 143. Nothing of strata's keeps
# running on the server. A second signal while that happens exits at once. The same for seed,
# and on SQLite. Events are ordered by watching the server (pg_stat_activity, pg_locks) or
# strata's own -v output, never by sleeping.
. "$(dirname "$0")/lib.sh"

# strata_bg OUT ERR ARGS...: starts strata in the background; $bg is its pid
strata_bg() {
	local o=$1 e=$2
	shift 2
	: >"$o"
	: >"$e" # emptied here: the background shell opens them later
	"$STRATA" "$@" >"$o" 2>"$e" &
	bg=$!
}
# wait_bg: waits for $bg (at most 20 s, then kills it); $bg_rc is its exit code
wait_bg() {
	if ! until_true 400 eval '! kill -0 "$bg" 2>/dev/null'; then
		kill -KILL "$bg" 2>/dev/null
	fi
	wait "$bg"
	bg_rc=$?
}
sig_code() { if [ "$1" = INT ]; then echo 130; else echo 143; fi; }

if pg_available; then
	# strata's sessions in the test database: active ones, and those waiting for a lock
	pg_strata() { pg_q "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'strata' $1"; }
	pg_sleeping() { [ "$(pg_strata "and state = 'active' and query like '%pg_sleep(30)%'")" = 1 ]; }
	pg_none_left() { [ "$(pg_strata '')" = 0 ]; }

	for sig in INT TERM; do
		new_db pg
		d=sleep_$sig
		mig "$d" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
		mig "$d" 2-Sleep.sql '-- migrate:up\ncreate table slept (x int);\nselect pg_sleep(30);\n-- migrate:down\ndrop table slept;\n'
		mig "$d" 3-C.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
		strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir "$d"
		until_true 400 pg_sleeping
		is "pg SIG$sig: the server runs 2-Sleep's pg_sleep" "$(pg_strata "and state = 'active' and query like '%pg_sleep(30)%'")" 1
		kill -"$sig" "$bg"
		wait_bg
		is "pg SIG$sig: strata exits $(sig_code $sig)" "$bg_rc" "$(sig_code $sig)"
		until_true 100 pg_none_left
		is "pg SIG$sig: ... and nothing of strata's is left on the server" "$(pg_strata '')" 0
		is "pg SIG$sig: ... 2-Sleep was rolled back, 3-C never ran" "$(db_tables)" "a,strata_migrations"
		is "pg SIG$sig: ... the history has 1-A only" "$(db_history)" "1-A"
		like "pg SIG$sig: ... the report says what stopped it, and where" "$(cat e.txt)" \
			"^strata: interrupted by SIG$sig at $d/2-Sleep\\.sql:3:1\$"
		like "pg SIG$sig: ... what was rolled back" "$(cat e.txt)" '^strata: 2-Sleep was rolled back$'
		like "pg SIG$sig: ... what stays applied" "$(cat e.txt)" '^strata: the 1 migration applied before it stays applied$'
		like "pg SIG$sig: ... stdout lists 1-A applied" "$(cat o.txt)" '^  applied   1-A '
		is "pg SIG$sig: ... no advisory lock is left" "$(pg_q "select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())")" 0
	done

	# a migration queued for ACCESS EXCLUSIVE behind another session's lock: SIGTERM takes it
	# out of the queue (the readers behind it would wait with it)
	new_db pg
	pg_q 'create table t (x int)' >/dev/null
	mig q 1-Alter.sql '-- migrate:up\nalter table t add column y int;\n-- migrate:down\nalter table t drop column y;\n'
	PGAPPNAME=holder "$PSQL" -X -q -d "$PG_DB" -c 'begin' -c 'lock table t in access share mode' -c 'select pg_sleep(60)' >/dev/null 2>&1 &
	holder=$!
	until_true 400 eval '[ "$(pg_q "select count(*) from pg_stat_activity where application_name = '"'holder'"' and query like '"'%pg_sleep%'"'")" = 1 ]'
	strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir q --lock-timeout 60s
	pg_waiting() { [ "$(pg_q "select count(*) from pg_locks l join pg_stat_activity a using (pid) where a.application_name = 'strata' and not l.granted and l.mode = 'AccessExclusiveLock' and a.datname = current_database()")" = 1 ]; }
	until_true 400 pg_waiting
	is "pg: strata waits for ACCESS EXCLUSIVE on t" \
		"$(pg_q "select count(*) from pg_locks l join pg_stat_activity a using (pid) where a.application_name = 'strata' and not l.granted and a.datname = current_database()")" 1
	kill -TERM "$bg"
	wait_bg
	is "pg SIGTERM while queued for a lock: exits 143" "$bg_rc" 143
	until_true 100 pg_none_left
	is "pg: ... nothing of strata's left, no lock request queued" \
		"$(pg_strata ''),$(pg_q 'select count(*) from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())')" "0,0"
	is "pg: ... a reader is not blocked" "$(PGOPTIONS='-c lock_timeout=1000' pg_q 'select count(*) from t')" 0
	is "pg: ... nothing applied" "$(db_history),$(pg_q "select count(*) from information_schema.columns where table_name = 't'")" ",1"
	like "pg: ... the report" "$(cat e.txt)" '^strata: interrupted by SIGTERM at q/1-Alter\.sql:2:1$'
	like "pg: ... rolled back" "$(cat e.txt)" '^strata: 1-Alter was rolled back$'
	kill "$holder" 2>/dev/null
	pg_q "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'holder'" >/dev/null
	wait "$holder" 2>/dev/null

	# waiting for the migration lock (another runner has it): SIGINT ends the wait
	new_db pg
	mig l 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
	PGAPPNAME=lockholder "$PSQL" -X -q -d "$PG_DB" -c 'select pg_advisory_lock(6004514643731611649)' -c 'select pg_sleep(60)' >/dev/null 2>&1 &
	holder=$!
	until_true 400 eval '[ "$(pg_q "select count(*) from pg_locks where locktype = '"'advisory'"' and granted")" = 1 ]'
	strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir l
	until_true 400 eval '[ "$(pg_q "select count(*) from pg_locks l join pg_stat_activity a using (pid) where a.application_name = '"'strata'"' and l.locktype = '"'advisory'"' and not l.granted and a.datname = current_database()")" = 1 ]'
	kill -INT "$bg"
	wait_bg
	is "pg SIGINT while waiting for the migration lock: exits 130" "$bg_rc" 130
	until_true 100 pg_none_left
	is "pg: ... nothing of strata's left" "$(pg_strata '')" 0
	is "pg: ... the report" "$(cat e.txt)" 'strata: interrupted by SIGINT'
	is "pg: ... nothing applied, no table made" "$(db_tables)" ""
	pg_q "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lockholder'" >/dev/null
	wait "$holder" 2>/dev/null

	# a seed in the middle of its transaction
	new_db pg
	mig s 1-T.sql '-- migrate:up\ncreate table t (x int);\ncreate function slow() returns trigger language plpgsql as $$ begin perform pg_sleep(30); return new; end $$;\ncreate trigger slow before insert on t for each row execute function slow();\n'
	printf '{"t": [{"x": 1}, {"x": 2}]}\n' >seed.json
	strata_bg o.txt e.txt --database-url "$DB_URL" seed -f seed.json --dir s
	until_true 400 eval '[ "$(pg_strata "and state = '"'active'"' and wait_event = '"'PgSleep'"'")" = 1 ]'
	kill -TERM "$bg"
	wait_bg
	is "pg seed, SIGTERM: exits 143" "$bg_rc" 143
	until_true 100 pg_none_left
	is "pg seed: ... nothing of strata's left" "$(pg_strata '')" 0
	is "pg seed: ... no row, no record of the file" "$(pg_q 'select count(*) from t'),$(if [ "$(pg_q "select to_regclass('strata_seeds') is null")" = t ]; then echo 0; else pg_q 'select count(*) from strata_seeds'; fi)" "0,0"
	like "pg seed: ... the report" "$(cat e.txt)" '^strata: nothing was seeded; the transaction was rolled back$'
	like "pg seed: ... names the signal" "$(cat e.txt)" '^strata: interrupted by SIGTERM'

	# a second signal while the first one's cancel is pending exits at once: the server
	# process is stopped, so the cancel cannot take effect
	new_db pg
	mig w 1-Sleep.sql '-- migrate:up\ncreate table slept (x int);\nselect pg_sleep(30);\n'
	strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir w
	until_true 400 pg_sleeping
	spid=$(pg_q "select pid from pg_stat_activity where datname = current_database() and application_name = 'strata'")
	kill -STOP "$spid"
	kill -INT "$bg"
	# the first signal is handled (the cancel request is sent, the wait goes on)
	until_true 100 eval '[ "$(pg_q "select count(*) from pg_stat_activity where datname = current_database() and application_name = '"'strata'"'")" = 1 ]'
	kill -0 "$bg" 2>/dev/null
	is "pg: after one SIGINT, strata still waits for the stopped server process" "$?" 0
	kill -INT "$bg"
	wait_bg
	is "pg: a second SIGINT exits at once with 130" "$bg_rc" 130
	kill -CONT "$spid"
	until_true 100 pg_none_left
	is "pg: ... the server process then ends (its client is gone)" "$(pg_strata '')" 0
	is "pg: ... and its transaction did not commit" "$(db_tables);$(db_history)" "strata_migrations;"
else
	skip 'PostgreSQL signal tests' 'no PostgreSQL server'
fi

# SQLite: a statement that runs until it is interrupted, and a wait for the write lock
new_db sqlite
mig sq 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
mig sq 2-Loop.sql '-- migrate:up\ncreate table looped (x int);\nwith recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c;\n'
strata_bg o.txt e.txt --database-url "$DB_URL" -v migrations run --dir sq
until_true 400 grep -q '2-Loop' o.txt
kill -INT "$bg"
wait_bg
is "sqlite SIGINT: exits 130" "$bg_rc" 130
is "sqlite: ... 2-Loop was rolled back" "$(db_tables)" "a,strata_migrations"
is "sqlite: ... history" "$(db_history)" "1-A"
like "sqlite: ... the report" "$(cat e.txt)" '^strata: interrupted by SIGINT at sq/2-Loop\.sql:3:1$'
like "sqlite: ... rolled back" "$(cat e.txt)" '^strata: 2-Loop was rolled back$'
like "sqlite: ... what stays" "$(cat e.txt)" '^strata: the 1 migration applied before it stays applied$'

new_db sqlite
mig sw 1-A.sql '-- migrate:up\ncreate table a (x int);\n'
mkdir -p none
strata --database-url "$DB_URL" migrations run --dir none >/dev/null
# the holder: a sqlite3 shell that takes the write lock and keeps it until its input closes
mkfifo hold.fifo
sqlite3 "$DB_FILE" <hold.fifo >/dev/null 2>&1 &
holder=$!
exec 7>hold.fifo
# (.timeout: the probe below takes the lock for an instant too; the holder waits it out
# instead of running its insert outside a transaction)
printf '%s\n' '.timeout 5000' 'begin immediate;' "insert into strata_migrations (version, name, checksum) values ('0', 'x', 'x');" >&7
until_true 400 eval '! sqlite3 "$DB_FILE" "begin immediate; rollback;" >/dev/null 2>&1'
strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir sw
until_true 400 grep -q '^applying' o.txt
kill -TERM "$bg"
wait_bg
is "sqlite SIGTERM while waiting for the write lock: exits 143" "$bg_rc" 143
like "sqlite: ... the report" "$(cat e.txt)" '^strata: interrupted by SIGTERM'
like "sqlite: ... 1-A did not run" "$(cat e.txt)" '^strata: 1-A (was rolled back|did not start)$'
printf 'rollback;\n' >&7
exec 7>&-
wait "$holder"
is "sqlite: ... nothing applied" "$(db_history)" ""
done_testing
