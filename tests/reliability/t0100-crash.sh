#!/usr/bin/env bash
# Crash trials: `strata migrations run` (and `strata seed`) SIGKILLed at a random moment, again
# and again, on SQLite and PostgreSQL. After every kill:
#   - history and schema agree: each migration i creates table t_i and inserts its marker row
#     (i, rows of t_i) into `markers`; a migration recorded as applied is fully there, one not
#     recorded is not there at all, and the applied ones are a prefix of the plan;
#   - a transaction:false migration caught mid-way is recorded as 'running' with its progress,
#     and its effects match that progress (statements before it done, none after the next); the
#     next `migrations run` refuses and names `migrations repair`, which finishes it;
#   - the next `migrations run` finishes the job (checked when a run completes);
#   - a seed is fully present (all rows and its strata_seeds row) or absent.
# Trials: RELIABILITY_MODE=short 10 kills per database, long 200 (CRASH_TRIALS overrides).
. "$(dirname "$0")/lib.sh"

TRIALS=${CRASH_TRIALS:-$(pick 10 200)}
NMIG=${CRASH_MIGRATIONS:-$(pick 30 60)}
SEED_TRIALS=${CRASH_SEED_TRIALS:-$(pick 3 40)}
SEED_ROWS=${CRASH_SEED_ROWS:-$(pick 2000 10000)}

is_nt() { [ $(($1 % 13)) = 0 ]; }
is_slow() { [ $(($1 % 7)) = 0 ]; }

# gen_migs DIR KIND: NMIG migrations; every 7th is slow, every 13th is transaction:false (with
# idempotent statements, so `migrations repair` can resume it wherever it stopped).
gen_migs() {
	local d=$1 k=$2 i v body slow
	mkdir -p "$d"
	if [ "$k" = pg ]; then
		slow='select pg_sleep(0.05);\ninsert into t_%d select generate_series(1, 49999);\n'
	else
		slow='with recursive c(x) as (select 1 union all select x + 1 from c where x < 49999) insert into t_%d select x from c;\n'
	fi
	for i in $(seq 1 "$NMIG"); do
		v=$((100000 + i))
		if [ "$i" = 1 ]; then
			body="-- migrate:up\ncreate table markers (m int primary key, n int not null);\ncreate table t_1 (x int);\ninsert into t_1 values (1);\ninsert into markers values (1, 1);\n"
		elif is_nt "$i"; then
			if [ "$k" = pg ]; then s='select pg_sleep(0.08);'; else
				s='select count(*) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 200000) select x from c);'
			fi
			body="-- migrate:up transaction:false\ncreate table if not exists t_$i (x int);\n$s\ninsert into t_$i select 1 where not exists (select 1 from t_$i);\ninsert into markers select $i, 1 where not exists (select 1 from markers where m = $i);\n"
		elif is_slow "$i"; then
			# shellcheck disable=SC2059
			body="-- migrate:up\ncreate table t_$i (x int);\ninsert into t_$i values (0);\n$(printf "$slow" "$i")insert into markers values ($i, 50000);\n"
		else
			body="-- migrate:up\ncreate table t_$i (x int);\ninsert into t_$i values ($i);\ninsert into markers values ($i, 1);\n"
		fi
		printf '%b-- migrate:down\ndrop table t_%d;\n' "$body" "$i" >"$d/$v-M$i.sql"
	done
}

# q SQL: one query on the trial's database; nothing when its table does not exist (yet). Any
# other failure (a locked or damaged database, a lost server) is written to .qfail, which
# check_state reports: an unreadable database must not read as "nothing applied, nothing there".
q() {
	local r
	if [ "$DB_KIND" = pg ]; then
		"$PSQL" -X -At -d "$PG_DB" -c "$1" 2>"$TEST_DIR/.qerr"
		r=$?
	else
		[ -f "$DB_FILE" ] || return 0
		sqlite3 "$DB_FILE" "$1" 2>"$TEST_DIR/.qerr"
		r=$?
	fi
	if [ "$r" != 0 ] && ! grep -Eq 'no such table|relation "[a-z_0-9]+" does not exist' "$TEST_DIR/.qerr"; then
		printf '%s: %s\n' "$1" "$(head -n 1 "$TEST_DIR/.qerr")" >>"$TEST_DIR/.qfail"
	fi
	return 0
}

# check_state: compares history and schema; sets BAD (empty when they agree), UNFINISHED
# (version-name of a 'running' migration) and APPLIED (how many are applied).
check_state() {
	local -A st=() pr=() tab=() mark=() cnt=()
	local line name status prog t m n i cq='' ended=0
	BAD='' UNFINISHED='' APPLIED=0
	rm -f "$TEST_DIR/.qfail"
	while IFS=: read -r name status prog; do
		[ -n "$name" ] && st[$name]=$status pr[$name]=$prog
	done < <(q "select name || ':' || status || ':' || progress from strata_migrations")
	if [ "$DB_KIND" = pg ]; then
		line=$(q "select string_agg(tablename, ' ') from pg_tables where schemaname = 'public' and tablename ~ '^t_[0-9]+$'")
	else
		line=$(q "select group_concat(name, ' ') from sqlite_master where type = 'table' and name glob 't_[0-9]*'")
	fi
	for t in $line; do
		tab[${t#t_}]=1
		cq="${cq:+$cq union all }select '${t#t_}:' || count(*) from $t"
	done
	while IFS=: read -r m n; do [ -n "$m" ] && mark[$m]=$n; done < <(q "select m || ':' || n from markers")
	if [ -n "$cq" ]; then
		while IFS=: read -r m n; do [ -n "$m" ] && cnt[$m]=$n; done < <(q "$cq")
	fi
	for name in "${!st[@]}"; do
		[[ $name =~ ^M([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le "$NMIG" ] ||
			BAD="$BAD; unknown history row '$name'"
	done
	for i in $(seq 1 "$NMIG"); do
		status=${st[M$i]:-} prog=${pr[M$i]:-}
		if [ "$status" = applied ]; then
			APPLIED=$((APPLIED + 1))
			[ "$ended" = 1 ] && BAD="$BAD; M$i applied after a migration that is not"
			if [ -z "${tab[$i]:-}" ] || [ -z "${mark[$i]:-}" ] || [ "${cnt[$i]:-x}" != "${mark[$i]}" ]; then
				BAD="$BAD; M$i recorded applied but table=${tab[$i]:-no} marker=${mark[$i]:-no} rows=${cnt[$i]:-none}"
			fi
			continue
		fi
		ended=1
		if [ -z "$status" ]; then
			if [ -n "${tab[$i]:-}" ] || [ -n "${mark[$i]:-}" ]; then
				BAD="$BAD; M$i not recorded but partly present (table=${tab[$i]:-no} marker=${mark[$i]:-no})"
			fi
		elif is_nt "$i" && [ "$status" = running ]; then
			UNFINISHED="$((100000 + i))-M$i"
			# progress p: statements 1..p are done, p+1 may be, none after it
			if [ "$prog" -ge 1 ] && [ -z "${tab[$i]:-}" ]; then BAD="$BAD; M$i running at $prog without its table"; fi
			if [ "$prog" -ge 3 ] && [ "${cnt[$i]:-0}" != 1 ]; then BAD="$BAD; M$i running at $prog without its row"; fi
			if [ "$prog" -lt 2 ] && [ -n "${cnt[$i]:-}" ] && [ "${cnt[$i]}" != 0 ]; then BAD="$BAD; M$i running at $prog but statement 3 ran"; fi
			if [ "$prog" -lt 3 ] && [ -n "${mark[$i]:-}" ]; then BAD="$BAD; M$i running at $prog but its marker (statement 4) is there"; fi
		else
			BAD="$BAD; M$i has status '$status' (progress $prog)"
		fi
	done
	[ -s "$TEST_DIR/.qfail" ] && BAD="$BAD; a query failed: $(head -n 2 "$TEST_DIR/.qfail" | tr '\n' ' ')"
	BAD=${BAD#; }
}

run_bg() { # OUT ERR ARGS...: starts strata in the background, its pid in $PID
	local o=$1 e=$2
	shift 2
	"$STRATA" --database-url "$DB_URL" "$@" >"$o" 2>"$e" &
	PID=$!
}

after_kill() { [ "$DB_KIND" = pg ] && { pg_wait_idle "$PG_DB" || diag "a session of the killed run did not end"; }; }

trials_for() {
	local k=$1; local kills=0 done_runs=0 fails=0 nt_caught=0 t0 dur=0 d=m_$1 delay rc
	gen_migs "$d" "$k"
	new_db "$k"
	# calibrate: one full run from scratch
	t0=$(now_ms)
	run "$STRATA" --database-url "$DB_URL" migrations run --dir "$d" -q
	dur=$(($(now_ms) - t0))
	check_state
	if [ "$rc" != 0 ] || [ -n "$BAD" ] || [ "$APPLIED" != "$NMIG" ]; then
		not_ok "$k: a full run of $NMIG migrations (exit $rc) applies them all"
		diag "$BAD" "$err"
		return
	fi
	ok "$k: a full run of $NMIG migrations applies them all (${dur} ms)"
	new_db "$k"
	APPLIED=0
	while [ "$kills" -lt "$TRIALS" ]; do
		# a random moment within what is left to do (and the start-up)
		delay=$(rand_ms $((dur * (NMIG - APPLIED) / NMIG + 60)))
		run_bg run.out run.err migrations run --dir "$d"
		msleep "$delay"
		if kill -KILL "$PID" 2>/dev/null; then
			wait "$PID" 2>/dev/null
			kills=$((kills + 1))
			after_kill
			check_state
			if [ -n "$BAD" ]; then
				fails=$((fails + 1))
				[ "$fails" -le 5 ] && diag "$k: after a kill at ${delay} ms: $BAD"
			fi
			if [ -n "$UNFINISHED" ]; then
				nt_caught=$((nt_caught + 1))
				run "$STRATA" --database-url "$DB_URL" migrations run --dir "$d"
				if [ "$rc" != 1 ] || ! grep -q "migration $UNFINISHED is running" <<<"$err" ||
					! grep -q "strata migrations repair" <<<"$err"; then
					fails=$((fails + 1))
					[ "$fails" -le 5 ] && diag "$k: run after a kill inside $UNFINISHED: exit $rc" "$err"
				fi
				run "$STRATA" --database-url "$DB_URL" migrations repair --dir "$d"
				if [ "$rc" != 0 ]; then
					fails=$((fails + 1))
					[ "$fails" -le 5 ] && diag "$k: repair of $UNFINISHED: exit $rc" "$err"
				fi
			fi
		else
			wait "$PID"
			rc=$?
			done_runs=$((done_runs + 1))
			check_state
			if [ "$rc" != 0 ] || [ -n "$BAD" ] || [ "$APPLIED" != "$NMIG" ]; then
				fails=$((fails + 1))
				[ "$fails" -le 5 ] && diag "$k: the run after the kills: exit $rc, $APPLIED applied; $BAD" "$(cat run.err)"
			fi
			new_db "$k"
			APPLIED=0
		fi
	done
	# the next run finishes the job
	run "$STRATA" --database-url "$DB_URL" migrations run --dir "$d" -q
	check_state
	if [ "$rc" != 0 ] || [ -n "$BAD" ] || [ "$APPLIED" != "$NMIG" ]; then
		fails=$((fails + 1))
		diag "$k: the last run: exit $rc, $APPLIED applied; $BAD" "$err"
	fi
	is "$k: $kills kills at random moments: history and schema agree after each, the next run finishes" "$fails" 0
	figure "crash.$k.kills" "$kills"
	figure "crash.$k.killed_inside_transaction_false" "$nt_caught"
	figure "crash.$k.completed_runs" "$done_runs"
	figure "crash.$k.failures" "$fails"
}

# seed: all rows of a generated seed file, or none
seed_trials() {
	local k=$1; local kills=0 fails=0 full=0 t0 dur d=s_$1 delay rc sp sc ss i
	mkdir -p "$d"
	printf -- '-- migrate:up\ncreate table sp (id int primary key, name text not null);\ncreate table sc (id int primary key, sp_id int not null references sp (id), v text);\n-- migrate:down\ndrop table sc;\ndrop table sp;\n' >"$d/1-SeedTables.sql"
	{
		printf '{"sp": [\n'
		for ((i = 1; i <= SEED_ROWS; i++)); do printf '{"id": %d, "name": "p%d"}%s\n' "$i" "$i" "$([ $i -lt "$SEED_ROWS" ] && echo ,)"; done
		printf '],\n"sc": [\n'
		for ((i = 1; i <= SEED_ROWS; i++)); do printf '{"id": %d, "sp_id": %d, "v": "c%d"}%s\n' "$i" "$i" "$i" "$([ $i -lt "$SEED_ROWS" ] && echo ,)"; done
		printf ']}\n'
	} >seed.json
	new_db "$k"
	t0=$(now_ms)
	run "$STRATA" --database-url "$DB_URL" seed -f seed.json --dir "$d" -q
	dur=$(($(now_ms) - t0))
	is "$k: a full seed of $((2 * SEED_ROWS)) rows (${dur} ms)" "$rc:$(q 'select count(*) from sp'):$(q 'select count(*) from sc')" "0:$SEED_ROWS:$SEED_ROWS"
	new_db "$k"
	while [ "$kills" -lt "$SEED_TRIALS" ]; do
		delay=$(rand_ms $((dur * 11 / 10 + 1)))
		run_bg seed.out seed.err seed -f seed.json --dir "$d"
		msleep "$delay"
		if kill -KILL "$PID" 2>/dev/null; then
			wait "$PID" 2>/dev/null
			kills=$((kills + 1))
			after_kill
		else
			wait "$PID"
			rc=$?
			[ "$rc" = 0 ] || { fails=$((fails + 1)); diag "$k: seed exit $rc" "$(cat seed.err)"; }
		fi
		sp=$(q 'select count(*) from sp') sc=$(q 'select count(*) from sc') ss=$(q 'select count(*) from strata_seeds')
		case "${sp:-0}:${sc:-0}:${ss:-0}" in
		0:0:0) ;;
		"$SEED_ROWS:$SEED_ROWS:1") full=$((full + 1)); new_db "$k" ;;
		*) fails=$((fails + 1)); diag "$k: after a kill at $delay ms the seed is partly there: sp=$sp sc=$sc strata_seeds=$ss" ;;
		esac
	done
	# the next seed finishes the job
	run "$STRATA" --database-url "$DB_URL" seed -f seed.json --dir "$d" -q
	[ "$rc:$(q 'select count(*) from sp'):$(q 'select count(*) from sc')" = "0:$SEED_ROWS:$SEED_ROWS" ] ||
		{ fails=$((fails + 1)); diag "$k: the seed after the kills: exit $rc" "$err"; }
	is "$k: $kills seeds killed at random moments: each fully present or absent, the next one loads" "$fails" 0
	figure "crash.$k.seed_kills" "$kills"
	figure "crash.$k.seed_failures" "$fails"
}

trials_for sqlite
seed_trials sqlite
if pg_available; then
	trials_for pg
	seed_trials pg
else
	skip 'crash trials on PostgreSQL' 'no PostgreSQL server'
fi
done_testing
