#!/usr/bin/env bash
# The history's summary kept by the server (issue 15), on PostgreSQL: a run with nothing to do
# reads one row of strata_migrations_summary instead of aggregating the history. Shown here: a
# run that writes the history makes it (also on a database from an older strata) and leaves it
# valid and equal to the history's aggregate; a change by hand (INSERT, UPDATE, DELETE,
# TRUNCATE) marks it not valid in the same transaction, and the next run reads the history
# instead; a writer still at work keeps it not valid; a role granted only the history's
# privileges writes it and makes it valid; the schema dump leaves it out; a dry run never makes
# it; a tenant schema has its own. Its functions are made again where they are of a lower
# version (a role that may not still summarizes with them), and left where higher. In a
# database whose default is repeatable read, strata's statements on it run in read committed,
# and a writer whose snapshot predates a summarize is refused. A new database's first run fails
# one statement in the server.
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p proj/src/migrations && cd proj || bail "no project dir"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
tbl() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table $2 (x int);\n-- migrate:down\ndrop table $2;\n"; }
# the summary's row as "rows|hashed|digest|unfinished|valid", the digest as pg_history_summary
summary() {
	pg_q "select rows || '|' || hashed || '|' || lpad(to_hex(digest), 16, '0') || '|' || unfinished || '|' || valid from strata_migrations_summary" 2>/dev/null
}
# what the summary must say: the history's own aggregate, valid
aggregate() {
	pg_q "select count(*) || '|' || count(row_hash) || '|' || lpad(to_hex(coalesce(bit_xor(row_hash), 0)), 16, '0') || '|' || count(*) filter (where status <> 'applied') || '|true' from strata_migrations"
}
valid() { pg_q "select valid from strata_migrations_summary"; }
FAST="^the history's summary matches the migrations' \([0-9.]+ m?s\)$"
READ='^locked in [0-9.]+ m?s; read the history \([0-9]+ rows\) in '

# failed statements in this database so far (each one is an ERROR in the server's log): the
# server counts them as rolled back when the session that ran them ends
rollbacks_are() {
	[ "$(pg_q "select xact_rollback from pg_stat_database where datname = current_database()")" = "$1" ]
}

tbl 1 a
tbl 2 b
tbl 3 c
strata build >/dev/null
check "a dry run on a new database" 0 '^-- apply 3-c' '^strata: dry run: 3 migrations would be applied' \
	strata migrations run --dry-run
is "... makes no summary table" "$(pg_q "select to_regclass('strata_migrations_summary') is null")" t
until_true 100 rollbacks_are 1
is "... and fails one statement in the server, the summary's read (the history's is asked first)" "$?" 0
check "the first run applies" 0 '^  applied   3-c ' '^$' strata migrations run
until_true 100 rollbacks_are 2
is "... failing one statement too: the history is made without a read that fails" "$?" 0
is "... and makes the summary: valid, the history's aggregate" "$(summary)" "$(aggregate)"
is "... which is the manifest's" "$(pg_history_summary)" "$(manifest_summary)"
is "... with its trigger and its two functions" \
	"$(pg_q "select string_agg(proname, ',' order by proname) from pg_proc where proname like 'strata_migrations_%'") $(pg_q "select tgname from pg_trigger where tgrelid = 'strata_migrations'::regclass")" \
	"strata_migrations_changed,strata_migrations_summarize strata_migrations_changed"
check "the next run answers from the summary" 0 "$FAST" '^$' strata -v migrations run
unlike "... without taking the lock" "$out" '^locked in'

# the summary is what the run reads, not the history: with its trigger disabled, a row deleted
# by hand goes unseen (this is what the trigger is for)
pg_q "alter table strata_migrations disable trigger strata_migrations_changed; delete from strata_migrations where name = 'c'" >/dev/null
check "a change the trigger did not see: the run trusts the summary" 0 "$FAST" '^$' strata -v migrations run
pg_q "alter table strata_migrations enable trigger strata_migrations_changed; drop table c; update strata_migrations_summary set valid = false" >/dev/null
check "... marked not valid: the run reads the history and applies 3-c again" 0 '^  applied   3-c ' '^$' \
	strata migrations run
is "... the summary valid again, the history's" "$(summary)" "$(aggregate)"

# each kind of change by hand marks it not valid, in its own transaction. The next run reads
# the history's aggregate instead, and acts on it; then it makes the summary valid again (a run
# that takes the lock, when it lets it go; one with nothing to do, at once; a dry run never)
pg_q "update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
is "UPDATE by hand: not valid" "$(valid)" f
check "... a dry run: nothing to run, from the history's aggregate" 0 '^nothing to run' "^\$" \
	strata migrations run --dry-run
is "... which leaves it not valid" "$(valid)" f
PGOPTIONS="-c default_transaction_read_only=on" check "... a run in a read-only session" 0 "$FAST" '^$' \
	strata -v migrations run
is "... leaves it not valid, and fails nothing" "$(valid)" f
check "... the next run: nothing to run, from the history's aggregate" 0 "$FAST" '^$' \
	strata -v migrations run
is "... which makes it valid again, the history's" "$(summary)" "$(aggregate)"
pg_q "update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
tbl 4 d
strata build >/dev/null
check "... a run that applies a migration" 0 '^  applied   4-d ' '^$' strata migrations run
is "... makes it valid, the history's" "$(summary)" "$(aggregate)"
check "... so the next run reads the summary" 0 "$FAST" '^$' strata -v migrations run

pg_q "begin; delete from strata_migrations where name = 'c'; rollback" >/dev/null
is "a change rolled back leaves it valid" "$(valid)" t
pg_q "delete from strata_migrations where name = 'd'; drop table d" >/dev/null
is "DELETE by hand: not valid" "$(valid)" f
check "... the run applies it again" 0 '^  applied   4-d ' '^$' strata migrations run
is "... the summary, the history's" "$(summary)" "$(aggregate)"

pg_q "truncate strata_migrations; drop table a, b, c, d" >/dev/null
is "TRUNCATE by hand: not valid" "$(valid)" f
check "... the run applies all four again" 0 '^applied 4 migrations' '^$' strata migrations run
is "... the summary, the history's" "$(summary)" "$(aggregate)"

# the history table dropped by hand (a reset): the summary is of that table (its oid), so it is
# not trusted for the one the next run makes, which gets its own trigger
pg_q "drop table strata_migrations, a, b, c, d" >/dev/null
is "the history table dropped: the summary row stays, valid" "$(valid)" t
check "... the next run applies all four again" 0 '^applied 4 migrations' '^$' strata migrations run
is "... the new table has the trigger" \
	"$(pg_q "select count(*) from pg_trigger where tgrelid = 'strata_migrations'::regclass and tgname = 'strata_migrations_changed'")" 1
is "... and the summary is the new history's" "$(summary)" "$(aggregate)"
pg_q "delete from strata_migrations where name = 'd'" >/dev/null
is "... which the trigger keeps" "$(valid)" f
pg_q "drop table d" >/dev/null
check "... the run applies 4-d again" 0 '^  applied   4-d ' '^$' strata migrations run

# renamed away and copied back by hand, without 4-d's row (no trigger fires on the copy)
pg_q "alter table strata_migrations rename to old_history; create table strata_migrations (like old_history including all); insert into strata_migrations select * from old_history where name <> 'd'; drop table d" >/dev/null
is "the history table renamed away and copied back: the summary row stays, valid" "$(valid)" t
check "... the run sees the copy, and applies 4-d again" 0 '^  applied   4-d ' '^$' strata migrations run
is "... the summary, the copy's" "$(summary)" "$(aggregate)"
pg_q "drop table old_history" >/dev/null

pg_q "insert into strata_migrations (version, name, checksum) values ('9', 'ghost', 'x')" >/dev/null
is "INSERT by hand: not valid" "$(valid)" f
check "... the run reads the whole history under the lock" 0 '^nothing to run: 4 migrations' '^$' \
	strata -v migrations run
like "... all of it" "$out" "$READ"
is "... and makes the summary valid, with the row" "$(summary)" "$(aggregate)"
is "... (5 rows, the hand-made one's hash filled in)" "$(summary | cut -d'|' -f1,2)" "5|5"
pg_q "delete from strata_migrations where name = 'ghost'" >/dev/null

# a writer at work (its change made, its transaction open): summarize cannot make the summary
# valid (it would miss the change), and says so; once the writer commits, it can
mkfifo writer.in
"$PSQL" -X -q -At -d "$PG_DB" <writer.in >writer.out 2>&1 &
writer=$!
exec {w}>writer.in
echo "begin; update strata_migrations set duration_ms = 0 where name = 'a'; select 'changed';" >&"$w"
until_true 600 grep -q changed writer.out
is "a writer at work: summarize does not make the summary valid" \
	"$(pg_q "select strata_migrations_summarize()") $(valid)" "f f"
echo "commit;" >&"$w"
exec {w}>&-
wait "$writer"
rm writer.in
is "... once it committed, it does" "$(pg_q "select strata_migrations_summarize()") $(valid)" "t t"
is "... the history's" "$(summary)" "$(aggregate)"

# a database from an older strata (no summary table): a run reads the history's aggregate, then
# makes the table (a dry run never does); so does a run that writes the history
pg_drop_summary
check "no summary table: a dry run, from the history's aggregate" 0 '^nothing to run' "^\$" \
	strata migrations run --dry-run
is "... makes no table" "$(pg_q "select to_regclass('strata_migrations_summary') is null")" t
check "... a run: nothing to run, from the history's aggregate" 0 "$FAST" '^$' \
	strata -v migrations run
is "... which makes the summary, valid" "$(summary)" "$(aggregate)"
check "... so the next run reads it" 0 "$FAST" '^$' strata -v migrations run
pg_drop_summary
tbl 5 e
strata build >/dev/null
check "no summary table: a run that writes the history" 0 '^  applied   5-e ' '^$' strata migrations run
is "... makes it, valid" "$(summary)" "$(aggregate)"
check "... so the next run reads it" 0 "$FAST" '^$' strata -v migrations run
check "a revert" 0 '^  reverted  5-e ' '^$' strata migrations revert
is "... leaves it valid, the history's" "$(summary)" "$(aggregate)"
check "... and the next run applies again" 0 '^  applied   5-e ' '^$' strata migrations run

# a summary table of another shape (here without the column naming the history table): read
# as missing, and made right by the next run
pg_q "alter table strata_migrations_summary drop column history" >/dev/null
check "a summary table without its history column: nothing to run, from the aggregate" 0 "$FAST" '^$' \
	strata -v migrations run
is "... and the run mends it" "$(summary) $(pg_q "select history = 'strata_migrations'::regclass from strata_migrations_summary")" "$(aggregate) t"

# functions made by a strata whose bodies differ (here a summarize that does nothing, without
# this strata's mark): made again by the next run that makes the summary
pg_q "create or replace function strata_migrations_summarize() returns boolean language plpgsql as \$f\$BEGIN RETURN false; END\$f\$; update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
is "summarize from another strata, and a change: not valid" "$(valid)" f
check "... the next run: nothing to run, from the aggregate" 0 "$FAST" '^$' strata -v migrations run
is "... makes the functions again, and the summary valid" \
	"$(summary) $(pg_q "select count(*) from pg_proc where proname in ('strata_migrations_summarize', 'strata_migrations_changed') and prosrc like '/* strata summary %'")" \
	"$(aggregate) 2"

# strata's own objects are not the user's schema
check "the schema dump" 0 '' '^$' strata schema dump
unlike "... leaves out the summary table" "$out" 'strata_migrations_summary'
unlike "... and its functions and trigger" "$out" 'strata_migrations_(changed|summarize)'
like "... but has the user's tables" "$out" 'CREATE TABLE public\.e '

# a role granted only the history's privileges (not the summary's) writes the history: the
# trigger and summarize run as their owner
H=${PGHOST}
case $H in /*) H=localhost ;; esac
R=strata_sum_$$
trap '"$PSQL" -X -q -d "$PG_DB" -c "drop owned by $R cascade" >/dev/null 2>&1; "$PSQL" -X -q -d postgres -c "drop role if exists $R" >/dev/null 2>&1; _cleanup' EXIT
"$PSQL" -X -q -d postgres -c "create role $R login password 'lp'" >/dev/null || bail "cannot create a role"
pg_q "grant select, insert, update, delete on strata_migrations to $R; grant create on schema public to $R" >/dev/null
is "the role has no privilege on the summary" \
	"$(pg_q "select has_table_privilege('$R', 'strata_migrations_summary', 'select, update')")" f
tbl 6 f
strata build >/dev/null
LP="postgres://$R:lp@$H:${PGPORT:-5432}/$PG_DB"
check "... applies a migration" 0 '^  applied   6-f ' '^$' strata --database-url "$LP" migrations run
is "... and the summary is valid, the history's" "$(summary)" "$(aggregate)"
check "... its next run, not allowed to read the summary, reads the history's aggregate" 0 "$FAST" '^$' \
	strata -v --database-url "$LP" migrations run
pg_q "grant select on strata_migrations_summary to $R" >/dev/null
check "... and allowed, the summary" 0 "$FAST" '^$' strata -v --database-url "$LP" migrations run
# functions of a lower version, which only their owner may make again: the role still makes
# the summary valid with them
pg_q "do \$\$declare d text; begin select pg_get_functiondef('strata_migrations_summarize'::regproc) into d; execute regexp_replace(d, 'strata summary [0-9]+', 'strata summary 1'); end\$\$; update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
is "... functions of a lower version, and a change: not valid" "$(valid)" f
check "... the role's run" 0 "$FAST" '^$' strata -v --database-url "$LP" migrations run
is "... makes the summary valid with them" "$(summary)" "$(aggregate)"
is "... which it may not make again" \
	"$(pg_q "select substring(prosrc from '^/[*] strata summary ([0-9]+)') from pg_proc where proname = 'strata_migrations_summarize'")" 1
pg_q "update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
check "... the owner's next run" 0 "$FAST" '^$' strata -v migrations run
is "... makes them again" \
	"$(pg_q "select count(distinct substring(prosrc from '^/[*] strata summary ([0-9]+)')) || '|' || count(*) from pg_proc where proname in ('strata_migrations_summarize', 'strata_migrations_changed')")" "1|2"
is "... and the summary valid" "$(summary)" "$(aggregate)"
# functions of a higher version (a newer strata's, during a rolling deploy): left as they are
pg_q "do \$\$declare d text; begin select pg_get_functiondef('strata_migrations_summarize'::regproc) into d; execute regexp_replace(d, 'strata summary [0-9]+', 'strata summary 99'); end\$\$; update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
check "functions of a higher version: the run" 0 "$FAST" '^$' strata -v migrations run
is "... leaves them, and makes the summary valid with them" \
	"$(summary) $(pg_q "select substring(prosrc from '^/[*] strata summary ([0-9]+)') from pg_proc where proname = 'strata_migrations_summarize'")" \
	"$(aggregate) 99"

# a tenant schema has its own summary, its functions in that schema
pg_q "create schema tenant_a" >/dev/null
check "a tenant's run" 0 '^ok +tenant_a +applied 6 ' '1 done \(6 migrations applied' \
	strata fleet run --schemas tenant_a
is "... makes its summary there, valid" \
	"$(pg_q "select rows || '|' || valid from tenant_a.strata_migrations_summary")" "6|true"
is "... with its functions there" \
	"$(pg_q "select count(*) from pg_proc where pronamespace = 'tenant_a'::regnamespace and proname like 'strata_migrations_%'")" 2
is "... and public's is unchanged" "$(summary)" "$(aggregate)"

# a database whose sessions default to repeatable read: strata's own statements on the summary
# run in read committed, and a writer whose snapshot is older than a summarize that committed
# since is refused (a serialization failure), never left out of a valid summary
need_pg
pg_q "alter database \"$PG_DB\" set default_transaction_isolation = 'repeatable read'" >/dev/null
check "repeatable read by default: a run applies" 0 '^  applied   6-f ' '^$' \
	strata --database-url "$PG_URL" migrations run
check "... the next run answers from the summary" 0 "$FAST" '^$' strata -v --database-url "$PG_URL" migrations run
is "... which is valid, the history's" "$(summary)" "$(aggregate)"
is "... summarize refuses to run in repeatable read (this database's default)" \
	"$(pg_q "select strata_migrations_summarize()")" f
pg_q "update strata_migrations set duration_ms = duration_ms where name = 'a'" >/dev/null
# a writer takes its snapshot, a run makes the summary valid, then the writer changes the
# history: before, the trigger's UPDATE ... WHERE valid saw its snapshot's row (not valid),
# changed nothing, and the summary stayed valid without the writer's row
coproc W { "$PSQL" -X -q -At -d "$PG_DB" 2>&1; }
WPID=$W_PID
echo "begin; select 'snapshot taken';" >&"${W[1]}"
read -r -t 10 line <&"${W[0]}"
is "... a writer has its snapshot" "$line" "snapshot taken"
check "... a run with nothing to do makes the summary valid" 0 "$FAST" '^$' \
	strata -v --database-url "$PG_URL" migrations run
is "... valid" "$(valid)" t
echo "insert into strata_migrations (version, name, checksum) values ('99', 'late', 'x'); commit;" >&"${W[1]}"
exec {W[1]}>&-
WOUT=$(cat <&"${W[0]}")
wait "$WPID" 2>/dev/null
like "... the writer's change is refused" "$WOUT" 'could not serialize access due to concurrent update'
is "... and the summary is the history's" "$(summary)" "$(aggregate)"

# a history found missing, then made by another process, on a connection that goes on (through
# the library): a run that reads the history without the summary (here with `to`) does not
# make the table again (a CREATE that fails: an error in the server's log, or for a role
# without CREATE, a run that fails)
lib_client stale_missing
need_pg
STALE=$("$TEST_DIR/stale_missing" "$PG_URL" dist/migrations src/migrations \
	"'$STRATA' -q --database-url '$PG_URL' migrations run --to 2")
is "a dry run, another process's run, then a run with to, on one connection" "$STALE" \
	"dry run: STRATA_OK 6
run --to: STRATA_OK 4"
is "... which applied the rest" "$(pg_q "select count(*) from strata_migrations")" 6
until_true 100 rollbacks_are 2
is "... failing two statements in the server (each process's read of a summary not there yet)" "$?" 0
done_testing
