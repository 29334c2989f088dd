#!/usr/bin/env bash
# A run of one build whose history is the build's first migrations (a deploy that brings a few
# new ones) does not read the history (issue 15: memory that does not grow with it): the
# history's summary, under the lock, is checked against the manifest's first rows, and only the
# migrations after them are listed. Whatever else the history holds (an edited migration, one
# pending out of order, a failed one, one in no file) sends the run to the full read, which
# does what it did before. Each case is compared with a twin database run through the full read (of
# the sources, --dir src/migrations, which has no manifest).
. "$(dirname "$0")/lib.sh"
need_pg

proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
# both NAME EXIT ARGS...: the run on the first database, then on the twin through the full read
both() { twin_run "$1" "$2" "$DB_URL" "$TWIN" "${@:3}"; }
# vphase: -v on the first database: how it read what it read
vphase() { run strata -v --database-url "$DB_URL" migrations run; }

new_db pg
TWIN=$DB_URL
new_db pg
proj p
for v in 1 2 3 4 5 6 7 8; do tbl "$v" "t$v"; done
check 'build' 0 '^built 8 migrations' '^$' strata build
both 'run --to 5' 0 migrations run --to 5
check '-v: the history is the first 5: only the 3 after them are read' 0 \
	"^locked in [0-9.]+ m?s; the history's summary is the build's first 5 migrations \\([0-9.]+ m?s\\): the history is not read$" \
	'^$' strata -v migrations run
like '... the migrations after them, from the manifest' "$out" \
	'^read 3 migrations from 1 directory \(listed by the build manifest\) in '
unlike '... not the history' "$out" 'read the history'
like '... and runs them' "$out" '^applied 3 migrations in '
check '... the twin, through the full read' 0 '^applied 3 migrations in ' '^$' \
	strata --database-url "$TWIN" migrations run --dir src/migrations

# a pending migration older than the newest applied: the history is no prefix
tbl 45 t45
check 'build 4.5 (45 sorts after 8: a later version)' 0 '^built 9 migrations' '^$' strata build
both 'run 45' 0 migrations run
tbl 05 t05
check 'build 05 (version 5 again: between 4 and 6)' 0 '^built 10 migrations' '^$' strata build
both 'a pending migration between applied ones: refused as before' 1 migrations run
like '... out of order' "$err" 'out of order'
vphase
like '... -v: the full read' "$out" 'read the history \(9 rows\)'
rm src/migrations/05-t05.sql
check 'build without it' 0 '^built 9 migrations' '^$' strata build

# an applied migration edited and built again: the manifest's first rows are not the history's
tbl 90 t90
mig src/migrations 2-t2.sql "-- migrate:up\ncreate table t2 (x int, y int);\n-- migrate:down\ndrop table t2;\n"
check 'build an edit of 2 and a new 90' 0 '^built 10 migrations' '^$' strata build
both 'the edited one: refused as before' 1 migrations run
like '... it names it' "$err" '2-t2'
is '... 90 not applied' "$(pg_q "select count(*) from strata_migrations where version = '90'")" 0
tbl 2 t2
check 'build 2 as it was' 0 '^built 10 migrations' '^$' strata build

# a failed row; a row in no file
pg_q "insert into strata_migrations (version, name, checksum, status) values ('7', 't7x', 'x', 'failed')" >/dev/null
"$PSQL" -X -q -d "${TWIN##*/}" -c "insert into strata_migrations (version, name, checksum, status) values ('7', 't7x', 'x', 'failed')"
both 'a failed migration in the history: refused as before' 1 migrations run
pg_q "update strata_migrations set status = 'applied' where name = 't7x'" >/dev/null
"$PSQL" -X -q -d "${TWIN##*/}" -c "update strata_migrations set status = 'applied' where name = 't7x'"
both 'a migration in no file: the full read, which runs 90 as before' 0 migrations run
like '... applied' "$out" '^applied 1 migration in '
pg_q "delete from strata_migrations where name = 't7x'" >/dev/null
"$PSQL" -X -q -d "${TWIN##*/}" -c "delete from strata_migrations where name = 't7x'"
both 'then nothing to run' 0 migrations run
is 'the histories are the same' "$(pg_q "select string_agg(version || name || checksum, ',' order by version, name) from strata_migrations")" \
	"$("$PSQL" -X -At -d "${TWIN##*/}" -c "select string_agg(version || name || checksum, ',' order by version, name) from strata_migrations")"

# a checksum edited by hand (its row_hash left as it was): the summary trusts the row hashes, as
# nothing to run does (the files are the ones the hashes say were applied); validate reports it
cd "$TEST_DIR/p" || bail "no project"
tbl 91 t91
check 'build 91' 0 '^built 11 migrations' '^$' strata build
pg_q "update strata_migrations set checksum = 'edited' where version = '3'" >/dev/null
check 'a checksum edited by hand: a run does not read the history' 0 \
	"the history's summary is the build's first 10 migrations" '^$' strata -v migrations run
like '... and applies 91' "$out" '^applied 1 migration in '
check '... validate reports the edit' 1 '' '3-t3' strata migrations validate

# a new database and a build of nothing: nothing to run, the history table made as before
need_pg
mkdir -p "$TEST_DIR/empty/src/migrations" && cd "$TEST_DIR/empty" || bail "no project"
check 'build nothing' 0 '^built 0 migrations' '^$' strata build
check 'a new database: nothing to run' 0 '^nothing to run: 0 migrations' '^$' \
	strata --database-url "$PG_URL" migrations run
is '... the history table made' "$(pg_q "select count(*) from strata_migrations")" 0
done_testing
