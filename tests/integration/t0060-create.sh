#!/usr/bin/env bash
# migration:create -n NAME and migrations create NAME: the file name, its scaffold, bad names,
# the default directory.
. "$(dirname "$0")/lib.sh"

scaffold=$(printf -- '-- migrate:up\n\n\n-- migrate:down\n\n' | od -c)

t0=$(date +%s%3N)
check 'migration:create -n UserChanged --dir src/migrations' 0 \
	'^src/migrations/[0-9]{13}-UserChanged\.sql$' \
	"^strata: created [0-9]{13}-UserChanged\\.sql: write the change under '-- migrate:up' and its undo under '-- migrate:down'\$" \
	strata migration:create -n UserChanged --dir src/migrations
t1=$(date +%s%3N)
f=$out
is '... prints one line' "$(printf '%s\n' "$out" | wc -l)" 1
is '... the file exists' "$(test -f "$f" && echo yes)" yes
is '... it is the only file' "$(ls src/migrations)" "${f#src/migrations/}"
is '... the scaffold has -- migrate:up and -- migrate:down' "$(od -c <"$f")" "$scaffold"
v=${f#src/migrations/}
v=${v%%-*}
is '... the version is the current time in ms' \
	"$([ "$v" -ge "$t0" ] && [ "$v" -le "$t1" ] && echo yes || echo "no: $t0 <= $v <= $t1")" yes

check 'migrations create Name (default dir src/migrations)' 0 \
	'^src/migrations/[0-9]{13}-AddEmail\.sql$' '^strata: created ' \
	strata migrations create AddEmail
is '... the scaffold' "$(od -c <"$out")" "$scaffold"
check 'migration:create -n without --dir uses src/migrations' 0 \
	'^src/migrations/[0-9]{13}-Third_one\.sql$' '' strata migration:create -n Third_one
check 'migrations create -n Name works too' 0 '^src/migrations/[0-9]{13}-_Under\.sql$' '' \
	strata migrations create -n _Under
check '-q prints the path only' 0 '^src/migrations/[0-9]{13}-Quiet\.sql$' '^$' \
	strata -q migration:create -n Quiet
check 'a nested --dir is created' 0 '^db/a/b/[0-9]{13}-Deep\.sql$' '' \
	strata migration:create -n Deep --dir db/a/b
is '... file there' "$(ls db/a/b | grep -c -- '-Deep\.sql$')" 1
n_before=$(find . -name '*.sql' | wc -l)

# the names build reads (core/migration.h): letters (any UTF-8 ones), digits, _, - and ., not
# starting with - or .
for bad in 'a b' '-x' '.x' 'a/b' 'a;b' ''; do
	check "migration:create -n '$bad' is a usage error" 2 '^$' \
		"^strata migration:create: '$bad' is not a valid migration name: use letters, digits, '_', '-' and '\\.', starting with a letter, a digit or '_'" \
		strata migration:create -n "$bad"
	like "... with a pointer to --help" "$err" "^Try 'strata migration:create --help' for more information\\.\$"
done
check "migrations create 'a b' is a usage error" 2 '^$' "'a b' is not a valid migration name" \
	strata migrations create 'a b'
check 'migration:create with no name is a usage error' 2 '^$' \
	'^strata migration:create: a name is needed: -n NAME$' strata migration:create
check 'migrations create with two names is a usage error' 2 '^$' "unexpected argument 'Two'" \
	strata migrations create One Two
check 'a name of 201 characters is refused' 2 '^$' 'is not a valid migration name' \
	strata migration:create -n "$(printf 'a%.0s' $(seq 201))"
is 'no file was created by the bad calls' "$(find . -name '*.sql' | wc -l)" "$n_before"

# what build reads, create makes, and the other way round
for good in 1abc a-b.v2 'é'; do
	check "migration:create -n '$good' works" 0 "^ok/[0-9]{13}-$good\\.sql\$" '' \
		strata migration:create -n "$good" --dir ok
done
check '... and build reads all three' 0 '^built 3 migrations from ok ' '' \
	strata build --src ok --out ok-built --dialect postgres

# --dir is a file: cannot create
echo x >afile
check '--dir that is a file fails' 1 '^$' "^strata: error: 'afile' exists and is not a directory\$" \
	strata migration:create -n X --dir afile

# strata.json's src_dir is the default
mkdir proj
printf '{"src_dir": "db/src"}' >proj/strata.json
(cd proj && run "$STRATA" migration:create -n FromConfig && printf '%s\n%s\n%s\n' "$rc" "$out" "$err" >../res)
like 'src_dir from strata.json is the default dir' "$(sed -n 2p res)" '^db/src/[0-9]{13}-FromConfig\.sql$'
is '... exit 0' "$(sed -n 1p res)" 0
is '... file is there' "$(ls proj/db/src | grep -c 'FromConfig')" 1

# what create makes, run accepts: an empty up section is applied and recorded
rm -rf src/migrations/*Third_one* src/migrations/*_Under* src/migrations/*Quiet*
check 'the created files run' 0 '^applied 2 migrations in ' '^$' \
	strata --database-url sqlite:c.db migrations run --dir src/migrations
is '... recorded' "$(sq_q c.db 'select name from strata_migrations order by version')" "UserChanged
AddEmail"
done_testing
