#!/usr/bin/env bash
# A run with nothing to do reads one aggregate (issue 6), on PostgreSQL: strata stores with each
# history row a hash of its version, name and checksum (row_hash), and the build manifest
# carries the count and XOR of those hashes for a fully applied history. Shown here: the two
# agree; changes to the history (a row deleted, left failed, inserted by hand without a hash,
# a table from before row_hash) make the next run read everything and act on it; a checksum
# edited by hand in the history is what validate reports.
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p proj/src/migrations && cd proj || bail "no project dir"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
history() { pg_q "select coalesce(string_agg(version || '-' || name, ',' order by version), '') from strata_migrations"; }
FAST="^the history's summary matches the migrations' \([0-9.]+ m?s\)$"

tbl 1 a
tbl 2 b
tbl 3 c
check "build writes the summary into the manifest" 0 '^built 3 migrations' '^$' strata build
like "... count, history_digest, the longest version and name and the files come before the list" \
	"$(head -13 dist/migrations/manifest.json | tr -d '\n ')" \
	'"count":3,"history_digest":"[0-9a-f]{16}","longest_version":1,"longest_name":1,"files":\["1-a.sql","2-b.sql","3-c.sql"\],"migrations":'
check "the first run applies" 0 '^  applied   3-c ' '^$' strata migrations run
is "... each row has its hash; together they are the manifest's summary" "$(pg_history_summary)" "$(manifest_summary)"
check "the next run reads the summary, not the history or the files" 0 "$FAST" '^$' \
	strata -v migrations run
like "... and says there is nothing to run" "$out" '^nothing to run: 3 migrations, all applied \('
unlike "... without reading the migrations" "$out" '^read 3 migrations'

unlike "... without taking the lock" "$out" '^locked in'

# the summary is read in one round trip, the lock taken for that query only. A runner holding
# the lock may be half-way through a transaction:false section, whose statements commit before
# its history row changes: then the summary does not answer, and the run waits for the lock as
# any run does (--lock-wait 0: refused)
mkfifo holder.in
"$PSQL" -X -q -At -d "$PG_DB" <holder.in >/dev/null 2>&1 &
holder=$!
exec {hold}>holder.in
echo 'select pg_advisory_lock(6004514643731611649);' >&"$hold"
until_true 600 eval '[ "$(pg_q "select count(*) from pg_locks l where l.database = (select oid from pg_database where datname = current_database()) and locktype = '"'advisory'"' and granted")" = 1 ]'
check "the lock held elsewhere: even with nothing to run, the run waits for it" 1 '^$' \
	'another strata run holds the migration lock' strata migrations run --lock-wait 0
exec {hold}>&-
wait "$holder"
rm holder.in
check "... let go: nothing to run, from the summary" 0 "$FAST" '^$' strata -v migrations run

# a revert of a transaction:false down section, half-way (its DROP committed, its row still
# there), and a run with the same build meanwhile: the run waits, then applies it again
mig src/migrations 4-idx.sql '-- migrate:up transaction:false\ncreate index concurrently c_x on c (x);\n-- migrate:down transaction:false\ndrop index concurrently c_x;\nselect pg_sleep(3);\n'
strata build >/dev/null
strata migrations run >/dev/null
strata migrations revert >revert.out 2>&1 &
reverter=$!
until_true 600 eval '[ "$(pg_q "select count(*) from pg_indexes where indexname = '"'c_x'"'")" = 0 ]'
is "a transaction:false revert half-way: the index dropped, the row still applied" \
	"$(pg_q "select count(*) from pg_indexes where indexname = 'c_x'") $(pg_q "select status from strata_migrations where version = '4'")" "0 applied"
check "... a run meanwhile waits for it, then applies 4-idx again" 0 '^  applied   4-idx ' '^$' \
	strata migrations run
wait "$reverter"
is "... the revert finished" "$?" 0
is "... and the index is there" "$(pg_q "select count(*) from pg_indexes where indexname = 'c_x'")" 1
strata migrations revert >/dev/null
rm src/migrations/4-idx.sql
strata build >/dev/null

# a migration removed from the history by hand runs again
pg_q "delete from strata_migrations where name = 'c'; drop table c" >/dev/null
check "delete: the run applies it again" 0 '^  applied   3-c ' '^$' strata migrations run
is "... history" "$(history)" 1-a,2-b,3-c
is "... summary back to the manifest's" "$(pg_history_summary)" "$(manifest_summary)"

# a migration left failed: refused
pg_q "update strata_migrations set status = 'failed' where name = 'c'" >/dev/null
check "failed: the run refuses" 1 '^$' '^strata: error: .*migration 3-c is failed$' strata migrations run
pg_q "update strata_migrations set status = 'applied' where name = 'c'" >/dev/null
check "... fixed: nothing to run, from the summary" 0 "$FAST" '^$' strata -v migrations run

# a checksum edited by hand in the history: the files did not change, so a run has nothing to
# do; validate compares every checksum and says so
old=$(pg_q "select checksum from strata_migrations where name = 'a'")
pg_q "update strata_migrations set checksum = repeat('0', 64) where name = 'a'" >/dev/null
check "checksum edited by hand: validate finds it" 1 '^$' \
	'applied migration 1-a was changed after it was applied' strata migrations validate
like "... with the date it was applied" "$err" '^detail: applied [0-9]{4}-[0-9]{2}-[0-9]{2}T.* with sha256 0000'
pg_q "update strata_migrations set checksum = '$old' where name = 'a'" >/dev/null

# a row inserted by hand, without a hash: the run reads everything and stores the hash
pg_q "drop table c; delete from strata_migrations where name = 'c'" >/dev/null
strata migrations run --fake >/dev/null
pg_q "update strata_migrations set row_hash = null, status = 'failed' where name = 'c'" >/dev/null
check "a refused run stores no hash" 1 '^$' '^strata: error: .*migration 3-c is failed$' strata migrations run
is "... row_hash still missing" "$(pg_q "select count(row_hash) from strata_migrations")" 2
pg_q "update strata_migrations set status = 'applied' where name = 'c'" >/dev/null
check "a row without its hash: the run reads the history" 0 '^nothing to run: 3 migrations, all applied' '^$' \
	strata -v migrations run
like "... all of it" "$out" '^locked in [0-9.]+ m?s; read the history \(3 rows\) in '
is "... and stores the missing hash" "$(pg_history_summary)" "$(manifest_summary)"
check "... so the next run reads the summary" 0 "$FAST" '^$' strata -v migrations run

# a history table from before row_hash (and so before the summary table, t0466)
pg_q "alter table strata_migrations drop column row_hash" >/dev/null
pg_drop_summary
check "a table without row_hash: the run reads the history" 0 '^nothing to run: 3 migrations, all applied' '^$' \
	strata -v migrations run
like "... all of it" "$out" '^locked in [0-9.]+ m?s; read the history \(3 rows\) in '
is "... and adds the column, with every hash" "$(pg_history_summary)" "$(manifest_summary)"
check "... so the next run reads the summary" 0 "$FAST" '^$' strata -v migrations run

# a new migration: the summaries differ, the run applies it and they agree again
tbl 4 d
strata build >/dev/null
check "a new migration is applied" 0 '^  applied   4-d ' '^$' strata migrations run
is "... summary" "$(pg_history_summary)" "$(manifest_summary)"
check "... then nothing to run, from the summary" 0 "$FAST" '^$' strata -v migrations run

# a deploy job's run with --dir of the build output (no src beside it): the summary answers too
mkdir -p deploy && cp -p dist/migrations/* deploy/ && touch deploy/manifest.json
check "--dir of a build's output: nothing to run, from the summary" 0 "$FAST" '^$' \
	strata -v migrations run --dir deploy
mig deploy 9-late.sql '-- migrate:up\ncreate table late (x int);\n'
check "... a file added by hand there is not hidden by it" 1 '^$' \
	'deploy/9-late\.sql: migration is not in deploy/manifest\.json' strata migrations run --dir deploy
rm -r deploy

# a source added since the build: not answered from the summary (the stale-build check runs)
tbl 5 e
check "a source added after the build is not hidden by the summary" 1 '^$' \
	'^strata: error: src/migrations/5-e\.sql: migration is not built yet$' strata migrations run
rm src/migrations/5-e.sql
# a built file added by hand to dist: neither
mig dist/migrations 5-e.sql '-- migrate:up\ncreate table e (x int);\n'
check "a dist file added by hand is not hidden by the summary" 1 '^$' \
	'^strata: error: dist/migrations/5-e\.sql: migration is not in dist/migrations/manifest\.json$' \
	strata migrations run

# sources never built (--dir of src, no manifest): the summary answers too, made by reading
# each migration in turn; an edit there is not hidden by it
rm dist/migrations/5-e.sql
strata build >/dev/null
check "--dir of sources never built: nothing to run, from the summary" 0 "$FAST" '^$' \
	strata -v migrations run --dir src/migrations
unlike "... without reading the migrations into a catalog" "$out" '^read [0-9]+ migrations'
check "... a dry run too" 0 "$FAST" '^$' strata -v migrations run --dry-run --dir src/migrations
like "... saying there is nothing to run" "$out" '^nothing to run: 4 migrations, all applied \('
check "a dry run of the build: from the summary" 0 "$FAST" '^$' strata -v migrations run --dry-run
mig src/migrations 1-a.sql '-- migrate:up\ncreate table a (x int, y int);\n-- migrate:down\ndrop table a;\n'
check "an applied source edited: not hidden by the summary" 1 '^$' \
	'^strata: error: src/migrations/1-a\.sql: applied migration 1-a was changed after it was applied' \
	strata migrations run --dir src/migrations
check "... nor in a dry run" 1 '^$' \
	'^strata: error: src/migrations/1-a\.sql: applied migration 1-a was changed after it was applied' \
	strata migrations run --dry-run --dir src/migrations
tbl 1 a
tbl 6 f
check "a source added: the run applies it" 0 '^  applied   6-f ' '^$' \
	strata migrations run --dir src/migrations
done_testing
