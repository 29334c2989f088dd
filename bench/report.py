#!/usr/bin/env python3
"""bench/report.py OUT: turns OUT/samples.csv (from bench/run) into results.csv, results.json,
results.md and the gnuplot script apply.gp (time of apply-all against N, per tool)."""
import csv
import json
import math
import os
import re
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out")
rows = list(csv.DictReader(open(os.path.join(out, "samples.csv"))))
machine = {}
if os.path.exists(os.path.join(out, "machine.txt")):
    for line in open(os.path.join(out, "machine.txt")):
        k, _, v = line.rstrip("\n").partition(": ")
        machine[k] = v

PEERS = ["strata", "dbmate", "typeorm", "knex", "sqitch"]
ORDER = {t: i for i, t in enumerate(["floor", "floor-each"] + PEERS)}
OPS = ["apply", "noop", "noop-query", "noop-dir", "noop-dirs", "noop-lib", "show", "show-query", "show-json",
       "revert", "build",
       "version", "select1", "show-empty-sqlite", "show-empty-pg"]
# strata's ways of a run with nothing pending (issue 15), and how the report names them; SPLIT: how
# many builds the set was cut into for (c), from machine.txt
SPLIT = (re.search(r"with (\d+) --dir", machine.get("strata's other ways", "")) or [None, "several"])[1]
NOOP_WAYS = [
    ("noop", "(a) from the project directory"),
    ("noop-dir", "(b) from another directory, `--dir <project>/dist/migrations`"),
    ("noop-dirs", "(c) from another directory, the set split into %s builds, a `--dir` each" % SPLIT),
    ("noop-lib", "(d) the library: `bench/noop_lib.c` (`strata_run`, a `--dir`-like source)"),
]

groups = {}
for r in rows:
    key = (r["set"], int(r["n"]), r["tool"], r["op"])
    groups.setdefault(key, []).append(r)

FLOOR_NAME = {
    "floor": "psql -1 -f",
    "floor-each": "psql -f, BEGIN/COMMIT each",
}


def floor_key(set_, n, tool, op):
    """The floor a (set, tool, op) is compared with."""
    if tool == "floor" and op in ("noop-query", "show-query"):
        return (set_, n, "floor", op[:-len("-query")])
    if tool.startswith("floor") or op == "build":
        return None
    if set_ == "cold":
        return (set_, n, "floor", "version" if op == "version" else "select1")
    if op.startswith("noop-"):
        op = "noop"
    elif op == "show-json":
        op = "show"
    if set_.startswith("sqlite-"):
        return (set_, n, "floor", "apply") if op == "apply" else None
    if op == "apply" and set_ == "overhead":
        return (set_, n, "floor-each", "apply")
    return (set_, n, "floor", op)


res = {}
for key, rs in groups.items():
    ok = [r for r in rs if r["status"] == "0"]
    t = sorted(float(r["seconds"]) for r in ok)
    kb = [int(r["rss_kb"]) for r in ok]
    res[key] = {
        "set": key[0], "n": key[1], "tool": key[2], "op": key[3],
        "samples": len(ok), "failures": len(rs) - len(ok),
        "median_s": statistics.median(t) if t else None,
        "min_s": t[0] if t else None, "max_s": t[-1] if t else None,
        "rss_median_kb": int(statistics.median(kb)) if kb else None,
        "rss_max_kb": max(kb) if kb else None,
    }
for key, v in res.items():
    fk = floor_key(*key)
    f = res.get(fk) if fk else None
    v["floor"] = "%s %s" % (fk[2], fk[3]) if f else None
    v["ratio"] = (v["median_s"] / f["median_s"]) if f and v["median_s"] and f["median_s"] else None


def tool_label(t, set_=""):
    if set_.startswith("sqlite-"):
        return {"floor": "sqlite3 (one transaction)", "floor-each": "sqlite3 (BEGIN/COMMIT each)"}.get(t, t)
    return {"floor": "floor: psql", "floor-each": "floor: psql -f, BEGIN/COMMIT each"}.get(t, t)


def fmt_t(s):
    if s is None:
        return "–"
    return "%.2f s" % s if s >= 1 else "%.1f ms" % (s * 1000)


def fmt_r(r):
    return "" if r is None else " (%.2f×)" % r


def cell(set_, n, tool, op):
    v = res.get((set_, n, tool, op))
    if not v or v["median_s"] is None:
        return "fail" if v and v["failures"] else "–"
    return fmt_t(v["median_s"]) + fmt_r(v["ratio"])


schema_ns = sorted({k[1] for k in res if k[0].startswith("n") and k[0][1:].isdigit()})
tools_present = sorted({k[2] for k in res}, key=lambda t: ORDER.get(t, 99))


def set_of(n):
    return "n%d" % n


md = []
md.append("Medians of every run; (×) is the ratio to the floor in the same run; min–max, run counts "
          "and peak RSS are in the detailed table and in results.csv.\n")

for op, title, floor_txt in [
    ("apply", "Apply all migrations to an empty database (PostgreSQL)", "`psql -1 -f` of the same SQL"),
    ("noop", "A run with nothing pending", "`psql -c 'select 1'`"),
    ("show", "show / status", "`psql -c 'select 1'`"),
    ("revert", "Revert the newest migration", "`psql -1 -f` of its down SQL"),
]:
    md.append("### %s\n\nFloor: %s.\n" % (title, floor_txt))
    md.append("| tool | " + " | ".join("N = %d" % n for n in schema_ns) + " |")
    md.append("|---|" + "---:|" * len(schema_ns))
    for t in tools_present:
        if t == "floor-each":
            continue
        if not any((set_of(n), n, t, op) in res for n in schema_ns):
            continue
        md.append("| %s | " % tool_label(t) + " | ".join(cell(set_of(n), n, t, op) for n in schema_ns) + " |")
        if t == "strata" and op == "show" and any((set_of(n), n, t, "show-json") in res for n in schema_ns):
            md.append("| strata `--json` | " + " | ".join(cell(set_of(n), n, t, "show-json") for n in schema_ns) + " |")
    md.append("")
    if op == "noop" and any((set_of(n), n, "strata", w) in res for n in schema_ns for w, _ in NOOP_WAYS[1:]):
        md.append("### Nothing pending: strata's four ways (PostgreSQL)\n")
        md.append("Floor: `psql -c 'select 1'`, sampled in the same rounds as strata's ways. (b), (c) and (d) "
                  "run from an empty directory outside the project, as a deploy job does; (d) is linked "
                  "with libstrata.a, as the `strata` command is.\n")
        md.append("| way | " + " | ".join("N = %d" % n for n in schema_ns) + " |")
        md.append("|---|" + "---:|" * len(schema_ns))
        md.append("| floor: psql | " + " | ".join(cell(set_of(n), n, "floor", "noop") for n in schema_ns) + " |")
        for w, label in NOOP_WAYS:
            md.append("| %s | " % label + " | ".join(cell(set_of(n), n, "strata", w) for n in schema_ns) + " |")
        md.append("")

ov = sorted({k[1] for k in res if k[0] == "overhead"})
for n in ov:
    md.append("### Overhead set: %d one-statement migrations (`create schema s<i>`)\n" % n)
    md.append("Floor: `psql -f` with each statement in its own BEGIN/COMMIT. Nothing pending: floor `psql -c 'select 1'`.\n")
    md.append("| tool | apply all | nothing pending |")
    md.append("|---|---:|---:|")
    for t in tools_present:
        if ("overhead", n, t, "apply") in res:
            md.append("| %s | %s | %s |" % (tool_label(t), cell("overhead", n, t, "apply"), cell("overhead", n, t, "noop")))
    md.append("")

sq = sorted({(k[0], k[1]) for k in res if k[0].startswith("sqlite-")}, key=lambda x: (x[0] == "sqlite-overhead", x[1]))
if sq:
    md.append("### SQLite: apply all (floor: the `sqlite3` CLI, all in one transaction)\n")
    md.append("| set | sqlite3, one transaction | sqlite3, BEGIN/COMMIT each | strata apply | strata nothing pending |")
    md.append("|---|---:|---:|---:|---:|")
    for s, n in sq:
        fe = res.get((s, n, "floor-each", "apply"))
        st = res.get((s, n, "strata", "apply"))
        extra = ""
        if fe and st and fe["median_s"] and st["median_s"]:
            extra = ", %.2f× BEGIN/COMMIT each" % (st["median_s"] / fe["median_s"])
        name = ("overhead N = %d" if s == "sqlite-overhead" else "N = %d") % n
        md.append("| %s | %s | %s | %s%s | %s |" % (
            name, cell(s, n, "floor", "apply"), cell(s, n, "floor-each", "apply"),
            cell(s, n, "strata", "apply"), extra and " (" + extra[2:] + ")", cell(s, n, "strata", "noop")))
    md.append("")


# cold start
def rss_mib(key):
    v = res.get(key)
    return "%.1f" % (v["rss_max_kb"] / 1024) if v and v["rss_max_kb"] else "–"


COLD = [
    ("version", "`strata --version`", "`psql --version`"),
    ("show-empty-sqlite", "`strata migrations show`, empty project, SQLite (a file in a temporary directory)",
     "`psql -c 'select 1'`"),
    ("show-empty-pg", "`strata migrations show`, empty project, PostgreSQL", "`psql -c 'select 1'`"),
]
if any(("cold", 0, "strata", op) in res for op, _, _ in COLD):
    md.append("### Cold start\n")
    md.append("A process that does (almost) nothing: start-up, and for `show` opening the database and reading "
              "an empty history. The empty project is a `src/migrations` without a file, built with "
              "`strata build`; its databases hold strata's (empty) history, as after a first deploy. "
              "Round-robin with the floors.\n")
    md.append("| operation | floor | floor: median | strata: median (×) | peak RSS MiB: floor / strata |")
    md.append("|---|---|---:|---:|---:|")
    for op, label, floor_txt in COLD:
        fk = floor_key("cold", 0, "strata", op)
        if ("cold", 0, "strata", op) not in res:
            continue
        md.append("| %s | %s | %s | %s | %s / %s |" % (
            label, floor_txt, cell(*fk), cell("cold", 0, "strata", op), rss_mib(fk), rss_mib(("cold", 0, "strata", op))))
    md.append("")

# peak RSS
md.append("### Peak RSS (MiB, largest over every run of the operation)\n")
if schema_ns:
    md.append("| tool | " + " | ".join("apply N = %d" % n for n in schema_ns) + " | nothing pending N = %d |" % schema_ns[-1])
    md.append("|---|" + "---:|" * (len(schema_ns) + 1))
    for t in tools_present:
        if t == "floor-each":
            continue
        cells = []
        for n in schema_ns + [None]:
            v = res.get((set_of(n or schema_ns[-1]), n or schema_ns[-1], t, "apply" if n else "noop"))
            cells.append("%.1f" % (v["rss_max_kb"] / 1024) if v and v["rss_max_kb"] else "–")
        md.append("| %s | %s |" % (tool_label(t), " | ".join(cells)))
    md.append("")
    nmax = schema_ns[-1]
    every = [("apply", "apply"), ("noop", "nothing pending (a)"), ("noop-dir", "(b) --dir"),
             ("noop-dirs", "(c) several --dir"), ("noop-lib", "(d) library"), ("show", "show"),
             ("show-json", "show --json"), ("revert", "revert")]
    every = [(op, h) for op, h in every if any((set_of(nmax), nmax, t, op) in res for t in tools_present)]
    md.append("Every operation at N = %d (the floor's: `psql -1 -f` for apply and revert, `psql -c 'select 1'` "
              "for the others):\n" % nmax)
    md.append("| tool | " + " | ".join(h for _, h in every) + " |")
    md.append("|---|" + "---:|" * len(every))
    for t in tools_present:
        if t == "floor-each" or not any((set_of(nmax), nmax, t, op) in res for op, _ in every):
            continue
        cells = []
        for op, _ in every:
            if t == "floor" and op in ("noop-dir", "noop-dirs", "noop-lib"):
                op = "noop"
            elif t == "floor" and op == "show-json":
                op = "show"
            cells.append(rss_mib((set_of(nmax), nmax, t, op)))
        md.append("| %s | %s |" % (tool_label(t), " | ".join(cells)))
    md.append("")

# build
b = sorted((k for k in res if k[2] == "strata" and k[3] == "build"), key=lambda k: (k[0] == "overhead", k[1]))
if b:
    md.append("### `strata build` (parse with libpg_query + lint + SHA-256 manifest, writes dist/)\n")
    md.append("| set | files | median | min–max | per file | peak RSS |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for k in b:
        v = res[k]
        if v["median_s"] is None:
            continue
        md.append("| %s | %d | %s | %s – %s | %.1f µs | %.1f MiB |" % (
            k[0], k[1], fmt_t(v["median_s"]), fmt_t(v["min_s"]), fmt_t(v["max_s"]),
            v["median_s"] / k[1] * 1e6, v["rss_max_kb"] / 1024))
    md.append("")


# linearity
def fit(tool):
    pts = [(n, res[(set_of(n), n, tool, "apply")]["median_s"]) for n in schema_ns
           if (set_of(n), n, tool, "apply") in res and res[(set_of(n), n, tool, "apply")]["median_s"]]
    if len(pts) < 2:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    bslope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x in xs)
    a = my - bslope * mx
    big = pts[-2:]
    exp = math.log(big[1][1] / big[0][1]) / math.log(big[1][0] / big[0][0])
    per = {str(n): y / n * 1000 for n, y in pts}
    return {"tool": tool, "points": pts, "ms_per_migration_fit": bslope * 1000, "intercept_s": a,
            "loglog_exponent_last_two": exp, "between": [big[0][0], big[1][0]], "ms_per_migration": per}


slopes = {t: fit(t) for t in tools_present if t != "floor-each"}
slopes = {t: v for t, v in slopes.items() if v}
if slopes:
    md.append("### Cost against N (apply all): is it linear?\n")
    md.append("Least-squares fit t = a + b·N over the medians, the time per migration at each N, and the "
              "log-log exponent between the two largest N (1.0 = linear, 2.0 = quadratic).\n")
    md.append("| tool | b (ms per migration) | " + " | ".join("ms/migration at N = %d" % n for n in schema_ns) + " | exponent |")
    md.append("|---|---:|" + "---:|" * len(schema_ns) + "---:|")
    for t, v in slopes.items():
        md.append("| %s | %.3f | %s | %.2f (N = %d→%d) |" % (
            tool_label(t), v["ms_per_migration_fit"],
            " | ".join("%.3f" % v["ms_per_migration"][str(n)] if str(n) in v["ms_per_migration"] else "–" for n in schema_ns),
            v["loglog_exponent_last_two"], v["between"][0], v["between"][1]))
    md.append("")

# targets (issue 6)
targets = []


def ratio(set_, n, tool, op):
    v = res.get((set_, n, tool, op))
    return v["ratio"] if v else None


for n in (1000, 10000):
    r = ratio(set_of(n), n, "strata", "apply")
    if r is not None:
        targets.append(("apply-all ≤ 1.1× `psql -1 -f` at N = %d" % n, 1.1, r))
for op, name in (("noop", "nothing pending"), ("show", "show")):
    for n in schema_ns:
        r = ratio(set_of(n), n, "strata", op)
        if r is not None:
            targets.append(("%s ≤ 1.2× `psql -c 'select 1'` (N = %d)" % (name, n), 1.2, r))
for n in ov:
    r = ratio("overhead", n, "strata", "apply")
    if r is not None:
        targets.append(("overhead set (%d) ≤ 1.2× `psql -f` BEGIN/COMMIT each" % n, 1.2, r))
rss = [v["rss_max_kb"] for k, v in res.items() if k[2] == "strata"
       and k[3] in ("apply", "noop", "noop-dir", "noop-dirs", "noop-lib", "show", "show-json", "revert")
       and not k[0].startswith("sqlite-") and v["rss_max_kb"]]
if rss:
    targets.append(("peak RSS ≤ 12 MiB for migrations (PostgreSQL, any N)", 12.0, max(rss) / 1024))
if "strata" in slopes:
    targets.append(("cost linear in N (log-log exponent, N = %d→%d)" % tuple(slopes["strata"]["between"]),
                    1.1, slopes["strata"]["loglog_exponent_last_two"]))
if targets:
    md.append("### Issue 6 targets (strata, this run)\n")
    md.append("| target | measured | |")
    md.append("|---|---:|---|")
    for name, lim, got in targets:
        unit = " MiB" if "MiB" in name else ("" if "exponent" in name else "×")
        verdict = "met" if got <= lim else "missed by %.0f%%" % ((got / lim - 1) * 100)
        md.append("| %s | %.2f%s | %s |" % (name, got, unit, verdict))
    md.append("")

# targets (issue 15): (name, limit, measured, unit, strict)
targets15 = []
WAY_SHORT = {"noop": "(a) from the project directory", "noop-dir": "(b) `--dir` from another directory",
             "noop-dirs": "(c) %s × `--dir`" % SPLIT,
             "noop-lib": "(d) through the library"}
for w, _ in NOOP_WAYS:
    for n in (100, 1000, 10000):
        r = ratio(set_of(n), n, "strata", w) if n in schema_ns else None
        if r is not None:
            targets15.append(("nothing pending, %s, ≤ 1.1× `select 1` (N = %d)" % (WAY_SHORT[w], n), 1.1, r, "×", False))
for op, name in (("show", "`show`"), ("show-json", "`show --json`")):
    for n in schema_ns:
        r = ratio(set_of(n), n, "strata", op)
        if r is not None:
            targets15.append(("%s ≤ 1.5× `select 1` (N = %d)" % (name, n), 1.5, r, "×", False))
        st, db = res.get((set_of(n), n, "strata", op)), res.get((set_of(n), n, "dbmate", "show"))
        if st and db and st["median_s"] and db["median_s"]:
            targets15.append(("%s ahead of dbmate's `status` (N = %d)" % (name, n), 1.0,
                              st["median_s"] / db["median_s"], "× dbmate's", True))
RSS_OPS = [("apply", "apply all"), ("noop", "nothing pending (a)"), ("noop-dir", "nothing pending (b)"),
           ("noop-dirs", "nothing pending (c)"), ("noop-lib", "nothing pending (d)"), ("show", "`show`"),
           ("show-json", "`show --json`"), ("revert", "revert")]
for op, name in RSS_OPS:
    v = res.get((set_of(10000), 10000, "strata", op)) if 10000 in schema_ns else None
    if v and v["rss_max_kb"]:
        targets15.append(("peak RSS ≤ 10 MiB, %s (N = 10000, largest of every run)" % name, 10.0,
                          v["rss_max_kb"] / 1024, " MiB", False))
# what the same queries cost psql (issue 15): the floor's select 1, psql running the query strata
# sends (taken from its binary), and strata, each as a ratio to select 1 in the same rounds
same = []
for op, qop, name in (("noop", "noop-query", "nothing pending (a)"), ("show", "show-query", "`show`")):
    for n in schema_ns:
        f, q, st = (res.get((set_of(n), n, t, o)) for t, o in (("floor", op), ("floor", qop), ("strata", op)))
        if f and q and st and f["median_s"] and q["median_s"] and st["median_s"]:
            same.append((name, n, f, q, st))
if same:
    md.append("### The same queries in psql (issue 15)\n")
    md.append("psql running, in a new session as strata does, the very query strata sends (read out of its "
              "binary: the history's summary; show's rows as strata reads them, as a binary `COPY` to stdout: unordered up to 2,048 migrations, which strata sorts, in show's order above), "
              "sampled in the same rounds as `select 1` and strata.\n")
    md.append("| operation | N | `select 1` | psql, strata's query | strata | strata ÷ psql's query |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for name, n, f, q, st in same:
        md.append("| %s | %d | %s | %s | %s | %.2f |" % (
            name, n, fmt_t(f["median_s"]), fmt_t(q["median_s"]) + fmt_r(q["ratio"]),
            fmt_t(st["median_s"]) + fmt_r(st["ratio"]), st["median_s"] / q["median_s"]))
    md.append("")

if targets15:
    md.append("### Issue 15 targets (strata, this run)\n")
    md.append("| target | measured | |")
    md.append("|---|---:|---|")
    for name, lim, got, unit, strict in targets15:
        ok = got < lim if strict else got <= lim
        verdict = "met" if ok else ("missed by %.0f%%" % ((got / lim - 1) * 100) if got > lim else "missed (level)")
        md.append("| %s | %.2f%s | %s |" % (name, got, unit, verdict))
    md.append("")

# detailed
md.append("### Every measurement\n")
md.append("| set | N | tool | operation | runs | median | min – max | ratio | floor | peak RSS MiB |")
md.append("|---|---:|---|---|---:|---:|---:|---:|---|---:|")
for k in sorted(res, key=lambda k: (k[0].startswith("sqlite"), k[0] == "overhead" or k[0] == "sqlite-overhead",
                                     k[1], OPS.index(k[3]) if k[3] in OPS else 9, ORDER.get(k[2], 99))):
    v = res[k]
    md.append("| %s | %d | %s | %s | %d%s | %s | %s – %s | %s | %s | %s |" % (
        k[0], k[1], k[2], k[3], v["samples"], (" (%d failed)" % v["failures"]) if v["failures"] else "",
        fmt_t(v["median_s"]), fmt_t(v["min_s"]), fmt_t(v["max_s"]),
        "%.2f×" % v["ratio"] if v["ratio"] else "", v["floor"] or "",
        "%.1f" % (v["rss_max_kb"] / 1024) if v["rss_max_kb"] else "–"))
md.append("")

open(os.path.join(out, "results.md"), "w").write("\n".join(md))
fields = ["set", "n", "tool", "op", "samples", "failures", "median_s", "min_s", "max_s",
          "rss_median_kb", "rss_max_kb", "floor", "ratio"]
with open(os.path.join(out, "results.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    for k in sorted(res):
        w.writerow(res[k])
json.dump({"machine": machine, "results": [res[k] for k in sorted(res)],
           "linearity": slopes,
           "targets": [{"target": a, "limit": b, "measured": c, "met": c <= b} for a, b, c in targets],
           "targets_issue15": [{"target": a, "limit": b, "measured": c, "met": c < b if strict else c <= b}
                               for a, b, c, _, strict in targets15]},
          open(os.path.join(out, "results.json"), "w"), indent=1)

# plot data: N, then one column per tool (apply-all medians)
cols = [t for t in tools_present if t != "floor-each"]
with open(os.path.join(out, "apply.dat"), "w") as f:
    f.write("# N " + " ".join(cols) + "\n")
    for n in schema_ns:
        vals = []
        for t in cols:
            v = res.get((set_of(n), n, t, "apply"))
            vals.append("%.6f" % v["median_s"] if v and v["median_s"] else "NaN")
        f.write("%d %s\n" % (n, " ".join(vals)))
plots = ", ".join("'%s' using 1:%d with linespoints lw 2 pt 7 title '%s'" % (
    os.path.join(out, "apply.dat"), i + 2, "psql -1 -f (floor)" if t == "floor" else t) for i, t in enumerate(cols))
pg = machine.get("postgresql", "").split(" ")[0]
with open(os.path.join(out, "apply.gp"), "w") as f:
    f.write("""set terminal pngcairo size 720,440 font ',10'
set output '%s'
set title 'Apply N migrations to an empty database (PostgreSQL %s, %s cores, median)'
set xlabel 'N migrations'
set ylabel 'seconds'
set logscale xy
set grid
set key top left
set datafile missing 'NaN'
plot %s
""" % (os.path.join(out, "apply.png"), pg, machine.get("nproc", "?"), plots))
