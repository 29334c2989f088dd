#!/usr/bin/env bash
# A run with nothing to do reads one row (issue 6), on PostgreSQL: a trigger keeps
# strata_migrations_summary (row count, unfinished count, XOR of a hash per row) and the build
# manifest carries the same figures for a fully applied history. Shown here: the summary and the
# manifest agree; every kind of change to the history (delete, update, truncate, drop, an edit
# through another search_path) makes the next run read everything and act on it; a summary
# gone stale behind a disabled trigger is what validate reports.
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p proj/src/migrations && cd proj || bail "no project dir"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
# summary: rows|unfinished|digest as 16 hex digits
summary() {
	pg_q "select rows || '|' || unfinished || '|' || lpad(to_hex(digest), 16, '0') from strata_migrations_summary where history = 'strata_migrations'::regclass"
}
manifest() {
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%d|0|%s" % (m["count"], m["history_digest"]))' dist/migrations/manifest.json
}
history() { pg_q "select coalesce(string_agg(version || '-' || name, ',' order by version), '') from strata_migrations"; }

tbl 1 a
tbl 2 b
tbl 3 c
check "build writes the summary into the manifest" 0 '^built 3 migrations' '^$' strata build
like "... count and history_digest come before the list" "$(head -6 dist/migrations/manifest.json | tr -d '\n ')" \
	'"count":3,"history_digest":"[0-9a-f]{16}","migrations":'
check "the first run applies, and makes the summary" 0 "^made the history's summary$" '^$' \
	strata -v migrations run
is "... the database's summary is the manifest's" "$(summary)" "$(manifest)"
check "the next run reads the summary, not the history or the files" 0 \
	"^locked in [0-9.]+ m?s; the history's summary matches the build's \([0-9.]+ m?s\)$" '^$' \
	strata -v migrations run
like "... and says there is nothing to run" "$out" '^nothing to run: 3 migrations, all applied \('
unlike "... without reading the migrations" "$out" '^read 3 migrations'

# a migration removed from the history by hand runs again
pg_q "delete from strata_migrations where name = 'c'; drop table c" >/dev/null
is "delete: the summary follows" "$(summary | cut -d'|' -f1,2)" "2|0"
check "... the run applies it again" 0 '^  applied   3-c ' '^$' strata migrations run
is "... history" "$(history)" 1-a,2-b,3-c
is "... summary back to the manifest's" "$(summary)" "$(manifest)"

# a checksum changed by hand: refused, as without a summary
old=$(pg_q "select checksum from strata_migrations where name = 'a'")
pg_q "update strata_migrations set checksum = repeat('0', 64) where name = 'a'" >/dev/null
check "update: a changed checksum is found" 1 '^$' 'applied migration 1-a was changed after it was applied' \
	strata migrations run
like "... with the date it was applied" "$err" '^detail: applied [0-9]{4}-[0-9]{2}-[0-9]{2}T.* with sha256 0000'
pg_q "update strata_migrations set checksum = '$old' where name = 'a'" >/dev/null

# a migration left failed: refused
pg_q "update strata_migrations set status = 'failed' where name = 'c'" >/dev/null
is "status: the summary counts it unfinished" "$(summary | cut -d'|' -f2)" 1
check "... the run refuses" 1 '^$' '^strata: error: .*migration 3-c is failed$' strata migrations run
pg_q "update strata_migrations set status = 'applied' where name = 'c'" >/dev/null
check "... fixed: nothing to run, from the summary" 0 "the history's summary matches" '^$' \
	strata -v migrations run

# an edit from a session with another search_path still reaches the summary
pg_q "set search_path = pg_catalog; delete from public.strata_migrations where name = 'c'" >/dev/null
is "search_path: the trigger keeps the same summary" "$(summary | cut -d'|' -f1)" 2
pg_q "drop table c" >/dev/null
check "... the run applies 3-c again" 0 '^  applied   3-c ' '^$' strata migrations run

# truncate, then drop and recreate the history table
pg_q "truncate strata_migrations" >/dev/null
is "truncate: the summary is emptied" "$(summary)" "0|0|0000000000000000"
check "... fake the history back" 0 '^  recorded  3-c ' '^$' strata migrations run --fake
is "... summary" "$(summary)" "$(manifest)"
pg_q "drop table strata_migrations" >/dev/null
check "drop: a new history table gets a new summary" 0 "^made the history's summary$" '^$' \
	strata -v migrations run --fake
is "... summary" "$(summary)" "$(manifest)"
is "... one row, the old one's gone" "$(pg_q 'select count(*) from strata_migrations_summary')" 1

# a summary gone stale behind a disabled trigger: validate says so
pg_q "alter table strata_migrations disable trigger strata_migrations_summary;
      delete from strata_migrations where name = 'c';
      alter table strata_migrations enable trigger strata_migrations_summary" >/dev/null
check "stale: validate reports the summary" 1 '^$' \
	"^strata: error: the history's summary does not match the history \(was its trigger disabled while the history changed\?\)$" \
	strata migrations validate
like "... with the counts" "$err" '^detail: it counts 3 rows \(0 unfinished\), the history has 2 \(0\)$'
like "... and the fix" "$err" "^hint: drop table strata_migrations_summary; the next 'strata migrations run' makes it again from the history$"
pg_q "drop table strata_migrations_summary; drop table c" >/dev/null
check "... after the fix the run applies what is missing" 0 '^  applied   3-c ' '^$' strata migrations run
is "... summary" "$(summary)" "$(manifest)"
check "... and validate is clean" 0 '^ok: 3 migrations' '^$' strata migrations validate

# a new migration: the summaries differ, the run applies it and they agree again
tbl 4 d
strata build >/dev/null
check "a new migration is applied" 0 '^  applied   4-d ' '^$' strata -v migrations run
is "... summary" "$(summary)" "$(manifest)"

# a source added since the build: not answered from the summary (the stale-build check runs)
tbl 5 e
check "a source added after the build is not hidden by the summary" 1 '^$' \
	'^strata: error: src/migrations/5-e\.sql: migration is not built yet$' strata migrations run
done_testing
