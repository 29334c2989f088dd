#!/usr/bin/env bash
# Server faults, on a PostgreSQL cluster of this script's own (initdb + pg_ctl on a free loopback
# port; the shared pg_virtualenv cluster other tests use is never stopped):
#   - the server stopped in the middle of a run (fast and immediate shutdown), and the runner's
#     connection ended with pg_terminate_backend: a clear error, exit 1, nothing recorded that
#     did not commit (history and schema agree), and a clean finish after the restart;
#   - the same inside a transaction:false migration: the next run reports it precisely;
#   - a server that is not up yet: --wait / --wait-timeout retry the connection with backoff.
. "$(dirname "$0")/lib.sh"

[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] || {
	[ "${STRATA_REQUIRE_PG:-0}" = 1 ] && bail "PostgreSQL's initdb and pg_ctl are required"
	skip_all "no PostgreSQL server binaries"
}
ROUNDS=$(pick 1 3)

# our own cluster, owned by postgres when we are root (initdb refuses root)
CL=$(mktemp -d /tmp/strata-faults.XXXXXX)
as_owner() { (cd "$CL" && if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi); }
[ "$(id -u)" = 0 ] && chown postgres "$CL"
trap 'as_owner "$PGBIN/pg_ctl" -D "$CL/data" stop -m immediate >/dev/null 2>&1; rm -rf "$CL"; _cleanup' EXIT
as_owner "$PGBIN/initdb" -D "$CL/data" -A trust -U postgres --no-sync >"$CL/initdb.log" 2>&1 ||
	bail "initdb failed: $(tail -3 "$CL/initdb.log")"
PORT=
for _ in $(seq 20); do
	p=$((20000 + RANDOM % 20000))
	if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || bail "no free port"
pg_start() {
	as_owner "$PGBIN/pg_ctl" -D "$CL/data" -l "$CL/server.log" -w -t 60 \
		-o "-p $PORT -k $CL -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}
pg_stop() { as_owner "$PGBIN/pg_ctl" -D "$CL/data" -w stop -m "$1" >/dev/null; }
pg_start || bail "cannot start the cluster: $(tail -5 "$CL/server.log")"
ok "our own cluster on 127.0.0.1:$PORT"

URL_BASE="postgres://postgres:faultpw@127.0.0.1:$PORT"
qq() { "$PSQL" -X -At -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" -c "$1" 2>/dev/null; }
fresh() { # a fresh database in $DB, its URL in $URL
	DB=faults_$((++_fn))
	"$PSQL" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c "create database $DB" >/dev/null
	URL=$URL_BASE/$DB
}
_fn=0

N=10
mkdir m
for i in $(seq 1 $N); do
	mig m "$i-S$i.sql" "-- migrate:up\ncreate table t$i (x int);\nselect pg_sleep(0.1);\ninsert into t$i values ($i);\n-- migrate:down\ndrop table t$i;\n"
done
# the same with a transaction:false migration in the middle
mkdir n
for i in 1 2; do cp "m/$i-S$i.sql" n/; done
mig n 3-Nt.sql '-- migrate:up transaction:false\ncreate table nt (x int);\nselect pg_sleep(2);\ninsert into nt values (1);\n-- migrate:down\ndrop table nt;\n'

# agree: every table t<i> with its row iff migration i is in the history (and applied)
agree() {
	local h t
	h=$(qq "select coalesce(string_agg(name, ',' order by length(version), version), '') from strata_migrations where status = 'applied'")
	t=$(qq "select coalesce(string_agg('S' || substr(tablename, 2), ',' order by length(tablename), tablename), '') from pg_tables where schemaname = 'public' and tablename ~ '^t[0-9]+$'")
	[ "$h" = "$t" ] && echo "agree ($h)" || echo "history '$h' but tables '$t'"
}
applied_at_least() { [ "$(qq 'select count(*) from strata_migrations' || echo 0)" -ge "$1" ] 2>/dev/null; }
wait_applied() { until_true 400 applied_at_least "$1"; } # N: until N migrations are recorded
cases=0 case_fails=0
tally() { cases=$((cases + 1)); [ "$_failed" -gt "$1" ] && case_fails=$((case_fails + 1)); }

fault_case() { # NAME ACTION: ACTION is fast, immediate or terminate
	local name=$1 how=$2 before=$_failed pid
	fresh
	"$STRATA" --database-url "$URL" migrations run --dir m >f.out 2>f.err &
	pid=$!
	wait_applied 2 || diag "$name: the run did not get going"
	sleep 0.1
	case $how in
	fast | immediate) pg_stop "$how" ;;
	terminate) "$PSQL" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
		-c "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'strata'" >/dev/null ;;
	esac
	wait "$pid"
	is "$name: the run exits 1" "$?" 1
	like "$name: ... with a clear error" "$(cat f.err)" \
		'^strata: error: .*(terminat|server closed the connection|connection to server|no connection|administrator command)'
	unlike "$name: ... and no sanitizer report" "$(cat f.err)" 'Sanitizer|runtime error'
	[ "$how" = terminate ] || pg_start || bail "cannot restart the cluster"
	is "$name: after the restart, history and schema agree" "$(agree | cut -c1-5)" agree
	check "$name: the next run finishes the job" 0 '^applied [0-9]+ migrations? in ' '^$' \
		"$STRATA" --database-url "$URL" migrations run --dir m
	is "$name: ... all $N applied, once" "$(qq 'select count(*), count(distinct version) from strata_migrations')" "$N|$N"
	tally "$before"
}
for r in $(seq 1 "$ROUNDS"); do
	fault_case "fast shutdown ($r)" fast
	fault_case "immediate shutdown ($r)" immediate
	fault_case "pg_terminate_backend ($r)" terminate
done

# inside a transaction:false migration
nt_case() {
	local name=$1 how=$2 before=$_failed pid
	fresh
	"$STRATA" --database-url "$URL" migrations run --dir n >f.out 2>f.err &
	pid=$!
	until_true 400 eval '[ "$(qq "select count(*) from pg_stat_activity where query like '"'%pg_sleep(2)%'"' and application_name = '"'strata'"'")" = 1 ]'
	case $how in
	immediate) pg_stop immediate ;;
	terminate) "$PSQL" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
		-c "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'strata'" >/dev/null ;;
	esac
	wait "$pid"
	is "$name: the run exits 1" "$?" 1
	[ "$how" = terminate ] || pg_start || bail "cannot restart the cluster"
	# the 'running' row records progress after each statement, so repair resumes after it
	is "$name: the history says where it stopped" \
		"$(qq "select status || ' ' || progress from strata_migrations where name = 'Nt'")" "running 1"
	is "$name: ... statement 1 done, 3 not" "$(qq "select count(*) from nt")" 0
	check "$name: the next run refuses and names repair" 1 '^$' \
		"migration 3-Nt is running" "$STRATA" --database-url "$URL" migrations run --dir n
	like "$name: ... and the way out" "$err" "strata migrations repair"
	is "$name: ... with the statement" "$(grep -o 'stopped before statement [0-9]*' <<<"$err")" \
		'stopped before statement 2'
	run "$STRATA" --database-url "$URL" migrations repair --dir n
	is "$name: repair resumes it from statement 2" "$rc $(grep -o 'resuming 3-Nt from statement [0-9]*' <<<"$out")" \
		'0 resuming 3-Nt from statement 2'
	if [ "$rc" != 0 ]; then # what a user does then: repair --mark-applied after fixing by hand
		qq 'insert into nt values (1)' >/dev/null
		check "$name: ... or repair --mark-applied after fixing it by hand" 0 '' '^$' \
			"$STRATA" --database-url "$URL" migrations repair --dir n --mark-applied
	fi
	is "$name: ... applied" "$(qq "select status || ' ' || (select count(*) from nt) from strata_migrations where name = 'Nt'")" "applied 1"
	tally "$before"
}
nt_case "immediate shutdown in a transaction:false migration" immediate
nt_case "pg_terminate_backend in a transaction:false migration" terminate

# --wait: the server is not up yet
before=$_failed
fresh
pg_stop fast
check 'server down, no --wait: fails at once' 1 '^$' '^strata: error: cannot connect to postgres://postgres:\*\*\*\*@' \
	"$STRATA" --database-url "$URL" migrations run --dir m
t0=$(now_ms)
check 'server down, --wait-timeout 1s: gives up after about a second' 1 '^$' '^strata: error: cannot connect to ' \
	"$STRATA" --database-url "$URL" --wait-timeout 1s migrations run --dir m
t1=$(now_ms)
like '... says it waited' "$err" '^hint: gave up after [0-9]+ attempts in 1\.[0-9] s \(--wait-timeout\)$'
like '... in about 1 s' "$((t1 - t0))" '^(9[0-9]{2}|1[0-9]{3}|2[0-4][0-9]{2})$'
"$STRATA" --database-url "$URL" --wait-timeout 30s -v migrations run --dir m >w.out 2>w.err &
pid=$!
# the server starts only once strata found it down and waits (-v says so after the first try)
until_true 600 eval 'grep -q "^waiting up to " w.out || ! kill -0 "$pid" 2>/dev/null'
like 'server down, --wait-timeout 30s: strata says it waits (-v)' "$(cat w.out)" 'waiting up to 30\.0 s for postgres://postgres:\*\*\*\*@'
pg_start || bail "cannot restart the cluster"
wait "$pid"
is '... the server started while it waited: the run succeeds' "$?;$(cat w.err)" "0;"
is '... all applied' "$(qq 'select count(*) from strata_migrations')" "$N"
check '--wait (60s) with the server up connects at once' 0 '^nothing to run' '^$' \
	"$STRATA" --wait --database-url "$URL" migrations run --dir m
check 'show --wait too (a global option)' 0 '^10 migrations: 10 applied' '^$' \
	"$STRATA" --database-url "$URL" migrations show --dir m --wait
check 'a bad --wait-timeout is a usage error' 2 '^$' "--wait-timeout needs a duration like 30s, 500ms or 2m, not 'soon'" \
	"$STRATA" --wait-timeout soon migrations show
tally "$before"
cases=$((cases + 2)) # the block above holds three cases: no --wait, the timeout, a wait that succeeds

figure faults.cases "$cases"
figure faults.failures "$case_fails"
done_testing
