#!/usr/bin/env bash
# migrations show --exit-code: 3 when a migration is pending, 4 when one failed part-way (a
# transaction:false migration recorded as failed, which `run` refuses to go past); 4 wins.
. "$(dirname "$0")/lib.sh"

scenario() {
	local k=$1 d=x_$1
	new_db "$k"
	mig "$d" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$d" 2-Half.sql '-- migrate:up transaction:false\ncreate table half (x int);\ninsert into nope values (1);\n-- migrate:down\n'
	mig "$d" 3-C.sql '-- migrate:up\ncreate table c (x int);\n'
	check "$k: 2-Half fails part-way" 1 '' 'is recorded as failed' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	check "$k: show --exit-code exits 4, not 3, with one failed and one pending" 4 \
		'^3 migrations: 1 applied, 1 pending, 1 failed part-way \(see '"'"'strata migrations repair'"'"'\)' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --exit-code
	check "$k: ... --json too" 4 '"failed": 1' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --exit-code --json
	check "$k: without --exit-code, 0" 0 '1 failed part-way' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	check "$k: run refuses to go on" 1 '' 'migration 2-Half is failed' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	check "$k: repair --mark-applied" 0 '^marked 2-Half as applied' '^$' \
		strata --database-url "$DB_URL" migrations repair --dir "$d" --mark-applied
	check "$k: then show --exit-code exits 3 (one pending)" 3 '1 pending' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --exit-code
	check "$k: the help documents both codes" 0 '3 pending migrations, 4 a migration failed part-way \(--exit-code\)' '^$' \
		strata migrations show --help
}
each_db scenario
done_testing
