#!/usr/bin/env bash
# migrations accept (issue 12): an applied migration whose file was edited on purpose gets the
# file's checksum in the history, the old one kept with when it was replaced; then run and
# validate pass without --ignore-checksums, and show marks it (text and JSON). What is ambiguous
# (not applied, two migrations with the version, no file, failed, given twice) is refused and
# changes nothing; a file that already matches is "unchanged".
. "$(dirname "$0")/lib.sh"

rows() { dbq "select version || '|' || name || '|' || checksum || '|' || status || '|' || coalesce(previous_checksum, '-') || '|' || coalesce(cast(accepted_at as text), '-') from strata_migrations order by version, name"; }
sum_of() { sha256sum "$1" | cut -d' ' -f1; }
# show --json, one line per migration: version-name|previous_checksum|accepted_at (iso or null)
json_accepted() {
	python3 -c '
import json, re, sys
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
for m in json.load(sys.stdin)["migrations"]:
    at = m["accepted_at"]
    print("%s-%s|%s|%s" % (m["version"], m["name"], m["previous_checksum"],
          "null" if at is None else ("iso" if iso.match(at) else "BAD:" + at)))
' || echo "(no valid show JSON)"
}

scenario() {
	local k=$1 d=m_$1 before old1 old2 S
	new_db "$k"
	S=(strata --database-url "$DB_URL")
	for m in 1-a 2-b 3-c 3-d; do
		mig "$d" "$m.sql" "-- migrate:up\ncreate table t${m/-/_} (x int);\n-- migrate:down\ndrop table t${m/-/_};\n"
	done
	"${S[@]}" migrations run --dir "$d" >/dev/null
	old1=$(sum_of "$d/1-a.sql")
	old2=$(sum_of "$d/2-b.sql")
	printf -- '-- a comment, on purpose\n' >>"$d/1-a.sql"
	printf -- '-- this one too\n' >>"$d/2-b.sql"
	check "$k: an edited applied migration stops the run" 1 '^$' 'applied migration 1-a was changed' \
		"${S[@]}" migrations run --dir "$d"
	like "$k: ... the hint names accept" "$err" "if the edit is deliberate, record it with 'strata migrations accept 1-a'"

	# refusals: the whole history is the same after each
	before=$(rows)
	unlike "$k: the history reads" "$before" 'query failed'
	check "$k: a version that is not applied" 1 '^$' '^strata: error: cannot accept 9: it is not applied$' \
		"${S[@]}" migrations accept --dir "$d" 9
	like "$k: ... nothing was accepted" "$err" '^strata: nothing was accepted$'
	check "$k: one good and one bad: nothing" 1 '^$' '^strata: error: cannot accept 9: it is not applied$' \
		"${S[@]}" migrations accept --dir "$d" 1 9
	check "$k: a version of two migrations" 1 '^$' \
		'^strata: error: cannot accept 3: two applied migrations have that version$' \
		"${S[@]}" migrations accept --dir "$d" 3
	like "$k: ... says how to pick one" "$err" '^hint: write 3-c or 3-d to say which$'
	check "$k: the same migration twice" 1 '^$' "^strata: error: 1-a is given twice \\('1' and '1-a'\\)\$" \
		"${S[@]}" migrations accept --dir "$d" 1 1-a
	check "$k: VERSION-NAME that is not applied" 1 '^$' '^strata: error: cannot accept 1-zzz: it is not applied$' \
		"${S[@]}" migrations accept --dir "$d" 1-zzz
	mv "$d/2-b.sql" 2-b.keep
	check "$k: a migration without its file" 1 '^$' \
		"^strata: error: cannot accept 2-b: its file is in none of the source's migrations\$" \
		"${S[@]}" migrations accept --dir "$d" 2
	mv 2-b.keep "$d/2-b.sql"
	dbq "update strata_migrations set status = 'failed' where version = '2'" >/dev/null
	before=$(rows)
	check "$k: a migration left failed" 1 '^$' '^strata: error: cannot accept 2-b: it is failed, not applied$' \
		"${S[@]}" migrations accept --dir "$d" 1 2
	is "$k: ... changed nothing" "$(rows)" "$before"
	dbq "update strata_migrations set status = 'applied' where version = '2'" >/dev/null
	before=$(rows)
	check "$k: not a version: usage" 2 '^$' "'x1' is not VERSION or VERSION-NAME" \
		"${S[@]}" migrations accept --dir "$d" x1
	check "$k: no version: usage" 2 '^$' 'give the version of each migration to accept' \
		"${S[@]}" migrations accept --dir "$d"
	is "$k: the refusals changed nothing" "$(rows)" "$before"

	check "$k: --dry-run says what it would accept" 0 '^  accept    1-a  sha256 ' \
		'^strata: dry run: 2 migrations would be accepted in .*, 1 unchanged; nothing was changed$' \
		"${S[@]}" migrations accept --dir "$d" --dry-run 1 2 3-d
	is "$k: ... changed nothing" "$(rows)" "$before"

	check "$k: accept of two edited ones (and one unchanged) at once" 0 '' '^$' \
		"${S[@]}" migrations accept --dir "$d" 1 2-b 3-d
	is "$k: ... stdout" "$out" "  accepted  1-a  sha256 ${old1:0:12}… -> $(sum_of "$d/1-a.sql" | cut -c1-12)… ($d/1-a.sql)
  accepted  2-b  sha256 ${old2:0:12}… -> $(sum_of "$d/2-b.sql" | cut -c1-12)… ($d/2-b.sql)
  unchanged 3-d  (its file matches the history)
accepted 2 migrations in $DB_DISPLAY, 1 unchanged"
	is "$k: ... the history has the new checksum and keeps the old" \
		"$(dbq "select checksum || ' ' || previous_checksum from strata_migrations where version = '1'")" \
		"$(sum_of "$d/1-a.sql") $old1"
	is "$k: ... 3-d untouched" "$(dbq "select coalesce(previous_checksum, '-') || coalesce(cast(accepted_at as text), '-') from strata_migrations where name = 'd'")" "--"
	check "$k: then run passes without --ignore-checksums" 0 '^nothing to run: 4 migrations, all applied' '^$' \
		"${S[@]}" migrations run --dir "$d"
	check "$k: ... and validate" 0 '^ok: 4 migrations' '^$' "${S[@]}" migrations validate --dir "$d"
	check "$k: show marks the accepted edits with their date" 0 \
		'^applied +1 +a +[0-9T:.Z-]+ +[0-9.]+ m?s  \[edit accepted [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\]$' '^$' \
		"${S[@]}" migrations show --dir "$d"
	like "$k: ... 2-b too" "$out" '^applied +2 +b .*\[edit accepted '
	unlike "$k: ... not 3-d" "$out" '^applied +3 +d .*accepted'
	check "$k: show --json" 0 '' '^$' "${S[@]}" migrations show --dir "$d" --json
	is "$k: ... previous_checksum and accepted_at" "$(printf '%s\n' "$out" | json_accepted)" "1-a|$old1|iso
2-b|$old2|iso
3-c|None|null
3-d|None|null"
	check "$k: accept again: unchanged, not an error" 0 '^  unchanged 1-a  \(its file matches the history\)$' '^$' \
		"${S[@]}" migrations accept --dir "$d" 1
	like "$k: ... nothing accepted" "$out" '^accepted 0 migrations in .*, 1 unchanged$'
}
each_db scenario
done_testing
