#!/usr/bin/env bash
# transaction:false on PostgreSQL only (issue 4, item 5): a failed CREATE UNIQUE INDEX
# CONCURRENTLY leaves an INVALID index, which the error names with the DROP INDEX CONCURRENTLY
# to run; repair after dropping it and fixing the data works. And a migration whose connection
# is lost part-way keeps its progress, so repair resumes after the statements that ran.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg
printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json

# valid NAME: the index's indisvalid (t/f), or empty if there is none
valid() { pg_q "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = '$1'"; }
row() { pg_q "select status || '|' || progress from strata_migrations where name = '$1'"; }

mig m 1-T.sql '-- migrate:up\ncreate table t (x int);\ninsert into t values (1), (2), (2);\ncreate table log (x int);\n-- migrate:down\ndrop table log;\ndrop table t;\n'
mig m 2-Uniq.sql '-- migrate:up transaction:false\ncreate table side (x int);\ncreate unique index concurrently t_x_uq on t (x);\ncreate table after_idx (x int);\n-- migrate:down transaction:false\ndrop table after_idx;\ndrop index concurrently t_x_uq;\ndrop table side;\n'
check 'CREATE UNIQUE INDEX CONCURRENTLY on duplicate data fails' 1 '^  applied   1-T ' \
	'^strata: error: m/2-Uniq\.sql:3:1: could not create unique index "t_x_uq" \[23505\]$' \
	strata migrations run --dir m
like '... detail: the duplicate key' "$err" '^detail: Key \(x\)=\(2\) is duplicated\.$'
like '... hint names the INVALID index and the DROP INDEX CONCURRENTLY to run' "$err" \
	"^hint: the failed statement left index t_x_uq INVALID: run 'DROP INDEX CONCURRENTLY t_x_uq;', fix the file, then 'strata migrations repair'$"
like '... statement 2 of 3, recorded as failed' "$err" \
	'^strata: 2-Uniq is transaction:false: statement 2 of 3 failed, the 1 before it stay done, and it is recorded as failed$'
is '... the index is there and INVALID' "$(valid t_x_uq)" f
is '... history: failed at progress 1' "$(row Uniq)" 'failed|1'
is '... statement 1 done, statement 3 not' \
	"$(pg_q "select to_regclass('side') is not null, to_regclass('after_idx') is null")" 't|t'

pg_q 'delete from t where ctid = (select max(ctid) from t where x = 2)' >/dev/null
check 'repair with the INVALID index still there fails again' 1 '^resuming 2-Uniq from statement 2$' \
	'^strata: error: m/2-Uniq\.sql:3:1: relation "t_x_uq" already exists \[42P07\]$' \
	strata migrations repair --dir m
like '... and names the INVALID index again' "$err" "^hint: the failed statement left index t_x_uq INVALID: run 'DROP INDEX CONCURRENTLY t_x_uq;'"
is '... still failed at progress 1' "$(row Uniq)" 'failed|1'
pg_q 'drop index concurrently t_x_uq' >/dev/null
check 'repair after dropping the index and fixing the data' 0 '^resuming 2-Uniq from statement 2$' '^$' \
	strata migrations repair --dir m
like '... applied' "$out" '^  applied   2-Uniq '
is '... the index is valid' "$(valid t_x_uq)" t
is '... applied, progress 3; statement 3 ran' "$(row Uniq) $(pg_q "select to_regclass('after_idx') is not null")" 'applied|3 t'
is '... no INVALID index left' "$(pg_q 'select count(*) from pg_index where not indisvalid')" 0
check '... and it reverts (transaction:false down section)' 0 '^  reverted  2-Uniq ' '^$' \
	strata migrations revert --dir m
is '... index and tables gone' "$(pg_q "select to_regclass('t_x_uq') is null and to_regclass('side') is null")" t
rm m/2-Uniq.sql

# the connection is lost at statement 2: statement 1 is done, so the progress must say so
mig m 3-Lost.sql '-- migrate:up transaction:false\ninsert into log values (1);\nselect pg_terminate_backend(pg_backend_pid());\ncreate table lost3 (x int);\n-- migrate:down\ndrop table lost3;\n'
check 'a transaction:false migration whose connection is lost at statement 2' 1 '' \
	'^strata: error: m/3-Lost\.sql:3:1: terminating connection due to administrator command' \
	strata migrations run --dir m
is '... statement 1 ran' "$(pg_q 'select count(*) from log')" 1
is '... the history row says statement 1 is done (status running, progress 1)' "$(row Lost)" 'running|1'
check 'run refuses while it is unfinished' 1 '^$' '^strata: error: m/3-Lost\.sql: migration 3-Lost is running$' \
	strata migrations run --dir m
mig m 3-Lost.sql '-- migrate:up transaction:false\ninsert into log values (1);\nselect 2;\ncreate table lost3 (x int);\n-- migrate:down\ndrop table lost3;\n'
check 'repair resumes the fixed file' 0 '^resuming 3-Lost from statement 2$' '^$' \
	strata migrations repair --dir m
is '... statement 1 did not run a second time' "$(pg_q 'select count(*) from log')" 1
is '... applied' "$(row Lost | cut -d'|' -f1) $(pg_q "select to_regclass('lost3') is not null")" 'applied t'
done_testing
