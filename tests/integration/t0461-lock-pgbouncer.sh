#!/usr/bin/env bash
# Through a real PgBouncer in transaction pooling mode (started here on a free loopback port in
# front of the pg_virtualenv server): the advisory lock is detected and refused with a clear
# error; --lock-strategy table with 4 runners at once applies each migration once.
. "$(dirname "$0")/lib.sh"
need_pg

PGBOUNCER=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null)
if [ -z "$PGBOUNCER" ]; then
	[ "${STRATA_REQUIRE_PG:-0}" = 1 ] && bail "pgbouncer is required for the PgBouncer lock tests (apt-get install pgbouncer; scripts/setup.sh test)"
	skip_all "pgbouncer is not installed"
fi

# pgbouncer refuses to run as root: its files go to a directory the postgres user can read
BDIR=$(mktemp -d "${TMPDIR:-/tmp}/strata-pgbouncer.XXXXXX")
RUNAS=()
if [ "$(id -u)" = 0 ]; then
	RUNAS=(-u postgres)
	chown postgres "$BDIR"
fi
chmod 755 "$BDIR"
_stop_bouncer() {
	[ -f "$BDIR/pgbouncer.pid" ] && kill "$(cat "$BDIR/pgbouncer.pid")" 2>/dev/null
	until_true 50 eval '[ ! -f "$BDIR/pgbouncer.pid" ]'
	rm -rf "$BDIR"
	_cleanup
}
trap _stop_bouncer EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '"%s" "%s"\n' "$PGUSER" "${PGPASSWORD:?pg_virtualenv sets PGPASSWORD}" >"$BDIR/userlist.txt"
cat >"$BDIR/pgbouncer.ini" <<EOF
[databases]
* = host=${PGHOST} port=${PGPORT:-5432}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BDIR/userlist.txt
pool_mode = transaction
admin_users = ${PGUSER}
default_pool_size = 3
max_client_conn = 100
logfile = $BDIR/pgbouncer.log
pidfile = $BDIR/pgbouncer.pid
EOF
chmod 644 "$BDIR"/*
[ "$(id -u)" = 0 ] && chown postgres "$BDIR"/*
"$PGBOUNCER" -d "${RUNAS[@]}" "$BDIR/pgbouncer.ini" >"$BDIR/start.log" 2>&1 ||
	bail "cannot start pgbouncer: $(cat "$BDIR/start.log" "$BDIR/pgbouncer.log" 2>/dev/null)"
BOUNCER_URL="postgres://${PGUSER}:${PGPASSWORD}@127.0.0.1:$PORT/$PG_DB"
BOUNCER_DISPLAY="postgres://${PGUSER}:****@127.0.0.1:$PORT/$PG_DB"
until_true 100 eval '"$PSQL" -X -At -d "$BOUNCER_URL" -c "select 1" >/dev/null 2>&1' || bail "pgbouncer does not answer on port $PORT: $(cat "$BDIR/pgbouncer.log")"
is 'pgbouncer runs in transaction pooling mode in front of the server' \
	"$("$PSQL" -X -At -d "postgres://${PGUSER}:${PGPASSWORD}@127.0.0.1:$PORT/pgbouncer" -c 'show config' 2>/dev/null | grep '^pool_mode|' | cut -d'|' -f2)" transaction

DB_KIND=pg
N=8
mig c 1-Counter.sql '-- migrate:up\ncreate table counter (m int not null);\n-- migrate:down\ndrop table counter;\n'
for i in $(seq 2 $N); do
	mig c "$i-Step$i.sql" "-- migrate:up\nselect pg_sleep(0.05);\ninsert into counter values ($i);\n-- migrate:down\ndelete from counter where m = $i;\n"
done

# the advisory lock through it: refused, nothing done
check 'advisory through PgBouncer: refused' 1 '^$' \
	"^strata: error: cannot use the advisory migration lock: the connection to $(req "$BOUNCER_DISPLAY") goes through a connection pooler\$" \
	strata --database-url "$BOUNCER_URL" migrations run --dir c
like '... the detail says why' "$err" \
	'^detail: the server.s pid is [0-9]+, not the pid -?[0-9]+ the connection announced: a proxy sits in between, and with transaction pooling a session lock stays on a server connection other clients use$'
like '... the hint says what to do' "$err" \
	'^hint: with PgBouncer.s transaction pooling use --lock-strategy table \(or "lock_strategy": "table" in strata.json\), or connect to PostgreSQL directly$'
is '... nothing applied, not even the history table' "$(db_tables)" ""
is '... and no advisory lock was left on a pooled server connection' \
	"$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory'")" 0
check 'advisory with --lock-wait 0 through PgBouncer: refused the same way' 1 '^$' \
	'goes through a connection pooler$' \
	strata --database-url "$BOUNCER_URL" migrations revert --dir c --lock-wait 0 --lock-strategy advisory
printf '{"a": [{"x": 1}]}\n' >s.json
check 'seed through PgBouncer: refused the same way' 1 '' 'goes through a connection pooler$' \
	strata --database-url "$BOUNCER_URL" seed -f s.json --no-migrate < /dev/null
check '... while a direct connection takes the advisory lock as before' 0 "^applied $N migrations in " '^$' \
	strata --database-url "$PG_URL" migrations run --dir c
strata --database-url "$PG_URL" migrations revert --dir c --all >/dev/null 2>&1
pg_q 'drop table strata_migrations' >/dev/null

# the table lock through it: 4 runners at once
pids=()
for i in 1 2 3 4; do
	"$STRATA" --database-url "$BOUNCER_URL" migrations run --dir c --lock-strategy table >"run$i.out" 2>"run$i.err" &
	pids+=($!)
done
rcs=
for p in "${pids[@]}"; do
	wait "$p"
	rcs="$rcs$? "
done
is 'table through PgBouncer: 4 runners at once all exit 0' "$rcs" "0 0 0 0 "
empty_files '... with empty stderr' run1.err run2.err run3.err run4.err
is '... history has each migration once' "$(pg_q 'select count(*), count(distinct version) from strata_migrations')" "$N|$N"
is '... each insert ran once' "$(pg_q 'select count(*), count(distinct m) from counter')" "$((N - 1))|$((N - 1))"
is '... one runner applied them all, the others found nothing to run' \
	"$(cat run?.out | grep -cE "^applied $N migrations in ");$(cat run?.out | grep -cE '^nothing to run: ')" "1;3"
is '... and the lock row is gone' "$(pg_q 'select count(*) from strata_lock')" 0

# the timeout through PgBouncer names the holder
mig c 9-Slow.sql '-- migrate:up\nselect pg_sleep(3);\n-- migrate:down\n'
"$STRATA" --database-url "$BOUNCER_URL" migrations run --dir c --lock-strategy table --lock-ttl 1s >slow.out 2>slow.err &
slow=$!
until_true 200 eval '[ "$(pg_q "select count(*) from pg_stat_activity where datname = current_database() and query like '"'%pg_sleep(3)%'"' and state = '"'active'"' and pid <> pg_backend_pid()")" = 1 ]'
check 'table through PgBouncer: a second runner waits, then names the holder' 1 '^$' \
	'another strata run holds the migration lock' \
	strata --database-url "$BOUNCER_URL" migrations run --dir c --lock-strategy table --lock-wait 1500ms
like '... its owner' "$err" "^detail: held by '[^']+:$slow:[0-9a-f]{8}' since "
wait "$slow"
is '... the holder (ttl 1s, a 3s migration, kept alive by its heartbeat) finishes' "$?;$(cat slow.err)" "0;"
is '... applied' "$(pg_q "select count(*) from strata_migrations where name = 'Slow'")" 1
done_testing
