#!/usr/bin/env bash
# migrations show: the table (applied / pending / missing), --json, --exit-code.
. "$(dirname "$0")/lib.sh"

# Summarises `show --json` on stdin: one line per migration, then the counts.
json_summary() {
	python3 -c '
import json, re, sys
d = json.load(sys.stdin)
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
for m in d["migrations"]:
    assert set(m) == {"version", "name", "status", "file", "applied_at", "duration_ms",
                      "previous_checksum", "accepted_at"}, sorted(m)
    at = m["applied_at"]
    dur = m["duration_ms"]
    print("%s|%s|%s|%s|%s|%s" % (m["version"], m["name"], m["status"], m["file"],
          "null" if at is None else ("iso" if iso.match(at) else "BAD:" + at),
          "null" if dur is None else ("num" if isinstance(dur, (int, float)) and dur >= 0 else "BAD:%r" % dur)))
print("applied=%d pending=%d missing=%d database=%s" % (d["applied"], d["pending"], d["missing"], d["database"]))
' || echo "(no valid show JSON)"
}

scenario() {
	local k=$1 d=m_$1
	mig "$d" 1-First.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
	mig "$d" 2-Second.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'
	mig "$d" 10-Third.sql '-- migrate:up\ncreate table c (x int);\n-- migrate:down\ndrop table c;\n'
	new_db "$k"

	check "$k: show on a new database: all pending" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	is "$k: ... the table" "$out" "STATUS   VERSION NAME   APPLIED AT               DURATION
pending  1       First  -                        -
pending  2       Second -                        -
pending  10      Third  -                        -
3 migrations: 0 applied, 3 pending ($DB_DISPLAY$([ "$k" = sqlite ] && echo ', which does not exist yet'))"
	is "$k: ... show created nothing (no history table)" "$(db_tables)" ""
	check "$k: --exit-code with pending migrations exits 3" 3 '^3 migrations: 0 applied, 3 pending' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --exit-code

	strata --database-url "$DB_URL" migrations run --dir "$d" --to 2 >/dev/null 2>&1
	check "$k: show after two are applied" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	like "$k: ... applied rows have a time and a duration" "$out" \
		'^applied  1       First  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z +[0-9]+\.[0-9] ms$'
	like "$k: ... 2 applied" "$out" '^applied  2       Second [0-9]{4}-'
	like "$k: ... 10 pending" "$out" '^pending  10      Third  -                        -$'
	like "$k: ... summary" "$out" "^3 migrations: 2 applied, 1 pending \\($(req "$DB_DISPLAY")\\)\$"

	check "$k: --json" 0 '' '^$' strata --database-url "$DB_URL" migrations show --dir "$d" --json
	is "$k: ... fields, statuses and counts" "$(printf '%s' "$out" | json_summary 2>&1)" \
"1|First|applied|$d/1-First.sql|iso|num
2|Second|applied|$d/2-Second.sql|iso|num
10|Third|pending|$d/10-Third.sql|null|null
applied=2 pending=1 missing=0 database=$DB_DISPLAY"
	# -v with --json: what -v says goes to stderr, stdout is the document alone
	check "$k: -v --json" 0 '' '^connected in ' \
		strata -v --database-url "$DB_URL" migrations show --dir "$d" --json
	is "$k: ... stdout is one JSON document" "$(printf '%s' "$out" | json_summary 2>&1 | tail -1)" \
		"applied=2 pending=1 missing=0 database=$DB_DISPLAY"
	like "$k: ... stderr has the rest" "$err" '^listed 3 migrations as the migrations and the history were read'
	# indented as yajl indents, each migration on a line of its own (greps as the table does)
	like "$k: ... one line per migration" "$(grep -c '^    {"version":' <<<"$out")" '^3$'
	like "$k: ... and the document's other lines as before" \
		"$(grep -v '^    {' <<<"$out" | tr -d '\n')" \
		'^\{  "database": ".*",  "database_exists": true,  "migrations": \[  \],  "applied": 2,  "pending": 1,  "missing": 0,  "failed": 0\}$'

	# a migration applied but no longer on disk
	rm "$d/1-First.sql"
	check "$k: a file missing on disk" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d"
	like "$k: ... listed as missing" "$out" '^missing  1       First  [0-9]{4}-'
	like "$k: ... and counted" "$out" \
		"^3 migrations: 1 applied, 1 pending, 1 applied but missing on disk \\($(req "$DB_DISPLAY")\\)\$"
	check "$k: --json with a missing file" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --json
	is "$k: ... missing has file null" "$(printf '%s' "$out" | json_summary 2>&1)" \
"1|First|missing|None|iso|num
2|Second|applied|$d/2-Second.sql|iso|num
10|Third|pending|$d/10-Third.sql|null|null
applied=1 pending=1 missing=1 database=$DB_DISPLAY"

	strata --database-url "$DB_URL" migrations run --dir "$d" >/dev/null 2>&1
	check "$k: --exit-code with nothing pending exits 0" 0 '^3 migrations: 2 applied, 0 pending, 1 applied' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --exit-code
	check "$k: --json --exit-code with nothing pending exits 0" 0 '"pending": 0' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --json --exit-code
	mig "$d" 11-Fourth.sql '-- migrate:up\ncreate table e (x int);\n'
	check "$k: --json --exit-code with one pending exits 3, still prints JSON" 3 '"pending": 1' '^$' \
		strata --database-url "$DB_URL" migrations show --dir "$d" --json --exit-code
	like "$k: ... JSON parses" "$(printf '%s' "$out" | json_summary 2>&1 | tail -1)" '^applied=2 pending=1 missing=1 '
	check "$k: -q still prints the table (it is the result)" 0 '^pending  11 ' '^$' \
		strata -q --database-url "$DB_URL" migrations show --dir "$d"
	is "$k: show changed nothing" "$(db_history)" "1-First,2-Second,10-Third"
}
each_db scenario

new_db sqlite
mkdir e
check 'show with no migrations at all' 0 '' '^$' strata --database-url "$DB_URL" migrations show --dir e
is '... stdout' "$out" "STATUS   VERSION NAME APPLIED AT               DURATION
0 migrations: 0 applied, 0 pending ($DB_DISPLAY, which does not exist yet)"
check '... --json' 0 '"migrations": \[' '^$' strata --database-url "$DB_URL" migrations show --dir e --json
is '... --json counts' "$(printf '%s' "$out" | json_summary 2>&1)" "applied=0 pending=0 missing=0 database=$DB_DISPLAY"
check 'show --exit-code with nothing at all exits 0' 0 '' '^$' \
	strata --database-url "$DB_URL" migrations show --dir e --exit-code
done_testing
