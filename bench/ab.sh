#!/usr/bin/env bash
# bench/ab.sh: two strata binaries, A and B, applying the same N migrations, interleaved run by
# run, on a throw-away PostgreSQL cluster and on SQLite: what a change costs per migration.
#
#   bench/ab.sh A_STRATA B_STRATA [N [RUNS]]      # defaults: N = 1000, RUNS = 7
#   bench/ab.sh build-old/strata build/strata 1000 7
#
# The set is bench/gen.awk's (kind schema: a table and an index per migration, an ALTER in
# every fifth), built once with B. Each run applies all N into a fresh database (PostgreSQL) or
# a fresh file (SQLite) with A, then with B (the order alternates from run to run), and records
# wall time and the client's CPU time (user + system, from wait4's rusage): the server's work is
# the same for both, so the client's CPU time shows a client-side change without the noise of
# the server and the disk. Prints medians and B - A per migration.
set -euo pipefail

A=$(realpath "$1")
B=$(realpath "$2")
N=${3:-1000}
RUNS=${4:-7}
. "$(dirname "$0")/lib.sh" ab "$@"
awk -v dir="$W/set" -v n="$N" -v kind=schema -v psql="$PSQL" -f "$ROOT/bench/gen.awk"
env -C set/strata "$B" -q build --dialect postgres
env -C set/sqlite "$B" -q build --dialect sqlite

# cpu_timed CMD...: runs it; prints "wall_s cpu_s" (the child's user + system time, from wait4's
# rusage, in microseconds rather than /usr/bin/time's hundredths)
cpu_timed() {
	python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f %.4f" % (time.monotonic() - t, ru.ru_utime + ru.ru_stime))' "$@"
}

# one ENGINE BIN: applies the set; prints "wall_s cpu_s"
one() {
	if [ "$1" = pg ]; then
		fresh_db
		cpu_timed env -C set/strata "$2" -q --database-url "$URL" migrations run
	else
		rm -f ab.db
		cpu_timed env -C set/sqlite "$2" -q --database-url "sqlite:$W/ab.db" migrations run
	fi
}


echo "N = $N migrations, $RUNS runs each, interleaved; A = $A, B = $B"
for engine in pg sqlite; do
	declare -a aw=() ac=() bw=() bc=()
	for r in $(seq "$RUNS"); do
		for which in $( [ $((r % 2)) = 1 ] && echo "A B" || echo "B A"); do
			bin=$A
			[ "$which" = B ] && bin=$B
			read -r w c < <(one "$engine" "$bin")
			if [ "$which" = A ]; then aw+=("$w"); ac+=("$c"); else bw+=("$w"); bc+=("$c"); fi
		done
	done
	maw=$(printf '%s\n' "${aw[@]}" | median) mac=$(printf '%s\n' "${ac[@]}" | median)
	mbw=$(printf '%s\n' "${bw[@]}" | median) mbc=$(printf '%s\n' "${bc[@]}" | median)
	printf '%-7s wall: A %6.2f s  B %6.2f s  (B/A %.3f, %+.1f us per migration)\n' "$engine" \
		"$maw" "$mbw" "$(echo "$mbw / $maw" | bc -l)" "$(echo "($mbw - $maw) * 1000000 / $N" | bc -l)"
	printf '%-7s client CPU: A %6.3f s  B %6.3f s  (%+.1f us per migration)   (runs A: %s; B: %s)\n' "" \
		"$mac" "$mbc" "$(echo "($mbc - $mac) * 1000000 / $N" | bc -l)" "${ac[*]}" "${bc[*]}"
done
