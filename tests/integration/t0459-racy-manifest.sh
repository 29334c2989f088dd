#!/usr/bin/env bash
# A build manifest vouches for its directory's listing only when it is strictly newer than the
# directory: a file added to dist/ in the same clock tick as the build leaves the two times
# equal (git's "racy" timestamps), and must still be seen. The times are made equal on purpose
# here, not by racing the clock.
. "$(dirname "$0")/lib.sh"

# same_time DIR: gives DIR and DIR/manifest.json one and the same modification time
same_time() {
	touch -m -d '2026-01-02 03:04:05.123456789' "$1" "$1/manifest.json"
	is "... $1 and its manifest have the same mtime" \
		"$(stat -c %y "$1")" "$(stat -c %y "$1/manifest.json")"
}

scenario() {
	local k=$1
	new_db "$k"
	mkdir -p "$TEST_DIR/racy-$k/src/migrations" && cd "$TEST_DIR/racy-$k" || bail "cd"
	printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
	mig src/migrations 1-a.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig src/migrations 3-c.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
	check "$k: build" 0 '^built 2 migrations' '^$' strata build
	# find -newer: strictly newer, to the nanosecond
	is "$k: build leaves the manifest strictly newer than its directory" \
		"$(find dist/migrations/manifest.json -newer dist/migrations)" dist/migrations/manifest.json

	# a file written into dist by hand in the build's clock tick: the listing is not trusted
	mig dist/migrations 2-b.sql '-- migrate:up\ncreate table b (x int);\n'
	same_time dist/migrations
	check "$k: a file added to dist with the manifest's own mtime is refused" 1 '^$' \
		'^strata: error: dist/migrations/2-b\.sql: migration is not in dist/migrations/manifest\.json$' \
		strata migrations run
	is "$k: ... nothing applied around it" "$(db_history)" ""
	rm dist/migrations/2-b.sql
	check "$k: without it, the run applies both" 0 '^applied 2 migrations in ' '^$' \
		strata migrations run

	# everything applied; the summary shortcut must not answer for a racy directory either
	mig dist/migrations 2-b.sql '-- migrate:up\ncreate table b (x int);\n'
	same_time dist/migrations
	check "$k: with all applied, a racy added file is still refused" 1 '^$' \
		'^strata: error: dist/migrations/2-b\.sql: migration is not in dist/migrations/manifest\.json$' \
		strata migrations run
	is "$k: ... history unchanged" "$(db_history)" "1-a,3-c"
	rm dist/migrations/2-b.sql
	cd "$TEST_DIR" || bail "cd"
}
each_db scenario
done_testing
