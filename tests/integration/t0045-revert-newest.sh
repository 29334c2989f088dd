#!/usr/bin/env bash
# migrations revert of the newest few from a build (issue 15: memory that does not grow with the
# history), on SQLite and PostgreSQL. It reads of the history only those rows and the highest
# versions, and of the build only the migrations they name (its manifest read entry by entry).
# Shown by -v's counts, and by the same reverts and messages as the full read (of the sources,
# --dir src/migrations, which has no manifest) on a twin database.
. "$(dirname "$0")/lib.sh"

proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }

# both NAME ARGS...: the same revert on the twin database through the full read (twin_same)
both() { twin_same "$1" "$TWIN" "${@:2}"; }

scenario() {
	local k=$1 v agg
	new_db "$k"
	TWIN=$DB_URL
	new_db "$k" # the one dbq queries, and strata.json's
	proj "p-$k"
	for v in 1 2 3 4 5 6 7 8 9; do tbl "$v" "t$v"; done
	check "$k: build" 0 '^built 9 migrations' '^$' strata build
	for u in "$DB_URL" "$TWIN"; do
		check "$k: run" 0 '^applied 9 migrations' '^$' strata --database-url "$u" migrations run
	done
	tbl 11 t11
	tbl 12 t12
	check "$k: build 11 and 12" 0 '^built 11 migrations' '^$' strata build
	for u in "$DB_URL" "$TWIN"; do
		check "$k: run them in one transaction" 0 '^applied 2 migrations' '^$' \
			strata --database-url "$u" migrations run --transaction all
	done
	tbl 10 t10
	check "$k: build 10" 0 '^built 12 migrations' '^$' strata build
	for u in "$DB_URL" "$TWIN"; do
		check "$k: run it out of order" 0 '^applied 1 migration' '^$' \
			strata --database-url "$u" migrations run --allow-out-of-order
	done

	check "$k: revert: the one applied last, though 12 and 11 are higher" 0 \
		'^  reverted  10-t10 ' '^strata: reverting 10-t10, the most recently applied; 12-t12 has a higher version$' \
		strata migrations revert
	both "$k: revert" migrations revert
	check "$k: again" 0 '^applied 1 migration' '^$' strata migrations run --allow-out-of-order
	check "$k: a dry run reads as little, without the lock" 0 \
		'^read the history \(3 rows\) in ' '' strata -v migrations revert --dry-run
	like "$k: ... and prints the down section of the one applied last" "$out" '^-- revert 10-t10 '
	check "$k: -v: of the history, that row and the two highest" 0 \
		'^locked in [0-9.]+ m?s; read the history \(3 rows\) in ' '' strata -v migrations revert
	like "$k: ... of the build, their migrations" "$out" \
		'^read 3 migrations from 1 directory \(listed by the build manifest\) in '
	check "$k: --steps 2: the two of one transaction, the higher version first" 0 \
		'^reverted 2 migrations in ' '' strata migrations revert --steps 2
	is "$k: ... 12, then 11" "$(printf '%s\n' "$out" | awk '$1 == "reverted" && NF == 4 {print $2}' | paste -sd, -)" \
		12-t12,11-t11
	both "$k: --steps 2" migrations revert --steps 2
	check "$k: --steps 3" 0 '^reverted 3 migrations in ' '^$' strata migrations revert --steps 3
	both "$k: --steps 3" migrations revert --steps 3
	if [ "$k" = pg ]; then agg="string_agg(name, ',')"; else agg="group_concat(name, ',')"; fi
	is "$k: ... the history left" \
		"$(dbq "select $agg from (select name from strata_migrations order by length(version), version) t")" \
		t1,t2,t3,t4,t5,t6

	# a newest row that is not applied, or that no file of the build has: refused, as before
	dbq "update strata_migrations set status = 'failed' where version = '6'" >/dev/null
	check "$k: the newest is failed: refused" 1 '' \
		'cannot revert 6-t6: it is failed, not applied' strata migrations revert
	dbq "update strata_migrations set status = 'applied' where version = '6'" >/dev/null
	dbq "insert into strata_migrations (version, name, checksum) values ('99', 'gone', 'x')" >/dev/null
	check "$k: the newest is in no file: refused" 1 '' \
		'cannot revert 99-gone: it is applied but its file is not in the migration directories' \
		strata migrations revert
	dbq "delete from strata_migrations where version = '99'" >/dev/null
	check "$k: --steps 10, more than are applied: all six" 0 '^reverted 6 migrations in ' '^$' \
		strata migrations revert --steps 10
	check "$k: then nothing to revert" 0 '' '' strata migrations revert
	like "$k: ... says so" "$out$err" 'nothing to revert'
	new_db "$k"
	check "$k: a database without a history table: nothing to revert" 0 '' '' \
		strata --database-url "$DB_URL" migrations revert
	like "$k: ... says so" "$out$err" 'nothing to revert'
}

each_db scenario
done_testing
