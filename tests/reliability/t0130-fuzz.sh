#!/usr/bin/env bash
# Hostile input: the libFuzzer targets of tests/fuzz/ (migration files; URLs, .env and
# strata.json; the seed JSON layer; the statement splitter), built with clang under ASan+UBSan. Each replays its
# committed corpus (tests/fuzz/corpus/<target>/: seeds and regression inputs), then fuzzes for a
# bounded time (RELIABILITY_MODE=short 5 s each, long 90 s; FUZZ_SECONDS overrides) from a
# scratch copy of it. Zero crashes, leaks and sanitizer reports are expected; an input that
# crashes is kept as crash-* in build-fuzz/artifacts/ to be added to the corpus as a regression.
. "$(dirname "$0")/lib.sh"

SECS=${FUZZ_SECONDS:-$(pick 5 90)}
OUT=${FUZZ_BUILD:-$ROOT/build-fuzz}
command -v clang >/dev/null || skip_all "no clang (apt-get install clang libclang-rt-14-dev)"
if ! "$ROOT/tests/fuzz/build.sh" "$OUT" >build.log 2>&1; then
	grep -q 'fuzzer' build.log && grep -qi 'cannot find\|no such file' build.log &&
		skip_all "clang cannot link libFuzzer (apt-get install libclang-rt-14-dev)"
	bail "cannot build the fuzz targets: $(tail -5 build.log)"
fi
ok "the fuzz targets build"
mkdir -p "$OUT/artifacts"
total_execs=0 total_crashes=0
for t in fuzz_migration fuzz_config fuzz_seed_json fuzz_sqlsplit; do
	corpus=$ROOT/tests/fuzz/corpus/$t
	check "$t: replays its corpus ($(ls "$corpus" | wc -l) inputs)" 0 '' 'Done [0-9]+ runs' \
		"$OUT/$t" -runs=0 "$corpus"
	rm -rf work && mkdir work && cp "$corpus"/* work/
	"$OUT/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t-" work >"$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$t.log" | tail -1)
	crashes=$(grep -cE '^==[0-9]+==ERROR|^SUMMARY: (Address|Undefined|Leak)|runtime error|deadly signal|ERROR: libFuzzer' "$t.log")
	total_execs=$((total_execs + ${execs:-0}))
	total_crashes=$((total_crashes + crashes))
	if [ "$rc" = 0 ] && [ "$crashes" = 0 ]; then
		ok "$t: ${execs:-0} executions in $SECS s, no crash"
	else
		not_ok "$t: ${execs:-0} executions in $SECS s: exit $rc, $crashes crash reports"
		diag "$(grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$t.log" | head -10)"
	fi
	figure "fuzz.$t.executions" "${execs:-0}"
	figure "fuzz.$t.crashes" "$crashes"
done
figure fuzz.executions "$total_execs"
figure fuzz.crashes "$total_crashes"
done_testing
