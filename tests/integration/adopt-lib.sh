# adopt-lib.sh: helpers for the tests of `strata migrations adopt` against the real tools
# (t0700-t0705). Sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$ROOT/tests/integration/adopt-lib.sh"   # lib.sh has cd-ed to the test directory
#   need_peer dbmate sqitch          # the tools this test drives
#
# How the tools are driven (see also tests/peers/README.md):
#   dbmate   npm's dbmate package (its native binary comes in the optional dependency
#            @dbmate/linux-x64): $DBMATE --url URL --migrations-dir DIR up|status
#   typeorm  node on tests/peers/typeorm-run.cjs (DataSource.runMigrations, as Medusa does)
#   knex     knex's own CLI (node_modules/knex/bin/cli.js) with tests/peers/knexfile.js
#   sqitch   Debian's sqitch with DBD::Pg (and DBD::SQLite)
# The npm tools live in $STRATA_PEERS (default build-test/peers), where tests/peers/install.sh
# (run by scripts/test.sh) puts them. Without a tool a test skips, unless STRATA_REQUIRE_PEERS=1
# (scripts/test.sh sets it), when it bails out: under the suite a missing tool is a failure.

PEERS=${STRATA_PEERS:-$ROOT/build-test/peers}
DBMATE=$PEERS/node_modules/.bin/dbmate
KNEX_CLI=$PEERS/node_modules/knex/bin/cli.js

# _peer_missing TOOL: why TOOL cannot run here (nothing when it can)
_peer_missing() {
	case $1 in
	dbmate) "$DBMATE" --version >/dev/null 2>&1 || echo "npm's dbmate is not installed in $PEERS" ;;
	typeorm | knex)
		command -v node >/dev/null || { echo "node is not installed"; return; }
		[ -f "$PEERS/node_modules/$1/package.json" ] && [ -f "$PEERS/node_modules/pg/package.json" ] ||
			echo "npm's $1 and pg are not installed in $PEERS" ;;
	sqitch)
		command -v sqitch >/dev/null || { echo "sqitch is not installed"; return; }
		perl -MDBD::Pg -e 1 2>/dev/null || echo "DBD::Pg (libdbd-pg-perl) is not installed" ;;
	sqitch-sqlite) perl -MDBD::SQLite -e 1 2>/dev/null || echo "DBD::SQLite (libdbd-sqlite3-perl) is not installed" ;;
	*) bail "need_peer: unknown tool $1" ;;
	esac
}

# need_peer TOOL...: the tools this test drives are there, else skip_all (or bail out under
# STRATA_REQUIRE_PEERS=1).
need_peer() {
	local t why
	for t in "$@"; do
		why=$(_peer_missing "$t")
		[ -z "$why" ] && continue
		[ "${STRATA_REQUIRE_PEERS:-0}" = 1 ] &&
			bail "$why (STRATA_REQUIRE_PEERS=1; scripts/setup.sh test and tests/peers/install.sh install the tools)"
		skip_all "$why (scripts/setup.sh test and tests/peers/install.sh install the tools; scripts/test.sh runs both)"
	done
}

# pg_url_nossl: $PG_URL with sslmode=disable, for the tools that would try TLS first
pg_url_nossl() { printf '%s?sslmode=disable' "$PG_URL"; }

# tbl_dump TABLE: TABLE's definition and rows, in the database new_db made, as the database's
# own dump tool writes them (pg_dump -t, sqlite3 .dump): for "byte-for-byte unchanged". pg_dump's
# \restrict and \unrestrict lines carry a random key of each dump's own: they are left out.
# On PostgreSQL TABLE is a pg_dump -t pattern (sqitch.* for sqitch's registry).
tbl_dump() {
	if [ "$DB_KIND" = pg ]; then
		{ "$PGBIN/pg_dump" --no-owner -d "$PG_DB" -t "$1" || echo "(pg_dump failed)"; } |
			grep -Ev '^\\(un)?restrict '
	else
		sqlite3 "$DB_FILE" ".dump $1" || echo "(sqlite3 .dump failed)"
	fi
}

# strata_rows: the rows of strata's history, "none" when the table is absent or empty (what
# every refusal must leave), else version-name,... (db_history)
strata_rows() {
	local h
	h=$(db_history)
	case $h in "(no history table)" | "") echo none ;; *) echo "$h" ;; esac
}

# adopt_sets: the JSON of `adopt --json` in $out, summarised as
#   tool=T dry_run=B adopted=V-N=AS,... only=AS,... pending=V-N,...
# each list in version order (numeric when the version is), only_there in the tool's ids' order.
# adopt_sets noas: the same without =AS (for golang-migrate's one row and Flyway's baseline,
# whose id for each migration the spec leaves open).
adopt_sets() {
	printf '%s' "$out" | ADOPT_AS=${1:-as} python3 -c '
import json, os, sys
try:
    j = json.load(sys.stdin)
except Exception as e:
    print("(not JSON: %s)" % e); sys.exit(0)
def key(m):
    v = str(m.get("version", ""))
    return (0, int(v), "") if v.isdigit() else (1, 0, v)
def ad(m):
    s = "%s-%s" % (m["version"], m["name"])
    return s + "=" + str(m["as"]) if os.environ["ADOPT_AS"] == "as" else s
a = ",".join(ad(m) for m in sorted(j.get("adopted", []), key=key))
o = ",".join(sorted(str(m["as"]) for m in j.get("only_there", [])))
p = ",".join("%s-%s" % (m["version"], m["name"]) for m in sorted(j.get("pending", []), key=key))
print("tool=%s dry_run=%s adopted=%s only=%s pending=%s" % (j.get("tool"), str(j.get("dry_run")).lower(), a, o, p))'
}

# _line_with WORD ID: some line of $out holds WORD and ID (ID as a whole word)
_line_with() {
	printf '%s\n' "$out" | grep -F -- "$1" |
		grep -Eq -- "(^|[^[:alnum:]_])$(req "$2")([^[:alnum:]_]|\$)"
}

# adopt_text NAME TOOL ADOPTED PENDING ONLY: the text output in $out names each id of ADOPTED
# (space-separated) on an "adopted" line, each of PENDING on a "pending" line, each of ONLY on
# an "only in TOOL" line, and none of PENDING or ONLY as adopted.
adopt_text() {
	local name=$1 tool=$2 id bad=()
	for id in $3; do _line_with adopted "$id" || bad+=("no 'adopted' line names $id"); done
	for id in $4; do
		_line_with pending "$id" || bad+=("no 'pending' line names $id")
		! _line_with adopted "$id" || bad+=("an 'adopted' line names the pending $id")
	done
	for id in $5; do
		_line_with "only in $tool" "$id" || bad+=("no 'only in $tool' line names $id")
		! _line_with adopted "$id" || bad+=("an 'adopted' line names $id, which is only in $tool")
	done
	if [ ${#bad[@]} -eq 0 ]; then ok "$name"; else not_ok "$name"; diag "${bad[@]}" "--- stdout:" "$out"; fi
}

# refused NAME TABLE BEFORE REGEX CMD...: CMD (an adopt) is refused: exit 1, stderr matches
# REGEX, strata's history is as it was (absent or empty when it was: strata_rows), and TABLE's
# dump is still BEFORE.
refused() {
	local name=$1 table=$2 before=$3 re=$4 rows
	shift 4
	rows=$(strata_rows)
	check "$name: refused" 1 '' "$re" "$@"
	unlike "$name: ... stdout names nothing as adopted" "$out" '^ *adopted '
	is "$name: ... strata's history as it was ($rows)" "$(strata_rows)" "$rows"
	is "$name: ... $table unchanged" "$(tbl_dump "$table")" "$before"
}

# checksums_match NAME DIR: every row of strata's history (at least one) has the checksum
# `migrations run` would have recorded: the SHA-256 of its file's bytes in DIR
# (<version>-<name>.sql or <version>_<name>.sql).
checksums_match() {
	local name=$1 dir=$2 v n c f want bad=() rows=0
	while IFS='|' read -r v n c; do
		[ -n "$v" ] || continue
		rows=$((rows + 1))
		f=$(ls "$dir/$v-$n.sql" "$dir/${v}_$n.sql" 2>/dev/null | head -n 1)
		if [ -z "$f" ]; then bad+=("$v-$n: no file in $dir"); continue; fi
		want=$(sha256sum <"$f" | cut -d' ' -f1)
		[ "$c" = "$want" ] || bad+=("$v-$n: checksum $c, the file's SHA-256 is $want")
	done < <(dbq 'select version, name, checksum from strata_migrations order by version')
	[ "$rows" -gt 0 ] || bad+=("strata's history has no rows")
	if [ ${#bad[@]} -eq 0 ]; then ok "$name"; else not_ok "$name"; diag "${bad[@]}"; fi
}

# typeorm DIR run|show: TypeORM's DataSource on the .js migration classes in DIR, on $PG_URL
typeorm() {
	PEER_URL=$PG_URL PEER_MIGRATIONS=$(cd "$1" && pwd) NODE_PATH=$PEERS/node_modules \
		node "$ROOT/tests/peers/typeorm-run.cjs" "$2"
}

# knex DIR CMD...: knex's CLI on the .js migrations in DIR, on $PG_URL
knex() {
	local d
	d=$(cd "$1" && pwd)
	shift
	PEER_URL=$PG_URL PEER_KNEX_DIR=$d NODE_PATH=$PEERS/node_modules \
		node "$KNEX_CLI" --knexfile "$ROOT/tests/peers/knexfile.js" "$@"
}
