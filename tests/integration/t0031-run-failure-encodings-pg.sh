#!/usr/bin/env bash
# PostgreSQL reports an error's position in characters of the server's encoding: under SQL_ASCII
# (what initdb picks on a machine with no locale) that is bytes, under UTF8 and LATIN1 it is
# characters. strata places the error at the same line:column on every one of them.
. "$(dirname "$0")/lib.sh"
need_pg

for enc in UTF8 SQL_ASCII LATIN1; do
	db="${PG_DB}_$(echo "$enc" | tr 'A-Z' 'a-z')"
	"$PSQL" -X -q -d postgres -c "CREATE DATABASE \"$db\" ENCODING '$enc' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null ||
		bail "cannot create a $enc database"
	_dbs+=("$db")
	url="postgres://${PGUSER}:${PGPASSWORD:-}@${PGHOST}:${PGPORT:-5432}/$db"
	is "$enc: the database's encoding" \
		"$("$PSQL" -X -At -d "$db" -c 'show server_encoding')" "$enc"

	d=pos_$enc
	mig "$d" 1-Pos.sql '-- migrate:up\ncreate table z (x text);\ninsert into z values ('"'"'héllo'"'"', nocolumn);\n-- migrate:down\ndrop table z;\n'
	check "$enc: an error with a position after non-ASCII text is at 3:32" 1 '' \
		"^strata: error: $d/1-Pos.sql:3:32: column \"nocolumn\" does not exist \\[42703\\]\$" \
		strata --database-url "$url" migrations run --dir "$d"
	like "$enc: ... the caret under column 32" "$err" '^       \| {32}\^$'

	d=div_$enc
	mig "$d" 1-Div.sql '-- migrate:up\ncreate table z (x text);\ninsert into z values ('"'"'héllo wörld ☃'"'"'); select 1/0;\n-- migrate:down\ndrop table z;\n'
	if [ "$enc" = LATIN1 ]; then
		# the snowman has no LATIN1 form: the server refuses the text before it parses it
		check "$enc: a character the encoding lacks is reported, with no made-up place" 1 '' \
			"^strata: error: $d/1-Div.sql: character with byte sequence 0xe2 0x98 0x83 in encoding \"UTF8\" has no equivalent in encoding \"LATIN1\" \\[22P05\\]\$" \
			strata --database-url "$url" migrations run --dir "$d"
		like "$enc: ... the hint names the database's encoding" "$err" \
			'^hint: the database stores text as LATIN1, which has no form for some character of this migration'
	else
		check "$enc: an error without a position, after multi-byte text, is at 3:41" 1 '' \
			"^strata: error: $d/1-Div.sql:3:41: division by zero \\[22012\\]\$" \
			strata --database-url "$url" migrations run --dir "$d"
	fi

	d=syn_$enc
	mig "$d" 1-Syn.sql '-- migrate:up\n-- ä ö ü ß\ncreate table ok (x text default '"'"'ü'"'"');\ncreate tabel ü (x int);\n'
	check "$enc: a syntax error after multi-byte text on earlier lines is at 4:8" 1 '' \
		"^strata: error: $d/1-Syn.sql:4:8: syntax error at or near \"tabel\" \\[42601\\]\$" \
		strata --database-url "$url" migrations run --dir "$d"
	d=syn2_$enc
	mig "$d" 1-Syn.sql '-- migrate:up\ncreate table ü (x text default '"'"'äöü'"'"') tabel;\n'
	check "$enc: a syntax error after multi-byte text on its own line is at 2:39" 1 '' \
		"^strata: error: $d/1-Syn.sql:2:39: syntax error at or near \"tabel\" \\[42601\\]\$" \
		strata --database-url "$url" migrations run --dir "$d"
	is "$enc: ... nothing applied" \
		"$("$PSQL" -X -At -d "$db" -c "select count(*) from strata_migrations")" 0
done
done_testing
