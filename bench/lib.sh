# lib.sh: what bench/seed.sh, bigfile.sh, ab.sh, schema.sh, fleet.sh, adopt.sh and sqlite.sh
# share. After `set -euo pipefail`:
#
#   . "$(dirname "$0")/lib.sh" NAME "$@"
#
# re-runs the script under `pg_virtualenv -t` (a throw-away cluster on loopback TCP) unless
# PGHOST is set, and then sets ROOT, PSQL (the real client from pg_config --bindir, not
# Debian's wrapper), DB (strata_NAME) and URL, and works in a scratch directory $W that is
# removed at exit. With BENCH_NO_PG=1 (bench/sqlite.sh), no cluster and no PSQL, DB or URL.
BENCH_NAME=$1
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BENCH_NO_PG:-}" ]; then
	if [ -z "${PGHOST:-}" ]; then
		exec pg_virtualenv -t "$0" "$@"
	fi
	PSQL=$(pg_config --bindir)/psql
	DB=strata_$BENCH_NAME
	URL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT:-5432}/$DB"
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/strata-$BENCH_NAME.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

# bench_strata: $STRATA, else an optimised, unsanitised strata built in build-bench/.
bench_strata() {
	if [ -z "${STRATA:-}" ]; then
		cmake -S "$ROOT" -B "$ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
			-DSTRATA_SANITIZE=OFF -DSTRATA_TESTS=OFF >/dev/null
		ninja -C "$ROOT/build-bench" strata_cli >/dev/null
		STRATA=$ROOT/build-bench/strata
	fi
	[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
}

# fresh_db: $DB dropped and made again, empty.
fresh_db() {
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
}

# timed CMD...: runs it under /usr/bin/time; prints "seconds maxrss_kb"
timed() {
	/usr/bin/time -f '%e %M' -o time.txt "$@" >cmd.out 2>&1 || { cat cmd.out time.txt >&2; exit 1; }
	tail -1 time.txt
}

# timed_fine CMD...: as timed, but the seconds from bash's EPOCHREALTIME around /usr/bin/time
# (to 0.1 ms, /usr/bin/time's own fork and exec included, about 1 ms), for commands that
# take milliseconds, where %e's 10 ms steps are too coarse.
timed_fine() {
	local t0=$EPOCHREALTIME t1
	/usr/bin/time -f '%e %M' -o time.txt "$@" >cmd.out 2>&1 || { cat cmd.out time.txt >&2; exit 1; }
	t1=$EPOCHREALTIME
	echo "$(echo "${t1/./} - ${t0/./}" | bc | awk '{ printf "%.4f", $1 / 1e6 }') $(tail -1 time.txt | cut -d' ' -f2)"
}

# median: of the numbers on stdin, one a line (of an even count, the mean of the middle two)
median() { sort -g | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# med "N1 N2 ...": the median of the words of $1 (the samples a script collects in a string)
med() {
	# shellcheck disable=SC2086
	printf '%s\n' $1 | median
}

# round_robin "CASES": $RUNS rounds; each runs the script's run_case N C (which prints "seconds
# rss_kb") for every N of $NS and C of CASES in turn, adding the samples to T[N,C] and R[N,C]
# (the script's `declare -A T R`) as space-separated words.
round_robin() {
	local n c s k
	for _ in $(seq "$RUNS"); do
		for n in $NS; do
			for c in $1; do
				read -r s k < <(run_case "$n" "$c")
				T[$n,$c]+=" $s"
				R[$n,$c]+=" $k"
			done
		done
	done
}
