#!/usr/bin/env bash
# A least-privilege role (no CREATE on the schema) runs pending migrations and seeds once
# strata's tables exist: strata creates its tables only when they are missing. A privilege
# missing on strata's own tables is reported as such (which table, which privilege, the GRANT),
# never as a fault of the user's SQL line.
. "$(dirname "$0")/lib.sh"
need_pg
DB_KIND=pg

H=${PGHOST}
case $H in /*) H=localhost ;; esac
P=${PGPORT:-5432}
R=strata_lp_$$
ROLES=("$R" "${R}_old")
trap 'for r in "${ROLES[@]}"; do "$PSQL" -X -q -d "$PG_DB" -c "drop owned by $r cascade" >/dev/null 2>&1; "$PSQL" -X -q -d postgres -c "drop role if exists $r" >/dev/null 2>&1; done; _cleanup' EXIT
"$PSQL" -X -q -d postgres -c "create role $R login password 'lp'" -c "create role ${R}_old login password 'lp'" >/dev/null ||
	bail "cannot create roles"
LP_URL="postgres://$R:lp@$H:$P/$PG_DB"
is 'the role may not create in schema public' "$(pg_q "select has_schema_privilege('$R', 'public', 'CREATE')")" f

# the owner sets the project up: the first run creates strata's history table
mig m 1-Items.sql '-- migrate:up\ncreate table items (x int);\n-- migrate:down\ndrop table items;\n'
mig m 2-Fill.sql '-- migrate:up\ninsert into items values (2);\n-- migrate:down\ndelete from items where x = 2;\n'
mig m 3-More.sql '-- migrate:up\ninsert into items values (3);\n-- migrate:down\ndelete from items where x = 3;\n'
check 'the owner applies 1-Items' 0 '^applied 1 migration ' '^$' \
	strata --database-url "$PG_URL" migrations run --dir m --to 1
pg_q "grant select, insert, delete on items to $R" >/dev/null

# without a privilege on strata_migrations: named as such, not blamed on the migration
check 'no privilege on strata_migrations: the history read is refused' 1 '^$' \
	'^strata: error: permission denied for table strata_migrations \[42501\]$' \
	strata --database-url "$LP_URL" migrations run --dir m --to 2
like '... the hint names the table, the privileges and the GRANT' "$err" \
	"^hint: strata keeps its state in strata_migrations: the role $R needs SELECT, INSERT, UPDATE and DELETE on it \\(GRANT SELECT, INSERT, UPDATE, DELETE ON strata_migrations TO $R\\)\$"
pg_q "grant select on strata_migrations to $R" >/dev/null
check 'SELECT but no INSERT: the history row is refused, the migration rolled back' 1 '' \
	'^strata: error: permission denied for table strata_migrations \[42501\]$' \
	strata --database-url "$LP_URL" migrations run --dir m --to 2
unlike '... no file:line:col of the migration' "$err" '2-Fill\.sql:'
unlike '... no source line' "$err" '^ +[0-9]+ \|'
like '... the same hint' "$err" '^hint: strata keeps its state in strata_migrations: the role '
like '... 2-Fill was rolled back' "$err" '^strata: 2-Fill was rolled back$'
is '... nothing changed' "$(pg_q 'select count(*) from items'),$(db_history)" "0,1-Items"

# with the privileges strata needs and none to create: pending migrations apply
pg_q "grant insert, update, delete on strata_migrations to $R" >/dev/null
check 'a role without CREATE applies pending migrations' 0 '^applied 2 migrations in ' '^$' \
	strata --database-url "$LP_URL" migrations run --dir m
is '... applied' "$(db_history)" "1-Items,2-Fill,3-More"
check '... and reverts one' 0 '^reverted 1 migration ' '^$' \
	strata --database-url "$LP_URL" migrations revert --dir m
check '... and shows the history' 0 '^3 migrations: 2 applied, 1 pending' '^$' \
	strata --database-url "$LP_URL" migrations show --dir m

# seed: strata_seeds made by the owner once; the role then seeds without CREATE
printf '{"items": [{"x": 10}]}\n' >seed.json
check 'the owner seeds first (strata_seeds is created)' 0 '^seeded 1 row ' '' \
	strata --database-url "$PG_URL" seed -f seed.json --dir m --no-migrate
pg_q "grant select, insert, update, delete on strata_seeds to $R" >/dev/null
printf '{"items": [{"x": 11}]}\n' >seed2.json
check 'the role seeds another file' 0 '^seeded 1 row ' '' \
	strata --database-url "$LP_URL" seed -f seed2.json --dir m --no-migrate

# a fresh database: the first run needs CREATE, and says so
new_db pg
pg_q "grant connect on database $PG_DB to $R" >/dev/null
check 'a fresh database: the first run by a role without CREATE is refused' 1 '' \
	'^strata: error: permission denied for schema public \[42501\]$' \
	strata --database-url "postgres://$R:lp@$H:$P/$PG_DB" migrations run --dir m
like '... the hint says what to grant, or to run once as a role that may' "$err" \
	"^hint: strata creates its history table strata_migrations on the first run: let the role $R create it \\(GRANT CREATE ON SCHEMA \\.\\.\\. TO $R\\), or run strata once as a role that may; later runs need no CREATE\$"

# a history table from before row_hash, owned by another role: only its owner may add it
new_db pg
pg_q "create table strata_migrations (version text not null, name text not null, checksum text not null, applied_at timestamptz not null default now(), duration_ms double precision not null default 0, status text not null default 'applied', progress integer not null default 0, out_of_order boolean not null default false, primary key (version, name)); alter table strata_migrations owner to ${R}_old; grant select, insert, update, delete on strata_migrations to $R" >/dev/null
check 'an old history table without row_hash, owned by another role' 1 '' \
	'^strata: error: must be owner of table strata_migrations \[42501\]$' \
	strata --database-url "postgres://$R:lp@$H:$P/$PG_DB" migrations run --dir m
like '... the hint says who may add the column' "$err" \
	"^hint: strata_migrations is from an older strata and lacks the row_hash column, which only its owner may add: run strata once as the owner, or have the owner run 'ALTER TABLE strata_migrations ADD COLUMN row_hash bigint'\$"
check '... run once by a role that may (here the superuser), then the role runs' 0 '^applied 3 migrations' '^$' \
	strata --database-url "$PG_URL" migrations run --dir m
is '... the column is there' "$(pg_q "select count(*) from information_schema.columns where table_name = 'strata_migrations' and column_name = 'row_hash'")" 1
done_testing
