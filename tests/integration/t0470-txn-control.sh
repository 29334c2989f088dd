#!/usr/bin/env bash
# A BEGIN, COMMIT or ROLLBACK of its own in a section strata runs in a transaction (issue 10,
# item 9): build, lint and run refuse it on both engines alike, at file:line:col with the source
# line, a caret and the fix, and a run refuses before it sends anything (no table left behind,
# no history row). SAVEPOINT / ROLLBACK TO / RELEASE stay inside the transaction and are
# allowed; a transaction:false section (or a golang-migrate file marked -- strata:no-transaction)
# may hold anything. --transaction all gets the same check, and so does every statement of a
# goose StatementBegin/End block. A section with none of the words such a statement starts with
# is not split to check it: when its text does not scan (a string left open), the database
# refuses it and the error is placed where the text goes wrong.
. "$(dirname "$0")/lib.sh"

tree() { (cd "$1" && find . -type f | sort | xargs sha256sum); }

GADGETS='-- migrate:up\nBEGIN;\nCREATE TABLE gadgets (id int);\nCOMMIT;\nINSERT INTO nope VALUES (1);\n-- migrate:down\nDROP TABLE gadgets;\n'
DETAIL='detail: strata runs each migration and its history row in one transaction; a BEGIN, COMMIT or ROLLBACK of its own would commit part of it on its own, or leave part of it applied when a later statement fails'

# ---- build and lint, in both dialects (no database) ----
for dialect in sqlite postgres; do
	rm -rf src dist
	mig src/migrations 1-Ok.sql '-- migrate:up\ncreate table ok (id int);\n-- migrate:down\ndrop table ok;\n'
	check "$dialect: build of a good migration" 0 '^built 1 migration ' '^$' strata build --dialect "$dialect"
	before=$(tree dist)
	mig src/migrations 2-Gadgets.sql "$GADGETS"
	check "$dialect: build refuses BEGIN in a transactional section" 1 '^$' '' strata build --dialect "$dialect"
	is "$dialect: ... stderr: the place, the line, a caret, why and the fix" "$err" \
"strata: error: src/migrations/2-Gadgets.sql:2:1: BEGIN inside the transaction the migration runs in
     2 | BEGIN;
       | ^
$DETAIL
hint: remove it (strata runs the section in a transaction), or mark the section '-- migrate:up transaction:false' to run it without one
strata: build stopped; dist/migrations was not changed"
	is "$dialect: ... dist unchanged" "$(tree dist)" "$before"
	check "$dialect: lint refuses it the same way" 1 '' \
		'^strata: error: src/migrations/2-Gadgets.sql:2:1: BEGIN inside the transaction the migration runs in$' \
		strata lint --dialect "$dialect"
	like "$dialect: ... with the caret" "$err" '^       \| \^$'

	# each statement is found where it is, whatever comes before it
	mig src/migrations 2-Gadgets.sql '-- migrate:up\ncreate table gadgets (id int);\n  /* done */ commit work;\n'
	check "$dialect: COMMIT WORK after a comment" 1 '^$' \
		'^strata: error: src/migrations/2-Gadgets.sql:3:14: COMMIT inside the transaction the migration runs in$' \
		strata build --dialect "$dialect"
	like "$dialect: ... the source line" "$err" '^     3 \|   /\* done \*/ commit work;$'
	for stmt in 'end' 'rollback' 'rollback and chain' 'start transaction'; do
		mig src/migrations 2-Gadgets.sql "-- migrate:up\ncreate table gadgets (id int);\n$stmt;\n"
		check "$dialect: '$stmt' refused" 1 '^$' \
			"^strata: error: src/migrations/2-Gadgets.sql:3:1: [A-Z ]+ inside the transaction the migration runs in\$" \
			strata build --dialect "$dialect"
	done
	# in a down section: the hint names it
	mig src/migrations 2-Gadgets.sql '-- migrate:up\ncreate table gadgets (id int);\n-- migrate:down\nbegin;\ndrop table gadgets;\ncommit;\n'
	check "$dialect: BEGIN in a down section" 1 '^$' \
		'^strata: error: src/migrations/2-Gadgets.sql:4:1: BEGIN inside the transaction the migration runs in$' \
		strata build --dialect "$dialect"
	like "$dialect: ... the hint names the down section" "$err" "'-- migrate:down transaction:false'"
	# savepoints stay inside the transaction
	mig src/migrations 2-Gadgets.sql '-- migrate:up\nsavepoint a;\ncreate table gadgets (id int);\nrollback to savepoint a;\nrelease savepoint a;\n-- migrate:down\nselect 1;\n'
	check "$dialect: SAVEPOINT, ROLLBACK TO and RELEASE are allowed" 0 '^built 2 migrations ' '^$' \
		strata build --dialect "$dialect"
	# transaction:false sections may hold anything
	mig src/migrations 2-Gadgets.sql '-- migrate:up transaction:false\nBEGIN;\nCREATE TABLE gadgets (id int);\nCOMMIT;\n-- migrate:down transaction:false\nbegin;\ndrop table gadgets;\ncommit;\n'
	check "$dialect: allowed in transaction:false sections" 0 '^built 2 migrations ' '^$' \
		strata build --dialect "$dialect"
	# golang-migrate pairs: the hint says how to mark the file
	rm src/migrations/2-Gadgets.sql
	mig src/migrations 3_widgets.up.sql 'BEGIN;\nCREATE TABLE widgets (id int);\nCOMMIT;\n'
	mig src/migrations 3_widgets.down.sql 'DROP TABLE widgets;\n'
	check "$dialect: a .up.sql file with BEGIN/COMMIT" 1 '^$' \
		'^strata: error: src/migrations/3_widgets.up.sql:1:1: BEGIN inside the transaction the migration runs in$' \
		strata build --dialect "$dialect"
	like "$dialect: ... hint: the file's first line" "$err" \
		"^hint: remove it \(strata runs the file in a transaction\), or make '-- strata:no-transaction' the first line of the file to run it without one$"
	mig src/migrations 3_widgets.up.sql '-- strata:no-transaction\nBEGIN;\nCREATE TABLE widgets (id int);\nCOMMIT;\n'
	check "$dialect: ... built once marked -- strata:no-transaction" 0 '^built 2 migrations ' '^$' \
		strata build --dialect "$dialect"
done

# PostgreSQL only: a BEGIN ATOMIC function body holds ';' and an END that ends no transaction
rm -rf src dist
mig src/migrations 1-Fn.sql '-- migrate:up\ncreate table t (a int);\ncreate function t_count() returns bigint language sql\nbegin atomic\n  select count(*) from t;\nend;\n-- migrate:down\ndrop function t_count();\ndrop table t;\n'
check 'postgres: a BEGIN ATOMIC function is not transaction control' 0 '^built 1 migration ' '^$' \
	strata build --dialect postgres
# SQLite only: a trigger's BEGIN ... END neither
mig src/migrations 1-Fn.sql '-- migrate:up\ncreate table t (a int);\ncreate trigger t_ins after insert on t begin\n  update t set a = a + 1;\nend;\n-- migrate:down\ndrop table t;\n'
check 'sqlite: a trigger body is not transaction control' 0 '^built 1 migration ' '^$' strata build

# ---- run: refused before anything is sent ----
scenario() {
	local k=$1 d=m_$1
	mig "$d" 1-Ok.sql '-- migrate:up\ncreate table ok (id int);\n-- migrate:down\ndrop table ok;\n'
	mig "$d" 2-Gadgets.sql "$GADGETS"
	mig "$d" 3-Later.sql '-- migrate:up\ncreate table later (id int);\n-- migrate:down\ndrop table later;\ncommit;\n'

	new_db "$k"
	check "$k: run refuses a BEGIN in a transactional section" 1 '' '' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... stderr" "$err" \
"strata: error: $d/2-Gadgets.sql:2:1: BEGIN inside the transaction the migration runs in
     2 | BEGIN;
       | ^
$DETAIL
hint: remove it (strata runs the section in a transaction), or mark the section '-- migrate:up transaction:false' to run it without one
strata: nothing was applied: the run stopped before it began"
	unlike "$k: ... nothing applied, not even the migration before it" "$out" 'applied   1-Ok'
	is "$k: ... no table left behind, no history row" "$(db_tables);$(db_history)" "strata_migrations;"

	new_db "$k"
	check "$k: --transaction all: the same check" 1 '' \
		"^strata: error: $d/2-Gadgets.sql:2:1: BEGIN inside the transaction the migration runs in\$" \
		strata --database-url "$DB_URL" migrations run --dir "$d" --transaction all
	like "$k: ... why" "$err" '^detail: with --transaction all, every migration of the run goes in one transaction, which this statement would end or split$'
	like "$k: ... the fix" "$err" '^hint: remove it, or run with --transaction each$'
	like "$k: ... the report" "$err" '^strata: nothing was applied: the run stopped before it began$'
	is "$k: ... nothing applied" "$(db_tables);$(db_history)" "strata_migrations;"

	# marked transaction:false, it runs statement by statement, its own BEGIN/COMMIT included
	mig "$d" 2-Gadgets.sql '-- migrate:up transaction:false\nBEGIN;\nCREATE TABLE gadgets (id int);\nCOMMIT;\n-- migrate:down transaction:false\nBEGIN;\nDROP TABLE gadgets;\nCOMMIT;\n'
	check "$k: a transaction:false section may hold BEGIN/COMMIT" 0 '^applied 3 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... applied" "$(db_tables);$(db_history)" "gadgets,later,ok,strata_migrations;1-Ok,2-Gadgets,3-Later"
	# a down section is checked when it is to run: nothing is reverted
	check "$k: revert refuses a COMMIT in a down section" 1 '' \
		"^strata: error: $d/3-Later.sql:5:1: COMMIT inside the transaction the migration runs in\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	like "$k: ... the down section's hint" "$err" "'-- migrate:down transaction:false'"
	is "$k: ... nothing reverted" "$(db_tables);$(db_history)" "gadgets,later,ok,strata_migrations;1-Ok,2-Gadgets,3-Later"

	# savepoints: allowed, and they do what they say inside the migration's transaction
	local s=sp_$k
	mig "$s" 1-Save.sql '-- migrate:up\ncreate table kept (id int);\nsavepoint a;\ncreate table undone (id int);\nrollback to savepoint a;\nrelease savepoint a;\n-- migrate:down\ndrop table kept;\n'
	new_db "$k"
	check "$k: SAVEPOINT / ROLLBACK TO / RELEASE run" 0 '^applied 1 migration in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$s"
	is "$k: ... the savepoint was rolled back to, the migration applied" "$(db_tables);$(db_history)" \
		"kept,strata_migrations;1-Save"

	# a string left open and none of the words that start BEGIN, COMMIT...: the run does not
	# split the section to check it, the database refuses it in the migration's transaction,
	# and the error is placed where the text goes wrong, not in what strata sent after it
	local u=open_$k
	mig "$u" 1-Open.sql "-- migrate:up\ncreate table opened (id int);\nselect 'open;\n-- migrate:down\ndrop table opened;\nselect 'open;\n"
	new_db "$k"
	check "$k: a string left open: refused where it opens" 1 '' \
		"^strata: error: $u/1-Open.sql:3:8: (unterminated quoted string|unrecognized token)" \
		strata --database-url "$DB_URL" migrations run --dir "$u"
	like "$k: ... the source line" "$err" "^     3 \| select 'open;\$"
	like "$k: ... rolled back" "$err" '^strata: 1-Open was rolled back$'
	is "$k: ... nothing applied" "$(db_tables);$(db_history)" "strata_migrations;"
	mig "$u" 1-Open.sql "-- migrate:up\ncreate table opened (id int);\n-- migrate:down\ndrop table opened;\nselect 'open;\n"
	check "$k: ... in a down section" 0 '^applied 1 migration in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$u"
	check "$k: ... revert refuses it where it opens" 1 '' \
		"^strata: error: $u/1-Open.sql:5:8: (unterminated quoted string|unrecognized token)" \
		strata --database-url "$DB_URL" migrations revert --dir "$u"
	is "$k: ... nothing reverted" "$(db_tables);$(db_history)" "opened,strata_migrations;1-Open"
	if [ "$k" = pg ]; then
		# standard_conforming_strings off: 'it\'s' is a whole string for the server, not for
		# the scanner (which reads it on); the server's error about the section stays
		pg_q "alter database \"$PG_DB\" set standard_conforming_strings = off" >/dev/null
		mig "$u" 2-Escaped.sql "-- migrate:up\ncreate table escaped (x text);\ninsert into escaped values ('it\\\\'s');\ninsert into nosuch values (1);\n"
		check "$k: scs off, a string with \\': the server's error, where it is" 1 '' \
			"^strata: error: $u/2-Escaped.sql:4:13: relation \"nosuch\" does not exist \\[42P01\\]\$" \
			strata --database-url "$DB_URL" migrations run --dir "$u"
		rm "$u/2-Escaped.sql"
		# ... and where the scanner would read a COMMIT the server runs as part of a string,
		# or the other way round, the run refuses what it cannot check
		local c=scs_$k
		mig "$c" 1-Hidden.sql "-- migrate:up\ncreate table hidden_a (x int);\nselect 'a\\\\', '; commit; create table hidden_b (x int); select 1/0; --';\n-- migrate:down\ndrop table hidden_a;\n"
		new_db "$k"
		pg_q "alter database \"$PG_DB\" set standard_conforming_strings = off" >/dev/null
		check "$k: scs off, a section with COMMIT somewhere: refused" 1 '' \
			"^strata: error: $c/1-Hidden.sql:2:1: cannot check this migration for BEGIN, COMMIT or ROLLBACK: standard_conforming_strings off\$" \
			strata --database-url "$DB_URL" migrations run --dir "$c"
		like "$k: ... with the fix" "$err" '^hint: turn it on for strata.s session \(add options=-c%20standard_conforming_strings%3Don '
		like "$k: ... before anything was sent" "$err" '^strata: nothing was applied: the run stopped before it began$'
		is "$k: ... nothing applied" "$(db_tables);$(db_history)" "strata_migrations;"
		check "$k: ... runs with it on for strata's session (one string: nothing committed early)" 0 \
			'^applied 1 migration in ' '^$' \
			strata --database-url "$DB_URL?options=-c%20standard_conforming_strings%3Don" migrations run --dir "$c"
		is "$k: ... applied" "$(db_tables);$(db_history)" "hidden_a,strata_migrations;1-Hidden"
		pg_q "alter database \"$PG_DB\" reset standard_conforming_strings" >/dev/null
	fi

	# a goose StatementBegin/End block goes to the database whole, which runs every statement
	# in it: a COMMIT inside one is refused as anywhere else
	local b=block_$k
	mig "$b" 1_blocked.sql '-- +goose Up\n-- +goose StatementBegin\ncreate table blocked (id int);\ncommit;\ninsert into nosuch values (1);\n-- +goose StatementEnd\n\n-- +goose Down\ndrop table blocked;\n'
	new_db "$k"
	check "$k: a COMMIT inside a goose block is refused" 1 '' \
		"^strata: error: $b/1_blocked.sql:4:1: COMMIT inside the transaction the migration runs in\$" \
		strata --database-url "$DB_URL" migrations run --dir "$b"
	like "$k: ... before anything was sent" "$err" '^strata: nothing was applied: the run stopped before it began$'
	is "$k: ... nothing applied, not even the statement before it" "$(db_tables);$(db_history)" "strata_migrations;"

	# golang-migrate pairs
	local g=go_$k
	mig "$g" 1_widgets.up.sql 'BEGIN;\nCREATE TABLE widgets (id int);\nCOMMIT;\n'
	mig "$g" 1_widgets.down.sql 'BEGIN;\nDROP TABLE widgets;\nCOMMIT;\n'
	new_db "$k"
	check "$k: a golang-migrate .up.sql with BEGIN/COMMIT is refused" 1 '' \
		"^strata: error: $g/1_widgets.up.sql:1:1: BEGIN inside the transaction the migration runs in\$" \
		strata --database-url "$DB_URL" migrations run --dir "$g"
	like "$k: ... hint: -- strata:no-transaction" "$err" "make '-- strata:no-transaction' the first line of the file"
	is "$k: ... nothing applied" "$(db_tables);$(db_history)" "strata_migrations;"
	mig "$g" 1_widgets.up.sql '-- strata:no-transaction\nBEGIN;\nCREATE TABLE widgets (id int);\nCOMMIT;\n'
	check "$k: ... applied once the .up.sql is marked" 0 '^applied 1 migration in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$g"
	is "$k: ... widgets" "$(db_tables);$(db_history)" "strata_migrations,widgets;1-widgets"
	check "$k: ... its unmarked .down.sql is refused" 1 '' \
		"^strata: error: $g/1_widgets.down.sql:1:1: BEGIN inside the transaction the migration runs in\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$g"
	is "$k: ... nothing reverted" "$(db_tables);$(db_history)" "strata_migrations,widgets;1-widgets"
	local g2=go2_$k
	mig "$g2" 1_widgets.up.sql '-- strata:no-transaction\nBEGIN;\nCREATE TABLE widgets (id int);\nCOMMIT;\n'
	mig "$g2" 1_widgets.down.sql '-- strata:no-transaction\nBEGIN;\nDROP TABLE widgets;\nCOMMIT;\n'
	new_db "$k"
	check "$k: a pair marked on both files applies" 0 '^applied 1 migration in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$g2"
	check "$k: ... and reverts" 0 '^reverted 1 migration in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$g2"
	is "$k: ... widgets gone" "$(db_tables);$(db_history)" "strata_migrations;"
}

each_db scenario

# ---- validate makes the same check as run ----
vscenario() {
	local k=$1 d=v_$1
	new_db "$k"
	mig "$d" 1-Ok.sql '-- migrate:up
create table ok (id int);
-- migrate:down
drop table ok;
'
	mig "$d" 2-Gadgets.sql "$GADGETS"
	check "$k: validate reports a BEGIN in a transactional section" 1 '^$' \
		"^strata: error: $d/2-Gadgets.sql:2:1: BEGIN inside the transaction the migration runs in\$" \
		strata --database-url "$DB_URL" migrations validate --dir "$d"
	like "$k: ... and counts it" "$err" '^strata: 1 problem found$'
}
each_db vscenario
done_testing
