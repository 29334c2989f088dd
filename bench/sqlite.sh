#!/usr/bin/env bash
# bench/sqlite.sh: strata migrations run on SQLite against its floor, the sqlite3 shell replaying
# the same files with one transaction per file plus one history INSERT each.
#
#   bench/sqlite.sh [N...]                 # default: 100 700 2000
#   STRATA=path/to/strata RUNS=7 bench/sqlite.sh 700
#   BASE=path/to/other/strata bench/sqlite.sh     # that binary too, interleaved: what a change costs
#
# For each N: N migrations, half of them empty (an up section with nothing in it, or only
# comments), the rest one statement each (`create table`, `alter table ... add column`,
# `create index`, in turn), built with `strata build --dialect sqlite`. RUNS times (default 5),
# round-robin, each sample from a fresh database file:
#   floor:   sqlite3 -bail DB ".read floor.sql": for each migration, in the order strata runs
#            them, `BEGIN IMMEDIATE; .read up/<file>; INSERT INTO strata_migrations ...; COMMIT;`
#            (strata's history table, made first as strata makes it; the row strata writes:
#            version, name, checksum, duration_ms, out_of_order, the rest by default). The shell
#            reads each migration's up SQL from its own file, as strata reads each built file.
#   strata:  strata -q migrations run, from the project directory (its dist/migrations)
#   one txn: sqlite3 -bail DB ".read all.sql": every up section and row in one transaction (the
#            one-session replay; not a floor for strata's default of a transaction per
#            migration, shown for what the per-migration commits cost)
#   base:    with BASE set, strata -q migrations run again, with that binary
# Both the shell and strata use the SQLite library Debian ships (libsqlite3), with the same
# settings: strata sets no journal_mode or synchronous PRAGMA (FLOOR_PRAGMAS below is what it
# sets, prepended to the floor's script, empty while that is nothing), so both run on SQLite's
# defaults, which the header prints. Each sample is timed by bench/timeit.c (CLOCK_MONOTONIC
# around fork/exec/wait, peak RSS from wait4). Medians, min-max and the ratio to the floor of
# the same N, as a markdown table.
#
# Without STRATA, it builds an optimised, unsanitised strata in build-bench/.
set -euo pipefail

NS=${*:-100 700 2000}
RUNS=${RUNS:-5}
# what strata's SQLite engine sets on its connection (none: SQLite's defaults)
FLOOR_PRAGMAS=''
# shellcheck disable=SC2034 # read by lib.sh: no PostgreSQL cluster
BENCH_NO_PG=1
. "$(dirname "$0")/lib.sh" sqlite "$@"
bench_strata
TIMEIT=$ROOT/build-bench/timeit
cc -O2 -o "$TIMEIT" "$ROOT/bench/timeit.c"

rm -f defaults.db
echo "SQLite $(sqlite3 --version | cut -d' ' -f1) (shell and strata: $(ldd "$STRATA" |
	awk '/libsqlite3/ { print $3 }')), defaults: journal_mode=$(sqlite3 defaults.db 'pragma journal_mode'),"\
	"synchronous=$(sqlite3 defaults.db 'pragma synchronous') (2: FULL); strata sets: ${FLOOR_PRAGMAS:-nothing}"
echo "$("$STRATA" --version), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) CPUs," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), $(df -T . | awk 'NR == 2 { print $2 }') at $W"
rm -f defaults.db
[ -z "${BASE:-}" ] || echo "BASE: $BASE, $("$BASE" --version)"

HISTORY="CREATE TABLE IF NOT EXISTS strata_migrations (version TEXT NOT NULL, name TEXT NOT NULL,\
 checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),\
 duration_ms REAL NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'applied',\
 progress INTEGER NOT NULL DEFAULT 0, out_of_order INTEGER NOT NULL DEFAULT 0,\
 previous_checksum TEXT, accepted_at TEXT, PRIMARY KEY (version, name));"

# gen N: pN/src/migrations (built into pN/dist/migrations), pN/up/ (each up section alone),
# pN/floor.sql and pN/all.sql
gen() {
	local p=p$1
	mkdir -p "$p/src/migrations" "$p/up"
	awk -v n="$1" -v d="$p" 'BEGIN {
		for (i = 1; i <= n; i++) {
			k = i % 6
			if (k == 1) {
				name = "empty" i; up = ""; down = ""
			} else if (k == 3 || k == 5) {
				name = "note" i; up = "-- nothing to change here\n-- (kept for the history)\n"; down = ""
			} else if (k == 2) {
				t = i; name = "create_t" i
				up = sprintf("create table t%d (id integer primary key, a text not null, b integer);\n", i)
				down = sprintf("drop table t%d;\n", i)
			} else if (k == 4) {
				name = "add_c" i
				up = sprintf("alter table t%d add column c%d text;\n", t, i)
				down = sprintf("alter table t%d drop column c%d;\n", t, i)
			} else {
				name = "index_t" t "_" i
				up = sprintf("create index i%d on t%d (a);\n", i, t)
				down = sprintf("drop index i%d;\n", i)
			}
			v = sprintf("17%011d", i) # 1700000000000 + i (mawk: no 64-bit %d)
			f = sprintf("%s/src/migrations/%s_%s.sql", d, v, name)
			printf "-- migrate:up\n%s\n-- migrate:down\n%s", up, down > f
			close(f)
			f = sprintf("%s/up/%s_%s.sql", d, v, name)
			printf "%s", up > f
			close(f)
		}
	}'
	env -C "$p" "$STRATA" -q build --dialect sqlite
	# the rows strata writes: version, name, the built file's SHA-256 (its checksum)
	(cd "$p/dist/migrations" && sha256sum -- *.sql) | awk -v pragmas="$FLOOR_PRAGMAS" -v history="$HISTORY" \
		-v floor="$p/floor.sql" -v all="$p/all.sql" '
		BEGIN { if (pragmas != "") print pragmas > floor; print history > floor; print history > all
			print "BEGIN IMMEDIATE;" > all }
		{
			f = $2; b = f; sub(/\.sql$/, "", b); v = b; sub(/_.*/, "", v); name = substr(b, length(v) + 2)
			row = sprintf("INSERT INTO strata_migrations (version, name, checksum, duration_ms, out_of_order) VALUES (\047%s\047, \047%s\047, \047%s\047, 0, 0);", v, name, $1)
			printf "BEGIN IMMEDIATE;\n.read up/%s\n%s\nCOMMIT;\n", f, row > floor
			printf ".read up/%s\n%s\n", f, row > all
		}
		END { print "COMMIT;" > all }'
}

NAMES=("floor: sqlite3, a transaction per file + row" "strata migrations run"
	"sqlite3, one transaction (reference)" "strata migrations run (BASE)")
CASES="0 1 2${BASE:+ 3}"
# run_case N CASE: one sample into a fresh database; prints "seconds maxrss_kb"
run_case() {
	local p=p$1 db=$W/lite.db got
	rm -f "$db" "$db-journal" "$db-wal" "$db-shm" t.txt
	case $2 in
	0) env -C "$p" "$TIMEIT" "$W/t.txt" sqlite3 -bail "$db" ".read floor.sql" ;;
	1) env -C "$p" "$TIMEIT" "$W/t.txt" "$STRATA" -q --database-url "sqlite:$db" migrations run ;;
	2) env -C "$p" "$TIMEIT" "$W/t.txt" sqlite3 -bail "$db" ".read all.sql" ;;
	3) env -C "$p" "$TIMEIT" "$W/t.txt" "$BASE" -q --database-url "sqlite:$db" migrations run ;;
	esac || { echo "bench: ${NAMES[$2]} failed at N = $1" >&2; exit 1; }
	got=$(sqlite3 "$db" "select count(*) from strata_migrations where status = 'applied'")
	got+=" $(sqlite3 "$db" "select count(*) from sqlite_master where name not like 'sqlite_%'")"
	[ "$got" = "$1 $(sqlite3 "$W/$p.ref" "select count(*) from sqlite_master where name not like 'sqlite_%'")" ] ||
		{ echo "bench: ${NAMES[$2]} at N = $1 left $got rows, objects" >&2; exit 1; }
	cut -d' ' -f1-2 t.txt
}

for n in $NS; do
	gen "$n"
	rm -f "p$n.ref"
	env -C "p$n" sqlite3 -bail "$W/p$n.ref" ".read all.sql"
done

declare -A T R
round_robin "$CASES"

range() {
	# shellcheck disable=SC2086
	printf '%s\n' $1 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f-%.3f", lo, hi }'
}

printf '\nmedian of %d runs, round-robin, each from a fresh database file; ratio: median / the floor'"'"'s\n\n' "$RUNS"
echo "| N | case | median | min-max | ratio | per migration | peak RSS |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for n in $NS; do
	f=$(med "${T[$n,0]}")
	for c in $CASES; do
		d=$(med "${T[$n,$c]}")
		printf '| %d | %s | %.3f s | %s s | %.2fx | %.0f us | %.1f MiB |\n' "$n" "${NAMES[c]}" "$d" \
			"$(range "${T[$n,$c]}")" "$(echo "$d / $f" | bc -l)" "$(echo "$d * 1000000 / $n" | bc -l)" \
			"$(echo "$(med "${R[$n,$c]}") / 1024" | bc -l)"
	done
done
