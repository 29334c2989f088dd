#!/usr/bin/env bash
# A transaction:false section runs statement by statement, cut as build cuts it: a CREATE
# FUNCTION with a BEGIN ATOMIC body is one statement (as psql reads it), not split at its ';'.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg
mig m 1-Atomic.sql '-- migrate:up transaction:false\ncreate table t (x int);\ncreate function two() returns int language sql\nbegin atomic\n  select 1;\n  select 2;\nend;\ncreate index concurrently t_x on t (x);\n-- migrate:down\ndrop function two();\ndrop table t;\n'
check 'a BEGIN ATOMIC function in a transaction:false section' 0 '^applied 1 migration' '^$' \
	strata --database-url "$DB_URL" migrations run --dir m
is '... the function works' "$(pg_q 'select two()')" 2
is '... the index was built' "$(pg_q "select count(*) from pg_indexes where indexname = 't_x'")" 1
is '... recorded with its 3 statements' "$(pg_q "select status || ' ' || progress from strata_migrations")" 'applied 3'
mig m 2-Fails.sql '-- migrate:up transaction:false\ncreate table u (x int);\ncreate function three() returns int language sql\nbegin atomic\n  select 3;\nend;\nselect nope;\n'
check 'a failure after it names the right statement' 1 '' \
	'^strata: 2-Fails is transaction:false: statement 3 of 3 failed, the 2 before it stay done, and it is recorded as failed$' \
	strata --database-url "$DB_URL" migrations run --dir m
like '... at its line' "$err" '^strata: error: m/2-Fails\.sql:7:8: column "nope" does not exist \[42703\]$'
done_testing
