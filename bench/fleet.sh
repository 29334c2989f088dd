#!/usr/bin/env bash
# bench/fleet.sh: targets per second of `strata fleet run`, against a shell loop of one
# `strata migrations run` per target and the same loop of dbmate, and the peak RSS of a fleet run
# in the number of targets.
#
#   bench/fleet.sh
#   STRATA=path/to/strata RUNS=3 PENDING_RUNS=2 PG_TARGETS=200 LITE_TARGETS=500 \
#     PARALLEL="1 2 4 8" RSS_TARGETS="1000 10000" bench/fleet.sh
#
# The migrations: 10, each `create table` + `create index` (a down that drops both), built with
# `strata build` (a PostgreSQL and a SQLite project; dbmate reads the same src/ files). The
# targets: PG_TARGETS PostgreSQL databases (one cluster under `pg_virtualenv -t`, loopback TCP,
# URLs with sslmode=disable for every tool) and LITE_TARGETS SQLite files. Two states:
#   nothing pending: every target holds the 10 migrations, in strata's history and in dbmate's
#                    (schema_migrations with the 10 versions), so both tools find nothing to do;
#   10 pending:      every target empty (PostgreSQL: schema public dropped and made again;
#                    SQLite: no file, each tool creates it), made again before each sample.
# Cases, round-robin (median reported; of two samples, their mean), all under /usr/bin/time,
# RUNS rounds with nothing pending, then PENDING_RUNS rounds with 10 pending (default 2: those
# rounds take most of the time, ~6 minutes in all on 2 cores):
#   strata fleet run --targets LIST --parallel K      for each K of PARALLEL
#   loop: strata migrations run                       one process per target, one after another
#   loop: dbmate --migrations-dir DIR --url URL --no-dump-schema up    the same loop
# Peak RSS of a loop is that of its largest process. Then the peak RSS (and time) of
# `strata fleet run --parallel 8` with nothing pending over each count of RSS_TARGETS SQLite
# files, copies of one migrated file, RUNS times.
#
# dbmate is the native binary of npm's dbmate package, installed into build-bench/peers by
# tests/peers/install.sh when missing. Without STRATA, it builds an optimised, unsanitised
# strata in build-bench/.
set -euo pipefail

RUNS=${RUNS:-3}
PENDING_RUNS=${PENDING_RUNS:-2}
PG_TARGETS=${PG_TARGETS:-200}
LITE_TARGETS=${LITE_TARGETS:-500}
PARALLEL=${PARALLEL:-1 2 4 8}
RSS_TARGETS=${RSS_TARGETS:-1000 10000}
M=10
. "$(dirname "$0")/lib.sh" fleet "$@"
bench_strata
# the native binary of npm's dbmate package (node_modules/.bin/dbmate is a node script that
# starts it: it would add node's start-up to every target of the loop)
DBMATE=$ROOT/build-bench/peers/node_modules/@dbmate/linux-x64/bin/dbmate
[ -x "$DBMATE" ] || bash "$ROOT/tests/peers/install.sh" "$ROOT/build-bench/peers"
BASEURL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT:-5432}"

echo "PostgreSQL $("$PSQL" -X -At -d postgres -c 'show server_version') on $PGHOST:${PGPORT:-5432}," \
	"SQLite $(sqlite3 --version | cut -d' ' -f1), $("$STRATA" --version), $("$DBMATE" --version)," \
	"commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# gen DIALECT DIR: DIR/src/migrations, M migrations, built into DIR/dist/migrations
gen() {
	mkdir -p "$2/src/migrations"
	awk -v n="$M" -v dialect="$1" -v d="$2/src/migrations" 'BEGIN {
		id = dialect == "postgres" ? "bigint" : "integer"
		for (i = 1; i <= n; i++) {
			f = sprintf("%s/17%011d_create_t%d.sql", d, i, i) # 1700000000000 + i (mawk: no 64-bit %d)
			printf "-- migrate:up\ncreate table t%d (id %s primary key, a text not null, b integer);\ncreate index t%d_a on t%d (a);\n\n-- migrate:down\ndrop index t%d_a;\ndrop table t%d;\n", i, id, i, i, i, i > f
			close(f)
		}
	}'
	env -C "$2" "$STRATA" -q build --dialect "$1"
}
gen postgres pg
gen sqlite lite
# dbmate's history, as its `up` writes it, holding the M versions
DBMATE_HISTORY="create table schema_migrations (version varchar(128) primary key);
insert into schema_migrations (version) values $(seq -f "('17%011g')" 1 "$M" | paste -sd,);"

# ---- the targets --------------------------------------------------------------------------
t0=$EPOCHREALTIME
for ((i = 1; i <= PG_TARGETS; i++)); do echo "DROP DATABASE IF EXISTS fleet$i;"; echo "CREATE DATABASE fleet$i;"; done |
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null 2>&1
printf 'made %d PostgreSQL databases in %.1f s\n' "$PG_TARGETS" "$(echo "${EPOCHREALTIME/./} - ${t0/./}" | bc | awk '{ print $1 / 1e6 }')"
for ((i = 1; i <= PG_TARGETS; i++)); do echo "fleet$i $BASEURL/fleet$i?sslmode=disable"; done >pg.list
mkdir -p lf
for ((i = 1; i <= LITE_TARGETS; i++)); do echo "lite$i sqlite:$W/lf/$i.db"; done >lite.list

# pg_empty: every PostgreSQL target empty (one psql session, \c to each)
pg_empty() {
	for ((i = 1; i <= PG_TARGETS; i++)); do
		printf '\\c fleet%d\nDROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n' "$i"
	done | "$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null 2>&1
}
# pg_full: every PostgreSQL target migrated, with both histories
pg_full() {
	pg_empty
	"$STRATA" -q fleet run --targets pg.list --dir pg/dist/migrations --parallel 4 >/dev/null 2>&1
	for ((i = 1; i <= PG_TARGETS; i++)); do printf '\\c fleet%d\n%s\n' "$i" "$DBMATE_HISTORY"; done |
		"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null 2>&1
}
lite_empty() { rm -f lf/*.db; }
# lite_full [N [DIR]]: N (default LITE_TARGETS) copies of one migrated file, both histories
lite_full() {
	local n=${1:-$LITE_TARGETS} d=${2:-lf} i
	rm -f one.db
	"$STRATA" -q --database-url sqlite:one.db migrations run --dir lite/dist/migrations >/dev/null
	sqlite3 one.db "$DBMATE_HISTORY"
	rm -rf "$d" && mkdir -p "$d"
	for ((i = 1; i <= n; i++)); do cp one.db "$d/$i.db"; done
}

# ---- the cases ----------------------------------------------------------------------------
# loop.sh TOOL DIR LIST: one process per target of LIST, one after another
cat >loop.sh <<EOF
#!/usr/bin/env bash
set -eu
while read -r name url; do
	case \$1 in
	strata) "$STRATA" --database-url "\$url" migrations run --dir "\$2" ;;
	dbmate) "$DBMATE" --migrations-dir "\$2" --url "\$url" --no-dump-schema up ;;
	esac || { echo "\$1 failed on \$name" >&2; exit 1; }
done <"\$3"
EOF
chmod +x loop.sh

NAMES=()
for k in $PARALLEL; do NAMES+=("strata fleet run --parallel $k"); done
NAMES+=("loop: strata migrations run" "loop: dbmate up")
NCASES=${#NAMES[@]}
read -ra PAR <<<"$PARALLEL"

# run_case ENGINE STATE CASE: one timed sample; checks what it did from its output
run_case() {
	local engine=$1 state=$2 c=$3 list dir src targets out want
	if [ "$engine" = pg ]; then
		list=pg.list dir=pg/dist/migrations src=pg/src/migrations targets=$PG_TARGETS
		[ "$state" = pending ] && pg_empty
	else
		list=lite.list dir=lite/dist/migrations src=lite/src/migrations targets=$LITE_TARGETS
		[ "$state" = pending ] && lite_empty
	fi
	if [ "$c" -lt "${#PAR[@]}" ]; then
		out=$(timed_fine "$STRATA" -q fleet run --targets "$list" --dir "$dir" --parallel "${PAR[c]}")
		if [ "$state" = pending ]; then want="$targets done ($((targets * M)) migrations applied, 0 up to date), 0 failed"
		else want="$targets done (0 migrations applied, $targets up to date), 0 failed"; fi
		grep -qF "$want" cmd.out || { echo "bench: ${NAMES[c]} ($engine, $state): $(cat cmd.out)" >&2; exit 1; }
	elif [ "$c" = "${#PAR[@]}" ]; then
		out=$(timed_fine ./loop.sh strata "$dir" "$list")
		if [ "$state" = pending ]; then want=$(grep -c "^applied $M migrations in" cmd.out || true)
		else want=$(grep -c '^nothing to run' cmd.out || true); fi
		[ "$want" = "$targets" ] || { echo "bench: strata loop ($engine, $state): $want of $targets" >&2; exit 1; }
	else
		out=$(timed_fine ./loop.sh dbmate "$src" "$list")
		want=$(grep -c '^Applied: ' cmd.out || true)
		[ "$want" = "$([ "$state" = pending ] && echo $((targets * M)) || echo 0)" ] ||
			{ echo "bench: dbmate loop ($engine, $state): $want migrations applied" >&2; exit 1; }
	fi
	echo "$out"
}

declare -A T R
# nothing pending: every target made so once, then RUNS rounds; then 10 pending: PENDING_RUNS
# rounds, each sample on targets emptied just before it
pg_full
lite_full
for state in none pending; do
	rounds=$([ "$state" = none ] && echo "$RUNS" || echo "$PENDING_RUNS")
	for run in $(seq "$rounds"); do
		for engine in pg lite; do
			for ((c = 0; c < NCASES; c++)); do
				read -r s k < <(run_case "$engine" "$state" "$c")
				T[$engine,$state,$c]+=" $s"
				R[$engine,$state,$c]+=" $k"
			done
		done
	done
done

for engine in pg lite; do
	if [ "$engine" = pg ]; then targets=$PG_TARGETS what="PostgreSQL databases"
	else targets=$LITE_TARGETS what="SQLite files"; fi
	for state in none pending; do
		printf '\n%d %s, %s; median of %d runs (targets/s = targets / median; ratio: time / the strata loop)\n' \
			"$targets" "$what" "$([ "$state" = none ] && echo "nothing pending" || echo "$M pending")" \
			"$([ "$state" = none ] && echo "$RUNS" || echo "$PENDING_RUNS")"
		printf '  %-34s %8s  %9s  %7s  %9s   %s\n' case median targets/s ratio "peak RSS" runs
		loop=$(med "${T[$engine,$state,${#PAR[@]}]}")
		for ((c = 0; c < NCASES; c++)); do
			d=$(med "${T[$engine,$state,$c]}")
			printf '  %-34s %8.3fs  %9.1f  %6.2fx  %5.1f MiB   (%s )\n' "${NAMES[c]}" "$d" \
				"$(echo "$targets / $d" | bc -l)" "$(echo "$d / $loop" | bc -l)" \
				"$(echo "$(med "${R[$engine,$state,$c]}") / 1024" | bc -l)" "${T[$engine,$state,$c]# }"
		done
	done
done

# ---- peak RSS in the number of targets ----------------------------------------------------
printf '\nstrata fleet run --parallel 8, nothing pending, SQLite files copied from one migrated file; median of %d runs\n' "$RUNS"
printf '  %8s  %8s  %9s  %9s   %s\n' targets median targets/s "peak RSS" "runs (s / MiB)"
declare -A RT RR
for n in $RSS_TARGETS; do
	lite_full "$n" "rss$n"
	for ((i = 1; i <= n; i++)); do echo "t$i sqlite:$W/rss$n/$i.db"; done >"rss$n.list"
done
for _ in $(seq "$RUNS"); do
	for n in $RSS_TARGETS; do
		read -r s k < <(timed_fine "$STRATA" -q fleet run --targets "rss$n.list" --dir lite/dist/migrations --parallel 8)
		grep -qF "$n done (0 migrations applied, $n up to date), 0 failed" cmd.out ||
			{ echo "bench: rss $n: $(cat cmd.out)" >&2; exit 1; }
		RT[$n]+=" $s"
		RR[$n]+=" $k"
	done
done
for n in $RSS_TARGETS; do
	d=$(med "${RT[$n]}")
	printf '  %8d  %8.3fs  %9.1f  %5.1f MiB   (%s /%s )\n' "$n" "$d" "$(echo "$n / $d" | bc -l)" \
		"$(echo "$(med "${RR[$n]}") / 1024" | bc -l)" "${RT[$n]# }" \
		"$(for k in ${RR[$n]}; do printf ' %.1f' "$(echo "$k / 1024" | bc -l)"; done)"
	rm -rf "rss$n"
done
