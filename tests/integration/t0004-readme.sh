#!/usr/bin/env bash
# The README says what the code does: its Commands table is one table with a row for every
# command of `strata --help`; its test dependencies are the ones `scripts/setup.sh test`
# installs; the seed throughput is one figure; the Quickstart says how strata gets on the PATH.
. "$(dirname "$0")/lib.sh"
R=$ROOT/README.md
run "$STRATA" --help
printf '%s\n' "$out" >help.txt

readme() { # WHAT: one line of facts about the README, computed by python
	python3 - "$R" "$ROOT/scripts/setup.sh" help.txt "$1" <<'PY'
import re, sys
readme, setup, help_, what = open(sys.argv[1]).read(), open(sys.argv[2]).read(), open(sys.argv[3]).read(), sys.argv[4]
lines = readme.splitlines()
if what in ("missing", "rows"):
    start = lines.index("| command | what it does |")
    table = []
    for l in lines[start:]:
        if not l.startswith("|"):
            break
        table.append(l)
    cmds = re.findall(r"^  (\S+(?: [a-z]+)?)\s{2,}", help_.split("Commands:")[1].split("\n\n")[0], re.M)
    if what == "rows":
        # rows that a blank line cut off the table: more "| `strata" lines before the next heading
        rest = lines[start + len(table):]
        end = next((i for i, l in enumerate(rest) if l.startswith("#")), len(rest))
        print(len([l for l in rest[:end] if l.startswith("| `strata ")]))
    else:
        text = "\n".join(table)
        print(" ".join(c for c in cmds if not re.search(r"`strata " + re.escape(c) + r"[ `]", text)))
elif what == "deps":
    text = " ".join(readme.split("Dependencies (Debian):")[1].split("installs them")[0].split())
    readme_deps = sorted(set(re.sub(r"[`(]", " ", text.split("for the tests also")[1].split("(`scripts/setup.sh")[0]).split()))
    m = re.search(r"^test\) pkgs\+=\(([^)]*)\)", setup, re.M | re.S)
    setup_deps = sorted(set(m.group(1).split()))
    print("same" if readme_deps == setup_deps else "README %s, setup.sh %s" % (readme_deps, setup_deps))
elif what == "seed":
    print(" ".join(sorted(set(re.findall(r"flat tables at ([0-9.]+)×", readme)))))
PY
}

is 'every command of strata --help has a row in the one Commands table' "$(readme missing)" ""
is '... and no row is cut off from it by a blank line' "$(readme rows)" 0
is "the README's test dependencies are setup.sh test's" "$(readme deps)" same
is 'the README gives one seed throughput figure' "$(readme seed | wc -w)" 1
like 'the README says how strata gets on the PATH' "$(cat "$R")" 'export PATH="\$PWD/build:\$PATH"'
like '... and how to install it' "$(cat "$R")" 'cmake --install build'
done_testing
