#!/usr/bin/env bash
# bench/memory.sh [--n N] [--runs R]: the peak RSS (wait4's ru_maxrss, /usr/bin/time's %M) of
# every strata command that reads the migrations, with N (10,000) migrations of one statement
# each (bench/gen.awk's overhead set: create schema s<i>), all applied, against
# `psql -c 'select 1'` on the same cluster. Issue 15's target is 10 MiB for every command.
# The cluster is pg_virtualenv's (bench/lib.sh) with trust on loopback, as bench/run measures:
# libpq then sets up no SCRAM, which costs psql and strata alike about 2 MiB. The medians of R
# runs (3) are printed as a Markdown table; `schema dump` is listed too, though its memory
# follows the size of the schema (N schemas here), not the number of migrations, and so is
# `schema check`'s. The two real reverts (--to the first, --all) apply every migration again
# before each run, which takes a while at N = 10,000. Last, a dry run on a new database, where
# all N are pending, `migrations test` of the last migration (the others applied untested: a
# test of every one dumps the schema twice for each, N^2 objects read), `migrations adopt` of
# a database dbmate migrated, and `fleet show` on both databases.
set -euo pipefail
. "$(dirname "$0")/lib.sh" memory "$@"

N=10000 RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--n) N=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	*) echo "usage: bench/memory.sh [--n N] [--runs R]" >&2 && exit 2 ;;
	esac
done
bench_strata

HBA=$("$PSQL" -X -At -c 'show hba_file')
{ printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; cat "$HBA"; } >"$HBA.new" &&
	mv "$HBA.new" "$HBA" && "$PSQL" -X -q -c 'select pg_reload_conf()' >/dev/null
unset PGPASSWORD
URL="postgresql://$PGUSER@$PGHOST:${PGPORT:-5432}/$DB"

awk -v dir="$W/set" -v n="$N" -v kind=overhead -v psql="$PSQL" -f "$ROOT/bench/gen.awk"
P=$W/set/strata
"$STRATA" -q build --src "$P/src/migrations" --out "$P/dist/migrations" --dialect postgres
fresh_db
env -C "$P" "$STRATA" -q --database-url "$URL" migrations run >/dev/null
FIRST=$(ls "$P/src/migrations" | sort -n | awk -F- 'NR == 1 { print $1 }')
LAST=$(ls "$P/src/migrations" | sort -n | awk -F- '{ v = $1 } END { print v }')
mkdir -p "$W/elsewhere"

# rss CMD...: the median peak RSS of $RUNS runs, in KiB (the command's exit status is its own:
# a dry run of a revert exits 0, validate too, all applied)
rss() {
	local s=""
	for _ in $(seq "$RUNS"); do
		[ -z "${PREP:-}" ] || $PREP >/dev/null 2>&1 || { echo "bench: failed: $PREP" >&2; exit 1; }
		/usr/bin/time -f '%M' -o "$W/time.txt" "$@" >"$W/cmd.out" 2>&1 ||
			{ cat "$W/cmd.out" >&2; echo "bench: failed: $*" >&2; exit 1; }
		s="$s $(tail -1 "$W/time.txt")"
	done
	med "$s"
}

row() {
	local what=$1 kib
	shift
	kib=$(cd "$P" && rss "$@")
	printf '| %s | %.1f | %s |\n' "$what" "$(echo "$kib / 1024" | bc -l)" \
		"$([ "$kib" -le 10240 ] && echo yes || echo no)"
}

S=("$STRATA" -q --database-url "$URL")
echo "N = $N migrations (one statement each), all applied; medians of $RUNS runs; $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "| command | peak RSS, MiB | within 10 MiB |"
echo "|---|---:|---|"
row "psql -c 'select 1' (reference)" "$PSQL" -X -q -d "$DB" -c 'select 1'
row "migrations run (nothing pending)" "${S[@]}" migrations run
row "migrations run --dir dist/migrations" "${S[@]}" migrations run --dir "$P/dist/migrations"
row "migrations run --dir src/migrations (never built)" "${S[@]}" migrations run --dir "$P/src/migrations"
row "migrations run --dry-run" "${S[@]}" migrations run --dry-run
row "migrations run --dry-run --dir src/migrations" "${S[@]}" migrations run --dry-run --dir "$P/src/migrations"
row "migrations show" "${S[@]}" migrations show
row "migrations show --json" "${S[@]}" migrations show --json
row "migrations show --dir src/migrations" "${S[@]}" migrations show --dir "$P/src/migrations"
row "migrations revert --dry-run (the newest)" "${S[@]}" migrations revert --dry-run
row "lint" "$STRATA" -q lint --dialect postgres
rm -rf "$W/out"
row "build (into an empty directory)" "$STRATA" -q build --dialect postgres --out "$W/out"
row "build again (nothing changed)" "$STRATA" -q build --dialect postgres --out "$W/out"
row "migrations validate" "${S[@]}" migrations validate
row "migrations revert --fake --dry-run" "${S[@]}" migrations revert --fake --dry-run
row "migrations revert --to $FIRST --dry-run (all but one)" "${S[@]}" migrations revert --to "$FIRST" --dry-run
row "migrations accept $LAST --dry-run" "${S[@]}" migrations accept "$LAST" --dry-run
row "migrations repair (nothing to repair)" "${S[@]}" migrations repair
# real reverts, every migration applied again before each run (untimed, unmeasured)
PREP="${S[*]} migrations run"
row "migrations revert --to $FIRST (all but one)" "${S[@]}" migrations revert --to "$FIRST"
row "migrations revert --all" "${S[@]}" migrations revert --all
PREP=
(cd "$P" && "${S[@]}" migrations run >/dev/null) # every migration applied again, for what follows
row "schema dump (N schemas)" "${S[@]}" schema dump
row "schema check (the N applied to a scratch database, N schemas compared)" "${S[@]}" schema check
echo '{}' >"$W/seed.json"
row "seed (nothing pending, an empty seed file)" "${S[@]}" seed -f "$W/seed.json"
# a new database of its own: every migration pending (the dry run of a first deploy)
"$PSQL" -X -q -c "set client_min_messages = warning" -c "drop database if exists ${DB}_new" \
	-c "create database ${DB}_new" >/dev/null
row "migrations run --dry-run (a new database, N pending)" "$STRATA" -q \
	--database-url "${URL%/*}/${DB}_new" migrations run --dry-run
# the last migration tested, the N - 1 before it applied untested to a scratch database
BEFORE_LAST=$(ls "$P/src/migrations" | sort -n | awk -F- '{ p = v; v = $1 } END { print p }')
row "migrations test --from <the last but one>" "${S[@]}" migrations test --from "$BEFORE_LAST"
# taking over a database dbmate migrated: its table of N versions (dbmate's own layout)
"$PSQL" -X -q -c "set client_min_messages = warning" -c "drop database if exists ${DB}_dbmate" \
	-c "create database ${DB}_dbmate" >/dev/null
"$PSQL" -X -q -d "${DB}_dbmate" -c "create table schema_migrations (version varchar(128) primary key)"
ls "$P/src/migrations" | awk -F- '{ print $1 }' |
	"$PSQL" -X -q -d "${DB}_dbmate" -c "copy schema_migrations from stdin" >/dev/null
row "migrations adopt --from dbmate --dry-run" "$STRATA" -q --database-url "${URL%/*}/${DB}_dbmate" \
	migrations adopt --from dbmate --dry-run
# a fleet of two: the database (nothing pending) and the new one (N pending)
printf 'applied %s\nnew %s\n' "$URL" "${URL%/*}/${DB}_new" >"$W/targets"
row "fleet show (2 targets, 2 at a time)" "${S[@]}" fleet show --targets "$W/targets" --parallel 2
