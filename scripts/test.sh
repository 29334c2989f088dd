#!/usr/bin/env bash
# test.sh: installs what is missing, builds strata with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole suite (unit tests and integration tests against
# a throw-away PostgreSQL cluster and real SQLite files) under prove.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh test
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON >/dev/null
ninja -C build-test

export STRATA="$PWD/build-test/strata"
export STRATA_REQUIRE_PG=1            # a PostgreSQL test that cannot find its server fails
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# pg_virtualenv -t: a temporary cluster on loopback for this run only (works as root too). When
# a test fails it prints the server's log after prove's summary, so the summary is repeated last.
log=build-test/prove.log
set +e
for try in 1 2 3; do
	pg_virtualenv -t prove -j2 --timer build-test/tests/unit/test_* tests/integration/t*.sh tests/reliability/t*.sh | tee "$log"
	rc=${PIPESTATUS[0]}
	# a cluster that could not start (say, a port taken by another cluster in that instant)
	# ran no test: try again; a run that reached prove's summary is final
	grep -q '^Result:' "$log" && break
	echo "test.sh: the throw-away PostgreSQL cluster did not start (try $try of 3)" >&2
	sleep 2
done
set -e
echo
grep -E '^(Files=|Result:)' "$log" | tail -n 2
exit "$rc"
