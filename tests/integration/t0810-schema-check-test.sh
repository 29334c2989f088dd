#!/usr/bin/env bash
# schema dump, schema check and migrations test (issue 13), on SQLite and PostgreSQL: the dump
# leaves strata's tables out and reloads to itself; the drift check names each difference and
# exits 5; migrations test finds a down that leaves something behind, a missing down and a
# failing up, exits 6, and changes nothing in the database; run --check-drift applies nothing
# to a drifted database; --dump-schema and "dump_schema" write the file after a run.
. "$(dirname "$0")/lib.sh"

# reload FILE: a fresh database of the same kind with FILE applied by the engine's own shell;
# sets DB2_URL
reload() {
	if [ "$DB_KIND" = pg ]; then
		local keep_db=$PG_DB keep_url=$PG_URL
		need_pg
		"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$PG_DB" -f "$1" >/dev/null || echo "(reload failed)"
		DB2_URL=$PG_URL
		PG_DB=$keep_db PG_URL=$keep_url
	else
		local f="$TEST_DIR/reload$_sqn.sqlite"
		rm -f "$f"
		sqlite3 -bail "$f" <"$1" || echo "(reload failed)"
		DB2_URL="sqlite:$f"
	fi
}

scenario() {
	local k=$1 d=m_$1 dump1 dump2
	new_db "$k"
	mig "$d" "1-orders.sql" "-- migrate:up\ncreate table orders (id integer primary key, status varchar(20) not null default 'new');\ncreate index orders_status on orders (status);\n-- migrate:down\ndrop table orders;\n"
	mig "$d" "2-view.sql" "-- migrate:up\ncreate view open_orders as select id from orders where status = 'new';\n-- migrate:down\ndrop view open_orders;\n"
	mig "$d" "3-note.sql" "-- migrate:up\nalter table orders add column note text;\n-- migrate:down\nalter table orders drop column note;\n"

	check "$k: migrations test passes a set whose downs undo their ups" 0 \
		'3 migrations tested: 3 ok, 0 failed' '' \
		strata --database-url "$DB_URL" migrations test --dir "$d"
	is "$k: ... and left the database alone" "$(db_history)" "(no history table)"

	check "$k: run --dump-schema writes the schema after the run" 0 '^applied 3 migrations' \
		'^strata: wrote the schema \([0-9]+ objects\) to ' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --dump-schema "$TEST_DIR/$k.sql"
	dump1=$(cat "$TEST_DIR/$k.sql")
	like "$k: ... with the table" "$dump1" 'orders'
	unlike "$k: ... without strata's own table" "$dump1" 'strata_migrations'
	unlike "$k: ... with no version line or date" "$dump1" '(PostgreSQL database dump|Dumped|20[0-9][0-9]-[0-9][0-9]-)'
	check "$k: schema dump prints the same" 0 '' '^$' strata --database-url "$DB_URL" schema dump
	is "$k: ... byte for byte" "$out" "$dump1"

	reload "$TEST_DIR/$k.sql"
	check "$k: the dump reloads, and dumps the same again (a fixpoint)" 0 '' '^$' \
		strata --database-url "$DB2_URL" schema dump
	is "$k: ... byte for byte" "$out" "$dump1"

	check "$k: schema check: no drift" 0 '^no drift: .* 3 applied migrations' '^$' \
		strata --database-url "$DB_URL" schema check --dir "$d"
	# one directory: its files and the history proved first, then applied a migration at a
	# time; the schemas compared holding digests. Else (a file edited since it was applied,
	# one missing) the full read, as before.
	check "$k: ... read a migration at a time (-v)" 0 \
		'^checked 3 migrations as the migrations and the history were read' '' \
		strata -v --database-url "$DB_URL" schema check --dir "$d"
	rm -rf "${d}_edited" && cp -r "$d" "${d}_edited"
	printf -- '-- edited after it ran\n' >>"${d}_edited/3-note.sql"
	check "$k: ... from the full read when a file was edited since it ran" 0 '^no drift' '' \
		strata -v --database-url "$DB_URL" schema check --dir "${d}_edited"
	unlike "$k: ... (not a migration at a time)" "$out" '^checked'
	rm "${d}_edited/3-note.sql"
	check "$k: ... and an applied migration's file missing is named" 1 '' \
		'3-note is applied but its file is not in the migration directories' \
		strata --database-url "$DB_URL" schema check --dir "${d}_edited"

	dbq "create table by_hand (x int)" >/dev/null
	dbq "drop index orders_status" >/dev/null
	dbq "drop view open_orders" >/dev/null
	dbq "create view open_orders as select id, status from orders" >/dev/null
	check "$k: schema check names each difference and exits 5" 5 '^$' \
		'^strata: drift: .* \(3 differences\):$' \
		strata --database-url "$DB_URL" schema check --dir "$d"
	like "$k: ... the view changed, with both definitions" "$err" '^  view (public\.)?open_orders: .*status.*, expected .*'
	dbq "drop view open_orders" >/dev/null
	dbq "create view open_orders as select id from orders where status = 'new'" >/dev/null
	like "$k: ... the table made by hand" "$err" '^  table (public\.)?by_hand: not made by the migrations: '
	like "$k: ... the index dropped" "$err" '^  index (public\.)?orders\.orders_status: missing; the migrations make '
	unlike "$k: ... one line for the table, not one per column" "$err" 'column (public\.)?by_hand'
	if [ "$k" = pg ]; then
		dbq "alter table orders alter column note type varchar(50)" >/dev/null
		check "$k: a column's type changed by hand" 5 '^$' \
			'^  column public\.orders\.note: type character varying\(50\), expected type text$' \
			strata --database-url "$DB_URL" schema check --dir "$d"
		dbq "alter table orders alter column note type text" >/dev/null
	fi
	check "$k: ... --json says the same" 5 '"drift": true' '' \
		strata --database-url "$DB_URL" schema check --dir "$d" --json
	like "$k: ... with kinds" "$out" '"kind": "extra"'

	mig "$d" "4-more.sql" "-- migrate:up\ncreate table more (x int);\n-- migrate:down\ndrop table more;\n"
	check "$k: run --check-drift refuses a drifted database" 5 '' 'nothing was applied: the database drifted' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --check-drift
	is "$k: ... and applied nothing" "$(db_history)" "1-orders,2-view,3-note"
	dbq "drop table by_hand" >/dev/null
	dbq "create index orders_status on orders (status)" >/dev/null
	check "$k: ... and runs once it is fixed" 0 '^applied 1 migration' '' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --check-drift

	# reversibility failures
	mig "$d" "5-leaky.sql" "-- migrate:up\ncreate table leaky (x int);\ncreate table leaky2 (x int);\n-- migrate:down\ndrop table leaky;\n"
	mig "$d" "6-nodown.sql" "-- migrate:up\ncreate table nodown (x int);\n"
	check "$k: migrations test: a down that leaves a table behind, and none at all" 6 \
		'not restored +5-leaky' '' \
		strata --database-url "$DB_URL" migrations test --dir "$d"
	like "$k: ... names what it left" "$out" 'table (public\.)?leaky2: left behind by its down'
	unlike "$k: ... not the table it dropped" "$out" 'table (public\.)?leaky: '
	like "$k: ... and the missing down" "$out" 'no down +6-nodown'
	like "$k: ... the summary" "$out" '6 migrations tested: 4 ok, 2 failed'
	check "$k: ... --json for CI" 6 '"result": "not_restored"' '' \
		strata --database-url "$DB_URL" migrations test --dir "$d" --json
	like "$k: ... with the no_down one" "$out" '"result": "no_down"'
	check "$k: ... --from skips a trusted prefix" 6 '2 migrations tested: 0 ok, 2 failed, 4 untested' '' \
		strata --database-url "$DB_URL" migrations test --dir "$d" --from 4
	is "$k: ... and the database is as it was" "$(db_history)" "1-orders,2-view,3-note,4-more"

	# a down that changes what was there before its up (compared through digests, the up and
	# down in one transaction), and one that cannot run in a transaction (compared whole)
	mig "$d" "7-view.sql" "-- migrate:up\ndrop view open_orders;\ncreate view open_orders as select id, status from orders;\n-- migrate:down\ndrop view open_orders;\ncreate view open_orders as select id from orders;\n"
	mig "$d" "8-notx.sql" "-- migrate:up transaction:false\ncreate table notx (x int);\ncreate table notx2 (x int);\n-- migrate:down transaction:false\ndrop table notx;\n"
	check "$k: migrations test: a down that changes a view, one outside a transaction" 6 \
		'not restored +7-view' '' \
		strata --database-url "$DB_URL" migrations test --dir "$d" --from 6
	like "$k: ... says the view before and after" "$out" 'view (public\.)?open_orders: after its down .*, before its up .*status'
	like "$k: ... and what the other left" "$out" 'table (public\.)?notx2: left behind by its down'
	like "$k: ... the summary" "$out" '2 migrations tested: 0 ok, 2 failed, 6 untested'
	rm "$d/5-leaky.sql" "$d/6-nodown.sql" "$d/7-view.sql" "$d/8-notx.sql"

	# the directory is read a migration at a time, but whole first: a file that does not
	# parse fails before anything is tested
	mig "$d" "9-bad.sql" "create table zz (x int);\n-- migrate:up\n"
	check "$k: migrations test: a file that does not parse, before anything is tested" 1 '^$' \
		"$d/9-bad.sql:1:1: SQL before the first '-- migrate:up' line" \
		strata --database-url "$DB_URL" migrations test --dir "$d" \
		--shadow-url "sqlite:$TEST_DIR/shadow-$k.sqlite"
	is "$k: ... nor a scratch database made" "$(ls "$TEST_DIR/shadow-$k.sqlite" 2>&1 | grep -c 'No such')" 1
	rm "$d/9-bad.sql"
	mig "$d" "5-broken.sql" "-- migrate:up\ncreate table broken (x int);\ninsert into nowhere values (1);\n-- migrate:down\ndrop table broken;\n"
	check "$k: migrations test: an up that fails is named with its place" 6 'up failed +5-broken' \
		'5-broken.sql:3:' strata --database-url "$DB_URL" migrations test --dir "$d"
}
each_db scenario

# Ctrl-C during migrations test: exit 130, and the scratch database is dropped
if pg_available; then
	new_db pg
	for i in $(seq 1 200); do mig big "$i-t$i.sql" "-- migrate:up\ncreate table t$i (x int);\n-- migrate:down\ndrop table t$i;\n"; done
	scratch() { pg_q "select count(*) from pg_database where datname like 'strata\_scratch\_%'"; }
	# interrupted ARGS...: migrations test --dir big ARGS, Ctrl-C once its first migration's
	# test is over (two of the tables in the scratch database); its output in int.out, its
	# exit code returned
	interrupted() {
		local pid sdb
		"$STRATA" --database-url "$DB_URL" migrations test --dir big "$@" >int.out 2>int.err &
		pid=$!
		until_true 400 eval '[ "$(scratch)" = 1 ]' || diag "no scratch database appeared"
		sdb=$(pg_q "select datname from pg_database where datname like 'strata\_scratch\_%'")
		until_true 400 eval '[ "$("$PSQL" -X -At -d "$sdb" -c "select count(*) from pg_tables where tablename like '"'t%'"'" 2>/dev/null || echo 0)" -ge 2 ]' ||
			diag "no migration tested"
		kill -INT "$pid"
		wait "$pid"
	}
	interrupted
	is "pg: SIGINT stops migrations test: exit 130" "$?" "130"
	is "pg: ... and its scratch database is dropped" "$(scratch)" "0"
	# each migration is said as its test ends, not at the end
	like "pg: ... what was tested before it is said" "$(cat int.out)" '^  ok +1-t1 '
	unlike "pg: ... not all of them" "$(cat int.out)" '200-t200'
	# the same with --json: what was printed is one valid document, ending with why
	interrupted --json
	is "pg: SIGINT stops migrations test --json: exit 130" "$?" "130"
	like "pg: ... its output one document: what was tested, and why it ends" \
		"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); m=d["migrations"]; print(m[0]["version"], m[0]["result"], 0 < len(m) < 200, "ok" in d, d["error"])' int.out 2>&1)" \
		'^1 ok True False .*(interrupt|cancel)'
	pg_q "create table precious (x int); insert into precious values (42)" >/dev/null
	check "pg: the database itself as the shadow, spelled as keywords, is refused" 1 '' \
		'the scratch database is the database being checked' \
		strata --database-url "$DB_URL" migrations test --dir big --from 199 \
		--shadow-url "host=$PGHOST port=${PGPORT:-5432} user=$PGUSER password=${PGPASSWORD:-} dbname=$PG_DB"
	is "pg: ... and its data stays" "$(pg_q 'select x from precious')" "42"
else
	skip "Ctrl-C during migrations test on PostgreSQL" "no PostgreSQL server"
fi

# --shadow-url: the user's scratch database is emptied first and refused when it is a real one
new_db sqlite
mig m_s "1-a.sql" "-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n"
strata --database-url "$DB_URL" migrations run --dir m_s >/dev/null
sq_q "$TEST_DIR/shadow.sqlite" "create table leftover (x int)" >/dev/null
check "sqlite: --shadow-url is emptied first (a leftover table is no drift)" 0 '^no drift' '' \
	strata --database-url "$DB_URL" schema check --dir m_s --shadow-url "sqlite:$TEST_DIR/shadow.sqlite"
is "sqlite: ... and emptied after" "$(sq_q "$TEST_DIR/shadow.sqlite" "select count(*) from sqlite_master")" "0"
check "sqlite: a shadow with migrations applied is refused" 1 '' 'has migrations applied: is it a real one' \
	strata --database-url "sqlite:$TEST_DIR/shadow.sqlite" schema check --dir m_s --shadow-url "$DB_URL"
is "sqlite: ... and left alone" "$(db_history)" "1-a"
check "sqlite: the database itself as the shadow is refused" 1 '' 'the scratch database is the database being checked' \
	strata --database-url "$DB_URL" schema check --dir m_s --shadow-url "$DB_URL"
is "sqlite: ... and left alone" "$(db_tables)" "a,strata_migrations"
sq_q "$TEST_DIR/precious.sqlite" "create table precious (x int); insert into precious values (42)" >/dev/null
check "sqlite: ... also spelled another way (a database strata never migrated)" 1 '' \
	'the scratch database is the database being checked' \
	strata --database-url "sqlite:$TEST_DIR/precious.sqlite" migrations test --dir m_s --shadow-url "sqlite:$TEST_DIR/./precious.sqlite"
is "sqlite: ... and its data stays" "$(sq_q "$TEST_DIR/precious.sqlite" 'select x from precious')" "42"

# "dump_schema" in strata.json
mkdir -p proj && cd proj || bail "cd"
mig . strata.json '{"database_url": "sqlite:app.db", "dump_schema": "db/schema.sql", "sources": ["m"]}\n'
mkdir -p db
mig m "1-a.sql" "-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n"
check "\"dump_schema\": a run writes it" 0 '^applied 1 migration' 'wrote the schema' strata migrations run
like "... with the table" "$(cat db/schema.sql)" 'CREATE TABLE a'
check "... a revert writes it again" 0 '' 'wrote the schema' strata migrations revert
unlike "... without the table" "$(cat db/schema.sql)" 'CREATE TABLE a'
strata migrations run >/dev/null 2>&1
touch -d '2000-01-01' db/schema.sql
check "... a run with nothing to do leaves it alone" 0 '^nothing to run' '^$' strata migrations run
is "... (untouched)" "$(date -r db/schema.sql +%Y)" "2000"
rm db/schema.sql
check "... but writes it when it is not there" 0 '^nothing to run' 'wrote the schema' strata migrations run
like "... with the table" "$(cat db/schema.sql)" 'CREATE TABLE a'
cd ..

done_testing
