#!/usr/bin/env bash
# strata migrations adopt --from dbmate, against the real dbmate (npm's package, its native
# binary), on SQLite and PostgreSQL. dbmate's files are strata's format (<version>_<name>.sql
# with -- migrate:up / -- migrate:down), so one directory serves both: dbmate applies the first
# K of N (it is given a directory with those K), adopt records them in strata's history without
# running anything or touching dbmate's schema_migrations, and strata runs the other N-K.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/adopt-lib.sh"
need_peer dbmate

N=5 K=3
V=(20240101000001 20240101000002 20240101000003 20240215093000 20240301120000)

scenario() {
	local k=$1 i url src=src_$k dm=dbmate_$k
	new_db "$k"
	url=$DB_URL
	[ "$k" = pg ] && url=$(pg_url_nossl)
	for ((i = 1; i <= N; i++)); do
		mig "$src" "${V[i - 1]}_create_t$i.sql" \
			"-- migrate:up\ncreate table t$i (id integer primary key, v text);\ninsert into t$i values ($i, 'x');\n\n-- migrate:down\ndrop table t$i;\n"
		[ "$i" -le "$K" ] && mig "$dm" "${V[i - 1]}_create_t$i.sql" "$(cat "$src/${V[i - 1]}_create_t$i.sql")\n"
	done

	check "$k: dbmate up applies the first $K" 0 "^Applied: ${V[2]}_create_t3.sql" '' \
		"$DBMATE" --url "$url" --migrations-dir "$dm" --no-dump-schema up
	is "$k: ... dbmate's table holds their versions" \
		"$(dbq 'select version from schema_migrations order by version' | tr '\n' ' ')" "${V[*]:0:3} "
	is "$k: ... and the tables are there" "$(db_tables)" "schema_migrations,t1,t2,t3"
	local before
	before=$(tbl_dump schema_migrations)
	like "$k: ... (the dump holds the rows)" "$before" "${V[2]}"

	# a dry run, without --from: dbmate is detected; nothing is written
	check "$k: adopt --dry-run --json detects dbmate" 0 '' '' \
		strata --database-url "$DB_URL" migrations adopt --dir "$src" --dry-run --json
	is "$k: ... the sets" "$(adopt_sets)" \
		"tool=dbmate dry_run=true adopted=${V[0]}-create_t1=${V[0]},${V[1]}-create_t2=${V[1]},${V[2]}-create_t3=${V[2]} only= pending=${V[3]}-create_t4,${V[4]}-create_t5"
	is "$k: ... the dry run wrote nothing" "$(strata_rows)" none
	check "$k: adopt --dry-run (text) says so" 0 'dry run' '' \
		strata --database-url "$DB_URL" migrations adopt --from dbmate --dir "$src" --dry-run
	is "$k: ... and wrote nothing" "$(strata_rows)" none

	check "$k: adopt --from dbmate" 0 '' '' \
		strata --database-url "$DB_URL" migrations adopt --from dbmate --dir "$src"
	adopt_text "$k: ... names the $K adopted and the $((N - K)) pending" dbmate "${V[*]:0:3}" "${V[*]:3}" ""
	unlike "$k: ... not a dry run" "$out" 'dry run'
	is "$k: ... strata's history holds exactly the $K" "$(db_history)" \
		"${V[0]}-create_t1,${V[1]}-create_t2,${V[2]}-create_t3"
	is "$k: ... dbmate's schema_migrations is byte-for-byte unchanged" "$(tbl_dump schema_migrations)" "$before"
	checksums_match "$k: ... each with its file's checksum" "$src"
	check "$k: ... so validate passes" 0 '^ok: ' '^$' \
		strata --database-url "$DB_URL" migrations validate --dir "$src"
	check "$k: show --json says $K applied" 0 "\"applied\": $K," '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$src" --json
	like "$k: ... and $((N - K)) pending" "$out" "\"pending\": $((N - K)),"

	refused "$k: adopt a second time" schema_migrations "$before" 'already' \
		strata --database-url "$DB_URL" migrations adopt --from dbmate --dir "$src"
	is "$k: ... its history is still the $K" "$(db_history)" \
		"${V[0]}-create_t1,${V[1]}-create_t2,${V[2]}-create_t3"

	check "$k: migrations run applies exactly the $((N - K)) pending" 0 \
		"^applying $((N - K)) migrations to " '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$src"
	like "$k: ... the first of them" "$out" "^  applied   ${V[3]}-create_t4 "
	unlike "$k: ... none of the adopted ran" "$out" "applied   (${V[0]}|${V[1]}|${V[2]})-"
	unlike "$k: ... no 'already exists'" "$out$err" 'already exists'
	is "$k: ... their tables are there" "$(db_tables)" "schema_migrations,strata_migrations,t1,t2,t3,t4,t5"
	is "$k: ... each adopted table still has its one row" "$(dbq 'select count(*) from t1') $(dbq 'select count(*) from t3')" "1 1"
	is "$k: ... history: all $N" "$(db_history)" \
		"${V[0]}-create_t1,${V[1]}-create_t2,${V[2]}-create_t3,${V[3]}-create_t4,${V[4]}-create_t5"
	check "$k: a second run has nothing to do" 0 '^nothing to run' '^$' \
		strata --database-url "$DB_URL" migrations run --dir "$src"
	check "$k: dbmate status still works (its table still says $K)" 0 "^Applied: $K\$" '' \
		"$DBMATE" --url "$url" --migrations-dir "$src" status
	is "$k: ... schema_migrations still unchanged" "$(tbl_dump schema_migrations)" "$before"
}
each_db scenario
done_testing
