"""Figures (SVG and PNG): the classic TLB figure, ns per access against
the working set on a log2 axis labelled in KiB/MiB/GiB, one line per
environment with the 95% intervals as error bars; and the guest/native
ratio figure of the same curve. Each series has its own colour, marker and
line style, so the figures survive printing in grey."""
import math
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import (FixedLocator, FuncFormatter, LogLocator,  # noqa: E402
                               NullFormatter, NullLocator)

from . import report as RP  # noqa: E402

STYLES = [("#1f77b4", "o", "-"), ("#d62728", "s", "--"), ("#2ca02c", "^", "-."),
          ("#9467bd", "D", ":"), ("#ff7f0e", "v", (0, (5, 1, 1, 1))),
          ("#8c564b", "P", (0, (3, 1, 1, 1, 1, 1)))]


def size_label(b):
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if b >= 1 << shift:
            return f"{b / (1 << shift):g} {unit}"
    return f"{b:g} B"


def _xaxis(ax, xs):
    ax.set_xscale("log", base=2)
    ticks = sorted(xs)
    if len(ticks) > 12:  # every other power of two, from the first
        ticks = ticks[::2]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([size_label(t) for t in ticks], rotation=45, ha="right")
    ax.set_xlabel("working set (log2 scale)")
    ax.grid(True, which="major", alpha=0.3)


def _errbar(ax, i, name, pts):
    pts = [p for p in pts if p[1] is not None and math.isfinite(p[1].value)]
    if not pts:
        return
    color, marker, ls = STYLES[i % len(STYLES)]
    xs = [x for x, _ in pts]
    ys = [e.value for _, e in pts]
    lo = [e.value - e.lo if math.isfinite(e.lo) else 0 for _, e in pts]
    hi = [e.hi - e.value if math.isfinite(e.hi) else 0 for _, e in pts]
    ax.errorbar(xs, ys, yerr=[lo, hi], label=name, color=color, marker=marker, linestyle=ls,
                capsize=3, markersize=5, linewidth=1.4)
    # Hollow markers where the point is unstable or bimodal.
    bad = [(x, e.value) for x, e in pts if e.mark]
    if bad:
        ax.plot([b[0] for b in bad], [b[1] for b in bad], linestyle="none", marker=marker,
                markersize=11, markerfacecolor="none", markeredgecolor=color)


def slug(name):
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _save(fig, path_noext):
    out = []
    for ext in ("svg", "png"):
        p = f"{path_noext}.{ext}"
        fig.savefig(p, dpi=120, bbox_inches="tight")
        out.append(p)
    plt.close(fig)
    return out


def plot_all(est, ratios, outdir, subtitle=""):
    """Writes the figures of every curve with two working sets or more;
    returns the paths written."""
    os.makedirs(outdir, exist_ok=True)
    written = []
    for name, c in sorted(RP.curves(est).items()):
        xs = [x for x in c["ws"] if x]
        if len(xs) < 2:
            continue
        envs = RP.env_order(c["envs"])
        fig, ax = plt.subplots(figsize=(8, 5))
        for i, e in enumerate(envs):
            _errbar(ax, i, e, [(x, est[c["ident"][(e, x)]][0]) for x in sorted(xs)
                               if (e, x) in c["ident"]])
        _xaxis(ax, xs)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("time per access (ns, log scale)")
        ax.set_title(f"{name}\n{subtitle}" if subtitle else name, fontsize=10)
        ax.legend(title="environment: median, 95% interval\n(ringed: unstable or bimodal)",
                  fontsize=8, title_fontsize=8)
        written += _save(fig, os.path.join(outdir, slug(name) + "-tlb"))

        pairs = RP.ratio_pairs(c["envs"])
        if not pairs:
            continue
        fig, ax = plt.subplots(figsize=(8, 5))
        for i, (lab, _, _) in enumerate(pairs):
            _errbar(ax, i, lab, [(x, ratios.get((name, x, lab))) for x in sorted(xs)])
        _xaxis(ax, xs)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel("ratio of medians (dimensionless; 1 = equal)")
        ax.set_title(f"{name}: guest/native and 4 KiB/2 MiB\n{subtitle}" if subtitle
                     else f"{name}: guest/native and 4 KiB/2 MiB", fontsize=10)
        ax.legend(title="ratio of medians, 95% interval\n(ringed: unstable or bimodal)",
                  fontsize=8, title_fontsize=8)
        written += _save(fig, os.path.join(outdir, slug(name) + "-ratio"))
    return written
