#!/usr/bin/env bash
# bench/seed.sh: strata seed against psql's \copy, on a throw-away PostgreSQL.
#
#   bench/seed.sh [N]          # N rows in all (default 1000000)
#   STRATA=path/to/strata bench/seed.sh 200000
#
# Generates one seed of N rows: a flat table `items` (90% of the rows) and `orders` each with
# 4 nested `order_lines` (10%), plus the same data as CSV files. Under `pg_virtualenv -t`
# (a fresh cluster on loopback TCP), each of these runs 3 times into a fresh database and the
# median is reported, with peak RSS from /usr/bin/time:
#   flat:   strata seed --no-migrate -f items.json     vs  psql \copy items FROM items.csv
#   nested: strata seed --no-migrate -f orders.json    vs  psql \copy orders, order_lines
#   all:    strata seed --no-migrate -f seed.json      (items + nested orders, one transaction)
# Targets (issue 3): flat >= 0.7x the \copy throughput; strata's peak RSS < 64 MiB.
#
# BIG_MB=1024 bench/seed.sh ...  also loads one flat seed file of that many MiB, once, and
# reports strata's peak RSS for it (memory does not grow with the file).
#
# Without STRATA, it builds an optimised, unsanitised strata in build-bench/.
set -euo pipefail

N=${1:-1000000}
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh" bench "$@"
bench_strata

NORDERS=$((N / 10 / 5))       # each order: 1 row + 4 lines
NITEMS=$((N - NORDERS * 5))

mkdir -p dist/migrations
cat >dist/migrations/1-Bench.sql <<'EOF'
-- migrate:up
CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL, name text NOT NULL,
  price_cents integer NOT NULL, active boolean NOT NULL, tags text[], created_at timestamptz NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL);
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders (id), n integer NOT NULL,
  sku text NOT NULL, qty integer NOT NULL, PRIMARY KEY (order_id, n));
-- migrate:down
EOF

echo "generating $N rows ($NITEMS items, $NORDERS orders with $((NORDERS * 4)) nested lines) in $W"
awk -v n="$NITEMS" 'BEGIN {
	print "{\"items\": [" > "items.json"
	for (i = 1; i <= n; i++) {
		printf "  {\"id\": %d, \"sku\": \"SKU-%08d\", \"name\": \"Item number %d, \\\"quoted\\\"\", \"price_cents\": %d, \"active\": %s, \"tags\": [\"t%d\", \"all\"], \"created_at\": \"2024-01-%02dT12:00:00Z\"}%s\n", \
			i, i, i, (i * 37) % 100000, (i % 3 ? "true" : "false"), i % 10, i % 28 + 1, (i < n ? "," : "") > "items.json"
		printf "%d,SKU-%08d,\"Item number %d, \"\"quoted\"\"\",%d,%s,\"{t%d,all}\",2024-01-%02dT12:00:00Z\n", \
			i, i, i, (i * 37) % 100000, (i % 3 ? "true" : "false"), i % 10, i % 28 + 1 > "items.csv"
	}
	print "]}" > "items.json"
}'
awk -v n="$NORDERS" 'BEGIN {
	print "{\"orders\": [" > "orders.json"
	for (i = 1; i <= n; i++) {
		printf "  {\"id\": %d, \"customer\": \"customer-%d@example.com\", \"total_cents\": %d, \"order_lines\": [", i, i, i * 3 > "orders.json"
		printf "%d,customer-%d@example.com,%d\n", i, i, i * 3 > "orders.csv"
		for (k = 1; k <= 4; k++) {
			printf "%s{\"n\": %d, \"sku\": \"SKU-%08d\", \"qty\": %d}", (k > 1 ? ", " : ""), k, i * k, k > "orders.json"
			printf "%d,%d,SKU-%08d,%d\n", i, k, i * k, k > "lines.csv"
		}
		printf "]}%s\n", (i < n ? "," : "") > "orders.json"
	}
	print "]}" > "orders.json"
}'
# the whole seed: both sections in one file
{ sed '$d' items.json; printf '],\n"orders": [\n'; sed '1d' orders.json; } >seed.json
ls -l items.json orders.json seed.json items.csv orders.csv lines.csv | awk '{printf "  %-12s %6.1f MB\n", $9, $5 / 1048576}'

migrated_db() {
	fresh_db
	"$STRATA" --database-url "$URL" -q migrations run >/dev/null
	"$PSQL" -X -q -d "$DB" -c "CHECKPOINT" >/dev/null
}


# The cases, run round-robin (case 1..5, then again, RUNS times) so that noise from other work
# on the machine spreads over all of them; each run into a fresh database.
echo "PostgreSQL $("$PSQL" -X -At -d postgres -c 'show server_version') on $PGHOST:${PGPORT:-5432}; median of $RUNS runs"
NAMES=("psql \\copy flat" "strata flat" "psql \\copy nested" "strata nested" "strata all")
ROWS=("$NITEMS" "$NITEMS" "$((NORDERS * 5))" "$((NORDERS * 5))" "$N")
run_case() {
	case $1 in
	0) timed "$PSQL" -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "\\copy items FROM 'items.csv' WITH (FORMAT csv)" ;;
	1) timed "$STRATA" --database-url "$URL" -q seed --no-migrate -f items.json ;;
	2) timed "$PSQL" -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "\\copy orders FROM 'orders.csv' WITH (FORMAT csv)" \
		-c "\\copy order_lines FROM 'lines.csv' WITH (FORMAT csv)" ;;
	3) timed "$STRATA" --database-url "$URL" -q seed --no-migrate -f orders.json ;;
	4) timed "$STRATA" --database-url "$URL" -q seed --no-migrate -f seed.json ;;
	esac
}
declare -a T R
for run in $(seq "$RUNS"); do
	for c in 0 1 2 3 4; do
		migrated_db
		read -r s k < <(run_case "$c")
		T[c]="${T[c]:-} $s"
		R[c]="${R[c]:-} $k"
	done
done
declare -A SECS RSS
for c in 0 1 2 3 4; do
	name=${NAMES[c]}
	# shellcheck disable=SC2086
	SECS[$name]=$(printf '%s\n' ${T[c]} | median)
	# shellcheck disable=SC2086
	RSS[$name]=$(printf '%s\n' ${R[c]} | median)
	printf '  %-18s %9d rows  %7.2f s  %9.0f rows/s  peak RSS %6.1f MiB   (runs:%s)\n' "$name" "${ROWS[c]}" \
		"${SECS[$name]}" "$(echo "${ROWS[c]} / ${SECS[$name]}" | bc -l)" "$(echo "${RSS[$name]} / 1024" | bc -l)" "${T[c]}"
done

migrated_db
"$STRATA" --database-url "$URL" -q seed --no-migrate -f seed.json
got=$("$PSQL" -X -At -d "$DB" -c "select (select count(*) from items) + (select count(*) from orders) + (select count(*) from order_lines)")
[ "$got" = "$N" ] || { echo "bench: loaded $got rows, wanted $N" >&2; exit 1; }

if [ -n "${BIG_MB:-}" ]; then
	rows=$((BIG_MB * 1048576 / 174))
	awk -v n="$rows" 'BEGIN {
		print "{\"items\": ["
		for (i = 1; i <= n; i++)
			printf "  {\"id\": %d, \"sku\": \"SKU-%08d\", \"name\": \"Item number %d, \\\"quoted\\\"\", \"price_cents\": %d, \"active\": %s, \"tags\": [\"t%d\", \"all\"], \"created_at\": \"2024-01-%02dT12:00:00Z\"}%s\n", \
				i, i, i, (i * 37) % 100000, (i % 3 ? "true" : "false"), i % 10, i % 28 + 1, (i < n ? "," : "")
		print "]}"
	}' >big.json
	rm -f items.json orders.json seed.json ./*.csv
	migrated_db
	read -r s k < <(timed "$STRATA" --database-url "$URL" -q seed --no-migrate -f big.json)
	printf '\nbig: %.0f MiB seed, %d rows in %.1f s (%.0f rows/s), strata peak RSS %.1f MiB\n' \
		"$(echo "$(stat -c %s big.json) / 1048576" | bc -l)" "$rows" "$s" "$(echo "$rows / $s" | bc -l)" \
		"$(echo "$k / 1024" | bc -l)"
	rm -f big.json
fi

ratio=$(echo "${SECS[psql \\copy flat]} / ${SECS[strata flat]}" | bc -l)
printf '\nflat throughput, strata / \\copy: %.2fx (target >= 0.70)\n' "$ratio"
printf 'strata peak RSS: flat %.1f MiB, all %.1f MiB (target < 64 MiB)\n' \
	"$(echo "${RSS[strata flat]} / 1024" | bc -l)" "$(echo "${RSS[strata all]} / 1024" | bc -l)"
