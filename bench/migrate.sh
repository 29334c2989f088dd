#!/usr/bin/env bash
# bench/migrate.sh [N] [RUNS]: strata's per-migration cost against the floor, `psql -1 -f` of
# the same SQL, on a throw-away PostgreSQL cluster on loopback (pg_virtualenv -t), in one run.
#
# Generates N migrations (default 1000): each creates a table with 4 columns, a primary key and
# an index; every fifth also alters an earlier table. For each of RUNS rounds (default 3), on a
# fresh database each time: the floor applies all of it with `psql -1 -f` (one transaction),
# strata applies it with `migrations run` (one transaction per migration, with history rows).
# Also: a run with nothing pending against `psql -c 'select 1'`. Prints medians and ratios.
set -euo pipefail
N=${1:-1000}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${STRATA:-$ROOT/build/strata}
[ -x "$STRATA" ] || { echo "build strata first (cmake -S . -B build -G Ninja && ninja -C build)" >&2; exit 1; }

if [ -z "${PGHOST:-}" ] || [ -z "${BENCH_INNER:-}" ]; then
	export BENCH_INNER=1
	exec pg_virtualenv -t "$0" "$@"
fi

PGBIN=$(pg_config --bindir)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/m"
for i in $(seq 1 "$N"); do
	v=$(printf '%06d' "$i")
	{
		echo "-- migrate:up"
		echo "create table t$i (id bigint primary key, a text not null, b integer, c timestamptz default now());"
		echo "create index t${i}_a on t$i (a);"
		if [ $((i % 5)) -eq 0 ]; then echo "alter table t$((i - 3)) add column d$i text;"; fi
		echo "-- migrate:down"
		echo "drop table t$i;"
	} >"$work/m/$v-create_t$i.sql"
	{
		echo "create table t$i (id bigint primary key, a text not null, b integer, c timestamptz default now());"
		echo "create index t${i}_a on t$i (a);"
		if [ $((i % 5)) -eq 0 ]; then echo "alter table t$((i - 3)) add column d$i text;"; fi
	} >>"$work/all.sql"
done

ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
fresh() { "$PGBIN/psql" -X -q -d postgres -c "drop database if exists bench" -c "create database bench"; }

floor_t=()
strata_t=()
noop_floor=()
noop_strata=()
url="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/bench"
for r in $(seq 1 "$RUNS"); do
	fresh
	t0=$(ms); "$PGBIN/psql" -X -q -1 -v ON_ERROR_STOP=1 -d bench -f "$work/all.sql" >/dev/null; t1=$(ms)
	floor_t+=($((t1 - t0)))
	fresh
	t0=$(ms); "$STRATA" -q --database-url "$url" migrations run --dir "$work/m"; t1=$(ms)
	strata_t+=($((t1 - t0)))
	for k in 1 2 3 4 5; do
		t0=$(date +%s%N); "$PGBIN/psql" -X -q -d bench -c 'select 1' >/dev/null; t1=$(date +%s%N)
		noop_floor+=($(((t1 - t0) / 1000)))
		t0=$(date +%s%N); "$STRATA" -q --database-url "$url" migrations run --dir "$work/m"; t1=$(date +%s%N)
		noop_strata+=($(((t1 - t0) / 1000)))
	done
done
f=$(printf '%s\n' "${floor_t[@]}" | median)
s=$(printf '%s\n' "${strata_t[@]}" | median)
nf=$(printf '%s\n' "${noop_floor[@]}" | median)
ns=$(printf '%s\n' "${noop_strata[@]}" | median)
echo "apply $N migrations (median of $RUNS, ms):  psql -1 -f: $f   strata: $s   ratio: $(awk -v a="$s" -v b="$f" 'BEGIN { printf "%.2f", a / b }')"
echo "per-migration overhead over the floor: $(awk -v a="$s" -v b="$f" -v n="$N" 'BEGIN { printf "%.3f", (a - b) / n }') ms"
echo "nothing pending (median of $((RUNS * 5)), us):  psql -c 'select 1': $nf   strata: $ns   ratio: $(awk -v a="$ns" -v b="$nf" 'BEGIN { printf "%.2f", a / b }')"
