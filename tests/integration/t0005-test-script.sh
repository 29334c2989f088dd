#!/usr/bin/env bash
# scripts/test.sh after a failing test: its exit code says so, it says where the server's whole
# log is, and it does not print the server's log lines that only hold the errors tests provoke
# (pg_virtualenv's own "last 100 lines" dump). Runs the script on two tiny test files of its
# own, in a clean environment (a cluster of its own), with the build already there.
. "$(dirname "$0")/lib.sh"
command -v pg_virtualenv >/dev/null || skip_all "no pg_virtualenv"
[ -x "$ROOT/build-test/strata" ] || skip_all "no build-test (scripts/test.sh builds it)"

mkdir t
cat >t/t1-fails.sh <<'T'
#!/usr/bin/env bash
# provokes a server error, then fails
psql_bin=$(pg_config --bindir)/psql
"$psql_bin" -X -q -d postgres -c 'select 1/0 as provoked_on_purpose' >/dev/null 2>&1
echo "not ok 1 - fails on purpose"
echo "1..1"
exit 1
T
cat >t/t2-passes.sh <<'T'
#!/usr/bin/env bash
echo "ok 1 - passes"
echo "1..1"
T
chmod +x t/*.sh
run env -i PATH="$PATH" HOME="${HOME:-/root}" TEST_NO_BUILD=1 TEST_OUT="$TEST_DIR/out" \
	TEST_FILES="$TEST_DIR/t/t1-fails.sh $TEST_DIR/t/t2-passes.sh" bash "$ROOT/scripts/test.sh"
is 'test.sh exits non-zero after a failing test' "$rc" 1
like '... prove says which failed' "$out" 't1-fails\.sh .*Failed'
like '... it says where the whole server log is' "$out" "^The PostgreSQL server's whole log: $TEST_DIR/out/postgresql\\.log\$"
unlike '... it does not dump the log' "$out$err" 'last 100 lines'
unlike '... nor the error the test provoked' "$out$err" 'division by zero'
like '... which is in the kept log' "$(cat out/postgresql.log 2>/dev/null)" 'ERROR:  division by zero'
like '... the summary comes last' "$(printf '%s\n' "$out" | grep -v '^$' | tail -n 3 | head -n 2 | tr '\n' ' ')" '^Files=.*Result: FAIL'

run env -i PATH="$PATH" HOME="${HOME:-/root}" TEST_NO_BUILD=1 TEST_OUT="$TEST_DIR/out2" \
	TEST_FILES="$TEST_DIR/t/t2-passes.sh" bash "$ROOT/scripts/test.sh"
is 'a passing run exits 0' "$rc" 0
like '... Result: PASS' "$out" '^Result: PASS$'
done_testing
