#!/usr/bin/env bash
# migrations run: version order (numeric, long versions, same version by name), the output
# (one line per migration, then a summary), and 'nothing to run'.
. "$(dirname "$0")/lib.sh"

# Each migration appends its name to a log table, so the log shows the order they ran in.
logmig() { # DIR FILE NAME
	mig "$1" "$2" "-- migrate:up\ninsert into log (id, n) select count(*) + 1, '$3' from log;\n-- migrate:down\ndelete from log where n = '$3';\n"
}

scenario() {
	local k=$1 d=m_$1 long=123456789012345678901234 longer=1234567890123456789012345
	new_db "$k"
	mig "$d" 1-CreateLog.sql '-- migrate:up\ncreate table log (id integer primary key, n text not null);\n-- migrate:down\ndrop table log;\n'
	logmig "$d" 10-Ten.sql Ten
	logmig "$d" 9-Nine.sql Nine
	logmig "$d" 0002-Two.sql Two
	logmig "$d" "$longer-Longer.sql" Longer
	logmig "$d" "$long-Long.sql" Long
	logmig "$d" 20-Bravo.sql Bravo
	logmig "$d" 20-Alpha.sql Alpha
	logmig "$d" 20-Charlie.sql Charlie

	check "$k: run applies all" 0 '' '^$' strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: stdout, one line per migration in version order, then the summary" "$(printf '%s\n' "$out" | norm)" \
"applying 9 migrations to $DB_DISPLAY
  applied   1-CreateLog  T
  applied   0002-Two  T
  applied   9-Nine  T
  applied   10-Ten  T
  applied   20-Alpha  T
  applied   20-Bravo  T
  applied   20-Charlie  T
  applied   $long-Long  T
  applied   $longer-Longer  T
applied 9 migrations in T"
	is "$k: the log shows the order they ran in" \
		"$(dbq "select n from log order by id" | tr '\n' ' ')" \
		"Two Nine Ten Alpha Bravo Charlie Long Longer "
	is "$k: history has each migration once" "$(db_history)" \
		"1-CreateLog,0002-Two,9-Nine,10-Ten,20-Alpha,20-Bravo,20-Charlie,$long-Long,$longer-Longer"
	is "$k: history keeps the version text as written (leading zeros, 25 digits)" \
		"$(dbq "select version from strata_migrations where name in ('Two', 'Longer') order by name")" \
		"$longer
0002"
	is "$k: history rows have a 64-hex checksum and a time" \
		"$(dbq "select count(*) from strata_migrations where length(checksum) = 64 and applied_at is not null and duration_ms >= 0")" 9

	check "$k: a second run has nothing to run and exits 0" 0 \
		"^nothing to run: 9 migrations, all applied \\($(req "$DB_DISPLAY")\\)\$" '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... and exactly one stdout line" "$(printf '%s\n' "$out" | wc -l)" 1
	is "$k: ... and changed nothing" "$(dbq 'select count(*) from log'),$(dbq 'select count(*) from strata_migrations')" "8,9"

	# one more migration slotted between existing ones (version 15) is pending and runs alone
	logmig "$d" 15-Fifteen.sql Fifteen
	check "$k: a new migration between applied ones is refused as out of order" 1 '^$' \
		'1 pending migration is out of order' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
	is "$k: ... not applied" "$(dbq "select count(*) from log where n = 'Fifteen'")" 0
	check "$k: with --allow-out-of-order it runs alone" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --allow-out-of-order
	is "$k: ... stdout" "$(printf '%s\n' "$out" | norm)" "applying 1 migration to $DB_DISPLAY
  applied   15-Fifteen  T
applied 1 migration in T"
	is "$k: ... once" "$(dbq "select count(*) from log where n = 'Fifteen'")" 1
	is "$k: ... and the history says it ran out of order" \
		"$(dbq "select count(*) from strata_migrations where name = 'Fifteen' and out_of_order")" 1

	check "$k: -q prints nothing on success" 0 '^$' '^$' \
		strata -q --database-url "$DB_URL" migrations run --dir "$d"
}

each_db scenario

# an empty directory: nothing to run, but the history table exists afterwards
new_db sqlite
mkdir empty
check 'an empty directory: nothing to run' 0 '^nothing to run: 0 migrations, all applied' '^$' \
	strata --database-url "$DB_URL" migrations run --dir empty
is '... and the history table was created' "$(db_tables)" strata_migrations
done_testing
