#!/usr/bin/env bash
# migrations accept on PostgreSQL (issue 12): the accepted row gets the row_hash of its new
# checksum, so the history's summary still equals the build's and a run with nothing to do reads
# the summary only (not the history) without reporting a mismatch; a history table from before
# accept (no previous_checksum, accepted_at) is read as it is, is not altered by runs, and gets
# the columns on the first accept.
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p proj/src/migrations && cd proj || bail "no project dir"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
cols() { pg_q "select count(*) from information_schema.columns where table_name = 'strata_migrations' and column_name in ('previous_checksum', 'accepted_at')"; }
FAST="^the history's summary matches the migrations' \([0-9.]+ m?s\)$"

tbl 1 a
tbl 2 b
tbl 3 c
strata build >/dev/null
check "the first run applies" 0 '^  applied   3-c ' '^$' strata migrations run
printf -- '-- a comment, on purpose\n' >>src/migrations/1-a.sql
strata build >/dev/null
check "an edited applied migration stops the run" 1 '^$' 'applied migration 1-a was changed' strata migrations run
check "accept records it" 0 '^  accepted  1-a  sha256 ' '^$' strata migrations accept 1
is "... the row_hash is the new checksum's: the summary is the build's" "$(pg_history_summary)" "$(manifest_summary)"
check "the next run reads the summary only, and finds nothing to do" 0 "$FAST" '^$' strata -v migrations run
like "... nothing to run" "$out" '^nothing to run: 3 migrations, all applied \('
unlike "... without reading the history" "$out" 'read the history'
check "validate passes" 0 '^ok: 3 migrations' '^$' strata migrations validate

# a history table from before accept
pg_q "alter table strata_migrations drop column previous_checksum, drop column accepted_at" >/dev/null
check "an old table: show reads it" 0 '^applied +1 +a ' '^$' strata migrations show
unlike "... with no accepted mark" "$out" 'accepted'
tbl 4 d
strata build >/dev/null
check "... a run applies without altering it" 0 '^  applied   4-d ' '^$' strata migrations run
is "... still without the columns" "$(cols)" 0
printf -- '-- edited\n' >>src/migrations/2-b.sql
strata build >/dev/null
old=$(pg_q "select checksum from strata_migrations where name = 'b'")
check "accept on an old table" 0 '^  accepted  2-b ' '^$' strata migrations accept 2-b
is "... adds the columns" "$(cols)" 2
is "... and fills them" "$(pg_q "select previous_checksum = '$old' and accepted_at is not null from strata_migrations where name = 'b'")" t
is "... summary" "$(pg_history_summary)" "$(manifest_summary)"
check "... then nothing to run, from the summary" 0 "$FAST" '^$' strata -v migrations run
check "show marks it" 0 '^applied +2 +b .*\[edit accepted [0-9]{4}-' '^$' strata migrations show
done_testing
