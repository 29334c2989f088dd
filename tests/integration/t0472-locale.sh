#!/usr/bin/env bash
# SQL keywords, file extensions and URL schemes are compared as ASCII, whatever the locale of a
# program that embeds strata: in Turkish, where 'I' does not lower to 'i' and the C library's
# strncasecmp does not take COMMIT for "commit", a run still refuses a COMMIT or BEGIN of a
# migration's own, written in capitals, and changes nothing. tests/integration/locale_run.c,
# linked with a Release build of libstrata.a, runs under tr_TR locales that localedef makes in the
# test's directory (LOCPATH), in UTF-8 and in ISO-8859-9; and numbers keep their decimal point
# under de_DE.UTF-8.
. "$(dirname "$0")/lib.sh"

loc=$TEST_DIR/locales
mkdir -p "$loc"
for l in tr_TR.UTF-8 tr_TR.ISO-8859-9 de_DE.UTF-8; do
	localedef -i "${l%%.*}" -f "${l#*.}" "$loc/$l" >>"$TEST_DIR/localedef.log" 2>&1 ||
		skip_all "localedef cannot make $l (Debian's locales package has its source)"
done
# a build without the sanitizers: AddressSanitizer replaces strncasecmp with its own, which
# compares ASCII whatever the locale, and would hide what this test is about
command -v cmake >/dev/null || skip_all "cmake is not installed"
check 'a Release libstrata.a builds' 0 '' '' sh -c "cmake -S '$ROOT' -B rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_TESTS=OFF >/dev/null && ninja -C rel strata_static >/dev/null"
lib_client locale_run rel/libstrata.a

mig m 1-Upper.sql '-- migrate:up\nCREATE TABLE upper_a (x int);\nCOMMIT;\nCREATE TABLE upper_b (x int);\n'
mig b 1-Begin.sql '-- migrate:up\nBEGIN;\nCREATE TABLE begun (x int);\n'
mig f 1-Fine.sql '-- migrate:up\nCREATE TABLE fine (x int);\n'
mig s 1-Fine.sql '-- migrate:up\nCREATE TABLE fine (x int);\n'
mig s 2-Seeded.sql '-- migrate:up\nCREATE TABLE Items (id integer PRIMARY KEY);\nCREATE TABLE lines (id integer PRIMARY KEY, item integer NOT NULL REFERENCES items (id));\n'
mig s seed.json '{"lines": [{"id": 1, "item": 7}], "Items": [{"id": 7}]}\n'
for cs in UTF-8 ISO-8859-9; do
	db=$TEST_DIR/$cs.db
	run env LOCPATH="$loc" "$TEST_DIR/locale_run" "tr_TR.$cs" "sqlite:$db" m
	like "tr_TR.$cs: the C library's comparison is Turkish here" "$out" '^libc: COMMIT is not commit$'
	like "tr_TR.$cs: a run refuses the COMMIT, where it is" "$out" \
		'^STRATA_EINVALID m/1-Upper\.sql:3:1: COMMIT inside the transaction the migration runs in$'
	is "tr_TR.$cs: ... and applies nothing" "$(sq_q "$db" "select group_concat(name) from sqlite_master where name like 'upper%'")" ""
	run env LOCPATH="$loc" "$TEST_DIR/locale_run" "tr_TR.$cs" "sqlite:$db" b
	like "tr_TR.$cs: ... and a BEGIN" "$out" \
		'^STRATA_EINVALID b/1-Begin\.sql:2:1: BEGIN inside the transaction the migration runs in$'
	run env LOCPATH="$loc" "$TEST_DIR/locale_run" "tr_TR.$cs" "SQLITE:$db" f
	like "tr_TR.$cs: a URL scheme in capitals (SQLITE:) is still SQLite's, and a plain migration runs" "$out" '^STRATA_OK :0:0: $'
	is "tr_TR.$cs: ... applied" "$(sq_q "$db" "select group_concat(name) from strata_migrations")" "Fine"
	# a seed orders a table after the one its foreign key names, matching names as SQLite
	# does (ASCII, any case): Items before lines, which refers to it as items
	run env LOCPATH="$loc" "$TEST_DIR/locale_run" "tr_TR.$cs" "sqlite:$db" s s/seed.json
	like "tr_TR.$cs: a seed loads the parent table (Items) before the child that names it items" "$out" '^seed: STRATA_OK 2 rows $'
done

# German numbers (LC_NUMERIC writes 1,5): numbers strata writes into SQL or reads back keep
# their decimal point. A seed's 1.5 is a number in an untyped SQLite column, and a
# transaction:false migration on PostgreSQL records its duration (it wrote "1,337" into its
# history's UPDATE, a syntax error that left the migration 'running' after every statement ran)
mig n 1-Nums.sql '-- migrate:up\nCREATE TABLE nums (v);\n'
mig n seed.json '{"nums": [{"v": 1.5}]}\n'
run env LOCPATH="$loc" "$TEST_DIR/locale_run" de_DE.UTF-8 "sqlite:$TEST_DIR/de.db" n n/seed.json
like 'de_DE: the seed loads' "$out" '^seed: STRATA_OK 1 rows $'
is '... 1.5 as a number' "$(sq_q "$TEST_DIR/de.db" "select typeof(v) || ' ' || v from nums")" 'real 1.5'
if pg_available; then
	need_pg
	mig nt 1-Each.sql '-- migrate:up transaction:false\nCREATE TABLE each_a (x int);\nCREATE TABLE each_b (x int);\n-- migrate:down transaction:false\nDROP TABLE each_b;\nDROP TABLE each_a;\n'
	run env LOCPATH="$loc" "$TEST_DIR/locale_run" de_DE.UTF-8 "$PG_URL" nt
	like 'de_DE, PostgreSQL: a transaction:false migration runs' "$out" '^STRATA_OK :0:0: $'
	is '... and its history says applied, with a duration' \
		"$(pg_q "select status || ' ' || progress || ' ' || (duration_ms >= 0) from strata_migrations")" 'applied 2 true'
else
	skip 'de_DE, PostgreSQL: a transaction:false migration' 'no PostgreSQL server'
fi
done_testing
