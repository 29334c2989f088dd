#!/usr/bin/env bash
# strata migrations adopt from TypeORM and knex on SQLite. Both support SQLite, but through a
# native npm module (sqlite3 / better-sqlite3) that npm cannot build here, so their tables are
# made as their sources make them on SQLite, and filled as each leaves them after applying the
# first two of three migrations:
# - TypeORM: src/migration/MigrationExecutor.ts, createMigrationsTableIfNotExist: columns id
#   (primary, generated), timestamp (bigint, not null), name (varchar, not null); on SQLite the
#   query runner writes "CREATE TABLE "migrations" ("id" integer PRIMARY KEY AUTOINCREMENT NOT
#   NULL, "timestamp" bigint NOT NULL, "name" varchar NOT NULL)".
# - knex: lib/migrations/migrate/table-creator.js: knex_migrations (id increments, name
#   string(255), batch integer, migration_time timestamp) and knex_migrations_lock (index
#   increments, is_locked integer), with one lock row (is_locked 0).
# Then `migrations run` applies exactly the one left, and a held knex lock is refused.
. "$(dirname "$0")/lib.sh"

mig typeorm "1732233600000-CreateUsers.sql" "-- migrate:up\ncreate table users (id integer);\n-- migrate:down\ndrop table users;\n"
mig typeorm "1732233700000-CreateOrders.sql" "-- migrate:up\ncreate table orders (id integer);\n-- migrate:down\ndrop table orders;\n"
mig typeorm "1732233800000-CreateItems.sql" "-- migrate:up\ncreate table items (id integer);\n-- migrate:down\ndrop table items;\n"
new_db sqlite
dbq 'CREATE TABLE "migrations" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "timestamp" bigint NOT NULL, "name" varchar NOT NULL);
insert into migrations (timestamp, name) values (1732233600000, '\''CreateUsers1732233600000'\''), (1732233700000, '\''CreateOrders1732233700000'\'');
create table users (id integer); create table orders (id integer);' >/dev/null
before=$(sqlite3 "$DB_FILE" '.dump migrations')
check "typeorm on SQLite: the two applied are adopted, the third is pending" 0 \
	'^adopted 2 from typeorm \(migrations\) in one transaction; 0 only in typeorm; 1 pending' '' \
	strata --database-url "$DB_URL" migrations adopt --from typeorm --dir typeorm
like "... by class name" "$out" 'adopted +1732233700000-CreateOrders +\(typeorm: CreateOrders1732233700000\)'
is "... TypeORM's table is untouched" "$(sqlite3 "$DB_FILE" '.dump migrations')" "$before"
check "... run applies exactly the third" 0 '^applied 1 migration' '' \
	strata --database-url "$DB_URL" migrations run --dir typeorm
is "... history" "$(db_history)" "1732233600000-CreateUsers,1732233700000-CreateOrders,1732233800000-CreateItems"

mig knex "20241101120000_create_users.sql" "-- migrate:up\ncreate table users (id integer);\n-- migrate:down\ndrop table users;\n"
mig knex "20241102120000_create_orders.sql" "-- migrate:up\ncreate table orders (id integer);\n-- migrate:down\ndrop table orders;\n"
mig knex "20241103120000_create_items.sql" "-- migrate:up\ncreate table items (id integer);\n-- migrate:down\ndrop table items;\n"
new_db sqlite
dbq 'create table `knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);
create table `knex_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);
insert into knex_migrations_lock (is_locked) values (1);
insert into knex_migrations (name, batch, migration_time) values ('\''20241101120000_create_users.js'\'', 1, 1730000000000), ('\''20241102120000_create_orders.js'\'', 1, 1730000000000);
create table users (id integer); create table orders (id integer);' >/dev/null
check "knex on SQLite: a held lock is refused" 1 '' 'knex_migrations is locked' \
	strata --database-url "$DB_URL" migrations adopt --from knex --dir knex
is "... nothing written" "$(db_history)" "(no history table)"
dbq "update knex_migrations_lock set is_locked = 0" >/dev/null
check "... released: the two applied are adopted by file name" 0 \
	'^adopted 2 from knex \(knex_migrations\) in one transaction; 0 only in knex; 1 pending' '' \
	strata --database-url "$DB_URL" migrations adopt --dir knex
like "... matched by version and name" "$out" 'adopted +20241102120000-create_orders +\(knex: 20241102120000_create_orders\.js\)'
check "... run applies exactly the third" 0 '^applied 1 migration' '' \
	strata --database-url "$DB_URL" migrations run --dir knex
done_testing
