#!/usr/bin/env bash
# strata migrations adopt --from sqitch, against Debian's sqitch (DBD::Pg, DBD::SQLite): a
# sqitch project (sqitch init, sqitch add, deploy/revert/verify scripts) deployed with
# `sqitch deploy --verify --to <change>`; strata's sources hold the same SQL as
# 0001-<change>.sql and so on. adopt matches sqitch's change name to the strata migration's name
# (the version is strata's own), reports a change strata has no file for as "only in sqitch",
# refuses a change name two strata migrations carry and a registry with several projects, and
# never touches sqitch's registry.
# PostgreSQL: the registry is the schema sqitch (table sqitch.changes). SQLite: sqitch keeps its
# registry in a file of its own beside the database (sqitch.db) unless --registry names the
# database itself; adopt reads only the database: with the registry in it, it adopts; with the
# registry beside it, the table is absent and adopt refuses.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/adopt-lib.sh"
need_peer sqitch sqitch-sqlite
export SQITCH_USER_CONFIG=/dev/null SQITCH_SYSTEM_CONFIG=/dev/null

# change|up SQL|down SQL; seed_roles is in sqitch's plan only
C=(
	"create_users|create table users (id integer primary key, email text not null)|drop table users"
	"seed_roles|create table roles (name text primary key)|drop table roles"
	"create_orders|create table orders (id integer primary key, user_id integer references users)|drop table orders"
	"add_user_name|alter table users add column name text|alter table users drop column name"
	"create_products|create table products (id integer primary key, title text)|drop table products"
)
K_TO=create_orders # deployed through it: create_users, seed_roles, create_orders

# project DIR NAME ENGINE: a sqitch project made with sqitch's own commands
project() {
	local d=$1 c up down
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		sqitch init "$2" --engine "$3" >/dev/null &&
			sqitch config user.name tester && sqitch config user.email tester@example.com &&
			for x in "${C[@]}"; do
				IFS='|' read -r c up down <<<"$x"
				sqitch add "$c" -n "$c" >/dev/null || exit 1
				printf 'BEGIN;\n%s;\nCOMMIT;\n' "$up" >"deploy/$c.sql"
				printf 'BEGIN;\n%s;\nCOMMIT;\n' "$down" >"revert/$c.sql"
				printf 'BEGIN;\nselect 1;\nROLLBACK;\n' >"verify/$c.sql"
			done
	) || bail "sqitch init/add failed in $d"
}
# strata's sources: every change but seed_roles, numbered 0001.. in plan order
i=0
for x in "${C[@]}"; do
	IFS='|' read -r c up down <<<"$x"
	[ "$c" = seed_roles ] && continue
	i=$((i + 1))
	mig src "000$i-$c.sql" "-- migrate:up\n$up;\n\n-- migrate:down\n$down;\n"
done
# the same plus a second migration named create_users: sqitch's create_users is ambiguous there
cp -r src src_twice
mig src_twice 0009-create_users.sql '-- migrate:up\nselect 1;\n'

ADOPTED="0001-create_users=create_users,0002-create_orders=create_orders"
PENDING="0003-add_user_name,0004-create_products"

# adopt_scenario KIND TARGET REGISTRY_TABLE [--from sqitch]: the checks once sqitch deployed
adopt_scenario() {
	local k=$1 target=$2 rt=$3 before
	shift 3
	before=$(tbl_dump "$rt")
	refused "$k: a change name two strata migrations carry" "$rt" "$before" 'create_users' \
		strata --database-url "$DB_URL" migrations adopt --from sqitch --dir src_twice
	check "$k: adopt --dry-run --json" 0 '' '' \
		strata --database-url "$DB_URL" migrations adopt "$@" --dir src --dry-run --json
	is "$k: ... the sets" "$(adopt_sets)" \
		"tool=sqitch dry_run=true adopted=$ADOPTED only=seed_roles pending=$PENDING"
	is "$k: ... nothing written" "$(strata_rows)" none
	check "$k: adopt --from sqitch" 0 '' '' \
		strata --database-url "$DB_URL" migrations adopt --from sqitch --dir src
	adopt_text "$k: ... names the adopted, pending and sqitch-only" sqitch \
		"0001-create_users 0002-create_orders" "0003-add_user_name 0004-create_products" seed_roles
	is "$k: ... strata's history holds exactly those 2" "$(db_history)" "0001-create_users,0002-create_orders"
	checksums_match "$k: ... each with its file's checksum" src
	is "$k: ... sqitch's registry byte-for-byte unchanged" "$(tbl_dump "$rt")" "$before"
	check "$k: migrations run applies the other 2" 0 '^applying 2 migrations to ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir src
	unlike "$k: ... no 'already exists'" "$out$err" 'already exists'
	is "$k: ... history: all 4" "$(db_history)" \
		"0001-create_users,0002-create_orders,0003-add_user_name,0004-create_products"
	like "$k: ... products is there" "$(db_tables)" '(^|,)products(,|$)'
	check "$k: sqitch status still reads its registry" 0 "^# Name: +$K_TO\$" '' \
		env -C "sq_$k" sqitch status --target "$target" $SQ_REG
	like "$k: ... and has two undeployed changes" "$out" '^Undeployed changes:$'
}

# ---- SQLite, the registry in the database file (sqitch --registry FILE): the table changes
new_db sqlite
project sq_sqlite flipr sqlite
T="db:sqlite:$DB_FILE"
SQ_REG="--registry $DB_FILE"
check "sqlite: sqitch deploy --verify --to $K_TO, registry in the database" 0 "^  \\+ $K_TO \\.\\. ok\$" '' \
	env -C sq_sqlite sqitch deploy --verify --to "$K_TO" --target "$T" --registry "$DB_FILE"
is "sqlite: ... its registry holds the 3 changes" \
	"$(dbq 'select change from changes order by committed_at' | tr '\n' ' ')" "create_users seed_roles create_orders "
adopt_scenario sqlite "$T" "changes projects events tags dependencies releases" --from sqitch

# ---- SQLite, the registry beside the database (sqitch's default: sqitch.db in its directory)
new_db sqlite
mkdir beside
DB_FILE=$TEST_DIR/beside/app.db DB_URL=sqlite:$TEST_DIR/beside/app.db
project sq_beside flipr sqlite
check "sqlite: sqitch deploy, registry beside the database" 0 "^  \\+ $K_TO \\.\\. ok\$" '' \
	env -C sq_beside sqitch deploy --to "$K_TO" --target "db:sqlite:$DB_FILE"
reg=$(sqlite3 beside/sqitch.db .dump)
like "sqlite: ... (in beside/sqitch.db)" "$reg" 'create_orders'
check "sqlite: adopt --from sqitch without sqitch's table in the database: refused" 1 '' 'sqitch|changes' \
	strata --database-url "$DB_URL" migrations adopt --from sqitch --dir src
is "sqlite: ... nothing written" "$(strata_rows)" none
is "sqlite: ... sqitch.db unchanged" "$(sqlite3 beside/sqitch.db .dump)" "$reg"

# ---- PostgreSQL: the registry schema sqitch
if pg_available; then
	new_db pg
	project sq_pg flipr pg
	T="db:pg://$PGUSER:${PGPASSWORD:-}@$PGHOST:${PGPORT:-5432}/$PG_DB"
	SQ_REG=
	check "pg: sqitch deploy --verify --to $K_TO" 0 "^  \\+ $K_TO \\.\\. ok\$" '' \
		env -C sq_pg sqitch deploy --verify --to "$K_TO" --target "$T"
	is "pg: ... its registry holds the 3 changes" \
		"$(pg_q 'select change from sqitch.changes order by committed_at' | tr '\n' ' ')" "create_users seed_roles create_orders "
	adopt_scenario pg "$T" 'sqitch.*'

	# two projects in one registry: refused, with a hint
	new_db pg
	T="db:pg://$PGUSER:${PGPASSWORD:-}@$PGHOST:${PGPORT:-5432}/$PG_DB"
	project sq_two flipr pg
	C=("${C[@]:0:1}")
	sed -i 's/create table users/create table other_users/; s/users/other_users/' sq_two/deploy/create_users.sql
	project sq_other other pg
	sed -i 's/create table users/create table other_users2/' sq_other/deploy/create_users.sql
	check "pg: two projects deployed into one registry" 0 '' '' \
		bash -c "env -C sq_two sqitch deploy --to create_users --target '$T' && env -C sq_other sqitch deploy --target '$T'"
	is "pg: ... (two projects)" "$(pg_q 'select count(*) from sqitch.projects')" 2
	refused "pg: several sqitch projects" 'sqitch.*' "$(tbl_dump 'sqitch.*')" 'project' \
		strata --database-url "$DB_URL" migrations adopt --from sqitch --dir src
	like "pg: ... with a hint" "$err" '^hint: '
else
	skip "sqitch on PostgreSQL" "no PostgreSQL server"
fi
done_testing
