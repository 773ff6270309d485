"""What the bench runs: jobs (a payload and its arguments per profile) and
environments (how a payload is run: natively or under ./vmm, which pages).

Profiles: `quick` (make bench: fewer points, not fewer runs), `full` (every
job, wide ranges), `main` (make run: the TLB sweep) and `tiny` (the smoke
run of make check: seconds)."""

PROFILES = ("quick", "full", "main", "tiny")

# job -> (payload, {profile: arguments}); a job missing from a profile is
# not part of it. --pages comes from the environment.
JOBS = {
    "sweep": ("tlb-sweep", {
        "quick": "--min 16K --max 32M --layout all --pattern rand --ops 256K --repeat 3",
        "full": "--min 4K --max 256M --layout all --pattern all --ops 1M --repeat 5",
        "main": "--min 4K --max 64M --layout all --pattern rand --ops 256K --repeat 3",
        "tiny": "--min 4K --max 256K --layout all --pattern rand --ops 4K --repeat 2",
    }),
    "chase": ("chase", {
        "quick": "--min 64K --max 32M --per line --ops 256K",
        "full": "--min 4K --max 256M --per line --ops 1M",
        "tiny": "--min 4K --max 64K --ops 4K",
    }),
    "gups": ("gups", {
        "quick": "--size 32M --updates 1M",
        "full": "--size 256M --updates 8M --verify",
        "tiny": "--size 1M --updates 16K --verify",
    }),
    "itlb": ("itlb", {
        "quick": "--min 1 --max 4096 --order rand --ops 256K",
        "full": "--order all --ops 1M",
        "tiny": "--min 1 --max 16 --order rand --ops 4K",
    }),
    "itlb2m": ("itlb-2m", {
        "full": "--order all --ops 1M",
    }),
    # 2 MiB pages start at one 2 MiB mapping: a dict gives arguments per
    # --pages of the environment.
    "ptchurn": ("ptchurn", {
        "quick": {"4k": "--max 64K --iters 20", "2m": "--max 4M --iters 20"},
        "full": {"4k": "--max 8M --iters 100", "2m": "--max 8M --iters 100"},
        "tiny": {"4k": "--max 8K --iters 4", "2m": "--max 2M --iters 4"},
    }),
    "ptsparse": ("ptsparse", {
        "quick": {"4k": "--count 256 --ops 256K", "2m": "--count 32 --ops 256K"},
        "full": {"4k": "--count 1024 --ops 1M", "2m": "--ops 1M"},
        "tiny": {"4k": "--count 16 --spread dense --ops 4K",
                 "2m": "--count 2 --spread dense --ops 4K"},
    }),
    # One toucher thread besides the main one; bench/shootdown.sh sweeps T.
    "shootdown": ("shootdown", {
        "quick": "--threads 1 --ops 1000",
        "full": "--threads 2 --ops 2000",
    }),
    "prefetch": ("tlb-prefetch", {
        "quick": "--min 1M --max 32M --ops 256K",
        "full": "--min 64K --max 256M --ops 1M",
        "tiny": "--min 64K --max 256K --ops 4K",
    }),
}

# name -> (kind, payload --pages, vmm --guest-pages, vmm --backing)
ENVS = {
    "native-4k": ("native", "4k", None, None),
    "native-2m": ("native", "2m", None, None),
    "guest-4k": ("guest", "4k", "4k", "anon"),
    "guest-2m": ("guest", "2m", "2m", "thp"),
    # The host dimension alone: 4 KiB guest pages over THP-backed RAM.
    "guest-4k-thp": ("guest", "4k", "4k", "thp"),
}
DEFAULT_ENVS = ("native-4k", "native-2m", "guest-4k", "guest-2m")
PROFILE_ENVS = {"full": tuple(ENVS)}
# Guest RAM per profile: the largest working set, its chain and the tables.
PROFILE_MEM = {"quick": "512M", "full": "1G", "main": "512M", "tiny": "128M"}
# Repetitions of the whole set: the exact test behind a "slower" verdict
# needs 5 per side at alpha 0.01 (stats.min_runs_for); 7 leaves room for a
# failed run.
PROFILE_REPS = {"quick": 7, "full": 9, "main": 7, "tiny": 5}


def args_of(job, profile, env):
    args = JOBS[job][1][profile]
    return args[ENVS[env][1]] if isinstance(args, dict) else args


def jobs_of(profile):
    return [j for j, (_, args) in JOBS.items() if profile in args]


def twin(env):
    """The native environment a guest environment is compared with."""
    kind, pages, _, _ = ENVS[env]
    return None if kind == "native" else "native-" + pages


def guest_4k_2m(env):
    """(4 KiB env, 2 MiB env) pairs for the large-page benefit."""
    return {"native-4k": "native-2m", "guest-4k": "guest-2m"}.get(env)
