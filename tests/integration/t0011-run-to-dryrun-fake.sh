#!/usr/bin/env bash
# migrations run --to VERSION, --dry-run and --fake.
. "$(dirname "$0")/lib.sh"

three() { # DIR
	mig "$1" 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$1" 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
	mig "$1" 10-C.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
}

# written: what a write to the history leaves behind, even one that changes no value: each row's
# version (xmin) and place (ctid) on PostgreSQL; the file's bytes on SQLite
written() {
	if [ "$DB_KIND" = pg ]; then
		pg_q "select string_agg(version || ':' || xmin::text || ctid::text, ',' order by version) from strata_migrations"
	else
		md5sum <"$DB_FILE"
	fi
}

scenario() {
	local k=$1 d=m_$1
	three "$d"

	# --dry-run on an empty database: prints the SQL, creates nothing, not even the history
	new_db "$k"
	check "$k: --dry-run exits 0" 0 '' \
		"^strata: dry run: 3 migrations would be applied to $(req "$DB_DISPLAY"); nothing was changed\$" \
		strata --database-url "$DB_URL" migrations run --dir "$d" --dry-run
	is "$k: --dry-run prints each migration's up SQL under a header" "$out" \
"-- apply 1-A ($d/1-A.sql)
create table a (x int);
-- apply 2-B ($d/2-B.sql)
create table b (x int);
-- apply 10-C ($d/10-C.sql)
create table c (x int);"
	is "$k: --dry-run created no table at all (no history table either)" "$(db_tables)" ""
	check "$k: --dry-run --to 2 shows two" 0 '^-- apply 2-B' 'would be applied' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --dry-run --to 2
	unlike "$k: ... and not the third" "$out" '10-C'
	is "$k: ... still no table" "$(db_tables)" ""

	# --to VERSION
	check "$k: --to 2 applies 1 and 2" 0 '^applied 2 migrations in ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --to 2
	is "$k: ... tables" "$(db_tables)" "a,b,strata_migrations"
	is "$k: ... history" "$(db_history)" "1-A,2-B"
	check "$k: --to 2 again: nothing to run" 0 '^nothing to run' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --to 2
	check "$k: --to an unknown version fails" 1 '^$' \
		'^strata: error: no migration has version 5$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --to 5
	like "$k: ... with a hint" "$err" "hint: run 'strata migrations show'"
	is "$k: ... and applies nothing" "$(db_history)" "1-A,2-B"
	check "$k: --to that is not a version is a usage error" 2 '^$' \
		"--to needs a version \\(digits\\), not 'abc'" \
		strata --database-url "$DB_URL" migrations run --dir "$d" --to abc
	check "$k: --to 010 means version 10 (numeric)" 0 '^  applied   10-C ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --to 010
	is "$k: ... history" "$(db_history)" "1-A,2-B,10-C"

	# --dry-run on a partly applied database lists only what is pending
	new_db "$k"
	strata --database-url "$DB_URL" migrations run --dir "$d" --to 1 >/dev/null 2>&1
	check "$k: --dry-run after 1 is applied" 0 '^-- apply 2-B' \
		'2 migrations would be applied' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --dry-run
	unlike "$k: ... does not list 1-A" "$out" '1-A'
	is "$k: ... and changes nothing" "$(db_tables);$(db_history)" "a,strata_migrations;1-A"
	# the same from a build, whose summary is read first: the rows are not written either (a dry
	# run stored the row hashes it had not read, rewriting every row)
	check "$k: build" 0 '' '' strata build --src "$d" --out "dist-$k"
	w=$(written)
	check "$k: --dry-run of the build after 1 is applied" 0 '^-- apply 2-B' \
		'2 migrations would be applied' \
		strata --database-url "$DB_URL" migrations run --dir "dist-$k" --dry-run
	is "$k: ... wrote nothing, not even the same values" "$(written)" "$w"

	# --fake: recorded, never executed
	new_db "$k"
	check "$k: --fake records" 0 '^  recorded  1-A ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d" --fake
	is "$k: ... stdout" "$(printf '%s\n' "$out" | norm)" "recording 3 migrations as applied in $DB_DISPLAY, running none of their SQL (--fake)
  recorded  1-A  T
  recorded  2-B  T
  recorded  10-C  T
recorded 3 migrations in T"
	is "$k: --fake ran no SQL (only the history table)" "$(db_tables)" "strata_migrations"
	is "$k: --fake recorded all three" "$(db_history)" "1-A,2-B,10-C"
	check "$k: after --fake, run has nothing to do" 0 '^nothing to run: 3 migrations' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$d"
}

each_db scenario
done_testing
