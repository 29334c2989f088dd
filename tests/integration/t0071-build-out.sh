#!/usr/bin/env bash
# `strata build --out DIR` touches only what an earlier build wrote there: it removes or
# replaces a migration file only when its previous manifest lists it, and refuses (changing
# nothing) when DIR holds migrations written by hand. A single-valued option given twice is a
# usage error, not "the last one wins". A build that cannot write everything (a full disk) changes
# nothing.
. "$(dirname "$0")/lib.sh"

mig src 1-A.sql '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n'
mig src 2-B.sql '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n'

# a directory that never was a build output, holding a hand-written migration
mig hand 5-Hand.sql '-- migrate:up\ncreate table hand (x int);\n'
check 'build --out into a directory with a hand-written migration is refused' 1 '^$' \
	'^strata: error: hand/5-Hand\.sql: migration file was not written by .strata build.; build changes nothing$' \
	strata build --src src --out hand
like '... with a hint' "$err" '^hint: build writes only into its own output: move the file into the source directory, or build into another output directory$'
is '... the hand-written file is still there, nothing was added' "$(ls hand)" "5-Hand.sql"

# a build output; a migration written into it by hand later
check 'build into a fresh directory' 0 '^built 2 migrations from src into out ' '^$' \
	strata build --src src --out out
mig out 3-Later.sql '-- migrate:up\ncreate table later (x int);\n'
check 'a hand-written file in a build output is refused too' 1 '^$' \
	'^strata: error: out/3-Later\.sql: migration file was not written by .strata build. \(its manifest does not list it\); build changes nothing$' \
	strata build --src src --out out
is '... still there' "$(ls out | tr '\n' ' ')" "1-A.sql 2-B.sql 3-Later.sql manifest.json "
rm out/3-Later.sql

# what the previous manifest lists may go: a migration removed from src is removed from out
rm src/2-B.sql
check 'a migration removed from src is removed from the output its manifest listed' 0 \
	'^built 1 migration from src into out \(removed 1 stale file\) ' '^$' \
	strata build --src src --out out
is '... gone' "$(ls out | tr '\n' ' ')" "1-A.sql manifest.json "

# a file identical to what build writes is not the user's work: a build whose manifest was lost
rm out/manifest.json
check 'a file identical to what build writes may stay without a manifest' 0 '^built 1 migration ' '^$' \
	strata build --src src --out out
echo '-- edited' >>out/1-A.sql
rm out/manifest.json
check '... but not a different one' 1 '^$' \
	'^strata: error: out/1-A\.sql: migration file was not written by .strata build.; build changes nothing$' \
	strata build --src src --out out
like '... which stays as it was' "$(tail -1 out/1-A.sql)" '^-- edited$'

# single-valued options given twice
check '--src twice is a usage error' 2 '^$' \
	"^strata build: --src given twice; it takes one value\$" \
	strata build --src src --src hand
check '--out twice' 2 '^$' '^strata build: --out given twice; it takes one value$' \
	strata build --out a --out=b
check '--to twice' 2 '^$' '^strata migrations run: --to given twice; it takes one value$' \
	strata migrations run --to 1 --to 2
check '--database-url twice' 2 '^$' '^strata: --database-url given twice; it takes one value$' \
	strata --database-url sqlite:a.db migrations show --database-url=sqlite:b.db
check '--config twice' 2 '^$' '^strata: --config given twice; it takes one value$' \
	strata --config a.json --config b.json migrations show
check '--dir twice is fine: it is repeatable' 0 '^2 migrations: 0 applied, 2 pending' '' \
	strata --database-url sqlite:x.db migrations show --dir src --dir hand
check '-f twice is fine for seed' 1 '^$' '^strata: error: a\.json: cannot open seed file: No such file or directory$' \
	strata --database-url sqlite:x.db seed -f a.json -f b.json --no-migrate

# a build that cannot write all it has to (a full disk; here a limit on the size of a file it
# writes, RLIMIT_FSIZE with SIGXFSZ ignored, so that write(2) fails with EFBIG) changes nothing:
# every file and the manifest are written beside the old ones before any replaces them
rm -rf big
for i in $(seq 1 300); do mig big/src "$i-create_t$i.sql" "-- migrate:up\ncreate table t$i (x int);\n-- migrate:down\ndrop table t$i;\n"; done
check 'a build of 300 migrations (a manifest of more than 32 KiB, written in pieces)' 0 \
	'^built 300 migrations from big/src into big/out ' '^$' strata build --src big/src --out big/out
is '... which lists them all' "$(grep -c '"sha256"' big/out/manifest.json)" 300
limited() { (trap '' XFSZ && ulimit -f "$1" && shift && exec "$@"); }
snapshot() { (cd big/out && ls -a | sort && sha256sum -- *); }
before=$(snapshot)
for i in $(seq 301 310); do mig big/src "$i-create_t$i.sql" "-- migrate:up\ncreate table t$i (x int);\n"; done
rm big/src/5-create_t5.sql
run limited 40 "$STRATA" build --src big/src --out big/out
is 'a manifest that cannot be written: the build fails' "$rc" 1
like '... saying which file and why' "$err" "^strata: error: cannot write 'big/out/manifest\.json': File too large\$"
like '... and that nothing changed' "$err" '^strata: build stopped; big/out was not changed$'
is '... which is so: no new file, none removed, no temporary file left' "$(snapshot)" "$before"
head -c 60000 /dev/zero | tr '\0' ' ' >big/src/311-create_big.sql
printf -- '-- migrate:up\ncreate table big (x int);\n' >>big/src/311-create_big.sql
run limited 40 "$STRATA" build --src big/src --out big/out
like 'a migration file that cannot be written: the build fails on it' "$err" \
	"^strata: error: cannot write 'big/out/311-create_big\.sql': File too large\$"
is '... and changes nothing' "$(snapshot)" "$before"
check '... built once it can write' 0 '^built 310 migrations from big/src into big/out ' '^$' \
	strata build --src big/src --out big/out
is '... every migration listed, the removed one gone' \
	"$(grep -c '"sha256"' big/out/manifest.json);$(ls big/out | grep -c '^5-create_t5\.sql$');$(ls -a big/out | grep -c '\.tmp\.')" "310;0;0"
# a file that cannot be put in place once all are written (a directory where it goes): the
# output is part-way, and build says so, leaving no temporary file
rm -rf part
mig part/src 1-one.sql '-- migrate:up\ncreate table one (x int);\n'
mig part/src 2-two.sql '-- migrate:up\ncreate table two (x int);\n'
check 'a build to put in place part-way' 0 '^built 2 migrations ' '^$' strata build --src part/src --out part/out
rm part/out/2-two.sql
mkdir -p part/out/2-two.sql/x
mig part/src 1-one.sql '-- migrate:up\ncreate table one (x int, y int);\n'
check 'a file that cannot be put in place: the build fails' 1 '^$' \
	"^strata: error: cannot write 'part/out/2-two\\.sql': Is a directory\$" \
	strata build --src part/src --out part/out
like '... and says the output is part-way' "$err" \
	'^strata: build stopped part-way: part/out holds some of the new files and its old manifest, and runs refuse it; run strata build again once that is fixed$'
is '... no temporary file left' "$(ls -a part/out | grep -c '\.tmp\.')" 0
rm -r part/out/2-two.sql
check '... built again once it can' 0 '^built 2 migrations ' '^$' strata build --src part/src --out part/out
# what a build killed part-way left (its temporary files) goes at the next build; a live
# process's stays
sh -c 'exit 0' &
dead=$!
wait "$dead"
: >"part/out/1-one.sql.tmp.$dead"
: >"part/out/manifest.json.tmp.$$"
check 'a build after one that was killed' 0 '^built 2 migrations ' '^$' strata build --src part/src --out part/out
is '... removes its temporary files, not a live process'"'"'s' "$(ls part/out | grep '\.tmp\.')" "manifest.json.tmp.$$"
# build reads the source twice (checks everything, then writes): a file edited in between
# fails the build, so a manifest's header (count and digest, which nothing-pending runs trust)
# always sums the entries it heads, and its "files" list names them. A writer flips one file
# while builds run.
race=$(python3 - "$STRATA" <<'PY'
import hashlib, json, os, subprocess, sys, threading
strata = sys.argv[1]
os.makedirs('race/src', exist_ok=True)
for i in range(1, 401):
    with open(f'race/src/{i}-m{i}.sql', 'w') as f:
        f.write(f'-- migrate:up\ncreate table m{i} (x int);\n')
flip, stop = 'race/src/200-m200.sql', threading.Event()
def writer():
    k = 0
    while not stop.is_set():
        k += 1
        with open(flip + '.new', 'w') as f:
            f.write(f'-- migrate:up\ncreate table m200 (x int, v{k % 2} int);\n')
        os.replace(flip + '.new', flip)
t = threading.Thread(target=writer)
t.start()
seen = {'ok': 0, 'changed': 0, 'bad': 0}
for _ in range(12):
    r = subprocess.run([strata, 'build', '--src', 'race/src', '--out', 'race/out'],
                       capture_output=True, text=True)
    if r.returncode != 0:
        seen['changed' if 'migrations changed while they were being built' in r.stderr
             else 'bad'] += 1
        continue
    m = json.load(open('race/out/manifest.json'))
    if m['files'] != [e['file'] for e in m['migrations']]:
        seen['bad'] += 1
    digest = 0
    for e in m['migrations']:
        body = open('race/out/' + e['file'], 'rb').read()
        if hashlib.sha256(body).hexdigest() != e['sha256']:
            seen['bad'] += 1
        h = hashlib.sha256(f"{e['version']}\t{e['name']}\t{e['sha256']}".encode()).digest()
        digest ^= int.from_bytes(h[:8], 'big')
    seen['ok' if f'{digest:016x}' == m['history_digest'] and m['count'] == 400 else 'bad'] += 1
stop.set()
t.join()
print(f"bad={seen['bad']} any={seen['ok'] + seen['changed']}")
PY
)
is 'builds racing an edit of their source: each writes a manifest whose header sums its entries, or fails saying the source changed' "$race" "bad=0 any=12"
done_testing
