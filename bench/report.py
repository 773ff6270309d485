#!/usr/bin/env python3
"""Reads the payloads' JSON lines (tagged by bench/run.sh with job, env and
rep) and prints what they mean: a table of ns per access per working set
with guest/native ratios, a guest/native ratio list, a comparison with a
saved baseline, or a gnuplot plot. Standard library only.

  report.py table RESULTS [--job J] [--where k=v]... [--envs a,b] [--metric M]
  report.py ratios RESULTS
  report.py baseline RESULTS > bench/baseline.jsonl
  report.py compare RESULTS BASELINE [--threshold 0.10] [--fail]
  report.py plot RESULTS -o OUT.png [--job J] [--where k=v]... [--by FIELD] [--title T]

Medians over repetitions everywhere: the machines are noisy.
"""
import argparse
import json
import os
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile

# Results of a measurement, not what identifies it.
MEASURED = {
    "ns_per_op", "cycles_per_op", "tsc_mhz", "wall_ns", "gups", "verify", "rep",
    "text_madvise", "text_collapse", "code_align", "pt_pages", "pd_pages",
    "pdpt_pages", "table_bytes", "va_span", "syscalls_per_op",
}
ENV_ORDER = ["native-4k", "native-2m", "guest-4k", "guest-2m"]
# Shown in labels only when they say something.
QUIET = {"payload", "seed", "pages", "env", "job", "libc", "ops", "n_elems",
         "pages_touched", "entries", "code_pages", "line_spread"}


def load(path):
    """The JSON objects of a file, skipping lines that are not measurements."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith('{"'):
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"report: {path}:{n}: bad JSON: {e}")
    return rows


def identity(row, drop=()):
    return tuple(sorted((k, v) for k, v in row.items()
                        if k not in MEASURED and k not in drop))


def order(ident):
    """Sort key: the label without the working set, then the working set."""
    d = dict(ident)
    return (label(tuple((k, v) for k, v in ident if k != "ws_bytes")), d.get("ws_bytes", 0))


def label(ident):
    d = dict(ident)
    parts = [d.get("job", d.get("payload", "?")), d.get("env", "")]
    parts += [f"{k}={fmt_size(v) if k == 'ws_bytes' else v}"
              for k, v in ident if k not in QUIET and k != "ws_bytes"]
    if "ws_bytes" in d:
        parts.append("ws=" + fmt_size(d["ws_bytes"]))
    if d.get("libc", "glibc") != "glibc":
        parts.append("libc=" + d["libc"])
    return " ".join(p for p in parts if p)


def medians(rows, metric="ns_per_op"):
    """identity -> median of metric over repetitions."""
    groups = {}
    for r in rows:
        if isinstance(r.get(metric), (int, float)):
            groups.setdefault(identity(r), []).append(r[metric])
    return {k: statistics.median(v) for k, v in groups.items()}


def fmt_size(v):
    for shift, sfx in ((40, "T"), (30, "G"), (20, "M"), (10, "K")):
        if v >= 1 << shift and v % (1 << shift) == 0:
            return f"{v >> shift}{sfx}"
    return str(v)


def fmt_num(v):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:.0f}"
    return f"{v:.3g}" if v < 10 else f"{v:.1f}"


def parse_where(items):
    out = {}
    for it in items or []:
        if "=" not in it:
            sys.exit(f"report: --where {it}: need key=value")
        k, v = it.split("=", 1)
        out[k] = v
    return out


def select(rows, job=None, where=None):
    sel = []
    for r in rows:
        if job and r.get("job", r.get("payload")) != job:
            continue
        if any(str(r.get(k)) != v for k, v in (where or {}).items()):
            continue
        sel.append(r)
    return sel


def cells(rows, x, metric):
    """(env, x) -> median, refusing cells that mix different experiments."""
    groups, idents = {}, {}
    for r in rows:
        if x not in r or not isinstance(r.get(metric), (int, float)):
            continue
        key = (r.get("env", "native"), r[x])
        groups.setdefault(key, []).append(r[metric])
        idents.setdefault(key, set()).add(identity(r, drop=("rep",)))
    for key, ids in idents.items():
        if len(ids) > 1:
            a, b = sorted(ids)[:2]
            diff = sorted({k for k, _ in set(a) ^ set(b)})
            sys.exit(f"report: table: {key[0]} {x}={key[1]} mixes measurements that "
                     f"differ in {', '.join(diff)}: narrow with --job/--where")
    return {k: statistics.median(v) for k, v in groups.items()}


def cmd_table(a):
    rows = select(load(a.results), a.job, parse_where(a.where))
    c = cells(rows, a.x, a.metric)
    present = {e for e, _ in c}
    envs = a.envs.split(",") if a.envs else \
        [e for e in ENV_ORDER if e in present] + sorted(present - set(ENV_ORDER))
    ratios = [(g, "native-" + g[6:]) for g in envs
              if g.startswith("guest-") and "native-" + g[6:] in envs]
    xs = sorted({x for _, x in c})
    head = [a.x] + envs + [f"{g}/{n}" for g, n in ratios]
    table = []
    for x in xs:
        line = [fmt_size(x) if a.x == "ws_bytes" else str(x)]
        line += [fmt_num(c.get((e, x))) for e in envs]
        for g, n in ratios:
            gv, nv = c.get((g, x)), c.get((n, x))
            line.append(f"{gv / nv:.2f}" if gv and nv else "-")
        table.append(line)
    if a.title:
        print(a.title)
    if not table:
        print("  (no measurements)")
        return 1
    w = [max(len(r[i]) for r in [head] + table) for i in range(len(head))]
    for r in [head] + table:
        print("  " + "  ".join(s.rjust(w[i]) for i, s in enumerate(r)))
    print(f"  ({a.metric}, median of repetitions; ratio = guest / native)")
    return 0


def cmd_ratios(a):
    med = medians(load(a.results))
    shown = 0
    for ident, gv in sorted(med.items(), key=lambda kv: order(kv[0])):
        d = dict(ident)
        env = d.get("env", "")
        if not env.startswith("guest-"):
            continue
        d["env"] = "native-" + env[6:]
        nv = med.get(tuple(sorted(d.items())))
        print(f"{label(ident):70s} guest {fmt_num(gv):>8s} native {fmt_num(nv):>8s} "
              f"ratio {gv / nv if nv else float('nan'):6.2f}")
        shown += 1
    if not shown:
        print("report: no guest measurements with a native twin")
    return 0


def cmd_baseline(a):
    groups = {}
    for r in load(a.results):
        if isinstance(r.get("ns_per_op"), (int, float)):
            groups.setdefault(identity(r), []).append(r["ns_per_op"])
    for ident, v in sorted(groups.items()):
        print(json.dumps({"key": dict(ident), "ns_per_op": statistics.median(v),
                          "n": len(v)}, sort_keys=True))
    return 0


def cmd_compare(a):
    new = medians(load(a.results))
    base = {}
    with open(a.baseline) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    b = json.loads(line)
                    base[tuple(sorted(b["key"].items()))] = b["ns_per_op"]
                except (json.JSONDecodeError, KeyError, AttributeError) as e:
                    sys.exit(f"report: {a.baseline}:{n}: not a baseline line: {e}")
    worse = matched = 0
    for ident in sorted(new, key=order):
        if ident not in base:
            continue
        matched += 1
        b, v = base[ident], new[ident]
        rel = v / b - 1 if b else float("inf")
        flag = "SLOWER" if rel > a.threshold else "faster" if rel < -a.threshold else ""
        worse += flag == "SLOWER"
        print(f"{label(ident):70s} {fmt_num(b):>8s} -> {fmt_num(v):>8s} "
              f"{rel * 100:+7.1f}% {flag}")
    missing = len(base) - matched
    print(f"report: {matched} compared, {worse} slower by more than "
          f"{a.threshold * 100:.0f}%, {missing} baseline entries not measured")
    return 1 if a.fail and worse else 0


def cmd_plot(a):
    rows = select(load(a.results), a.job, parse_where(a.where))
    values = sorted({str(r.get(a.by)) for r in rows}) if a.by else [None]
    tmp = tempfile.mkdtemp(prefix="vmm-plot-")
    files = []
    for v in values:
        sub = [r for r in rows if v is None or str(r.get(a.by)) == v]
        c = cells(sub, "ws_bytes", a.metric)
        for e in sorted({e for e, _ in c}, key=lambda e: (ENV_ORDER + [e]).index(e)):
            name = e if v is None else f"{e}_{a.by}={v}"
            path = os.path.join(tmp, name + ".dat")
            with open(path, "w") as f:
                for x in sorted(x for ee, x in c if ee == e):
                    f.write(f"{x} {c[(e, x)]}\n")
            files.append(path)
    if not files:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit("report: plot: no measurements selected")
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot.gp")
    title = a.title or " ".join(filter(None, [a.job] + (a.where or [])))
    expr = (f"files='{' '.join(files)}'; out='{a.o}'; "
            f"ttl='{title.replace(chr(39), '')}'; ylab='{a.metric}'")
    try:
        subprocess.run(["gnuplot", "-e", expr, gp], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"report: plot: gnuplot: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"report: wrote {a.o}")
    return 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under head
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("table", help="metric per working set, one column per env")
    t.add_argument("results")
    t.add_argument("--job")
    t.add_argument("--where", action="append", metavar="K=V")
    t.add_argument("--envs", help="columns, comma separated (default: all present)")
    t.add_argument("--metric", default="ns_per_op")
    t.add_argument("--x", default="ws_bytes", help="row field (default ws_bytes)")
    t.add_argument("--title")

    r = sub.add_parser("ratios", help="guest/native per measurement")
    r.add_argument("results")

    b = sub.add_parser("baseline", help="medians as a baseline file, on stdout")
    b.add_argument("results")

    c = sub.add_parser("compare", help="relative change against a baseline")
    c.add_argument("results")
    c.add_argument("baseline")
    c.add_argument("--threshold", type=float, default=0.10)
    c.add_argument("--fail", action="store_true", help="exit 1 when something is slower")

    g = sub.add_parser("plot", help="PNG of metric vs working set, one line per env")
    g.add_argument("results")
    g.add_argument("-o", required=True, metavar="OUT.png")
    g.add_argument("--job")
    g.add_argument("--where", action="append", metavar="K=V")
    g.add_argument("--metric", default="ns_per_op")
    g.add_argument("--by", metavar="FIELD", help="one line per env and value of FIELD")
    g.add_argument("--title")

    a = p.parse_args()
    return {"table": cmd_table, "ratios": cmd_ratios, "baseline": cmd_baseline,
            "compare": cmd_compare, "plot": cmd_plot}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
