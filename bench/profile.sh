#!/usr/bin/env bash
# bench/profile.sh [N]: where strata's time goes, on a throw-away PostgreSQL cluster that logs
# every statement and connection (log_statement=all, log_connections=on).
#
# For the generated set of N migrations (default 1000, the same as bench/run's), it runs
#   apply   strata migrations run on an empty database
#   noop    strata migrations run with nothing pending
#   show    strata migrations show
# and for each reports: statements the server received (round trips) and connections, wall
# versus user+sys CPU time (/usr/bin/time), the syscall summary (strace -c -f), and for noop and
# apply the hottest functions (perf record, cpu-clock). Writes bench/out/profile/; prints a summary.
# Needs what bench/run set up (run bench/run --quick once first, or scripts/setup.sh bench).
set -euo pipefail
N=${1:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out/profile
STRATA=${STRATA:-$ROOT/build-bench/strata}
if [ -z "${BENCH_PROFILE_INNER:-}" ]; then
	[ -x "$STRATA" ] || { echo "build strata first (bench/run does)" >&2; exit 1; }
	rm -rf "$OUT"
	mkdir -p "$OUT/pglog"
	chmod 777 "$OUT/pglog"
	export BENCH_PROFILE_INNER=1
	port=$((20000 + RANDOM % 20000))
	exec pg_virtualenv -t -c "-p $port" -o log_statement=all -o log_connections=on \
		-o logging_collector=on -o "log_directory=$OUT/pglog" -o log_filename=pg.log "$0" "$@"
fi
PSQL=$(pg_config --bindir)/psql
LOGF=$OUT/pglog/pg.log
URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/bench"
D=$OUT/set
awk -v dir="$D" -v n="$N" -v kind=schema -v psql="$PSQL" -f "$ROOT/bench/gen.awk"
rm -rf "$D"/{dbmate,typeorm,knex,sqitch,sqlite}
env -C "$D/strata" "$STRATA" -q build --dialect postgres
"$PSQL" -X -q -d postgres -c "create database bench"

# step NAME CMD...: runs CMD once under the statement log, once under strace, once under time
step() {
	local name=$1
	shift
	sleep 0.3
	local before
	before=$(wc -l <"$LOGF")
	"$@" >/dev/null 2>&1
	sleep 0.5
	tail -n +"$((before + 1))" "$LOGF" >"$OUT/$name.pglog"
	local stmts conns
	stmts=$(grep -c 'LOG:  statement:' "$OUT/$name.pglog" || true)
	conns=$(grep -c 'connection authorized' "$OUT/$name.pglog" || true)
	grep 'LOG:  statement:' "$OUT/$name.pglog" | sed 's/.*LOG:  statement: //' |
		sed -E 's/[0-9]{6,}/<n>/g; s/t[0-9]+/t<i>/g; s/d[0-9]+/d<i>/g' | cut -c1-110 | sort | uniq -c | sort -rn >"$OUT/$name.statements.txt"
	echo "== $name: $stmts statements, $conns connections (server log); the most frequent:" | tee -a "$OUT/summary.txt"
	head -12 "$OUT/$name.statements.txt" | tee -a "$OUT/summary.txt"
}
reset_db() { "$PSQL" -X -q -d postgres -c "drop database bench" -c "create database bench"; }
cpu() { # NAME CMD...
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.time" "$@" >/dev/null 2>&1
	read -r e u s m <"$OUT/$name.time"
	printf '   %s: wall %.3f s, user %.3f s, sys %.3f s (strata CPU %.0f%% of wall), peak RSS %.1f MiB\n' \
		"$name" "$e" "$u" "$s" "$(echo "($u + $s) * 100 / $e" | bc -l)" "$(echo "$m / 1024" | bc -l)" | tee -a "$OUT/summary.txt"
}
run=(env -C "$D/strata" "$STRATA" -q --database-url "$URL" migrations run)
show=(env -C "$D/strata" "$STRATA" --database-url "$URL" migrations show)

: >"$OUT/summary.txt"
step apply "${run[@]}"
step noop "${run[@]}"
step show "${show[@]}"
echo | tee -a "$OUT/summary.txt"
reset_db
cpu apply "${run[@]}"
cpu noop "${run[@]}"
cpu show "${show[@]}"
reset_db
strace -c -f -o "$OUT/apply.strace" "${run[@]}" >/dev/null 2>&1
strace -c -f -o "$OUT/noop.strace" "${run[@]}" >/dev/null 2>&1
strace -f -tt -e trace=connect,openat,sendto,recvfrom,poll,ppoll -o "$OUT/noop.strace-tt" "${run[@]}" >/dev/null 2>&1
for s in apply noop; do
	echo "== strace -c -f, $s (top 8 by time)" | tee -a "$OUT/summary.txt"
	sed -n '1,10p' "$OUT/$s.strace" | tee -a "$OUT/summary.txt"
	grep -E 'openat|read |sendto|recvfrom|poll' "$OUT/$s.strace" | tee -a "$OUT/summary.txt" || true
done
if command -v perf >/dev/null; then
	reset_db
	perf record -q -g -e cpu-clock -o "$OUT/apply.perf" -- "${run[@]}" >/dev/null 2>&1 || true
	perf record -q -g -e cpu-clock -o "$OUT/noop.perf" -- sh -c "for i in \$(seq 50); do $(printf '%q ' "${run[@]}") >/dev/null; done" 2>/dev/null || true
	for s in apply noop; do
		echo "== perf (cpu-clock, self), $s: top 15" | tee -a "$OUT/summary.txt"
		perf report -i "$OUT/$s.perf" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -15 | tee -a "$OUT/summary.txt" || true
	done
fi
echo "profile written to $OUT (summary.txt, *.pglog, *.statements.txt, *.strace, *.perf)"
