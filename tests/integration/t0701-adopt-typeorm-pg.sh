#!/usr/bin/env bash
# strata migrations adopt --from typeorm, against the real TypeORM (npm's typeorm and pg) on
# PostgreSQL, in a Medusa-like project: JS migration classes (class CreateUsers1732233600000
# { async up(q) { await q.query(...) } ... }) run by DataSource.runMigrations, as Medusa's
# `medusa migrations run` does (tests/peers/typeorm-run.cjs). TypeORM has run the first K of
# the N, plus one migration strata has no file for; strata's sources hold the same SQL as
# <timestamp>-<Name>.sql. adopt matches TypeORM's class name <Name><timestamp> to the strata
# migration <timestamp>-<Name>, reports the extra one as "only in typeorm", and the run after it
# applies exactly the rest.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/adopt-lib.sh"
need_pg
need_peer typeorm
DB_KIND=pg

# timestamp name up-SQL down-SQL
M=(
	"1732233600000 CreateUsers|create table users (id bigserial primary key, email text not null)|drop table users"
	"1732233700000 CreateOrders|create table orders (id bigserial primary key, user_id bigint references users)|drop table orders"
	"1732233800000 AddUserName|alter table users add column name text|alter table users drop column name"
	"1732233900000 CreateProducts|create table products (id bigserial primary key, title text)|drop table products"
)
N=${#M[@]} K=2
# the class TypeORM ran that strata's sources do not have (a fix made in production only)
LEGACY=LegacyFix1732233650000

cls() { # DIR CLASS UP DOWN: a migration class as Medusa's compiled TypeScript has it
	mkdir -p "$1"
	cat >"$1/${2:(-13)}-${2%?????????????}.js" <<JS
'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
exports.$2 = void 0;
class $2 {
  constructor() { this.name = '$2'; }
  async up(queryRunner) { await queryRunner.query(\`$3\`); }
  async down(queryRunner) { await queryRunner.query(\`$4\`); }
}
exports.$2 = $2;
JS
}

i=0
for m in "${M[@]}"; do
	i=$((i + 1))
	IFS='|' read -r vn up down <<<"$m"
	v=${vn% *} n=${vn#* }
	mig src "$v-$n.sql" "-- migrate:up\n$up;\n\n-- migrate:down\n$down;\n"
	[ "$i" -le "$K" ] && cls typeorm "$n$v" "$up" "$down"
done
cls typeorm "$LEGACY" "create table legacy_fix (x int)" "drop table legacy_fix"

check "TypeORM runs its $((K + 1)) migrations" 0 "^ran $LEGACY\$" '' typeorm typeorm run
like "... the first of them" "$out" '^ran CreateUsers1732233600000$'
is "... its table holds them in order" "$(pg_q 'select timestamp || $$ $$ || name from migrations order by id' | tr '\n' ',')" \
	"1732233600000 CreateUsers1732233600000,1732233650000 $LEGACY,1732233700000 CreateOrders1732233700000,"
is "... and the tables are there" "$(db_tables)" "legacy_fix,migrations,orders,users"
before=$(tbl_dump migrations)

check "adopt --dry-run --json (TypeORM detected)" 0 '' '' \
	strata --database-url "$PG_URL" migrations adopt --dir src --dry-run --json
is "... the sets" "$(adopt_sets)" \
	"tool=typeorm dry_run=true adopted=1732233600000-CreateUsers=CreateUsers1732233600000,1732233700000-CreateOrders=CreateOrders1732233700000 only=$LEGACY pending=1732233800000-AddUserName,1732233900000-CreateProducts"
like "... the table is TypeORM's" "$out" '"table": *"([a-z_]+\.)?migrations"'
is "... nothing written" "$(strata_rows)" none

check "adopt --from typeorm" 0 '' '' strata --database-url "$PG_URL" migrations adopt --from typeorm --dir src
adopt_text "... names the adopted, the pending and the one only in typeorm" typeorm \
	"1732233600000-CreateUsers 1732233700000-CreateOrders" "1732233800000-AddUserName 1732233900000-CreateProducts" "$LEGACY"
is "... strata's history holds exactly the $K" "$(db_history)" "1732233600000-CreateUsers,1732233700000-CreateOrders"
checksums_match "... each with its file's checksum" src
is "... TypeORM's migrations table is byte-for-byte unchanged" "$(tbl_dump migrations)" "$before"
check "show --json: $K applied" 0 "\"applied\": $K," '^$' strata --database-url "$PG_URL" migrations show --dir src --json
like "... $((N - K)) pending" "$out" "\"pending\": $((N - K)),"

check "migrations run applies the other $((N - K))" 0 "^applying $((N - K)) migrations to " '^$' \
	strata --database-url "$PG_URL" migrations run --dir src
unlike "... not one TypeORM ran" "$out" 'applied   (1732233600000|1732233700000)-'
unlike "... no 'already exists'" "$out$err" 'already exists'
is "... users has its new column" "$(pg_q "select string_agg(column_name, ',' order by ordinal_position) from information_schema.columns where table_name = 'users'")" "id,email,name"
is "... and products is there" "$(db_tables)" "legacy_fix,migrations,orders,products,strata_migrations,users"
is "... history: all $N" "$(db_history)" \
	"1732233600000-CreateUsers,1732233700000-CreateOrders,1732233800000-AddUserName,1732233900000-CreateProducts"
refused "adopt again" migrations "$before" 'already' \
	strata --database-url "$PG_URL" migrations adopt --from typeorm --dir src
is "... the history is still all $N" "$(db_history | tr ',' '\n' | wc -l)" "$N"
check "TypeORM still reads its table (nothing pending for it)" 0 '^up to date$' '' typeorm typeorm show
done_testing
