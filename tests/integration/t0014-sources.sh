#!/usr/bin/env bash
# A project of several sources (strata.json "sources": a core and a plugin): build builds each
# (SQLite: a later source checked on top of the earlier ones); run, show, validate, revert and
# seed read them all without --dir, and --dir overrides; out of order is decided within each
# source; revert undoes the most recently applied migration and says so when it is not the
# highest version; bad "sources" values are errors naming strata.json, changing nothing.
. "$(dirname "$0")/lib.sh"

mkdir p && cd p || bail "no project directory"
core=src/migrations
plug=plugins/reviews/src/migrations
table() { # DIR FILE TABLE
	mig "$1" "$2" "-- migrate:up\ncreate table $3 (id integer primary key);\n-- migrate:down\ndrop table $3;\n"
}
history() { sq_q strata.db "select group_concat(version || '-' || name || ':' || out_of_order, ',') from (select * from strata_migrations order by rowid)"; }
core_only='{"sources": [{"name": "core", "src": "src/migrations", "dist": "dist/migrations"}]}'
both='{"sources": [{"name": "core", "src": "src/migrations", "dist": "dist/migrations"},
  {"src": "plugins/reviews/src/migrations", "dist": "plugins/reviews/dist/migrations"}]}'

table $core 1732233500000-CoreFirst.sql core_first
table $core 1732233600000-CoreThing.sql core_thing
printf '%s\n' "$core_only" >strata.json
check 'build with one source' 0 '^built 2 migrations from src/migrations into dist/migrations in ' '^$' \
	strata build
check 'run without --dir reads the sources' 0 '^applied 2 migrations in ' '^$' strata migrations run

# a plugin installed later, its versions older than the core's newest
printf '%s\n' "$both" >strata.json
table $plug 1700000000000-PluginThing.sql plugin_thing
mig $plug 1732233650000-PluginAlter.sql '-- migrate:up\nalter table core_thing add column stars integer;\n-- migrate:down\nalter table core_thing drop column stars;\n'
check 'build builds every source' 0 \
	'^built 2 migrations from plugins/reviews/src/migrations into plugins/reviews/dist/migrations in ' '^$' \
	strata build
like '... the core too' "$out" '^built 2 migrations from src/migrations into dist/migrations in '
check '... a plugin that alters a core table is checked on top of the core' 0 '' '^$' \
	test -e plugins/reviews/dist/migrations/1732233650000-PluginAlter.sql
check '... which alone it cannot be' 1 '^$' 'no such table: core_thing' \
	strata build --src $plug --out "$TEST_DIR/alone"
check 'the plugin runs in version order without --allow-out-of-order' 0 \
	'^  applied   1700000000000-PluginThing ' '^$' strata migrations run
like '... both of its migrations' "$out" '^applied 2 migrations in '
is '... recorded as in order' "$(history)" \
	'1732233500000-CoreFirst:0,1732233600000-CoreThing:0,1700000000000-PluginThing:0,1732233650000-PluginAlter:0'
check 'show lists every source, in version order' 0 \
	'^4 migrations: 4 applied, 0 pending \(sqlite:strata\.db\)$' '^$' strata migrations show
is '... in version order' "$(printf '%s\n' "$out" | awk '$1 == "applied" {print $3}' | paste -sd, -)" \
	PluginThing,CoreFirst,CoreThing,PluginAlter
check 'validate checks every build' 0 '^ok: 4 migrations; every build matches its manifest and src; ' '^$' \
	strata migrations validate

# revert: the most recently applied first
check 'revert undoes the most recently applied migration (the highest version here)' 0 \
	'^  reverted  1732233650000-PluginAlter ' '^$' strata migrations revert
check '--steps 2: the two most recently applied' 0 '^reverted 2 migrations in ' \
	'^strata: reverting 1700000000000-PluginThing, the most recently applied; 1732233600000-CoreThing has a higher version$' \
	strata migrations revert --steps 2
is '... PluginThing, then CoreThing' "$(printf '%s\n' "$out" | awk '$1 == "reverted" && NF == 4 {print $2}' | paste -sd, -)" \
	1700000000000-PluginThing,1732233600000-CoreThing
is '... the history' "$(history)" '1732233500000-CoreFirst:0'
check 'run applies them again' 0 '^applied 3 migrations in ' '^$' strata migrations run
check 'revert of the highest version says nothing more' 0 '^  reverted  1732233650000-PluginAlter ' '^$' \
	strata migrations revert
check '--to chooses by version' 0 '^  reverted  1732233600000-CoreThing ' '^$' \
	strata migrations revert --to 1732233500000
is '... everything above it is reverted' "$(history)" '1732233500000-CoreFirst:0,1700000000000-PluginThing:0'
check 'run again' 0 '^applied 2 migrations in ' '^$' strata migrations run

# a late migration inside one source is still out of order
table $core 1732233550000-CoreLate.sql core_late
strata build >/dev/null
check 'a late migration inside the core is refused' 1 '^$' \
	'^strata: error: src/migrations/1732233550000-CoreLate\.sql: 1 pending migration is out of order$' \
	strata migrations run
like '... older than the newest of its own source' "$err" \
	'^detail: 1732233550000-CoreLate is older than 1732233600000-CoreThing, the newest applied migration of its directory$'
check '... and applied with --allow-out-of-order' 0 '^  applied   1732233550000-CoreLate ' '^$' \
	strata migrations run --allow-out-of-order
like '... recorded as out of order' "$(history)" '1732233550000-CoreLate:1$'

# every build's freshness: the plugin's, listed second
table $plug 1732233700000-PluginMore.sql plugin_more
check "a plugin's migration that is not built is refused" 1 '^$' \
	"^strata: error: $plug/1732233700000-PluginMore\\.sql: migration is not built yet\$" \
	strata migrations run
strata build >/dev/null

# --dir overrides the list
check '--dir overrides the sources' 0 \
	'^5 migrations: 3 applied, 0 pending, 2 applied but missing on disk' '^$' \
	strata migrations show --dir dist/migrations

# seed reads the list: the plugin's pending migration first
printf '{"plugin_more": [{"id": 1}, {"id": 2}]}\n' >seed.json
check 'seed applies every source, then loads' 0 '^seeded 2 rows from 1 file' '^$' strata seed -f seed.json
like '... the pending plugin migration first' "$out" '^  applied   1732233700000-PluginMore '

# bad "sources" values: strata.json and what is wrong, with an example; nothing changes
before=$(history)
bad() { # NAME JSON MESSAGE
	printf '%s\n' "$2" >strata.json
	check "$1" 1 '^$' "^strata: error: strata\\.json: bad \"sources\": $3\$" strata migrations run
	like '... with an example' "$err" '^hint: each source is a directory of migrations, or a build, for example "sources": \[\{"name": "core", '
}
bad 'sources not a list' '{"sources": "src/migrations"}' 'it must be a list'
bad 'an empty list' '{"sources": []}' 'the list is empty'
bad 'an entry that is a number' '{"sources": [1]}' 'source 1 is neither a directory nor an object'
bad 'an empty directory' '{"sources": ["dist/migrations", ""]}' '"dist" of source 2 must be a directory \(a string\)'
bad 'an object without dist' '{"sources": [{"name": "core", "src": "src/migrations"}]}' \
	'source 1 has no "dist" \(the directory its migrations are read from\)'
bad 'an unknown key' '{"sources": [{"dir": "x", "dist": "dist/migrations"}]}' \
	"source 1 has an unknown key 'dir' \\(name, src, dist\\)"
bad 'two sources with one name' '{"sources": [{"name": "a", "dist": "dist/migrations"}, {"name": "a", "dist": "plugins/reviews/dist/migrations"}]}' \
	"sources 1 and 2 are both named 'a'"
bad 'sources with src_dir' '{"src_dir": "x", "sources": ["dist/migrations"]}' \
	'it replaces "src_dir" and "dist_dir": give one or the other'
is '... nothing changed' "$(history)" "$before"

# a string entry is a directory used as is
printf '{"sources": ["dist/migrations", "plugins/reviews/dist/migrations"]}\n' >strata.json
check 'string entries are directories used as is' 0 '^nothing to run: 6 migrations, all applied' '^$' \
	strata migrations run
check '... build has nothing to build' 0 '^nothing to build: every source in strata\.json is a directory used as is$' '^$' \
	strata build
done_testing
