#!/usr/bin/env bash
# migrations show streams (issue 15), on PostgreSQL: from a build whose manifest vouches for
# dist/ and a history it can read in order, show merges the manifest and the history as it reads
# them, holding one entry of each, and prints each line as it goes. Shown here: it lists what
# the full read lists, in text and JSON, with every state (applied, pending, missing, failed, an
# accepted edit), versions of different lengths and with leading zeros in numeric order, two
# names of one version in byte order, a UTF-8 name; -v says it streamed; a database without a
# history; and what it cannot stream (sources that are not a build, a history table from an
# older strata) is listed by the full read.
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p proj/src/migrations && cd proj || bail "no project dir"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
m() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table t_$3 (x int);\n-- migrate:down\ndrop table t_$3;\n"; }
m 9 nine a
m 10 ten b
m 10 Ten c
m 100 hundred d
m 0011 eleven e
m 2000 'ünï' f
m 30000 last g
STREAMED='^listed 7 migrations as the build manifest and the history were read, in '
check "build" 0 '^built 7 migrations' '^$' strata build --dialect postgres
check "no history table yet: show streams, all pending" 0 "$STREAMED" '^$' strata -v migrations show
like "... all seven" "$out" '^7 migrations: 0 applied, 7 pending'
like "... the last of them" "$out" '^pending  30000   last    -  '
is "... and made no table" "$(pg_q "select to_regclass('strata_migrations') is null")" t

strata migrations run --to 100 >/dev/null
pg_q "insert into strata_migrations (version, name, checksum) values ('50', 'gone', repeat('a', 64)), ('99999', 'later', repeat('b', 64))" >/dev/null
pg_q "update strata_migrations set status = 'failed', progress = 1 where version = '100'" >/dev/null
pg_q "update strata_migrations set previous_checksum = repeat('c', 64), accepted_at = '2026-01-02 03:04:05.678+00', applied_at = '1969-12-31 23:59:59.5+00' where version = '9'" >/dev/null

STREAMED='^listed 9 migrations as the build manifest and the history were read, in '
check "show streams the build and the history (-v says so)" 0 "$STREAMED" '^$' strata -v migrations show
check "... the listing" 0 '' '^$' strata migrations show
stream=$out
is "... in version order: numbers by value, names byte by byte" \
	"$(printf '%s\n' "$stream" | sed -n '2,10p' | awk '{print $1, $2, $3}' | tr '\n' ',')" \
	"applied 9 nine,applied 10 Ten,applied 10 ten,applied 0011 eleven,missing 50 gone,failed 100 hundred,pending 2000 ünï,pending 30000 last,missing 99999 later,"
like "... times formatted by the client, as the full read formats them" "$stream" \
	'^applied  9       nine    1969-12-31T23:59:59\.500Z [0-9.]+ m?s  \[edit accepted 2026-01-02T03:04:05\.678Z\]$'
like "... the counts" "$stream" '^9 migrations: 4 applied, 2 pending, 2 applied but missing on disk, 1 failed part-way'
check "the full read (sources that are not a build) lists the same" 0 '' '^$' \
	strata migrations show --dir src/migrations
is "... line for line" "$out" "$stream"
check "show --json streams too" 0 '' '' strata migrations show --json
json_stream=$(printf '%s\n' "$out" | sed 's|"dist/migrations/|"src/migrations/|')
check "... and the full read's JSON" 0 '' '' strata migrations show --json --dir src/migrations
is "... is the same (but the files: dist/ against src/)" "$json_stream" "$out"
like "... a valid document with every entry" "$(printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["migrations"]), d["applied"], d["pending"], d["missing"], d["failed"])')" '^9 4 2 2 1$'
check "show --exit-code: failed part-way is exit 4" 4 '' '' strata migrations show --exit-code

# the history read in order: the index a run makes once the history is long
is "a run made the history's order index" \
	"$(pg_q "select count(*) from pg_indexes where tablename = 'strata_migrations' and indexname = 'strata_migrations_order'")" 1

# a history table from an older strata (no accepted columns): the full read, the same list
pg_q "alter table strata_migrations drop column previous_checksum, drop column accepted_at" >/dev/null
check "a history from an older strata: the full read" 0 '^read the history \(7 rows\)' '^$' strata -v migrations show
unlike "... not streamed" "$out" 'as the build manifest and the history were read'
check "... the listing" 0 '' '^$' strata migrations show
is "... the same lines, without the accepted edit" "$out" "$(printf '%s\n' "$stream" | sed 's/  \[edit accepted .*\]$//')"
done_testing
