#!/usr/bin/env bash
# bench/bigfile.sh: one large migration, built and applied by strata, against the sqlite3 and
# psql shells running the same file (issue 10, item 7).
#
#   bench/bigfile.sh [SQLITE_MB [PG_MB]]        # defaults: 8 and 50
#   STRATA=path/to/strata RUNS=3 bench/bigfile.sh 8 50
#
# Each migration is one CREATE TABLE and then INSERTs of one row each (~130 bytes, every row's
# text holds a ';' inside a string) up to the size asked for. Under `pg_virtualenv -t` (a fresh
# cluster on loopback TCP) it times, RUNS times round-robin (median reported), with peak RSS
# from /usr/bin/time:
#   sqlite floor:  sqlite3 DB < all.sql               (BEGIN; the up section; COMMIT)
#   sqlite build:  strata build --dialect sqlite      (parse by applying to an in-memory database)
#   sqlite run:    strata migrations run              (into a fresh file)
#   pg floor:      psql -X -1 -f all.sql              (the real client from pg_config --bindir)
#   pg build:      strata build --dialect postgres    (libpg_query parse + lint)
#   pg run:        strata migrations run              (into a fresh database)
# For the PostgreSQL runs it also samples the peak RSS (VmHWM) of the server processes while
# the command runs (every 50 ms), since the server parses what the client sends.
# Ratios are to the floor of the same engine in the same run.
#
# Without STRATA, it builds an optimised, unsanitised strata in build-bench/.
set -euo pipefail

SQLITE_MB=${1:-8}
PG_MB=${2:-50}
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh" bigfile "$@"
bench_strata

# gen DIALECT MB DIR: DIR/src/migrations/1-Big.sql and DIR/all.sql (the same SQL for the shell)
gen() {
	mkdir -p "$3/src/migrations"
	awk -v dialect="$1" -v mb="$2" -v dir="$3" 'BEGIN {
		m = dir "/src/migrations/1-Big.sql"; a = dir "/all.sql"
		id = dialect == "postgres" ? "bigint" : "integer"
		t = "create table items (id " id " primary key, sku text not null, name text not null, price_cents integer not null, note text);"
		print "-- migrate:up\n" t > m
		print "begin;\n" t > a
		for (i = 1; size < mb * 1048576; i++) {
			s = sprintf("insert into items (id, sku, name, price_cents, note) values (%d, '"'"'SKU-%08d'"'"', '"'"'Item number %d; one of many'"'"', %d, null);", i, i, i, (i * 37) % 100000)
			print s > m
			print s > a
			size += length(s) + 1
		}
		print "\n-- migrate:down\ndrop table items;" > m
		print "commit;" > a
		print i - 1
	}'
}

# server_peak PID: the largest VmHWM (kB) of the PostgreSQL server processes while PID runs
server_peak() {
	local max=0 v f
	while kill -0 "$1" 2>/dev/null; do
		for f in $(pgrep -x postgres 2>/dev/null | sed 's|.*|/proc/&/status|'); do
			v=$(awk '/^VmHWM:/ { print $2 }' "$f" 2>/dev/null || true)
			[ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
		done
		sleep 0.05
	done
	echo "$max"
}

# pg_timed CMD...: timed, plus the server's peak; prints "seconds maxrss_kb server_kb"
pg_timed() {
	local s k pid srv
	timed "$@" >timed.out &
	pid=$!
	srv=$(server_peak "$pid")
	wait "$pid"
	read -r s k <timed.out
	echo "$s $k $srv"
}

mib() { echo "$1 / 1024" | bc -l; }

echo "generating: SQLite ${SQLITE_MB} MiB, PostgreSQL ${PG_MB} MiB in $W"
SQ_ROWS=$(gen sqlite "$SQLITE_MB" lite)
PG_ROWS=$(gen postgres "$PG_MB" pg)
ls -l lite/src/migrations/1-Big.sql pg/src/migrations/1-Big.sql |
	awk '{ printf "  %-36s %6.1f MiB\n", $9, $5 / 1048576 }'
echo "  rows: SQLite $SQ_ROWS, PostgreSQL $PG_ROWS"


NAMES=("sqlite3 < all.sql" "strata build (sqlite)" "strata run (sqlite)"
	"psql -1 -f all.sql" "strata build (postgres)" "strata run (postgres)")
run_case() {
	case $1 in
	0) rm -f lite.db; timed sh -c "sqlite3 lite.db < lite/all.sql" ;;
	1) rm -rf lite/dist; timed env -C lite "$STRATA" -q build --dialect sqlite ;;
	2) rm -f lite.db; timed env -C lite "$STRATA" -q --database-url sqlite:../lite.db migrations run ;;
	3) fresh_db; pg_timed "$PSQL" -X -q -v ON_ERROR_STOP=1 -1 -d "$DB" -f pg/all.sql ;;
	4) rm -rf pg/dist; timed env -C pg "$STRATA" -q build --dialect postgres ;;
	5) fresh_db; pg_timed env -C pg "$STRATA" -q --database-url "$URL" migrations run ;;
	esac
}
# strata run needs the build: made once, outside the timing, before the first run
env -C lite "$STRATA" -q build --dialect sqlite
env -C pg "$STRATA" -q build --dialect postgres
declare -a T R S
for run in $(seq "$RUNS"); do
	for c in 0 1 2 3 4 5; do
		s='' k='' v=''
		read -r s k v < <(run_case "$c")
		T[c]="${T[c]:-} $s"
		R[c]="${R[c]:-} $k"
		S[c]="${S[c]:-} ${v:-0}"
	done
	# what strata run left behind is the whole file, applied
	got=$("$PSQL" -X -At -d "$DB" -c "select count(*) from items")
	[ "$got" = "$PG_ROWS" ] || { echo "bench: PostgreSQL has $got rows, wanted $PG_ROWS" >&2; exit 1; }
	got=$(sqlite3 lite.db "select count(*) from items")
	[ "$got" = "$SQ_ROWS" ] || { echo "bench: SQLite has $got rows, wanted $SQ_ROWS" >&2; exit 1; }
done

echo "PostgreSQL $("$PSQL" -X -At -d postgres -c 'show server_version'), SQLite $(sqlite3 --version | cut -d' ' -f1); median of $RUNS runs"
declare -a SECS
for c in 0 1 2 3 4 5; do
	# shellcheck disable=SC2086
	SECS[c]=$(printf '%s\n' ${T[c]} | median)
	# shellcheck disable=SC2086
	rss=$(printf '%s\n' ${R[c]} | median)
	floor=$((c < 3 ? 0 : 3))
	ratio=$(echo "${SECS[c]} / ${SECS[floor]}" | bc -l)
	srv=''
	if [ "$c" = 3 ] || [ "$c" = 5 ]; then
		# shellcheck disable=SC2086
		srv=$(printf '  server peak %7.1f MiB' "$(mib "$(printf '%s\n' ${S[c]} | median)")")
	fi
	printf '  %-24s %8.2f s  (%6.2fx)  peak RSS %7.1f MiB%s   (runs:%s)\n' "${NAMES[c]}" "${SECS[c]}" \
		"$ratio" "$(mib "$rss")" "$srv" "${T[c]}"
done
