#!/usr/bin/env bash
# strata seed: help, usage errors, and a malformed file refused before any migration runs.
. "$(dirname "$0")/lib.sh"

check 'seed --help' 0 '^Usage: strata seed -f FILE' '^$' "$STRATA" seed --help
check 'seed is in the command list' 0 'seed +Apply pending migrations, then load JSON' '^$' "$STRATA" --help
check 'seed --bogus is a usage error' 2 '^$' "unknown option '--bogus'" "$STRATA" seed --bogus
check 'seed without -f is a usage error' 2 '^$' 'no seed file: give one with -f FILE' "$STRATA" seed
check 'a bare argument is a usage error' 2 '^$' "unexpected argument 'x.json' \\(give seed files with -f\\)" \
	"$STRATA" seed x.json
check 'a bad --on-conflict' 2 '^$' "--on-conflict is 'error', 'skip' or 'update', not 'merge'" \
	"$STRATA" seed -f x.json --on-conflict merge

mig dist/migrations 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
printf '{"a": [\n  {"x": 1},\n  {"x": 2,}\n]}\n' >bad.json
check 'malformed JSON is refused before anything runs' 1 '^$' \
	'bad\.json:3:11: malformed JSON' "$STRATA" --database-url sqlite:t.db seed -f bad.json
is '... no migration was applied' "$(sq_q t.db "select count(*) from sqlite_master where name = 'a'" 2>&1)" 0
printf '[{"x": 1}]\n' >array.json
check 'a top-level array is not a seed' 1 '^$' 'array\.json:1:1: a seed file must be a JSON object of tables' \
	"$STRATA" --database-url sqlite:t.db seed -f array.json
printf '{"a": {"x": 1}}\n' >obj.json
check 'a table whose rows are not an array' 1 '^$' "obj\\.json:1:7: the rows of table 'a' must be a JSON array" \
	"$STRATA" --database-url sqlite:t.db seed -f obj.json
printf '{"a": [1]}\n' >scalar.json
check 'a row that is not an object' 1 '^$' "scalar\\.json:1:8: a row of table 'a' must be a JSON object" \
	"$STRATA" --database-url sqlite:t.db seed -f scalar.json
printf '{"a": [{"x": 1}]' >trunc.json
check 'a truncated file' 1 '^$' 'trunc\.json:1:17: malformed JSON' \
	"$STRATA" --database-url sqlite:t.db seed -f trunc.json
printf '{"a": [{"x": 1}]}\n' >ok.json
check 'a dry run with pending migrations only checks the files' 0 '^$' \
	'dry run: 1 migration pending, so the seed files were only checked' \
	"$STRATA" --database-url sqlite:t.db seed -f ok.json --dry-run
check 'the same file given twice' 1 '' 'ok\.json: seed file given twice' \
	"$STRATA" --database-url sqlite:t.db seed -f ok.json -f ./ok.json
done_testing
