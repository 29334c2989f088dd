#!/usr/bin/env bash
# The test helpers themselves (lib.sh here and tests/reliability/lib.sh): each kind of check is fed
# wrong output and must say "not ok", and right output and must say "ok". Every case runs in a
# bash of its own that sources the library (its own counters, temporary directory and exit
# status), so its TAP is captured here and never mixes with this script's own.
. "$(dirname "$0")/lib.sh"

LIB=$ROOT/tests/integration/lib.sh
RLIB=$ROOT/tests/reliability/lib.sh

# tap CODE [LIBRARY]: what CODE prints on stdout in a fresh bash that sourced LIBRARY (default:
# lib.sh), then a last line "exit N" with that bash's exit status.
tap() {
	local o r
	o=$(SELFTEST_CODE=$1 bash -c '. "$0" && eval "$SELFTEST_CODE"' "${2:-$LIB}" 2>/dev/null)
	r=$?
	printf '%s\nexit %s\n' "$o" "$r"
}

# reports NAME VERDICT CODE [LIBRARY]: the first test line CODE prints is "VERDICT 1 - ..."
# (VERDICT is ok or "not ok").
reports() {
	local got
	got=$(tap "$3" "${4:-$LIB}" | grep -E -m 1 '^(not )?ok [0-9]')
	case $got in
	"$2 1 - "*) ok "$1" ;;
	*) not_ok "$1"; diag "wanted: '$2 1 - ...'" "got:    '$got'" ;;
	esac
}

# prints NAME CODE WANT [LIBRARY]: everything CODE prints except diagnostics (# lines), and
# its exit status, is exactly WANT.
prints() {
	local got
	got=$(tap "$2" "${4:-$LIB}" | grep -v '^#')
	if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:" "$got" "wanted:" "$3"; fi
}

# prove_says NAME CODE RESULT [WHY]: prove's verdict (PASS, FAIL) on a bash script that sources
# lib.sh and runs CODE, read by prove itself; with WHY, a regex some line of prove's report
# must match (the reason it failed), so that it does not fail for another reason.
prove_says() {
	local f got res
	f=$TEST_DIR/selftest.$_n.sh
	printf '#!/usr/bin/env bash\n. %q\n%s\n' "$LIB" "$2" >"$f"
	got=$(cd "$TEST_DIR" && env -u PGHOST STRATA_REQUIRE_PG=0 prove "$f" 2>&1)
	res=$(printf '%s\n' "$got" | sed -n 's/^Result: //p')
	if [ "$res" = "$3" ] && { [ -z "${4:-}" ] || printf '%s\n' "$got" | grep -Eq -- "$4"; }; then
		ok "$1"
	else
		not_ok "$1"
		diag "wanted Result: $3${4:+ and a line matching /$4/}; prove said:" "$got"
	fi
}

NL=$'\n'

# --- check: the exit code
reports 'check: a wrong exit code is not ok' 'not ok' 'check x 1 "" "" true'
reports 'check: the right exit code is ok' 'ok' 'check x 0 "" "" true'
# --- check: '^$' means the stream is empty, not "has a blank line"
reports "check: stdout '^\$' with a blank line among others is not ok" 'not ok' \
	'check x 0 "^\$" "" printf "a\n\nb\n"'
reports "check: stdout '^\$' with a lone newline is not ok" 'not ok' 'check x 0 "^\$" "" echo'
reports "check: stderr '^\$' with a lone newline is not ok" 'not ok' 'check x 0 "" "^\$" sh -c "echo >&2"'
reports "check: stderr '^\$' with a blank line among others is not ok" 'not ok' \
	'check x 0 "" "^\$" sh -c "printf \"e\n\n\" >&2"'
reports "check: '^\$' on empty streams is ok" 'ok' 'check x 0 "^\$" "^\$" true'
# --- check: other regexes
reports 'check: a stdout regex that no line matches is not ok' 'not ok' 'check x 0 "^b\$" "" echo ab'
reports 'check: a stderr regex that no line matches is not ok' 'not ok' \
	'check x 0 "" "^b\$" sh -c "echo ab >&2"'
reports 'check: regexes that match are ok' 'ok' 'check x 0 "^ab\$" "^cd\$" sh -c "echo ab; echo cd >&2"'
reports 'check: an invalid regex is not ok' 'not ok' 'check x 0 "a(" "" echo "a("'
reports 'check: a regex with a newline (grep would OR its lines) is not ok' 'not ok' \
	"check x 0 \"\$(req \"a${NL}b\")\" '' echo b"
reports "check: a sanitizer report in stderr is not ok even when stderr is not checked" 'not ok' \
	'check x 1 "" "" sh -c "echo \"==12==ERROR: AddressSanitizer: heap-buffer-overflow\" >&2; exit 1"'
reports "check: a UBSan report is not ok either" 'not ok' \
	'check x 0 "" "" sh -c "echo \"src/a.c:3:5: runtime error: signed integer overflow\" >&2"'
prints 'check: an EXIT that is not a number bails out' 'check x "" "" "" true' \
	"Bail out! check 'x': EXIT must be a number, not ''${NL}exit 1"

# --- run: $out and $err keep all but the final newline
reports 'run + is: a stray blank line at the end of stdout shows' 'not ok' 'run printf "a\n\n"; is x "$out" a'
reports 'run + is: one final newline is not part of $out' 'ok' 'run printf "a\n"; is x "$out" a'
reports 'run + is: a stray blank line at the end of stderr shows' 'not ok' \
	'run sh -c "printf \"e\n\n\" >&2"; is x "$err" e'
reports 'run: the exit code is in $rc' 'not ok' 'run sh -c "exit 3"; is x "$rc" 0'
prints 'run: a sanitizer report fails done_testing' \
	'run sh -c "echo \"==9==ERROR: LeakSanitizer: detected memory leaks\" >&2"; is x "$rc" 0; done_testing' \
	"ok 1 - x${NL}not ok 2 - no sanitizer report in the stderr of any command${NL}1..2${NL}exit 1"

# --- is
reports 'is: different text is not ok' 'not ok' 'is x a b'
reports 'is: a trailing newline is a difference' 'not ok' "is x 'a${NL}' a"
reports 'is: the same text is ok' 'ok' 'is x a a'
prints 'is: a word-split $(...) (too many arguments) bails out' 'is x $(echo b b) c' \
	"Bail out! is needs NAME GOT WANT, got 4 arguments (quote them)${NL}exit 1"

# --- empty_files
reports 'empty_files: a file with a lone newline is not ok' 'not ok' 'echo >a; : >b; empty_files x a b'
reports 'empty_files: a missing file is not ok (a glob that matched nothing)' 'not ok' ': >a; empty_files x a b'
reports 'empty_files: empty files are ok' 'ok' ': >a; : >b; empty_files x a b'

# --- like and unlike
reports 'like: no line matches: not ok' 'not ok' 'like x "ab" "^b"'
reports 'like: a line matches: ok' 'ok' "like x 'a${NL}b' '^b\$'"
reports 'like: an empty regex (matches anything) is not ok' 'not ok' 'like x "ab" ""'
reports "like: '^\$' with a blank line among others is not ok" 'not ok' "like x 'a${NL}${NL}b' '^\$'"
reports "like: '^\$' with empty text is ok" 'ok' "like x '' '^\$'"
reports 'like: an invalid regex is not ok' 'not ok' 'like x "a(" "a("'
reports 'like: a regex with a newline is not ok' 'not ok' "like x b \"\$(req \"a${NL}b\")\""
reports 'unlike: a line matches: not ok' 'not ok' "unlike x 'a${NL}b' '^b\$'"
reports 'unlike: no line matches: ok' 'ok' 'unlike x "ab" "^b"'
reports 'unlike: an invalid regex is not ok (grep failing is not "no match")' 'not ok' 'unlike x "ab" "a("'
reports 'unlike: an empty regex is not ok' 'not ok' 'unlike x "" ""'
reports 'unlike: a regex with a newline is not ok' 'not ok' "unlike x c \"\$(req \"a${NL}b\")\""
reports "unlike: '^\$' with empty text is not ok" 'not ok' "unlike x '' '^\$'"

# --- req: the quoted text matches itself and nothing else
special='a.b*c+d?e(f)g[h]i{1}j|k^l$m\n/o'
reports 'req: quoted text matches itself exactly' 'ok' "like x $(printf %q "$special") \"^\$(req $(printf %q "$special"))\\\$\""
reports 'req: a dot is only a dot' 'not ok' 'like x "aXb" "$(req a.b)"'
reports 'req: a star is only a star' 'not ok' 'like x "aab" "^$(req "a*b")\$"'
reports 'req: a backslash is only a backslash' 'not ok' 'like x "an" "$(req "a\\n")"'

# --- norm: durations, and nothing else
reports 'norm: durations become T' 'ok' \
	'is x "$(echo "applied 2 migrations in 4.1 ms (1.25 s, 0.3 ms)" | norm)" "applied 2 migrations in T (T, T)"'
reports 'norm: a wrong count still shows' 'not ok' \
	'is x "$(echo "applied 3 migrations in 4.1 ms" | norm)" "applied 2 migrations in T"'
reports 'norm: a number followed by a longer word stays as it is' 'ok' \
	'is x "$(echo "1.5 seconds, 2.0 msec" | norm)" "1.5 seconds, 2.0 msec"'

# --- ok, not_ok, skip: a name cannot turn a failure into a TODO or a skip
reports "not_ok: a '# TODO' in the name is escaped" 'not ok' 'not_ok "a # TODO b"'
prove_says "not_ok: prove counts a failure named '... # TODO ...' as a failure" 'not_ok "a # TODO b"; done_testing' \
	FAIL '^ +Failed test: +1$'
prove_says "not_ok: prove counts a failure named '... # skip ...' as a failure" 'not_ok "a # skip b"; done_testing' \
	FAIL '^ +Failed test: +1$'
prove_says 'ok: prove counts a pass as a pass' 'ok "a # b"; done_testing' PASS
prints 'skip: one skipped test with its reason' 'skip "a # b" why; done_testing' "ok 1 - a \\# b # skip why${NL}1..1${NL}exit 0"

# --- done_testing: the plan and the exit status
prints 'done_testing: all passed: plan, exit 0' 'ok a; ok b; done_testing' "ok 1 - a${NL}ok 2 - b${NL}1..2${NL}exit 0"
prints 'done_testing: a failure: plan, exit 1' 'ok a; not_ok b; done_testing' "ok 1 - a${NL}not ok 2 - b${NL}1..2${NL}exit 1"
prints 'done_testing: no test at all is a failure, not "1..0" (a skip)' 'done_testing' \
	"not ok 1 - lib.sh ran at least one test${NL}1..1${NL}exit 1"
prove_says 'done_testing: prove fails a script that ran no test' 'done_testing' FAIL '^ +Failed test: +1$'
prove_says 'a script that dies before done_testing fails (no plan)' 'ok a; exit 0' FAIL 'No plan found'

# --- skip_all: valid TAP before and after tests
prints 'skip_all before any test: "1..0 # SKIP", exit 0' 'skip_all why; ok never' "1..0 # SKIP why${NL}exit 0"
prints 'skip_all after tests: the rest is one skipped test, then the plan' 'ok a; skip_all why; ok never' \
	"ok 1 - a${NL}ok 2 - the rest of lib.sh # skip why${NL}1..2${NL}exit 0"
prove_says 'skip_all after tests: prove reads valid TAP' 'ok a; skip_all why; ok never' PASS
prove_says 'skip_all after a failure: prove still fails it' 'not_ok a; skip_all why' FAIL '^ +Failed test: +1$'
prove_says 'need_pg without a server after tests (as t0460 did): prove reads valid TAP' 'ok a; need_pg; ok never' PASS

# --- bail
prints 'bail: from the script' 'ok a; bail why; ok never' "ok 1 - a${NL}Bail out! why${NL}exit 1"
prints 'bail: from inside $(...) it still stops the script' 'x=$(bail why); ok never' "Bail out! why${NL}exit 1"
prints 'bail: from a pipe too' 'echo | { bail why; }; ok never' "Bail out! why${NL}exit 1"

# --- need_pg, pg_available, each_db without a server
NOPG='unset PGHOST; STRATA_REQUIRE_PG=0;'
NEEDPG='unset PGHOST; STRATA_REQUIRE_PG=1;'
prints 'need_pg without a server: skips the script' "$NOPG need_pg; ok never" \
	"1..0 # SKIP no PostgreSQL server (run under pg_virtualenv)${NL}exit 0"
prints 'need_pg without a server, after tests: valid TAP' "$NOPG ok a; need_pg; ok never" \
	"ok 1 - a${NL}ok 2 - the rest of lib.sh # skip no PostgreSQL server (run under pg_virtualenv)${NL}1..2${NL}exit 0"
prints 'need_pg without a server under STRATA_REQUIRE_PG=1: bails out' "$NEEDPG ok a; need_pg; ok never" \
	"ok 1 - a${NL}Bail out! PostgreSQL is required (run under pg_virtualenv)${NL}exit 1"
prints 'each_db without a server: sqlite runs, pg is one skipped test' \
	"$NOPG s() { ok \"s \$1\"; }; each_db s; done_testing" \
	"ok 1 - s sqlite${NL}ok 2 - s on PostgreSQL # skip no PostgreSQL server${NL}1..2${NL}exit 0"
prints 'each_db without a server under STRATA_REQUIRE_PG=1: bails out' \
	"$NEEDPG s() { ok \"s \$1\"; }; each_db s; done_testing" \
	"ok 1 - s sqlite${NL}Bail out! PostgreSQL is required (run under pg_virtualenv)${NL}exit 1"
reports 'each_db: a scenario that checks nothing is not ok' 'not ok' "$NOPG s() { :; }; each_db s"

# --- database helpers on SQLite: a failed query never looks like an expected value
reports 'sq_q: a failing query is not an empty result' 'not ok' \
	'new_db sqlite; is x "$(sq_q "$DB_FILE" "select * from nope")" ""'
reports 'db_tables: no file, no tables' 'ok' 'new_db sqlite; is x "$(db_tables)" ""'
reports 'db_tables: a file that is not a database is not "no tables"' 'not ok' \
	'new_db sqlite; echo garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage >"$DB_FILE"; is x "$(db_tables)" ""'
reports 'db_history: no file: no history table' 'ok' 'new_db sqlite; is x "$(db_history)" "(no history table)"'
reports '... and db_history made no file' 'ok' 'new_db sqlite; db_history >/dev/null; is x "$(ls "$DB_FILE" 2>&1 >/dev/null | wc -l)" 1'
reports 'db_history: a database without the table: no history table' 'ok' \
	'new_db sqlite; sq_q "$DB_FILE" "create table t (x int)"; is x "$(db_history)" "(no history table)"'
reports 'db_history: a file that is not a database is not "no history table"' 'not ok' \
	'new_db sqlite; echo garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage >"$DB_FILE"; is x "$(db_history)" "(no history table)"'
reports 'db_history: an unreadable history table is not "no history table"' 'not ok' \
	'new_db sqlite; sq_q "$DB_FILE" "create table strata_migrations (x int)"; is x "$(db_history)" "(no history table)"'
reports 'db_history: rows in version order (numeric)' 'ok' \
	'new_db sqlite; sq_q "$DB_FILE" "create table strata_migrations (version text, name text); insert into strata_migrations values (\"10\", \"B\"), (\"9\", \"A\")"; is x "$(db_history)" "9-A,10-B"'

# --- database helpers on PostgreSQL
if pg_available; then
	reports 'pg_q: a failing query is not an empty result' 'not ok' \
		'need_pg; is x "$(pg_q "select * from nope" 2>/dev/null)" ""'
	reports 'db_history on PostgreSQL: no table: no history table' 'ok' \
		'new_db pg; is x "$(db_history)" "(no history table)"'
	reports 'db_history on PostgreSQL: a dropped database is not "no history table"' 'not ok' \
		'new_db pg; PG_DB=strata_t_no_such_db; is x "$(db_history 2>/dev/null)" "(no history table)"'
	reports 'db_tables on PostgreSQL: a dropped database is not "no tables"' 'not ok' \
		'new_db pg; PG_DB=strata_t_no_such_db; is x "$(db_tables 2>/dev/null)" ""'
	reports 'db_history on PostgreSQL: rows in version order' 'ok' \
		'new_db pg; pg_q "create table strata_migrations (version text, name text); insert into strata_migrations values ('"'10', 'B'), ('9', 'A'"')"; is x "$(db_history)" "9-A,10-B"'
else
	skip 'database helpers on PostgreSQL' 'no PostgreSQL server'
fi

# --- tests/reliability/lib.sh: todo_is
prints 'todo_is: a mismatch is "not ok # TODO", escaped name' 'todo_is "a # b" x y "bug 1"; done_testing' \
	"not ok 1 - a \\# b # TODO bug 1${NL}1..1${NL}exit 0" "$RLIB"
prints 'todo_is: a match is "ok # TODO"' 'todo_is a x x "bug 1"; done_testing' \
	"ok 1 - a # TODO bug 1${NL}1..1${NL}exit 0" "$RLIB"

done_testing
