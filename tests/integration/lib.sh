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

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
bail() { echo "Bail out! $*"; exit 1; }
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; exit $?; }

# run CMD...: runs it, leaving the exit code in $rc and the output in $out and $err.
run() {
	"$@" >"$TEST_DIR/.out" 2>"$TEST_DIR/.err"
	rc=$?
	out=$(cat "$TEST_DIR/.out")
	err=$(cat "$TEST_DIR/.err")
}

# check NAME EXIT STDOUT_RE STDERR_RE CMD...: like PostgreSQL's command_checks_all. An empty
# regex checks nothing; '^$' checks the stream is empty. Regexes are grep -E over the whole
# stream.
check() {
	local name=$1 want=$2 ore=$3 ere=$4 bad=
	shift 4
	run "$@"
	[ "$rc" = "$want" ] || bad="exit $rc, wanted $want"
	if [ -n "$ore" ] && ! grep -Eq -- "$ore" "$TEST_DIR/.out" && ! { [ "$ore" = '^$' ] && [ -z "$out" ]; }; then
		bad="${bad:+$bad; }stdout does not match /$ore/"
	fi
	if [ -n "$ere" ] && ! grep -Eq -- "$ere" "$TEST_DIR/.err" && ! { [ "$ere" = '^$' ] && [ -z "$err" ]; }; then
		bad="${bad:+$bad; }stderr does not match /$ere/"
	fi
	if [ -z "$bad" ]; then
		ok "$name"
	else
		not_ok "$name"
		diag "command: $*" "$bad" "--- stdout:" "$out" "--- stderr:" "$err"
	fi
}

# is NAME GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:    '$2'" "wanted: '$3'"; fi
}

# like NAME TEXT REGEX
like() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1"; diag "got: '$2'" "wanted match: /$3/"; fi
}

strata() { "$STRATA" "$@"; }

# need_pg: a fresh, empty database of this script's own in $PG_URL (and $PG_DB).
need_pg() {
	if [ -z "${PGHOST:-}" ] || ! "$PSQL" -X -q -d postgres -c 'select 1' >/dev/null 2>&1; then
		[ "${STRATA_REQUIRE_PG:-0}" = 1 ] && bail "PostgreSQL is required (run under pg_virtualenv)"
		skip_all "no PostgreSQL server (run under pg_virtualenv)"
	fi
	PG_DB="strata_t_$$_${RANDOM}"
	"$PSQL" -X -q -d postgres -c "CREATE DATABASE \"$PG_DB\"" >/dev/null || bail "cannot create database"
	_dbs+=("$PG_DB")
	PG_URL="postgres://${PGUSER}:${PGPASSWORD:-}@${PGHOST}:${PGPORT:-5432}/${PG_DB}"
	export PG_URL PG_DB
}

# pg_q SQL: one query in the test database, unaligned output.
pg_q() { "$PSQL" -X -At -v ON_ERROR_STOP=1 -d "$PG_DB" -c "$1"; }
# sq_q FILE SQL
sq_q() { sqlite3 "$1" "$2"; }

# mig DIR FILE TEXT: writes a migration file (TEXT through printf %b).
mig() { mkdir -p "$1" && printf '%b' "$3" >"$1/$2"; }
