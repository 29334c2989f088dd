#!/usr/bin/env bash
# strata build: copies src/migrations into dist/migrations with a manifest.json of SHA-256s,
# removes stale files, leaves dist alone when a source file is broken; run uses the result.
. "$(dirname "$0")/lib.sh"

# manifest FILE: "file sha256" per migration, from the manifest
manifest() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == 1, d
assert d["generator"].startswith("strata "), d
for m in d["migrations"]:
    print(m["version"], m["name"], m["file"], m.get("down_file", "-"), m["sha256"])
' "$1" || echo "(no valid manifest in $1)"
}
# tree DIR: every file under DIR with its sha256sum, for "unchanged" checks
tree() { (cd "$1" && find . -type f | sort | xargs sha256sum); }

check 'build without src/migrations fails' 1 '^$' \
	"^strata: error: cannot open directory 'src/migrations': No such file or directory\$" strata build
like '... with a hint to create migrations' "$err" "^hint: create migrations with 'strata migration:create -n NAME', or point --src at them\$"
like '... and says dist was not changed' "$err" '^strata: build stopped; dist/migrations was not changed$'
is '... no dist was made' "$(test -e dist && echo exists || echo none)" none

mig src/migrations 1700000000001-CreateUsers.sql '-- migrate:up\ncreate table users (id int);\n-- migrate:down\ndrop table users;\n'
mig src/migrations 1700000000002-AddEmail.sql '-- migrate:up\nalter table users add column email text;\n-- migrate:down\nalter table users drop column email;\n'
mig src/migrations 1700000000003-Seed.sql '-- migrate:up\ninsert into users (id) values (1);\n-- migrate:down\ndelete from users;\n'
mig src/migrations README.md 'not a migration\n'
check 'build' 0 '' '^$' strata build
is '... stdout' "$(printf '%s\n' "$out" | norm)" "built 3 migrations from src/migrations into dist/migrations in T"
is '... dist holds the copies and the manifest' "$(ls dist/migrations | tr '\n' ' ')" \
	"1700000000001-CreateUsers.sql 1700000000002-AddEmail.sql 1700000000003-Seed.sql manifest.json "
is '... the copies are byte for byte the sources' \
	"$(cd dist/migrations && sha256sum 17*.sql)" "$(cd src/migrations && sha256sum 17*.sql)"
is '... the manifest lists each with its sha256sum' "$(manifest dist/migrations/manifest.json)" \
	"$(cd src/migrations && for f in 17*.sql; do v=${f%%-*}; n=${f#*-}; echo "$v ${n%.sql} $f - $(sha256sum <"$f" | cut -d' ' -f1)"; done)"

check 'migrations run after build reads dist/migrations' 0 '^applied 3 migrations in ' '^$' \
	strata --database-url sqlite:app.db migrations run
is '... applied' "$(sq_q app.db 'select id from users')" 1

# a rename and a deletion in src: the stale copies go from dist, other files there stay
mv src/migrations/1700000000003-Seed.sql src/migrations/1700000000003-SeedUsers.sql
rm src/migrations/1700000000002-AddEmail.sql
echo 'kept' >dist/migrations/NOTES.txt
check 'build again' 0 '' '^$' strata build
is '... stdout says what was removed' "$(printf '%s\n' "$out" | norm)" \
	"built 2 migrations from src/migrations into dist/migrations (removed 2 stale files) in T"
is '... dist' "$(ls dist/migrations | tr '\n' ' ')" \
	"1700000000001-CreateUsers.sql 1700000000003-SeedUsers.sql NOTES.txt manifest.json "
is '... manifest' "$(manifest dist/migrations/manifest.json | cut -d' ' -f1-3)" \
	"1700000000001 CreateUsers 1700000000001-CreateUsers.sql
1700000000003 SeedUsers 1700000000003-SeedUsers.sql"

# a broken source: build fails with file:line and does not touch dist
before=$(tree dist)
mig src/migrations 1700000000004-Broken.sql '-- migrate:up\ncreate table x (y int);\n-- migrate:up\n'
mig src/migrations 1700000000005-Fine.sql '-- migrate:up\ncreate table fine (y int);\n'
check 'build with a broken file fails' 1 '^$' \
	"^strata: error: src/migrations/1700000000004-Broken.sql:3:1: second '-- migrate:up' line\$" \
	strata build
like '... and says dist was not changed' "$err" '^strata: build stopped; dist/migrations was not changed$'
is '... dist is untouched (not even the fine new file)' "$(tree dist)" "$before"
printf -- '-- migrate:up\ninsert into t values (\x27\xff\x27);\n' >src/migrations/1700000000004-Broken.sql
check 'build with a non-UTF-8 file fails' 1 '^$' \
	'^strata: error: src/migrations/1700000000004-Broken.sql:2:24: migration file is not valid UTF-8' \
	strata build
is '... dist untouched' "$(tree dist)" "$before"
rm src/migrations/1700000000004-Broken.sql

# golang-migrate pairs and CRLF files are copied as they are
mig src/migrations 1700000000006_pair.up.sql 'create table pair (x int);\n'
mig src/migrations 1700000000006_pair.down.sql 'drop table pair;\n'
check 'build with a golang-migrate pair' 0 '^built 4 migrations ' '^$' strata build
is '... both halves copied' "$(cd dist/migrations && sha256sum 1700000000006_pair.*)" \
	"$(cd src/migrations && sha256sum 1700000000006_pair.*)"
like '... manifest names the down file' "$(manifest dist/migrations/manifest.json)" \
	'^1700000000006 pair 1700000000006_pair.up.sql 1700000000006_pair.down.sql [0-9a-f]{64}$'
check 'run after build applies the new ones' 0 '^applied 3 migrations in ' '^$' \
	strata --database-url sqlite:app.db migrations run
is '... history' "$(sq_q app.db 'select version || name from strata_migrations order by version')" \
	"1700000000001CreateUsers
1700000000002AddEmail
1700000000003Seed
1700000000003SeedUsers
1700000000005Fine
1700000000006pair"

# the manifest's sha256 reads CR LF as LF, so a CRLF checkout sums the same as an LF one
mig src/migrations 1700000000007-Crlf.sql '-- migrate:up\r\ncreate table crlf (x int);\r\n'
check 'build with a CRLF file' 0 '^built 5 migrations ' '^$' strata build
is '... copied byte for byte' "$(sha256sum <dist/migrations/1700000000007-Crlf.sql)" \
	"$(sha256sum <src/migrations/1700000000007-Crlf.sql)"
is '... its manifest sha256 is the sha256sum of its LF form' \
	"$(manifest dist/migrations/manifest.json | grep Crlf | cut -d' ' -f5)" \
	"$(sed 's/\r$//' src/migrations/1700000000007-Crlf.sql | sha256sum | cut -d' ' -f1)"

# --src and --out, and an empty source dir
mkdir empty
check 'build --src empty --out out2' 0 '^built 0 migrations from empty into out2 in ' '^$' \
	strata build --src empty --out out2
is '... manifest with no migrations' "$(manifest out2/manifest.json)" ""
check 'build with an unexpected argument' 2 '^$' "unexpected argument 'extra'" strata build extra
done_testing
