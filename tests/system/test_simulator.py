"""gossip-sim on the shipped small scenario: the same seed gives the same run folder byte for byte, another
seed another, scripts/aggregate reads the folder like a real run's and finds no problem, a bad scenario
exits 2 naming file, line and key."""

import filecmp
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(REPO, "config", "sim", "small.toml")
SECURITY_MODES = "any"  # no node is started: one run, as system.test_simulator


def simulate(c, out, *extra):
    r = subprocess.run([c.bin("gossip-sim"), "--scenario", SCENARIO, "--out", out, *extra], capture_output=True,
                       text=True, timeout=240)
    h.check(r.returncode == 0, "gossip-sim exited %d: %s %s" % (r.returncode, r.stdout, r.stderr))
    h.check("checks: ok" in r.stdout, "the simulator's own checks: %s" % r.stdout)
    return r.stdout


def test_the_same_seed_gives_the_same_run_folder_and_aggregate_reads_it(c):
    a, b, other = (os.path.join(c.dir, n) for n in ("a", "b", "other"))
    summary = simulate(c, a)
    h.check(simulate(c, b) == summary.replace(a, b), "two runs printed different summaries")
    cmp = filecmp.dircmp(a, b)
    logs = filecmp.dircmp(os.path.join(a, "logs"), os.path.join(b, "logs"))
    h.check(len(logs.left_list) == 32, "%d log files, want 2 seeds + 30 peers" % len(logs.left_list))
    for d in (cmp, logs):
        _, mismatch, errors = filecmp.cmpfiles(d.left, d.right, d.common_files, shallow=False)
        h.check(not mismatch and not errors and not d.left_only and not d.right_only,
                "run folders differ: %r %r %r %r" % (mismatch, errors, d.left_only, d.right_only))
    simulate(c, other, "--seed", "8")
    _, mismatch, _ = filecmp.cmpfiles(logs.left, os.path.join(other, "logs"), logs.common_files, shallow=False)
    h.check(mismatch, "another seed gave the same logs")

    r = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "aggregate"), a, "--fail-on-problems",
                        "--plot-python", "none", "--graphviz", "none"], capture_output=True, text=True, timeout=240)
    h.check(r.returncode == 0, "aggregate found problems or failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr))
    with open(os.path.join(a, "report", "summary.json"), encoding="utf-8") as f:
        s = json.load(f)
    h.check(len(s["peers"]) == 30 and len(s["seeds"]) == 2, "aggregate saw %d peers" % len(s["peers"]))
    h.check(s["delivery_ratio"] == 1.0 and len(s["messages"]) > 500, "delivery %r over %d messages"
            % (s["delivery_ratio"], len(s["messages"])))
    h.check([i["host"] for i in s["isolations"]] == ["h3", "h3"], "isolations %r" % s["isolations"])
    h.check(len([k for k in s["killed"] if k["signal"] == "KILL"]) == 3, "kills %r" % s["killed"])


def test_a_bad_scenario_exits_2_with_file_line_key_and_reason(c):
    bad = os.path.join(c.dir, "bad.toml")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("[cluster]\npeers = 3\n\n[config.overlay]\nmax_degree = 0\n")
    r = subprocess.run([c.bin("gossip-sim"), "--scenario", bad], capture_output=True, text=True, timeout=60)
    h.check(r.returncode == 2, "exit %d" % r.returncode)
    h.check("%s:5: key 'config.overlay.max_degree': must be between 1 and 64 (got 0)" % bad in r.stderr, r.stderr)


if __name__ == "__main__":
    h.main([test_the_same_seed_gives_the_same_run_folder_and_aggregate_reads_it,
            test_a_bad_scenario_exits_2_with_file_line_key_and_reason], binaries=("gossip-sim",))
