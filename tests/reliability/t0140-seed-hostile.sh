#!/usr/bin/env bash
# Hostile seed values: strings that look like SQL (quotes, semicolons, $$, COPY's \N and
# escapes, NUL bytes via \u0000, invalid UTF-8, lone surrogates) and table or column names that
# do, on SQLite and PostgreSQL. Each goes in its own seed file and is stored verbatim (checked
# byte for byte) or refused as a whole (exit 1, nothing stored); it is never executed: the
# canary table and its row survive every one.
. "$(dirname "$0")/lib.sh"

# JSON string body | expected bytes (printf %b) or REJECT-OK when refusing is the only right answer
cases=(
	"x'); drop table canary; --|x'); drop table canary; --"
	"'; delete from canary; select '|'; delete from canary; select '"
	'$$; drop table canary; $$|$$; drop table canary; $$'
	'$tag$ drop table canary $tag$|$tag$ drop table canary $tag$'
	';commit; drop table canary; begin;|;commit; drop table canary; begin;'
	'\\\\N|\\N'
	'a\\tb\\nc\\r\\\\d\\"|a\tb\nc\r\\d"'
	'\\\\.\\n\\\\.|\\.\n\\.'
	'\\u0000|\0'
	'a\\u0000; drop table canary|a\0; drop table canary'
	'\\u00e9\\u4e2d\\ud83d\\ude00|\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80'
	'\xff\xfe; drop table canary|REJECT-OK'
	'\xc3(|REJECT-OK'
	'\\ud800 lone|ANY'
)

hexof() { od -An -tx1 | tr -d ' \n'; }

scenario() {
	local k=$1 i=0 c body want wantx got rc2 fails=0 stored=0 refused=0
	new_db "$k"
	mig m 1-T.sql '-- migrate:up\ncreate table canary (x int);\ninsert into canary values (42);\ncreate table vals (id int primary key, s text);\n-- migrate:down\ndrop table vals;\n'
	"$STRATA" --database-url "$DB_URL" migrations run --dir m -q >/dev/null || bail "$k: migrations failed"
	for c in "${cases[@]}"; do
		i=$((i + 1))
		body=${c%%|*} want=${c#*|}
		printf '{"vals": [{"id": %d, "s": "%b"}]}\n' "$i" "$body" >"h$i.json"
		run "$STRATA" --database-url "$DB_URL" seed -f "h$i.json" --dir m
		rc2=$rc
		if [ "$k" = pg ]; then
			got=$(pg_q "select encode(convert_to(s, 'UTF8'), 'hex') from vals where id = $i")
		else
			got=$(sq_q "$DB_FILE" "select lower(hex(cast(s as blob))) from vals where id = $i")
		fi
		wantx=$(printf '%b' "$want" | hexof)
		if [ "$rc2" = 1 ] && [ -z "$got" ] && grep -q '^strata: error: ' <<<"$err"; then
			refused=$((refused + 1)) # refused as a whole, with a message
			diag "$k: case $i refused: $(head -1 <<<"$err")"
		elif [ "$rc2" = 0 ] && { [ "$want" = ANY ] || [ "$got" = "$wantx" ]; }; then
			stored=$((stored + 1))
			[ "$want" = ANY ] && diag "$k: case $i stored as $got"
		else
			fails=$((fails + 1))
			diag "$k: case $i ($body): exit $rc2, stored '$got', wanted '$wantx' or a refusal" "$err"
		fi
		[ "$(dbq 'select count(*), sum(x) from canary')" = "1|42" ] || { fails=$((fails + 1)); diag "$k: the canary is hurt after case $i"; }
	done
	is "$k: ${#cases[@]} SQL-looking values: each stored verbatim or refused, the canary intact" "$fails" 0
	figure "hostile.$k.stored_verbatim" "$stored"
	figure "hostile.$k.refused" "$refused"
	# names that look like SQL are refused, not run
	printf '{"canary; drop table canary": [{"x": 1}]}\n' >n1.json
	check "$k: a table name with SQL in it is refused" 1 '' '^strata: error: ' \
		"$STRATA" --database-url "$DB_URL" seed -f n1.json --dir m
	printf '{"vals": [{"id": 100, "s\\"); drop table canary; --": "x"}]}\n' >n2.json
	check "$k: a column name with SQL in it is refused" 1 '' '^strata: error: ' \
		"$STRATA" --database-url "$DB_URL" seed -f n2.json --dir m
	is "$k: ... the canary is intact" "$(dbq 'select count(*), sum(x) from canary')" "1|42"
}
each_db scenario
done_testing
