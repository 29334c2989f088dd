#!/usr/bin/env bash
# Where the PostgreSQL timeouts come from (issue 4, item 6): the defaults (lock_timeout 5s,
# statement_timeout none), --lock-timeout/--statement-timeout, lock_timeout/statement_timeout in
# strata.json (the options win), a bad value in strata.json (an error naming the file), and bad
# option values (usage errors, exit 2). Each migration records the settings it ran with.
. "$(dirname "$0")/lib.sh"
need_pg
new_db pg

# settings ARGS...: applies the migration that records current_setting() of both timeouts,
# prints "lock_timeout statement_timeout" as it saw them, and reverts it
mig m 1-Settings.sql "-- migrate:up\ncreate table settings as select current_setting('lock_timeout') as lt, current_setting('statement_timeout') as st;\n-- migrate:down\ndrop table settings;\n"
settings() {
	run strata --database-url "$DB_URL" migrations run --dir m "$@"
	if [ "$rc" != 0 ]; then echo "run failed ($rc): $err"; return; fi
	pg_q "select lt || ' ' || st from settings"
	strata --database-url "$DB_URL" migrations revert --dir m >/dev/null 2>&1 || echo "(revert failed)"
}

is 'defaults: lock_timeout 5s, no statement_timeout' "$(settings)" '5s 0'
is '--lock-timeout 1500ms --statement-timeout 2m' "$(settings --lock-timeout 1500ms --statement-timeout 2m)" '1500ms 2min'
is '--lock-timeout 0 (never)' "$(settings --lock-timeout 0)" '0 0'

printf '{"lock_timeout": "250ms", "statement_timeout": "3s"}\n' >strata.json
is 'lock_timeout and statement_timeout from strata.json' "$(settings)" '250ms 3s'
is '... the options win over strata.json' "$(settings --lock-timeout 7s)" '7s 3s'

# statement_timeout from strata.json really cancels
printf '{"statement_timeout": "100ms"}\n' >strata.json
mig m 2-Slow.sql '-- migrate:up\nselect pg_sleep(0.6);\n'
check 'statement_timeout from strata.json cancels a slow statement' 1 '' \
	'^strata: error: m/2-Slow\.sql:2:1: canceling statement due to statement timeout \[57014\]$' \
	strata --database-url "$DB_URL" migrations run --dir m
is '... 1-Settings ran, 2-Slow did not' "$(db_history)" 1-Settings
strata --database-url "$DB_URL" migrations revert --dir m >/dev/null
rm m/2-Slow.sql

# bad values in strata.json: an error naming the file, before the database is touched
pg_q 'drop table strata_migrations' >/dev/null
printf '{"lock_timeout": "soon"}\n' >strata.json
check 'a bad lock_timeout in strata.json' 1 '^$' \
	"^strata: error: strata\\.json: bad value 'soon' for 'lock_timeout' in the config$" \
	strata --database-url "$DB_URL" migrations run --dir m
like '... with a hint' "$err" '^hint: write a duration like "5s", "500ms" or "2m"$'
printf '{"statement_timeout": "-2s"}\n' >strata.json
check 'a negative statement_timeout in strata.json' 1 '^$' \
	"^strata: error: strata\\.json: bad value '-2s' for 'statement_timeout' in the config$" \
	strata --database-url "$DB_URL" migrations run --dir m
printf '{"lock_timeout": 5}\n' >strata.json
check 'a number, not a string' 1 '^$' "^strata: error: strata\\.json: 'lock_timeout' must be a string$" \
	strata --database-url "$DB_URL" migrations run --dir m
mkdir -p conf && printf '{"lock_timeout": "5 seconds"}\n' >conf/other.json
check '--config FILE: the error names that file' 1 '^$' \
	"^strata: error: conf/other\\.json: bad value '5 seconds' for 'lock_timeout' in the config$" \
	strata --config conf/other.json --database-url "$DB_URL" migrations run --dir m
for c in validate repair; do
	check "... migrations $c checks it too" 1 '^$' "bad value '5 seconds' for 'lock_timeout'" \
		strata --config conf/other.json --database-url "$DB_URL" migrations $c --dir m
done
is '... nothing touched the database (no history table)' "$(db_tables)" ""
rm strata.json

# bad option values: usage errors
for a in '--lock-timeout soon' '--lock-timeout -1s' '--lock-timeout 5x' \
	'--statement-timeout 1d' '--statement-timeout -5' \
	'--lock-retries -1' '--lock-retries abc' '--lock-retries 2.5' '--lock-retries 1000'; do
	# shellcheck disable=SC2086
	check "migrations run $a is a usage error" 2 '^$' \
		"^Try 'strata migrations run --help' for more information\\.$" \
		strata --database-url "$DB_URL" migrations run --dir m $a
	like "... naming the option" "$err" "^strata migrations run: ${a%% *} needs a"
done
check 'migrations revert --lock-timeout soon is a usage error' 2 '^$' \
	"^strata migrations revert: --lock-timeout needs a duration like 5s, 500ms or 2m, not 'soon'$" \
	strata --database-url "$DB_URL" migrations revert --dir m --lock-timeout soon
check 'migrations repair --lock-retries x is a usage error' 2 '^$' \
	"^strata migrations repair: --lock-retries needs a whole number, not 'x'$" \
	strata --database-url "$DB_URL" migrations repair --dir m --lock-retries x
check '--lock-timeout without a value' 2 '^$' "option '--lock-timeout' needs a value" \
	strata --database-url "$DB_URL" migrations run --dir m --lock-timeout
is '... none of them touched the database' "$(db_tables)" ""
# strtod reads "nan": not a duration either
check 'migrations run --lock-timeout nan is a usage error' 2 '^$' \
	"^strata migrations run: --lock-timeout needs a duration like 5s, 500ms or 2m, not 'nan'$" \
	strata --database-url "$DB_URL" migrations run --dir m --lock-timeout nan
is '... and nothing ran' "$(db_tables)" ""
done_testing
