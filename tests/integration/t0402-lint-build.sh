#!/usr/bin/env bash
# strata build parses and lints before it writes: a syntax error (PostgreSQL or SQLite) or a lint
# error stops it with file:line:col and a caret and leaves dist alone; warnings are printed to
# stderr and fail only with --strict. The example project still builds.
. "$(dirname "$0")/lib.sh"

tree() { (cd "$1" && find . -type f | sort | xargs sha256sum); }

mig src/migrations 1-Users.sql '-- migrate:up\ncreate table users (id int, email text);\n-- migrate:down\ndrop table users;\n'
check 'build, postgres' 0 '^built 1 migration from src/migrations into dist/migrations in ' '^$' \
	strata build --dialect postgres
before=$(tree dist)

# PostgreSQL syntax error: exact place (characters, not bytes), source line and caret
mig src/migrations 2-Broken.sql '-- migrate:up\n-- é comment\nselect 1;\nselect '"'"'été'"'"' as x frm users;\n'
check 'build with a PostgreSQL syntax error fails' 1 '^$' '' strata build --dialect postgres
is '... stderr' "$err" \
"strata: error: src/migrations/2-Broken.sql:4:19: syntax error at or near \"frm\"
     4 | select 'été' as x frm users;
       |                   ^
hint: migrations are checked as PostgreSQL 15 SQL; choose another dialect with --dialect or \"dialect\" in strata.json
strata: build stopped; dist/migrations was not changed"
is '... dist unchanged' "$(tree dist)" "$before"

# a syntax error in a down section is found too
mig src/migrations 2-Broken.sql '-- migrate:up\nselect 1;\n-- migrate:down\ndelet from users;\n'
check 'build with a syntax error in a down section' 1 '^$' \
	'^strata: error: src/migrations/2-Broken.sql:4:1: syntax error at or near "delet"$' strata build --dialect postgres
is '... dist unchanged' "$(tree dist)" "$before"

# CONCURRENTLY in a transactional migration: refused, with the fix
mig src/migrations 2-Broken.sql '-- migrate:up\ncreate index concurrently users_email on users (email);\n'
check 'build refuses CREATE INDEX CONCURRENTLY in a transaction' 1 '^$' \
	'^strata: error: src/migrations/2-Broken.sql:2:1: a CONCURRENTLY statement cannot run inside a transaction block, and this section runs in one \[concurrently-in-transaction\]$' \
	strata build --dialect postgres
like '... with the caret' "$err" '^     2 \| create index concurrently users_email on users \(email\);$'
like '... the hint to add transaction:false' "$err" "^hint: run it in a section marked transaction:false \('-- migrate:up transaction:false'"
like '... the count' "$err" '^strata: error: 1 lint error$'
like '... and dist untouched' "$err" '^strata: build stopped; dist/migrations was not changed$'
is '... dist unchanged' "$(tree dist)" "$before"
rm src/migrations/2-Broken.sql
mig src/migrations 2-Index.up.sql 'create index concurrently users_email on users (email);\n'
check '... so does a .up.sql file without -- strata:no-transaction' 1 '^$' 'concurrently-in-transaction' \
	strata build --dialect postgres
mig src/migrations 2-Index.up.sql '-- strata:no-transaction\ncreate index concurrently users_email on users (email);\n'
check '... and accepts it with -- strata:no-transaction' 0 '^built 2 migrations ' '^$' strata build --dialect postgres
rm src/migrations/2-Index.up.sql
mig src/migrations 2-Index.sql '-- migrate:up transaction:false\ncreate index concurrently users_email on users (email);\n-- migrate:down transaction:false\ndrop index concurrently users_email;\n'
check '... and with transaction:false' 0 '^built 2 migrations ' '^$' strata build --dialect postgres

# warnings: printed to stderr, the build goes on; --strict stops it
mig src/migrations 3-Drop.sql '-- migrate:up\nalter table users drop column email;\n'
check 'build with a lint warning succeeds' 0 \
	'^built 3 migrations from src/migrations into dist/migrations \(1 lint warning\) in ' \
	'^strata: warning: src/migrations/3-Drop.sql:2:1: DROP COLUMN destroys the column.s data, and code still using it fails \[drop-column\]$' \
	strata build --dialect postgres
like '... with the fix' "$err" '^hint: stop using the column in a release before the one that drops it$'
is '... dist has it' "$(ls dist/migrations | tr '\n' ' ')" '1-Users.sql 2-Index.sql 3-Drop.sql manifest.json '
before=$(tree dist)
mig src/migrations 4-Trunc.sql '-- migrate:up\ntruncate users;\n'
check 'build --strict with warnings fails' 1 '^$' '^strata: error: 2 lint warnings \(--strict\)$' \
	strata build --dialect postgres --strict
like '... after printing them' "$err" '\[truncate\]$'
is '... dist unchanged' "$(tree dist)" "$before"
mig src/migrations 4-Trunc.sql '-- migrate:up\n-- strata:nolint truncate\ntruncate users;\n'
mig src/migrations 3-Drop.sql '-- migrate:up\n-- strata:nolint drop-column\nalter table users drop column email;\n'
check 'build --strict once silenced with nolint' 0 '^built 4 migrations from src/migrations into dist/migrations in ' '^$' \
	strata build --dialect postgres --strict
check 'build --enable missing-lock-timeout' 0 '' '\[missing-lock-timeout\]$' \
	strata build --dialect postgres --enable missing-lock-timeout
check 'build with a bad dialect' 2 '^$' "^strata build: unknown dialect 'oracle'" strata build --dialect oracle

# the dialect from the database URL, never connected to
check 'build with a postgres DATABASE_URL parses as postgres' 0 '' '^$' \
	env DATABASE_URL=postgres://nobody:secret@db.invalid:1/app "$STRATA" -v build
like '... says so' "$out" '^checking src/migrations as postgres SQL$'

# SQLite (the default): SQLite's parser, migrations applied in order to an in-memory database
rm -rf src dist
mig src/migrations 1-Users.sql '-- migrate:up\ncreate table users (id integer primary key, email text unique);\n-- migrate:down\ndrop table users;\n'
mig src/migrations 2-Seed.sql '-- migrate:up\ninsert into users (email) values ('"'"'a@x'"'"');\n-- migrate:down\ndelete from users;\n'
check 'build, sqlite by default' 0 '^built 2 migrations ' '^$' strata build
before=$(tree dist)
mig src/migrations 3-Bad.sql '-- migrate:up\ncreate table t (\n  a int,\n  b int,,\n);\n'
check 'build, sqlite: a syntax error' 1 '^$' '' strata build
is '... stderr' "$err" \
"strata: error: src/migrations/3-Bad.sql:4:9: near \",\": syntax error
     4 |   b int,,
       |         ^
detail: SQLite migrations are checked by applying them in order to an empty in-memory database
hint: the migrations were checked as SQLite SQL, the default when no --dialect, \"dialect\" in strata.json or database URL names one; for PostgreSQL migrations use --dialect postgres
strata: build stopped; dist/migrations was not changed"
is '... dist unchanged' "$(tree dist)" "$before"
mig src/migrations 3-Bad.sql '-- migrate:up\nupdate user set email = null;\n'
check 'build, sqlite: a table that no earlier migration created' 1 '^$' \
	'^strata: error: src/migrations/3-Bad.sql:2:1: no such table: user$' strata build
mig src/migrations 3-Bad.sql '-- migrate:up\ninsert into users (email) values ('"'"'a@x'"'"');\n'
check 'build, sqlite: a row that breaks a constraint of the migrations' 1 '^$' \
	'^strata: error: src/migrations/3-Bad.sql:2:1: UNIQUE constraint failed: users.email$' strata build
mig src/migrations 3-Bad.sql '-- migrate:up\nvacuum;\n'
check 'build, sqlite: VACUUM in a transactional migration' 1 '^$' \
	'^strata: error: src/migrations/3-Bad.sql:2:1: cannot VACUUM from within a transaction$' strata build
like '... hint' "$err" "^hint: this statement cannot run inside the migration's transaction; mark the section '-- migrate:up transaction:false'$"
is '... dist unchanged' "$(tree dist)" "$before"
mig src/migrations 3-Bad.sql '-- migrate:up transaction:false\nvacuum;\n'
check '... fine with transaction:false' 0 '^built 3 migrations ' '^$' strata build
check 'migrations run applies what build checked' 0 '^applied 3 migrations in ' '' \
	strata --database-url sqlite:app.db migrations run
check 'build --dialect postgres on SQLite-only SQL' 1 '^$' 'syntax error at or near "AUTOINCREMENT"' \
	sh -c 'printf -- "-- migrate:up\ncreate table z (id integer primary key AUTOINCREMENT not null_);\n" >src/migrations/4-Z.sql && "$0" build --dialect postgres' "$STRATA"

# the example project: no lint finding in either dialect
cp -r "$ROOT/examples/store" store
rm -rf store/dist store/strata.db
check 'examples/store builds (sqlite, its default)' 0 '^built 3 migrations from src/migrations into dist/migrations in ' '^$' \
	sh -c 'cd store && "$0" build' "$STRATA"
check 'examples/store lints clean as postgres too' 0 '^0 errors, 0 warnings in 3 migrations \(postgres\)$' '^$' \
	sh -c 'cd store && "$0" lint --dialect postgres --strict' "$STRATA"

done_testing
