#!/usr/bin/env bash
# Runs read only what they execute (issue 6: "files read once"), on SQLite and PostgreSQL. With
# a build manifest, run, revert, show and seed take the list of migrations and their checksums
# from manifest.json and read a file only when it is about to run (and then check it against
# the manifest); validate still reads every file. Shown here by breaking files the run must not
# read, and the ones it must.
. "$(dirname "$0")/lib.sh"

proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
# mtime FILE: the modification time in nanoseconds
mtime() { stat -c '%.9Y' "$1" | tr -d .; }

scenario() {
	local k=$1
	new_db "$k"
	proj "built-$k"
	tbl 1 a
	tbl 2 b
	tbl 3 c
	check "$k: build" 0 '^built 3 migrations' '^$' strata build
	if [ "$(mtime dist/migrations/manifest.json)" -ge "$(mtime dist/migrations)" ]; then
		ok "$k: ... the manifest is at least as new as its directory"
	else
		not_ok "$k: ... the manifest is at least as new as its directory"
	fi
	check "$k: run --to 2" 0 '^  applied   2-b ' '^$' strata migrations run --to 2
	check "$k: ... -v says the list came from the manifest, with the time of each phase" 0 \
		'^read 3 migrations from 1 directory \(listed by the build manifest\) in [0-9.]+ m?s$' '^$' \
		strata -v migrations run --to 2
	like "$k: ... and the lock and history times" "$out" '^locked in [0-9.]+ m?s; read the history \(2 rows\) in [0-9.]+ m?s$'
	check "$k: ... --dir src reads every file" 0 '^read 3 migrations from 1 directory in [0-9.]+ m?s$' \
		'^$' strata -v migrations run --to 2 --dir src/migrations
	cp dist/migrations/1-a.sql 1-a.keep

	# an applied file broken in place (the directory is unchanged): not read by run or show
	printf '\xff\xfe not a migration' >dist/migrations/1-a.sql
	check "$k: run applies 3-c without reading the applied 1-a" 0 '^  applied   3-c ' '^$' \
		strata migrations run
	check "$k: ... show does not read it either" 0 '^applied +1 +a ' '^$' strata migrations show
	check "$k: ... validate reads every file and finds it" 1 '^$' \
		'^strata: error: dist/migrations/1-a\.sql:1:1: migration file is not valid UTF-8 \(byte 0xFF\)$' \
		strata migrations validate
	check "$k: revert reads only what it reverts" 0 '^  reverted  3-c ' '^$' strata migrations revert
	check "$k: a revert that reaches the broken file stops before reverting anything" 1 '^$' \
		'^strata: error: dist/migrations/1-a\.sql:1:1: migration file is not valid UTF-8' \
		strata migrations revert --all
	is "$k: ... history unchanged" "$(db_history)" 1-a,2-b
	check "$k: a run reads and checks what it applies" 0 '^  applied   3-c ' '^$' strata migrations run

	# an applied file edited in place with valid SQL: the run has nothing to do; validate says
	cp 1-a.keep dist/migrations/1-a.sql
	printf 'create table hacked (x int);\n' >>dist/migrations/1-a.sql
	check "$k: an edited applied file is not read by a run with nothing pending" 0 \
		'^nothing to run: 3 migrations, all applied' '^$' strata migrations run
	check "$k: ... validate finds it" 1 '^$' \
		'^strata: error: dist/migrations/1-a\.sql: migration does not match the build manifest$' \
		strata migrations validate
	cp 1-a.keep dist/migrations/1-a.sql

	# a pending file edited in place: read before it runs, and refused
	check "$k: revert 3-c" 0 '^  reverted  3-c ' '^$' strata migrations revert
	printf 'create table hacked (x int);\n' >>dist/migrations/3-c.sql
	check "$k: an edited pending file is refused" 1 '^$' \
		'^strata: error: dist/migrations/3-c\.sql: migration does not match the build manifest$' \
		strata migrations run
	is "$k: ... nothing applied" "$(db_history)" 1-a,2-b
	strata build >/dev/null

	# a manifest older than its directory (copied without its times): the listing is compared
	touch -d '2001-01-01' dist/migrations/manifest.json
	printf '\xff' >dist/migrations/1-a.sql
	check "$k: an older manifest that lists every file: still no applied file read" 0 \
		'^  applied   3-c ' '^$' strata migrations run
	cp 1-a.keep dist/migrations/1-a.sql
	mig dist/migrations 4-d.sql '-- migrate:up\ncreate table d (x int);\n'
	check "$k: ... and one that does not list a file: the directory is read, the file refused" 1 '^$' \
		'^strata: error: dist/migrations/4-d\.sql: migration is not in dist/migrations/manifest\.json$' \
		strata migrations run
	is "$k: ... nothing applied" "$(db_history)" 1-a,2-b,3-c
	rm dist/migrations/4-d.sql

	# a src file of an applied migration edited in place after the build: validate's to find
	strata build >/dev/null
	printf -- '-- a note\n' >>src/migrations/1-a.sql
	check "$k: a stale applied source does not stop a run with nothing pending" 0 \
		'^nothing to run: 3 migrations, all applied' '^$' strata migrations run
	check "$k: ... validate finds it" 1 '^$' \
		'^strata: error: src/migrations/1-a\.sql: migration changed since the last build$' \
		strata migrations validate
	cd "$TEST_DIR"
}

each_db scenario
done_testing
