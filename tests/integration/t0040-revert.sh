#!/usr/bin/env bash
# migrations revert: one step by default, --steps N, --to VERSION, --all, --dry-run; refusals
# (no down section, file missing on disk) revert nothing.
. "$(dirname "$0")/lib.sh"

five() { # DIR
	local v
	for v in 1 2 3 9 10; do
		mig "$1" "$v-M$v.sql" "-- migrate:up\ncreate table t$v (x int);\n-- migrate:down\ndrop table t$v;\n"
	done
}

scenario() {
	local k=$1 d=m_$1
	five "$d"
	new_db "$k"
	check "$k: nothing to revert on an empty database" 0 \
		"^nothing to revert \\($(req "$DB_DISPLAY")\\)\$" '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	strata --database-url "$DB_URL" migrations run --dir "$d" >/dev/null 2>&1
	is "$k: setup: all five applied" "$(db_history)" "1-M1,2-M2,3-M3,9-M9,10-M10"

	check "$k: --dry-run prints the down SQL" 0 '' \
		"^strata: dry run: 1 migration would be reverted on $(req "$DB_DISPLAY"); nothing was changed\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --dry-run
	is "$k: ... stdout" "$out" "-- revert 10-M10 ($d/10-M10.sql)
drop table t10;"
	check "$k: --dry-run --all lists all five, newest first" 0 '' 'would be reverted' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --dry-run --all
	is "$k: ... headers" "$(printf '%s\n' "$out" | grep '^-- revert' | cut -d' ' -f3 | tr '\n' ' ')" \
		"10-M10 9-M9 3-M3 2-M2 1-M1 "
	is "$k: ... changed nothing" "$(db_history)" "1-M1,2-M2,3-M3,9-M9,10-M10"

	check "$k: revert reverts one, the newest (10 after 9)" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	is "$k: ... stdout" "$(printf '%s\n' "$out" | norm)" "reverting 1 migration on $DB_DISPLAY
  reverted  10-M10  T
reverted 1 migration in T"
	is "$k: ... tables" "$(db_tables)" "strata_migrations,t1,t2,t3,t9"
	is "$k: ... history" "$(db_history)" "1-M1,2-M2,3-M3,9-M9"

	check "$k: --steps 2" 0 '^reverted 2 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --steps 2
	like "$k: ... 9 first" "$(printf '%s\n' "$out" | sed -n 2,3p | tr '\n' ' ')" '^  reverted  9-M9 .*  reverted  3-M3 '
	is "$k: ... tables" "$(db_tables)" "strata_migrations,t1,t2"
	is "$k: ... history" "$(db_history)" "1-M1,2-M2"

	strata --database-url "$DB_URL" migrations run --dir "$d" >/dev/null 2>&1
	check "$k: --to 2 keeps 2" 0 '^reverted 3 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --to 2
	is "$k: ... history" "$(db_history)" "1-M1,2-M2"
	is "$k: ... tables" "$(db_tables)" "strata_migrations,t1,t2"
	check "$k: --to 2 again: nothing to revert" 0 '^nothing to revert ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --to 2
	check "$k: --to a version that is not applied" 1 '^$' \
		'^strata: error: version 9 is not applied$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --to 9
	like "$k: ... says nothing was reverted" "$err" '^strata: nothing was reverted$'
	is "$k: ... history" "$(db_history)" "1-M1,2-M2"

	check "$k: --steps larger than the history reverts all" 0 '^reverted 2 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --steps 99
	is "$k: ... empty" "$(db_tables);$(db_history)" "strata_migrations;"

	strata --database-url "$DB_URL" migrations run --dir "$d" >/dev/null 2>&1
	check "$k: --all" 0 '^reverted 5 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --all
	is "$k: ... empty" "$(db_tables);$(db_history)" "strata_migrations;"

	# refusals: nothing is reverted when any migration in the request cannot be
	local r=r_$k
	mig "$r" 1-Ok.sql '-- migrate:up\ncreate table ok1 (x int);\n-- migrate:down\ndrop table ok1;\n'
	mig "$r" 2-NoDown.sql '-- migrate:up\ncreate table nodown (x int);\n'
	mig "$r" 3-EmptyDown.sql '-- migrate:up\ncreate table emptydown (x int);\n-- migrate:down\n-- nothing to undo\n\n'
	mig "$r" 4-Ok.sql '-- migrate:up\ncreate table ok4 (x int);\n-- migrate:down\ndrop table ok4;\n'
	new_db "$k"
	strata --database-url "$DB_URL" migrations run --dir "$r" >/dev/null 2>&1
	check "$k: --steps 2 reaching an empty down section is refused" 1 '^$' \
		"^strata: error: $r/3-EmptyDown.sql: cannot revert 3-EmptyDown: its down section is empty\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$r" --steps 2
	like "$k: ... hint" "$err" "^hint: write the statements that undo it under '-- migrate:down'\$"
	like "$k: ... nothing was reverted" "$err" '^strata: nothing was reverted$'
	is "$k: ... not even 4-Ok" "$(db_history)" "1-Ok,2-NoDown,3-EmptyDown,4-Ok"
	is "$k: ... tables" "$(db_tables)" "emptydown,nodown,ok1,ok4,strata_migrations"
	dbq "delete from strata_migrations where version = '3'" >/dev/null
	check "$k: --all reaching a missing down section is refused" 1 '^$' \
		"^strata: error: $r/2-NoDown.sql: cannot revert 2-NoDown: its down section is missing\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$r" --all
	is "$k: ... nothing reverted" "$(db_history)" "1-Ok,2-NoDown,4-Ok"
	check "$k: one step (4-Ok) is still fine" 0 '^  reverted  4-Ok ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$r"

	# an applied migration whose file is gone
	rm "$r/2-NoDown.sql"
	check "$k: reverting a migration missing on disk is refused" 1 '^$' \
		'^strata: error: cannot revert 2-NoDown: it is applied but its file is not in the migration directories$' \
		strata --database-url "$DB_URL" migrations revert --dir "$r"
	like "$k: ... hint" "$err" '^hint: add the directory that holds it with --dir, or restore the file$'
	is "$k: ... nothing reverted" "$(db_history)" "1-Ok,2-NoDown"
	check "$k: show lists it as missing" 0 '^missing +2 +NoDown ' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$r"
	rm "$r/3-EmptyDown.sql" "$r/4-Ok.sql"
	check "$k: run still works with a missing one (nothing to run)" 0 '^nothing to run: 1 migration, all applied ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$r"

	# a down section that fails: --transaction all reverts nothing, each keeps the ones before
	local f=f_$k
	mig "$f" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$f" 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\ndrop table nope;\n'
	mig "$f" 3-C.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
	new_db "$k"
	strata --database-url "$DB_URL" migrations run --dir "$f" >/dev/null 2>&1
	check "$k: revert --all --transaction all with a failing down" 1 \
		'^reverting 3 migrations on .* in one transaction$' \
		"^strata: error: $f/2-B.sql:5:[0-9]+: .*nope" \
		strata --database-url "$DB_URL" migrations revert --dir "$f" --all --transaction all
	like "$k: ... the whole run was rolled back" "$err" \
		'^strata: revert 2-B failed; the whole run was rolled back, nothing changed$'
	is "$k: ... nothing reverted (c is back too)" "$(db_tables);$(db_history)" "a,b,c,strata_migrations;1-A,2-B,3-C"
	check "$k: revert --all (each) with a failing down" 1 '^  reverted  3-C ' \
		"^strata: error: $f/2-B.sql:5:[0-9]+: .*nope" \
		strata --database-url "$DB_URL" migrations revert --dir "$f" --all
	like "$k: ... 2-B was rolled back" "$err" '^strata: 2-B was rolled back$'
	like "$k: ... 3-C stays reverted" "$err" '^strata: the 1 migration reverted before it stays reverted$'
	is "$k: ... b is still there (its down was rolled back), c is gone" "$(db_tables);$(db_history)" "a,b,strata_migrations;1-A,2-B"
}
each_db scenario

new_db sqlite
mkdir e
for bad in '--steps 0' '--steps x' '--steps -1' '--to v1'; do
	# shellcheck disable=SC2086
	check "revert $bad is a usage error" 2 '^$' "^strata migrations revert: --(steps|to) needs" \
		strata --database-url "$DB_URL" migrations revert --dir e $bad
done
check 'revert --steps with --all is a usage error' 2 '^$' \
	'^strata migrations revert: use one of --steps, --to and --all$' \
	strata --database-url "$DB_URL" migrations revert --dir e --steps 2 --all
check 'revert --to with --steps is a usage error' 2 '^$' 'use one of --steps, --to and --all' \
	strata --database-url "$DB_URL" migrations revert --dir e --steps 2 --to 1
is '... usage errors create no database' "$(test -e "$DB_FILE" && echo exists || echo none)" none
done_testing
