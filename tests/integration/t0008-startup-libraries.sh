#!/usr/bin/env bash
# What a command loads (issue 15, cold start): libpq, and what it brings (libssl, GSSAPI, LDAP),
# only when strata connects to PostgreSQL; --version, --help, build and every command on SQLite
# start without it. Read from the dynamic loader's own log (LD_DEBUG=libs).
. "$(dirname "$0")/lib.sh"

# libs_of ARGS...: the shared libraries strata opened, one per line, from the loader's log
libs_of() {
	LD_DEBUG=libs LD_DEBUG_OUTPUT="$TEST_DIR/ld" "$STRATA" "$@" >/dev/null 2>&1
	sed -n 's/.*calling init: \(.*\)$/\1/p' "$TEST_DIR"/ld.* | sed 's|.*/||' | sort -u
	rm -f "$TEST_DIR"/ld.*
}

mig src/migrations 1-a.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
is "--version: no libpq" "$(libs_of --version | grep -c '^libpq')" 0
like "... the loader's log was read (libc is there)" "$(libs_of --version)" '^libc\.so'
is "--help: no libpq" "$(libs_of --help | grep -c '^libpq')" 0
is "build: no libpq" "$(libs_of build | grep -c '^libpq')" 0
is "migrations run on SQLite: no libpq" "$(libs_of --database-url sqlite:s.db migrations run | grep -c '^libpq')" 0
is "... it ran" "$(sq_q s.db "select count(*) from strata_migrations")" 1
is "migrations show on SQLite: no libpq" "$(libs_of --database-url sqlite:s.db migrations show | grep -c '^libpq')" 0
if pg_available; then
	need_pg
	is "migrations show on PostgreSQL: libpq, loaded when it connects" \
		"$(libs_of --database-url "$PG_URL" migrations show | grep -c '^libpq\.so\.5')" 1
	check "... and the command works" 0 '^1 migration: 0 applied, 1 pending' '^$' \
		strata --database-url "$PG_URL" migrations show
else
	skip "PostgreSQL: libpq loaded when strata connects" "no PostgreSQL server"
fi
done_testing
