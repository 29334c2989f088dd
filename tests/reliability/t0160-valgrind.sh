#!/usr/bin/env bash
# Memory: the CLI's common paths (create, build, run, show, show --json, revert, validate,
# seed, a failing migration, a bad connection) on SQLite and PostgreSQL, once each under
# valgrind memcheck with a non-sanitized build: zero errors and zero leaks (definite, indirect
# and possible; memory that libpq/OpenSSL keep reachable until exit is not a leak).
# The short run leaves out dry-run, validate, show (text) and usage errors.
# The binary: $VALGRIND_STRATA, else build-valgrind/strata (built here when missing or stale).
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip_all "no valgrind (apt-get install valgrind)"
VG_BIN=${VALGRIND_STRATA:-}
if [ -z "$VG_BIN" ]; then
	B=$ROOT/build-valgrind
	{ cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=OFF \
		-DSTRATA_TESTS=OFF && ninja -C "$B" strata; } >build.log 2>&1 || bail "cannot build $B: $(tail -5 build.log)"
	VG_BIN=$B/strata
fi
vg_runs=0 vg_bad=0
vg() { # NAME EXPECTED_EXIT ARGS...: runs strata under memcheck
	local name=$1 want=$2
	shift 2
	vg_runs=$((vg_runs + 1))
	run valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--log-file="$TEST_DIR/vg.%p.log" "$VG_BIN" "$@"
	local log
	log=$(cat "$TEST_DIR"/vg.*.log 2>/dev/null)
	rm -f "$TEST_DIR"/vg.*.log
	if [ "$rc" = "$want" ] && [ -z "$log" ]; then
		ok "valgrind: $name"
	else
		vg_bad=$((vg_bad + 1))
		not_ok "valgrind: $name (exit $rc, wanted $want)"
		diag "$(head -40 <<<"$log")" "$err"
	fi
}

paths() {
	local k=$1
	new_db "$k"
	rm -rf p && mkdir p && cd p || bail cd
	vg "$k: migration:create" 0 migration:create -n CreateA
	f=$(ls src/migrations/*.sql)
	printf -- '-- migrate:up\ncreate table a (id int primary key, x text);\n-- migrate:down\ndrop table a;\n' >"$f"
	mig src/migrations 9999999999998-B.sql '-- migrate:up transaction:false\ncreate table b (x int);\ninsert into b values (1);\n-- migrate:down\ndrop table b;\n'
	vg "$k: build" 0 build
	[ "$MODE" = long ] && vg "$k: run --dry-run" 0 --database-url "$DB_URL" migrations run --dry-run
	vg "$k: run" 0 --database-url "$DB_URL" -v migrations run
	[ "$MODE" = long ] && vg "$k: show" 0 --database-url "$DB_URL" migrations show
	vg "$k: show --json" 0 --database-url "$DB_URL" migrations show --json
	[ "$MODE" = long ] && vg "$k: validate" 0 --database-url "$DB_URL" migrations validate
	printf '{"a": [{"id": 1, "x": "one"}, {"id": 2, "x": null}]}\n' >seed.json
	vg "$k: seed" 0 --database-url "$DB_URL" seed -f seed.json
	vg "$k: revert --all" 0 --database-url "$DB_URL" migrations revert --all
	mig src/migrations 9999999999999-Bad.sql '-- migrate:up\nselect * from nope;\n-- migrate:down\n'
	vg "$k: build refuses a bad migration" 1 build
	mkdir bad && mv src/migrations/9999999999999-Bad.sql bad/
	vg "$k: a failing migration" 1 --database-url "$DB_URL" migrations run --dir bad
	[ "$MODE" = long ] && vg "$k: a usage error" 2 --database-url "$DB_URL" migrations run --bogus
	cd ..
}
paths sqlite
if pg_available; then
	paths pg
	vg "pg: a refused connection" 1 --database-url postgres://u:pw@127.0.0.1:1/x migrations show --dir .
	vg "pg: --wait-timeout" 1 --database-url postgres://u:pw@127.0.0.1:1/x --wait-timeout 300ms migrations show --dir .
else
	skip 'valgrind on PostgreSQL' 'no PostgreSQL server'
fi
figure valgrind.runs "$vg_runs"
figure valgrind.failures "$vg_bad"
done_testing
