# lib.sh: what the reliability scripts share, on top of tests/integration/lib.sh (TAP helpers,
# a temporary directory, fresh PostgreSQL databases from pg_virtualenv's PG* variables).
#
#   . "$(dirname "$0")/lib.sh"
#   n=$(pick 10 200)          # RELIABILITY_MODE=short (default) or long
#   figure crash.pg.trials 200   # prints "# figure: ..." and appends it to $RELIABILITY_FIGURES
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../integration" && pwd)/lib.sh"

MODE=${RELIABILITY_MODE:-short}
pick() { if [ "$MODE" = long ]; then echo "$2"; else echo "$1"; fi; }

figure() {
	echo "# figure: $1 = $2"
	if [ -n "${RELIABILITY_FIGURES:-}" ]; then echo "$1 = $2" >>"$RELIABILITY_FIGURES"; fi
}

# rand_ms MAX: a random integer in [0, MAX).
rand_ms() { echo $(((RANDOM * 32768 + RANDOM) % $1)); }
# msleep MS
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
now_ms() { date +%s%3N; }

# pg_wait_idle DB: waits (up to 30 s) until no session of strata is left in database DB: after a
# SIGKILL the server finishes the statement it was running before it notices the client is gone.
pg_idle() { [ "$("$PSQL" -X -At -d postgres -c "select count(*) from pg_stat_activity where datname = '$1' and application_name = 'strata'")" = 0 ]; }
pg_wait_idle() { until_true 600 pg_idle "$1"; }

# todo_is NAME GOT WANT REASON: like `is`, for a known bug: a mismatch is "not ok # TODO REASON"
# (reported, not a failure); a match says the bug looks fixed ("ok # TODO", which prove lists as
# unexpectedly succeeded).
todo_is() {
	[ $# -eq 4 ] || bail "todo_is needs NAME GOT WANT REASON, got $# arguments (quote them)"
	_n=$((_n + 1))
	if [ "$2" = "$3" ]; then echo "ok $_n - $(_tap_name "$1") # TODO $(_tap_name "$4")"; else
		echo "not ok $_n - $(_tap_name "$1") # TODO $(_tap_name "$4")"
		diag "got:    '$2'" "wanted: '$3'"
	fi
}
