#!/usr/bin/env bash
# migrations show streams (issue 15), on PostgreSQL and SQLite: from a build whose manifest vouches for
# dist/ and a history it can read in order, show merges the manifest and the history as it reads
# them, holding one entry of each, and prints each line as it goes. Shown here: it lists what
# the full read lists, in text and JSON, with every state (applied, pending, missing, failed, an
# accepted edit), versions of different lengths and with leading zeros in numeric order, two
# names of one version in byte order, a UTF-8 name; -v says it streamed; a database without a
# history; sources that are not a build, read a migration at a time, stream the same; and what
# it cannot stream (two sources, a history table from an older strata) is listed by the full
# read.
. "$(dirname "$0")/lib.sh"
need_pg

# case ENGINE URL Q: the whole story on one database; Q runs SQL on it
case_for() {
	local k=$1 url=$2 q=$3 ts1 ts2
	mkdir -p "$k/src/migrations" && cd "$k" || bail "no project dir"
	printf '{"database_url": "%s"}\n' "$url" >strata.json
	m() { mig src/migrations "$1-$2.sql" "-- migrate:up\ncreate table t_$3 (x int);\n-- migrate:down\ndrop table t_$3;\n"; }
	m 9 nine a
	m 10 ten b
	m 10 Ten c
	m 100 hundred d
	m 0011 eleven e
	m 2000 'ünï' f
	m 30000 last g
	STREAMED='^listed 7 migrations as the build manifest and the history were read, in '
	check "$k: build" 0 '^built 7 migrations' '^$' strata build --dialect "$k"
	check "$k: no history table yet: show streams, all pending" 0 "$STREAMED" '^$' strata -v migrations show
	like "$k: ... all seven" "$out" '^7 migrations: 0 applied, 7 pending'
	like "$k: ... the last of them" "$out" '^pending  30000   last    -  '

	strata migrations run --to 100 >/dev/null
	if [ "$k" = postgres ]; then
		ts1="'1969-12-31 23:59:59.5+00'" ts2="'2026-01-02 03:04:05.678+00'"
	else
		ts1="'1969-12-31T23:59:59.500Z'" ts2="'2026-01-02T03:04:05.678Z'"
	fi
	$q "insert into strata_migrations (version, name, checksum) values ('50', 'gone', 'a'), ('99999', 'later', 'b')" >/dev/null
	$q "update strata_migrations set status = 'failed', progress = 1 where version = '100'" >/dev/null
	$q "update strata_migrations set previous_checksum = 'c', accepted_at = $ts2, applied_at = $ts1 where version = '9'" >/dev/null

	STREAMED='^listed 9 migrations as the build manifest and the history were read, in '
	check "$k: show streams the build and the history (-v says so)" 0 "$STREAMED" '^$' strata -v migrations show
	check "$k: ... the listing" 0 '' '^$' strata migrations show
	stream=$out
	is "$k: ... in version order: numbers by value, names byte by byte" \
		"$(printf '%s\n' "$stream" | sed -n '2,10p' | awk '{print $1, $2, $3}' | tr '\n' ',')" \
		"applied 9 nine,applied 10 Ten,applied 10 ten,applied 0011 eleven,missing 50 gone,failed 100 hundred,pending 2000 ünï,pending 30000 last,missing 99999 later,"
	like "$k: ... times as the full read shows them" "$stream" \
		'^applied  9       nine    1969-12-31T23:59:59\.500Z [0-9.]+ m?s  \[edit accepted 2026-01-02T03:04:05\.678Z\]$'
	like "$k: ... the counts" "$stream" '^9 migrations: 4 applied, 2 pending, 2 applied but missing on disk, 1 failed part-way'
	check "$k: sources that are not a build: streamed too, a migration at a time" 0 \
		'^listed 9 migrations as the migrations and the history were read, in ' '^$' \
		strata -v migrations show --dir src/migrations
	check "$k: ... listing the same" 0 '' '^$' strata migrations show --dir src/migrations
	is "$k: ... line for line" "$out" "$stream"
	check "$k: show --json streams too" 0 '' '' strata migrations show --json
	json_stream=$(printf '%s\n' "$out" | sed 's|"dist/migrations/|"src/migrations/|')
	check "$k: ... and the JSON of sources that are not a build" 0 '' '' strata migrations show --json --dir src/migrations
	is "$k: ... is the same (but the files: dist/ against src/)" "$json_stream" "$out"
	like "$k: ... a valid document with every entry" "$(printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["migrations"]), d["applied"], d["pending"], d["missing"], d["failed"])')" '^9 4 2 2 1$'
	check "$k: show --exit-code: failed part-way is exit 4" 4 '' '' strata migrations show --exit-code
	# a source that does not parse, listed last: refused before the first line, as the full
	# read refuses it
	mig src/migrations 99999-zz.sql '-- migrate:up\nselect 1;\n-- migrate:up\nselect 2;\n'
	check "$k: a source that does not parse: nothing listed" 1 '^$' \
		"^strata: error: src/migrations/99999-zz\\.sql:3:1: second '-- migrate:up' line" \
		strata migrations show --dir src/migrations
	check "$k: ... in JSON either" 1 '^$' 'second' strata migrations show --json --dir src/migrations
	rm src/migrations/99999-zz.sql
	# the listing reads the manifest's "files" list (a file name each, written before the
	# entries) and stops there; a manifest cut short is refused before the first line
	like "$k: the manifest lists the files before the entries" \
		"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(list(d)[:7], d["files"] == [m["file"] for m in d["migrations"]])' dist/migrations/manifest.json)" \
		"'longest_name', 'files'\\] True$"
	cp dist/migrations/manifest.json manifest.bak
	head -c "$(grep -b '"version"' manifest.bak | sed -n 4p | cut -d: -f1)" manifest.bak \
		>dist/migrations/manifest.json
	check "$k: a manifest cut short: refused before the first line" 1 '^$' \
		'manifest is unreadable' strata migrations show
	check "$k: ... --json too" 1 '^$' 'manifest is unreadable' strata migrations show --json
	# a manifest whose files are one short of its count: refused
	manifest_edit() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec(sys.argv[2]); json.dump(d, open("dist/migrations/manifest.json", "w"), indent=2)' manifest.bak "$1"; }
	manifest_edit 'd["files"].pop(3)'
	check "$k: a files list one short of the count: refused" 1 '^$' 'manifest is unreadable' \
		strata migrations show
	# a name in the list that is no migration file: the listing stops there, saying why, and
	# --json's document is still one document, which says it too
	manifest_edit 'd["files"][3] = "README.md"'
	check "$k: a file in the list that is no migration: the listing stops there" 1 \
		'^applied  10 +ten ' 'manifest is unreadable' strata migrations show
	unlike "$k: ... and lists nothing after it" "$out" 'eleven'
	check "$k: ... --json too" 1 '' 'manifest is unreadable' strata migrations show --json
	like "$k: ... in one valid document that says why it ends" \
		"$(printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["migrations"]), "applied" in d, d["error"], d["error_file"])')" \
		'^3 False the build manifest is unreadable dist/migrations/manifest\.json$'
	# a list that names other files than the entries (edited by hand): the listing reads the
	# list alone and trusts it; every reader of the entries (validate, a run) refuses it (the
	# history here has a migration stopped part-way, which a run would stop at first)
	manifest_edit 'd["files"][-1] = "99999-other.sql"'
	check "$k: a list that is not the entries': show lists the list" 0 '^pending  99999 +other ' \
		'^$' strata migrations show
	check "$k: ... validate refuses it" 1 '' 'manifest is unreadable' strata migrations validate
	# a manifest from an older build, without the list: read entry by entry, the same listing
	manifest_edit 'del d["files"]'
	check "$k: a manifest without the files list (an older build): streamed" 0 \
		"$STREAMED" '^$' strata -v migrations show
	check "$k: ... the same listing" 0 '' '^$' strata migrations show
	is "$k: ... line for line" "$out" "$stream"
	check "$k: ... the same JSON" 0 '' '' strata migrations show --json
	is "$k: ... entry for entry" "$(printf '%s\n' "$out" | sed 's|"dist/migrations/|"src/migrations/|')" "$json_stream"
	# (cut short, it is refused before the first line too)
	python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); open(sys.argv[1],"wb").write(b[:b.index(b"\"version\"", b.index(b"migrations"))+200])' dist/migrations/manifest.json
	check "$k: ... and cut short, refused before the first line" 1 '^$' \
		'manifest is unreadable' strata migrations show
	mv manifest.bak dist/migrations/manifest.json
	strata build --dialect "$k" >/dev/null # the source directory changed: the build vouches again
	# a history row whose version is written without the file's leading zeros: the line
	# shows the file's, as the full read does
	$q "update strata_migrations set version = '11' where version = '0011'" >/dev/null
	check "$k: a row's version as 11, its file's 0011: the file's shown" 0 \
		'^applied  0011    eleven ' '^$' strata migrations show
	check "$k: ... from the sources too" 0 '^applied  0011    eleven ' '^$' \
		strata migrations show --dir src/migrations
	$q "update strata_migrations set version = '0011' where version = '11'" >/dev/null

	# a history table from an older strata (no accepted columns): the full read, the same list
	$q "alter table strata_migrations drop column previous_checksum" >/dev/null
	$q "alter table strata_migrations drop column accepted_at" >/dev/null
	check "$k: a history from an older strata: the full read" 0 '^read the history \(7 rows\)' '^$' strata -v migrations show
	unlike "$k: ... not streamed" "$out" 'as the build manifest and the history were read'
	check "$k: ... the listing" 0 '' '^$' strata migrations show
	is "$k: ... the same lines, without the accepted edit" "$out" "$(printf '%s\n' "$stream" | sed 's/  \[edit accepted .*\]$//')"
	cd "$TEST_DIR" || bail "cd"
}

case_for postgres "$PG_URL" pg_q
# the order index a run made once the history was long (PostgreSQL)
is "postgres: a run made the history's order index" \
	"$(pg_q "select count(*) from pg_indexes where tablename = 'strata_migrations' and indexname = 'strata_migrations_order'")" 1
# times the client formats from the binary value: 'infinity' and '-infinity' as the full read
# shows them (empty), not as undefined arithmetic
pg_q "alter table strata_migrations add column previous_checksum text, add column accepted_at timestamptz" >/dev/null
pg_q "update strata_migrations set applied_at = '-infinity' where version = '10' and name = 'ten'; update strata_migrations set applied_at = 'infinity' where version = '10' and name = 'Ten'" >/dev/null
check "postgres: -infinity and infinity in the history: show streams them" 0 \
	'^applied  10      Ten                              [0-9.]+ m?s$' '^$' \
	strata --database-url "$PG_URL" migrations show --dir postgres/dist/migrations
like "postgres: ... both empty" "$out" '^applied  10      ten                              [0-9.]+ m?s$'
check "postgres: ... (streamed)" 0 'as the build manifest and the history were read' '^$' \
	strata -v --database-url "$PG_URL" migrations show --dir postgres/dist/migrations

# a history of up to STRATA_EACH_FEW_ROWS (2048) rows is read unordered and sorted by strata,
# sparing the server the sort (the cases above); a longer one is read in order, a row at a time
new_db pg
mkdir -p long && for i in $(seq 1 2050); do printf -- '-- migrate:up\nselect %d;\n' "$i" >"long/$i-m$i.sql"; done
printf -- '-- migrate:up\nselect 0;\n' >long/0007-seven.sql
check "postgres: 2051 migrations" 0 '^applied 2051 migrations' '' \
	strata --database-url "$PG_URL" migrations run --dir long --transaction all
check "postgres: ... show streams them in order" 0 \
	'^listed 2051 migrations as the migrations and the history were read' '^$' \
	strata -v --database-url "$PG_URL" migrations show --dir long
is "postgres: ... in version order, numbers by value" \
	"$(awk '$1 == "applied" { print $2 }' <<<"$out" | sort -c -s -n 2>&1 && awk '$1 == "applied"' <<<"$out" | sed -n '7p;8p' | awk '{ print $2 }' | tr '\n' ' ')" \
	"7 0007 "
like "postgres: ... all applied" "$out" '^2051 migrations: 2051 applied, 0 pending'
# an empty build streams too (its manifest sizes no column): the first show of a new project
new_db pg
mkdir -p empty/src
check "postgres: an empty build" 0 '^built 0 migrations' '' \
	strata build --src empty/src --out empty/dist --dialect postgres
check "postgres: ... streams" 0 '^listed 0 migrations as the build manifest and the history were read' \
	'^$' strata -v --database-url "$PG_URL" migrations show --dir empty/dist

# names the server orders otherwise than UTF-8 bytes (a WIN1252 database): the full read
"$PSQL" -X -q -d postgres -c "CREATE DATABASE \"${PG_DB}_w\" ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
_dbs+=("${PG_DB}_w")
mkdir -p win/src/migrations && cd win || bail "cd win"
mig src/migrations '10-aé.sql' '-- migrate:up\nselect 1;\n'
mig src/migrations '10-a€.sql' '-- migrate:up\nselect 1;\n'
WURL="${PG_URL%/*}/${PG_DB}_w"
strata build --dialect postgres >/dev/null
strata --database-url "$WURL" migrations run >/dev/null
check "a WIN1252 database: show lists both, applied (read in full)" 0 '^2 migrations: 2 applied, 0 pending' '^$' \
	strata -v --database-url "$WURL" migrations show
unlike "... not streamed" "$out" 'as the build manifest and the history were read'
cd "$TEST_DIR" || bail "cd"

sqlite_q() { sq_q "$TEST_DIR/sqlite/h.db" "$1"; }
case_for sqlite "sqlite:$TEST_DIR/sqlite/h.db" sqlite_q

# a UTF-16 SQLite database sorts names otherwise: the full read
mkdir -p u16/src/migrations && cd u16 || bail "cd u16"
sq_q h.db "PRAGMA encoding='UTF-16le'; create table keep (x)" >/dev/null
mig src/migrations '10-az.sql' '-- migrate:up\nselect 1;\n'
mig src/migrations '10-aĀ.sql' '-- migrate:up\nselect 1;\n'
strata build >/dev/null
strata --database-url sqlite:h.db migrations run >/dev/null
check "a UTF-16 SQLite database: show lists both, applied" 0 '^2 migrations: 2 applied, 0 pending' '^$' \
	strata --database-url sqlite:h.db migrations show

cd "$TEST_DIR" || bail "cd"

# SQLite: a show whose reader is slow (show | less) holds no lock while it waits: a run writes
mkdir -p slow/src/migrations && cd slow || bail "cd slow"
mig src/migrations '1-a.sql' '-- migrate:up\ncreate table a (x int);\n'
strata build >/dev/null
strata --database-url sqlite:h.db migrations run >/dev/null
sq_q h.db "with recursive g(i) as (select 20 union all select i + 1 from g where i < 5000) insert into strata_migrations (version, name, checksum) select i, 'old_migration_' || i, 'c' from g" >/dev/null
mig src/migrations '99999-late.sql' '-- migrate:up\ncreate table late (x int);\n'
strata build >/dev/null
# show writes into a fifo nobody reads yet: it stops in the kernel's pipe_write, half-way
mkfifo show.out
"$STRATA" --database-url sqlite:h.db migrations show >show.out &
slow=$!
exec {rd}<show.out
blocked() { case "$(cat "/proc/$slow/wchan" 2>/dev/null)" in *pipe_write*) return 0 ;; esac; return 1; }
until_true 600 blocked
is "SQLite: show stopped half-way, its reader not reading" "$?" 0
check "... a run meanwhile is not blocked" 0 '^  applied   99999-late ' '^$' \
	strata --database-url sqlite:h.db migrations run --lock-wait 1s
cat <&"$rd" >/dev/null
exec {rd}<&-
wait "$slow"
is "... and show finishes" "$?" 0
cd "$TEST_DIR" || bail "cd"
done_testing
