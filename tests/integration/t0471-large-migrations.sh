#!/usr/bin/env bash
# Large migrations (issue 10, item 7). What can be checked without timing anything:
#   - building a PostgreSQL migration of 8 MiB keeps the peak RSS within a few times the file
#     (memory follows the largest statement; one parse tree of the whole file took ~70 times it);
#   - a big file is split where its statements end, to the last one: an error, a COMMIT and a
#     failing statement on its last line are reported at that line, on both engines;
#   - a run applies every row of it, on both engines.
# That build and run are linear in the file's size is checked by the unit tests (test_sqlsplit:
# the bytes the splitter reads, and SQLite's own memory while it prepares each statement).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is needed to read a command's peak RSS"

# peak CMD...: runs it like run() does, and sets $rss_kb to its peak RSS (wait4's ru_maxrss). A
# sanitizer build keeps what it frees in quarantine (256 MiB): so little is kept here.
peak() {
	local out
	out=$(ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=1" python3 -c '
import os, resource, subprocess, sys
with open(sys.argv[1], "wb") as o, open(sys.argv[2], "wb") as e:
    rc = subprocess.call(sys.argv[3:], stdout=o, stderr=e)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$TEST_DIR/.out" "$TEST_DIR/.err" "$@")
	read -r rc rss_kb <<<"$out"
	out=$(cat "$TEST_DIR/.out")
	err=$(cat "$TEST_DIR/.err")
}

# gen DIALECT MIB FILE: one CREATE TABLE, then one-row INSERTs (a ';' inside each row's string)
# up to MIB MiB; prints the number of rows
gen() {
	awk -v dialect="$1" -v mb="$2" 'BEGIN {
		print "-- migrate:up"
		print "create table items (id " (dialect == "postgres" ? "bigint" : "integer") " primary key, sku text not null, name text not null);"
		for (i = 1; size < mb * 1048576; i++) {
			s = sprintf("insert into items (id, sku, name) values (%d, '"'"'SKU-%08d'"'"', '"'"'item %d; of many'"'"');", i, i, i)
			print s
			size += length(s) + 1
		}
		print "-- migrate:down\ndrop table items;"
		print i - 1 > "/dev/stderr"
	}' >"$3" 2>"$TEST_DIR/.rows"
	cat "$TEST_DIR/.rows"
}

# the last line of the up section of FILE: its number
last_up_line() { grep -n '^insert' "$1" | tail -1 | cut -d: -f1; }

# ---- PostgreSQL: build in memory that follows the largest statement, not the file ----
mkdir -p pg/src/migrations
F=pg/src/migrations/1-Big.sql
PG_ROWS=$(gen postgres 8 "$F")
size_kb=$(($(stat -c %s "$F") / 1024))
peak env -C pg "$STRATA" -q build --dialect postgres
is 'postgres: build of an 8 MiB migration succeeds' "$rc;$err" "0;"
if [ "$rss_kb" -le $((size_kb * 6 + 32768)) ]; then
	ok "postgres: ... its peak RSS ($((rss_kb / 1024)) MiB) is within 6 times the file ($((size_kb / 1024)) MiB) + 32 MiB"
else
	not_ok "postgres: ... its peak RSS ($((rss_kb / 1024)) MiB) is within 6 times the file ($((size_kb / 1024)) MiB) + 32 MiB"
fi
n=$(last_up_line "$F")
cp "$F" big.sql
sed "${n}s/^insert/selec/" big.sql >"$F"
check 'postgres: a syntax error on the last line of a big file' 1 '^$' \
	"^strata: error: src/migrations/1-Big.sql:$n:1: syntax error at or near \"selec\"\$" \
	env -C pg "$STRATA" build --dialect postgres
sed "${n}s/^insert.*/commit;/" big.sql >"$F"
check 'postgres: a COMMIT on the last line of a big file' 1 '^$' \
	"^strata: error: src/migrations/1-Big.sql:$n:1: COMMIT inside the transaction the migration runs in\$" \
	env -C pg "$STRATA" build --dialect postgres
cp big.sql "$F"

# ---- SQLite: build and run of a big file ----
mkdir -p lite/src/migrations
L=lite/src/migrations/1-Big.sql
SQ_ROWS=$(gen sqlite 4 "$L")
check 'sqlite: build of a 4 MiB migration' 0 '^$' '^$' env -C lite "$STRATA" -q build
check 'sqlite: run applies it' 0 '^$' '^$' env -C lite "$STRATA" -q --database-url sqlite:../lite.db migrations run
is 'sqlite: ... every row' "$(sqlite3 lite.db 'select count(*), max(id) from items')" "$SQ_ROWS|$SQ_ROWS"
n=$(last_up_line "$L")
cp "$L" big.sql
sed "${n}s/^insert into items/insert into nope/" big.sql >"$L"
check 'sqlite: build places an error on the last line of a big file' 1 '^$' \
	"^strata: error: src/migrations/1-Big.sql:$n:[0-9]+: no such table: nope\$" \
	env -C lite "$STRATA" build
check 'sqlite: ... and so does a run of it' 1 '' \
	"^strata: error: lite/src/migrations/1-Big.sql:$n:[0-9]+: no such table: nope\$" \
	"$STRATA" --database-url sqlite:lite2.db migrations run --dir lite/src/migrations
is 'sqlite: ... which changed nothing' "$(sqlite3 lite2.db "select count(*) from sqlite_master where name = 'items'")" "0"
cp big.sql "$L"

# ---- PostgreSQL: a run applies it ----
if pg_available; then
	need_pg
	peak env -C pg "$STRATA" -q --database-url "$PG_URL" migrations run
	is 'postgres: run of the 8 MiB migration' "$rc;$err" "0;"
	diag "strata migrations run, 8 MiB on PostgreSQL: peak RSS $((rss_kb / 1024)) MiB"
	is 'postgres: ... every row' "$(pg_q 'select count(*), max(id) from items')" "$PG_ROWS|$PG_ROWS"
else
	skip 'postgres: run of the 8 MiB migration' 'no PostgreSQL server'
fi

done_testing
