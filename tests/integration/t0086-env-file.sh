#!/usr/bin/env bash
# dbmate's configuration habits: ${VAR} and ${VAR:-default} in .env and strata.json values ($$ a
# literal $, '...' literal in .env), --env-file FILE (repeatable, in order, instead of .env; must
# exist), DATABASE_URL_FILE for secrets; every error names its place and the fix, and changes
# nothing; no password shows in any message. (SQLite only, and a refused connection.)
. "$(dirname "$0")/lib.sh"

mig dist/migrations 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
mkdir sub
no_db_files() { is "$1: ... no database file was created" "$(find . -name '*.db' | sort | tr '\n' ' ')" ""; }
# from URL SOURCE ARGS...: strata -v ARGS migrations show says the database is URL, from SOURCE
from() {
	local url=$1 src=$2
	shift 2
	check "$url $src${*:+ ($*)}" 0 "^database: $(req "$url") \\($(req "$src")\\)\$" '^$' \
		strata -v "$@" migrations show
}
unset DB_DIR DB_NAME DB_PASSWORD NOPE DATABASE_URL_FILE

# ---- expansion in .env ----
cat >.env <<'EOF'
# the dev database
DB_DIR=sub
export DATABASE_URL="sqlite:${DB_DIR}/${DB_NAME:-dev}.db"  # double quotes expand
EOF
from sqlite:sub/dev.db 'from .env'
check '... and migrations run applies to it' 0 '^applied 1 migration' '^$' strata migrations run
is '... sub/dev.db has the table' "$(sq_q sub/dev.db "select name from strata_migrations")" A
check '... migrations show lists it applied' 0 '^applied +1 +A ' '^$' strata migrations show
# the process environment wins over .env, for a reference as for DATABASE_URL itself
check 'the environment wins: DB_DIR and DB_NAME from it' 0 \
	'^database: sqlite:\./x\.db \(from \.env\)$' '^$' env DB_DIR=. DB_NAME=x "$STRATA" -v migrations show
check '... and DATABASE_URL from it over .env' 0 '^database: sqlite:e\.db \(from DATABASE_URL\)$' '^$' \
	env DATABASE_URL=sqlite:e.db "$STRATA" -v migrations show
check '... taken as it is, not expanded' 0 '^database: sqlite:\$\{DB_DIR\}\.db \(from DATABASE_URL\)$' '^$' \
	env 'DATABASE_URL=sqlite:${DB_DIR}.db' "$STRATA" -v migrations show
check '${VAR:-default}: an empty VAR takes the default' 0 '^database: sqlite:sub/dev\.db ' '^$' \
	env DB_NAME= "$STRATA" -v migrations show
printf "DATABASE_URL='sqlite:\${DB_DIR}\$\$.db'\n" >.env
from 'sqlite:${DB_DIR}$$.db' 'from .env'
printf 'DATABASE_URL=sqlite:pa$$word.db\n' >.env
from 'sqlite:pa$word.db' 'from .env'
printf 'DATABASE_URL="sqlite:a b$${X}.db"\n' >.env
from 'sqlite:a b${X}.db' 'from .env'
# lines strata does not use may hold other tools' syntax
printf 'OTHER=$HOME ${UNSET}\nDATABASE_URL=sqlite:ok.db\n' >.env
from sqlite:ok.db 'from .env'
rm sub/dev.db

# ---- expansion errors: file:line:col, the variable, the fix; nothing created ----
printf '# c\nDB_DIR=sub\nDATABASE_URL=sqlite:${DB_DIR}/${DB_NAME}.db\n' >.env
check 'an unset variable in .env: an error at its ${' 1 '^$' \
	"^strata: error: \\.env:3:31: variable 'DB_NAME' is not set\$" strata migrations run
like '... the hint says how to set it, give a default, or write a $' "$err" \
	'^hint: set DB_NAME in the environment or above this line, or give a default: \$\{DB_NAME:-VALUE\} \(a literal .\$. is written \$\$\)$'
no_db_files 'unset variable'
printf 'DATABASE_URL=sqlite:${DB_NAME}.db\nDB_NAME=late\n' >.env
check 'a variable set below its use: not set yet' 1 '^$' \
	"^strata: error: \\.env:1:21: variable 'DB_NAME' is not set\$" strata migrations run
like '... the detail says where it is set' "$err" '^detail: DB_NAME is set below, at \.env:2: move it above$'
printf 'DATABASE_URL=sqlite:$DB_NAME.db\n' >.env
check 'a $ that starts no ${...}: an error' 1 '^$' \
	"^strata: error: \\.env:1:21: '\\\$' starts no variable\$" strata migrations run
like '... hint: ${NAME}, $$, or single quotes' "$err" \
	"^hint: write \\\$\\{NAME\\} for a variable and \\\$\\\$ for a literal '\\\$' \\(or quote the value with '\\.\\.\\.': it is literal\\)\$"
printf 'DATABASE_URL=sqlite:${DB_NAME\n' >.env
check "a '\${' without its '}'" 1 '^$' "^strata: error: \\.env:1:21: '\\\$\\{' without its closing '\\}'\$" \
	strata migrations run
printf 'DATABASE_URL=sqlite:${DB_NAME:=x}.db\n' >.env
check "a form other than \${NAME} and \${NAME:-DEFAULT}" 1 '^$' \
	"^strata: error: \\.env:1:30: expected '\\}' or ':-' after the variable's name\$" strata migrations run
printf 'DATABASE_URL=sqlite:${9}.db\n' >.env
check 'a bad variable name' 1 '^$' "^strata: error: \\.env:1:21: bad variable name after '\\\$\\{'\$" \
	strata migrations run
no_db_files 'syntax errors'
# the secret next to a missing variable shows nowhere
printf 'DATABASE_URL=postgres://app:hunter2-xyz@127.0.0.1:1/${NOPE}\n' >.env
check 'a missing variable beside a password: the error' 1 '^$' \
	"^strata: error: \\.env:1:53: variable 'NOPE' is not set\$" strata migrations show
unlike '... it shows no password' "$out$err" 'hunter2'
rm .env

# ---- a URL built by expansion is masked like any other ----
printf 'DATABASE_URL=postgres://app:${DB_PASSWORD}@127.0.0.1:1/app\n' >.env
check 'a password from a variable: masked in the error' 1 '^$' \
	'^strata: error: cannot connect to postgres://app:\*\*\*\*@127\.0\.0\.1:1/app$' \
	env DB_PASSWORD=Sup3r-s3cret-7q "$STRATA" -v migrations show
unlike '... it shows nowhere' "$out$err" 'Sup3r-s3cret-7q'
rm .env

# ---- strata.json ----
printf '{"database_url": "sqlite:${DB_DIR:-.}/json.db",\n "dist_dir": "${DIST:-dist}/migrations"}\n' >strata.json
from sqlite:./json.db 'from config'
check '... migrations run reads dist_dir expanded' 0 '^applied 1 migration' '^$' \
	env DB_DIR=sub "$STRATA" migrations run
is '... into sub/json.db' "$(sq_q sub/json.db "select name from strata_migrations")" A
check '... a DIST that names no directory: the expanded one is read' 1 '^$' 'nodist/migrations' \
	env DIST=nodist "$STRATA" migrations show
printf '{"src_dir": "src",\n  "dist_dir": "${DIST}/migrations"}\n' >strata.json
check 'an unset variable in strata.json: its place' 1 '^$' \
	"^strata: error: strata\\.json:2:16: variable 'DIST' is not set\$" strata migrations show
like '... hint' "$err" '^hint: set DIST in the environment or an env file \(\.env\), or give a default'
printf '{"database_url": "sqlite:${NOPE}.db"}\n' >strata.json
check "the config's URL is expanded only when used" 0 '^database: sqlite:cli\.db ' '^$' \
	strata -v --database-url sqlite:cli.db migrations show
check '... and fails when used' 1 '^$' "^strata: error: strata\\.json:1:26: variable 'NOPE' is not set\$" \
	strata migrations show
printf 'DB_FILE=from-dotenv\n' >.env
printf '{"database_url": "sqlite:${DB_FILE}.db"}\n' >strata.json
from sqlite:from-dotenv.db 'from config'
rm .env strata.json sub/*.db

# ---- --env-file ----
printf 'DATABASE_URL=sqlite:default.db\n' >.env
printf 'DB_NAME=one\nDATABASE_URL=sqlite:${DB_NAME}.db\n' >a.env
printf 'DATABASE_URL=sqlite:${DB_NAME}-two.db\n' >b.env
from sqlite:one.db 'from a.env' --env-file a.env
from sqlite:one-two.db 'from b.env' --env-file a.env --env-file=b.env
check '--env-file after the command' 0 '^database: sqlite:one\.db \(from a\.env\)$' '^$' \
	strata migrations show -v --env-file a.env
check '--env-file replaces .env' 0 '^database: sqlite:one\.db \(from sub/\.\./a\.env\)$' '^$' \
	strata -v --env-file sub/../a.env --env-file /dev/null migrations show
check '--env-file naming a missing file' 1 '^$' \
	"^strata: error: nope\\.env: cannot read env file 'nope\\.env': No such file or directory\$" \
	strata --env-file a.env --env-file nope.env migrations run
like '... hint' "$err" '^hint: --env-file names a file that must exist'
check '... even with --database-url' 1 '^$' "cannot read env file 'nope\\.env'" \
	strata --database-url sqlite:x.db --env-file nope.env migrations run
check '--env-file without a value' 2 '^$' "^strata: option '--env-file' needs a value\$" \
	strata migrations show --env-file
check '... even when it sets nothing' 0 '^database: sqlite:strata\.db \(from default\)$' '^$' \
	strata -v --env-file /dev/null migrations show
from sqlite:one.db 'from a.env' --env-file b.env --env-file a.env # the later file wins
rm .env
from sqlite:strata.db 'from default'
no_db_files 'env files'

# ---- DATABASE_URL_FILE ----
printf 'sqlite:secret.db\n' >url
check 'DATABASE_URL_FILE in the environment: the URL from the file, newline trimmed' 0 \
	'^database: sqlite:secret\.db \(from DATABASE_URL_FILE\)$' '^$' \
	env DATABASE_URL_FILE=url "$STRATA" -v migrations show
check '... migrations run uses it' 0 '^applied 1 migration' '^$' \
	env DATABASE_URL_FILE=url "$STRATA" migrations run
is '... secret.db has the table' "$(sq_q secret.db "select name from strata_migrations")" A
printf 'SECRETS=.\nDATABASE_URL_FILE=${SECRETS}/url\n' >.env
from sqlite:secret.db 'from .env (DATABASE_URL_FILE)'
printf 'DATABASE_URL=sqlite:x.db\nDATABASE_URL_FILE=url\n' >.env
check 'both in .env: an error' 1 '^$' \
	'^strata: error: \.env:2: both DATABASE_URL and DATABASE_URL_FILE are set in the env files$' \
	strata migrations show
like '... the detail says where' "$err" '^detail: DATABASE_URL is set at \.env:1, DATABASE_URL_FILE at \.env:2$'
like '... the hint says which to remove' "$err" \
	'^hint: remove DATABASE_URL to read the value from the file DATABASE_URL_FILE names, or DATABASE_URL_FILE to use DATABASE_URL as it is$'
rm .env
check 'both in the environment: an error' 1 '^$' \
	'^strata: error: both DATABASE_URL and DATABASE_URL_FILE are set in the environment$' \
	env DATABASE_URL=sqlite:x.db DATABASE_URL_FILE=url "$STRATA" migrations run
like '... the hint says which to unset' "$err" '^hint: unset DATABASE_URL to read the value from the file DATABASE_URL_FILE names, or DATABASE_URL_FILE to use'
check '... the environment wins over .env: no conflict across them' 0 \
	'^database: sqlite:secret\.db \(from DATABASE_URL_FILE\)$' '^$' \
	env DATABASE_URL_FILE=url "$STRATA" -v --env-file <(printf 'DATABASE_URL=sqlite:x.db\n') migrations show
: >empty
check 'an empty file: an error naming it' 1 '^$' \
	'^strata: error: empty: the file DATABASE_URL_FILE names is empty$' \
	env DATABASE_URL_FILE=empty "$STRATA" migrations run
like '... hint' "$err" '^hint: a secret that failed to mount leaves it empty: write the value into it, or unset DATABASE_URL_FILE$'
printf '\n' >empty
check '... a lone newline is empty too' 1 '^$' 'the file DATABASE_URL_FILE names is empty$' \
	env DATABASE_URL_FILE=empty "$STRATA" migrations run
check 'a missing file: an error naming it' 1 '^$' \
	'^strata: error: /run/nope/url: cannot read the file DATABASE_URL_FILE names: No such file or directory$' \
	env DATABASE_URL_FILE=/run/nope/url "$STRATA" migrations run
like '... hint' "$err" '^hint: fix the path in DATABASE_URL_FILE, or unset it$'
printf 'DATABASE_URL_FILE=sub\n' >.env
check 'an unreadable file (a directory), named in .env' 1 '^$' \
	'^strata: error: sub: cannot read the file DATABASE_URL_FILE names: Is a directory$' \
	strata migrations run
like '... the detail says where it is set' "$err" '^detail: DATABASE_URL_FILE is set at \.env:1$'
rm .env
check 'DATABASE_URL_FILE set but empty' 1 '^$' \
	'^strata: error: DATABASE_URL_FILE is set but empty in the environment$' \
	env DATABASE_URL_FILE= "$STRATA" migrations run
printf 'postgres://app:Fi1e-s3cret-9z@127.0.0.1:1/app\n' >pgurl
check 'a URL from a file: its password masked' 1 '^$' \
	'^strata: error: cannot connect to postgres://app:\*\*\*\*@127\.0\.0\.1:1/app$' \
	env DATABASE_URL_FILE=pgurl "$STRATA" -v migrations show
unlike '... the password shows nowhere' "$(cat "$TEST_DIR/.all")" 'Fi1e-s3cret-9z|Sup3r-s3cret-7q|hunter2'
rm secret.db
no_db_files 'DATABASE_URL_FILE errors'
done_testing
