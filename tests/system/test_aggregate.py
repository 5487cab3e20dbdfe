#!/usr/bin/env python3
"""test_aggregate.py - scripts/aggregate on fixed log sets in tests/fixtures/aggregate/ whose answers were
worked out by hand (each fixture's expected_summary.json, README.md says what the fixture holds), plus one
genuine run cross-checked against counts taken straight from its raw lines.

Run by ctest as `python3 tests/system/test_aggregate.py --bin BUILD/bin`; --bin is accepted and ignored (no
binary is needed). Standard library only; harness.py runs the tests. Exit status 0 when every test passes.
"""

import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main  # noqa: E402 (puts scripts/lib on the path)
from aggregate_analysis import Life, norm_signal, percentile  # noqa: E402
from toolkit.logfmt import parse_line  # noqa: E402
from toolkit.timestamps import format_ts, parse_ts  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGGREGATE = os.path.join(ROOT, "scripts", "aggregate")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "aggregate")
NO_PICTURES = ["--plot-python", "none", "--graphviz", "none"]
TESTS = []
SECURITY_MODES = "any"  # no node is started: one run, as system.test_aggregate


def test(fn):
    TESTS.append(fn)
    return fn


def run_aggregate(run_dir, *args, python=None, timeout=180):
    cmd = [python or sys.executable, AGGREGATE, run_dir] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def run_ok(run_dir, *args, python=None):
    rc, out, err = run_aggregate(run_dir, *args, python=python)
    check(rc == 0, "aggregate exited %d\nstdout:\n%s\nstderr:\n%s" % (rc, out, err))
    return out


def copy_fixture(name, tmp):
    dst = os.path.join(tmp, name)
    shutil.copytree(os.path.join(FIXTURES, name), dst)
    return dst


def load_summary(run_dir):
    with open(os.path.join(run_dir, "report", "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def load_expected(name):
    with open(os.path.join(FIXTURES, name, "expected_summary.json"), encoding="utf-8") as f:
        return json.load(f)


def differences(got, exp, path=""):
    """Readable list of where two JSON values differ."""
    out = []
    if isinstance(got, dict) and isinstance(exp, dict):
        for k in sorted(set(got) | set(exp)):
            if k not in got:
                out.append("%s/%s: missing (expected %r)" % (path, k, exp[k]))
            elif k not in exp:
                out.append("%s/%s: unexpected %r" % (path, k, got[k]))
            else:
                out += differences(got[k], exp[k], "%s/%s" % (path, k))
    elif isinstance(got, list) and isinstance(exp, list) and len(got) == len(exp):
        for i, (a, b) in enumerate(zip(got, exp)):
            out += differences(a, b, "%s/%d" % (path, i))
    elif got != exp or type(got) is not type(exp) and not (
            isinstance(got, (int, float)) and isinstance(exp, (int, float)) and not isinstance(got, bool)):
        out.append("%s: got %r, expected %r" % (path, got, exp))
    return out


def check_summary(run_dir, expected):
    got = load_summary(run_dir)
    check("artifacts" in got, "summary.json has no 'artifacts'")
    got = dict(got)
    got.pop("artifacts")
    diffs = differences(got, expected)
    check(not diffs, "summary.json differs from the hand-worked answer:\n  " + "\n  ".join(diffs[:40]))
    return got


# ---- the parser and small pure functions ------------------------------------------------------------------

@test
def logfmt_values_are_decoded_as_the_nodes_escape_them():
    kv = parse_line('ts=2026-01-01T00:00:00.000001Z node=1.2.3.4:5 event=x a="q \\"w\\" \\\\ \\n\\r\\t" '
                    'b=bare c="\\xff\\x41=" d="\\z" e= f')
    check(kv["a"] == 'q "w" \\ \n\r\t', "quoted escapes: %r" % kv["a"])
    check(kv["b"] == "bare", "bare value: %r" % kv["b"])
    check(kv["c"] == "\\xffA=", "\\xNN (invalid UTF-8 kept visible): %r" % kv["c"])
    check(kv["d"] == "z", "unknown escape keeps its character: %r" % kv["d"])
    check(kv["e"] == "" and kv["f"] == "", "empty and bare keys: %r %r" % (kv["e"], kv["f"]))
    check(parse_line('k="unterminated value')["k"] == "unterminated value", "a truncated quoted value")
    check(parse_line('msg="é ü" n=1') == {"msg": "é ü", "n": "1"}, "UTF-8 passes through")
    check(parse_line('a=1 a=2')["a"] == "1", "first occurrence of a key wins")


@test
def timestamps_round_trip_and_bad_ones_are_refused():
    us = parse_ts("2026-01-01T00:00:01.000250Z")
    check(us == 1767225601000250, "parse_ts: %r" % us)
    check(format_ts(us) == "2026-01-01T00:00:01.000250Z", "format_ts: %r" % format_ts(us))
    check(parse_ts("2026-01-01T01:00:01.5+01:00") == 1767225601500000, "zone offset and short fraction")
    check(parse_ts("2026-01-01T00:00:01Z") == 1767225601000000, "no fraction")
    for bad in ("", "2026-01-01T00:00:03.6", "yesterday", "2026-13-01T00:00:00Z", None):
        check(parse_ts(bad) is None, "parse_ts(%r) should be None" % (bad,))


@test
def percentiles_are_nearest_rank_and_signals_are_normalised():
    v = list(range(1, 101))
    check(percentile(v, 50) == 50 and percentile(v, 99) == 99, "1..100")
    check(percentile([7], 50) == 7 and percentile([7], 99) == 7, "one value")
    check(percentile([1, 2], 50) == 1 and percentile([1, 2], 99) == 2, "two values")
    check(percentile([], 50) is None, "empty")
    check(percentile(list(range(1, 61)), 99) == 60, "rank is ceil(0.99 * 60) = 60, not a rounded 59")
    check([norm_signal(s) for s in ("SIGKILL", "kill", "9", "19", "18", "TERM", " sigstop ")] ==
          ["KILL", "KILL", "KILL", "STOP", "CONT", "TERM", "STOP"], "signal names")


@test
def a_peer_is_live_until_the_instant_it_is_killed_paused_or_removed():
    life = Life()
    for ts, kind in ((0, "start"), (10, "nup"), (100, "pause"), (200, "cont"), (300, "removed"), (400, "rejoin"),
                     (500, "kill")):
        life.add(ts, kind)
    life.build()
    check(life.live_through(10, 99) and not life.live_through(10, 100), "live up to, not at, the STOP")
    check(not life.live_through(150, 150) and life.live_through(200, 299), "paused until CONT")
    check(not life.live_through(299, 300) and not life.live_through(350, 350), "not live once removed")
    check(life.live_through(400, 499) and not life.live_through(400, 500), "rejoined until the kill")
    check(life.proc_through(200, 499) and not life.proc_through(99, 200), "running ignores removal, not pauses")
    check(not life.joined_at(9) and life.joined_at(10) and life.joined_at(450), "joined from the first link")
    check(life.final() == ("killed", 500), "final state %r" % (life.final(),))
    again = Life()
    for ts, kind in ((0, "start"), (5, "nup"), (50, "end"), (60, "start"), (70, "nup")):
        again.add(ts, kind)
    again.build()
    check(again.joined_at(55) and not again.joined_at(65) and again.joined_at(70), "a restart must link again")
    check(not again.live_through(55, 55) and again.incarnation_at(65) == 1, "restart is a new incarnation")
    check(again.final() == ("running", None), "final state %r" % (again.final(),))


# ---- whole fixtures with hand-worked answers --------------------------------------------------------------

@test
def a_full_run_folder_gives_exactly_the_hand_worked_summary(tmp):
    run = copy_fixture("basic", tmp)
    out = run_ok(run, *NO_PICTURES)
    got = check_summary(run, load_expected("basic"))
    report = os.path.join(run, "report")
    for name in ("report.md", "summary.json", "timeline.log", "overlay.dot"):
        check(os.path.join(report, name) in out, "the path of %s is printed:\n%s" % (name, out))
    check(got["ok"] is False and len(got["problems"]) == 5, "five problems")


@test
def the_timeline_holds_every_line_ordered_by_its_own_timestamp(tmp):
    run = copy_fixture("basic", tmp)
    run_ok(run, *NO_PICTURES)
    with open(os.path.join(run, "report", "timeline.log"), "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    sources = [os.path.join(run, "events.log")] + [os.path.join(run, "logs", n)
                                                   for n in os.listdir(os.path.join(run, "logs"))]
    originals = []
    for path in sources:
        with open(path, "rb") as f:
            originals += f.read().decode("utf-8", "replace").splitlines()
    check(sorted(lines) == sorted(originals), "timeline.log is not exactly the union of all lines")
    stamps = [parse_ts(parse_line(x).get("ts")) for x in lines]
    known = [s for s in stamps if s is not None]
    check(known == sorted(known), "timeline.log is not ordered by ts")
    bad = lines.index("ts=2026-01-01T00:00:03.6")
    check(stamps[bad - 1] == parse_ts("2026-01-01T00:00:03.500000Z"),
          "an unparsable line keeps its place after the line before it in its file")
    check(lines[0].startswith("ts=2026-01-01T00:00:00.000000Z node=10.0.0.1:9000 event=started"), lines[0])
    check("node=launcher event=node_signalled name=peer-d" in lines[[i for i, x in enumerate(lines)
                                                                      if "04.200000Z" in x][0]], "KILL in place")


@test
def the_report_starts_with_the_problems_and_states_the_definitions(tmp):
    run = copy_fixture("basic", tmp)
    run_ok(run, *NO_PICTURES)
    with open(os.path.join(run, "report", "report.md"), encoding="utf-8") as f:
        text = f.read()
    headings = re.findall(r"^## (.+)$", text, re.M)
    check(headings[0] == "Problems", "first section is %r" % headings[0])
    problems = text.split("## Problems", 1)[1].split("\n## ", 1)[0]
    for kind in ("missing_message", "duplicate_delivery", "removal_without_report", "degree_exceeded",
                 "false_dead_report"):
        check("`%s`" % kind in problems, "%s is listed under Problems" % kind)
    for needle in ("## Who should have got a message", "grace = 2000 ms", "## Clocks", "nearest-rank",
                   "Overlay picture not drawn", "Dissemination plot not drawn", "| 10.0.0.1:9004 | peer-d |"):
        check(needle in text, "report.md lacks %r" % needle)


@test
def the_overlay_graph_is_written_with_killed_peers_drawn_apart(tmp):
    run = copy_fixture("basic", tmp)
    run_ok(run, *NO_PICTURES)
    with open(os.path.join(run, "report", "overlay.dot"), encoding="utf-8") as f:
        dot = f.read()
    check(dot.startswith("graph overlay {") and dot.rstrip().endswith("}"), "not a Graphviz graph")
    for peer in ("10.0.0.1:9001", "10.0.0.1:9002", "10.0.0.1:9003", "10.0.0.1:9004", "10.0.0.1:9000"):
        check('"%s" [' % peer in dot, "node %s missing from overlay.dot" % peer)
    check(re.search(r'"10\.0\.0\.1:9004" \[label="peer-d\\n10\.0\.0\.1:9004\\nkilled"[^\]]*dashed', dot),
          "the killed peer is not drawn dashed with a 'killed' label")
    check('"10.0.0.1:9001" -- "10.0.0.1:9002" [penwidth=1.6]' in dot, "a live edge is missing")
    check('"10.0.0.1:9001" -- "10.0.0.1:9004" [style=dotted' in dot, "the dead peer's last link is not dotted")


@test
def a_folder_with_only_logs_gives_exactly_the_hand_worked_summary(tmp):
    run = copy_fixture("logs_only", tmp)
    run_ok(run, *NO_PICTURES)
    check_summary(run, load_expected("logs_only"))


@test
def logs_collected_from_hosts_are_read_once_even_when_the_host_copies_exist_here(tmp):
    # On a local run nodes.json's log paths (on the "host") exist as well as the collected RUN/logs copies.
    run = copy_fixture("basic", tmp)
    host_logs = os.path.join(tmp, "host", "logs")
    shutil.copytree(os.path.join(run, "logs"), host_logs)
    with open(os.path.join(run, "nodes.json"), encoding="utf-8") as f:
        nodes = json.load(f)
    for n in nodes:
        n["log"] = os.path.join(host_logs, os.path.basename(n["log"]))
    with open(os.path.join(run, "nodes.json"), "w", encoding="utf-8") as f:
        json.dump(nodes, f)
    shutil.copy(os.path.join(run, "logs", "peer-10.0.0.1-9001.log"), os.path.join(run, "copy-of-a.log"))
    run_ok(run, *NO_PICTURES)
    expected = load_expected("basic")
    expected["notes"] = ["copy-of-a.log has the same bytes as logs/peer-10.0.0.1-9001.log: read once"] \
        + expected["notes"]
    check_summary(run, expected)
    shutil.rmtree(os.path.join(run, "logs"))  # nothing collected: the host paths are what there is
    os.remove(os.path.join(run, "copy-of-a.log"))
    run_ok(run, *NO_PICTURES)
    got = load_summary(run)
    check(got["counts"] == load_expected("basic")["counts"] and got["problems"] == expected["problems"],
          "reading the host paths: counts %r" % got["counts"])


@test
def log_files_lying_directly_in_the_folder_give_the_same_summary(tmp):
    flat = os.path.join(tmp, "flat")
    os.makedirs(flat)
    src = os.path.join(FIXTURES, "logs_only", "logs")
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), flat)
    run_ok(flat, *NO_PICTURES)
    check_summary(flat, load_expected("logs_only"))


@test
def clock_offsets_between_hosts_are_estimated_and_latencies_corrected(tmp):
    run = copy_fixture("two_hosts", tmp)
    run_ok(run, *NO_PICTURES)
    got = check_summary(run, load_expected("two_hosts"))
    check(got["clock"]["hosts"]["hostB"]["offset_ms"] == 49.75, "offset of hostB")
    with open(os.path.join(run, "report", "report.md"), encoding="utf-8") as f:
        text = f.read()
    check("clock-corrected (12 receipts): p50 1.250 ms" in text, "corrected latency missing from report.md")


@test
def peers_on_an_isolated_host_are_not_expected_to_get_messages_from_the_other_side(tmp):
    run = copy_fixture("two_hosts", tmp)
    # hostB is cut off at 2.5 s: hostA's message at 4.0 s is expected at hostA's other peer only, and the
    # message hostB sent at 3.05 s is expected of nobody on hostA either (hostB's peers are not live).
    with open(os.path.join(run, "events.log"), "w", encoding="utf-8") as f:
        f.write("ts=2026-01-01T00:00:02.500000Z node=launcher event=host_isolated host=hostB\n")
    run_ok(run, *NO_PICTURES)
    got = load_summary(run)
    check(got["isolations"] == [{"ts": "2026-01-01T00:00:02.500000Z", "host": "hostB", "event": "host_isolated"}],
          "isolations: %r" % got["isolations"])
    by_msg = {(m["origin"], m["seq"]): m for m in got["messages"]}
    late = by_msg[("10.0.1.1:8002", 1)]
    check(late["expected"] == 1 and late["missing"] == [], "message at 4.0 s: %r" % late)
    # Sent from hostB 0.45 s before the cut, inside the 2 s grace: nobody is held to it (it may not have left
    # the host), yet the receipts that did happen still count.
    early = by_msg[("10.0.2.1:8002", 1)]
    check(early["expected"] == 0 and early["received_total"] == 3, "message at 2.05 s: %r" % early)
    first = by_msg[("10.0.1.1:8001", 1)]
    # 1.0 s is within 2 s of the cut: only hostA's other peer is held to it.
    check(first["expected"] == 1 and first["missing"] == [], "message at 1.0 s: %r" % first)
    check(not [p for p in got["problems"] if p["kind"] == "missing_message"
               and p["peer"].startswith("10.0.2.1:")], "isolated peers flagged as missing messages")


@test
def a_paused_peer_is_not_expected_and_reports_on_it_are_not_false(tmp):
    run = copy_fixture("pause", tmp)
    run_ok(run, "--max-degree", "2", *NO_PICTURES)
    check_summary(run, load_expected("pause"))


@test
def a_node_that_exits_unasked_is_a_problem_and_not_expected_to_receive_after(tmp):
    run = copy_fixture("crash", tmp)
    run_ok(run, *NO_PICTURES)
    check_summary(run, load_expected("crash"))


@test
def max_degree_and_grace_can_be_set_on_the_command_line(tmp):
    run = copy_fixture("pause", tmp)
    run_ok(run, "--max-degree", "1", *NO_PICTURES)
    got = load_summary(run)
    kinds = [(p["kind"], p["peer"], p["degree"]) for p in got["problems"]]
    check(kinds == [("degree_exceeded", "10.1.0.1:6001", 2), ("degree_exceeded", "10.1.0.1:6002", 2),
                    ("degree_exceeded", "10.1.0.1:6003", 2)], "with --max-degree 1: %r" % kinds)
    run = copy_fixture("basic", tmp)
    run_ok(run, "--grace-ms", "100", *NO_PICTURES)
    got = load_summary(run)
    # With a 100 ms grace, peer-d (killed at 4.2 s) is expected to get peer-c's message of 3.0 s, and got it.
    m3 = [m for m in got["messages"] if m["origin"] == "10.0.0.1:9003" and m["seq"] == 1][0]
    check((m3["expected"], m3["received"], m3["time_to_all_ms"]) == (3, 3, 1.3), "grace 100 ms: %r" % m3)
    check(got["grace_ms"] == 100, "grace_ms is reported")


@test
def the_other_python_gives_the_same_summary(tmp):
    other = "/usr/bin/python3"
    if not os.path.exists(other) or os.path.realpath(other) == os.path.realpath(sys.executable):
        print("    (skipped: no second interpreter at %s)" % other)
        return
    for name in ("basic", "logs_only", "two_hosts"):
        run = copy_fixture(name, tmp)
        run_ok(run, *NO_PICTURES, python=other)
        check_summary(run, load_expected(name))


# ---- pictures never fail the run -------------------------------------------------------------------------

def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@test
def pictures_are_drawn_when_the_tools_exist_and_skipped_with_a_reason_otherwise(tmp):
    run = copy_fixture("basic", tmp)
    out = run_ok(run)
    got = load_summary(run)
    art = got["artifacts"]
    report = os.path.join(run, "report")
    with open(os.path.join(report, "report.md"), encoding="utf-8") as f:
        text = f.read()
    for key, name, embed in (("overlay_png", "overlay.png", "![overlay](overlay.png)"),
                             ("dissemination_png", "dissemination.png", "![dissemination](dissemination.png)")):
        path = os.path.join(report, name)
        if art[key]:
            check(_is_png(path), "%s is not a PNG" % name)
            check(embed in text, "%s is not embedded in report.md" % name)
            print("    %s drawn" % name)
        else:
            check(not os.path.exists(path), "%s exists though reported skipped" % name)
            check(art["skipped"].get(key), "no reason given for skipping %s" % name)
            check("skipped %s" % path in out, "the skip is not printed")
            print("    %s skipped: %s" % (name, art["skipped"][key]))
    check(os.path.getsize(os.path.join(report, "overlay.dot")) > 0, "overlay.dot is empty")


@test
def gnuplot_draws_the_latency_cdf_when_chosen(tmp):
    run = copy_fixture("basic", tmp)
    run_ok(run, "--plot-python", "gnuplot", "--graphviz", "none")
    art = load_summary(run)["artifacts"]
    if shutil.which("gnuplot") is None:
        check(art["skipped"].get("dissemination_png") == "gnuplot is not installed", "reason: %r" % art)
        print("    (gnuplot not installed: only the skip was checked)")
        return
    check(art["dissemination_png"] == "dissemination.png", "gnuplot did not draw: %r" % art["skipped"])
    check(_is_png(os.path.join(run, "report", "dissemination.png")), "not a PNG")


@test
def an_unusable_plotting_interpreter_is_reported_not_fatal(tmp):
    run = copy_fixture("two_hosts", tmp)
    run_ok(run, "--plot-python", os.path.join(tmp, "no-such-python"), "--graphviz", os.path.join(tmp, "no-dot"))
    art = load_summary(run)["artifacts"]
    check(art["dissemination_png"] is None and "no-such-python" in art["skipped"]["dissemination_png"],
          "skip reason: %r" % art["skipped"])
    check(art["overlay_png"] is None and "no-dot" in art["skipped"]["overlay_png"], "skip reason: %r" % art)
    with open(os.path.join(run, "report", "report.md"), encoding="utf-8") as f:
        text = f.read()
    check("Dissemination plot not drawn" in text and "Overlay picture not drawn" in text, "report.md says so")


# ---- a genuine run ---------------------------------------------------------------------------------------

@test
def a_genuine_run_agrees_with_counts_taken_from_its_raw_lines(tmp):
    run = copy_fixture("real_run", tmp)
    run_ok(run, *NO_PICTURES)
    got = load_summary(run)
    lines = []
    for name in sorted(os.listdir(os.path.join(run, "logs"))):
        with open(os.path.join(run, "logs", name), encoding="utf-8") as f:
            lines += f.read().splitlines()

    def count(event):
        return sum(1 for x in lines if " event=%s " % event in x + " ")

    killed = "127.0.0.1:23012"
    check(got["ok"] is True, "problems in a clean run: %r" % got["problems"])
    check(len(got["messages"]) == count("gossip_origin"), "one message per gossip_origin line")
    check(sum(m["received_total"] for m in got["messages"]) == count("gossip_recv"), "every gossip_recv counted")
    check(len(got["dead_reports"]) == count("dead_report"), "every dead_report listed")
    check(len(got["removals"]) == count("peer_removed"), "every peer_removed listed")
    check(len(got["detections"]) == count("dead_detected"), "every dead_detected listed")
    check(len(got["dead_reports_sent"]) == count("dead_report_sent"), "every dead_report_sent listed")
    check({d["peer"] for d in got["detections"]} == {killed}, "only the killed peer was detected dead")
    check({r["peer"] for r in got["removals"]} == {killed}, "only the killed peer was removed")
    check(got["killed"] == [{"ts": "2026-11-25T13:52:18.420009Z", "address": killed, "signal": "KILL"}],
          "killed: %r" % got["killed"])
    check(got["peers"][killed]["live_at_end"] is False and got["peers"][killed]["killed"] is True, "peer3 dead")
    check(all(p["live_at_end"] for a, p in got["peers"].items() if a != killed), "the others are live")
    check(all(killed not in e for e in got["edges"]), "no edge to the killed peer at the end")
    check(got["delivery_ratio"] == 1.0 and got["snapshot"]["teardown"] is True, "delivery and teardown")
    last_dups = {}
    for x in lines:
        kv = parse_line(x)
        if kv.get("event") == "gossip_stats":
            last_dups[kv["node"]] = int(kv["duplicates"])
    check(got["duplicates"] == sum(last_dups.values()), "duplicates: %r vs %r" % (got["duplicates"], last_dups))
    check(all(p["max_degree"] == 4 for p in got["peers"].values()), "max_degree from the configs (default 4)")


# ---- command line --------------------------------------------------------------------------------------------

@test
def bad_folders_exit_2_and_fail_on_problems_exits_1(tmp):
    rc, _, err = run_aggregate(os.path.join(tmp, "missing"))
    check(rc == 2 and "not a folder" in err, "missing folder: rc %d %r" % (rc, err))
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    rc, _, err = run_aggregate(empty)
    check(rc == 2 and "no log files" in err, "empty folder: rc %d %r" % (rc, err))
    run = copy_fixture("basic", tmp)
    rc, out, _ = run_aggregate(run, "--fail-on-problems", *NO_PICTURES)
    check(rc == 1 and out.strip().splitlines()[-1].startswith("PROBLEMS 5"), "basic: rc %d %r" % (rc, out))
    run = copy_fixture("two_hosts", tmp)
    rc, out, _ = run_aggregate(run, "--fail-on-problems", "--out", os.path.join(tmp, "elsewhere"), *NO_PICTURES)
    check(rc == 0 and out.strip().splitlines()[-1].startswith("OK:"), "two_hosts: rc %d %r" % (rc, out))
    check(os.path.isfile(os.path.join(tmp, "elsewhere", "summary.json")), "--out is honoured")


if __name__ == "__main__":
    main(TESTS, binaries=(), argument=lambda cluster: cluster.dir)  # each test gets a fresh temp dir
