#!/usr/bin/env bash
# strata seed makes the same checks as 'migrations run' before it applies or loads anything.
. "$(dirname "$0")/lib.sh"

scenario() {
	local k=$1
	new_db "$k"
	mkdir -p src/migrations
	mig src/migrations 1-A.sql '-- migrate:up\ncreate table a (x int primary key);\n-- migrate:down\ndrop table a;\n'
	mig src/migrations 3-C.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
	printf '{"a": [{"x": 1}]}\n' >seed.json
	check "$k: build" 0 '' '' strata build
	check "$k: seed applies the migrations, then loads" 0 'seeded 1 row' '' \
		strata --database-url "$DB_URL" seed -f seed.json
	# a merged branch: an older pending migration
	mig src/migrations 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
	printf '{"a": [{"x": 2}]}\n' >seed2.json
	check "$k: ... refuses a stale build (the new file is not built yet)" 1 '' \
		'src/migrations/2-B.sql: migration is not built yet' \
		strata --database-url "$DB_URL" seed -f seed2.json
	like "$k: ... saying nothing was applied or seeded" "$err" '^strata: nothing was applied or seeded$'
	strata build >/dev/null 2>&1
	check "$k: ... and, built, an out-of-order migration" 1 '' '1 pending migration is out of order' \
		strata --database-url "$DB_URL" seed -f seed2.json
	is "$k: ... nothing seeded" "$(dbq 'select count(*) from a')" 1
	is "$k: ... nothing applied" "$(db_history)" "1-A,3-C"
	# an applied migration edited after it ran
	rm src/migrations/2-B.sql
	mig src/migrations 1-A.sql '-- migrate:up\ncreate table a (x int primary key, y int);\n-- migrate:down\ndrop table a;\n'
	strata build >/dev/null 2>&1
	check "$k: ... and an applied migration that changed" 1 '' 'applied migration 1-A was changed after it was applied' \
		strata --database-url "$DB_URL" seed -f seed2.json
	is "$k: ... nothing seeded" "$(dbq 'select count(*) from a')" 1
	rm -rf src dist seed.json seed2.json
}
each_db scenario

# the settings come from the same place as for 'migrations run': a bad one names its key
new_db sqlite
mkdir -p m && printf '{"a": []}\n' >s.json
printf '{"lock_timeout": "5s", "statement_timeout": "soon"}\n' >strata.json
check 'seed: a bad statement_timeout in strata.json names that key' 1 '^$' \
	"^strata: error: strata.json: bad value 'soon' for 'statement_timeout' in the config$" \
	strata --database-url "$DB_URL" seed -f s.json --dir m
rm -f strata.json
done_testing
