"""bench/compare and bench/run as a user meets them: exit statuses 0/1/2
on synthetic result directories, the points a regression names, errors
without tracebacks, and a smoke run of the tiny profile that must leave a
complete result directory (provenance, vmm reports, figures)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
from vmmbench import provenance as PV  # noqa: E402


def tool(name, *args):
    p = subprocess.run([os.path.join(BENCH, name), *args], capture_output=True, text=True,
                       cwd=ROOT, timeout=600)
    return p.returncode, p.stdout, p.stderr


def synth(d, scale=None, seed=0, reps=7, host="h1"):
    """A result directory: sweep over 4 working sets x 2 envs, noise 3%;
    scale maps env -> factor applied to every value of that env."""
    rng = np.random.default_rng(seed)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "results.jsonl"), "w") as f:
        for rep in range(1, reps + 1):
            for env, base in (("native-4k", 5.0), ("guest-4k", 6.0)):
                for ws in (4096, 65536, 1 << 20, 8 << 20):
                    v = base * (1 + ws / (1 << 20)) * rng.lognormal(0, 0.03)
                    v *= (scale or {}).get(env, 1.0)
                    f.write(json.dumps({"job": "sweep", "env": env, "rep": rep,
                                        "payload": "tlb-sweep", "layout": "page",
                                        "pages": "4k", "ws_bytes": ws, "ns_per_op": v}) + "\n")
    prov = {k: "x" for k in PV.FINGERPRINT}
    prov["host"] = host
    with open(os.path.join(d, "provenance.json"), "w") as f:
        json.dump(prov, f)
    return d


class Compare(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bench-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_the_same_result_compares_clean(self):
        a = synth(self.path("a"))
        rc, out, err = tool("compare", a, a)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("0 slower", out)

    def test_two_draws_of_the_same_noise_compare_clean(self):
        rc, out, err = tool("compare", synth(self.path("a"), seed=1),
                            synth(self.path("b"), seed=2))
        self.assertEqual(rc, 0, out + err)

    def test_an_environment_slowed_1_5x_is_flagged_with_its_points(self):
        rc, out, err = tool("compare", synth(self.path("a"), seed=1),
                            synth(self.path("b"), {"guest-4k": 1.5}, seed=2))
        self.assertEqual(rc, 1, out + err)
        self.assertIn("4 slower", out)
        regressed = [s for s in out.splitlines() if s.startswith("compare: REGRESSED")][0]
        for ws in ("4K", "64K", "1M", "8M"):
            self.assertRegex(regressed, f"guest-4k ws={ws}(;|$)")  # the point itself
            self.assertIn(f"guest-4k ws={ws} /native-4k", regressed)  # and its ratio
        self.assertNotIn("page native-4k", regressed)
        self.assertIn("4 guest/native ratios: 4 slower", out)

    def test_drift_that_hits_both_sides_divides_out_of_the_ratios(self):
        # A host 1.5x slower for everything: the points are slower (that is
        # what they measure), the guest/native ratios are not.
        rc, out, err = tool("compare", synth(self.path("a"), seed=1),
                            synth(self.path("b"), {"guest-4k": 1.5, "native-4k": 1.5}, seed=2))
        self.assertEqual(rc, 1, out + err)
        self.assertIn("8 slower", out)
        self.assertIn("4 guest/native ratios: 0 slower", out)

    def test_a_speedup_is_not_a_regression(self):
        rc, out, _ = tool("compare", synth(self.path("a"), seed=1),
                          synth(self.path("b"), {"native-4k": 0.5}, seed=2))
        self.assertEqual(rc, 0)
        self.assertIn("4 faster", out)

    def test_threshold_option(self):
        a = synth(self.path("a"), seed=1)
        b = synth(self.path("b"), {"guest-4k": 1.5}, seed=2)
        self.assertEqual(tool("compare", "--threshold", "60%", a, b)[0], 0)
        self.assertEqual(tool("compare", "--threshold", "0.2", a, b)[0], 1)

    def test_different_hosts_warn(self):
        rc, _, err = tool("compare", synth(self.path("a"), host="h1"),
                          synth(self.path("b"), host="h2"))
        self.assertEqual(rc, 0)
        self.assertIn("WARNING: the hosts differ", err)
        self.assertIn("'h1' vs 'h2'", err)

    def test_merged_slices(self):
        # Two slices of one matrix (e.g. two machines), merged on each side.
        a1, a2 = synth(self.path("a1"), seed=1), synth(self.path("a2"), seed=3)
        b1, b2 = synth(self.path("b1"), seed=2), synth(self.path("b2"), seed=4)
        rc, out, err = tool("compare", f"{a1},{a2}", f"{b1},{b2}")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("compare: 8 points", out)  # 14 runs each, not 16 points

    def assertBadInput(self, *args, message):
        rc, out, err = tool("compare", *args)
        self.assertEqual(rc, 2, out + err)
        self.assertIn(message, err)
        self.assertNotIn("Traceback", err)

    def test_bad_input_exits_2_without_traceback(self):
        a = synth(self.path("a"))
        self.assertBadInput(a, self.path("missing"), message="no results.jsonl")
        bad = self.path("bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "results.jsonl"), "w") as f:
            f.write('{"job": "sweep", "env": "x", "rep": 1, "ns_per_op": 1}\nnot json\n')
        self.assertBadInput(a, bad, message="results.jsonl:2: not JSON")
        with open(os.path.join(bad, "results.jsonl"), "w") as f:
            f.write('{"job": "sweep", "env": "x", "rep": 1}\n')
        self.assertBadInput(a, bad, message="no number in ns_per_op")
        self.assertBadInput(a, message="the following arguments are required")
        self.assertBadInput("--threshold", "lots", a, a, message="need a percentage")
        other = self.path("other")
        os.makedirs(other)
        with open(os.path.join(other, "results.jsonl"), "w") as f:
            f.write('{"job": "gups", "env": "native-4k", "rep": 1, "ns_per_op": 1}\n')
        self.assertBadInput(a, other, message="no point is in both results")


class Run(unittest.TestCase):
    def test_help(self):
        rc, out, _ = tool("run", "--help")
        self.assertEqual(rc, 0)
        for word in ("--quick", "--full", "profiles:", "sweep", "guest-2m"):
            self.assertIn(word, out)

    def test_unknown_job_is_an_error_not_an_empty_file(self):
        out = tempfile.mkdtemp(prefix="bench-test-")
        shutil.rmtree(out)
        rc, _, err = tool("run", "--quick", "-o", out, "nosuchjob")
        self.assertEqual(rc, 2)
        self.assertIn("unknown job 'nosuchjob'", err)
        self.assertFalse(os.path.exists(out))

    def test_unknown_environment(self):
        rc, _, err = tool("run", "-e", "guest-8k", "sweep")
        self.assertEqual(rc, 2)
        self.assertIn("unknown environment 'guest-8k'", err)


@unittest.skipUnless(os.access(os.path.join(ROOT, "build/payloads/tlb-sweep.elf"), os.X_OK),
                     "payloads not built (make payloads)")
class Smoke(unittest.TestCase):
    """bench/run --profile tiny: a few seconds of the real thing."""

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="bench-smoke-")
        shutil.rmtree(cls.out)
        cls.rc, cls.stdout, cls.stderr = tool("run", "--profile", "tiny", "-n", "5", "-o",
                                              cls.out, "sweep", "gups")
        with open(os.path.join(cls.out, "provenance.json")) as f:
            cls.prov = json.load(f)
        cls.kvm = bool(cls.prov.get("kvm_available"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_exit_status(self):
        # Without KVM the guest environments are skipped, and said so.
        if self.kvm:
            self.assertEqual(self.rc, 0, self.stderr)
        else:
            self.assertEqual(self.rc, 1, self.stderr)
            self.assertIn("skipping guest-4k, guest-2m", self.stderr)

    def test_progress_line(self):
        self.assertRegex(self.stderr, r"bench: \[\d+/\d+\] rep 5/5 .* elapsed \d+:\d\d  ETA")

    def test_results_are_tagged_json_lines(self):
        with open(os.path.join(self.out, "results.jsonl")) as f:
            rows = [json.loads(s) for s in f]
        envs = {r["env"] for r in rows}
        self.assertTrue({"native-4k", "native-2m"} <= envs)
        if self.kvm:
            self.assertTrue({"guest-4k", "guest-2m"} <= envs)
        self.assertEqual({r["rep"] for r in rows}, {1, 2, 3, 4, 5})
        sweep = [r for r in rows if r["job"] == "sweep"]
        self.assertEqual({r["iter"] for r in sweep}, {0, 1})  # --repeat 2
        self.assertTrue(all(r["ns_per_op"] > 0 for r in rows))

    def test_provenance(self):
        for k in ("vmm", "host", "cpu_model", "kernel", "paging_mode", "thp_enabled", "hugetlb",
                  "load_before", "load_after", "commands", "seed", "reps", "finished"):
            self.assertIn(k, self.prov)
        self.assertRegex(self.prov["vmm"]["commit"] or "", r"^[0-9a-f]{40}$")
        self.assertIn("sweep native-4k", self.prov["commands"])

    def test_runs_record_commands_and_guest_proof(self):
        with open(os.path.join(self.out, "runs.jsonl")) as f:
            runs = [json.loads(s) for s in f]
        self.assertEqual(len(runs), 5 * 2 * (4 if self.kvm else 2))
        # Every pair once per repetition, in a shuffled order.
        orders = {tuple((r["job"], r["env"]) for r in runs if r["rep"] == k) for k in range(1, 6)}
        self.assertGreater(len(orders), 1)
        for r in runs:
            self.assertEqual(r["rc"], 0, r)
            if r["env"].startswith("guest-"):
                with open(os.path.join(self.out, r["vmm_report"])) as f:
                    rep = json.load(f)
                self.assertIn("kvm_pages", rep)
                self.assertEqual(r["proof"]["guest_pages"], r["env"][6:])
                if r["job"] == "sweep":  # it touches whole 2 MiB pages
                    self.assertTrue(r["proof_ok"], r["proof_problems"])
                if r["env"] == "guest-2m" and r["job"] == "sweep":
                    self.assertGreater(r["proof"]["leaves_2m"], 0)

    def test_tables_and_figures(self):
        self.assertIn("sweep layout=page pattern=rand: ns per op", self.stdout)
        self.assertIn("[95% bootstrap interval]", self.stdout)
        plots = os.listdir(os.path.join(self.out, "plots"))
        for name in ("sweep-layout-page-pattern-rand-tlb", "sweep-layout-dense-pattern-rand-tlb"):
            self.assertIn(name + ".svg", plots)
            self.assertIn(name + ".png", plots)
        if self.kvm:
            self.assertIn("sweep-layout-page-pattern-rand-ratio.svg", plots)

    def test_compares_clean_with_itself(self):
        rc, out, err = tool("compare", self.out, self.out)
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    unittest.main()
