"""Where a result came from: vmm's commit and binary, the host, its CPU,
kernel, paging mode (vmm info --json), THP mode, hugetlb pools and load,
recorded at the start of a run and completed at its end. The fingerprint is
the part that must match for two results to be comparable."""
import getpass
import glob
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import time

FINGERPRINT = ("host", "cpu_model", "cpus", "kernel", "paging_mode", "thp_enabled",
               "mem_total_kib")


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _cmd(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return r.stdout.strip() if r.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _cpu_model():
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or None


def _meminfo(key):
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def _thp(name):
    """'always [madvise] never' -> 'madvise'."""
    s = _read(f"/sys/kernel/mm/transparent_hugepage/{name}") or ""
    return s[s.find("[") + 1:s.find("]")] if "[" in s else None


def hugetlb_pools():
    pools = {}
    for d in sorted(glob.glob("/sys/kernel/mm/hugepages/hugepages-*kB")):
        size = os.path.basename(d)[len("hugepages-"):]
        pools[size] = {k: int(_read(f"{d}/{k}") or 0)
                       for k in ("nr_hugepages", "free_hugepages", "resv_hugepages")}
    return pools


def load():
    s = _read("/proc/loadavg")
    return [float(v) for v in s.split()[:3]] if s else None


def _sha256(path):
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def vmm_info(vmm):
    out = _cmd([vmm, "info", "--json"])
    try:
        return json.loads(out) if out else None
    except json.JSONDecodeError:
        return None


def _user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return None


def collect(root, vmm, argv):
    """The provenance at the start of a run."""
    info = vmm_info(vmm) if os.access(vmm, os.X_OK) else None
    git = lambda *a: _cmd(["git", "-C", root, *a])  # noqa: E731
    import numpy
    import scipy
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": argv,
        "user": _user(),
        "vmm": {
            "commit": git("rev-parse", "HEAD"),
            "describe": git("describe", "--always", "--dirty", "--tags"),
            "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "binary": os.path.abspath(vmm),
            "binary_sha256": _sha256(vmm),
        },
        "host": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "kernel_version": platform.version(),
        "mem_total_kib": _meminfo("MemTotal"),
        "paging_mode": (info or {}).get("paging", {}).get("mode"),
        "kvm_available": (info or {}).get("kvm", {}).get("available"),
        "vmm_info": info,
        "thp_enabled": _thp("enabled"),
        "thp_defrag": _thp("defrag"),
        "hugetlb": hugetlb_pools(),
        "load_before": load(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def finish(prov, extra):
    prov = dict(prov)
    prov.update(extra)
    prov["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    prov["load_after"] = load()
    return prov


def fingerprint(prov):
    return {k: prov.get(k) for k in FINGERPRINT}


def fingerprint_diff(a, b):
    fa, fb = fingerprint(a), fingerprint(b)
    return [(k, fa[k], fb[k]) for k in FINGERPRINT if fa[k] != fb[k]]
