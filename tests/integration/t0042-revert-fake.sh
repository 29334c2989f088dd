#!/usr/bin/env bash
# migrations revert --fake (issue 12): undoes a wrong 'run --fake' by removing history rows
# only, in one transaction: no down SQL runs, a migration without a down section or without its
# file can be unrecorded, --dry-run lists them; what is ambiguous (a migration left failed, --to
# a version not applied, more steps than applied, newest by version not the last recorded) is
# refused and changes nothing.
. "$(dirname "$0")/lib.sh"

# rows: the whole history, to compare before and after a refusal
rows() { dbq "select version || '|' || name || '|' || checksum || '|' || status from strata_migrations order by version, name"; }

scenario() {
	local k=$1 d=m_$1 before
	new_db "$k"
	for v in 1 2 3; do
		mig "$d" "$v-T$v.sql" "-- migrate:up\ncreate table t$v (x int);\n-- migrate:down\ndrop table t$v;\n"
	done
	mig "$d" "4-NoDown.sql" "-- migrate:up\ncreate table t4 (x int);\n"
	strata --database-url "$DB_URL" migrations run --dir "$d" --to 1 >/dev/null
	check "$k: a wrong fake run records 2, 3 and 4" 0 '^recorded 3 migrations' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --fake
	is "$k: ... history" "$(db_history)" "1-T1,2-T2,3-T3,4-NoDown"

	check "$k: --fake --dry-run lists what it would unrecord" 0 '' \
		"^strata: dry run: 2 migrations would be removed from the history of $(req "$DB_DISPLAY"), running none of their SQL; nothing was changed\$" \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake --dry-run --steps 2
	is "$k: ... stdout" "$out" "-- unrecord 4-NoDown ($d/4-NoDown.sql)
-- unrecord 3-T3 ($d/3-T3.sql)"
	is "$k: ... changed nothing" "$(db_history)" "1-T1,2-T2,3-T3,4-NoDown"
	check "$k: ... reading those rows and their files, not the whole history (-v)" 0 \
		'^checked 4 migrations as the migrations and the history were read, in ' '' \
		strata --database-url "$DB_URL" -v migrations revert --dir "$d" --fake --dry-run --steps 2
	unlike "$k: ... (no full read)" "$out" '^read the history'

	check "$k: plain revert of 4 is refused (no down section)" 1 '' 'down section is missing' \
		strata --database-url "$DB_URL" migrations revert --dir "$d"
	check "$k: revert --fake unrecords it: no down section needed" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake
	is "$k: ... stdout" "$(printf '%s\n' "$out" | norm)" "unrecording 1 migration from the history of $DB_DISPLAY, running none of their SQL (--fake)
  unrecorded 4-NoDown
unrecorded 1 migration in T"
	is "$k: ... history" "$(db_history)" "1-T1,2-T2,3-T3"
	is "$k: ... no SQL ran (t1 only, as before)" "$(db_tables)" "strata_migrations,t1"

	rm "$d/3-T3.sql" "$d/4-NoDown.sql"
	check "$k: show: 3 is missing" 0 '^missing +3 +T3 ' '' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	check "$k: a migration without its file is unrecorded" 0 '^  unrecorded 3-T3  \(no file\)$' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake
	is "$k: ... history" "$(db_history)" "1-T1,2-T2"

	# refusals: the whole history is the same after each
	before=$(rows)
	check "$k: --to a version that is not applied" 1 '^$' '^strata: error: version 3 is not applied$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake --to 3
	is "$k: ... changed nothing" "$(rows)" "$before"
	check "$k: more steps than are applied" 1 '^$' \
		'^strata: error: cannot unrecord 3 migrations: 2 are applied$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake --steps 3
	like "$k: ... with the fix" "$err" '^hint: give at most 2 steps, or unrecord everything \(--all\)$'
	is "$k: ... changed nothing" "$(rows)" "$before"
	dbq "update strata_migrations set status = 'failed' where version = '1'" >/dev/null
	before=$(rows)
	check "$k: a migration left failed: repair first" 1 '^$' \
		'^strata: error: .*cannot unrecord: migration 1-T1 is failed, not applied$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake --all
	like "$k: ... names repair" "$err" "^hint: finish it first with 'strata migrations repair'"
	like "$k: ... nothing was unrecorded" "$err" '^strata: nothing was unrecorded$'
	is "$k: ... changed nothing" "$(rows)" "$before"
	check "$k: ... the newest too, though the failed one is older" 1 '^$' \
		'^strata: error: .*cannot unrecord: migration 1-T1 is failed, not applied$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake
	is "$k: ... changed nothing" "$(rows)" "$before"
	dbq "update strata_migrations set status = 'applied' where version = '1'" >/dev/null

	# 9 recorded, then 3 out of order after it: "the newest" by version is not the last recorded
	mig "$d" "9-Late.sql" "-- migrate:up\ncreate table t9 (x int);\n"
	strata --database-url "$DB_URL" migrations run --dir "$d" --fake >/dev/null
	mig "$d" "3-T3.sql" "-- migrate:up\ncreate table t3 (x int);\n-- migrate:down\ndrop table t3;\n"
	strata --database-url "$DB_URL" migrations run --dir "$d" --fake --allow-out-of-order >/dev/null
	is "$k: setup: 3 recorded out of order after 9" "$(db_history)" "1-T1,2-T2,3-T3,9-Late"
	before=$(rows)
	check "$k: steps across a migration applied out of order" 1 '^$' \
		'^strata: error: cannot tell which 1 migration to unrecord: the newest by version are not the last recorded$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake
	like "$k: ... says which" "$err" '^detail: 3-T3 was recorded after 9-Late, a newer migration$'
	is "$k: ... changed nothing" "$(rows)" "$before"
	if [ "$k" = pg ]; then
		# a date past year 9999 reads otherwise row by row than in the full read, whose
		# comparison of dates decides: the full read's
		dbq "update strata_migrations set applied_at = '10000-01-01 00:00:00+00' where version = '9'" >/dev/null
		before=$(rows)
		check "$k: a newest row recorded in year 10000: as the full read says" 1 '^$' \
			'^strata: error: cannot tell which 1 migration to unrecord' \
			strata --database-url "$DB_URL" migrations revert --dir "$d" --fake
		is "$k: ... changed nothing" "$(rows)" "$before"
		dbq "update strata_migrations set applied_at = now() - interval '1 hour' where version = '9'" >/dev/null
	fi
	check "$k: --to 2 unrecords both" 0 '^unrecorded 2 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake --to 2
	is "$k: ... history" "$(db_history)" "1-T1,2-T2"

	check "$k: --all unrecords everything, and runs no SQL" 0 '^unrecorded 2 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake --all
	is "$k: ... history" "$(db_history)" ""
	is "$k: ... tables" "$(db_tables)" "strata_migrations,t1"
	check "$k: nothing left to unrecord" 0 "^nothing to unrecord \\($(req "$DB_DISPLAY")\\)\$" '^$' \
		strata --database-url "$DB_URL" migrations revert --dir "$d" --fake
}
each_db scenario
done_testing
