#!/usr/bin/env bash
# What a command loads (issue 15, cold start): libpq, and what it brings (libssl, GSSAPI, LDAP),
# only when strata connects to PostgreSQL; --version, --help, build and every command on SQLite
# start without it. libpg_query only when PostgreSQL's SQL is split or parsed: build and lint,
# a run that checks a file with a word that may start BEGIN, COMMIT and the like; not a run of
# files without one, --version, show, a run with nothing to do, nor anything on SQLite. Read from the dynamic loader's own log (LD_DEBUG=libs).
. "$(dirname "$0")/lib.sh"

# libs_of ARGS...: the shared libraries strata opened, one per line, from the loader's log
libs_of() {
	LD_DEBUG=libs LD_DEBUG_OUTPUT="$TEST_DIR/ld" "$STRATA" "$@" >/dev/null 2>&1
	sed -n 's/.*calling init: \(.*\)$/\1/p' "$TEST_DIR"/ld.* | sed 's|.*/||' | sort -u
	rm -f "$TEST_DIR"/ld.*
}

mig src/migrations 1-a.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
is "--version: no libpq" "$(libs_of --version | grep -c '^libpq')" 0
is "--version: no libpg_query" "$(libs_of --version | grep -c '^libpg_query')" 0
like "... the loader's log was read (libc is there)" "$(libs_of --version)" '^libc\.so'
is "--help: no libpq" "$(libs_of --help | grep -c '^libpq')" 0
is "build: no libpq" "$(libs_of build | grep -c '^libpq')" 0
is "build for SQLite: no libpg_query" "$(libs_of build | grep -c '^libpg_query')" 0
is "build for PostgreSQL: libpg_query, which parses each file" \
	"$(libs_of build --dialect postgres | grep -c '^libpg_query')" 1
is "lint for PostgreSQL: libpg_query" "$(libs_of lint --dialect postgres | grep -c '^libpg_query')" 1
is "migrations run on SQLite: no libpq" "$(libs_of --database-url sqlite:s.db migrations run | grep -c '^libpq')" 0
is "... it ran" "$(sq_q s.db "select count(*) from strata_migrations")" 1
is "migrations show on SQLite: no libpq" "$(libs_of --database-url sqlite:s.db migrations show | grep -c '^libpq')" 0
rm s.db
is "migrations run on SQLite: no libpg_query" "$(libs_of --database-url sqlite:s.db migrations run | grep -c '^libpg_query')" 0
is "... it ran" "$(sq_q s.db "select count(*) from strata_migrations")" 1
# without libpg_query (an empty file of its name found first, through LD_LIBRARY_PATH, which
# the dynamic loader searches before its cache: no mount namespace, so it runs in a chroot
# too): a build for PostgreSQL says what to install, changing nothing; a run on SQLite does
# not need it
pgq=$(ldconfig -p | sed -n 's/^[[:space:]]*libpg_query\.so\.[0-9.]* .*=> //p' | head -1)
if [ -n "$pgq" ]; then
	mkdir -p nolib && : >"nolib/$(basename "$pgq")"
	hidden() { LD_LIBRARY_PATH="$PWD/nolib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$STRATA" "$@"; }
	rm -rf dist s.db
	run hidden build --dialect postgres
	is "no libpg_query: build for PostgreSQL fails" "$rc" 1
	like "... saying why" "$err" "^strata: error: cannot load libpg_query to read PostgreSQL's SQL: "
	like "... and what to install" "$err" '^hint: install libpg_query \(Debian: apt-get install libpg-query[0-9.]+\)$'
	is "... and writes nothing" "$(ls -d dist 2>/dev/null)" ""
	check "... a run on SQLite works without it" 0 '^applied 1 migration in ' '^$' \
		hidden --database-url sqlite:s.db migrations run --dir src/migrations
	check "... (built again, with it)" 0 '^built 1 migration' '^$' strata build
else
	skip "without libpg_query" "no libpg_query in ldconfig's cache"
fi
if pg_available; then
	need_pg
	is "migrations show on PostgreSQL: libpq, loaded when it connects" \
		"$(libs_of --database-url "$PG_URL" migrations show | grep -c '^libpq\.so\.5')" 1
	check "... and the command works" 0 '^1 migration: 0 applied, 1 pending' '^$' \
		strata --database-url "$PG_URL" migrations show
	is "... no libpg_query" "$(libs_of --database-url "$PG_URL" migrations show | grep -c '^libpg_query')" 0
	is "migrations run on PostgreSQL, a file with no BEGIN, END, COMMIT...: no libpg_query" \
		"$(libs_of --database-url "$PG_URL" migrations run --dir src/migrations | grep -c '^libpg_query')" 0
	is "... it ran" "$(pg_q "select count(*) from strata_migrations")" 1
	mig src/migrations 2-f.sql '-- migrate:up\ncreate function f() returns int language plpgsql as $$\n  begin return 1; end $$;\n-- migrate:down\ndrop function f();\n'
	is "a file with such a word (a function body's BEGIN): libpg_query, to split it and check it" \
		"$(libs_of --database-url "$PG_URL" migrations run --dir src/migrations | grep -c '^libpg_query')" 1
	is "... it ran" "$(pg_q "select count(*) from strata_migrations")" 2
	is "nothing to run: no libpg_query" \
		"$(libs_of --database-url "$PG_URL" migrations run --dir src/migrations | grep -c '^libpg_query')" 0
	is "revert of a down section without such a word: no libpg_query" \
		"$(libs_of --database-url "$PG_URL" migrations revert --dir src/migrations | grep -c '^libpg_query')" 0
	is "... it reverted" "$(pg_q "select count(*) from strata_migrations")" 1
else
	skip "PostgreSQL: libpq loaded when strata connects" "no PostgreSQL server"
fi
done_testing
