"""Runs a profile: every (job, environment) pair as a fresh process,
shuffled anew in every repetition so that drift (a neighbour's load, the
host's cache, frequency) hits native and guest alike. Each guest run writes
vmm's own JSON report, from which the runner proves what the guest got
(paging mode, guest leaves, KVM's pages_2m) and whether a measured region
was disturbed by faults."""
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import time

from . import jobs as J

VMM = "./vmm"
PAYLOADS = "build/payloads"


def command(env, payload, args, mem, timeout, report):
    kind, pages, gpages, backing = J.ENVS[env]
    elf = os.path.join(PAYLOADS, payload + ".elf")
    tail = [elf, *shlex.split(args), "--pages", pages]
    if kind == "native":
        return tail
    return [VMM, "run", "--mem", mem, "--timeout", str(timeout), "--guest-pages", gpages,
            "--backing", backing, "--json", report, *tail]


def proof(env, rep):
    """What the guest got against what it asked for: (ok, problems, summary)."""
    _, _, gpages, backing = J.ENVS[env]
    tables = rep.get("guest_tables", {})
    leaves = tables.get("payload_leaves", {})
    kvm = rep.get("kvm_pages", {})
    summary = {
        "paging_mode": rep.get("kvm_paging", {}).get("mode"),
        "guest_pages": rep.get("config", {}).get("guest_pages"),
        "backing": rep.get("config", {}).get("backing"),
        "leaves_4k": leaves.get("4k"), "leaves_2m": leaves.get("2m"),
        "large_page_fallbacks": tables.get("large_page_fallbacks"),
        "kvm_pages_4k": kvm.get("pages_4k"), "kvm_pages_2m": kvm.get("pages_2m"),
    }
    problems = []
    if summary["guest_pages"] != gpages or summary["backing"] != backing:
        problems.append(f"report says guest pages {summary['guest_pages']}, backing "
                        f"{summary['backing']}; asked {gpages}, {backing}")
    if gpages == "2m":
        if not leaves.get("2m"):
            problems.append("guest asked for 2M pages, payload got 0 x 2M leaves")
        # Shadow or nested tables can map 2M only over 2M host pages.
        if backing in ("thp", "hugetlb-2m", "hugetlb-1g") and not kvm.get("pages_2m"):
            problems.append(f"backing {backing} allows 2M and the guest has {leaves.get('2m')} "
                            "x 2M leaves, but KVM mapped pages_2m 0")
    if gpages == "4k" and leaves.get("2m"):
        problems.append(f"guest asked for 4K pages, got {leaves.get('2m')} x 2M leaves")
    if tables.get("large_page_fallbacks"):
        problems.append(f"{tables['large_page_fallbacks']} large pages fell back to small")
    return not problems, problems, summary


def region_counters(rep):
    """Per region: (exits, KVM page faults) inside the measured loop."""
    out = []
    for reg in rep.get("regions", []):
        c = reg.get("counters", {})
        v = lambda k: c.get(k, {}).get("value")  # noqa: E731
        out.append((v("kvm-vcpu-stat:exits"), v("kvm-vcpu-stat:pf_taken")))
    return out


class Progress:
    """k/N, elapsed and ETA on stderr: one rewritten line on a terminal,
    a line per repetition (and per failure) otherwise."""

    def __init__(self, total, quiet=False):
        self.total, self.done, self.t0 = total, 0, time.monotonic()
        self.tty = sys.stderr.isatty() and not quiet
        self.quiet = quiet
        self.cost = {}

    @staticmethod
    def _hms(s):
        s = int(s + 0.5)
        return f"{s // 60}:{s % 60:02d}"

    def eta(self, remaining):
        if not self.cost:
            return None
        mean = sum(sum(v) / len(v) for v in self.cost.values()) / len(self.cost)
        return sum(sum(self.cost[k]) / len(self.cost[k]) if k in self.cost else mean
                   for k in remaining)

    def step(self, key, seconds, remaining, what, rep_done):
        self.done += 1
        self.cost.setdefault(key, []).append(seconds)
        eta = self.eta(remaining)
        line = (f"bench: [{self.done}/{self.total}] {what}  elapsed "
                f"{self._hms(time.monotonic() - self.t0)}  ETA "
                f"{self._hms(eta) if eta is not None else '?'}")
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
            if self.done == self.total:
                sys.stderr.write("\n")
        elif not self.quiet and (rep_done or self.done == self.total):
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def note(self, msg):
        if self.tty:
            sys.stderr.write("\r\033[K")
        sys.stderr.write(msg + "\n")


def steal_ticks():
    """Time the outer hypervisor gave to others (/proc/stat steal), ticks."""
    try:
        with open("/proc/stat") as f:
            return int(f.readline().split()[8])
    except (OSError, IndexError, ValueError):
        return None


def plan(job_names, envs, reps, seed):
    """[(rep, order, job, env)]: every pair once per repetition, shuffled."""
    rng = random.Random(seed)
    tasks = []
    for rep in range(1, reps + 1):
        pairs = [(j, e) for j in job_names for e in envs]
        rng.shuffle(pairs)
        tasks += [(rep, i, j, e) for i, (j, e) in enumerate(pairs)]
    return tasks


def run(out, profile, job_names, envs, reps, seed, mem, timeout, quiet=False):
    """Runs the plan into out/; returns (failed runs, proof problems)."""
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    os.makedirs(os.path.join(out, "vmm"), exist_ok=True)
    tasks = plan(job_names, envs, reps, seed)
    prog = Progress(len(tasks), quiet)
    failed, unproven = [], []
    with open(os.path.join(out, "results.jsonl"), "w") as res, \
            open(os.path.join(out, "runs.jsonl"), "w") as runs:
        for k, (rep, order, job, env) in enumerate(tasks):
            rec, rows = run_one(out, profile, rep, order, job, env, mem, timeout)
            runs.write(json.dumps(rec, sort_keys=True) + "\n")
            for r in rows:
                res.write(json.dumps(r) + "\n")
            res.flush()
            runs.flush()
            if rec["rc"] != 0:
                failed.append(rec)
                prog.note(f"bench: {job} {env} rep {rep} FAILED (exit {rec['rc']}): "
                          f"{rec['stderr_tail']}  [{rec['log']}]")
            elif not rec.get("proof_ok", True):
                unproven.append(rec)
                prog.note(f"bench: {job} {env} rep {rep}: guest did not get what it asked "
                          f"for: {'; '.join(rec['proof_problems'])}")
            rest = [(t[2], t[3]) for t in tasks[k + 1:]]
            last_of_rep = k + 1 == len(tasks) or tasks[k + 1][0] != rep
            prog.step((job, env), rec["seconds"], rest,
                      f"rep {rep}/{reps} {job} {env}", last_of_rep)
    return failed, unproven


def run_one(out, profile, rep, order, job, env, mem, timeout):
    payload, args = J.JOBS[job][0], J.args_of(job, profile, env)
    run_id = f"{rep:02d}-{order:02d}-{job}-{env}"
    report = os.path.join(out, "vmm", run_id + ".json")
    argv = command(env, payload, args, mem, timeout, report)
    log = os.path.join(out, "logs", run_id + ".err")
    t0 = time.monotonic()
    started = time.time()
    ru0, st0 = resource.getrusage(resource.RUSAGE_CHILDREN), steal_ticks()
    with open(log, "w") as err:
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                               text=True, timeout=timeout + 30)
            rc, stdout = p.returncode, p.stdout
        except subprocess.TimeoutExpired as e:
            rc, stdout = 124, e.stdout or ""
        except OSError as e:
            rc, stdout = 127, ""
            err.write(f"bench: {argv[0]}: {e.strerror}\n")
    seconds = time.monotonic() - t0
    ru1, st1 = resource.getrusage(resource.RUSAGE_CHILDREN), steal_ticks()
    rec = {"run": run_id, "job": job, "env": env, "rep": rep, "order": order,
           "command": argv, "command_line": shlex.join(argv), "rc": rc,
           "seconds": round(seconds, 3), "started": round(started, 3),
           "log": os.path.relpath(log, out),
           # Contention: the run was preempted (another process wanted its
           # core) or the outer hypervisor ran someone else (steal).
           "involuntary_switches": ru1.ru_nivcsw - ru0.ru_nivcsw,
           "cpu_seconds": round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime, 3),
           "steal_ms": (st1 - st0) * 1000 // os.sysconf("SC_CLK_TCK")
           if st0 is not None and st1 is not None else None}
    rows = []
    for line in stdout.splitlines():
        if line.startswith('{"'):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    if rc != 0 or not rows:
        if rc == 0:
            rc = rec["rc"] = 1
            with open(log, "a") as err:
                err.write("bench: the payload printed no measurement\n")
        with open(log) as f:
            tail = [s for s in f.read().splitlines() if s.strip()]
        rec["stderr_tail"] = tail[-1] if tail else ""
        return rec, []
    regions = []
    if J.ENVS[env][0] == "guest":
        rec["vmm_report"] = os.path.relpath(report, out)
        try:
            with open(report) as f:
                vrep = json.load(f)
            ok, problems, summary = proof(env, vrep)
            regions = region_counters(vrep)
        except (OSError, json.JSONDecodeError) as e:
            ok, problems, summary = False, [f"no vmm report: {e}"], {}
        rec.update(proof_ok=ok, proof_problems=problems, proof=summary)
    for i, r in enumerate(rows):
        tagged = {"job": job, "env": env, "rep": rep, "order": order, "run": run_id}
        tagged.update(r)
        if "proof_ok" in rec:
            tagged["proof_ok"] = rec["proof_ok"]
        # One region per line when the payload marks one per measurement.
        if len(regions) == len(rows):
            tagged["region_exits"], tagged["region_pf"] = regions[i]
        rows[i] = tagged
    return rec, rows
