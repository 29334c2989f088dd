#!/usr/bin/env bash
# The password is masked where it is the password (a URL's user-info, a password= value), never
# elsewhere: a password that is also a letter or a word ("t", "app") garbles no message, and a
# distinctive or URL-encoded one shows in no output, error or --json.
. "$(dirname "$0")/lib.sh"
need_pg

H=${PGHOST}
case $H in /*) H=localhost ;; esac
P=${PGPORT:-5432}
ROLES=()
trap 'for r in "${ROLES[@]+"${ROLES[@]}"}"; do "$PSQL" -X -q -d "$PG_DB" -c "drop owned by $r cascade" >/dev/null 2>&1; "$PSQL" -X -q -d postgres -c "drop role if exists $r" >/dev/null 2>&1; done; _cleanup' EXIT

# role NAME PASSWORD: a login role that may migrate $PG_DB
role() {
	echo "create role $1 login superuser password :'pw'" |
		"$PSQL" -X -q -d postgres -v ON_ERROR_STOP=1 -v pw="$2" >/dev/null || bail "cannot create role $1"
	ROLES+=("$1")
}
# enc TEXT: TEXT percent-encoded for a URL's user-info
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# a refused connection with the password "t": the message is libpq's, whole
mkdir none
check 'password t: a refused connection is reported ungarbled' 1 '^$' \
	'^strata: error: cannot connect to postgres://app:\*\*\*\*@127\.0\.0\.1:1/app$' \
	strata --database-url postgres://app:t@127.0.0.1:1/app migrations show --dir none
like '... the detail is libpq'"'"'s message, every t in place' "$err" \
	'^detail: connection to server at "127\.0\.0\.1", port 1 failed: Connection refused$'
like '... the hint' "$err" '^hint: is the server running, and are the host and port in the URL right\?$'
unlike '... no mask anywhere but in the URL' "$(printf '%s\n' "$err" | grep -v '^strata: error: cannot connect')" '\*\*\*\*'

# the password "app" and a migration that names a table starting with "app"
r=app_$$
role "$r" app
mig m 1-Settings.sql '-- migrate:up\ninsert into application_settings values (1);\n-- migrate:down\n'
check 'password app: a failing migration names its relation ungarbled' 1 '' \
	'^strata: error: m/1-Settings\.sql:2:13: relation "application_settings" does not exist \[42P01\]$' \
	strata --database-url "postgres://$r:app@$H:$P/$PG_DB" migrations run --dir m
like '... the source line is the file'"'"'s' "$err" '^     2 \| insert into application_settings values \(1\);$'
like '... the URL shown is masked' "$out" "^applying 1 migration to postgres://$r:\\*\\*\\*\\*@"
check '... and show prints the URL masked, the names whole' 0 \
	"^1 migration: 0 applied, 1 pending \\(postgres://$r:\\*\\*\\*\\*@$H:$P/$PG_DB\\)\$" '^$' \
	strata --database-url "postgres://$r:app@$H:$P/$PG_DB" migrations show --dir m
like '... with the name unmasked' "$out" '1-Settings|Settings'
rm m/1-Settings.sql

# passwords short, common, long and needing URL encoding, through many commands
mig m 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
printf '{"a": [{"x": 1}]}\n' >seed.json
i=0
for pw in 't' 'password' 'postgres' 'Sup3rS3cr3t-Xq7zW-long-and-distinctive-0123456789' 'p@ss:w/rd?#%&=+ é'; do
	i=$((i + 1))
	r=strata_pw_${$}_$i
	role "$r" "$pw"
	e=$(enc "$pw")
	url="postgres://$r:$e@$H:$P/$PG_DB"
	: >"$TEST_DIR/.all"
	run strata --database-url "$url" migrations run --dir m
	is "pw $i: the run with it works" "$rc" 0
	run strata --database-url "$url" -v migrations show --dir m --json
	run strata --database-url "$url" migrations revert --dir m
	run strata --database-url "$url" seed -f seed.json --dir m
	run strata --database-url "$url?password=$e&application_name=pw" -v migrations show --dir m
	run strata --database-url "host=$H port=$P dbname=$PG_DB user=$r password='${pw//\'/\\\'}'" migrations show --dir m
	run strata --database-url "postgres://$r:${e}x@$H:$P/$PG_DB" migrations show --dir m
	run strata --database-url "postgres://$r:$e@127.0.0.1:1/x" migrations show --dir m
	run strata --database-url "postgres://$r:$e%zz@$H:$P/$PG_DB" migrations show --dir m
	DATABASE_URL=$url run strata -v migrations show --dir m
	all=$(cat "$TEST_DIR/.all")
	for form in "$pw" "$e"; do
		if [ "$i" -ge 4 ]; then # distinctive: nowhere at all
			unlike "pw $i: '$form' shows nowhere in the output" "$all" "$(req "$form")"
		else
			unlike "pw $i: '$form' shows in no URL or password= of the output" "$all" \
				"(:$(req "$form")@|password=$(req "$form")([&' ]|\$))"
		fi
	done
	like "pw $i: ... the URL is shown masked" "$all" "postgres://$r:\\*\\*\\*\\*@"
done

# a URL built by ${VAR} expansion (.env, strata.json) or read through DATABASE_URL_FILE is masked
# the same way, and an error about a missing variable beside a password shows no password
pw='Exp4nd-s3cret-Zq9'
r=strata_pw_${$}_x
role "$r" "$pw"
: >"$TEST_DIR/.all"
printf 'DATABASE_URL=postgres://%s:${PW}@%s:%s/%s\n' "$r" "$H" "$P" "$PG_DB" >.env
PW=$pw run strata -v migrations run --dir m
is 'expanded in .env: the run works' "$rc" 0
like '... the URL is shown masked' "$out" "^database: postgres://$r:\\*\\*\\*\\*@.* \\(from \\.env\\)\$"
printf 'DATABASE_URL=postgres://%s:%s@%s:%s/${NOPE}\n' "$r" "$pw" "$H" "$P" >.env
run strata migrations show --dir m
like 'a missing variable beside the password: the error' "$err" "^strata: error: \\.env:1:[0-9]+: variable 'NOPE' is not set\$"
rm .env
printf '{"database_url": "postgres://%s:${PW}@%s:%s/%s"}\n' "$r" "$H" "$P" "$PG_DB" >strata.json
PW=$pw run strata -v migrations revert --dir m
is 'expanded in strata.json: the revert works' "$rc" 0
like '... the URL is shown masked' "$out" "^database: postgres://$r:\\*\\*\\*\\*@.* \\(from config\\)\$"
rm strata.json
printf 'postgres://%s:%s@%s:%s/%s\n' "$r" "$pw" "$H" "$P" "$PG_DB" >url
DATABASE_URL_FILE=url run strata -v migrations show --dir m --json
is 'read from DATABASE_URL_FILE: show works' "$rc" 0
like '... the URL is shown masked' "$out" "postgres://$r:\\*\\*\\*\\*@"
unlike "... '$pw' shows in none of their output" "$(cat "$TEST_DIR/.all")" "$(req "$pw")"
done_testing
