#!/usr/bin/env bash
# Lock and statement timeouts on PostgreSQL (issue 4, item 6), against a real blocking session:
# an ALTER TABLE that cannot get its lock fails with 55P03 after the retries, names the session
# holding the lock (pid, application, state, query) and applies nothing; with the default
# retries a short blocker is outlasted; --statement-timeout cancels a slow statement (57014) and
# rolls the migration back.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg
printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json

# blocker SECONDS: a psql session (application "blocker") holding ACCESS SHARE on t for SECONDS,
# in the background; returns once it holds the lock (polling pg_locks). Sets BLOCKER_PID (the
# server pid) and BLOCKER_JOB.
blocker() {
	PGAPPNAME=blocker "$PSQL" -X -q -d "$PG_DB" -c 'begin' -c 'lock table t in access share mode' \
		-c "select pg_sleep($1)" >/dev/null 2>&1 &
	BLOCKER_JOB=$!
	until_true 400 blocker_locked || bail "the blocking session never got its lock"
}
blocker_locked() {
	BLOCKER_PID=$(pg_q "select l.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.application_name = 'blocker' and l.relation = 't'::regclass and l.granted and a.query like 'select pg_sleep%'")
	[ -n "$BLOCKER_PID" ]
}
# unblock: ends the blocking session (if still there) and reaps its psql
unblock() {
	pg_q "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'blocker'" >/dev/null
	wait "$BLOCKER_JOB" 2>/dev/null
}
has_y() { pg_q "select count(*) from information_schema.columns where table_name = 't' and column_name = 'y'"; }

mig m 1-T.sql '-- migrate:up\ncreate table t (x int);\n-- migrate:down\ndrop table t;\n'
mig m 2-Alter.sql '-- migrate:up\ncreate table made (x int);\nalter table t add column y int;\n-- migrate:down\nalter table t drop column y;\ndrop table made;\n'
check 'apply 1-T' 0 '^  applied   1-T ' '^$' strata migrations run --dir m --to 1

blocker 30 # ended by unblock below
check 'ALTER TABLE behind a blocking session: lock timeout after 1 retry' 1 '^applying 1 migration to ' \
	'^strata: error: m/2-Alter\.sql:3:1: canceling statement due to lock timeout \[55P03\]$' \
	strata migrations run --dir m --lock-timeout 200ms --lock-retries 1
like '... one retry note on stderr' "$err" \
	'^strata: 2-Alter hit the lock timeout and was rolled back; retrying in 500\.0 ms$'
is '... only one' "$(printf '%s\n' "$err" | grep -c 'retrying')" 1
like '... detail names the blocking session: pid, application, state, query' "$err" \
	"^detail: locks held by pid $BLOCKER_PID \(blocker, active, AccessShareLock on t\): select pg_sleep\(30\)$"
like '... hint' "$err" '^hint: another session holds a lock this migration needs \(retried with backoff\); end that session, or raise --lock-timeout$'
like '... rolled back' "$err" '^strata: 2-Alter was rolled back$'
is '... nothing applied: history' "$(db_history)" 1-T
is '... no column y, no table made' "$(has_y) $(pg_q "select to_regclass('made') is null")" '0 t'
is '... no lock left behind (advisory or on t)' \
	"$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and (locktype = 'advisory' or (relation = 't'::regclass and pid <> $BLOCKER_PID))")" 0
check '--lock-retries 0: no retry' 1 '' '55P03' \
	strata migrations run --dir m --lock-timeout 200ms --lock-retries 0
unlike '... no retry note' "$err" 'retrying'
like '... the hint does not claim retries' "$err" '^hint: another session holds a lock this migration needs; end that session'
is '... nothing applied' "$(db_history) $(has_y)" '1-T 0'
unblock

# a 2 s blocker, 200 ms lock timeout, default 3 retries (0.5 s, 1 s, 2 s): outlasted
blocker 2
check 'the default retries outlast a short blocker' 0 '^  applied   2-Alter ' \
	'^strata: 2-Alter hit the lock timeout and was rolled back; retrying in 500\.0 ms$' \
	strata migrations run --dir m --lock-timeout 200ms
is '... applied' "$(db_history) $(has_y)" '1-T,2-Alter 1'
is '... the table made in the same migration exists once' "$(pg_q "select to_regclass('made') is not null")" t
unblock

# statement timeout
mig m 3-Slow.sql '-- migrate:up\ncreate table slow_made (x int);\nselect pg_sleep(0.6);\n-- migrate:down\ndrop table slow_made;\n'
check '--statement-timeout cancels a slow statement' 1 '^applying 1 migration' \
	'^strata: error: m/3-Slow\.sql:3:1: canceling statement due to statement timeout \[57014\]$' \
	strata migrations run --dir m --statement-timeout 100ms
like '... rolled back' "$err" '^strata: 3-Slow was rolled back$'
unlike '... not retried' "$err" 'retrying'
is '... nothing applied' "$(db_history) $(pg_q "select to_regclass('slow_made') is null")" '1-T,2-Alter t'
check 'without it the migration runs' 0 '^  applied   3-Slow ' '^$' strata migrations run --dir m
is '... applied' "$(db_history)" 1-T,2-Alter,3-Slow
done_testing
