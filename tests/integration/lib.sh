# lib.sh: TAP helpers for strata's integration tests. Each test script sources it:
#
#   . "$(dirname "$0")/lib.sh"
#   need_pg                        # only for PostgreSQL tests: a fresh database in $PG_URL
#   check 'what it shows' 0 'stdout regex' 'stderr regex' strata migrations run
#   done_testing
#
# Every script runs in its own temporary directory (cwd), which is removed at the end. The real
# binary is $STRATA (default: build/strata). PostgreSQL comes from the PG* variables that
# `pg_virtualenv` sets; without them PostgreSQL tests skip, unless STRATA_REQUIRE_PG=1 (the CI
# test command sets it), when they fail.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STRATA=${STRATA:-$ROOT/build/strata}
case $STRATA in /*) ;; *) STRATA=$ROOT/$STRATA ;; esac
PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
PSQL=$PGBIN/psql
_n=0
_failed=0
_dbs=()
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/strata-test.XXXXXX")

_cleanup() {
	cd /
	for db in "${_dbs[@]+"${_dbs[@]}"}"; do
		"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
	done
	rm -rf "$TEST_DIR"
}
trap _cleanup EXIT
cd "$TEST_DIR" || exit 1
# a clean environment: no URL or config leaks in from the caller
unset DATABASE_URL

# _tap_name TEXT: TEXT fit for a TAP test line: a '#' would start a directive ("not ok 3 - x
# # TODO" counts as passed), so it is escaped as '\#'; newlines become spaces.
_tap_name() { local t=${1//$'\n'/ }; printf '%s' "${t//#/\\#}"; }
ok() { _n=$((_n + 1)); echo "ok $_n - $(_tap_name "$*")"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $(_tap_name "$*")"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# bail REASON: stops the whole test run. From a subshell ($(...), a pipe, a background job),
# whose stdout prove may never see, it hands the reason to the script's own shell (SIGUSR1),
# which bails out as soon as the subshell's command is done.
bail() {
	if [ "$BASHPID" != "$$" ]; then
		printf '%s' "$*" >"$TEST_DIR/.bail"
		kill -USR1 "$$"
		exit 1
	fi
	echo "Bail out! $*"
	exit 1
}
trap 'bail "$(cat "$TEST_DIR/.bail")"' USR1
# skip_all REASON: skips the whole script. Before any test that is the plan "1..0 # SKIP"; after
# some tests have run (a plan may not follow them), the rest is one skipped test and the plan.
skip_all() {
	if [ "$_n" -eq 0 ]; then echo "1..0 # SKIP $*"; exit 0; fi
	skip "the rest of $(basename "$0")" "$*"
	done_testing
}
# done_testing: the plan, and exit 1 if a test failed. A script that ran no test at all has
# tested nothing: that fails (a script that cannot run its tests calls skip_all with a reason).
# A sanitizer report in the stderr of a command run through `run` fails too.
done_testing() {
	[ "$_n" -gt 0 ] || not_ok "$(basename "$0") ran at least one test"
	if [ -s "$TEST_DIR/.sanitizer" ]; then
		not_ok "no sanitizer report in the stderr of any command"
		diag "$(cat "$TEST_DIR/.sanitizer")"
	fi
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
	exit $?
}

# _sanitizer_report FILE: the first lines of an ASan/LSan/UBSan report in FILE, if there is one.
_sanitizer_report() {
	grep -E -m 3 -e '^==[0-9]+==ERROR: [A-Za-z]+Sanitizer' -e '^SUMMARY: [A-Za-z]+Sanitizer' \
		-e ':[0-9]+:[0-9]+: runtime error: ' -- "$1"
}

# _run CMD...: run without the sanitizer bookkeeping (check does its own).
_run() {
	"$@" >"$TEST_DIR/.out" 2>"$TEST_DIR/.err"
	rc=$?
	# $out and $err lose only the final newline, so a stray blank line at the end still shows
	out=$(cat "$TEST_DIR/.out"; echo .)
	out=${out%.}
	out=${out%$'\n'}
	err=$(cat "$TEST_DIR/.err"; echo .)
	err=${err%.}
	err=${err%$'\n'}
	# every output of the script, for checks like "the password never shows"
	cat "$TEST_DIR/.out" "$TEST_DIR/.err" >>"$TEST_DIR/.all"
}

# run CMD...: runs it, leaving the exit code in $rc and the output in $out and $err (each without
# its final newline, but with any other). A sanitizer report in its stderr fails done_testing.
run() {
	local rep
	_run "$@"
	rep=$(_sanitizer_report "$TEST_DIR/.err")
	[ -z "$rep" ] || printf '%s\n' "command: $*" "$rep" >>"$TEST_DIR/.sanitizer"
}

# _regex_bad RE: why RE cannot be used as one grep -E regex (nothing when it can): a newline
# would make grep take each line as a pattern of its own, matched when any one matches.
_regex_bad() {
	case $1 in *$'\n'*) echo "the regex has a newline (grep -E would match any one of its lines)" ;; esac
}

# _stream_ok FILE RE: whether the captured stream FILE satisfies RE as check means it: '' checks
# nothing, '^$' means FILE is empty (not one byte, not even a newline), anything else is grep -E
# and passes when at least one line matches.
_stream_ok() {
	case $2 in
	'') return 0 ;;
	'^$') [ ! -s "$1" ] ;;
	*) grep -Eq -- "$2" "$1" ;;
	esac
}

# check NAME EXIT STDOUT_RE STDERR_RE CMD...: like PostgreSQL's command_checks_all. An empty
# regex checks nothing; '^$' checks the stream is empty (zero bytes). Any other regex is grep -E
# over the stream's lines: it passes when some line matches.
# A sanitizer report in stderr fails the check whatever the regexes say.
check() {
	[ $# -ge 5 ] || bail "check needs NAME EXIT STDOUT_RE STDERR_RE CMD..., got $# arguments"
	local name=$1 want=$2 ore=$3 ere=$4 bad= rep
	shift 4
	case $want in '' | *[!0-9]*) bail "check '$name': EXIT must be a number, not '$want'" ;; esac
	_run "$@"
	[ "$rc" = "$want" ] || bad="exit $rc, wanted $want"
	rep=$(_regex_bad "$ore")
	if [ -n "$rep" ]; then
		bad="${bad:+$bad; }stdout: $rep"
	elif ! _stream_ok "$TEST_DIR/.out" "$ore"; then
		bad="${bad:+$bad; }stdout does not match /$ore/"
	fi
	rep=$(_regex_bad "$ere")
	if [ -n "$rep" ]; then
		bad="${bad:+$bad; }stderr: $rep"
	elif ! _stream_ok "$TEST_DIR/.err" "$ere"; then
		bad="${bad:+$bad; }stderr does not match /$ere/"
	fi
	rep=$(_sanitizer_report "$TEST_DIR/.err")
	[ -z "$rep" ] || bad="${bad:+$bad; }a sanitizer report in stderr"
	if [ -z "$bad" ]; then
		ok "$name"
	else
		not_ok "$name"
		diag "command: $*" "$bad" "--- stdout ($(wc -c <"$TEST_DIR/.out") bytes):" "$out" \
			"--- stderr ($(wc -c <"$TEST_DIR/.err") bytes):" "$err"
	fi
}

# is NAME GOT WANT: GOT is exactly WANT. Exactly three arguments: an unquoted $(...) split into
# words could otherwise compare two of its own words.
is() {
	[ $# -eq 3 ] || bail "is needs NAME GOT WANT, got $# arguments (quote them)"
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:    '$2'" "wanted: '$3'"; fi
}

# _like TEXT REGEX: 0 when some line of TEXT matches REGEX, 1 when none does; '^$' means TEXT is
# empty (as in check). 2 with a reason on stdout when REGEX cannot be used: empty (it would
# match anything), with a newline, or not a valid regex.
_like() {
	local why
	[ -n "$2" ] || { echo "an empty regex matches anything"; return 2; }
	why=$(_regex_bad "$2")
	[ -z "$why" ] || { echo "$why"; return 2; }
	if [ "$2" = '^$' ]; then [ -z "$1" ]; return; fi
	printf '%s' "$1" | grep -Eq -- "$2" 2>/dev/null
	case $? in
	0) return 0 ;;
	1) return 1 ;;
	*) echo "grep -E cannot use the regex"; return 2 ;;
	esac
}

# like NAME TEXT REGEX: some line of TEXT matches REGEX ('^$': TEXT is empty).
like() {
	[ $# -eq 3 ] || bail "like needs NAME TEXT REGEX, got $# arguments (quote them)"
	local why r
	why=$(_like "$2" "$3")
	r=$?
	if [ "$r" = 0 ]; then ok "$1"; else not_ok "$1"; diag "got: '$2'" "wanted match: /$3/" ${why:+"$why"}; fi
}

# empty_files NAME FILE...: every FILE exists and is empty (zero bytes), e.g. the stderr of
# runners started in the background. "$(cat run?.err)" = "" passed when the glob matched no
# file or a file held only newlines.
empty_files() {
	[ $# -ge 2 ] || bail "empty_files needs NAME FILE..., got $# arguments"
	local name=$1 f bad=()
	shift
	for f in "$@"; do
		if [ ! -f "$f" ]; then bad+=("$f: no such file"); elif [ -s "$f" ]; then bad+=("$f ($(wc -c <"$f") bytes):" "$(cat "$f")"); fi
	done
	if [ ${#bad[@]} -eq 0 ]; then ok "$name"; else not_ok "$name"; diag "${bad[@]}"; fi
}

strata() { "$STRATA" "$@"; }

# until_true TRIES CMD...: waits for something to have happened, never for a time: runs CMD
# every 50 ms until it succeeds (at most TRIES times); fails when it never did. A test then
# asserts on the state itself, so a slow machine makes a test slower, never wrong.
until_true() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# need_pg: a fresh, empty database of this script's own in $PG_URL (and $PG_DB).
need_pg() {
	if [ -z "${PGHOST:-}" ] || ! "$PSQL" -X -q -d postgres -c 'select 1' >/dev/null 2>&1; then
		[ "${STRATA_REQUIRE_PG:-0}" = 1 ] && bail "PostgreSQL is required (run under pg_virtualenv)"
		skip_all "no PostgreSQL server (run under pg_virtualenv)"
	fi
	# unique even when called again in the same process or in a subshell (which repeats $$ and
	# $RANDOM's sequence): the subshell's own pid and a counter
	_dbn=$((${_dbn:-0} + 1))
	PG_DB="strata_t_${BASHPID}_${_dbn}_${RANDOM}"
	"$PSQL" -X -q -d postgres -c "CREATE DATABASE \"$PG_DB\"" >/dev/null || bail "cannot create database"
	_dbs+=("$PG_DB")
	PG_URL="postgres://${PGUSER}:${PGPASSWORD:-}@${PGHOST}:${PGPORT:-5432}/${PG_DB}"
	export PG_URL PG_DB
}

# pg_q SQL: one query in the test database, unaligned output. When it fails, a last line
# "(query failed)" makes sure no expected value is mistaken for its (missing) output; the exit
# status is psql's.
pg_q() {
	"$PSQL" -X -At -v ON_ERROR_STOP=1 -d "$PG_DB" -c "$1" || { local r=$?; echo "(query failed)"; return $r; }
}
# sq_q FILE SQL: the same for SQLite.
sq_q() { sqlite3 "$1" "$2" || { local r=$?; echo "(query failed)"; return $r; }; }

# mig DIR FILE TEXT: writes a migration file (TEXT through printf %b).
mig() { mkdir -p "$1" && printf '%b' "$3" >"$1/$2"; }

# skip NAME REASON: a skipped test (TAP "ok N # skip").
skip() {
	[ $# -eq 2 ] || bail "skip needs NAME REASON, got $# arguments"
	_n=$((_n + 1))
	echo "ok $_n - $(_tap_name "$1") # skip $(_tap_name "$2")"
}

# pg_available: whether PostgreSQL is there (without skipping the whole script); under
# STRATA_REQUIRE_PG=1 a missing server bails out.
pg_available() {
	if [ -z "${PGHOST:-}" ] || ! "$PSQL" -X -q -d postgres -c 'select 1' >/dev/null 2>&1; then
		[ "${STRATA_REQUIRE_PG:-0}" = 1 ] && bail "PostgreSQL is required (run under pg_virtualenv)"
		return 1
	fi
	return 0
}

# each_db FUNC: runs the scenario FUNC with the argument sqlite, then pg (when PostgreSQL is
# available; else one skipped test). FUNC calls new_db to get its database(s). A scenario that
# runs no test for a kind is a failed test: it checked nothing there.
each_db() {
	local k n0
	for k in sqlite pg; do
		if [ "$k" = pg ] && ! pg_available; then
			skip "$1 on PostgreSQL" "no PostgreSQL server"
			continue
		fi
		n0=$_n
		"$1" "$k"
		[ "$_n" -gt "$n0" ] || not_ok "$1 $k ran at least one test"
	done
}

# new_db KIND: a fresh, empty database of KIND (sqlite or pg). Sets DB_KIND, DB_URL, and DB_FILE
# (sqlite) or PG_DB/PG_URL (pg), and DB_DISPLAY (the URL as strata shows it, password masked).
# dbq then queries it.
_sqn=0
new_db() {
	DB_KIND=$1
	if [ "$1" = pg ]; then
		need_pg
		DB_URL=$PG_URL
		DB_DISPLAY="postgres://${PGUSER}:****@${PGHOST}:${PGPORT:-5432}/${PG_DB}"
	else
		_sqn=$((_sqn + 1))
		DB_FILE="$TEST_DIR/db$_sqn.sqlite"
		DB_URL="sqlite:$DB_FILE"
		DB_DISPLAY=$DB_URL
	fi
}

# dbq SQL: one query in the database new_db made (unaligned, | between columns).
dbq() {
	if [ "$DB_KIND" = pg ]; then pg_q "$1"; else sq_q "$DB_FILE" "$1"; fi
}

# db_tables: the user tables in the database, sorted, comma-separated (strata_migrations included;
# on PostgreSQL, not its summary, strata_migrations_summary, which SQLite has no counterpart of:
# t0466 is about it); "" when there is none (or no SQLite file), "(query failed)" when the
# database cannot be read.
db_tables() {
	if [ "$DB_KIND" = pg ]; then
		pg_q "select coalesce(string_agg(tablename, ',' order by tablename), '') from pg_tables where schemaname = 'public' and tablename <> 'strata_migrations_summary'"
	else
		[ -e "$DB_FILE" ] || { echo ""; return 0; }
		sq_q "$DB_FILE" "select coalesce(group_concat(name, ','), '') from (select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name)"
	fi
}

# db_history: the applied migrations as version-name, in version order, comma-separated;
# "(no history table)" when there is no strata_migrations table (or no SQLite file, which it
# does not create), "(query failed)" when the database or the table cannot be read.
db_history() {
	local has
	if [ "$DB_KIND" = pg ]; then
		has=$(pg_q "select to_regclass('strata_migrations') is not null") || { echo "$has"; return 1; }
		[ "$has" = t ] || { echo "(no history table)"; return 0; }
		pg_q "select coalesce(string_agg(version || '-' || name, ',' order by length(ltrim(version, '0')), ltrim(version, '0'), name), '') from strata_migrations"
	else
		[ -e "$DB_FILE" ] || { echo "(no history table)"; return 0; }
		has=$(sq_q "$DB_FILE" "select count(*) from sqlite_master where type = 'table' and name = 'strata_migrations'") || { echo "$has"; return 1; }
		[ "$has" = 1 ] || { echo "(no history table)"; return 0; }
		sq_q "$DB_FILE" "select coalesce(group_concat(version || '-' || name, ','), '') from (select version, name from strata_migrations order by length(ltrim(version, '0')), ltrim(version, '0'), name)"
	fi
}

# norm: stdin with durations ("3.2 ms", "1.05 s") replaced by T, for exact output comparisons.
# Only a whole duration: "1.5 seconds" or "2.0 msec" stay as they are.
norm() { sed -E ':a; s/(^|[^0-9.])[0-9]+\.[0-9]+ m?s($|[^[:alnum:]_])/\1T\2/; ta'; }
# twin_same NAME URL ARGS...: the run just made ($rc, $out, $err, on another database) against
# strata ARGS on URL (a twin database in the same state) through the full read of the sources
# (--dir src/migrations, which has no manifest): the same exit, stdout and stderr, times,
# database URLs and ISO dates aside. $rc, $out and $err stay the first run's.
_twin_flat() {
	norm | sed -E 's/ (on|to) (postgres|sqlite)[^ ]*$//; s/\((postgres|sqlite)[^)]*\)$//;
		s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/DATE/g'
}
twin_same() {
	local name=$1 url=$2 c=$rc o=$out e=$err
	shift 2
	run strata --database-url "$url" "$@" --dir src/migrations
	is "$name: ... as the full read: exit" "$c" "$rc"
	is "$name: ... stdout" "$(_twin_flat <<<"$o")" "$(_twin_flat <<<"$out")"
	is "$name: ... stderr" "$(_twin_flat <<<"$e")" "$(_twin_flat <<<"$err")"
	rc=$c out=$o err=$e
}
# lib_client NAME [LIB]: tests/integration/NAME.c built against LIB (this build's libstrata.a;
# with the sanitizers when the library has them) into $TEST_DIR/NAME, which is a test of its own
lib_client() {
	local lib=${2:-$(dirname "$STRATA")/libstrata.a} san=
	nm "$lib" 2>/dev/null | grep -q ' U __asan_' && san='-fsanitize=address,undefined'
	# shellcheck disable=SC2046,SC2086
	if cc -std=c17 -Wall -Wextra -Werror $san -I "$ROOT/include" -o "$TEST_DIR/$1" \
		"$ROOT/tests/integration/$1.c" "$lib" \
		$(pkg-config --libs sqlite3 yajl libcrypto) -lpthread -ldl 2>"$TEST_DIR/cc.log"; then
		ok "$1 builds against $lib"
	else
		not_ok "$1 builds against $lib"
		diag "$(cat "$TEST_DIR/cc.log")"
	fi
}
# twin_run NAME EXIT URL TWIN ARGS...: strata ARGS on URL, which must exit EXIT, then the same
# on TWIN through the full read (twin_same)
twin_run() {
	local name=$1 want=$2 url=$3 twin=$4
	shift 4
	run strata --database-url "$url" "$@"
	is "$name: exit" "$rc" "$want"
	twin_same "$name" "$twin" "$@"
}
# req TEXT: TEXT quoted for use inside a grep -E regex (one line: a regex cannot span lines, and
# like and check refuse a regex with a newline).
req() { printf '%s' "$1" | sed 's/[][\.*^$(){}?+|]/\\&/g'; }
# unlike NAME TEXT REGEX: no line of TEXT matches REGEX ('^$': TEXT is not empty). An unusable
# regex (empty, with a newline, invalid) is a failure, not a pass.
unlike() {
	[ $# -eq 3 ] || bail "unlike needs NAME TEXT REGEX, got $# arguments (quote them)"
	local why r
	why=$(_like "$2" "$3")
	r=$?
	if [ "$r" = 1 ]; then ok "$1"; else not_ok "$1"; diag "got: '$2'" "wanted no match: /$3/" ${why:+"$why"}; fi
}

# pg_history_summary: rows|unfinished|digest (16 hex digits) of strata's history, from the stored
# row hashes; manifest_summary: what the build manifest says a fully applied history has
# (dist/migrations by default)
pg_history_summary() {
	pg_q "select count(*) || '|' || count(*) filter (where status <> 'applied') || '|' || lpad(to_hex(coalesce(bit_xor(row_hash), 0)), 16, '0') from strata_migrations"
}
# pg_drop_summary: the history's summary table, its trigger and its functions dropped, as on a
# database from a strata before them (src/engine/pg/pg_summary.c).
pg_drop_summary() {
	pg_q "drop trigger strata_migrations_changed on strata_migrations; drop table strata_migrations_summary; drop function strata_migrations_summarize(); drop function strata_migrations_changed()" >/dev/null
}
manifest_summary() {
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%d|0|%s" % (m["count"], m["history_digest"]))' "${1:-dist/migrations}/manifest.json" ||
		echo "(no valid manifest)"
}
