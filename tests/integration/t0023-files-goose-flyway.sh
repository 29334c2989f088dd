#!/usr/bin/env bash
# goose's and Flyway's migration files, kept as they are: built (validated, checksummed, copied
# with their U files and .sql.conf), run, shown and reverted from the build and with --dir.
# goose: a StatementBegin/StatementEnd block is one statement (a SQLite trigger, a plpgsql
# function), NO TRANSACTION runs the file outside a transaction (VACUUM; CREATE INDEX
# CONCURRENTLY), a file without a Down section cannot be reverted. Flyway: V and U files,
# executeInTransaction=false, a V without its U cannot be reverted. What strata cannot run is an
# error naming the file: a dotted version, a repeatable R__ file, goose's ENVSUB, markers of both
# formats in one file.
. "$(dirname "$0")/lib.sh"

# ---- SQLite, through the build ---------------------------------------------------------------
S=src/migrations
mkdir -p "$S"
cat >"$S/00001_create_users.sql" <<'EOF'
-- +goose Up
CREATE TABLE users (id integer PRIMARY KEY, name text);
CREATE TABLE audit (msg text);
-- +goose StatementBegin
CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN
  INSERT INTO audit VALUES ('added ' || new.name);
  INSERT INTO audit VALUES ('twice');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_ai;
DROP TABLE audit;
DROP TABLE users;
EOF
cat >"$S/00002_seed_and_vacuum.sql" <<'EOF'
-- +goose NO TRANSACTION
-- +goose Up
INSERT INTO users (name) VALUES ('ada');
VACUUM;

-- +goose Down
DELETE FROM users;
DELETE FROM audit;
VACUUM;
EOF
mig "$S" V3__add_email.sql 'ALTER TABLE users ADD COLUMN email text;\n'
mig "$S" U3__add_email.sql 'ALTER TABLE users DROP COLUMN email;\n'
mig "$S" V4__compact.sql 'VACUUM;\n'
mig "$S" V4__compact.sql.conf '# Flyway script config\nexecuteInTransaction=false\n'
mig "$S" README.md 'goose and Flyway files\n'

check 'build reads goose and Flyway files' 0 '^built 4 migrations from src/migrations into dist/migrations ' '^$' \
	strata build --dialect sqlite
is '... copies every file, U files and the .conf included' "$(cd dist/migrations && ls | tr '\n' ' ')" \
	"00001_create_users.sql 00002_seed_and_vacuum.sql U3__add_email.sql V3__add_email.sql V4__compact.sql V4__compact.sql.conf manifest.json "
like '... the manifest lists the U file' "$(cat dist/migrations/manifest.json)" '"down_file": "U3__add_email.sql"'
like '... and the .conf' "$(cat dist/migrations/manifest.json)" '"conf_file": "V4__compact.sql.conf"'
like '... a Flyway version is its digits, the name its description' "$(cat dist/migrations/manifest.json)" '"name": "add_email"'

new_db sqlite
check 'run from the build' 0 '^applied 4 migrations ' '^$' \
	strata --database-url "$DB_URL" migrations run
is '... history' "$(db_history)" "00001-create_users,00002-seed_and_vacuum,3-add_email,4-compact"
is '... the StatementBegin block was one statement: the whole trigger fired' \
	"$(dbq 'select group_concat(msg, ",") from audit')" "added ada,twice"
is '... the Flyway migration added its column' "$(dbq "select count(*) from pragma_table_info('users') where name = 'email'")" 1
check 'show lists them' 0 '^applied +3 +add_email ' '^$' \
	strata --database-url "$DB_URL" migrations show
like '... goose names' "$out" '^applied +00001 +create_users '
check 'validate: the build matches src and the history' 0 '' '^$' \
	strata --database-url "$DB_URL" migrations validate

# a V file without its U file: revert refuses, naming the U file to create
check 'revert of a V file without a U file refuses' 1 '^$' \
	'^strata: error: src/migrations/V4__compact\.sql: cannot revert 4-compact: it has no Flyway undo file \(U4__compact\.sql\)$' \
	strata --database-url "$DB_URL" migrations revert
like '... the hint names the U file' "$err" '^hint: create U4__compact\.sql beside it with the statements that undo it \(an empty file means there is nothing to undo\)$'
is '... nothing reverted' "$(db_history)" "00001-create_users,00002-seed_and_vacuum,3-add_email,4-compact"
mig "$S" U4__compact.sql ''
check 'an empty U file: built' 0 '^built 4 migrations' '^$' strata build --dialect sqlite
check '... and it reverts as a no-op (with the V file non-transactional: executeInTransaction=false)' 0 \
	'^  reverted  4-compact ' '^$' strata --database-url "$DB_URL" migrations revert
check 'revert the rest: U file, NO TRANSACTION Down (VACUUM), then the goose Down' 0 \
	'^reverted 3 migrations ' '^$' strata --database-url "$DB_URL" migrations revert --all
is '... everything undone' "$(db_tables);$(db_history)" "strata_migrations;"
check 'run again with --dir (no build)' 0 '^applied 4 migrations ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir "$S"

# an edit to a .conf or a U file is a change to the migration: build again
mig "$S" V4__compact.sql.conf 'executeInTransaction=true\n'
check 'a .conf changed since the build: validate says so' 1 '' \
	'^strata: error: src/migrations/V4__compact\.sql: migration changed since the last build$' \
	strata --database-url "$DB_URL" migrations validate
mig "$S" V4__compact.sql.conf '# Flyway script config\nexecuteInTransaction=false\n'
check '... restored: validate passes' 0 '^ok: 4 migrations' '^$' \
	strata --database-url "$DB_URL" migrations validate

# executeInTransaction and NO TRANSACTION matter: VACUUM in a transaction fails the build
mkdir -p tx/src/migrations
mig tx/src/migrations V1__vacuum.sql 'VACUUM;\n'
check 'VACUUM in a Flyway file without executeInTransaction=false fails the build' 1 '^$' \
	'^strata: error: tx/src/migrations/V1__vacuum\.sql:1:1: cannot VACUUM from within a transaction$' \
	strata build --dialect sqlite --src tx/src/migrations --out tx/dist/migrations
like '... the hint names the .conf' "$err" "put executeInTransaction=false in V1__vacuum\\.sql\\.conf beside it"
rm tx/src/migrations/V1__vacuum.sql
printf '%b' '-- +goose Up\nVACUUM;\n' >tx/src/migrations/1_vacuum.sql
check 'VACUUM in a goose file without NO TRANSACTION fails the build' 1 '^$' \
	'^strata: error: tx/src/migrations/1_vacuum\.sql:2:1: cannot VACUUM from within a transaction$' \
	strata build --dialect sqlite --src tx/src/migrations --out tx/dist/migrations
like '... the hint names the annotation' "$err" "add a line '-- \\+goose NO TRANSACTION' at the top of the file"

# NO TRANSACTION runs statement by statement: a block counts as one, a failure keeps the rest
new_db sqlite
mkdir -p nt
cat >nt/1_half.sql <<'EOF'
-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE t (x int);
-- +goose StatementBegin
CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN
  SELECT 1;
  SELECT 2;
END;
-- +goose StatementEnd
INSERT INTO nope VALUES (1);
-- +goose Down
DROP TABLE t;
EOF
check 'a NO TRANSACTION file that fails part-way' 1 '' \
	'^strata: error: nt/1_half\.sql:10:1: no such table: nope$' \
	strata --database-url "$DB_URL" migrations run --dir nt
like '... the block was one statement of three' "$err" \
	'^strata: 1-half is transaction:false: statement 3 of 3 failed, the 2 before it stay done, and it is recorded as failed$'
is '... the trigger stays' "$(dbq "select count(*) from sqlite_master where name = 't_ai'")" 1

# a goose file without a Down section
new_db sqlite
mkdir -p nd
printf '%b' '-- +goose Up\ncreate table n (x int);\n' >nd/1_no_down.sql
printf '%b' '-- +goose Up\ncreate table m (x int);\n-- +goose Down\n' >nd/2_empty_down.sql
strata --database-url "$DB_URL" migrations run --dir nd >/dev/null
check 'an empty goose Down section reverts as a no-op (as goose runs it)' 0 '^  reverted  2-empty_down ' '^$' \
	strata --database-url "$DB_URL" migrations revert --dir nd
check 'a goose file without a Down section cannot be reverted' 1 '^$' \
	"^strata: error: nd/1_no_down\\.sql: cannot revert 1-no_down: it has no '-- \\+goose Down' section\$" \
	strata --database-url "$DB_URL" migrations revert --dir nd
like '... hint' "$err" "^hint: add a '-- \\+goose Down' line and the statements that undo it below it\$"

# what strata cannot run is an error naming the file, never skipped
bad() { # NAME FILE TEXT STDERR_RE: a directory holding FILE alone fails to build
	rm -rf b && mkdir -p b/src
	printf '%b' "$3" >"b/src/$2"
	check "$1" 1 '^$' "$4" strata build --dialect sqlite --src b/src --out b/dist
	[ ! -e b/dist ] || not_ok "... $1: nothing written"
}
bad 'a dotted Flyway version' V1.1__split.sql 'select 1;\n' \
	"^strata: error: b/src/V1\\.1__split\\.sql: 'V1\\.1__split\\.sql': the Flyway version '1\\.1' is not a whole number\$"
like '... the hint says to rename it to an integer version' "$err" '^hint: strata.s versions are whole numbers, compared as numbers: rename it to one \(V<integer>__split\.sql\)'
bad 'an underscored Flyway version' V1_1__split.sql 'select 1;\n' "the Flyway version '1_1' is not a whole number\$"
bad 'a repeatable Flyway migration' R__views.sql 'select 1;\n' \
	"^strata: error: b/src/R__views\\.sql: 'R__views\\.sql' is a Flyway repeatable migration \\(R__\\), which strata does not support\$"
bad 'a U file without its V file' U2__x.sql 'select 1;\n' \
	'^strata: error: b/src/U2__x\.sql:1:1: Flyway undo migration has no matching V2__x\.sql file$'
bad 'an unknown key in a .conf' V2__x.sql.conf 'executeInTransaction=false\nshouldExecute=false\n' \
	"^strata: error: b/src/V2__x\\.sql\\.conf:2:1: 'shouldExecute' in a Flyway script config is not supported\$"
bad 'goose ENVSUB' 1_env.sql '-- +goose Up\n-- +goose ENVSUB ON\nselect 1;\n' \
	"^strata: error: b/src/1_env\\.sql:2:1: goose's '-- \\+goose ENVSUB ON' is not supported\$"
bad 'goose annotations in a strata file' 1_mixed.sql '-- migrate:up\nselect 1;\n-- +goose Down\nselect 2;\n' \
	"^strata: error: b/src/1_mixed\\.sql:3:1: goose annotation in a file written with '-- migrate:' lines\$"
bad 'a strata line in a goose file' 1_mixed.sql '-- +goose Up\nselect 1;\n\n-- migrate:down\nselect 2;\n' \
	"^strata: error: b/src/1_mixed\\.sql:4:1: '-- migrate:' line in a file written with goose annotations\$"
bad 'an unterminated StatementBegin' 1_open.sql '-- +goose Up\n-- +goose StatementBegin\nselect 1;\n' \
	"^strata: error: b/src/1_open\\.sql:2:1: '-- \\+goose StatementBegin' has no '-- \\+goose StatementEnd'\$"
rm b/src/1_open.sql
printf 'select 1;\n' >b/src/R__views.sql
check 'with --dir the same errors stop a run' 1 '^$' "'R__views\\.sql' is a Flyway repeatable migration" \
	strata --database-url "sqlite:$TEST_DIR/x.db" migrations run --dir b/src

# ---- PostgreSQL --------------------------------------------------------------------------------
if ! pg_available; then
	skip 'goose and Flyway files on PostgreSQL' 'no PostgreSQL server'
	done_testing
fi
new_db pg
P=pgsrc/migrations
mkdir -p "$P"
cat >"$P/20240101000000_counter.sql" <<'EOF'
-- +goose Up
CREATE TABLE counter (n int NOT NULL);
INSERT INTO counter VALUES (0);
-- +goose StatementBegin
CREATE FUNCTION bump(by int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  result int;
BEGIN
  UPDATE counter SET n = n + by;
  SELECT n INTO result FROM counter;
  RETURN result;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP FUNCTION bump(int);
-- +goose StatementEnd
DROP TABLE counter;
EOF
cat >"$P/20240102000000_index.sql" <<'EOF'
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY counter_n ON counter (n);

-- +goose Down
DROP INDEX CONCURRENTLY counter_n;
EOF
mig "$P" V20240103000000__flyway_index.sql 'CREATE INDEX CONCURRENTLY counter_n2 ON counter ((n + 1));\n'
mig "$P" U20240103000000__flyway_index.sql 'DROP INDEX CONCURRENTLY counter_n2;\n'
mig "$P" V20240103000000__flyway_index.sql.conf 'executeInTransaction=false\n'

check 'pg: build parses the goose blocks and the Flyway files' 0 '^built 3 migrations ' '^$' \
	strata build --dialect postgres --src "$P" --out pgdist/migrations
check 'pg: run (plpgsql in StatementBegin/End, CREATE INDEX CONCURRENTLY under NO TRANSACTION and executeInTransaction=false)' \
	0 '^applied 3 migrations ' '^$' \
	strata --database-url "$DB_URL" migrations run --dir pgdist/migrations
is '... the function works' "$(pg_q 'select bump(2)');$(pg_q 'select bump(3)')" "2;5"
is '... both indexes are there and valid' \
	"$(pg_q "select string_agg(c.relname || ':' || i.indisvalid, ',' order by c.relname) from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname like 'counter_n%'")" \
	"counter_n:true,counter_n2:true"
check 'pg: show' 0 '^applied +20240103000000 +flyway_index ' '^$' \
	strata --database-url "$DB_URL" migrations show --dir pgdist/migrations
check 'pg: revert all (DROP INDEX CONCURRENTLY from the U file and the NO TRANSACTION Down)' 0 \
	'^reverted 3 migrations ' '^$' \
	strata --database-url "$DB_URL" migrations revert --all --dir pgdist/migrations
is '... all gone' "$(db_tables);$(pg_q "select count(*) from pg_proc where proname = 'bump'")" "strata_migrations;0"

# without NO TRANSACTION, CREATE INDEX CONCURRENTLY is refused by lint at build, with the fix
mkdir -p pgbad
printf '%b' '-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (x);\n' >pgbad/1_idx.sql
check 'pg: CREATE INDEX CONCURRENTLY in a goose file without NO TRANSACTION fails the build' 1 '' 'CONCURRENTLY' \
	strata build --dialect postgres --src pgbad --out pgbad-dist
done_testing
