#!/usr/bin/env bash
# strata migrations adopt from golang-migrate, goose and Flyway, whose binaries are not packaged
# here: their history tables are made exactly as each tool's source makes them, and filled as
# the tool leaves them after applying the first K migrations, on SQLite and PostgreSQL:
# - golang-migrate: database/postgres/postgres.go, ensureVersionTable: "CREATE TABLE IF NOT
#   EXISTS <schema>.<table> (version bigint not null primary key, dirty boolean not null)";
#   database/sqlite3/sqlite3.go: "CREATE TABLE IF NOT EXISTS %s (version uint64,dirty bool);
#   CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON %s (version)". One row: the version
#   reached, dirty while a migration is under way or failed.
# - goose: internal/dialect/dialectquery/postgres.go and sqlite3.go, CreateTable and
#   InsertVersion; goose inserts (0, true) when it creates the table, then one row per
#   migration applied, and (older goose) a row with is_applied false per migration rolled back.
# - Flyway: flyway-core/src/main/resources/org/flywaydb/core/internal/database/postgresql/
#   createMetaDataTable.sql and .../sqlite/createMetaDataTable.sql.
# Then every bad state: golang-migrate dirty, a Flyway row with success = false, a goose version
# whose latest row is not applied, an unknown entry (only-there, not an error), two tools'
# tables and no --from, strata's history already written, a renamed table (--table, --schema).
# Each refusal exits 1, names the problem and leaves both histories as they were.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/adopt-lib.sh"

# strata's sources: 1_create_a .. 4_create_d
for i in 1 2 3 4; do
	t=$(printf "\\x$(printf %x $((96 + i)))")
	mig src "${i}_create_$t.sql" "-- migrate:up\ncreate table $t (id integer primary key);\n\n-- migrate:down\ndrop table $t;\n"
done
ALL="1-create_a,2-create_b,3-create_c,4-create_d"
# tool K: the first K tables, as if the tool had applied them
tables_upto() { local t; for t in a b c d; do dbq "create table $t (id integer primary key)" >/dev/null; [ "$t" = "$1" ] && break; done; }
B() { if [ "$DB_KIND" = pg ]; then [ "$1" = t ] && echo true || echo false; else [ "$1" = t ] && echo 1 || echo 0; fi; }

mk_golang() { # VERSION DIRTY(t|f) [TABLE]
	local tb=${3:-schema_migrations}
	if [ "$DB_KIND" = pg ]; then
		dbq "CREATE TABLE IF NOT EXISTS \"public\".\"$tb\" (version bigint not null primary key, dirty boolean not null)"
	else
		dbq "CREATE TABLE IF NOT EXISTS $tb (version uint64,dirty bool); CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON $tb (version);"
	fi >/dev/null
	dbq "insert into $tb (version, dirty) values ($1, $(B "$2"))" >/dev/null
}
mk_goose() { # [TABLE] VERSION:APPLIED... (the row (0, true) first)
	local tb=goose_db_version r
	case ${1:-} in *:*) ;; *) tb=$1; shift ;; esac
	if [ "$DB_KIND" = pg ]; then
		dbq "CREATE TABLE $tb (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))"
	else
		dbq "CREATE TABLE $tb (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))"
	fi >/dev/null
	for r in 0:t "$@"; do dbq "INSERT INTO $tb (version_id, is_applied) VALUES (${r%:*}, $(B "${r#*:}"))" >/dev/null; done
}
mk_flyway() { # SCHEMA TABLE ROW... (ROW: version|description|type|script|success; version - for none)
	local sc=$1 tb=$2 r v d ty scr ok rank=0
	shift 2
	if [ "$DB_KIND" = pg ]; then
		dbq "CREATE SCHEMA IF NOT EXISTS \"$sc\"; CREATE TABLE \"$sc\".\"$tb\" (
    \"installed_rank\" INT NOT NULL, \"version\" VARCHAR(50), \"description\" VARCHAR(200) NOT NULL,
    \"type\" VARCHAR(20) NOT NULL, \"script\" VARCHAR(1000) NOT NULL, \"checksum\" INTEGER,
    \"installed_by\" VARCHAR(100) NOT NULL, \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(),
    \"execution_time\" INTEGER NOT NULL, \"success\" BOOLEAN NOT NULL);
ALTER TABLE \"$sc\".\"$tb\" ADD CONSTRAINT \"${tb}_pk\" PRIMARY KEY (\"installed_rank\");
CREATE INDEX \"${tb}_s_idx\" ON \"$sc\".\"$tb\" (\"success\");"
	else
		dbq "CREATE TABLE \"main\".\"$tb\" (
    \"installed_rank\" INT NOT NULL PRIMARY KEY, \"version\" VARCHAR(50), \"description\" VARCHAR(200) NOT NULL,
    \"type\" VARCHAR(20) NOT NULL, \"script\" VARCHAR(1000) NOT NULL, \"checksum\" INT,
    \"installed_by\" VARCHAR(100) NOT NULL,
    \"installed_on\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    \"execution_time\" INT NOT NULL, \"success\" BOOLEAN NOT NULL);
CREATE INDEX \"main\".\"${tb}_s_idx\" ON \"$tb\" (\"success\");"
	fi >/dev/null
	[ "$DB_KIND" = pg ] || sc=main
	for r in "$@"; do
		rank=$((rank + 1))
		IFS='|' read -r v d ty scr ok <<<"$r"
		[ "$v" = - ] && v=null || v="'$v'"
		dbq "INSERT INTO \"$sc\".\"$tb\" (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
VALUES ($rank, $v, '$d', '$ty', '$scr', $([ "$ty" = BASELINE ] && echo null || echo $((rank * 7919))), 'deploy', 12, $(B "$ok"))" >/dev/null
	done
}
adopt() { strata --database-url "$DB_URL" migrations adopt --dir src "$@"; }

# good KIND TOOL TABLE WANT_SETS [ARGS]: adopt --dry-run --json gives WANT_SETS (adopt_sets noas;
# ~REGEX: matching REGEX), adopt records
# 1 and 2 and leaves TABLE as it was, and the run applies 3 and 4
good() {
	local k=$1 tool=$2 tb=$3 want=$4 before
	shift 4
	before=$(tbl_dump "$tb")
	check "$k $tool: adopt --dry-run --json $*" 0 '' '' adopt --dry-run --json "$@"
	case $want in
	'~'*) like "$k $tool: ... the sets" "$(adopt_sets noas)" "${want#\~}" ;;
	*) is "$k $tool: ... the sets" "$(adopt_sets noas)" "$want" ;;
	esac
	is "$k $tool: ... nothing written" "$(strata_rows)" none
	check "$k $tool: adopt $*" 0 '' '' adopt "$@"
	adopt_text "$k $tool: ... names the adopted and the pending" "$tool" "1-create_a 2-create_b" "3-create_c 4-create_d" ""
	is "$k $tool: ... strata's history holds 1 and 2" "$(db_history)" "1-create_a,2-create_b"
	checksums_match "$k $tool: ... with the files' checksums" src
	is "$k $tool: ... $tb unchanged" "$(tbl_dump "$tb")" "$before"
	check "$k $tool: migrations run applies 3 and 4" 0 '^applying 2 migrations to ' '^$' \
		strata --database-url "$DB_URL" migrations run --dir src
	is "$k $tool: ... history: all" "$(db_history)" "$ALL"
}

scenario() {
	local k=$1 before
	# ---- golang-migrate
	new_db "$k"; tables_upto b; mk_golang 2 f
	good "$k" golang-migrate schema_migrations \
		"tool=golang-migrate dry_run=true adopted=1-create_a,2-create_b only= pending=3-create_c,4-create_d"
	new_db "$k"; tables_upto b; mk_golang 2 t
	refused "$k golang-migrate dirty" schema_migrations "$(tbl_dump schema_migrations)" 'dirty' adopt --from golang-migrate
	refused "$k golang-migrate dirty, no --from" schema_migrations "$(tbl_dump schema_migrations)" 'dirty' adopt

	# ---- goose, with an entry strata has no migration for (9: only in goose, not an error)
	new_db "$k"; tables_upto b; mk_goose 1:t 2:t 9:t
	good "$k" goose goose_db_version \
		"tool=goose dry_run=true adopted=1-create_a,2-create_b only=9 pending=3-create_c,4-create_d"
	new_db "$k"; tables_upto b; mk_goose 1:t 2:t 3:t 3:f
	refused "$k goose version 3's latest row not applied" goose_db_version "$(tbl_dump goose_db_version)" '3' adopt --from goose
	# applied again after the rollback: clean
	new_db "$k"; tables_upto b; mk_goose 1:t 2:t 2:f 2:t
	good "$k" goose goose_db_version \
		"tool=goose dry_run=true adopted=1-create_a,2-create_b only= pending=3-create_c,4-create_d" --from goose

	# ---- Flyway: versioned rows and a repeatable one (only in flyway)
	new_db "$k"; tables_upto b
	mk_flyway public flyway_schema_history "1|create a|SQL|V1__create_a.sql|t" "2|create b|SQL|V2__create_b.sql|t" \
		"-|views|SQL|R__views.sql|t"
	good "$k" flyway flyway_schema_history \
		'~^tool=flyway dry_run=true adopted=1-create_a,2-create_b only=[^,]*views[^,]* pending=3-create_c,4-create_d$'
	# a BASELINE at 2: 1 and 2 applied
	new_db "$k"; tables_upto b
	mk_flyway public flyway_schema_history "2|<< Flyway Baseline >>|BASELINE|<< Flyway Baseline >>|t"
	good "$k" flyway flyway_schema_history \
		"tool=flyway dry_run=true adopted=1-create_a,2-create_b only= pending=3-create_c,4-create_d"
	# a BASELINE at a dotted version (Flyway's usual 1.1): refused, not a crash
	new_db "$k"; tables_upto b
	mk_flyway public flyway_schema_history "1.1|<< Flyway Baseline >>|BASELINE|<< Flyway Baseline >>|t"
	refused "$k flyway baseline at 1.1" flyway_schema_history "$(tbl_dump flyway_schema_history)" 'baseline at version 1\.1' adopt --from flyway
	new_db "$k"; tables_upto b
	mk_flyway public flyway_schema_history "1|create a|SQL|V1__create_a.sql|t" "2|create b|SQL|V2__create_b.sql|f"
	refused "$k flyway success = false" flyway_schema_history "$(tbl_dump flyway_schema_history)" 'success|fail' adopt --from flyway

	# ---- two tools' tables with entries: no --from is refused, --from picks one
	new_db "$k"; tables_upto b; mk_goose 1:t 2:t
	mk_flyway public flyway_schema_history "1|create a|SQL|V1__create_a.sql|t"
	before=$(tbl_dump flyway_schema_history)
	refused "$k goose and flyway, no --from" goose_db_version "$(tbl_dump goose_db_version)" '--from' adopt
	is "$k ... flyway_schema_history unchanged" "$(tbl_dump flyway_schema_history)" "$before"
	good "$k" goose goose_db_version \
		"tool=goose dry_run=true adopted=1-create_a,2-create_b only= pending=3-create_c,4-create_d" --from goose

	# ---- strata's history already written
	new_db "$k"; mk_goose 1:t 2:t
	check "$k: strata applies 1 itself" 0 '' '^$' strata --database-url "$DB_URL" migrations run --dir src --to 1
	refused "$k strata's history already has rows" goose_db_version "$(tbl_dump goose_db_version)" 'already' adopt --from goose
	is "$k ... strata's history still just 1" "$(db_history)" "1-create_a"

	# ---- the named tool's table is absent; a renamed one with --table (and --schema)
	new_db "$k"; tables_upto b; mk_goose my_versions 1:t 2:t
	refused "$k --from goose, no goose_db_version" my_versions "$(tbl_dump my_versions)" 'goose_db_version' adopt --from goose
	good "$k" goose my_versions \
		"tool=goose dry_run=true adopted=1-create_a,2-create_b only= pending=3-create_c,4-create_d" --from goose --table my_versions
	if [ "$k" = pg ]; then
		new_db pg; tables_upto b
		mk_flyway legacy history "1|create a|SQL|V1__create_a.sql|t" "2|create b|SQL|V2__create_b.sql|t"
		refused "$k --schema names a schema without it" legacy.history "$(tbl_dump legacy.history)" 'history' \
			adopt --from flyway --schema public --table history
		like "$k ... --schema legacy --table history: the table named in the JSON" \
			"$(adopt --from flyway --schema legacy --table history --dry-run --json)" '"table": *"legacy\.history"'
		good "$k" flyway legacy.history \
			"tool=flyway dry_run=true adopted=1-create_a,2-create_b only= pending=3-create_c,4-create_d" \
			--from flyway --schema legacy --table history
	fi
}
each_db scenario
done_testing
