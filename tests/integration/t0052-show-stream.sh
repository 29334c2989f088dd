#!/usr/bin/env bash
# migrations show streams (issue 15), on PostgreSQL and SQLite: from a build whose manifest vouches for
# dist/ and a history it can read in order, show merges the manifest and the history as it reads
# them, holding one entry of each, and prints each line as it goes. Shown here: it lists what
# the full read lists, in text and JSON, with every state (applied, pending, missing, failed, an
# accepted edit), versions of different lengths and with leading zeros in numeric order, two
# names of one version in byte order, a UTF-8 name; -v says it streamed; a database without a
# history; and what it cannot stream (sources that are not a build, a history table from an
# older strata) is listed by the full read.
. "$(dirname "$0")/lib.sh"
need_pg

# case ENGINE URL Q: the whole story on one database; Q runs SQL on it
case_for() {
	local k=$1 url=$2 q=$3 ts1 ts2
	mkdir -p "$k/src/migrations" && cd "$k" || bail "no project dir"
	printf '{"database_url": "%s"}\n' "$url" >strata.json
	m() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table t_$3 (x int);\n-- migrate:down\ndrop table t_$3;\n"; }
	m 9 nine a
	m 10 ten b
	m 10 Ten c
	m 100 hundred d
	m 0011 eleven e
	m 2000 'ünï' f
	m 30000 last g
	STREAMED='^listed 7 migrations as the build manifest and the history were read, in '
	check "$k: build" 0 '^built 7 migrations' '^$' strata build --dialect "$k"
	check "$k: no history table yet: show streams, all pending" 0 "$STREAMED" '^$' strata -v migrations show
	like "$k: ... all seven" "$out" '^7 migrations: 0 applied, 7 pending'
	like "$k: ... the last of them" "$out" '^pending  30000   last    -  '

	strata migrations run --to 100 >/dev/null
	if [ "$k" = postgres ]; then
		ts1="'1969-12-31 23:59:59.5+00'" ts2="'2026-01-02 03:04:05.678+00'"
	else
		ts1="'1969-12-31T23:59:59.500Z'" ts2="'2026-01-02T03:04:05.678Z'"
	fi
	$q "insert into strata_migrations (version, name, checksum) values ('50', 'gone', 'a'), ('99999', 'later', 'b')" >/dev/null
	$q "update strata_migrations set status = 'failed', progress = 1 where version = '100'" >/dev/null
	$q "update strata_migrations set previous_checksum = 'c', accepted_at = $ts2, applied_at = $ts1 where version = '9'" >/dev/null

	STREAMED='^listed 9 migrations as the build manifest and the history were read, in '
	check "$k: show streams the build and the history (-v says so)" 0 "$STREAMED" '^$' strata -v migrations show
	check "$k: ... the listing" 0 '' '^$' strata migrations show
	stream=$out
	is "$k: ... in version order: numbers by value, names byte by byte" \
		"$(printf '%s\n' "$stream" | sed -n '2,10p' | awk '{print $1, $2, $3}' | tr '\n' ',')" \
		"applied 9 nine,applied 10 Ten,applied 10 ten,applied 0011 eleven,missing 50 gone,failed 100 hundred,pending 2000 ünï,pending 30000 last,missing 99999 later,"
	like "$k: ... times as the full read shows them" "$stream" \
		'^applied  9       nine    1969-12-31T23:59:59\.500Z [0-9.]+ m?s  \[edit accepted 2026-01-02T03:04:05\.678Z\]$'
	like "$k: ... the counts" "$stream" '^9 migrations: 4 applied, 2 pending, 2 applied but missing on disk, 1 failed part-way'
	check "$k: the full read (sources that are not a build) lists the same" 0 '' '^$' \
		strata migrations show --dir src/migrations
	is "$k: ... line for line" "$out" "$stream"
	check "$k: show --json streams too" 0 '' '' strata migrations show --json
	json_stream=$(printf '%s\n' "$out" | sed 's|"dist/migrations/|"src/migrations/|')
	check "$k: ... and the full read's JSON" 0 '' '' strata migrations show --json --dir src/migrations
	is "$k: ... is the same (but the files: dist/ against src/)" "$json_stream" "$out"
	like "$k: ... a valid document with every entry" "$(printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["migrations"]), d["applied"], d["pending"], d["missing"], d["failed"])')" '^9 4 2 2 1$'
	check "$k: show --exit-code: failed part-way is exit 4" 4 '' '' strata migrations show --exit-code

	# a history table from an older strata (no accepted columns): the full read, the same list
	$q "alter table strata_migrations drop column previous_checksum" >/dev/null
	$q "alter table strata_migrations drop column accepted_at" >/dev/null
	check "$k: a history from an older strata: the full read" 0 '^read the history \(7 rows\)' '^$' strata -v migrations show
	unlike "$k: ... not streamed" "$out" 'as the build manifest and the history were read'
	check "$k: ... the listing" 0 '' '^$' strata migrations show
	is "$k: ... the same lines, without the accepted edit" "$out" "$(printf '%s\n' "$stream" | sed 's/  \[edit accepted .*\]$//')"
	cd "$TEST_DIR" || bail "cd"
}

case_for postgres "$PG_URL" pg_q
# the order index a run made once the history was long (PostgreSQL)
is "postgres: a run made the history's order index" \
	"$(pg_q "select count(*) from pg_indexes where tablename = 'strata_migrations' and indexname = 'strata_migrations_order'")" 1
sqlite_q() { sq_q "$TEST_DIR/sqlite/h.db" "$1"; }
case_for sqlite "sqlite:$TEST_DIR/sqlite/h.db" sqlite_q
done_testing
