#!/usr/bin/env bash
# strata lint, PostgreSQL dialect: every rule reports its case (with file:line:col) and stays
# quiet on the safe way to do the same thing. No database is needed.
. "$(dirname "$0")/lib.sh"

# findings: "rule line:col" per finding of the last run's JSON ($out)
findings() {
	printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for f in d["findings"]:
    assert f["file"].startswith("src/migrations/"), f
    print(f["rule"], "%d:%d" % (f["line"], f["column"]))
' || echo "(no valid lint JSON)"
}

# case NAME EXIT WANT SQL [LINT OPTIONS...]: a project with 1-Base.sql (users) and 2-Change.sql
# whose up section is SQL; lint must exit EXIT and find exactly WANT ("rule line:col" lines in
# 2-Change.sql, empty for none).
case_() {
	local name=$1 want_rc=$2 want=$3 sql=$4
	shift 4
	rm -rf src
	mig src/migrations 1-Base.sql '-- migrate:up\ncreate table users (id int, email text);\n-- migrate:down\ndrop table users;\n'
	case $sql in --\ migrate:*) ;; *) sql="-- migrate:up\n$sql" ;; esac
	mig src/migrations 2-Change.sql "$sql\n"
	check "$name" "$want_rc" '' '^$' strata lint --dialect postgres --format json "$@"
	is "... finds" "$(findings)" "$want"
}

case_ 'concurrently-in-transaction: CREATE INDEX CONCURRENTLY in a transactional section' 1 \
	'concurrently-in-transaction 3:1' 'select 1;\ncreate index concurrently users_email on users (email);'
case_ '... DROP INDEX and REINDEX CONCURRENTLY too' 1 \
	'concurrently-in-transaction 2:1
concurrently-in-transaction 3:1' 'drop index concurrently users_email;\nreindex index concurrently users_email;'
case_ '... not with transaction:false' 0 '' \
	'-- migrate:up transaction:false\ncreate index concurrently users_email on users (email);'
case_ '... checked in down sections too' 1 'concurrently-in-transaction 4:1' \
	'-- migrate:up\nselect 1;\n-- migrate:down\ndrop index concurrently users_email;'

case_ 'needs-no-transaction: VACUUM in a transactional section' 1 'needs-no-transaction 2:1' 'vacuum users;'
case_ '... ALTER SYSTEM, CREATE DATABASE' 1 'needs-no-transaction 2:1
needs-no-transaction 3:1' "alter system set work_mem = '8MB';\ncreate database other;"
case_ '... not with transaction:false, nor ANALYZE' 0 '' \
	'-- migrate:up transaction:false\nvacuum users;\nanalyze users;'

case_ 'create-index-not-concurrently: on an existing table' 0 'create-index-not-concurrently 2:1' \
	'create index users_email on users (email);'
case_ '... not on a table the same migration created' 0 '' \
	'create table orders (id int);\ncreate index orders_id on orders (id);'

case_ 'add-column-not-null-without-default' 0 'add-column-not-null-without-default 2:30' \
	'alter table users add column plan text not null;'
case_ '... not with a default (or an identity)' 0 '' \
	"alter table users add column plan text not null default 'free',\n  add column n int generated always as identity not null;"

case_ 'add-foreign-key-without-not-valid' 0 'add-foreign-key-without-not-valid 2:23' \
	'alter table users add constraint users_fk foreign key (id) references users (id);'
case_ '... not with NOT VALID (nor VALIDATE CONSTRAINT)' 0 '' \
	'alter table users add constraint users_fk foreign key (id) references users (id) not valid;\nalter table users validate constraint users_fk;'

case_ 'add-check-without-not-valid' 0 'add-check-without-not-valid 2:23' \
	'alter table users add constraint users_id_check check (id > 0);'
case_ '... not with NOT VALID' 0 '' \
	'alter table users add constraint users_id_check check (id > 0) not valid;'

case_ 'alter-column-type' 0 'alter-column-type 2:32' 'alter table users alter column id type bigint;'
case_ '... not for a new column' 0 '' 'alter table users add column id2 bigint;'

case_ 'set-not-null' 0 'set-not-null 2:1' 'alter table users alter column email set not null;'
case_ '... not DROP NOT NULL' 0 '' 'alter table users alter column email drop not null;'

case_ 'drop-table' 0 'drop-table 2:1' 'drop table users;'
case_ '... not a table the same migration created' 0 '' 'create table tmp (a int);\ndrop table tmp;'

case_ 'drop-column' 0 'drop-column 2:1' 'alter table users drop column email;'
case_ '... not ADD COLUMN' 0 '' 'alter table users add column nickname text;'

case_ 'truncate' 0 'truncate 2:1' 'truncate users;'
case_ '... not DELETE' 0 '' 'delete from users where id < 0;'

case_ 'rename-table' 0 'rename-table 2:1' 'alter table users rename to people;'
case_ '... not an index' 0 '' 'alter index users_email rename to users_email_idx;'

case_ 'rename-column' 0 'rename-column 2:1' 'alter table users rename column email to mail;'
case_ '... not in a table the same migration created' 0 '' \
	'create table t (a int);\nalter table t rename column a to b;'

case_ 'add-unique-constraint' 0 'add-unique-constraint 2:23' \
	'alter table users add constraint users_email_key unique (email);'
case_ '... not USING INDEX' 0 '' \
	'alter table users add constraint users_email_key unique using index users_email_key;'

case_ 'add-enum-value-in-transaction' 0 'add-enum-value-in-transaction 2:1' "alter type mood add value 'meh';"
case_ '... not with transaction:false, nor RENAME VALUE' 0 '' \
	"-- migrate:up transaction:false\nalter type mood add value 'meh';\nalter type mood rename value 'a' to 'b';"

case_ 'missing-lock-timeout: off by default' 0 '' 'alter table users add column note text;'
case_ '... with --enable, once per section' 0 'missing-lock-timeout 2:1' \
	'alter table users add column note text;\nalter table users add column note2 text;' --enable missing-lock-timeout
case_ '... not after SET lock_timeout' 0 '' \
	"set local lock_timeout = '5s';\nalter table users add column note text;" --enable missing-lock-timeout

case_ 'unknown-nolint-rule' 0 'unknown-nolint-rule 2:18
drop-table 3:1' '-- strata:nolint drop-tabel\ndrop table users;'
case_ '... not for a known rule (which silences it)' 0 '' '-- strata:nolint drop-table\ndrop table users;'

done_testing
