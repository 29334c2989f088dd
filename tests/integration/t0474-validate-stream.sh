#!/usr/bin/env bash
# `migrations validate` of one directory (a build, a build's output, sources never built) proves
# it clean reading a migration and a history row at a time (issue 15: memory that does not grow
# with the number of migrations), on SQLite and PostgreSQL; -v says "checked N migrations". At
# the first doubt it reads everything, and reports what the full read always reported. Shown
# here: each thing validate finds, on each kind of directory, is found, and the clean cases are
# proven without the full read.
. "$(dirname "$0")/lib.sh"

CHECKED='^checked [0-9]+ migrations? as the migrations and the history were read, in '
tbl() { mig "$1" "$2-$3.sql" "-- migrate:up\ncreate table $3 (x int);\n-- migrate:down\ndrop table $3;\n"; }

# clean K WHAT ARGS...: validate proves it clean without the full read
clean() {
	local k=$1 what=$2
	shift 2
	check "$k: $what: clean" 0 '^ok: ' '^$' strata -v migrations validate "$@"
	like "$k: ... proven streaming (-v)" "$out" "$CHECKED"
	unlike "$k: ... without reading the whole history" "$out" '^read the history'
}

# found K WHAT PATTERN ARGS...: validate reports PATTERN, exit 1, from the full read
found() {
	local k=$1 what=$2 pattern=$3
	shift 3
	check "$k: $what: found" 1 '' "$pattern" strata -v migrations validate "$@"
	unlike "$k: ... by the full read" "$out" "$CHECKED"
}

# edited_and_gone K WHAT FILE: dist's FILE edited by hand, then gone, each found; built again
edited_and_gone() {
	local k=$1 what=$2 f=$3
	printf 'create table hacked (x int);\n' >>"dist/migrations/$f.sql"
	found "$k" "a ${what}built file edited by hand" \
		"^strata: error: dist/migrations/$f\\.sql: migration does not match the build manifest\$" \
		--dir dist/migrations
	strata build >/dev/null
	rm "dist/migrations/$f.sql"
	found "$k" "a ${what}built file gone" \
		"dist/migrations/$f\\.sql: migration listed in the build manifest is missing" \
		--dir dist/migrations
	strata build >/dev/null
}

scenario() {
	local k=$1
	new_db "$k"
	mkdir -p "$TEST_DIR/vs-$k" && cd "$TEST_DIR/vs-$k" || bail "cd"
	printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
	for i in 1 2 3 4; do tbl src/migrations "$i" "t$i"; done
	strata build >/dev/null
	strata migrations run >/dev/null

	clean "$k" "a build"
	clean "$k" "a build's output" --dir dist/migrations
	clean "$k" "sources never built" --dir src/migrations
	check "$k: ... its counts" 0 '^ok: 4 migrations; .* 0 pending, in order ' '' \
		strata migrations validate --dir src/migrations

	# an applied migration edited (sources never built; then built)
	printf 'create table t2b (x int);\n' >>src/migrations/2-t2.sql
	found "$k" "an applied migration edited" \
		'^strata: error: src/migrations/2-t2\.sql: applied migration 2-t2 was changed after it was applied$' \
		--dir src/migrations
	strata build >/dev/null
	found "$k" "... built" 'applied migration 2-t2 was changed after it was applied' \
		--dir dist/migrations
	tbl src/migrations 2 t2
	strata build >/dev/null
	clean "$k" "put back" --dir dist/migrations

	# a built file edited by hand, or gone from the output; of an applied migration, and of a
	# pending one, which no history row vouches for
	edited_and_gone "$k" "" 3-t3
	clean "$k" "built again" --dir dist/migrations
	tbl src/migrations 6 t6
	strata build >/dev/null
	edited_and_gone "$k" "pending " 6-t6
	rm src/migrations/6-t6.sql
	strata build >/dev/null

	# a source edited after the build (its time set past the manifest's, not left to the
	# clock's tick): the build is stale
	printf -- '-- migrate:up\ncreate table t1 (x int);\n-- migrate:down\ndrop table t1;\n-- edited\n' \
		>src/migrations/1-t1.sql
	touch -d '+1 minute' src/migrations/1-t1.sql
	found "$k" "a source changed since the build" 'migration changed since the last build'
	tbl src/migrations 1 t1
	strata build >/dev/null

	# the history: a row left failed; a row with no file; a migration pending before applied
	dbq "update strata_migrations set status = 'failed' where version = '4'" >/dev/null
	found "$k" "a migration stopped part-way" 'migration 4-t4 is failed' --dir src/migrations
	dbq "update strata_migrations set status = 'applied' where version = '4'" >/dev/null
	dbq "delete from strata_migrations where version = '2'" >/dev/null
	found "$k" "a migration pending before applied ones" '1 pending migration is out of order' \
		--dir src/migrations
	strata migrations run --fake --allow-out-of-order --dir src/migrations >/dev/null
	clean "$k" "recorded again" --dir src/migrations
	dbq "insert into strata_migrations (version, name, checksum, status) values ('9', 'gone', 'x', 'applied')" >/dev/null
	check "$k: a row in no file: what the full read says" 0 '^ok: ' '^$' \
		strata -v migrations validate --dir src/migrations
	unlike "$k: ... by the full read" "$out" "$CHECKED"
	dbq "delete from strata_migrations where version = '9'" >/dev/null

	# a pending migration that would commit part of itself: the checks before a run
	mig src/migrations 5-bad.sql '-- migrate:up\ncreate table t5 (x int);\ncommit;\n'
	found "$k" "a pending migration with a COMMIT of its own" 'ends the transaction it runs in|COMMIT' \
		--dir src/migrations
	rm src/migrations/5-bad.sql
	tbl src/migrations 5 t5
	clean "$k" "a pending migration" --dir src/migrations
	like "$k: ... counted" "$out" '^ok: 5 migrations; .* 1 pending, in order '
	is "$k: validate changed nothing" "$(db_history)" 1-t1,2-t2,3-t3,4-t4

	# accept reads the same way: the source proven, of it and of the history only the
	# versions given
	mig src/migrations 2-t2.sql '-- migrate:up\ncreate table t2 (x int);\ncreate index t2_x on t2 (x);\n-- migrate:down\ndrop table t2;\n'

	check "$k: accept of an edited migration, sources never built" 0 '' '^$' \
		strata -v migrations accept 2 --dir src/migrations
	like "$k: ... proven and read a migration at a time" "$out" "$CHECKED"
	like "$k: ... accepted" "$out" '2-t2'
	clean "$k" "accepted" --dir src/migrations
	strata build >/dev/null || bail "build"
	printf 'create table hacked2 (x int);\n' >>dist/migrations/5-t5.sql
	check "$k: accept with a built file edited by hand: refused, by the full read" 1 '' \
		'dist/migrations/5-t5\.sql: migration does not match the build manifest' \
		strata -v migrations accept 2 --dir dist/migrations
	unlike "$k: ... which says so" "$out" "$CHECKED"
	cd "$TEST_DIR" || bail "cd"
}

each_db scenario

# PostgreSQL: a history table altered by hand to other column types is read as the full read
# reads it (the server converting each value to text), not as the stream's binary values would
# read it: a checksum kept as bytea is not the file's
if pg_available; then
	new_db pg
	mkdir -p "$TEST_DIR/vs-types" && cd "$TEST_DIR/vs-types" || bail "cd"
	printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
	tbl src/migrations 1 u1
	strata build >/dev/null
	strata migrations run >/dev/null
	clean pg "before the table is altered"
	dbq "alter table strata_migrations alter column checksum type bytea using convert_to(checksum, 'UTF8')" >/dev/null
	found pg "a bytea checksum" 'applied migration 1-u1 was changed after it was applied'
	cd "$TEST_DIR" || bail "cd"
fi
done_testing
