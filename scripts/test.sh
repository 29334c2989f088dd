#!/usr/bin/env bash
# test.sh: installs what is missing (Debian packages; the npm tools of tests/peers that the
# adopt tests drive), builds strata with AddressSanitizer and UndefinedBehaviorSanitizer, and
# runs the whole suite (unit tests and integration tests against a throw-away PostgreSQL cluster
# and real SQLite files) under prove.
#
# For the suite's own test of this script (t0005) only: TEST_FILES (the tests to run instead of
# all), TEST_OUT (where the logs go, default build-test), TEST_NO_BUILD=1 (use the build there).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_NO_BUILD:-}" ]; then
	scripts/setup.sh test
	cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON >/dev/null
	ninja -C build-test
	# the unit tests are part of the suite: cmocka must have been found
	ls build-test/tests/unit/test_* >/dev/null 2>&1 ||
		{ echo "test.sh: the unit tests were not built (is libcmocka-dev installed?)" >&2; exit 1; }
	# the real tools the adopt tests (t07*) drive: dbmate, typeorm, knex (npm ci, skipped when
	# build-test/peers already holds this lock's install)
	tests/peers/install.sh build-test/peers
fi
out_dir=${TEST_OUT:-build-test}
mkdir -p "$out_dir"

export STRATA="$PWD/build-test/strata"
export STRATA_REQUIRE_PG=1            # a PostgreSQL test that cannot find its server fails
export STRATA_PEERS="$PWD/build-test/peers" # where tests/peers/install.sh put the npm tools
export STRATA_REQUIRE_PEERS=1         # an adopt test that cannot find a tool (npm's or sqitch) fails
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# pg_virtualenv -t: a temporary cluster on loopback for this run only (works as root too). The
# suite runs inside it and always exits 0 there: pg_virtualenv would otherwise print the last
# 100 lines of the server's log, which hold only the errors other tests expect. The whole log is
# kept in build-test/postgresql.log instead, and after a failure only its crash lines show.
log=$out_dir/prove.log
pglog=$out_dir/postgresql.log
rcfile=$out_dir/prove.rc
# shellcheck disable=SC2206
files=(${TEST_FILES:-build-test/tests/unit/test_* tests/integration/t*.sh tests/reliability/t*.sh})
rm -f "$log" "$pglog" "$rcfile"
set +e
for try in 1 2 3; do
	pg_virtualenv -t bash -c '
		log=$1 rcfile=$2 pglog=$3
		shift 3
		prove -j2 --timer "$@" | tee "$log"
		echo "${PIPESTATUS[0]}" >"$rcfile"
		f=$(pg_lsclusters -h 2>/dev/null | awk "\$2 == \"regress\" {print \$7; exit}")
		[ -n "$f" ] && [ -r "$f" ] && cp "$f" "$pglog"
		exit 0' test.sh "$log" "$rcfile" "$pglog" "${files[@]}"
	# a cluster that could not start (say, a port taken by another cluster in that instant)
	# ran no test: try again; a run that reached prove's summary is final
	grep -q '^Result:' "$log" 2>/dev/null && break
	echo "test.sh: the throw-away PostgreSQL cluster did not start (try $try of 3)" >&2
	sleep 2
done
set -e
rc=$(cat "$rcfile" 2>/dev/null || echo 1)
if [ "$rc" != 0 ] && [ -s "$pglog" ]; then
	# what helps after a failure: the server crashing or refusing service, not the errors
	# the tests provoke on purpose
	crash=$(grep -E 'PANIC|terminated by signal|was terminated|out of memory|could not fork|too many connections' "$pglog" | tail -n 20 || true)
	if [ -n "$crash" ]; then
		echo
		echo "test.sh: the server's log has these lines about the server itself:"
		printf '%s\n' "$crash"
	fi
fi
echo
grep -E '^(Files=|Result:)' "$log" | tail -n 2
[ -s "$pglog" ] && echo "The PostgreSQL server's whole log: $pglog"
exit "$rc"
