#!/usr/bin/env bash
# The lock-timeout report names the blocking session even when it belongs to another role (as
# in production): its pid, role, application and the locks it holds come from pg_locks, which
# every role sees, and the report says that its query is hidden. A transaction:false migration
# that timed out on a lock is not blamed on its file: the hint points at repair and
# --lock-timeout.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg
H=${PGHOST}
case $H in /*) H=localhost ;; esac
A=strata_a_$$ B=strata_b_$$
trap 'for r in $A $B; do "$PSQL" -X -q -d "$PG_DB" -c "drop owned by $r cascade" >/dev/null 2>&1; "$PSQL" -X -q -d postgres -c "drop role if exists $r" >/dev/null 2>&1; done; _cleanup' EXIT
"$PSQL" -X -q -d postgres -c "create role $A login password 'pa'" -c "create role $B login password 'pb'" >/dev/null ||
	bail "cannot create roles"
pg_q "create table t (x int); alter table t owner to $A; grant select on t to $B; grant create on schema public to $A" >/dev/null
URL_A="postgres://$A:pa@$H:${PGPORT:-5432}/$PG_DB"

# blocker: role B holds ACCESS SHARE on t, in a transaction, in the background
PGAPPNAME=reporting PGPASSWORD=pb "$PSQL" -X -q -h "$H" -U "$B" -d "$PG_DB" -c 'begin' \
	-c 'select count(*) from t' -c 'select pg_sleep(60)' >/dev/null 2>&1 &
job=$!
blocker_started() {
	BPID=$(pg_q "select pid from pg_stat_activity where application_name = 'reporting' and query like 'select pg_sleep%'")
	[ -n "$BPID" ]
}
until_true 400 blocker_started || bail "the blocking session never started"

mig m 1-Alter.sql '-- migrate:up\nalter table t add column y int;\n-- migrate:down\nalter table t drop column y;\n'
check "role A's ALTER behind role B's reader times out" 1 '' \
	'^strata: error: m/1-Alter\.sql:2:1: canceling statement due to lock timeout \[55P03\]$' \
	strata --database-url "$URL_A" migrations run --dir m --lock-timeout 100ms --lock-retries 0
like '... the detail names the other role'"'"'s session and its lock, and says its query is hidden' "$err" \
	"^detail: locks held by pid $BPID \\(role $B, reporting, AccessShareLock on t\\): its query is hidden from this role \\(another role's session; pg_read_all_stats shows it\\)\$"
like '... the hint' "$err" '^hint: another session holds a lock this migration needs; end that session, or raise --lock-timeout$'

mig n 1-Nt.sql '-- migrate:up transaction:false\ncreate table u (x int);\nalter table t add column z int;\n-- migrate:down\n'
check 'a transaction:false migration that timed out on a lock' 1 '' \
	'^strata: error: n/1-Nt\.sql:3:1: canceling statement due to lock timeout \[55P03\]$' \
	strata --database-url "$URL_A" migrations run --dir n --lock-timeout 100ms
like '... names the blocker too' "$err" "^detail: locks held by pid $BPID \\(role $B, reporting, AccessShareLock on t\\): "
like '... says it timed out waiting for a lock' "$err" \
	'^strata: 1-Nt is transaction:false: statement 2 of 2 timed out waiting for a lock, the 1 before it stay done, and it is recorded as failed$'
like '... the hint does not blame the file; it points at repair and --lock-timeout' "$err" \
	"^hint: the file is fine: once the session holding the lock is gone \\(see the detail\\), 'strata migrations repair' resumes from statement 2; or wait longer for it with --lock-timeout\$"
unlike '... no "fix the file"' "$err" 'fix the file'
pg_q "select pg_terminate_backend($BPID)" >/dev/null
wait "$job" 2>/dev/null
check 'once the blocker is gone, repair resumes it' 0 '^resuming 1-Nt from statement 2' '' \
	strata --database-url "$URL_A" migrations repair --dir n
done_testing
