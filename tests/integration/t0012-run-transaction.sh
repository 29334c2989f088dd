#!/usr/bin/env bash
# migrations run --transaction all (one failure rolls back the whole run) vs each (the default:
# the migrations before the failing one stay applied).
. "$(dirname "$0")/lib.sh"

scenario() {
	local k=$1 d=m_$1
	mig "$d" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$d" 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
	mig "$d" 3-C.sql '-- migrate:up\ncreate table c (x int);\ninsert into nope values (1);\n-- migrate:down\ndrop table c;\n'
	mig "$d" 4-D.sql '-- migrate:up\ncreate table d (x int);\n-- migrate:down\ndrop table d;\n'

	new_db "$k"
	check "$k: --transaction all: a failure in the 3rd fails the run" 1 \
		"^applying 4 migrations to $(req "$DB_DISPLAY") in one transaction\$" \
		"^strata: error: $d/3-C.sql:3:[0-9]+: .*nope" \
		strata --database-url "$DB_URL" migrations run --dir "$d" --transaction all
	like "$k: ... says the whole run was rolled back" "$err" \
		'^strata: apply 3-C failed; the whole run was rolled back, nothing changed$'
	unlike "$k: ... and no summary line" "$out" '^applied [0-9]+ migration'
	is "$k: ... nothing is applied (no a, b or c)" "$(db_tables)" "strata_migrations"
	is "$k: ... the history is empty" "$(db_history)" ""

	new_db "$k"
	check "$k: --transaction each: a failure in the 3rd fails the run" 1 \
		'^  applied   2-B ' "^strata: error: $d/3-C.sql:3:[0-9]+: .*nope" \
		strata --database-url "$DB_URL" migrations run --dir "$d" --transaction each
	like "$k: ... says 3-C was rolled back" "$err" '^strata: 3-C was rolled back$'
	like "$k: ... and that the two before it stay" "$err" \
		'^strata: the 2 migrations applied before it stay applied$'
	unlike "$k: ... 4-D was not attempted" "$out" '4-D'
	is "$k: ... the first two stay, c is rolled back, d never ran" "$(db_tables)" "a,b,strata_migrations"
	is "$k: ... history" "$(db_history)" "1-A,2-B"

	# the default is each
	new_db "$k"
	check "$k: default (each): the first two stay" 1 '' 'strata: 3-C was rolled back' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... history" "$(db_history)" "1-A,2-B"

	check "$k: --transaction with a bad value is a usage error" 2 '^$' \
		"--transaction is 'each' or 'all', not 'some'" \
		strata --database-url "$DB_URL" migrations run --dir "$d" --transaction some

	# --transaction all and a transaction:false migration refuse to mix, before running anything
	local t=tf_$k
	mig "$t" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$t" 2-NoTx.sql '-- migrate:up transaction:false\ncreate table n (x int);\n-- migrate:down\ndrop table n;\n'
	new_db "$k"
	check "$k: --transaction all with a transaction:false migration fails" 1 '' \
		"^strata: error: $t/2-NoTx.sql: 2-NoTx is marked transaction:false and cannot run inside one transaction" \
		strata --database-url "$DB_URL" migrations run --dir "$t" --transaction all
	like "$k: ... with a hint" "$err" '^hint: run with --transaction each$'
	is "$k: ... nothing was applied" "$(db_tables);$(db_history)" "strata_migrations;"
	check "$k: ... the same run with the default (each) works" 0 \
		'^applied 2 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$t"
	is "$k: ... history" "$(db_history)" "1-A,2-NoTx"

	# a good run in one transaction
	local g=good_$k
	mig "$g" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$g" 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
	new_db "$k"
	check "$k: --transaction all in a good run applies everything" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$g" --transaction all
	is "$k: ... stdout" "$(printf '%s\n' "$out" | norm)" "applying 2 migrations to $DB_DISPLAY in one transaction
  applied   1-A  T
  applied   2-B  T
applied 2 migrations in T"
	is "$k: ... tables and history" "$(db_tables);$(db_history)" "a,b,strata_migrations;1-A,2-B"
}

each_db scenario
done_testing
