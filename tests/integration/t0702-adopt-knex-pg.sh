#!/usr/bin/env bash
# strata migrations adopt --from knex, against knex's own CLI (npm's knex and pg) on PostgreSQL:
# knex applies the first K of N .js migrations (20241101120000_create_users.js wrapping its SQL
# in knex.raw) with migrate:up (batch 1) and migrate:latest (batch 2) on a directory holding
# those K; strata's sources hold the same SQL as 20241101120000_create_users.sql. adopt matches
# knex's file name (extension dropped) to the strata migration, leaves knex_migrations and
# knex_migrations_lock as they are, and refuses while knex's lock is held.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/adopt-lib.sh"
need_pg
need_peer knex
DB_KIND=pg

M=(
	"20241101120000 create_users|create table users (id bigserial primary key, email text not null)|drop table users"
	"20241101130000 create_orders|create table orders (id bigserial primary key, user_id bigint references users)|drop table orders"
	"20241102090000 add_user_name|alter table users add column name text|alter table users drop column name"
	"20241105000000 create_products|create table products (id bigserial primary key, title text)|drop table products"
	"20241201000000 create_carts|create table carts (id bigserial primary key)|drop table carts"
)
N=${#M[@]} K=3
i=0
for m in "${M[@]}"; do
	i=$((i + 1))
	IFS='|' read -r vn up down <<<"$m"
	v=${vn% *} n=${vn#* }
	mig src "${v}_$n.sql" "-- migrate:up\n$up;\n\n-- migrate:down\n$down;\n"
	[ "$i" -le "$K" ] &&
		mig knex "${v}_$n.js" "exports.up = (knex) => knex.raw(\`$up\`);\nexports.down = (knex) => knex.raw(\`$down\`);\n"
done

check "knex migrate:up applies the first" 0 '' '' knex knex migrate:up
check "knex migrate:latest the next $((K - 1))" 0 "Batch 2 run: $((K - 1)) migrations" '' knex knex migrate:latest
is "... knex_migrations holds the $K file names, in two batches" \
	"$(pg_q "select name || ':' || batch from knex_migrations order by id" | tr '\n' ' ')" \
	"20241101120000_create_users.js:1 20241101130000_create_orders.js:2 20241102090000_add_user_name.js:2 "
is "... its lock is free" "$(pg_q 'select is_locked from knex_migrations_lock')" 0
before=$(tbl_dump knex_migrations)
lock_before=$(tbl_dump knex_migrations_lock)

# knex's lock held (a knex migrate in progress elsewhere): refused
pg_q 'update knex_migrations_lock set is_locked = 1' >/dev/null
lock_held=$(tbl_dump knex_migrations_lock)
refused "knex's lock held" knex_migrations "$before" 'lock' \
	strata --database-url "$PG_URL" migrations adopt --from knex --dir src
is "... the lock row is left held" "$(tbl_dump knex_migrations_lock)" "$lock_held"
refused "knex's lock held, without --from" knex_migrations "$before" 'lock' \
	strata --database-url "$PG_URL" migrations adopt --dir src
pg_q 'update knex_migrations_lock set is_locked = 0' >/dev/null
is "... (lock freed by hand: as knex left it)" "$(tbl_dump knex_migrations_lock)" "$lock_before"

check "adopt --dry-run --json (knex detected)" 0 '' '' \
	strata --database-url "$PG_URL" migrations adopt --dir src --dry-run --json
is "... the sets" "$(adopt_sets)" \
	"tool=knex dry_run=true adopted=20241101120000-create_users=20241101120000_create_users.js,20241101130000-create_orders=20241101130000_create_orders.js,20241102090000-add_user_name=20241102090000_add_user_name.js only= pending=20241105000000-create_products,20241201000000-create_carts"
is "... nothing written" "$(strata_rows)" none

check "adopt --from knex" 0 '' '' strata --database-url "$PG_URL" migrations adopt --from knex --dir src
adopt_text "... names the $K adopted and $((N - K)) pending" knex \
	"20241101120000 20241101130000 20241102090000" "20241105000000 20241201000000" ""
is "... strata's history holds exactly the $K" "$(db_history)" \
	"20241101120000-create_users,20241101130000-create_orders,20241102090000-add_user_name"
checksums_match "... each with its file's checksum" src
is "... knex_migrations byte-for-byte unchanged" "$(tbl_dump knex_migrations)" "$before"
is "... knex_migrations_lock too" "$(tbl_dump knex_migrations_lock)" "$lock_before"
check "show --json: $K applied" 0 "\"applied\": $K," '^$' strata --database-url "$PG_URL" migrations show --dir src --json

check "migrations run applies the other $((N - K))" 0 "^applying $((N - K)) migrations to " '^$' \
	strata --database-url "$PG_URL" migrations run --dir src
unlike "... no 'already exists'" "$out$err" 'already exists'
is "... their tables are there" "$(db_tables)" \
	"carts,knex_migrations,knex_migrations_lock,orders,products,strata_migrations,users"
is "... history: all $N" "$(db_history)" "20241101120000-create_users,20241101130000-create_orders,20241102090000-add_user_name,20241105000000-create_products,20241201000000-create_carts"
check "knex migrate:list still reads its table" 0 "Found $K Completed Migration file" '' knex knex migrate:list
done_testing
