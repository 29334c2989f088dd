#!/usr/bin/env bash
# migrations revert on PostgreSQL undoes the most recently applied migration (applied_at order):
# the rows a --transaction all run writes share its applied_at (now()), and are undone in the
# reverse of the order that run applied them in (version order).
. "$(dirname "$0")/lib.sh"
need_pg

mkdir p && cd p || bail "no project directory"
printf '{"database_url": "%s", "sources": ["core", "plugin"]}\n' "$PG_URL" >strata.json
table() { # DIR FILE TABLE
	mig "$1" "$2" "-- migrate:up\ncreate table $3 (id integer primary key);\n-- migrate:down\ndrop table $3;\n"
}
by_order() { pg_q "select string_agg(name, ',' order by applied_at, name) from strata_migrations"; }
table core 1732233500000-CoreFirst.sql core_first
table core 1732233600000-CoreThing.sql core_thing
mkdir plugin
check 'the core' 0 '^applied 2 migrations in ' '^$' strata migrations run
table plugin 1700000000000-PluginA.sql plugin_a
table plugin 1700000000001-PluginB.sql plugin_b
check 'the plugin, later, in one transaction, without --allow-out-of-order' 0 \
	'^applied 2 migrations in ' '^$' strata migrations run --transaction all
is '... its two rows share one applied_at' \
	"$(pg_q "select count(distinct applied_at) from strata_migrations where name like 'Plugin%'")" 1
is '... after the core' "$(by_order)" CoreFirst,CoreThing,PluginA,PluginB

check 'revert undoes the last one of that transaction, and says so' 0 '^  reverted  1700000000001-PluginB ' \
	'^strata: reverting 1700000000001-PluginB, the most recently applied; 1732233600000-CoreThing has a higher version$' \
	strata migrations revert
check 'again: the one before it' 0 '^  reverted  1700000000000-PluginA ' 'has a higher version$' \
	strata migrations revert
check 'then the core' 0 '^  reverted  1732233600000-CoreThing ' '^$' strata migrations revert
is '... left' "$(by_order)" CoreFirst

# --transaction all across both sources: the order of the run (version order)
check 'all of it in one transaction' 0 '^applied 3 migrations in ' '^$' strata migrations run --transaction all
is '... one applied_at' "$(pg_q "select count(distinct applied_at) from strata_migrations where name <> 'CoreFirst'")" 1
check '--steps 2: the last two of that run' 0 '^reverted 2 migrations in ' \
	'^strata: reverting 1700000000001-PluginB, the most recently applied; 1732233500000-CoreFirst has a higher version$' \
	strata migrations revert --steps 2
is '... CoreThing, then PluginB' "$(printf '%s\n' "$out" | awk '$1 == "reverted" && NF == 4 {print $2}' | paste -sd, -)" \
	1732233600000-CoreThing,1700000000001-PluginB

done_testing
