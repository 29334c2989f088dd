#!/usr/bin/env bash
# strata migrations adopt is all or nothing: an adopt of a large dbmate history (3,000 entries,
# on PostgreSQL) killed with SIGKILL at several points (as soon as it starts, once connected,
# once its backend is in a transaction, once it is inserting into strata_migrations) leaves
# strata_migrations with none of the entries or all of them, never a part, and dbmate's table
# as it was; an adopt run afterwards finishes the job. dbmate itself creates its table (the real
# dbmate applies the first migration); the other 2,999 rows are inserted as dbmate would.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/adopt-lib.sh"
need_pg
need_peer dbmate
DB_KIND=pg
N=3000

mkdir src first
awk -v n=$N 'BEGIN { for (i = 1; i <= n; i++) { f = sprintf("src/%d_m%d.sql", 100000 + i, i)
	printf "-- migrate:up\nselect %d;\n\n-- migrate:down\nselect %d;\n", i, i > f; close(f) } }'
cp src/100001_m1.sql first/
check "dbmate applies the first migration (and makes its table)" 0 '^Applied: 100001_m1.sql' '' \
	"$DBMATE" --url "$(pg_url_nossl)" --migrations-dir first --no-dump-schema up
pg_q "insert into schema_migrations (version) select (100000 + i)::text from generate_series(2, $N) i" >/dev/null
is "... $N entries in schema_migrations" "$(pg_q 'select count(*) from schema_migrations')" "$N"
before=$(tbl_dump schema_migrations)

# rows: strata's history as none, all, or how many rows it has
rows() {
	local c
	c=$(pg_q "select to_regclass('strata_migrations') is not null") || { echo "(query failed)"; return; }
	[ "$c" = t ] && { c=$(pg_q 'select count(*) from strata_migrations') || { echo "(query failed)"; return; }; }
	case $c in f | 0) echo none ;; "$N") echo all ;; *) echo "$c" ;; esac
}
# the adopt's backend (the only other client of the test's database)
backend() { pg_q "select count(*) from pg_stat_activity where datname = '$PG_DB' and pid <> pg_backend_pid() and backend_type = 'client backend' $1" | grep -qx '[1-9][0-9]*'; }
connected() { backend ""; }
in_txn() { backend "and xact_start is not null"; }
gone() { ! connected; }
# reached POINT PID: the adopt is at POINT, or has ended (a zombie counts as ended)
reached() { "$1" || [ "$(awk '{ print $3 }' "/proc/$2/stat" 2>/dev/null || echo Z)" = Z ]; }
inserting() { backend "and query ilike '%insert%strata_migrations%' and state = 'active'"; }

killed=0
for point in start connected in_txn inserting connected in_txn inserting; do
	[ "$(rows)" = all ] && pg_q 'drop table strata_migrations' >/dev/null
	strata --database-url "$PG_URL" migrations adopt --from dbmate --dir src >"$TEST_DIR/adopt.out" 2>&1 &
	pid=$!
	[ "$point" = start ] || until_true 400 reached "$point" "$pid" || diag "$point: adopt was not seen there (finished first?)"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	st=$?
	[ "$st" = 137 ] && killed=$((killed + 1))
	case $st in 0 | 137) ;; *) diag "adopt exited $st:" "$(cat "$TEST_DIR/adopt.out")" ;; esac
	r=$(rows)
	like "killed at $point (exit $st): strata_migrations holds none or all of the $N" "$r" '^(none|all)$'
	is "... schema_migrations unchanged" "$(tbl_dump schema_migrations)" "$before"
	# SIGKILL closes the connection: the server ends the backend and frees strata's lock
	until_true 200 gone || diag "the killed adopt's backend is still there"
done
like "at least one adopt was killed before it finished" "$killed" '^[1-9]'

[ "$(rows)" = all ] && pg_q 'drop table strata_migrations' >/dev/null
check "after the kills, adopt runs to the end" 0 "^adopted $N from dbmate" '' \
	strata --database-url "$PG_URL" migrations adopt --from dbmate --dir src
is "... all $N recorded" "$(rows)" all
is "... schema_migrations unchanged" "$(tbl_dump schema_migrations)" "$before"
check "... and nothing is pending" 0 '^nothing to run' '^$' strata --database-url "$PG_URL" migrations run --dir src
done_testing
