#!/usr/bin/env bash
# The history's listing, kept by the server beside its summary (issue 15), on PostgreSQL:
# `migrations show` of a build of more than 2,048 migrations reads every history row from one
# value of strata_migrations_summary, in slices of 16 KiB, instead of the history's rows. Shown
# here: the first show after a change makes it (a run does not: it pays nothing for it); what
# show prints from it is what it prints from the history table, text and JSON, through every
# kind of row (failed part-way, out of order, an accepted edit, an infinite time, missing on
# disk, pending, a UTF-8 name); any change to the history drops it (the summary's trigger);
# a writer at work, a read-only session, or a summary from before the listing leave it unmade
# and show reads the rows; a listing damaged by hand is an error that says how to mend it.
. "$(dirname "$0")/lib.sh"
need_pg

mkdir -p proj/src/migrations && cd proj || bail "no project dir"
printf '{"database_url": "%s"}\n' "$PG_URL" >strata.json
# more than STRATA_EACH_FEW_ROWS (2,048, src/core/engine.h): a listing this long is read from
# the server's listing
N=2100
for i in $(seq 1 $N); do
	printf -- '-- migrate:up\nselect %d;\n-- migrate:down\nselect 0;\n' "$i" >"src/migrations/$i-m$i.sql"
done
mig src/migrations "$((N + 1))-café.sql" '-- migrate:up\nselect 1;\n-- migrate:down\nselect 0;\n'
strata build >/dev/null || bail "the build failed"
strata migrations run >/dev/null || bail "the first run failed"

# the listing's size in bytes, or "none"
listing() { pg_q "select coalesce(octet_length(listing)::text, 'none') from strata_migrations_summary"; }
valid() { pg_q "select valid from strata_migrations_summary"; }
# show as it reads the history table: with the summary table out of the way (renamed; no
# trigger fires), the listing cannot be read
rows_text() {
	pg_q "alter table strata_migrations_summary rename to strata_away" >/dev/null
	strata migrations show "$@"
	pg_q "alter table strata_away rename to strata_migrations_summary" >/dev/null
}
# SHOWN: show's output (text, then JSON) as the listing gives it; ROWS: as the rows give it
shown() {
	SHOWN=$(strata migrations show 2>&1; echo "exit $?"; strata migrations show --json 2>&1; echo "exit $?")
	ROWS=$(rows_text 2>&1; echo "exit $?"; rows_text --json 2>&1; echo "exit $?")
}

is "a run leaves no listing (the summary valid)" "$(listing) $(valid)" "none t"
check "the first show" 0 "^$((N + 1)) migrations: $((N + 1)) applied, 0 pending " '^$' strata migrations show
like "... lists the UTF-8 name" "$out" "^applied +$((N + 1)) +café +"
is "... and makes the listing, longer than several slices (16 KiB each)" \
	"$(pg_q "select octet_length(listing) > 4 * 16384 and valid from strata_migrations_summary")" t
L=$(listing)
shown
is "... what show prints from it is what it prints from the rows (text and JSON)" "$SHOWN" "$ROWS"
like "... (which list every migration)" "$SHOWN" "^applied +1 +m1 +"
is "... and show read it, changing nothing" "$(listing)" "$L"

# it is what show reads: damaged by hand (the trigger is on the history only), it is an error
# that says how to have strata read the history again
pg_q "update strata_migrations_summary set listing = substring(listing from 1 for 70000)" >/dev/null
check "a listing cut short by hand" 1 '' \
	"^strata: error: the history's listing in strata_migrations_summary ends part-way through a row" \
	strata migrations show
like "... and says what to do" "$err" "UPDATE strata_migrations_summary SET valid = false"
pg_q "update strata_migrations_summary set valid = false" >/dev/null
check "... marked not valid as it says" 0 "^$((N + 1)) migrations: $((N + 1)) applied" '^$' strata migrations show
is "... show makes it again" "$(listing)" "$L"

# every kind of row, each change by hand dropping the listing in its own transaction; show
# makes it again, and prints from it what the rows give
change() {
	pg_q "$2" >/dev/null
	is "$1: no listing" "$(listing)" none
	shown
	is "... show prints from the listing made again what the rows give" "$SHOWN" "$ROWS"
	is "... which it made" "$(pg_q "select listing is not null and valid from strata_migrations_summary")" t
}
change "a row failed part-way" \
	"update strata_migrations set status = 'failed', progress = 3 where version = '7'"
like "... (listed failed)" "$SHOWN" "^failed +7 +m7 "
change "a row out of order" "update strata_migrations set out_of_order = true where version = '8'"
change "an accepted edit" \
	"update strata_migrations set previous_checksum = repeat('ab', 32), accepted_at = '2026-01-02 03:04:05.678+00' where version = '9'"
like "... (listed with it)" "$SHOWN" "^applied +9 +m9 .*\[edit accepted 2026-01-02T03:04:05.678Z\]"
change "an infinite time" "update strata_migrations set applied_at = 'infinity' where version = '10'"
change "a row deleted (pending)" "delete from strata_migrations where version = '11'"
like "... (listed pending)" "$SHOWN" "^pending +11 +m11 "
change "a row of a migration not on disk" \
	"insert into strata_migrations (version, name, checksum) values ('99999', 'gone', 'x')"
like "... (listed missing)" "$SHOWN" "^missing +99999 +gone "
check "a revert of the newest" 0 '^  reverted  10-m10 ' '' strata migrations revert
is "... drops it" "$(listing)" none
shown
is "... and show prints from the one made again what the rows give" "$SHOWN" "$ROWS"
like "... (10 listed pending)" "$SHOWN" "^pending +10 +m10 "
pg_q "update strata_migrations set status = 'applied', progress = 0 where version = '7'; delete from strata_migrations where version = '99999'" >/dev/null
check "... the history put right, a run applies 10 and 11 again" 0 '^  applied   11-m11 ' '^$' strata migrations run --allow-out-of-order
is "... and leaves no listing" "$(listing)" none
shown
is "... show prints from the one it makes what the rows give" "$SHOWN" "$ROWS"

# a writer at work (here a session holding the trigger's lock, as a change not yet committed
# does): show reads the rows, and leaves the listing unmade until it is done
# trigger_locks N: N sessions hold the trigger's lock (pg_summary.c's SUMMARY_LOCK_CLASS)
trigger_locks() {
	[ "$(pg_q "select count(*) from pg_locks where locktype = 'advisory' and classid = 1398035009")" = "$1" ]
}
pg_q "update strata_migrations set duration_ms = duration_ms where version = '1'" >/dev/null
"$PSQL" -X -q -d "$PG_DB" -c "begin" \
	-c "select pg_advisory_xact_lock_shared(1398035009, 'strata_migrations'::regclass::int)" \
	-c "select pg_sleep(30)" >/dev/null 2>&1 &
WPID=$!
until_true 200 trigger_locks 1 || bail "the writer did not take its lock"
shown
is "a writer at work: show prints what the rows give" "$SHOWN" "$ROWS"
is "... and makes no listing" "$(listing) $(valid)" "none f"
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
pg_q "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()" >/dev/null
until_true 200 trigger_locks 0 || bail "the writer did not let its lock go"
check "... once it is done, show" 0 ' migrations: ' '^$' strata migrations show
is "... makes it" "$(pg_q "select listing is not null and valid from strata_migrations_summary")" t

# a read-only session (a standby, a read-only role's default): nothing is made
pg_q "update strata_migrations set duration_ms = duration_ms where version = '1'" >/dev/null
PGOPTIONS="-c default_transaction_read_only=on" check "show in a read-only session" 0 \
	' migrations: ' '^$' strata migrations show
is "... answers, and makes no listing" "$(listing) $(valid)" "none f"

# a summary table from before the listing: show reads the rows and mends nothing; a run mends it
pg_q "alter table strata_migrations_summary drop column listing" >/dev/null
shown
is "a summary from before the listing: show prints what the rows give" "$SHOWN" "$ROWS"
like "... (all of it)" "$SHOWN" "^applied +1 +m1 +"
is "... and does not mend it" "$(pg_q "select count(*) from pg_attribute where attrelid = 'strata_migrations_summary'::regclass and attname = 'listing' and not attisdropped")" 0
pg_q "update strata_migrations_summary set valid = false" >/dev/null
check "... a run with nothing to do" 0 '^nothing to run' '^$' strata migrations run
is "... mends it (the listing's column, stored uncompressed)" \
	"$(pg_q "select attstorage from pg_attribute where attrelid = 'strata_migrations_summary'::regclass and attname = 'listing' and not attisdropped")" e
check "... and the next show" 0 ' migrations: ' '^$' strata migrations show
is "... makes the listing" "$(pg_q "select listing is not null from strata_migrations_summary")" t

# a short listing is read from the rows (reading the listing costs more there): a build of
# three migrations makes none
mkdir -p ../small/src/migrations && cd ../small || bail "no small project"
for i in 1 2 3; do printf -- '-- migrate:up\nselect %d;\n' "$i" >"src/migrations/$i-m$i.sql"; done
strata build >/dev/null || bail "the small build failed"
pg_q "update strata_migrations set duration_ms = duration_ms where version = '1'" >/dev/null
check "a show of a build of three migrations" 0 ' migrations: 3 applied, 0 pending, [0-9]+ applied but missing' '^$' \
	strata --database-url "$PG_URL" migrations show
is "... makes no listing" "$(listing)" none
done_testing
