#!/usr/bin/env bash
# strata lint: options, text and JSON output, exit codes, --strict, nolint, the dialect choice,
# --list-rules and docs/lint.md generated from the rules table.
. "$(dirname "$0")/lib.sh"

check 'lint --help' 0 '^Usage: strata lint ' '^$' strata lint --help
like '... lists --dialect' "$out" '--dialect NAME'
check 'lint with a bad option' 2 '^$' "^strata lint: unknown option '--nope'" strata lint --nope
check 'lint with a bad dialect' 2 '^$' "^strata lint: unknown dialect 'mysql' \(postgres or sqlite\)" \
	strata lint --dialect mysql
check 'lint with a bad format' 2 '^$' "^strata lint: unknown format 'xml'" strata lint --format xml
check 'lint with an argument' 2 '^$' "unexpected argument 'x'" strata lint x
check 'lint without src/migrations' 1 '^$' "^strata: error: cannot open directory 'src/migrations'" strata lint

mig src/migrations 1-Users.sql '-- migrate:up\ncreate table users (id int, email text);\n-- migrate:down\ndrop table users;\n'
mig src/migrations 2-Index.sql '-- migrate:up\n-- the emails\n  create index users_email on users (email);\n'
check 'lint: a warning exits 0' 0 '' '^$' strata lint --dialect postgres
is '... text on stdout: finding, caret, hint, summary' "$out" \
"strata: warning: src/migrations/2-Index.sql:3:3: CREATE INDEX without CONCURRENTLY blocks every write to an existing table until the index is built [create-index-not-concurrently]
     3 |   create index users_email on users (email);
       |   ^
hint: use CREATE INDEX CONCURRENTLY, in a section marked transaction:false ('-- migrate:up transaction:false')
0 errors, 1 warning in 2 migrations (postgres)"
check 'lint --strict: a warning exits 1' 1 '0 errors, 1 warning in 2 migrations \(postgres\); warnings fail with --strict' '^$' \
	strata lint --dialect postgres --strict
check 'lint -q: findings only' 0 '' '^$' strata -q lint --dialect postgres
unlike '... no summary' "$out" 'in 2 migrations'

check 'lint --format json' 0 '' '^$' strata lint --dialect postgres --format json
is '... ends with the JSON and one newline, no blank line after it' \
	"$(tail -c 2 "$TEST_DIR/.out" | od -An -tx1 | tr -d ' \n')" 7d0a
is '... valid JSON with the finding' "$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["dialect"] == "postgres" and d["ok"] is True and d["error"] is None, d
assert (d["migrations"], d["errors"], d["warnings"]) == (2, 0, 1), d
f, = d["findings"]
print(f["file"], f["line"], f["column"], f["severity"], f["rule"], f["subject"], f["version"])
print(f["source"]); print(f["reason"]); print(f["fix"])')" \
"src/migrations/2-Index.sql 3 3 warning create-index-not-concurrently users 2
  create index users_email on users (email);
CREATE INDEX without CONCURRENTLY blocks every write to an existing table until the index is built
use CREATE INDEX CONCURRENTLY, in a section marked transaction:false ('-- migrate:up transaction:false')"
check 'lint --format json --strict' 1 '"ok": false' '^$' strata lint --dialect postgres --format json --strict

# nolint: one rule, several, only the next statement
mig src/migrations 3-More.sql '-- migrate:up\n-- strata:nolint drop-column,rename-column\nalter table users drop column email;\nalter table users drop column x;\n-- strata:nolint   truncate\ntruncate users;\n'
check 'lint with nolint comments' 0 '' '^$' strata lint --dialect postgres --format json
is '... silences those rules for the next statement only' "$(printf '%s' "$out" | python3 -c '
import json, sys
for f in json.load(sys.stdin)["findings"]: print(f["rule"], f["file"], f["line"])')" \
"create-index-not-concurrently src/migrations/2-Index.sql 3
drop-column src/migrations/3-More.sql 4"

# an error: exit 1, with --format json too; a syntax error fills "error"
mig src/migrations 4-Vacuum.sql '-- migrate:up\nvacuum users;\n'
check 'lint: an error exits 1' 1 'strata: error: src/migrations/4-Vacuum.sql:2:1: VACUUM, .* \[needs-no-transaction\]' '^$' \
	strata lint --dialect postgres
like '... summary' "$out" '^1 error, 2 warnings in 4 migrations \(postgres\)$'
mig src/migrations 4-Vacuum.sql '-- migrate:up\nvacum users;\n'
check 'lint: a syntax error exits 1 (after the findings before it)' 1 'drop-column' \
	'^strata: error: src/migrations/4-Vacuum.sql:2:1: syntax error at or near "vacum"$' strata lint --dialect postgres
check 'lint --format json: a syntax error' 1 '' 'syntax error at or near "vacum"' \
	strata lint --dialect postgres --format json
is '... is in "error"' "$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin); e = d["error"]
assert d["ok"] is False
print(e["file"], e["line"], e["column"], e["message"])')" \
	'src/migrations/4-Vacuum.sql 2 1 syntax error at or near "vacum"'
rm src/migrations/4-Vacuum.sql src/migrations/3-More.sql

# the dialect: --dialect, else "dialect" in strata.json, else the URL's kind, else sqlite
check 'lint without a dialect: sqlite (no PostgreSQL rules)' 0 '^0 errors, 0 warnings in 2 migrations \(sqlite\)$' '^$' strata lint
echo '{"dialect": "postgres"}' >strata.json
check 'lint with "dialect": "postgres" in strata.json' 0 '1 warning in 2 migrations \(postgres\)' '^$' strata lint
check '... --dialect wins' 0 '0 warnings in 2 migrations \(sqlite\)' '^$' strata lint --dialect sqlite
rm strata.json
check 'lint with a postgres DATABASE_URL (never connected)' 0 '1 warning in 2 migrations \(postgres\)' '^$' \
	env DATABASE_URL=postgres://nobody:secret@db.invalid:1/app "$STRATA" lint
check '... or --database-url' 0 '\(postgres\)' '^$' strata --database-url 'host=db.invalid dbname=x' lint
check 'lint -v says which' 0 '^checking src/migrations as postgres SQL$' '^$' strata -v lint --database-url postgres://db.invalid/x

# the SQLite parse check: sqlite reads the whole set
mig src/migrations 3-Bad.sql '-- migrate:up\ninsert into nope values (1);\n'
check 'lint, sqlite: a table no migration created' 1 '^$' \
	'^strata: error: src/migrations/3-Bad.sql:2:1: no such table: nope$' strata lint
check 'lint --format json, sqlite' 1 '"dialect": "sqlite"' 'no such table' strata lint --format json
rm src/migrations/3-Bad.sql

# --enable and the rule list
check 'lint --enable an unknown rule' 1 '' "^strata: error: unknown lint rule 'nope'" strata lint --dialect postgres --enable nope
check 'lint --list-rules' 0 '^concurrently-in-transaction +error ' '^$' strata lint --list-rules
like '... missing-lock-timeout is off by default' "$out" '^missing-lock-timeout +warning +\(off by default\) '
is '... every rule once' "$(printf '%s\n' "$out" | grep -cE '^[a-z-]+ +(error|warning) ')" 17
check 'lint --list-rules --format json' 0 '' '^$' strata lint --list-rules --format json
is '... ends with the JSON and one newline, no blank line after it' \
	"$(tail -c 2 "$TEST_DIR/.out" | od -An -tx1 | tr -d ' \n')" 5d0a
is '... as JSON' "$(printf '%s' "$out" | python3 -c '
import json, sys
rules = json.load(sys.stdin)
assert all(set(r) == {"id", "severity", "default", "reason", "fix", "bad", "good"} for r in rules)
print(len(rules), len({r["id"] for r in rules}), sum(not r["default"] for r in rules))')" '17 17 1'
check 'lint --format markdown without --list-rules' 2 '^$' 'goes with --list-rules' strata lint --format markdown
check 'lint --list-rules --format markdown' 0 '^<!-- generated by' '^$' strata lint --list-rules --format markdown
is '... docs/lint.md is up to date' "$(sed -n '/^<!-- generated by/,$p' "$ROOT/docs/lint.md")" "$out"

done_testing
