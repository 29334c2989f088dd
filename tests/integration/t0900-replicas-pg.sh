#!/usr/bin/env bash
# PostgreSQL with a streaming replica (issue 14, item 3), on a real primary (pg_virtualenv's) and
# a real standby made here with pg_basebackup: a run against the standby is refused before
# anything is written, naming it with its password masked, while show keeps working there; a
# libpq multi-host URL listing the standby first with target_session_attrs=read-write migrates
# the primary; --max-replica-lag waits after a commit while the standby's replay is paused, says
# who is behind and finishes once replay resumes; with a short --replica-wait-timeout it exits 7
# naming the replica, the migration that committed recorded and nothing after it; SIGINT during
# the wait exits 130 at once. Events are ordered by watching strata's output and the servers.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg

SB_DIR=
SB_PORT=$((PGPORT + 17))
# as_pg CMD...: the server binaries refuse to run as root: as the postgres user then
as_pg() { (cd / && if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi); }
stop_standby() {
	[ -n "$SB_DIR" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$SB_DIR/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$SB_DIR"
}
trap 'stop_standby; _cleanup' EXIT
# setup_failed WHY: the standby could not be made: this test fails, the others of the suite go on
# (a bail-out would stop them all)
setup_failed() { not_ok "a streaming standby on loopback"; diag "$1"; done_testing; }

# the standby: a base backup of the primary (-R: it streams from it), its own configuration
# (Debian keeps the primary's outside the data directory), started on its own port and socket
SB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/strata-standby.XXXXXX")
chmod 755 "$SB_DIR"
[ "$(id -u)" = 0 ] && chown postgres "$SB_DIR"
HBA=$("$PSQL" -X -At -d postgres -c 'show hba_file')
if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$HBA"; then
	echo "host replication all 127.0.0.1/32 scram-sha-256" >>"$HBA"
	"$PSQL" -X -q -d postgres -c 'select pg_reload_conf()' >/dev/null
fi
# 127.0.0.1 throughout, never "localhost": where that name means ::1 too, the standby's own
# connection to the primary and ours to the standby would need IPv6 lines in pg_hba.conf
as_pg "$PGBIN/pg_basebackup" -R -D "$SB_DIR/data" -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" \
	-X stream -c fast >"$SB_DIR/basebackup.log" 2>&1 || setup_failed "pg_basebackup failed: $(cat "$SB_DIR/basebackup.log")"
as_pg sh -c ": >'$SB_DIR/data/postgresql.conf'; : >'$SB_DIR/data/pg_ident.conf'
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >'$SB_DIR/data/pg_hba.conf'"
as_pg "$PGBIN/pg_ctl" -D "$SB_DIR/data" -l "$SB_DIR/log" -w -o \
	"-p $SB_PORT -k $SB_DIR -c listen_addresses=127.0.0.1 -c cluster_name=standby1" start >/dev/null ||
	setup_failed "cannot start the standby: $(cat "$SB_DIR/log")"
sb_q() { "$PSQL" -X -At -h 127.0.0.1 -p "$SB_PORT" -d "$PG_DB" -c "$1"; }
until_true 2400 eval '[ "$(sb_q "select pg_is_in_recovery()" 2>/dev/null)" = t ]' ||
	setup_failed "the standby never accepted connections: $(cat "$SB_DIR/log")"
streaming() { [ "$(pg_q "select count(*) from pg_stat_replication where application_name = 'standby1' and state = 'streaming'")" = 1 ]; }
# under the suite other tests load the primary (CREATE DATABASE replays slowly): give it time
until_true 2400 streaming || setup_failed "the standby does not stream: $(tail -5 "$SB_DIR/log")"
# replayed: the standby has replayed everything the primary wrote
# (asked of the standby: the primary hears of it only every wal_receiver_status_interval when idle)
replayed() { [ "$(sb_q "select pg_last_wal_replay_lsn() >= '$(pg_q "select pg_current_wal_lsn()")'")" = t ]; }

SB_URL="postgres://${PGUSER}:${PGPASSWORD}@127.0.0.1:${SB_PORT}/${PG_DB}"
SB_DISPLAY="postgres://${PGUSER}:****@127.0.0.1:${SB_PORT}/${PG_DB}"
mig m 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
mig m 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
mig m 3-C.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
mig m 4-D.sql '-- migrate:up\ncreate table d (x int);\n-- migrate:down\ndrop table d;\n'
mig m 5-E.sql '-- migrate:up\ncreate table e (x int);\n-- migrate:down\ndrop table e;\n'

# 1. the standby as the target: refused by the lock's own query, before anything is written
for strategy in advisory table; do
	check "a run against the standby is refused ($strategy lock)" 1 '' \
		"^strata: error: cannot migrate $(req "$SB_DISPLAY"): it is a standby server \(in recovery\), which is read-only$" \
		strata --database-url "$SB_URL" migrations run --dir m --lock-strategy "$strategy"
	like "... the hint: the primary, or a multi-host URL with target_session_attrs=read-write" "$err" \
		'^hint: point the database URL at the primary, or list the servers in a multi-host URL with target_session_attrs=read-write'
	like "... nothing was applied" "$err" '^strata: nothing was applied$'
	unlike "... the password never shows" "$out$err" "$(req "$PGPASSWORD")"
done
is '... nothing written on the primary: no history table, no table' "$(db_history) $(db_tables)" '(no history table) '
check 'show still works on the standby' 0 '^pending +1 +A ' '^$' \
	strata --database-url "$SB_URL" migrations show --dir m
printf '{"a": [{"x": 1}]}\n' >seed.json
check 'seed against the standby is refused too' 1 '' 'it is a standby server' \
	strata --database-url "$SB_URL" seed --no-migrate -f seed.json

# 2. a multi-host URL, the standby first: target_session_attrs=read-write finds the primary
MULTI="postgres://${PGUSER}:${PGPASSWORD}@127.0.0.1:${SB_PORT},127.0.0.1:${PGPORT}/${PG_DB}?target_session_attrs=read-write"
MULTI_DISPLAY="postgres://${PGUSER}:****@127.0.0.1:${SB_PORT},127.0.0.1:${PGPORT}/${PG_DB}?target_session_attrs=read-write"
check 'a multi-host URL, standby first, read-write: the primary is migrated' 0 \
	"^applying 1 migration to $(req "$MULTI_DISPLAY")$" '^$' \
	strata --database-url "$MULTI" migrations run --dir m --to 1
unlike '... the password never shows' "$out$err" "$(req "$PGPASSWORD")"
is '... applied on the primary' "$(db_history)" 1-A
until_true 400 replayed
is '... and replayed on the standby' "$(sb_q "select to_regclass('a') is not null")" t

pg_q "create table written_after_pause (x int)" >/dev/null
# pause: the standby's replay paused, with something written after it (the lag it reports
# grows from there)
pause() {
	until_true 400 replayed
	sb_q 'select pg_wal_replay_pause()' >/dev/null
	pg_q "insert into written_after_pause values (1)" >/dev/null
}
resume() { sb_q 'select pg_wal_replay_resume()' >/dev/null; }
# strata_bg OUT ERR ARGS...: strata in the background; $bg is its pid
strata_bg() {
	local o=$1 e=$2
	shift 2
	: >"$o"
	: >"$e"
	"$STRATA" "$@" >"$o" 2>"$e" &
	bg=$!
}
# wait_bg: waits for $bg (at most 20 s, then kills it); $bg_rc is its exit code
wait_bg() {
	until_true 400 eval '! kill -0 "$bg" 2>/dev/null' || kill -KILL "$bg" 2>/dev/null
	wait "$bg"
	bg_rc=$?
}
waiting_said() { grep -q '^strata: waiting for replica standby1 (127\.0\.0\.1): .*behind$' "$1"; }

# 3. --max-replica-lag: waits after the commit while replay is paused, finishes once it resumes
pause
strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir m --to 2 --max-replica-lag 10ms
until_true 400 waiting_said e.txt
is 'replay paused: the run waits after 2-B committed, saying who is behind' "$?" 0
like '... bytes and time' "$(cat e.txt)" '^strata: waiting for replica standby1 \(127\.0\.0\.1\): [0-9]+ bytes and up to [0-9.]+ m?s behind$'
is '... 2-B committed and recorded' "$(db_history)" 1-A,2-B
is '... still waiting' "$(kill -0 "$bg" 2>/dev/null && echo running)" running
resume
wait_bg
is '... replay resumed: the run finishes' "$bg_rc" 0
like '... applied' "$(cat o.txt)" '^applied 1 migration in '
is '... the standby has 2-B' "$(sb_q "select to_regclass('b') is not null")" t

# 4. still behind after --replica-wait-timeout: exit 7, the replica named, the history exact
pause
check 'a replica still behind after --replica-wait-timeout: exit 7' 7 '^  applied   3-C ' \
	"^strata: error: replica standby1 \(127\.0\.0\.1\) of $(req "$DB_DISPLAY") is still behind after [0-9.]+ s \(--replica-wait-timeout\): [0-9]+ bytes and up to [0-9.]+ s$" \
	strata --database-url "$DB_URL" migrations run --dir m --to 4 --max-replica-lag 10ms --replica-wait-timeout 300ms
like '... what stays' "$err" '^strata: the 1 migration applied stays applied; the rest did not start$'
like '... the hint' "$err" '^hint: look at the replica \(is its replay paused or overloaded\?\) and run again; or wait longer with --replica-wait-timeout'
is '... the history holds the migration that committed, not the next' "$(db_history)" 1-A,2-B,3-C
is '... no table d' "$(pg_q "select to_regclass('d') is null")" t

# 5. SIGINT during the wait: exits 130 at once, the committed migration stays
strata_bg o.txt e.txt --database-url "$DB_URL" migrations run --dir m --to 4 --max-replica-lag 10ms
until_true 400 waiting_said e.txt
is 'SIGINT while waiting for the replica: it was waiting' "$?" 0
kill -INT "$bg"
t0=$(date +%s%N)
wait_bg
is '... exits 130' "$bg_rc" 130
is '... promptly (under 2 s)' "$(( ($(date +%s%N) - t0) / 1000000 < 2000 ))" 1
like '... the report' "$(cat e.txt)" '^strata: interrupted by SIGINT$'
is '... 4-D committed stays' "$(db_history)" 1-A,2-B,3-C,4-D
resume

# 6. --transaction all: one wait, after the one commit; strata.json's keys
pause
printf '{"database_url": "%s", "max_replica_lag": "10ms", "replica_wait_timeout": "300ms"}\n' "$DB_URL" >strata.json
check 'strata.json max_replica_lag and replica_wait_timeout, --transaction all' 7 '' \
	'^strata: error: replica standby1 .* is still behind after' \
	strata migrations run --dir m --transaction all
is '... the one transaction committed before the wait' "$(db_history)" 1-A,2-B,3-C,4-D,5-E
resume
rm strata.json

# 7. everything applied, from a build (the run answers from the history's summary, read before
# any lock): a standby is still refused, not told "nothing to run"
mkdir -p src && cp -r m src/migrations && strata build >/dev/null
strata --database-url "$DB_URL" migrations run --fake >/dev/null
until_true 400 replayed
check 'a build fully applied: the primary has nothing to run' 0 '^nothing to run: 5 migrations, all applied' '^$' \
	strata --database-url "$DB_URL" migrations run
check '... the standby is refused all the same' 1 '' 'it is a standby server \(in recovery\), which is read-only$' \
	strata --database-url "$SB_URL" migrations run
check '--max-replica-lag needs a duration' 2 '^$' "max-replica-lag needs a duration like 10s" \
	strata --database-url "$DB_URL" migrations run --dir m --max-replica-lag soon

# 8. a build run in batches of 256 (issue 15), the replica still behind after the last
# migration of the first batch: those stay, and the run says the rest did not start (the
# report holds no list of steps: the next batch's first is named all the same). The wait
# timeout is 3 s, not 300 ms: the first 255 commits each wait for the replica too, and under a
# loaded suite its replay of one of them can take longer than 300 ms (CI saw a run stop early)
new_db pg
pg_q "create table written_after_pause (x int); create table gate (x int)" >/dev/null
mkdir -p "$TEST_DIR/batches/src/migrations" && cd "$TEST_DIR/batches" || bail "no project"
printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
for i in $(seq 1 300); do
	printf -- '-- migrate:up\ncreate table t%d (x int);\n-- migrate:down\ndrop table t%d;\n' "$i" "$i" \
		>"src/migrations/$i-t$i.sql"
done
# the last of the first batch waits (at most 30 s) for a row in gate, which this test writes
# once replay is paused: a gate, not a sleep, so a slow replay cannot let it commit first
printf -- '-- migrate:up\ndo $$ begin for i in 1..600 loop exit when exists (select from gate); perform pg_sleep(0.05); end loop; end $$;\ncreate table t256 (x int);\n-- migrate:down\ndrop table t256;\n' \
	>src/migrations/256-t256.sql
strata build >/dev/null
strata_bg o.txt e.txt migrations run --max-replica-lag 10ms --replica-wait-timeout 3s
at_gate() { [ "$(pg_q "select count(*) from pg_stat_activity where query like '%from gate%' and pid <> pg_backend_pid()")" = 1 ]; }
until_true 600 at_gate
is 'batches: 256-t256 runs, waiting at the gate' "$?" 0
pause
pg_q "insert into gate values (1)" >/dev/null
wait_bg
is '... the replica behind after it: exit 7' "$bg_rc" 7
like '... what stays, and that the rest did not start' "$(cat e.txt)" \
	'^strata: the 256 migrations applied stay applied; the rest did not start$'
is '... the history holds the first batch' "$(pg_q "select count(*) from strata_migrations")" 256
resume
done_testing
