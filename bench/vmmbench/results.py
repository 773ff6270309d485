"""Reading result directories: results.jsonl (one line per measurement,
the payload's own JSON line tagged by the runner), runs.jsonl (one line per
process, with the proof of what a guest got) and provenance.json. Groups
measurements into points, each with one sample per run."""
import json
import os
import statistics

# Fields that are results or tags, not part of what identifies a point.
NOT_IDENTITY = {
    "ns_per_op", "cycles_per_op", "tsc_mhz", "wall_ns", "gups", "verify", "rep", "iter",
    "run", "order", "text_madvise", "text_collapse", "code_align", "pt_pages", "pd_pages",
    "pdpt_pages", "table_bytes", "va_span", "syscalls_per_op", "region_exits", "region_pf",
    "proof_ok", "sweeps", "verify_errors",
}
METRIC = "ns_per_op"
# Hidden in labels: implied by the job or the environment, or constant.
QUIET = {"payload", "seed", "pages", "env", "job", "libc", "ops", "n_elems", "pages_touched",
         "entries", "code_pages", "line_spread", "elem_size", "stride", "ws_bytes"}


class BadInput(Exception):
    """A result that cannot be read: the tools exit 2 with its message."""


def _jsonl(path):
    rows = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise BadInput(f"{path}:{n}: not JSON: {e.msg}") from None
                if not isinstance(obj, dict):
                    raise BadInput(f"{path}:{n}: not a JSON object")
                rows.append(obj)
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}") from None
    return rows


class Result:
    """One run directory, or several merged (comma-separated paths)."""

    def __init__(self, spec):
        self.paths = [p for p in spec.split(",") if p]
        if not self.paths:
            raise BadInput("no result directory given")
        self.rows, self.runs, self.provenance = [], [], []
        for p in self.paths:
            self._add(p)
        if not self.rows:
            raise BadInput(f"{spec}: no measurements")

    def _add(self, path):
        d = path if os.path.isdir(path) else os.path.dirname(path) or "."
        res = os.path.join(d, "results.jsonl") if os.path.isdir(path) else path
        if not os.path.exists(res):
            raise BadInput(f"{path}: no results.jsonl (not a bench/run directory?)")
        rows = _jsonl(res)
        for i, r in enumerate(rows, 1):
            if "job" not in r or "env" not in r or "rep" not in r:
                raise BadInput(f"{res}:{i}: a measurement without job, env and rep")
            if not isinstance(r.get(METRIC), (int, float)):
                raise BadInput(f"{res}:{i}: no number in {METRIC}")
            r["_src"] = d
        self.rows += rows
        runs = os.path.join(d, "runs.jsonl")
        self.runs += _jsonl(runs) if os.path.exists(runs) else []
        prov = os.path.join(d, "provenance.json")
        if os.path.exists(prov):
            try:
                with open(prov) as f:
                    self.provenance.append(json.load(f))
            except (OSError, json.JSONDecodeError) as e:
                raise BadInput(f"{prov}: {e}") from None
        else:
            self.provenance.append({})

    def points(self, fold=min):
        """identity -> {"samples": [one value per run], "proof_ok": bool,
        "within": median relative spread inside runs}. Repeats inside one
        run are folded with min: preemption and a neighbour's cache use
        only ever add time, so the fastest repeat is the least disturbed
        (Chen and Revels, "Robust benchmarking in noisy environments", 2016);
        the spread between runs stays in the samples."""
        by_run = {}
        for r in self.rows:
            key = identity(r)
            by_run.setdefault(key, {}).setdefault((r["_src"], r["rep"]), []).append(r)
        pts = {}
        for key, runs in by_run.items():
            samples, within, proof = [], [], True
            for (_, _), rows in sorted(runs.items(), key=lambda kv: str(kv[0])):
                v = [x[METRIC] for x in rows]
                samples.append(fold(v))
                if len(v) > 1 and min(v) > 0:
                    within.append(max(v) / min(v) - 1)
                proof &= all(x.get("proof_ok", True) for x in rows)
            pts[key] = {"samples": samples, "proof_ok": proof,
                        "within": statistics.median(within) if within else None}
        return pts


    def paired_ratios(self, twin, fold=min):
        """guest identity -> [guest / native twin, one per repetition]: the
        two ran in the same shuffled repetition, minutes apart at most, so
        drift that hits both (the host's cache, load) cancels."""
        runs = {}
        for r in self.rows:
            runs.setdefault(identity(r), {}).setdefault((r["_src"], r["rep"]), []).append(
                r[METRIC])
        out = {}
        for key, reps in runs.items():
            t = twin(dict(key)["env"])
            other = runs.get(with_env(key, t)) if t else None
            if not other:
                continue
            out[key] = [fold(v) / fold(other[k]) for k, v in sorted(reps.items(), key=str)
                        if k in other and fold(other[k]) > 0]
        return out


def identity(row):
    return tuple(sorted((k, v) for k, v in row.items()
                        if k not in NOT_IDENTITY and not k.startswith("_")))


def with_env(ident, env):
    d = dict(ident)
    d["env"] = env
    pages = env.split("-")[1] if "-" in env else None
    if pages in ("4k", "2m"):
        d["pages"] = pages
    return tuple(sorted(d.items()))


def fmt_size(v):
    for shift, sfx in ((40, "T"), (30, "G"), (20, "M"), (10, "K")):
        if v >= 1 << shift and v % (1 << shift) == 0:
            return f"{v >> shift}{sfx}"
    return str(v)


def series(ident):
    """The label of a point without env and working set: its curve."""
    d = dict(ident)
    parts = [d.get("job", "?")]
    parts += [f"{k}={v}" for k, v in sorted(d.items()) if k not in QUIET]
    if d.get("libc", "glibc") != "glibc":
        parts.append("libc=" + d["libc"])
    return " ".join(parts)


def label(ident):
    d = dict(ident)
    s = f"{series(ident)} {d.get('env', '')}"
    if "ws_bytes" in d:
        s += " ws=" + fmt_size(d["ws_bytes"])
    return s
