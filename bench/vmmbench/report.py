"""Tables a person reads: per curve, the median of every point with its 95%
interval per environment; then guest/native ratios and the benefit of
2 MiB pages (4 KiB time / 2 MiB time), each a ratio of medians with its
interval. Marks: '?' unstable (wide interval), '!' bimodal (two modes
across runs), 'P' a guest run did not get the pages it asked for."""
import math

from . import jobs as J
from . import results as R
from . import stats as S

LEGEND = ("median [95% bootstrap interval] over n runs; ? unstable (interval wider "
          f"than +-{S.UNSTABLE_HALF:.0%}), ! bimodal across runs, P guest did not get "
          "the pages it asked for")


def fmt(v):
    if v is None or not math.isfinite(v):
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(est, proof_ok=True):
    if est is None or est.n == 0:
        return "-"
    s = fmt(est.value)
    if math.isfinite(est.lo):
        s += f" [{fmt(est.lo)},{fmt(est.hi)}]"
    m = {"unstable": "?", "bimodal": "!"}.get(est.mark, "")
    m += "" if proof_ok else "P"
    return s + (" " + m if m else "")


def analyse(result, seed=0):
    """identity -> (Estimate, point): the statistics of every point."""
    out = {}
    for i, (ident, pt) in enumerate(sorted(result.points().items(), key=lambda kv: str(kv[0]))):
        out[ident] = (S.median_ci(pt["samples"], seed + i), pt)
    return out


def curves(est):
    """series label -> {"x": set of ws, "envs": set, "ident": {(env, ws): ident}}."""
    cv = {}
    for ident in est:
        d = dict(ident)
        c = cv.setdefault(R.series(ident), {"ws": set(), "envs": set(), "ident": {}})
        c["ws"].add(d.get("ws_bytes"))
        c["envs"].add(d["env"])
        c["ident"][(d["env"], d.get("ws_bytes"))] = ident
    return cv


def env_order(envs):
    known = [e for e in J.ENVS if e in envs]
    return known + sorted(set(envs) - set(known))


def ratio_pairs(envs):
    """(label, numerator env, denominator env) for the ratio table."""
    pairs = []
    for e in env_order(envs):
        t = J.twin(e)
        if t and t in envs:
            pairs.append((f"{e}/{t}", e, t))
    for e in env_order(envs):
        big = J.guest_4k_2m(e)
        if big and big in envs:
            pairs.append((f"{e}/{big}", e, big))
    return pairs


def ratio_estimates(est, seed=0):
    """(series, ws, pair label) -> Estimate of every ratio that has both sides."""
    out = {}
    for i, (name, c) in enumerate(sorted(curves(est).items())):
        for lab, num, den in ratio_pairs(c["envs"]):
            for ws in c["ws"]:
                a, b = c["ident"].get((num, ws)), c["ident"].get((den, ws))
                if a and b:
                    out[(name, ws, lab)] = S.ratio_ci(est[a][1]["samples"],
                                                      est[b][1]["samples"], seed + i)
    return out


def _print_table(title, head, rows, out):
    print(title, file=out)
    w = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print("  " + "  ".join(s.rjust(w[i]) for i, s in enumerate(r)), file=out)


def _ws(x):
    return R.fmt_size(x) if x is not None else "-"


def tables(est, out, only=None, ratios=None):
    """Prints, per curve, the values table and the ratios table."""
    ratios = ratios if ratios is not None else ratio_estimates(est)
    for name, c in sorted(curves(est).items()):
        if only and not any(o in name for o in only):
            continue
        envs = env_order(c["envs"])
        rows = []
        for ws in sorted(c["ws"], key=lambda v: v or 0):
            row = [_ws(ws)]
            for e in envs:
                ident = c["ident"].get((e, ws))
                if ident is None:
                    row.append("-")
                    continue
                e_, pt = est[ident]
                row.append(cell(e_, pt["proof_ok"]))
            rows.append(row)
        ns = sorted({est[i][0].n for i in c["ident"].values()})
        _print_table(f"{name}: ns per op (n = {'/'.join(map(str, ns))} runs)",
                     ["ws"] + envs, rows, out)
        pairs = ratio_pairs(c["envs"])
        if pairs:
            rrows = []
            for ws in sorted(c["ws"], key=lambda v: v or 0):
                rrows.append([_ws(ws)] + [cell(ratios.get((name, ws, lab)))
                                          for lab, _, _ in pairs])
            _print_table(f"{name}: ratios of medians (guest/native: the cost of the VM; "
                         "4k/2m: the benefit of 2 MiB pages)", ["ws"] + [p[0] for p in pairs],
                         rrows, out)
        print(file=out)
    print(LEGEND, file=out)


def unstable_summary(est, ratios):
    pts = [e for e, _ in est.values()]
    rs = list(ratios.values())
    return {
        "points": len(pts),
        "points_marked": sum(bool(e.mark) for e in pts),
        "bimodal": sum(e.mark == "bimodal" for e in pts),
        "ratios": len(rs),
        "ratios_marked": sum(bool(r.mark) for r in rs),
        "unproven": sum(not p["proof_ok"] for _, p in est.values()),
    }
