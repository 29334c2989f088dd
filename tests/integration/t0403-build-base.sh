#!/usr/bin/env bash
# build and lint check SQLite migrations by applying them to an empty database: a plugin's
# migration that alters a core table needs the core's migrations applied first. --base DIR (or
# "base_dirs" in strata.json) names them; without it, the error says how.
. "$(dirname "$0")/lib.sh"

mkdir -p core/src/migrations plugin/src/migrations
mig core/src/migrations 1000-Product.sql '-- migrate:up\ncreate table product (id integer primary key, title text);\n-- migrate:down\ndrop table product;\n'
mig core/src/migrations 3000-Later.sql '-- migrate:up\ncreate table later (x int);\n-- migrate:down\ndrop table later;\n'
mig plugin/src/migrations 2000-Review.sql '-- migrate:up\nalter table product add column rating integer;\ncreate table review (product_id integer references product (id));\n-- migrate:down\ndrop table review;\n'
(cd core && "$STRATA" build --dialect sqlite >/dev/null) || bail "core build"

cd plugin || bail "cd"
check 'the plugin alone: product is unknown' 1 '^$' \
	'^strata: error: src/migrations/2000-Review\.sql:2:1: no such table: product$' \
	strata build --dialect sqlite
like '... the hint says how to build on the core' "$err" \
	'^hint: if it comes from migrations this one builds on \(the core.s, another source.s\), name their directory as a base, so that the check applies them first \(--base DIR\)$'
check 'build --base ../core/dist/migrations' 0 '^built 1 migration from src/migrations into dist/migrations' '^$' \
	strata build --dialect sqlite --base ../core/dist/migrations
is '... only the plugin'"'"'s migration is written' "$(ls dist/migrations | tr '\n' ' ')" "2000-Review.sql manifest.json "
check 'lint --base too' 0 '^0 errors, 0 warnings in 1 migration \(sqlite\)' '^$' \
	strata lint --dialect sqlite --base ../core/src/migrations
check 'lint without it fails the same way' 1 '' 'no such table: product' strata lint --dialect sqlite

# the order is by version, the base's migrations among the checked ones
mig src/migrations 3500-UsesLater.sql '-- migrate:up\ninsert into later values (1);\n'
check 'a base migration newer than a checked one is applied in its place' 0 '^built 2 migrations' '^$' \
	strata build --dialect sqlite --base ../core/src/migrations
rm src/migrations/3500-UsesLater.sql
mig src/migrations 0500-TooEarly.sql '-- migrate:up\ninsert into product (title) values ('"'x'"');\n'
check '... one older than the base migration it uses fails, as it would on a real database' 1 '' \
	'^strata: error: src/migrations/0500-TooEarly\.sql:2:1: no such table: product$' \
	strata build --dialect sqlite --base ../core/src/migrations
rm src/migrations/0500-TooEarly.sql

# strata.json names them
printf '{"base_dirs": ["../core/dist/migrations"]}\n' >strata.json
check '"base_dirs" in strata.json' 0 '^built 1 migration' '^$' strata build --dialect sqlite
check '... lint reads it too' 0 '^0 errors' '^$' strata lint --dialect sqlite
printf '{"base_dirs": "../core"}\n' >strata.json
check '... it must be a list' 1 '^$' "^strata: error: strata\\.json: 'base_dirs' must be a list of directories\$" \
	strata build --dialect sqlite
rm strata.json
done_testing
