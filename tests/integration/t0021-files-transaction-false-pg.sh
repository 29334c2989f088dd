#!/usr/bin/env bash
# '-- migrate:up transaction:false' on PostgreSQL: CREATE INDEX CONCURRENTLY works with it, and
# fails cleanly (rolled back, located) without it.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg

mig m 1-Table.sql '-- migrate:up\ncreate table t (x int);\ninsert into t select generate_series(1, 100);\n-- migrate:down\ndrop table t;\n'
mig m 2-Idx.sql '-- migrate:up transaction:false\ncreate index concurrently t_x on t (x);\n-- migrate:down transaction:false\ndrop index concurrently t_x;\n'
check 'dry run marks the migration [transaction:false]' 0 \
	'^-- apply 2-Idx \(m/2-Idx.sql\) \[transaction:false\]$' 'would be applied' \
	strata --database-url "$DB_URL" migrations run --dir m --dry-run
check 'CREATE INDEX CONCURRENTLY under transaction:false works' 0 '^  applied   2-Idx ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir m
is '... the index exists and is valid' \
	"$(pg_q "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 't_x'")" t
is '... history' "$(db_history)" "1-Table,2-Idx"
check 'revert with a transaction:false down section (DROP INDEX CONCURRENTLY)' 0 \
	'^  reverted  2-Idx ' '^$' strata --database-url "$DB_URL" migrations revert --dir m
is '... the index is gone' "$(pg_q "select count(*) from pg_class where relname = 't_x'")" 0
is '... history' "$(db_history)" "1-Table"
rm m/2-Idx.sql

# without transaction:false it fails cleanly: rolled back, located, history unchanged
mig m 3-IdxBad.sql '-- migrate:up\ncreate table u (x int);\ncreate index concurrently u_x on u (x);\n-- migrate:down\ndrop table u;\n'
check 'CREATE INDEX CONCURRENTLY in a transaction fails' 1 '^applying 1 migration to ' \
	'^strata: error: m/3-IdxBad.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction block \[25001\]$' \
	strata --database-url "$DB_URL" migrations run --dir m
like '... shows the line' "$err" '^     3 \| create index concurrently u_x on u \(x\);$'
like '... says it was rolled back' "$err" '^strata: 3-IdxBad was rolled back$'
is '... the table it created first was rolled back' "$(pg_q "select to_regclass('u') is null")" t
is '... history unchanged' "$(db_history)" "1-Table"
is '... no transaction left open, no lock left (a new run can take it)' \
	"$(pg_q "select count(*) from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory'")" 0
rm m/3-IdxBad.sql

# a transaction:false migration that fails half-way keeps what it did and is recorded as failed
mig m 4-Half.sql '-- migrate:up transaction:false\ncreate table v (x int);\nselect 1/0;\ncreate table w (x int);\n-- migrate:down\ndrop table v;\n'
check 'a failing transaction:false migration' 1 '' \
	'^strata: error: m/4-Half.sql:3:1: division by zero \[22012\]$' \
	strata --database-url "$DB_URL" migrations run --dir m
like '... says which statement failed and that it is recorded as failed' "$err" \
	'^strata: 4-Half is transaction:false: statement 2 of 3 failed, the 1 before it stay done, and it is recorded as failed$'
like '... and how to recover' "$err" "^hint: fix the file and run 'strata migrations repair' to resume from statement 2"
is '... its first statement stays done' "$(pg_q "select to_regclass('v') is not null")" t
is '... the history records it failed before statement 2' \
	"$(pg_q "select status || ' ' || progress from strata_migrations where name = 'Half'")" "failed 1"
check 'run refuses to go on past a failed migration' 1 '^$' \
	'^strata: error: m/4-Half.sql: migration 4-Half is failed$' \
	strata --database-url "$DB_URL" migrations run --dir m
check 'show lists it as failed' 0 '^failed +4 +Half ' '^$' \
	strata --database-url "$DB_URL" migrations show --dir m
mig m 4-Half.sql '-- migrate:up transaction:false\ncreate table v (x int);\nselect 1;\ncreate table w (x int);\n-- migrate:down\ndrop table w;\ndrop table v;\n'
check 'repair resumes the fixed file from the failed statement' 0 \
	'^resuming 4-Half from statement 2$' '^$' \
	strata --database-url "$DB_URL" migrations repair --dir m
is '... the first statement did not run twice, the rest ran' \
	"$(pg_q "select to_regclass('w') is not null")" t
is '... now applied' "$(pg_q "select status from strata_migrations where name = 'Half'")" applied
check 'repair with nothing failed' 0 '^nothing to repair' '^$' \
	strata --database-url "$DB_URL" migrations repair --dir m
check '... and revert undoes it' 0 '^  reverted  4-Half ' '^$' \
	strata --database-url "$DB_URL" migrations revert --dir m
# repair --mark-applied: the user fixed the database by hand
mig m 4-Half.sql '-- migrate:up transaction:false\ncreate table v (x int);\nselect 1/0;\n-- migrate:down\ndrop table v;\n'
check 'fails again' 1 '' 'division by zero' strata --database-url "$DB_URL" migrations run --dir m
check 'repair --mark-applied records it' 0 '^marked 4-Half as applied' '^$' \
	strata --database-url "$DB_URL" migrations repair --dir m --mark-applied
is '... applied' "$(db_history)" "1-Table,4-Half"
check '... and revert works' 0 '^  reverted  4-Half ' '^$' \
	strata --database-url "$DB_URL" migrations revert --dir m
rm m/4-Half.sql

# golang-migrate files mark it with a leading '-- strata:no-transaction' comment
mig m 5_idx.up.sql '-- strata:no-transaction\ncreate index concurrently t_x5 on t (x);\n'
mig m 5_idx.down.sql '-- strata:no-transaction\ndrop index concurrently t_x5;\n'
check 'a .up.sql with -- strata:no-transaction runs CONCURRENTLY' 0 '^  applied   5-idx ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir m
is '... index exists' "$(pg_q "select count(*) from pg_class where relname = 't_x5'")" 1
check '... and its .down.sql reverts it' 0 '^  reverted  5-idx ' '^$' \
	strata --database-url "$DB_URL" migrations revert --dir m
is '... index gone' "$(pg_q "select count(*) from pg_class where relname = 't_x5'")" 0
done_testing
