#!/usr/bin/env bash
# bench/adopt.sh: strata migrations adopt --from dbmate against strata migrations run --fake of
# the same migrations (the floor: the same history rows written).
#
#   bench/adopt.sh [N...]                 # default: 1000 10000
#   STRATA=path/to/strata RUNS=3 bench/adopt.sh 1000 10000
#
# For each N: N migrations (`create table` + `create index`, a down that drops both), built with
# `strata build` and read with --dir. Under `pg_virtualenv -t` (a fresh cluster on loopback TCP),
# RUNS times round-robin, each sample into a fresh database holding dbmate's history of the N
# (schema_migrations, one row per version, written with psql; adopt reads only the history):
#   adopt:             strata migrations adopt --from dbmate     (one transaction)
#   fake:              strata migrations run --fake              (the default: a transaction each)
#   fake, all:         strata migrations run --fake --transaction all   (one transaction, as adopt)
# Median wall time and peak RSS (/usr/bin/time); ratios to `run --fake` in the same run.
#
# Without STRATA, it builds an optimised, unsanitised strata in build-bench/.
set -euo pipefail

NS=${*:-1000 10000}
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh" adopt "$@"
bench_strata

echo "PostgreSQL $("$PSQL" -X -At -d postgres -c 'show server_version') on $PGHOST:${PGPORT:-5432}," \
	"$("$STRATA" --version), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) CPUs," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"

for n in $NS; do
	mkdir -p "p$n/src/migrations"
	awk -v n="$n" -v d="p$n/src/migrations" 'BEGIN {
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/17%011d_create_t%d.sql", d, i, i) # 1700000000000 + i (mawk: no 64-bit %d)
			printf "-- migrate:up\ncreate table t%d (id bigint primary key, a text not null, b integer);\ncreate index t%d_a on t%d (a);\n\n-- migrate:down\ndrop index t%d_a;\ndrop table t%d;\n", i, i, i, i, i > f
			close(f)
		}
	}'
	env -C "p$n" "$STRATA" -q build --dialect postgres
done

# dbmate_db N: a fresh database with dbmate's history of the N migrations
dbmate_db() {
	fresh_db
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" \
		-c "create table schema_migrations (version varchar(128) primary key)" \
		-c "insert into schema_migrations select (1700000000000 + i)::text from generate_series(1, $1) i" \
		-c "vacuum analyze schema_migrations" >/dev/null
}

NAMES=("strata migrations run --fake" "strata migrations run --fake --transaction all"
	"strata migrations adopt --from dbmate")
run_case() { # N CASE
	local dir=p$1/dist/migrations out
	dbmate_db "$1"
	case $2 in
	0) out=$(timed_fine "$STRATA" -q --database-url "$URL" migrations run --fake --dir "$dir") ;;
	1) out=$(timed_fine "$STRATA" -q --database-url "$URL" migrations run --fake --transaction all --dir "$dir") ;;
	2) out=$(timed_fine "$STRATA" -q --database-url "$URL" migrations adopt --from dbmate --dir "$dir") ;;
	esac
	local got
	got=$("$PSQL" -X -At -d "$DB" -c "select count(*) from strata_migrations where status = 'applied'")
	[ "$got" = "$1" ] || { echo "bench: ${NAMES[$2]} recorded $got of $1" >&2; exit 1; }
	echo "$out"
}

declare -A T R
round_robin "0 1 2"

printf '\nmedian of %d runs, round-robin; ratio: time / `run --fake` in the same run\n' "$RUNS"
printf '  %-48s %6s  %8s  %7s  %9s   %s\n' case N median ratio "peak RSS" runs
for n in $NS; do
	for c in 0 1 2; do
		d=$(med "${T[$n,$c]}")
		printf '  %-48s %6d  %8.3fs  %6.2fx  %5.1f MiB   (%s )\n' "${NAMES[c]}" "$n" "$d" \
			"$(echo "$d / $(med "${T[$n,0]}")" | bc -l)" "$(echo "$(med "${R[$n,$c]}") / 1024" | bc -l)" \
			"${T[$n,$c]# }"
	done
done
