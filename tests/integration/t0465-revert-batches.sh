#!/usr/bin/env bash
# migrations revert --to VERSION and --all from a build, a batch of 256 at a time (issue 15:
# memory that does not grow with the history), on SQLite and PostgreSQL. Its checks come first,
# holding one migration and one history row at a time ("checked N migrations" with -v); then
# each batch is the history's newest rows and their files. Every case is run again on a twin
# database through the full read (the sources, --dir src/migrations, which has no manifest):
# the same exit, output and history. Where the checks doubt (an applied file edited, rows
# applied out of order, a version not applied, a migration that cannot be reverted) the full
# read decides. A dry run of each is batched too (each batch read past the rows it printed) and
# prints what the full read prints, changing nothing.
. "$(dirname "$0")/lib.sh"

N=300
tbl() { mig src/migrations "$1-t$1.sql" "-- migrate:up\ncreate table t$1 (x int);\n-- migrate:down\ndrop table t$1;\n"; }
# project NAME: a new project directory, the current one
project() { mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" || bail "no project"; }
# 20, whose down section fails once g20 has a row (the build's check, on empty tables, passes)
fails() {
	mig src/migrations 20-t20.sql '-- migrate:up\ncreate table t20 (x int);\ncreate table g20 (x int check (x < 2));\n-- migrate:down\nupdate g20 set x = x + 1;\ndrop table g20;\ndrop table t20;\n'
}
# g20_row: the row that makes 20's down section fail, on both databases
g20_row() {
	dbq "insert into g20 values (1)" >/dev/null
	if [ "$DB_KIND" = pg ]; then PG_DB=$TWIN_DB pg_q "insert into g20 values (1)"; else sq_q "$TWIN_FILE" "insert into g20 values (1)"; fi >/dev/null
}
FAILED='CHECK constraint failed|violates check constraint'
# 20 edited after it was applied: its down section drops g20, which the applied one never made
edited() {
	mig src/migrations 20-t20.sql '-- migrate:up\ncreate table t20 (x int);\ncreate table g20 (x int);\n-- migrate:down\ndrop table g20;\ndrop table t20;\n'
}
GONE='no such table|does not exist'
upto() { seq 1 "$1" | sed 's/.*/&-t&/' | paste -sd, -; }

# twins KIND: two fresh databases of KIND, the twin's URL in TWIN (and its name or file)
twins() {
	new_db "$1"
	TWIN=$DB_URL TWIN_DB=${PG_DB:-} TWIN_FILE=${DB_FILE:-}
	new_db "$1"
}
# both NAME EXIT ARGS...: strata ARGS on the database, then the same on the twin (twin_run)
both() { twin_run "$1" "$2" "$DB_URL" "$TWIN" "${@:3}"; }
# hist_same NAME: the history of the database and of the twin
hist_same() {
	local a b
	a=$(db_history)
	b=$(PG_DB=$TWIN_DB DB_FILE=$TWIN_FILE db_history)
	is "$1: ... the same history left on both" "$a" "$b"
}
# apply ARGS...: strata migrations run ARGS on both databases
apply() {
	local u
	for u in "$DB_URL" "$TWIN"; do
		run strata --database-url "$u" migrations run "$@"
		[ "$rc" = 0 ] || not_ok "run $* on $u: $err"
	done
}
batched() { like "$1" "$out" '^checked [0-9]+ migrations as the migrations and the history were read'; }
# dry NAME EXIT ARGS...: migrations revert ARGS --dry-run, which must exit EXIT, against the same
# through the full read (--dir src/migrations): the same exit, output (the files' directory
# aside) and notes; the history unchanged
dry() {
	local name=$1 want=$2 h o e c
	shift 2
	h=$(db_history)
	run strata --database-url "$DB_URL" migrations revert "$@" --dry-run
	is "$name: dry run: exit" "$rc" "$want"
	c=$rc o=$(sed 's#(dist/migrations/#(src/migrations/#' <<<"$out") e=$err
	run strata --database-url "$DB_URL" migrations revert "$@" --dry-run --dir src/migrations
	is "$name: dry run: ... as the full read: exit" "$c" "$rc"
	is "$name: dry run: ... stdout" "$o" "$out"
	is "$name: dry run: ... stderr" "$e" "$err"
	is "$name: dry run: ... nothing changed" "$(db_history)" "$h"
}
t_tables() { db_tables | tr , '\n' | grep -c '^t[0-9]'; }

scenario() {
	local k=$1 i
	twins "$k"
	project p-"$k"
	for i in $(seq 1 10); do tbl "$i"; done
	check "$k: build 10" 0 '^built 10 migrations' '^$' strata build
	apply
	for i in $(seq 11 "$N"); do tbl "$i"; done
	check "$k: build $N" 0 "^built $N migrations" '^$' strata build
	apply

	# --to: 290 migrations in two batches
	dry "$k: revert --to 10" 0 --to 10
	check "$k: -v dry run of --to 10: batched" 0 '^-- revert 11-t11 ' '' \
		strata -v --database-url "$DB_URL" migrations revert --to 10 --dry-run
	batched "$k: ... the checks' line"
	is "$k: ... every one printed, once" "$(grep -c '^-- revert ' <<<"$out")" 290
	dry "$k: revert --all" 0 --all
	check "$k: -v revert --to 10: checked first, then reverted a batch at a time" 0 \
		'^reverted 290 migrations in ' '' strata -v --database-url "$DB_URL" migrations revert --to 10
	batched "$k: ... the checks' line"
	like "$k: ... the last one reverted is 11" "$out" '^  reverted  11-t11 '
	is "$k: ... 10 left" "$(db_history)" "$(upto 10)"
	is "$k: ... and their tables" "$(t_tables)" 10
	apply
	both "$k: revert --to 10" 0 migrations revert --to 10
	hist_same "$k: revert --to 10"
	apply
	both "$k: revert --all" 0 migrations revert --all
	hist_same "$k: revert --all"
	is "$k: ... no table left" "$(t_tables)" 0

	# an applied file edited and built again: the checks doubt, the full read reverts down to it
	apply
	edited
	check "$k: build the edited 20" 0 "^built $N migrations" '^$' strata build
	dry "$k: revert --all, 20 edited" 0 --all
	both "$k: revert --all, 20 edited since it was applied" 1 migrations revert --all
	like "$k: ... 20 failed" "$err" "$GONE"
	is "$k: ... 1-20 left" "$(db_history)" "$(upto 20)"
	hist_same "$k: revert --all, 20 edited"
}
each_db scenario

# 20's down fails, as it was applied: the checks pass, 280 are reverted in two batches, then 20
# fails
fail_scenario() {
	local k=$1 i
	twins "$k"
	project f-"$k"
	for i in $(seq 1 "$N"); do tbl "$i"; done
	fails
	check "$k: build" 0 "^built $N migrations" '^$' strata build
	apply
	g20_row
	dry "$k: revert --all, 20 fails when run" 0 --all
	check "$k: -v revert --all: checked, then fails at 20" 1 '^  reverted  21-t21 ' "$FAILED" \
		strata -v --database-url "$DB_URL" migrations revert --all
	batched "$k: ... batched"
	like "$k: ... it names the file" "$err" 'src/migrations/20-t20\.sql'
	is "$k: ... 1-20 left" "$(db_history)" "$(upto 20)"
	apply
	both "$k: revert --all failing at 20" 1 migrations revert --all
	hist_same "$k: revert --all failing at 20"
	apply

	# applied out of order: 350 after 360. --to 350 keeps 350, applied after 360: the rows to
	# revert are not the newest, the checks doubt, the full read reverts 360 alone
	tbl 360
	check "$k: build 360" 0 '' '' strata build
	apply
	tbl 350
	check "$k: build 350" 0 '' '' strata build
	apply --allow-out-of-order
	dry "$k: --to 350, applied after 360" 0 --to 350
	dry "$k: --to 300, 350 applied after 360" 0 --to 300
	both "$k: --to 350, applied after 360" 0 migrations revert --to 350
	like "$k: ... 360 reverted" "$out" '^  reverted  360-t360 '
	hist_same "$k: --to 350"
	# 360 applied again, after 350: --to 300 reverts both, batched, 360 first
	apply
	check "$k: --to 300 after it: batched" 0 '^reverted 2 migrations in ' '' \
		strata -v --database-url "$DB_URL" migrations revert --to 300
	batched "$k: ... batched"
	is "$k: ... 360, then 350" "$(printf '%s\n' "$out" | awk '$1 == "reverted" && NF == 4 {print $2}' | paste -sd, -)" \
		360-t360,350-t350
	apply
	# 350 given 360's applied_at by hand, and on SQLite a place after it (its rowid): there 350
	# is the later (ties go by insertion), the checks doubt; on PostgreSQL 360 is (ties go by
	# version), batched. Either way 360 alone is reverted
	sametime() {
		if [ "$k" = pg ]; then
			PG_DB=$1 pg_q "update strata_migrations set applied_at = (select applied_at from strata_migrations where version = '360') where version = '350'"
		else
			sq_q "$2" "update strata_migrations set applied_at = (select applied_at from strata_migrations where version = '360'), rowid = (select max(rowid) + 1 from strata_migrations) where version = '350'"
		fi >/dev/null
	}
	sametime "${PG_DB:-}" "${DB_FILE:-}"
	sametime "$TWIN_DB" "$TWIN_FILE"
	dry "$k: --to 350, applied at the same time as 360" 0 --to 350
	both "$k: --to 350, applied at the same time as 360" 0 migrations revert --to 350
	like "$k: ... 360 reverted" "$out" '^  reverted  360-t360 '
	hist_same "$k: --to 350 at the same time"
	apply

	# a version not applied; a migration that cannot be reverted: refused before anything runs
	dry "$k: --to a version not applied" 1 --to 9999
	both "$k: --to a version not applied" 1 migrations revert --to 9999
	like "$k: ... said" "$err" 'version 9999 is not applied'
	mig src/migrations 400-t400.sql '-- migrate:up\ncreate table t400 (x int);\n'
	check "$k: build one with no down section" 0 '' '' strata build
	apply
	dry "$k: --to 300, 400 has no down section" 1 --to 300
	both "$k: --to 300, 400 has no down section" 1 migrations revert --to 300
	like "$k: ... said" "$err" 'cannot revert 400-t400'
	hist_same "$k: --to 300, 400 has no down section"
	is "$k: ... nothing reverted" "$(db_history)" "$(upto 300),350-t350,360-t360,400-t400"
}
each_db fail_scenario

# refused before anything runs, as the full read refuses, though the first batch could run: 5
# has no down section; 150 is not a version at all
refused_scenario() {
	local k=$1 i
	twins "$k"
	project r-"$k"
	for i in $(seq 1 "$N"); do [ "$i" = 150 ] || tbl "$i"; done
	mig src/migrations 5-t5.sql '-- migrate:up\ncreate table t5 (x int);\n'
	check "$k: build" 0 '' '' strata build
	apply
	both "$k: revert --all, 5 has no down section" 1 migrations revert --all
	like "$k: ... said" "$err" 'cannot revert 5-t5'
	is "$k: ... nothing reverted" "$(db_history | tr , '\n' | wc -l)" $((N - 1))
	both "$k: --to 150, not a version of the history" 1 migrations revert --to 150
	like "$k: ... said" "$err" 'version 150 is not applied'
	is "$k: ... nothing reverted" "$(db_history | tr , '\n' | wc -l)" $((N - 1))
	check "$k: --to 5: the rest, batched" 0 "^reverted $((N - 6)) migrations in " '' \
		strata -v --database-url "$DB_URL" migrations revert --to 5
	batched "$k: ... batched"
	is "$k: ... 1-5 left" "$(db_history)" "$(upto 5)"
	# the rest applied in one transaction (on PostgreSQL one applied_at for all: the higher
	# version is the later): batched, the highest first
	apply --transaction all
	# its dry run down to 5: 295 rows of one time, the second batch read after a row that ties
	dry "$k: --to 5 after one transaction" 0 --to 5
	check "$k: applied in one transaction, --to 100: batched" 0 '^reverted 199 migrations in ' '' \
		strata -v --database-url "$DB_URL" migrations revert --to 100
	batched "$k: ... batched"
	is "$k: ... 300 first, 101 last" "$(printf '%s\n' "$out" | awk '$1 == "reverted" && NF == 4 {print $2}' | sed -n '1p;$p' | paste -sd, -)" \
		300-t300,101-t101
	apply --transaction all
	dry "$k: --to 100 after one transaction" 0 --to 100
	both "$k: --to 100 after one transaction" 0 migrations revert --to 100
	hist_same "$k: --to 100 after one transaction"
}
each_db refused_scenario

# rows edited by hand, which the full read takes as they are (a review found the batched path
# refusing them): a row without a checksum; on SQLite a date stored as a blob (ordered after
# every text). The checks doubt, the full read reverts. And a row left failed, in the second
# batch: refused before the first batch runs
odd_scenario() {
	local k=$1 i q
	twins "$k"
	project o-"$k"
	for i in $(seq 1 "$N"); do tbl "$i"; done
	check "$k: build" 0 '' '' strata build
	apply
	q() { if [ "$k" = pg ]; then PG_DB=$1 pg_q "$3"; else sq_q "$2" "$3"; fi >/dev/null; }
	# on_both SQL: SQL on the database and on its twin
	on_both() { q "${PG_DB:-}" "${DB_FILE:-}" "$1"; q "$TWIN_DB" "$TWIN_FILE" "$1"; }
	on_both "update strata_migrations set checksum = '' where version = '10'"
	dry "$k: revert --all, 10 recorded without a checksum" 0 --all
	both "$k: revert --all, 10 recorded without a checksum" 0 migrations revert --all
	hist_same "$k: 10 without a checksum"
	is "$k: ... everything reverted" "$(db_history)" ""
	apply
	on_both "update strata_migrations set status = 'failed' where version = '10'"
	dry "$k: revert --all, 10 left failed" 1 --all
	both "$k: revert --all, 10 left failed" 1 migrations revert --all
	like "$k: ... said" "$err" '10-t10.* failed'
	hist_same "$k: 10 left failed"
	is "$k: ... nothing reverted" "$(db_history | tr , '\n' | wc -l)" "$N"
	on_both "update strata_migrations set status = 'applied' where version = '10'"
	# an older build than the database: 300 applied, its file gone (a review found the checks
	# reading past the manifest's last entry)
	rm "src/migrations/$N-t$N.sql"
	check "$k: build without $N" 0 '' '' strata build
	dry "$k: --to 5, $N applied and in no file" 1 --to 5
	both "$k: --to 5, $N applied and in no file" 1 migrations revert --to 5
	like "$k: ... said" "$err" "cannot revert $N-t$N: it is applied but its file is not in the migration directories"
	hist_same "$k: $N in no file"
	tbl "$N"
	check "$k: build with $N again" 0 '' '' strata build
	[ "$k" = sqlite ] || return 0
	for f in "$DB_FILE" "$TWIN_FILE"; do
		sq_q "$f" "update strata_migrations set applied_at = cast(applied_at as blob) where version = '2'" >/dev/null
	done
	dry "$k: --to 3, 2's date a blob" 0 --to 3
	both "$k: --to 3, 2's date a blob" 0 migrations revert --to 3
	hist_same "$k: 2's date a blob"
}
each_db odd_scenario

# 30 applied after 40, then 41-300 after both: a revert of all reverts 30 in its second batch
# while 40 stays applied, which it says once (REVERT_ORDER), after 41 and before 40. The dry
# run's second batch is read past the 256 rows the first printed, and its highest versions
# among the rest
order_scenario() {
	local k=$1 i
	twins "$k"
	project n-"$k"
	for i in $(seq 1 20) 40; do tbl "$i"; done
	check "$k: build to 40" 0 '' '' strata build
	apply
	tbl 30
	check "$k: build 30" 0 '' '' strata build
	apply --allow-out-of-order
	for i in $(seq 41 "$N"); do tbl "$i"; done
	check "$k: build to $N" 0 '' '' strata build
	apply
	check "$k: -v dry run of --all: batched" 0 '^-- revert 30-t30 ' \
		'reverting 30-t30, the most recently applied; 40-t40 has a higher version' \
		strata -v --database-url "$DB_URL" migrations revert --all --dry-run
	batched "$k: ... batched"
	is "$k: ... 41, 30, 40 in that order" "$(grep '^-- revert' <<<"$out" | sed -n '/ 41-t41 /,/ 40-t40 /p' | awk '{print $3}' | paste -sd, -)" \
		41-t41,30-t30,40-t40
	is "$k: ... said once" "$(grep -c 'has a higher version' <<<"$err")" 1
	dry "$k: revert --all, 30 applied after 40" 0 --all
	dry "$k: revert --to 20, 30 applied after 40" 0 --to 20
	# said before anything, as the full read says it: first in the merged output
	note='^strata: reverting 30-t30, the most recently applied; 40-t40 has a higher version$'
	first=$(strata --database-url "$DB_URL" migrations revert --all --dry-run 2>&1)
	like "$k: ... a dry run says it before its first batch" "${first%%$'\n'*}" "$note"
	first=$(strata --database-url "$DB_URL" migrations revert --all 2>&1)
	like "$k: ... a revert too, before it starts" "${first%%$'\n'*}" "$note"
	twin=$(strata --database-url "$TWIN" migrations revert --all --dir src/migrations 2>&1)
	is "$k: ... all it says, stdout and stderr in their order, as the full read says it" \
		"$(_twin_flat <<<"$first")" "$(_twin_flat <<<"$twin")"
	hist_same "$k: revert --all, 30 applied after 40"
	is "$k: ... all reverted" "$(db_history)" ""
}
each_db order_scenario

# a dry run interrupted (strata_db_interrupt, as Ctrl-C) while its first batch is handed out
# stops before the second: tests/integration/dry_stop.c, linked with this build's libstrata.a
lib_client dry_stop
stop_scenario() {
	local k=$1 i
	new_db "$k"
	project s-"$k"
	for i in $(seq 1 "$N"); do tbl "$i"; done
	check "$k: build" 0 '' '' strata build
	check "$k: run" 0 '' '' strata --database-url "$DB_URL" migrations run
	is "$k: a dry run interrupted in its first batch stops before the second" \
		"$("$TEST_DIR/dry_stop" "$DB_URL" dist/migrations src/migrations revert 2>&1)" \
		'STRATA_EINTERRUPTED planned=256'
	is "$k: ... nothing changed" "$(db_history | tr , '\n' | wc -l)" "$N"
}
each_db stop_scenario
done_testing
