#!/usr/bin/env bash
# bench/schema.sh: strata schema dump against pg_dump --schema-only, and strata schema check and
# strata migrations test against strata migrations run of the same migrations (the floor).
#
#   bench/schema.sh [TABLES]          # default 1000
#   STRATA=path/to/strata RUNS=3 DUMP_RUNS=5 NS="100 1000" TEST_LAST=5 bench/schema.sh 1000
#
# Under `pg_virtualenv -t` (a fresh cluster on loopback TCP), with peak RSS from /usr/bin/time:
#
# (a) dump: one database holding TABLES tables, each with a primary key, a foreign key (to the
#     table before it; the first to itself), a check, an index and a comment. Interleaved,
#     DUMP_RUNS times (median reported):
#       pg_dump --schema-only -f FILE    (the real binary from pg_config --bindir)
#       strata schema dump --out FILE
#
# (b) for each N of NS: N migrations, each `create table` + `create index` with a down that
#     drops both, built with `strata build` (one PostgreSQL project, one SQLite project) and read
#     with --dir. RUNS times round-robin, each run from a fresh database (file):
#       run:   strata migrations run      (the floor: the same N applied)
#       check: strata schema check        (on the database run just migrated: apply the N to a
#                                          scratch database, dump both, compare)
#       test:  strata migrations test     (on a scratch database, per migration: dump, up,
#                                          down, dump, up again)
#     on PostgreSQL and on SQLite. The test reads the whole schema twice per migration, and the
#     schema grows with each one, so its cost is quadratic in N: on PostgreSQL, for N above
#     TEST_FULL_MAX (default 100), it tests only the last TEST_LAST migrations (default 5) with
#     --from (the N - TEST_LAST before them applied untested), and the table says so.
#
# Without STRATA, it builds an optimised, unsanitised strata in build-bench/.
set -euo pipefail

TABLES=${1:-1000}
DUMP_RUNS=${DUMP_RUNS:-5}
RUNS=${RUNS:-3}
NS=${NS:-100 1000}
TEST_FULL_MAX=${TEST_FULL_MAX:-100}
TEST_LAST=${TEST_LAST:-5}
. "$(dirname "$0")/lib.sh" schema "$@"
bench_strata
PGBIN=$(pg_config --bindir)
DUMPDB=strata_schema_dump
DUMPURL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT:-5432}/$DUMPDB"

mib() { echo "$1 / 1024" | bc -l; }
# med "v1 v2 ...": the median of the values

echo "PostgreSQL $("$PSQL" -X -At -d postgres -c 'show server_version') on $PGHOST:${PGPORT:-5432}," \
	"SQLite $(sqlite3 --version | cut -d' ' -f1), $("$STRATA" --version), commit" \
	"$(git -C "$ROOT" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- (a) dump -------------------------------------------------------------------------------
# TABLES tables, in transactions of 100 (a lock per table, its indexes and its toast table)
awk -v n="$TABLES" 'BEGIN {
	for (i = 1; i <= n; i++) {
		if (i % 100 == 1) print "begin;"
		printf "create table t%d (id bigint primary key, parent_id bigint references t%d (id), qty integer not null check (qty >= 0), name text, created_at timestamptz not null default now());\n", i, (i > 1 ? i - 1 : i)
		printf "create index t%d_name on t%d (name);\n", i, i
		printf "comment on table t%d is '\''table %d of the schema benchmark'\'';\n", i, i
		if (i % 100 == 0 || i == n) print "commit;"
	}
}' >tables.sql
"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DUMPDB" -c "CREATE DATABASE $DUMPDB" >/dev/null 2>&1
t0=$(date +%s.%N)
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DUMPDB" -f tables.sql >/dev/null
"$PSQL" -X -q -d "$DUMPDB" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
printf '\n(a) schema dump: %d tables (pk, fk, check, index, comment each), loaded in %.1f s; median of %d interleaved runs\n' \
	"$TABLES" "$(echo "$(date +%s.%N) - $t0" | bc -l)" "$DUMP_RUNS"
DT=('' '') DR=('' '')
for run in $(seq "$DUMP_RUNS"); do
	read -r s k < <(timed_fine "$PGBIN/pg_dump" --schema-only -d "$DUMPDB" -f pg_dump.sql)
	DT[0]+=" $s" DR[0]+=" $k"
	read -r s k < <(timed_fine "$STRATA" -q --database-url "$DUMPURL" schema dump --out strata_dump.sql)
	DT[1]+=" $s" DR[1]+=" $k"
done
grep -q "CREATE TABLE public.t$TABLES " pg_dump.sql && grep -qi "create table.*t$TABLES\b" strata_dump.sql ||
	{ echo "bench: a dump misses table t$TABLES" >&2; exit 1; }
DUMP_NAMES=("pg_dump --schema-only" "strata schema dump")
DUMP_FILES=(pg_dump.sql strata_dump.sql)
d0=$(med "${DT[0]}")
printf '  %-24s %8s  %8s  %10s  %9s   %s\n' tool median ratio "peak RSS" output runs
for c in 0 1; do
	d=$(med "${DT[c]}")
	printf '  %-24s %8.3fs  %7.2fx  %6.1f MiB  %5.0f KiB   (%s )\n' "${DUMP_NAMES[c]}" "$d" \
		"$(echo "$d / $d0" | bc -l)" "$(mib "$(med "${DR[c]}")")" \
		"$(echo "$(stat -c %s "${DUMP_FILES[c]}") / 1024" | bc -l)" "${DT[c]# }"
done
"$PSQL" -X -q -d postgres -c "DROP DATABASE $DUMPDB" >/dev/null

# ---- (b) check and test -------------------------------------------------------------------
# gen N DIALECT DIR: DIR/src/migrations, N migrations, built into DIR/dist/migrations
gen() {
	mkdir -p "$3/src/migrations"
	awk -v n="$1" -v dialect="$2" -v d="$3/src/migrations" 'BEGIN {
		id = dialect == "postgres" ? "bigint" : "integer"
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/17%011d-create_t%d.sql", d, i, i) # 1700000000000 + i (mawk: no 64-bit %d)
			printf "-- migrate:up\ncreate table t%d (id %s primary key, a text not null, b integer);\ncreate index t%d_a on t%d (a);\n\n-- migrate:down\ndrop index t%d_a;\ndrop table t%d;\n", i, id, i, i, i, i > f
			close(f)
		}
	}'
	env -C "$3" "$STRATA" -q build --dialect "$2"
}

# the cases of one N: 0 run, 1 check, 2 test (PostgreSQL), 3 run, 4 check, 5 test (SQLite)
CASES=("pg: migrations run" "pg: schema check" "pg: migrations test"
	"sqlite: migrations run" "sqlite: schema check" "sqlite: migrations test")
run_case() { # N CASE
	local n=$1 dir=pg$1/dist/migrations lite=lite$1/dist/migrations from=()
	if [ "$n" -gt "$TEST_FULL_MAX" ]; then
		from=(--from $((1700000000000 + n - TEST_LAST)))
	fi
	case $2 in
	0) fresh_db; timed_fine "$STRATA" -q --database-url "$URL" migrations run --dir "$dir" ;;
	1) timed_fine "$STRATA" -q --database-url "$URL" schema check --dir "$dir" ;;
	2) timed_fine "$STRATA" -q --database-url "$URL" migrations test --dir "$dir" "${from[@]}" ;;
	3) rm -f lite.db; timed_fine "$STRATA" -q --database-url sqlite:lite.db migrations run --dir "$lite" ;;
	4) timed_fine "$STRATA" -q --database-url sqlite:lite.db schema check --dir "$lite" ;;
	5) timed_fine "$STRATA" -q --database-url sqlite:lite.db migrations test --dir "$lite" ;;
	esac
}

declare -A T R
for n in $NS; do
	gen "$n" postgres "pg$n"
	gen "$n" sqlite "lite$n"
done
printf '\n(b) schema check and migrations test against migrations run of the same N; median of %d runs, round-robin\n' "$RUNS"
round_robin "0 1 2 3 4 5"
printf '  %-24s %6s  %8s  %8s  %10s   %s\n' case N median "/ run" "peak RSS" runs
for n in $NS; do
	for c in 0 1 2 3 4 5; do
		floor=$((c < 3 ? 0 : 3))
		d=$(med "${T[$n,$c]}")
		note=''
		if [ "$c" = 2 ] && [ "$n" -gt "$TEST_FULL_MAX" ]; then
			note="  (tests the last $TEST_LAST: --from, $((n - TEST_LAST)) applied untested)"
		fi
		printf '  %-24s %6d  %8.3fs  %7.2fx  %6.1f MiB   (%s )%s\n' "${CASES[c]}" "$n" "$d" \
			"$(echo "$d / $(med "${T[$n,$floor]}")" | bc -l)" "$(mib "$(med "${R[$n,$c]}")")" \
			"${T[$n,$c]# }" "$note"
	done
done
