#!/usr/bin/env bash
# `strata migrations validate` (issue 4, items 3 and 4), on SQLite and PostgreSQL: on a clean
# project it exits 0 with an "ok:" line; with several problems at once (a dist file edited by
# hand, an applied migration changed, a pending migration out of order) it reports each one,
# counts them and exits 1, and changes nothing.
. "$(dirname "$0")/lib.sh"

proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }

scenario() {
	local k=$1
	new_db "$k"
	proj "validate-$k"
	tbl 10 a
	tbl 20 b
	strata build >/dev/null
	check "$k: validate on a fresh database" 0 \
		"^ok: 2 migrations; the build matches its manifest and src; applied migrations unchanged; 2 pending, in order \($(req "$DB_DISPLAY")\)$" \
		'^$' strata migrations validate
	is "$k: ... creates nothing (not even the history table)" "$(db_tables)" ""
	check "$k: validate --dir on a directory without a manifest" 0 \
		'^ok: 2 migrations; manifests match; applied migrations unchanged; 2 pending, in order ' '^$' \
		strata migrations validate --dir src/migrations
	strata migrations run >/dev/null
	check "$k: validate after the run" 0 '^ok: 2 migrations; .* 0 pending, in order ' '^$' \
		strata migrations validate

	# three problems at once
	printf 'create table a2 (x int);\n' >>src/migrations/10-a.sql # applied, now changed
	tbl 5 old                                                      # older than the newest applied
	tbl 30 c
	strata build >/dev/null
	printf 'create table hacked (x int);\n' >>dist/migrations/30-c.sql # edited by hand
	check "$k: validate with several problems exits 1 and counts them" 1 '^$' \
		'^strata: 3 problems found$' strata migrations validate
	like "$k: ... the dist file edited by hand" "$err" \
		'^strata: error: dist/migrations/30-c\.sql: migration does not match the build manifest$'
	like "$k: ... the applied migration that changed" "$err" \
		'^strata: error: src/migrations/10-a\.sql: applied migration 10-a was changed after it was applied$'
	like "$k: ... the out-of-order migration" "$err" \
		'^strata: error: src/migrations/5-old\.sql: 1 pending migration is out of order$'
	like "$k: ... with its detail" "$err" '^detail: 5-old is older than 20-b, the newest applied migration$'
	is "$k: ... three error lines (src is unchanged: the hand edit is the manifest's to report)" \
		"$(printf '%s\n' "$err" | grep -c '^strata: error: ')" 3
	is "$k: ... nothing applied" "$(db_history)" 10-a,20-b
	check "$k: run refuses on the first of them" 1 '^$' \
		'^strata: error: dist/migrations/30-c\.sql: migration does not match the build manifest$' \
		strata migrations run
	is "$k: ... and applies nothing" "$(db_history)" 10-a,20-b
	cd "$TEST_DIR"
}

each_db scenario
done_testing
