#!/usr/bin/env bash
# A deploy must never turn into a green run against a local file: a DATABASE_URL that is set but
# empty (a secret that failed to inject) is an error; a project can forbid the SQLite default
# ("require_database_url": true); and commands that only read (show, validate, a dry run) never
# create a SQLite file that is not there.
. "$(dirname "$0")/lib.sh"

mig dist/migrations 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
no_db_files() { is "$1: ... no database file was created" "$(ls ./*.db 2>/dev/null)" ""; }

check 'DATABASE_URL set but empty: exit 1' 1 '^$' \
	'^strata: error: the database URL in the DATABASE_URL environment variable is set but empty$' \
	env DATABASE_URL= "$STRATA" migrations run
like '... the hint says why it matters' "$err" '^hint: a secret that failed to inject leaves it empty'
no_db_files 'empty DATABASE_URL'
check 'DATABASE_URL of blanks: the same' 1 '^$' 'is set but empty$' \
	env DATABASE_URL='  ' "$STRATA" migrations show
check 'seed with an empty DATABASE_URL: the same' 1 '^$' 'is set but empty$' \
	env DATABASE_URL= "$STRATA" seed -f nothing.json
no_db_files 'seed'

printf '{"require_database_url": true}\n' >strata.json
check 'require_database_url and no URL: exit 1' 1 '^$' \
	'^strata: error: strata\.json: no database URL, and this project allows no SQLite default \("require_database_url": true\)$' \
	strata migrations run
like '... hint' "$err" '^hint: give the database with --database-url or DATABASE_URL'
no_db_files 'require_database_url'
check '... a URL given: it runs' 0 '^applied 1 migration' '^$' \
	strata --database-url sqlite:given.db migrations run
printf '{"require_database_url": "yes"}\n' >strata.json
check '... not a boolean: a config error' 1 '^$' \
	"^strata: error: strata\\.json: 'require_database_url' must be true or false\$" \
	strata migrations show
rm strata.json given.db

check 'show on a SQLite file that does not exist' 0 \
	'^1 migration: 0 applied, 1 pending \(sqlite:strata\.db, which does not exist yet\)$' '^$' \
	strata migrations show
no_db_files 'show'
check 'show --json says so' 0 '"database_exists": false' '^$' strata migrations show --json
no_db_files 'show --json'
check 'validate does not create it either' 0 '^ok: 1 migration' '^$' strata migrations validate
no_db_files 'validate'
check 'nor a dry run' 0 '^-- apply 1-A' 'nothing was changed' strata migrations run --dry-run
no_db_files 'dry run'
printf '{"a": [{"x": 1}]}\n' >seed.json
check 'nor a seed dry run' 0 '' '^strata: dry run: 1 migration pending, so the seed files were only checked' strata seed -f seed.json --dry-run
no_db_files 'seed dry run'
check 'run creates it' 0 '^applied 1 migration' '^$' strata migrations run
check '... and then show reads it' 0 '^1 migration: 1 applied, 0 pending \(sqlite:strata\.db\)$' '^$' \
	strata migrations show
check '... --json: it exists' 0 '"database_exists": true' '^$' strata migrations show --json
done_testing
