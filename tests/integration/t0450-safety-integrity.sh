#!/usr/bin/env bash
# Integrity checks before `migrations run` (issue 4, item 3), on SQLite and PostgreSQL: the
# build manifest (a dist file edited, deleted or added by hand), a stale build (only when reading
# the default dist directory), an applied migration changed since it ran (--ignore-checksums
# runs anyway and says so), and CR LF checkouts summing like LF ones. Each refusal applies
# nothing.
. "$(dirname "$0")/lib.sh"

# proj DIR: a fresh project in $TEST_DIR/DIR (and cd there) whose strata.json names $DB_URL
proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
# table_ex NAME: 1 if the table exists, else 0
table_ex() {
	if [ "$DB_KIND" = pg ]; then
		pg_q "select count(*) from pg_tables where schemaname = 'public' and tablename = '$1'"
	else
		sq_q "$DB_FILE" "select count(*) from sqlite_master where type = 'table' and name = '$1'"
	fi
}
# tbl V NAME: a migration that creates and drops table NAME
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
sha() { sha256sum "$1" | cut -c1-12; }

scenario() {
	local k=$1
	new_db "$k"
	proj "integrity-$k"
	tbl 1 a
	tbl 2 b
	check "$k: build" 0 '^built 2 migrations from src/migrations into dist/migrations' '^$' strata build
	check "$k: run --to 1" 0 '^  applied   1-a ' '^$' strata migrations run --to 1
	is "$k: ... 1-a applied" "$(db_history)" 1-a

	# a built file edited by hand
	printf 'create table hacked (x int);\n' >>dist/migrations/2-b.sql
	check "$k: a dist file edited by hand is refused" 1 '^$' \
		'^strata: error: dist/migrations/2-b\.sql: migration does not match the build manifest$' \
		strata migrations run
	like "$k: ... detail has both sha256 prefixes" "$err" \
		"^detail: manifest sha256 $(sha src/migrations/2-b.sql)…, file sha256 $(sha dist/migrations/2-b.sql)…$"
	like "$k: ... hint says to edit src and build" "$err" "^hint: edit migrations in the src directory and run 'strata build'"
	like "$k: ... nothing was applied" "$err" '^strata: nothing was applied$'
	is "$k: ... history unchanged" "$(db_history)" 1-a
	is "$k: ... neither b nor hacked exist" "$(table_ex b)$(table_ex hacked)" 00
	check "$k: build restores the built copy" 0 '^built 2 migrations' '^$' strata build
	check "$k: ... validate is clean again" 0 '^ok: 2 migrations; ' '^$' strata migrations validate

	# a file the manifest lists, deleted from dist
	rm dist/migrations/2-b.sql
	check "$k: a file listed in the manifest but gone is refused" 1 '^$' \
		'^strata: error: dist/migrations/2-b\.sql: migration listed in the build manifest is missing$' \
		strata migrations run
	like "$k: ... hint" "$err" "^hint: run 'strata build' again$"
	like "$k: ... nothing was applied" "$err" '^strata: nothing was applied$'
	is "$k: ... history unchanged" "$(db_history)" 1-a
	strata build >/dev/null

	# a file in dist that is not in the manifest
	printf -- '-- migrate:up\ncreate table c (x int);\n' >dist/migrations/3-c.sql
	check "$k: a dist file not in the manifest is refused" 1 '^$' \
		'^strata: error: dist/migrations/3-c\.sql: migration is not in dist/migrations/manifest\.json$' \
		strata migrations run
	like "$k: ... hint" "$err" "^hint: build migrations with 'strata build' instead of writing them into dist/migrations by hand$"
	is "$k: ... history unchanged, b and c not created" "$(db_history) $(table_ex b)$(table_ex c)" "1-a 00"
	rm dist/migrations/3-c.sql

	# stale build: a src file changed since the build
	cp src/migrations/2-b.sql 2-b.keep
	printf 'create table b2 (x int);\n' >>src/migrations/2-b.sql
	check "$k: a src file changed since the build is refused" 1 '^$' \
		'^strata: error: src/migrations/2-b\.sql: migration changed since the last build$' \
		strata migrations run
	like "$k: ... hint runs strata build" "$err" "^hint: run 'strata build' to update dist/migrations$"
	is "$k: ... history unchanged" "$(db_history)" 1-a
	check "$k: ... validate reports it" 1 '^$' '^strata: 1 problem found$' strata migrations validate
	like "$k: ... naming the src file" "$err" '^strata: error: src/migrations/2-b\.sql: migration changed since the last build$'
	check "$k: ... but not when the directory is given with --dir" 0 '^ok: 2 migrations; manifests match; ' '^$' \
		strata migrations validate --dir dist/migrations
	cp 2-b.keep src/migrations/2-b.sql

	# stale build: a src file added but not built
	tbl 3 c
	check "$k: a src file not built yet is refused" 1 '^$' \
		'^strata: error: src/migrations/3-c\.sql: migration is not built yet$' \
		strata migrations run
	like "$k: ... hint" "$err" "^hint: run 'strata build' to update dist/migrations$"
	is "$k: ... nothing applied" "$(db_history) $(table_ex b)" "1-a 0"
	rm src/migrations/3-c.sql

	# stale build: a src file removed but still built
	mv src/migrations/2-b.sql 2-b.moved
	check "$k: a built file no longer in src is refused" 1 '^$' \
		'^strata: error: dist/migrations/2-b\.sql: built migration is no longer in src/migrations$' \
		strata migrations run
	like "$k: ... hint" "$err" "^hint: run 'strata build' to update dist/migrations \(it removes what src no longer has\)$"
	is "$k: ... nothing applied" "$(db_history) $(table_ex b)" "1-a 0"
	mv 2-b.moved src/migrations/2-b.sql

	check "$k: with src and dist back in step the run goes on" 0 '^  applied   2-b ' '^$' strata migrations run
	is "$k: ... history" "$(db_history)" 1-a,2-b

	# an applied migration changed since it was applied (edited in src and rebuilt)
	local old new
	old=$(dbq "select checksum from strata_migrations where name = 'a'")
	cp src/migrations/1-a.sql 1-a.keep
	printf 'create table a2 (x int);\n' >>src/migrations/1-a.sql
	tbl 3 c
	strata build >/dev/null
	new=$(sha256sum src/migrations/1-a.sql | cut -c1-12)
	check "$k: an applied migration changed since it was applied is refused" 1 '^$' \
		'^strata: error: src/migrations/1-a\.sql: applied migration 1-a was changed after it was applied$' \
		strata migrations run
	like "$k: ... detail has the applied and the current sha256 prefixes" "$err" \
		"^detail: applied .* with sha256 ${old:0:12}…, the file now has $new…$"
	like "$k: ... hint" "$err" '^hint: restore the file as it was applied and put the change in a new migration; if the edit is deliberate, record it with .strata migrations accept 1-a.; --ignore-checksums skips this check$'
	like "$k: ... nothing was applied" "$err" '^strata: nothing was applied$'
	is "$k: ... 3-c not applied" "$(db_history) $(table_ex c)" "1-a,2-b 0"
	check "$k: --ignore-checksums runs anyway" 0 '^  applied   3-c ' \
		'^strata: warning: --ignore-checksums: NOT checking the build manifest, whether the build is up to date, or that applied migrations are unchanged$' \
		strata migrations run --ignore-checksums
	is "$k: ... 3-c applied" "$(db_history) $(table_ex c)" "1-a,2-b,3-c 1"
	is "$k: ... the applied checksum of 1-a is not rewritten" \
		"$(dbq "select checksum from strata_migrations where name = 'a'")" "$old"
	check "$k: ... the next run still refuses" 1 '^$' 'applied migration 1-a was changed after it was applied' \
		strata migrations run
	cp 1-a.keep src/migrations/1-a.sql
	strata build >/dev/null
	check "$k: restored and rebuilt: validate is clean" 0 \
		'^ok: 3 migrations; the build matches its manifest and src; applied migrations unchanged; 0 pending, in order \(' \
		'^$' strata migrations validate

	# CR LF: src and dist converted (a Windows checkout) sum like the LF files that were applied
	sed -i 's/$/\r/' src/migrations/*.sql dist/migrations/*.sql
	like "$k: (the files really are CR LF now)" "$(od -c dist/migrations/1-a.sql)" '\\r  \\n'
	check "$k: CR LF files of applied LF migrations are not a change" 0 \
		'^nothing to run: 3 migrations, all applied' '^$' strata migrations run
	check "$k: ... validate agrees" 0 '^ok: 3 migrations; ' '^$' strata migrations validate
	check "$k: ... and after building the CR LF sources" 0 '^ok: 3 migrations; ' '^$' \
		sh -c "'$STRATA' build >/dev/null && '$STRATA' migrations validate"
	is "$k: ... history unchanged" "$(db_history)" 1-a,2-b,3-c
	cd "$TEST_DIR"
}

each_db scenario
done_testing
