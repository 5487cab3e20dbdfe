"""aggregate_render.py - writes what scripts/aggregate produces: timeline.log, overlay.dot (+ .png with
Graphviz), dissemination.png (matplotlib in a child interpreter, else gnuplot), report.md, summary.json.

Pictures are best effort: a missing or failing tool is recorded in the report, never an error.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from toolkit.timestamps import parse_ts

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL_TIMEOUT_S = 120
SEED_LINES_MAX_PEERS = 30  # above this many peers, overlay.png leaves out the seed-to-peer registration lines
# neato's layout time grows with the square of the nodes and more (200 peers: 40 s on a 2-core machine, 1,000:
# many minutes), and dot lays 1,000 nodes out as a strip 32,767 pixels wide: above this many, sfdp draws it.
NEATO_MAX_NODES = 500


def write_timeline(data, path):
    """Every line of every file (events.log included), ordered by its own ts; ties keep file order."""
    entries = sorted(data.timeline, key=lambda e: (e[0], e[1], e[2]))
    with open(path, "wb") as f:
        for _, _, _, raw in entries:
            f.write(raw.rstrip(b"\r"))
            f.write(b"\n")


# ---- overlay picture --------------------------------------------------------------------------------------

def _q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_dot(summary, extras, path, title):
    peers = summary["peers"]
    seeds = summary["seeds"]
    killed = {k["address"] for k in summary["killed"] if k["signal"] == "KILL"}
    paused = {k["address"] for k in summary["killed"] if k["signal"] != "KILL"}
    removed = {r["peer"] for r in summary["removals"] if r["reason"] == "dead_report"}
    lines = ["graph overlay {",
             "  graph [overlap=false, splines=true, fontname=Helvetica, fontsize=11, labelloc=t, label=%s];"
             % _q(title + "\noverlay at " + (summary["snapshot"]["ts"] or "?")),
             "  node [fontname=Helvetica, fontsize=9, style=filled];",
             "  edge [color=\"#3060a0\"];"]
    mentioned = set()
    for p in sorted(peers):
        info = peers[p]
        label = (info.get("name") + "\n" if info.get("name") else "") + p
        if p in killed:
            attrs = 'shape=ellipse, fillcolor="#f4a6a6", style="filled,dashed", color="#c00000"'
            label += "\nkilled"
        elif info["live_at_end"]:
            attrs = 'shape=ellipse, fillcolor="#cfe8ff"'
        else:
            attrs = 'shape=ellipse, fillcolor="#dddddd", style="filled,dashed"'
            label += "\nstopped" if p in paused else "\nnot live"
        if p in removed and p not in killed and info["live_at_end"] is False:
            label += " (removed)"
        lines.append("  %s [label=%s, %s];" % (_q(p), _q(label), attrs))
        mentioned.add(p)
    for s in sorted(seeds):
        info = seeds[s]
        label = (info.get("name") + "\n" if info.get("name") else "") + s + "\nseed"
        lines.append('  %s [label=%s, shape=box, fillcolor="#ffe9a8"];' % (_q(s), _q(label)))
        mentioned.add(s)
    for a, b in summary["edges"]:
        for x in (a, b):
            if x not in mentioned:
                lines.append('  %s [shape=ellipse, fillcolor="#ffffff", label=%s];' % (_q(x), _q(x + "\nno log")))
                mentioned.add(x)
        lines.append("  %s -- %s [penwidth=1.6];" % (_q(a), _q(b)))
    for a, b in summary["one_sided_edges"]:
        if b in mentioned:
            lines.append('  %s -- %s [style=dashed, color="#d08000", tooltip="one-sided"];' % (_q(a), _q(b)))
    for a, b in extras.get("dead_edges", []):
        if a in mentioned and b in mentioned:
            lines.append('  %s -- %s [style=dotted, color="#c00000"];' % (_q(a), _q(b)))
    # Registration lines only while they do not swamp the overlay itself.
    for s in sorted(seeds) if len(peers) <= SEED_LINES_MAX_PEERS else []:
        for p in seeds[s]["registered_at_end"]:
            if p in mentioned:
                lines.append('  %s -- %s [style=dotted, color="#c8a000", penwidth=0.6, len=1.6];' % (_q(s), _q(p)))
    lines.append("}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def render_dot(dot_path, png_path, graphviz, nodes):
    """Draws the graph of `nodes` nodes. Returns None when drawn, else the reason it was not."""
    if graphviz == "none":
        return "skipped (--graphviz none)"
    big = graphviz == "auto" and nodes > NEATO_MAX_NODES
    if big:  # sfdp, Graphviz's layout for large graphs, with straight edges: 1,000 nodes in seconds
        tools = [shutil.which("sfdp")]
    else:
        tools = [graphviz] if graphviz != "auto" else [shutil.which("neato"), shutil.which("dot")]
    extra = ["-Gsplines=false", "-Goverlap=prism", "-Gsize=16,16"] if big else []
    tools = [t for t in tools if t]
    if not tools:
        return "Graphviz (%s) is not installed" % ("sfdp" if big else "neato/dot")
    reasons = []
    for tool in tools:
        try:
            r = subprocess.run([tool, "-Tpng", *extra, "-o", png_path, dot_path], capture_output=True,
                               timeout=TOOL_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            reasons.append("%s: %s" % (tool, e))
            continue
        if r.returncode == 0 and os.path.isfile(png_path) and os.path.getsize(png_path) > 0:
            return None
        reasons.append("%s exited %d: %s" % (tool, r.returncode, r.stderr.decode("utf-8", "replace").strip()[:200]))
    return "; ".join(reasons)


# ---- dissemination picture ---------------------------------------------------------------------------------

def _plot_data(summary, extras, title):
    msgs = summary["messages"]
    t0s = [parse_ts(m["created"]) for m in msgs]
    first = min(t0s) if t0s else 0
    return {
        "title": title,
        "latencies_ms": [round(x / 1000.0, 3) for x in extras["latencies_us"]],
        "corrected_ms": ([round(x / 1000.0, 3) for x in extras["corrected_latencies_us"]]
                         if extras.get("corrected_latencies_us") else None),
        "messages": [{"t_rel_s": round((t - first) / 1e6, 6), "max_ms": m["max_ms"],
                      "time_to_all_ms": m["time_to_all_ms"], "expected": m["expected"]}
                     for m, t in zip(msgs, t0s)],
    }


def _gnuplot(data, png_path, gnuplot):
    lat = sorted(data["latencies_ms"])
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "cdf.dat")
        with open(dat, "w") as f:
            for i, v in enumerate(lat):
                f.write("%s %s\n" % (v, (i + 1) / len(lat)))
        script = "\n".join([
            "set terminal png size 900,500", "set output '%s'" % png_path.replace("'", ""),
            "set title 'CDF of dissemination latency (raw)'", "set xlabel 'origin -> receipt latency (ms)'",
            "set ylabel 'fraction of receipts'", "set yrange [0:1.02]", "set grid",
            "plot '%s' using 1:2 with steps title 'receipts'" % dat, ""])
        r = subprocess.run([gnuplot], input=script.encode(), capture_output=True, timeout=TOOL_TIMEOUT_S)
    if r.returncode == 0 and os.path.isfile(png_path) and os.path.getsize(png_path) > 0:
        return None
    return "gnuplot exited %d: %s" % (r.returncode, r.stderr.decode("utf-8", "replace").strip()[:200])


def render_plot(summary, extras, png_path, plot_python, title):
    """Returns None when drawn, else the reason it was not."""
    if plot_python == "none":
        return "skipped (--plot-python none)"
    if not extras["latencies_us"]:
        return "no gossip receipts to plot"
    data = _plot_data(summary, extras, title)
    payload = json.dumps(data).encode()
    if plot_python == "auto":
        cands = [sys.executable, "/usr/bin/python3", shutil.which("python3")]
    elif plot_python == "gnuplot":
        cands = []
    else:
        cands = [plot_python]
    seen, reasons = set(), []
    env = dict(os.environ, MPLBACKEND="Agg")
    for py in cands:
        if not py or py in seen or not os.path.exists(py):
            if py and py not in seen and plot_python != "auto":
                reasons.append("%s does not exist" % py)
            continue
        seen.add(py)
        with tempfile.TemporaryDirectory() as mpl_dir:
            env["MPLCONFIGDIR"] = mpl_dir
            try:
                r = subprocess.run([py, os.path.join(HERE, "aggregate_plot.py"), png_path], input=payload,
                                   capture_output=True, timeout=TOOL_TIMEOUT_S, env=env)
            except (OSError, subprocess.TimeoutExpired) as e:
                reasons.append("%s: %s" % (py, e))
                continue
        if r.returncode == 0 and os.path.isfile(png_path):
            return None
        if r.returncode == 3:
            reasons.append("no matplotlib for %s" % py)
        else:
            reasons.append("%s exited %d: %s" % (py, r.returncode, r.stderr.decode("utf-8", "replace").strip()[-200:]))
    gnuplot = shutil.which("gnuplot") if plot_python in ("auto", "gnuplot") else None
    if gnuplot:
        try:
            why = _gnuplot(data, png_path, gnuplot)
        except (OSError, subprocess.TimeoutExpired) as e:
            why = "gnuplot: %s" % e
        if why is None:
            return None
        reasons.append(why)
    elif plot_python in ("auto", "gnuplot"):
        reasons.append("gnuplot is not installed")
    return "; ".join(reasons) or "no plotting tool"


# ---- report.md ----------------------------------------------------------------------------------------------

def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "%.3f" % v
    return str(v)


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(_fmt(c).replace("|", "\\|") for c in row) + " |")
    return out


DEFINITION = """A message (origin, seq) created at T (the origin's `gossip_origin` time) **should have reached**
every peer P other than its origin such that:

1. P was *joined* at T: its log has a `neighbour_up` at or before T, after its latest `started`; and
2. P was *live* over the whole window [T, T + grace] (grace = {grace} ms), where P is live from its `started`
   (or its first line) until its own `leaving`/`stopped`, a launcher `node_signalled signal=KILL` or
   `node_exited`, or a `signal=STOP` (live again at `CONT`), and not live from a seed's
   `peer_removed reason=dead_report` for P until P rejoins (a seed's `registered peer=P`, or P's own
   `neighbour_up`).

Exception: a message nobody received whose origin stopped being live within [T, T + grace] is *lost at the
origin*, and nobody is expected to have it. A host recorded as cut off (`launch mark RUN host_isolated
host=H`, until `host_restored`) counts as paused: its peers are held to nothing meanwhile, and a message whose
origin's host is cut off within [T, T + grace] is held to nobody. Each peer's events are taken at their own timestamps (no clock
correction). Latencies use each peer's first `gossip_recv` of the message, for every receiver (expected or
not). Percentiles are nearest-rank: the value at rank ceil(p*n/100) of the n sorted values."""


def write_report(summary, extras, path, run_dir, artifacts):
    s = summary
    out = ["# Run report: `%s`" % os.path.basename(os.path.abspath(run_dir)), ""]
    out += ["## Problems", ""]
    probs = s["problems"]
    if not probs:
        out.append("**None.** Every expected peer got every message; no duplicate handling, unmatched removal, "
                   "lost or unsent dead report, degree above max_degree, report on a live peer or unexpected exit "
                   "was found.")
    else:
        kinds = {}
        for p in probs:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        out.append("**%d problem(s):** %s" % (len(probs), ", ".join("%s x%d" % kv for kv in kinds.items())))
        out.append("")
        shown = {}
        for p in probs:
            shown[p["kind"]] = shown.get(p["kind"], 0) + 1
            if shown[p["kind"]] <= 40:
                out.append("- `%s` %s" % (p["kind"], p["detail"]))
            elif shown[p["kind"]] == 41:
                out.append("- `%s` ... and %d more (all in summary.json)" % (p["kind"], kinds[p["kind"]] - 40))
    out.append("")
    lat = s["latency_ms"]
    out += ["## Summary", "",
            "- Peers: %d (%d live at the end), seeds: %d, messages: %d"
            % (len(s["peers"]), sum(1 for p in s["peers"].values() if p["live_at_end"]), len(s["seeds"]),
               len(s["messages"])),
            "- Delivery: %d of %d expected receipts = **%.4f**"
            % (sum(m["received"] for m in s["messages"]), sum(m["expected"] for m in s["messages"]),
               s["delivery_ratio"]),
            "- Dissemination latency, origin to receipt, over %d receipts (raw clocks): p50 %s ms, p99 %s ms, "
            "max %s ms" % (lat["count"], _fmt(lat["p50"]), _fmt(lat["p99"]), _fmt(lat["max"]))]
    corr = s["clock"]["latency_ms_corrected"]
    if corr:
        out.append("- Same, clock-corrected (%d receipts): p50 %s ms, p99 %s ms, max %s ms"
                   % (corr["count"], _fmt(corr["p50"]), _fmt(corr["p99"]), _fmt(corr["max"])))
    out += ["- Duplicates counted by the peers (last `gossip_stats` of each): %d" % s["duplicates"],
            "- Dead-node detections: %d, reports at seeds: %d, removals: %d, launcher KILL/STOP: %d"
            % (len(s["detections"]), len(s["dead_reports"]), len(s["removals"]), len(s["killed"])),
            "- Hosts cut off (`launch mark`): %s" % (", ".join("%s %s at %s" % (
                x["host"], "cut off" if x["event"] == "host_isolated" else "restored", x["ts"])
                for x in s.get("isolations", [])) or "none"),
            "- \"At the end\" means %s (%s)"
            % (s["snapshot"]["ts"], "just before the final teardown" if s["snapshot"]["teardown"]
               else "the last line of the logs"),
            ""]
    out += ["## Pictures", ""]
    if artifacts.get("overlay_png"):
        out += ["![overlay](overlay.png)", "",
                "Blue: live at the end; red dashed: killed; grey: stopped or otherwise not live; yellow boxes: seeds "
                "(dotted yellow lines, up to 30 peers: peers registered there). Solid edges: links both ends list; "
                "orange dashed: one end only; red dotted: the last links of a dead peer.", ""]
    else:
        out += ["Overlay picture not drawn: %s. The graph is in `overlay.dot`."
                % artifacts["skipped"]["overlay_png"], ""]
    if artifacts.get("dissemination_png"):
        out += ["![dissemination](dissemination.png)", ""]
    else:
        out += ["Dissemination plot not drawn: %s." % artifacts["skipped"]["dissemination_png"], ""]
    out += ["## Who should have got a message", "", DEFINITION.format(grace=s["grace_ms"]), ""]
    out += ["## Messages", ""]
    rows = []
    for m in s["messages"]:
        rows.append([m["origin"], m["seq"], m["created"], m["expected"], m["received"], m["received_total"],
                     m["p50_ms"], m["p99_ms"], m["max_ms"], m["max_hops"], m["time_to_all_ms"],
                     ", ".join(m["missing"]) + (" (lost at origin)" if m["lost_at_origin"] else "")
                     + ("" if m["origin_logged"] else " (origin line absent)")])
    out += _table(["origin", "seq", "created", "expected", "got (of expected)", "got (all)", "p50 ms", "p99 ms",
                   "max ms", "max hops", "time to all ms", "missing"], rows) if rows else ["No gossip messages."]
    out += ["", "## Peers", ""]
    rows = []
    for a, p in sorted(s["peers"].items()):
        rows.append([a, p["name"], p["host"], p["live_at_end"], p["killed"], p["expected"], p["received"],
                     len(p["missing"]), p["received_total"], p["duplicates"], p["max_degree"],
                     ", ".join(p["neighbours_at_end"])])
    out += _table(["peer", "name", "host", "live at end", "killed", "expected", "received", "missing",
                   "received (all)", "duplicates", "max_degree", "neighbours at end"], rows) if rows else ["No peers."]
    out += ["", "## Overlay at the end", ""]
    out.append("%d edge(s), each listed by both ends (or by one end whose other end has no log):" % len(s["edges"]))
    out.append("")
    out += ["- %s -- %s" % (a, b) for a, b in s["edges"]] or ["- (none)"]
    if s["one_sided_edges"]:
        out += ["", "Listed by one live end only (first lists second):", ""]
        out += ["- %s -> %s" % (a, b) for a, b in s["one_sided_edges"]]
    if s["stale_edges"]:
        out += ["", "Listed by a live peer but pointing at a peer that was not live:", ""]
        out += ["- %s -> %s" % (a, b) for a, b in s["stale_edges"]]
    if s["seeds"]:
        out += ["", "Seeds and the peers registered with them at the end:", ""]
        out += ["- %s: %s" % (a, ", ".join(x["registered_at_end"]) or "(none)") for a, x in sorted(s["seeds"].items())]
    out += ["", "## Failure detection"]
    # (title, summary list, column headings, the fields they show)
    for title, key, header, fields in (
            ("Launcher signals", "signals", ["ts", "address", "name", "signal"], ["ts", "address", "name", "signal"]),
            ("Detections (`dead_detected`)", "detections", ["ts", "detector", "dead peer"], ["ts", "detector", "peer"]),
            ("Dead reports sent (`dead_report_sent`)", "dead_reports_sent", ["ts", "reporter", "dead peer", "seed"],
             ["ts", "reporter", "peer", "seed"]),
            ("Dead reports received by seeds (`dead_report`)", "dead_reports",
             ["ts", "seed", "reporter", "dead peer", "outcome"], ["ts", "seed", "reporter", "peer", "outcome"]),
            ("Removals (`peer_removed`)", "removals", ["ts", "seed", "peer", "reason", "reporter"],
             ["ts", "seed", "peer", "reason", "reporter"])):
        out += ["", "### " + title, ""]
        out += _table(header, [[x[f] for f in fields] for x in s[key]]) if s[key] else ["None."]
    c = s["clock"]
    out += ["", "## Clocks", "",
            "Every line carries its writer's wall clock. The timeline is ordered by each line's own ts, and every "
            "latency above is *receiver's clock minus origin's clock*, so across hosts it includes the offset "
            "between their clocks. Nodes are grouped by host (nodes.json `host`, else the address's IP). Where two "
            "hosts exchanged gossip both ways, the offset is estimated NTP-style from the smallest one-way delay seen "
            "in each direction: offset(b) - offset(a) = (min a->b - min b->a) / 2, which assumes the fastest trip "
            "takes as long both ways. Offsets are relative to the reference host `%s`." % c["reference"], ""]
    out += _table(["host", "nodes", "offset ms"], [[h, len(x["nodes"]), x["offset_ms"]]
                                                    for h, x in sorted(c["hosts"].items())]) if c["hosts"] else []
    if c["pairs"]:
        out += ["", "Host pairs:", ""]
        out += _table(["a", "b", "min a->b ms", "min b->a ms", "samples a->b", "samples b->a", "offset b-a ms"],
                      [[x["a"], x["b"], x["min_ab_ms"], x["min_ba_ms"], x["samples_ab"], x["samples_ba"],
                        x["offset_b_minus_a_ms"]] for x in c["pairs"]])
    if len(c["hosts"]) <= 1:
        out += ["", "All nodes share one host, hence one clock: latencies need no correction."]
    elif not c["corrected"]:
        out += ["", "No host pair exchanged gossip both ways, so no offset could be estimated; latencies are raw."]
    else:
        out += ["", "Corrected latencies subtract each host's estimated offset; hosts without an estimate are left "
                    "out of the corrected figures."]
    if s["notes"] or artifacts["skipped"]:
        out += ["", "## Notes", ""]
        out += ["- %s" % n for n in s["notes"]]
        out += ["- %s not made: %s" % (k, v) for k, v in sorted(artifacts["skipped"].items())]
    out += ["", "Files: `timeline.log` (every line, by ts), `summary.json` (this report as data, see "
                "docs/AGGREGATE.md), `overlay.dot`."]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def write_summary(summary, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, sort_keys=False, ensure_ascii=False)
        f.write("\n")
