#!/usr/bin/env bash
# Reverting golang-migrate pairs: an existing but empty .down.sql reverts as a no-op ("nothing to
# undo", as golang-migrate treats it), a missing .down.sql refuses with a hint about that file;
# a strata file's missing or empty '-- migrate:down' refuses with a hint about the section.
. "$(dirname "$0")/lib.sh"

scenario() {
	local k=$1 d=p_$1
	new_db "$k"
	mig "$d" 1_create_a.up.sql 'create table a (x int);\n'
	mig "$d" 1_create_a.down.sql 'drop table a;\n'
	mig "$d" 2_seed_a.up.sql 'insert into a values (1);\n'
	mig "$d" 2_seed_a.down.sql ''
	mig "$d" 3_comment_only.up.sql 'create table c (x int);\n'
	mig "$d" 3_comment_only.down.sql '-- nothing to undo: c stays\n'
	check "$k: apply the pairs" 0 '^applied 3 migrations' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	check "$k: an empty-of-SQL .down.sql reverts as a no-op" 0 '^  reverted  3-comment_only ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	is "$k: ... c stays, the history forgets it" "$(db_tables);$(db_history)" "a,c,strata_migrations;1-create_a,2-seed_a"
	check "$k: an empty .down.sql reverts as a no-op" 0 '^  reverted  2-seed_a ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	is "$k: ... the row stays, the history forgets it" "$(dbq 'select count(*) from a');$(db_history)" "1;1-create_a"
	check "$k: revert the rest" 0 '^  reverted  1-create_a ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --all
	is "$k: ... a is gone" "$(db_tables)" "c,strata_migrations"

	# a pair without its .down.sql
	d=q_$k
	new_db "$k"
	mig "$d" 1_create_b.up.sql 'create table b (x int);\n'
	check "$k: apply an up file alone" 0 '^applied 1 migration' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	check "$k: a missing .down.sql refuses" 1 '^$' \
		"^strata: error: $d/1_create_b\\.up\\.sql: cannot revert 1-create_b: it has no \\.down\\.sql file\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	like "$k: ... the hint names the file to create" "$err" \
		"^hint: create $d/1_create_b\\.down\\.sql beside it with the statements that undo it \\(an empty file means there is nothing to undo\\)\$"
	is "$k: ... nothing reverted" "$(db_history)" "1-create_b"

	# strata files: the hints speak of the section
	d=s_$k
	new_db "$k"
	mig "$d" 1-NoDown.sql '-- migrate:up\ncreate table n (x int);\n'
	mig "$d" 2-EmptyDown.sql '-- migrate:up\ncreate table e (x int);\n-- migrate:down\n'
	strata --database-url "$DB_URL" migrations run --dir "$d" >/dev/null
	check "$k: an empty down section refuses" 1 '^$' \
		"^strata: error: $d/2-EmptyDown\\.sql: cannot revert 2-EmptyDown: its down section is empty\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	like "$k: ... hint" "$err" "^hint: write the statements that undo it under '-- migrate:down'\$"
	rm "$d/2-EmptyDown.sql"
	dbq "delete from strata_migrations where name = 'EmptyDown'"
	check "$k: a missing down section refuses" 1 '^$' \
		"^strata: error: $d/1-NoDown\\.sql: cannot revert 1-NoDown: its down section is missing\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	like "$k: ... hint" "$err" "^hint: add a '-- migrate:down' line and the statements that undo it below it\$"
}
each_db scenario
done_testing
