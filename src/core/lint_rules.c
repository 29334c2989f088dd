/* lint_rules.c: the lint rules, one row each: id, severity, reason, fix and examples (lint.h). */
#include "core/lint_rules.h"
#include "core/lint.h"

#include <string.h>

#define NO_TXN_UP "-- migrate:up transaction:false"

const strata_lint_rule strata_lint__rules[R_COUNT + 1] = {
    [R_CONCURRENTLY_IN_TXN] =
        {"concurrently-in-transaction", STRATA_LINT_ERROR, false,
         "a CONCURRENTLY statement cannot run inside a transaction block, and this section "
         "runs in one",
         "run it in a section marked transaction:false ('" NO_TXN_UP "'; in a .up.sql or "
         ".down.sql file, a first line '-- strata:no-transaction'; in a goose file, '-- "
         "+goose NO TRANSACTION'; for a Flyway file, executeInTransaction=false in its "
         ".sql.conf)",
         "-- migrate:up\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
         "-- migrate:up transaction:false\n"
         "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"},
    [R_NEEDS_NO_TXN] =
        {"needs-no-transaction", STRATA_LINT_ERROR, false,
         "VACUUM, ALTER SYSTEM, CREATE or DROP DATABASE or TABLESPACE, REINDEX SYSTEM or "
         "DATABASE and CLUSTER without a table cannot run inside a transaction block",
         "run it in a section marked transaction:false ('" NO_TXN_UP "')",
         "-- migrate:up\nVACUUM ANALYZE orders;",
         "-- migrate:up transaction:false\nVACUUM ANALYZE orders;"},
    [R_CREATE_INDEX] =
        {"create-index-not-concurrently", STRATA_LINT_WARNING, false,
         "CREATE INDEX without CONCURRENTLY blocks every write to an existing table until the "
         "index is built",
         "use CREATE INDEX CONCURRENTLY, in a section marked transaction:false ('" NO_TXN_UP "')",
         "-- migrate:up\nCREATE INDEX orders_created_at_idx ON orders (created_at);",
         "-- migrate:up transaction:false\n"
         "CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);"},
    [R_ADD_COLUMN_NOT_NULL] =
        {"add-column-not-null-without-default", STRATA_LINT_WARNING, false,
         "adding a NOT NULL column without a default fails as soon as the table has a row",
         "give it a DEFAULT (a constant one does not rewrite the table since PostgreSQL 11), "
         "or add it nullable, backfill it, then set NOT NULL",
         "ALTER TABLE users ADD COLUMN plan text NOT NULL;",
         "ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';"},
    [R_ADD_FOREIGN_KEY] =
        {"add-foreign-key-without-not-valid", STRATA_LINT_WARNING, false,
         "adding a foreign key checks every row while it blocks writes to both tables",
         "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration (which does not "
         "block writes)",
         "ALTER TABLE orders ADD CONSTRAINT orders_user_fk\n"
         "    FOREIGN KEY (user_id) REFERENCES users (id);",
         "ALTER TABLE orders ADD CONSTRAINT orders_user_fk\n"
         "    FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
         "-- in a later migration:\nALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;"},
    [R_ADD_CHECK] =
        {"add-check-without-not-valid", STRATA_LINT_WARNING, false,
         "adding a CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock",
         "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration (which does not "
         "block writes)",
         "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);",
         "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\n"
         "-- in a later migration:\nALTER TABLE orders VALIDATE CONSTRAINT "
         "orders_total_check;"},
    [R_ALTER_COLUMN_TYPE] =
        {"alter-column-type", STRATA_LINT_WARNING, false,
         "changing a column's type rewrites the table and its indexes under an ACCESS "
         "EXCLUSIVE lock (except binary-compatible changes such as widening a varchar)",
         "add a new column, backfill it in batches, move the application to it, then drop the "
         "old one",
         "ALTER TABLE orders ALTER COLUMN id TYPE bigint;",
         "ALTER TABLE orders ADD COLUMN id_new bigint;\n"
         "-- backfill in batches, switch the application, then drop the old column"},
    [R_SET_NOT_NULL] =
        {"set-not-null", STRATA_LINT_WARNING, false,
         "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
         "add CHECK (col IS NOT NULL) NOT VALID, validate it in a later migration, then SET "
         "NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
         "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
         "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n"
         "-- in a later migration:\n"
         "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
         "-- strata:nolint set-not-null  (the valid check spares the scan)\n"
         "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
         "ALTER TABLE users DROP CONSTRAINT users_email_nn;"},
    [R_DROP_TABLE] =
        {"drop-table", STRATA_LINT_WARNING, false,
         "DROP TABLE destroys the table and its rows, and code still using it fails",
         "stop using the table in a release before the one that drops it, and keep a backup",
         "DROP TABLE legacy_orders;",
         "-- strata:nolint drop-table  (nothing reads it since release 41)\n"
         "DROP TABLE legacy_orders;"},
    [R_DROP_COLUMN] = {"drop-column", STRATA_LINT_WARNING, false,
                       "DROP COLUMN destroys the column's data, and code still using it fails",
                       "stop using the column in a release before the one that drops it",
                       "ALTER TABLE users DROP COLUMN nickname;",
                       "-- strata:nolint drop-column  (unused since release 41)\n"
                       "ALTER TABLE users DROP COLUMN nickname;"},
    [R_TRUNCATE] =
        {"truncate", STRATA_LINT_WARNING, false,
         "TRUNCATE deletes every row, under an ACCESS EXCLUSIVE lock",
         "make sure the rows are meant to go, then say so with '-- strata:nolint truncate'",
         "TRUNCATE sessions;",
         "-- strata:nolint truncate  (sessions are recreated at login)\nTRUNCATE sessions;"},
    [R_RENAME_TABLE] =
        {"rename-table", STRATA_LINT_WARNING, false,
         "renaming a table breaks running code that still uses the old name",
         "create the new table (or a view), move the application to it, then drop the old "
         "name in a later release",
         "ALTER TABLE customers RENAME TO clients;",
         "-- release 1: both names work\n"
         "-- strata:nolint rename-table  (the view keeps the old name working)\n"
         "ALTER TABLE customers RENAME TO clients;\n"
         "CREATE VIEW customers AS SELECT * FROM clients;\n"
         "-- release 2, once nothing uses it: DROP VIEW customers;"},
    [R_RENAME_COLUMN] =
        {"rename-column", STRATA_LINT_WARNING, false,
         "renaming a column breaks running code that still uses the old name",
         "add the new column, write both, backfill, move reads to it, then drop the old one in "
         "a later release",
         "ALTER TABLE users RENAME COLUMN name TO full_name;",
         "ALTER TABLE users ADD COLUMN full_name text;\n"
         "-- write both, backfill, move reads, then drop name in a later release"},
    [R_ADD_UNIQUE] =
        {"add-unique-constraint", STRATA_LINT_WARNING, false,
         "adding a UNIQUE or PRIMARY KEY constraint builds its index while it blocks reads and "
         "writes",
         "CREATE UNIQUE INDEX CONCURRENTLY (transaction:false) first, then ADD CONSTRAINT ... "
         "UNIQUE USING INDEX",
         "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
         "-- migrate:up transaction:false\n"
         "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\n"
         "-- next migration:\n"
         "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX "
         "users_email_key;"},
    [R_ADD_ENUM_VALUE] =
        {"add-enum-value-in-transaction", STRATA_LINT_WARNING, false,
         "ALTER TYPE ... ADD VALUE fails in a transaction before PostgreSQL 12, and after it "
         "the new value cannot be used until the transaction commits",
         "run it in a section marked transaction:false ('" NO_TXN_UP "')",
         "-- migrate:up\nALTER TYPE order_status ADD VALUE 'refunded';",
         "-- migrate:up transaction:false\nALTER TYPE order_status ADD VALUE 'refunded';"},
    [R_LOCK_TIMEOUT] =
        {"missing-lock-timeout", STRATA_LINT_WARNING, true,
         "a statement that takes a strong lock waits behind long queries without a "
         "lock_timeout, and every query on the table queues behind it",
         "SET lock_timeout before it (strata's runs set one on PostgreSQL by default, so this "
         "rule is off unless enabled)",
         "-- migrate:up\nALTER TABLE orders ADD COLUMN note text;",
         "-- migrate:up\nSET LOCAL lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note "
         "text;"},
    [R_UNKNOWN_NOLINT] =
        {"unknown-nolint-rule", STRATA_LINT_WARNING, false,
         "a '-- strata:nolint' comment names a rule that does not exist, so it silences nothing",
         "use the ids of the rules (strata_lint_rules())",
         "-- strata:nolint drop-tables\nDROP TABLE legacy_orders;",
         "-- strata:nolint drop-table\nDROP TABLE legacy_orders;"},
    [R_COUNT] = {0},
};

const strata_lint_rule *strata_lint_rule_find(const char *id)
{
	for (const strata_lint_rule *r = strata_lint__rules; r->id; r++)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

const strata_lint_rule *strata_lint__rule_find_n(const char *id, size_t n)
{
	for (const strata_lint_rule *r = strata_lint__rules; r->id; r++)
		if (strlen(r->id) == n && memcmp(r->id, id, n) == 0)
			return r;
	return NULL;
}

const char *strata_lint_severity_name(strata_lint_severity s)
{
	return s == STRATA_LINT_ERROR ? "error" : "warning";
}
