#!/usr/bin/env bash
# Out-of-order policy (issue 4, item 4), on SQLite and PostgreSQL: a pending migration older
# than the newest applied one (a merged branch) is refused, naming the files, and nothing is
# applied; `migrations validate` reports it; --allow-out-of-order applies it and the history's
# out_of_order column records which ones ran out of order.
. "$(dirname "$0")/lib.sh"

proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
# ooo: the history as version:out_of_order (0/1), in version order
ooo() {
	dbq "select version || ':' || (case when out_of_order then 1 else 0 end) from strata_migrations order by cast(version as integer)" | paste -sd, -
}

scenario() {
	local k=$1
	new_db "$k"
	proj "ooo-$k"
	tbl 100 a
	tbl 300 c
	strata build >/dev/null
	check "$k: apply 100 and 300" 0 '^applied 2 migrations' '^$' strata migrations run

	# one migration from a merged branch, older than 300, and a new one after it
	tbl 200 b
	tbl 400 d
	strata build >/dev/null
	check "$k: a pending migration older than the newest applied is refused" 1 '^$' \
		'^strata: error: src/migrations/200-b\.sql: 1 pending migration is out of order$' \
		strata migrations run
	like "$k: ... detail names it and the newest applied" "$err" \
		'^detail: 200-b is older than 300-c, the newest applied migration$'
	like "$k: ... hint gives --allow-out-of-order" "$err" '^hint: .*then run with --allow-out-of-order$'
	like "$k: ... nothing was applied" "$err" '^strata: nothing was applied$'
	is "$k: ... not even the in-order 400" "$(db_history)" 100-a,300-c
	check "$k: validate reports it" 1 '^$' '^strata: 1 problem found$' strata migrations validate
	like "$k: ... naming the file" "$err" '^strata: error: src/migrations/200-b\.sql: 1 pending migration is out of order$'
	check "$k: --dry-run refuses too" 1 '^$' 'out of order' strata migrations run --dry-run

	# two from the branch: each file is named
	tbl 50 z
	strata build >/dev/null
	check "$k: two out-of-order migrations are refused" 1 '^$' \
		'^strata: error: src/migrations/50-z\.sql: 2 pending migrations are out of order$' \
		strata migrations run
	like "$k: ... the error names 50-z" "$err" '50-z'
	like "$k: ... and names 200-b too (issue 4: \"listing the files\")" "$err" '200-b'
	is "$k: ... nothing applied" "$(db_history)" 100-a,300-c

	check "$k: --allow-out-of-order applies them" 0 \
		'^  applied   50-z ' '^$' strata migrations run --allow-out-of-order
	is "$k: ... in version order" "$(printf '%s\n' "$out" | awk '/^  applied / {print $2}' | paste -sd, -)" 50-z,200-b,400-d
	is "$k: ... history" "$(db_history)" 50-z,100-a,200-b,300-c,400-d
	is "$k: ... out_of_order is true for 50 and 200 only" "$(ooo)" 50:1,100:0,200:1,300:0,400:0
	is "$k: ... the tables exist" "$(db_tables)" a,b,c,d,strata_migrations,z
	check "$k: validate is clean afterwards" 0 '^ok: 5 migrations; .* 0 pending, in order ' '^$' \
		strata migrations validate
	check "$k: show lists them all applied" 0 '^5 migrations: 5 applied, 0 pending ' '^$' \
		strata migrations show
	cd "$TEST_DIR"
}

each_db scenario
done_testing
