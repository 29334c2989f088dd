#!/usr/bin/env bash
# transaction:false migrations that fail part-way (issue 4, item 5), on SQLite and PostgreSQL:
# a 4-statement migration failing at statement 3 keeps statements 1-2, is recorded as failed
# with its progress, blocks `run` and `revert`, shows as failed; `repair` (after fixing the file
# and building) resumes at statement 3 without re-running 1-2; `repair --mark-applied` records
# a migration the user finished by hand; `repair` with nothing to repair exits 0.
. "$(dirname "$0")/lib.sh"

proj() {
	mkdir -p "$TEST_DIR/$1/src/migrations" && cd "$TEST_DIR/$1" &&
		printf '{"database_url": "%s"}\n' "$DB_URL" >strata.json
}
table_ex() {
	if [ "$DB_KIND" = pg ]; then
		pg_q "select count(*) from pg_tables where schemaname = 'public' and tablename = '$1'"
	else
		sq_q "$DB_FILE" "select count(*) from sqlite_master where type = 'table' and name = '$1'"
	fi
}
# row NAME: status|progress of a history row
row() { dbq "select status || '|' || progress from strata_migrations where name = '$1'"; }
uq_values() {
	if [ "$DB_KIND" = pg ]; then pg_q "select string_agg(x::text, ',' order by x) from uq"; else
		sq_q "$DB_FILE" 'select group_concat(x) from (select x from uq order by x)'; fi
}
# half V3: the transaction:false migration; its statement 3 inserts V3 into the unique uq.x
half() {
	mig src/migrations 2-Half.sql "-- migrate:up transaction:false
insert into log values (1);
create table s2 (x int);
insert into uq values ($1);
create table s4 (x int);
-- migrate:down
drop table s4;
drop table s2;
"
}

scenario() {
	local k=$1 s
	new_db "$k"
	proj "nontx-$k"
	mig src/migrations 1-Log.sql '-- migrate:up\ncreate table log (x int);\ncreate table uq (x int unique);\n-- migrate:down\ndrop table uq;\ndrop table log;\n'
	half 7
	mig src/migrations 3-Later.sql '-- migrate:up\ncreate table later (x int);\n-- migrate:down\ndrop table later;\n'
	check "$k: build" 0 '^built 3 migrations' '^$' strata build
	check "$k: run --to 1" 0 '^  applied   1-Log ' '^$' strata migrations run --to 1
	dbq 'insert into uq values (7)' >/dev/null # statement 3 will hit the unique constraint

	check "$k: statement 3 of 4 fails" 1 '^applying 2 migrations to ' \
		'^strata: error: src/migrations/2-Half\.sql:4:1: .*(UNIQUE constraint failed: uq\.x|duplicate key value violates unique constraint "uq_x_key" \[23505\])$' \
		strata migrations run
	like "$k: ... shows the line" "$err" '^     4 \| insert into uq values \(7\);$'
	like "$k: ... says statement 3 of 4 failed and is recorded as failed" "$err" \
		'^strata: 2-Half is transaction:false: statement 3 of 4 failed, the 2 before it stay done, and it is recorded as failed$'
	like "$k: ... hint: repair from statement 3" "$err" \
		"^hint: fix the file and run 'strata migrations repair' to resume from statement 3, or fix the database by hand and run 'strata migrations repair --mark-applied'$"
	unlike "$k: ... 2-Half is not reported applied" "$out" '^  applied   2-Half'
	is "$k: ... history row: failed, progress 2" "$(row Half)" 'failed|2'
	is "$k: ... statement 1 ran once" "$(dbq 'select count(*) from log')" 1
	is "$k: ... statement 2 done, statement 4 not, 3-Later not run" \
		"$(table_ex s2)$(table_ex s4)$(table_ex later)" 100

	check "$k: show lists it as failed" 0 '^failed +2 +Half ' '^$' strata migrations show
	like "$k: ... and counts it" "$out" "^3 migrations: 1 applied, 1 pending, 1 failed part-way \(see 'strata migrations repair'\) "
	check "$k: show --json" 0 '' '^$' strata migrations show --json
	s=$(printf '%s' "$out" | tr -d ' \n')
	like "$k: ... status \"failed\"" "$s" '"version":"2","name":"Half","status":"failed"'
	like "$k: ... counts failed: 1" "$s" '"applied":1,"pending":1,"missing":0,"failed":1}$'

	check "$k: run refuses, even for the other pending migration" 1 '^$' \
		'^strata: error: src/migrations/2-Half\.sql: migration 2-Half is failed$' \
		strata migrations run
	like "$k: ... says where it stopped" "$err" '^detail: it is transaction:false and stopped before statement 3$'
	like "$k: ... nothing was applied" "$err" '^strata: nothing was applied$'
	is "$k: ... 3-Later not run" "$(table_ex later) $(row Later)" "0 "
	check "$k: run --to 3 refuses too" 1 '^$' 'migration 2-Half is failed' strata migrations run --to 3
	check "$k: revert refuses to revert it" 1 '^$' \
		'^strata: error: src/migrations/2-Half\.sql: cannot revert 2-Half: it is failed, not applied$' \
		strata migrations revert
	like "$k: ... nothing was reverted" "$err" '^strata: nothing was reverted$'
	is "$k: ... s2 stays, 1-Log stays" "$(table_ex s2)$(table_ex log) $(row Half)" '11 failed|2'
	check "$k: validate reports it" 1 '^$' '^strata: 1 problem found$' strata migrations validate
	like "$k: ... naming it" "$err" '^strata: error: src/migrations/2-Half\.sql: migration 2-Half is failed$'

	# fix the file; repair needs the build to be up to date
	half 8
	check "$k: repair before building the fix is refused" 1 '^$' \
		'^strata: error: src/migrations/2-Half\.sql: migration changed since the last build$' \
		strata migrations repair
	is "$k: ... still failed" "$(row Half)" 'failed|2'
	strata build >/dev/null
	check "$k: repair resumes at statement 3" 0 '^resuming 2-Half from statement 3$' '^$' \
		strata migrations repair
	like "$k: ... and applies it" "$out" '^  applied   2-Half '
	is "$k: ... applied, progress 4" "$(row Half)" 'applied|4'
	is "$k: ... statement 1 not run again" "$(dbq 'select count(*) from log')" 1
	is "$k: ... statements 3 and 4 ran" "$(uq_values)$(table_ex s4)" '7,81'
	is "$k: ... repair does not run other pending migrations" "$(table_ex later)" 0
	check "$k: validate is clean: the history has the fixed file's checksum" 0 '^ok: 3 migrations; ' '^$' \
		strata migrations validate
	check "$k: run goes on with 3-Later" 0 '^  applied   3-Later ' '^$' strata migrations run
	check "$k: repair with nothing to repair" 0 '^nothing to repair: no migration is failed or unfinished ' '^$' \
		strata migrations repair
	is "$k: ... changes nothing" "$(db_history) $(row Half)" '1-Log,2-Half,3-Later applied|4'
	# said holding a migration and a row at a time: the history read row by row, the build
	# proven as validate proves it
	check "$k: ... read a migration at a time (-v)" 0 \
		'^checked 3 migrations as the migrations and the history were read' '^$' \
		strata -v migrations repair
	printf -- '-- edited\n' >>dist/migrations/1-Log.sql
	check "$k: ... a build that does not match its manifest: the full read, the same answer" 0 \
		'^nothing to repair: ' '^$' strata -v migrations repair
	unlike "$k: ... (not a migration at a time)" "$out" '^checked'
	strata -q build >/dev/null

	# --mark-applied: the user finishes it by hand
	mig src/migrations 4-Mark.sql '-- migrate:up transaction:false\ncreate table m1 (x int);\ninsert into uq values (9);\ncreate table m3 (x int);\n-- migrate:down\ndrop table m3;\ndrop table m1;\n'
	check "$k: build 4-Mark" 0 '^built 4 migrations' '^$' strata build
	dbq 'insert into uq values (9)' >/dev/null
	check "$k: another transaction:false migration fails at statement 2" 1 '' \
		'statement 2 of 3 failed, the 1 before it stay done, and it is recorded as failed' \
		strata migrations run
	is "$k: ... failed, progress 1" "$(row Mark)" 'failed|1'
	dbq 'create table m3 (x int)' >/dev/null # by hand
	check "$k: repair --mark-applied records it" 0 \
		'^marked 4-Mark as applied \(it had stopped before statement 2\)$' '^$' \
		strata migrations repair --mark-applied
	is "$k: ... applied" "$(row Mark | cut -d'|' -f1)" applied
	is "$k: ... no statement ran again (m3 is the one made by hand)" "$(table_ex m1)$(table_ex m3)" 11
	check "$k: validate is clean" 0 '^ok: 4 migrations; ' '^$' strata migrations validate
	check "$k: run has nothing left to do" 0 '^nothing to run: 4 migrations, all applied ' '^$' strata migrations run
	is "$k: ... history" "$(db_history)" 1-Log,2-Half,3-Later,4-Mark
	cd "$TEST_DIR"
}

each_db scenario
done_testing
