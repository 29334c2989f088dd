#!/usr/bin/env bash
# A failing migration: exit 1, file:line:col, the database's message, the source line with a
# caret; that migration is rolled back, the ones before stay applied.
. "$(dirname "$0")/lib.sh"

good() { # DIR
	mig "$1" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$1" 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
}

scenario() {
	local k=$1 d=syn_$1 msg
	# a syntax error on line 4, column 3 (the server or SQLite gives the position)
	new_db "$k"
	good "$d"
	mig "$d" 3-Bad.sql '-- migrate:up\ncreate table bad (x int);\n-- a comment\n  selec 1;\ncreate table bad2 (x int);\n-- migrate:down\ndrop table bad;\n'
	mig "$d" 4-Later.sql '-- migrate:up\ncreate table later (x int);\n'
	if [ "$k" = pg ]; then msg='syntax error at or near "selec" \[42601\]'; else msg='near "selec": syntax error'; fi
	check "$k: a syntax error fails the run" 1 '' "^strata: error: $d/3-Bad.sql:4:3: $msg\$" \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... stdout: the first two applied, no summary" "$(printf '%s\n' "$out" | norm)" \
"applying 4 migrations to $DB_DISPLAY
  applied   1-A  T
  applied   2-B  T"
	like "$k: ... the source line" "$err" '^     4 \|   selec 1;$'
	like "$k: ... a caret under column 3" "$err" '^       \|   \^$'
	like "$k: ... 3-Bad was rolled back" "$err" '^strata: 3-Bad was rolled back$'
	like "$k: ... the two before stay applied" "$err" '^strata: the 2 migrations applied before it stay applied$'
	is "$k: ... tables: bad (created before the error) is rolled back, later never ran" \
		"$(db_tables)" "a,b,strata_migrations"
	is "$k: ... history" "$(db_history)" "1-A,2-B"
	check "$k: show: 2 applied, 2 pending" 0 '^4 migrations: 2 applied, 2 pending ' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	check "$k: running again fails the same way (nothing half-done)" 1 '^applying 2 migrations' \
		"^strata: error: $d/3-Bad.sql:4:3: " \
		strata --database-url "$DB_URL" migrations run --dir "$d"

	# a runtime error without a position: a unique violation in the 3rd of 4 statements, on
	# line 3 (after two statements on line 2): placed at the start of that statement
	d=uq_$k
	new_db "$k"
	good "$d"
	mig "$d" 3-Uq.sql '-- migrate:up\ncreate table uq (x int primary key); insert into uq values (1);\n    insert into uq values (1);\ncreate table after_uq (x int);\n-- migrate:down\ndrop table uq;\n'
	if [ "$k" = pg ]; then msg='duplicate key value violates unique constraint "uq_pkey" \[23505\]'; else msg='UNIQUE constraint failed: uq.x'; fi
	check "$k: a unique violation fails the run" 1 '^  applied   2-B ' \
		"^strata: error: $d/3-Uq.sql:3:5: $msg\$" \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	like "$k: ... the source line" "$err" '^     3 \|     insert into uq values \(1\);$'
	like "$k: ... caret under column 5" "$err" '^       \|     \^$'
	[ "$k" = pg ] && like "$k: ... the server's detail" "$err" '^detail: Key \(x\)=\(1\) already exists\.$'
	is "$k: ... rolled back: no uq, no after_uq" "$(db_tables)" "a,b,strata_migrations"
	is "$k: ... history" "$(db_history)" "1-A,2-B"

	# an error without a position, in a statement after a comment line: placed at the statement,
	# not at the comment before it
	d=cmt_$k
	new_db "$k"
	mig "$d" 1-Cmt.sql '-- migrate:up\ncreate table a (x int primary key);\n-- now a duplicate\ninsert into a values (1), (1);\n-- migrate:down\ndrop table a;\n'
	if [ "$k" = pg ]; then msg='duplicate key value violates unique constraint "a_pkey" \[23505\]'; else msg='UNIQUE constraint failed: a.x'; fi
	check "$k: a runtime error after a comment line is placed at the statement" 1 '' \
		"^strata: error: $d/1-Cmt.sql:4:1: $msg\$" \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	like "$k: ... shows the statement's line" "$err" '^     4 \| insert into a values \(1\), \(1\);$'
	is "$k: ... rolled back" "$(db_tables);$(db_history)" "strata_migrations;"

	# a tab before the error: the caret line keeps the tab so it lines up
	d=tab_$k
	new_db "$k"
	mig "$d" 1-Tab.sql '-- migrate:up\n\tselect nocol;\n'
	check "$k: an error after a tab" 1 '' "^strata: error: $d/1-Tab.sql:2:9: .*nocol" \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	like "$k: ... the caret line has the tab" "$err" "^       \\| $(printf '\t')       \\^\$"

	# non-ASCII text before the error: columns count characters
	d=utf_$k
	new_db "$k"
	mig "$d" 1-Utf.sql '-- migrate:up\ncreate table z (x text);\ninsert into z values ('"'"'héllo'"'"', nocolumn);\n'
	check "$k: an error after non-ASCII text" 1 '' "^strata: error: $d/1-Utf.sql:3:32: .*nocolumn" \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	like "$k: ... caret under column 32" "$err" '^       \| {32}\^$'

	# CRLF: the location counts lines the same way
	d=crlf_$k
	new_db "$k"
	mig "$d" 1-Crlf.sql '-- migrate:up\r\ncreate table c (x int);\r\nselect nocol from c;\r\n-- migrate:down\r\ndrop table c;\r\n'
	check "$k: an error in a CRLF file" 1 '' \
		"^strata: error: $d/1-Crlf.sql:3:8: .*nocol" \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	like "$k: ... the source line has no CR" "$err" '^     3 \| select nocol from c;$'
	is "$k: ... nothing applied" "$(db_tables);$(db_history)" "strata_migrations;"
}
each_db scenario

if pg_available; then
	# PostgreSQL only: a runtime error in the second statement of a line, and errors past
	# non-ASCII text (the server counts characters, not bytes)
	new_db pg
	mig z 1-Div.sql '-- migrate:up\ncreate table z (x text);\ninsert into z values ('"'"'héllo wörld'"'"'); select 1/0;\n-- migrate:down\ndrop table z;\n'
	check 'pg: division by zero in the 2nd statement of line 3' 1 '' \
		'^strata: error: z/1-Div.sql:3:39: division by zero \[22012\]$' \
		strata --database-url "$DB_URL" migrations run --dir z
	like '... caret under column 39 (characters, not bytes)' "$err" \
		'^       \| {39}\^$'
	is '... rolled back' "$(db_tables);$(db_history)" "strata_migrations;"
	rm z/1-Div.sql
	mig z 1-Pos.sql '-- migrate:up\ncreate table z (x text);\ninsert into z values ('"'"'héllo'"'"', nocolumn);\n-- migrate:down\ndrop table z;\n'
	check 'pg: an error with a position after non-ASCII text' 1 '' \
		'^strata: error: z/1-Pos.sql:3:32: .*nocolumn.* \[42703\]$' \
		strata --database-url "$DB_URL" migrations run --dir z
else
	skip 'PostgreSQL-only failures' 'no PostgreSQL server'
fi
done_testing
