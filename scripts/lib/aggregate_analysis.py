"""aggregate_analysis.py - judges a run from its records: who should have got each gossip message, who did,
how long it took, what went wrong. Produces the summary dict written as summary.json; docs/AGGREGATE.md
defines every field and every rule used here. Standard library only.

analyse() is a sequence of named steps, one per rule of docs/AGGREGATE.md, in the order the rules build
on each other. What it does not do: read files (aggregate_load.py) or write anything (aggregate_render.py).
Every step is linear or n log n in the number of lines (runs of 1,000 peers and 100,000s of lines).
"""

import os
from bisect import bisect_left, bisect_right
from collections import defaultdict
from types import SimpleNamespace

from aggregate_load import find_config, read_max_degree
from toolkit.timestamps import format_ts

INF = float("inf")

SIGNAL_NUMBERS = {"1": "HUP", "2": "INT", "3": "QUIT", "9": "KILL", "15": "TERM", "18": "CONT", "19": "STOP",
                  "20": "TSTP"}
# Launcher signals that change whether a node is live; TERM/INT are left to the node's own
# leaving/stopped lines, which follow them.
SIGNAL_EFFECT = {"KILL": "kill", "STOP": "pause", "TSTP": "pause", "CONT": "cont"}
SEED_EVENTS = {"registered", "reregistered", "peer_list_sent", "register_refused", "dead_report", "peer_removed",
               "dead_report_ignored"}
PEER_EVENTS = {"control_listening", "register_sent", "seed_unreachable", "seed_registered", "peer_list", "joined",
               "dropped_by_seed", "register_retry", "seed_error", "link_request", "link_refused", "neighbour_up",
               "neighbour_down", "link_failed", "neighbour_rejected", "liveness_miss", "liveness_stalled", "dead_detected",
               "dead_report_sent", "gossip_origin", "gossip_recv", "gossip_stats", "publish_refused", "peer_error",
               "leaving"}
PROBLEM_ORDER = ["missing_message", "duplicate_delivery", "removal_without_report", "dead_report_unsent",
                 "dead_report_lost", "degree_exceeded", "false_dead_report", "unexpected_exit"]
# Launcher signals after which a node's exit is expected.
ENDING_SIGNALS = {"KILL", "TERM", "INT", "HUP", "QUIT"}
PAUSING_SIGNALS = ("KILL", "STOP", "TSTP")  # what summary.killed lists
# A gossip_recv belongs to the origin's gossip_origin line whose time is within this of its created_us
# (both are the origin's clock, taken microseconds apart).
MATCH_TOLERANCE_US = 1_000_000


def norm_signal(value):
    """'SIGKILL', 'kill', '9' -> 'KILL'."""
    s = (value or "").strip().upper()
    if s.startswith("SIG"):
        s = s[3:]
    return SIGNAL_NUMBERS.get(s, s)


def to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list: the value at rank ceil(p*n/100); None if empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, (p * n + 99) // 100)
    return sorted_values[rank - 1]


def ms(us):
    return None if us is None else round(us / 1000.0, 3)


def iso(us):
    return None if us is None else format_ts(us)


def stats_ms(values_us):
    v = sorted(values_us)
    return {"p50": ms(percentile(v, 50)), "p99": ms(percentile(v, 99)), "max": ms(v[-1] if v else None),
            "count": len(v)}


def add_problem(problems, kind, ts_us, detail, **fields):
    problems.append(dict(kind=kind, ts=iso(ts_us), **fields, detail=detail))


# ---- a node's life -------------------------------------------------------------------------------------

_PRIO = {"start": 0, "nup": 1, "rejoin": 1, "cont": 2, "removed": 2, "pause": 2, "end": 3, "kill": 3}


class Life:
    """When a node was running (proc) and when it was live (running, not paused, not removed as dead)."""

    def __init__(self):
        self.transitions = []   # (ts, priority, kind)
        self.proc = []          # [(from, to)) intervals, to may be INF: started, not stopped/left/killed/paused
        self.live = []          # proc minus the time from a seed's removal to its rejoining
        self.incarnations = []  # [start ts, first neighbour_up ts or None], one per start
        self.starts = []        # the incarnations' start times, ascending

    def add(self, ts, kind):
        self.transitions.append((ts, _PRIO[kind], kind))

    def build(self):
        self.transitions.sort()
        running = paused = removed = False
        proc_since = live_since = None
        for ts, _, kind in self.transitions:
            if kind == "start":
                running, paused, removed = True, False, False
                self.incarnations.append([ts, None])
            elif kind == "nup":
                if running and self.incarnations and self.incarnations[-1][1] is None:
                    self.incarnations[-1][1] = ts
                removed = False
            elif kind == "rejoin":
                removed = False
            elif kind == "removed":
                removed = True
            elif kind == "pause":
                paused = True
            elif kind == "cont":
                paused = False
            else:  # end, kill
                running = False
            proc_now = running and not paused
            live_now = proc_now and not removed
            if proc_now and proc_since is None:
                proc_since = ts
            elif not proc_now and proc_since is not None:
                self.proc.append((proc_since, ts))
                proc_since = None
            if live_now and live_since is None:
                live_since = ts
            elif not live_now and live_since is not None:
                self.live.append((live_since, ts))
                live_since = None
        if proc_since is not None:
            self.proc.append((proc_since, INF))
        if live_since is not None:
            self.live.append((live_since, INF))
        self.starts = [start for start, _ in self.incarnations]

    @staticmethod
    def _through(intervals, a, b):
        return any(s <= a and e > b for s, e in intervals)

    def live_through(self, a, b):
        """Live at every instant of [a, b]."""
        return self._through(self.live, a, b)

    def proc_through(self, a, b):
        return self._through(self.proc, a, b)

    def joined_at(self, t):
        """The incarnation running at t had a neighbour_up at or before t."""
        current = None
        for start, nup in self.incarnations:
            if start <= t:
                current = nup
            else:
                break
        return current is not None and current <= t

    def incarnation_at(self, t):
        """Index of the incarnation running at t; -1 before the first start."""
        return bisect_right(self.starts, t) - 1

    def next_start(self, inc):
        """When the incarnation after `inc` started (INF when `inc` is the last)."""
        return self.starts[inc + 1] if inc + 1 < len(self.starts) else INF

    def final(self):
        """('running', None), ('stopped', ts of the leaving/stopped) or ('killed', ts), for the last start."""
        last = None
        for ts, _, kind in self.transitions:
            if kind == "start":
                last = ("running", None)
            elif kind in ("end", "kill") and last == ("running", None):
                last = ("stopped" if kind == "end" else "killed", ts)
        return last or ("running", None)


# ---- messages --------------------------------------------------------------------------------------------

class Msg:
    __slots__ = ("origin", "seq", "t0", "origin_logged", "receipts")

    def __init__(self, origin, seq, t0, origin_logged):
        self.origin = origin
        self.seq = seq
        self.t0 = t0                    # gossip_origin ts, else the receipts' created_us
        self.origin_logged = origin_logged
        self.receipts = defaultdict(list)  # receiver -> its gossip_recv records, in time order


def _clock_offsets(samples, ref):
    """NTP-style: for hosts X, Y with one-way samples both ways, clock(Y) - clock(X) is estimated as
    (min d(X->Y) - min d(Y->X)) / 2. Offsets spread from `ref` (offset 0) along a breadth-first tree.
    Returns (offsets us by host, pair list)."""
    mins = {k: min(v) for k, v in samples.items() if v}
    pairs = []
    adj = defaultdict(list)
    for (x, y) in sorted(mins):
        if x < y and (y, x) in mins:
            est = (mins[(x, y)] - mins[(y, x)]) / 2.0
            pairs.append({"a": x, "b": y, "min_ab_ms": ms(mins[(x, y)]), "min_ba_ms": ms(mins[(y, x)]),
                          "samples_ab": len(samples[(x, y)]), "samples_ba": len(samples[(y, x)]),
                          "offset_b_minus_a_ms": ms(est)})
            adj[x].append((y, est))
            adj[y].append((x, -est))
    offsets = {ref: 0.0} if ref is not None else {}
    queue = [ref] if ref is not None else []
    while queue:
        x = queue.pop(0)
        for y, est in sorted(adj[x]):
            if y not in offsets:
                offsets[y] = offsets[x] + est
                queue.append(y)
    return offsets, pairs


# ---- the steps ---------------------------------------------------------------------------------------------

def analyse(data, grace_ms=2000, teardown_gap_ms=1000, max_degree_override=None):
    """The summary dict (docs/AGGREGATE.md) plus a dict of extras the report and pictures use."""
    run = Run(data, grace_ms)
    launcher = read_launcher_events(run)
    lives = build_lives(run, launcher)
    problems = []
    delivery = judge_delivery(run, lives, match_receipts_to_messages(run), launcher.isolations, problems)
    reports = read_failure_reports(run, problems)
    check_dead_reports_arrived(run, lives, reports, problems)
    find_false_dead_reports(run, lives, reports, problems)
    find_unexpected_exits(run, launcher, problems)
    snapshot = find_end_snapshot(run, lives, teardown_gap_ms)
    overlay = replay_overlay_to_snapshot(run, snapshot, max_degree_override, problems)
    clock, corrected = estimate_clock_offsets(run, delivery.lat_records)
    problems.sort(key=lambda x: (PROBLEM_ORDER.index(x["kind"]), x.get("ts") or "", x["detail"]))
    return assemble_summary(run, launcher, lives, delivery, reports, snapshot, overlay, clock, corrected, problems)


class Run:
    """What every step reads: the records by node in time order, who is a peer or a seed (nodes.json's
    role, else the `started role=`, the file name or the events a node logs), which nodes have a log, the
    hosts named in nodes.json, and the notes so far."""

    def __init__(self, data, grace_ms):
        self.data = data
        self.meta = data.nodes_meta           # address -> its nodes.json entry
        self.grace_ms = int(grace_ms)
        self.grace = self.grace_ms * 1000     # us
        self.notes = list(data.notes)
        self.recs = sorted(data.records, key=lambda r: r.key())
        by_node = defaultdict(list)
        self.launcher = []                    # events.log records
        for r in self.recs:
            (self.launcher if r.node == "launcher" else by_node[r.node]).append(r)
        self.by_node = dict(by_node)          # address -> its records, in time order
        nodes = sorted(set(self.by_node) | set(self.meta))
        self.roles = {a: self._role_of(a) for a in nodes}
        self.peers = [a for a in nodes if self.roles[a] == "peer"]
        self.seeds = [a for a in nodes if self.roles[a] == "seed"]
        self.has_log = {a for a in nodes if self.by_node.get(a)}
        self.hosts = {a: m["host"] for a, m in self.meta.items() if isinstance(m.get("host"), str) and m["host"]}
        self.times = {a: [r.ts for r in own] for a, own in self.by_node.items()}  # for bisecting
        self._clock_keys = {}
        self.notes += ["node %s: role unknown (no started line, file name or telling event); ignored" % a
                       for a in nodes if self.roles[a] is None]
        self.notes += ["%s %s is in nodes.json but has no log lines: not judged" % (self.roles[a] or "node", a)
                       for a in nodes if a not in self.has_log]

    def _role_of(self, addr):
        role = self.meta.get(addr, {}).get("role")
        if role in ("seed", "peer"):
            return role
        own = self.own(addr)
        for r in own:
            if r.event == "started" and r.get("role") in ("seed", "peer"):
                return r.get("role")
        for r in own:
            base = os.path.basename(self.data.files[r.src])
            if base.startswith("seed-"):
                return "seed"
            if base.startswith("peer-"):
                return "peer"
        events = {r.event for r in own}
        if events & SEED_EVENTS:
            return "seed"
        if events & PEER_EVENTS:
            return "peer"
        return None

    def own(self, addr):
        """The node's records, in time order ([] for none)."""
        return self.by_node.get(addr, [])

    def clock_key(self, addr):
        """Whose clock a node's lines carry: its nodes.json host, else its IP."""
        key = self._clock_keys.get(addr)
        if key is None:
            key = self._clock_keys[addr] = self.hosts.get(addr) or addr.rsplit(":", 1)[0]
        return key


def read_launcher_events(run):
    """events.log: the launcher's signals and the exits it noticed (an address missing is looked up by name
    in nodes.json), and the hosts cut off and restored (`launch mark`)."""
    name_to_addr = {m.get("name"): a for a, m in run.meta.items() if m.get("name")}
    signals, exits, isolations = [], [], []
    for r in run.launcher:
        if r.event in ("host_isolated", "host_restored") and r.get("host"):
            isolations.append({"ts": r.ts, "host": r.get("host"), "event": r.event})
        if r.event not in ("node_signalled", "node_exited"):
            continue
        addr = r.get("address") or name_to_addr.get(r.get("name"))
        if not addr:
            run.notes.append("events.log line %d: %s without a known address; ignored" % (r.lineno, r.event))
        elif r.event == "node_exited":
            exits.append({"ts": r.ts, "address": addr, "name": r.get("name") or None})
        else:
            signals.append({"ts": r.ts, "address": addr, "name": r.get("name") or None,
                            "signal": norm_signal(r.get("signal"))})
    signals_to = defaultdict(list)
    for s in signals:
        signals_to[s["address"]].append(s)
    return SimpleNamespace(signals=signals, signals_to=signals_to, exits=exits, isolations=isolations)


def build_lives(run, launcher):
    """address -> Life for every peer and seed: its own start/stop lines, the launcher's signals and the
    exits it noticed, the cut-off hosts, and the seeds' removals and registrations of it."""
    lives = {a: Life() for a in run.peers + run.seeds}
    on_host = defaultdict(list)
    for a, life in lives.items():
        own = run.own(a)
        if own and own[0].event != "started":
            life.add(own[0].ts, "start")
        for r in own:
            if r.event == "started":
                life.add(r.ts, "start")
            elif r.event in ("leaving", "stopped"):
                life.add(r.ts, "end")
            elif r.event == "neighbour_up":
                life.add(r.ts, "nup")
        if run.hosts.get(a):
            on_host[run.hosts.get(a)].append(life)
    for s in launcher.signals:
        effect = SIGNAL_EFFECT.get(s["signal"])
        if effect and s["address"] in lives:
            lives[s["address"]].add(s["ts"], effect)
    for x in launcher.exits:
        if x["address"] in lives:
            lives[x["address"]].add(x["ts"], "kill")
    # A host cut off from the LAN: its nodes are running but nobody can reach them, so they count as paused
    # until `host_restored`.
    for x in launcher.isolations:
        for life in on_host[x["host"]]:
            life.add(x["ts"], "pause" if x["event"] == "host_isolated" else "cont")
    for s in run.seeds:
        for r in run.own(s):
            p = r.get("peer")
            if p not in lives:
                continue
            if r.event == "peer_removed" and r.get("reason") == "dead_report":
                lives[p].add(r.ts, "removed")
            elif r.event == "registered":
                lives[p].add(r.ts, "rejoin")
    for life in lives.values():
        life.build()
    return lives


def match_receipts_to_messages(run):
    """The messages, in creation order: one per gossip_origin line, each with its receipts; a gossip_recv is
    matched to the origin's line nearest its created_us, and one with no such line makes a message of its own
    (origin_logged false)."""
    instances = defaultdict(list)
    for p in run.peers:
        for r in run.own(p):
            if r.event == "gossip_origin":
                seq = to_int(r.get("seq"))
                if seq is None:
                    run.notes.append("%s: gossip_origin without a numeric seq at %s; ignored" % (p, iso(r.ts)))
                    continue
                instances[(p, seq)].append(Msg(p, seq, r.ts, True))
    orphans = {}
    own_echoes = 0
    for p in run.peers:
        for r in run.own(p):
            if r.event != "gossip_recv":
                continue
            origin, seq, created = r.get("origin"), to_int(r.get("seq")), to_int(r.get("created_us"))
            if not origin or seq is None:
                run.notes.append("%s: gossip_recv without origin/seq at %s; ignored" % (p, iso(r.ts)))
                continue
            if origin == p:
                own_echoes += 1
                continue
            cands = instances.get((origin, seq), [])
            m = None
            if cands and created is not None:
                best = min(cands, key=lambda c: abs(c.t0 - created))
                if abs(best.t0 - created) <= MATCH_TOLERANCE_US:
                    m = best
            elif cands:
                before = [c for c in cands if c.t0 <= r.ts]
                m = before[-1] if before else cands[0]
            if m is None:
                key = (origin, seq, created)
                m = orphans.get(key)
                if m is None:
                    m = orphans[key] = Msg(origin, seq, created if created is not None else r.ts, False)
            m.receipts[p].append(r)
    if own_echoes:
        run.notes.append("%d gossip_recv lines of a peer's own message were ignored" % own_echoes)
    msgs = [m for lst in instances.values() for m in lst] + list(orphans.values())
    msgs.sort(key=lambda m: (m.t0, m.origin, m.seq))
    return msgs


def _cut_off_windows(isolations):
    """host -> [(isolated at, restored at or INF)], from the host_isolated / host_restored marks."""
    windows, since = defaultdict(list), {}
    for x in sorted(isolations, key=lambda x: x["ts"]):
        if x["event"] == "host_isolated":
            since.setdefault(x["host"], x["ts"])
        elif x["host"] in since:
            windows[x["host"]].append((since.pop(x["host"]), x["ts"]))
    for host, t in since.items():
        windows[host].append((t, INF))
    return windows


def judge_delivery(run, lives, msgs, isolations, problems):
    """For each message, who should have got it (the rule of docs/AGGREGATE.md), who did and how fast;
    missing_message and duplicate_delivery problems. Returns the messages' summaries, each peer's counts,
    every receipt's latency and (message, receiver, first receipt) for the clock estimate."""
    windows = _cut_off_windows(isolations)
    judged = [p for p in run.peers if p in run.has_log]
    per_peer = {p: {"expected": 0, "received": 0, "missing": [], "received_total": 0} for p in run.peers}
    messages, all_lat, lat_records = [], [], []
    for m in msgs:
        window_end = m.t0 + run.grace
        receivers = set(m.receipts)
        olife = lives.get(m.origin)
        lost = (not receivers and m.origin in run.has_log and olife is not None
                and not olife.proc_through(m.t0, window_end))
        # An origin whose host was cut off within the window may have reached nobody beyond it: nobody is
        # held to the message (a partition is not a delivery failure).
        cut_off = any(a <= window_end and b >= m.t0 for a, b in windows.get(run.hosts.get(m.origin), ()))
        if lost or cut_off:
            expected = set()
        else:
            expected = {p for p in judged if p != m.origin and lives[p].joined_at(m.t0)
                        and lives[p].live_through(m.t0, window_end)}
        lats, hops, lat_expected = [], [], []
        for p in sorted(receivers):
            recs_p = m.receipts[p]
            first = recs_p[0]
            lat = first.ts - m.t0
            lats.append(lat)
            lat_records.append((m, p, first))
            if p in expected:
                lat_expected.append(lat)
            h = to_int(first.get("hops"))
            if h is not None:
                hops.append(h)
            per_peer[p]["received_total"] += 1
            by_inc = defaultdict(list)
            for r in recs_p:
                by_inc[lives[p].incarnation_at(r.ts)].append(r)
            for inc_recs in by_inc.values():
                if len(inc_recs) > 1:
                    add_problem(problems, "duplicate_delivery", inc_recs[1].ts,
                                "%s logged gossip_recv %d times for %s seq %d (first at %s)"
                                % (p, len(inc_recs), m.origin, m.seq, iso(inc_recs[0].ts)),
                                peer=p, origin=m.origin, seq=m.seq, count=len(inc_recs))
        all_lat.extend(lats)
        missing = sorted(expected - receivers)
        for p in sorted(expected):
            per_peer[p]["expected"] += 1
            if p in receivers:
                per_peer[p]["received"] += 1
            else:
                per_peer[p]["missing"].append([m.origin, m.seq])
        for p in missing:
            add_problem(problems, "missing_message", m.t0,
                        "%s never logged gossip_recv for %s seq %d (created %s), though it was joined at that "
                        "time and live until %s" % (p, m.origin, m.seq, iso(m.t0), iso(window_end)),
                        peer=p, origin=m.origin, seq=m.seq)
        s = stats_ms(lats)
        messages.append({
            "origin": m.origin, "seq": m.seq, "created": iso(m.t0), "origin_logged": m.origin_logged,
            "expected": len(expected), "received": len(expected & receivers), "received_total": len(receivers),
            "missing": missing, "p50_ms": s["p50"], "p99_ms": s["p99"], "max_ms": s["max"],
            "max_hops": max(hops) if hops else None,
            "time_to_all_ms": ms(max(lat_expected)) if expected and not missing else None,
            "lost_at_origin": lost})
    total_expected = sum(x["expected"] for x in messages)
    total_received = sum(x["received"] for x in messages)
    return SimpleNamespace(messages=messages, per_peer=per_peer, latencies=all_lat, lat_records=lat_records,
                           ratio=round(total_received / total_expected, 6) if total_expected else 1.0)


def count_duplicates(run, lives):
    """peer -> the duplicates it counted itself: the last gossip_stats of each incarnation, summed."""
    dup_by_peer = {}
    for p in run.peers:
        last = {}
        for r in run.own(p):
            d = to_int(r.get("duplicates")) if r.event == "gossip_stats" else None
            if d is not None:
                last[lives[p].incarnation_at(r.ts)] = d
        dup_by_peer[p] = sum(last.values())
    return dup_by_peer


def _outcomes(own):
    """record index -> outcome of each dead_report in a seed's records: its next line about that peer,
    a peer_removed ('removed') or a dead_report_ignored ('ignored: <reason>'); None when there is none."""
    outcomes, next_line = {}, {}
    for i in range(len(own) - 1, -1, -1):
        r = own[i]
        if r.event == "dead_report":
            later = next_line.get(r.get("peer"))
            outcomes[i] = None if later is None else (
                "removed" if later.event == "peer_removed" else "ignored: %s" % (later.get("reason") or "?"))
        elif r.event in ("peer_removed", "dead_report_ignored"):
            next_line[r.get("peer")] = r
    return outcomes


def read_failure_reports(run, problems):
    """The seeds' dead reports (with their outcomes) and removals, the peers' detections and the reports
    they sent; removal_without_report problems (a removal as dead with no unmatched report before it)."""
    dead_reports, removals, detections, reports_sent = [], [], [], []
    for s in run.seeds:
        own = run.own(s)
        outcomes = _outcomes(own)
        pending = defaultdict(list)  # peer -> its dead_report records not yet matched to a removal
        for i, r in enumerate(own):
            if r.event == "dead_report":
                dead_reports.append({"ts": r.ts, "seed": s, "reporter": r.get("reporter"), "peer": r.get("peer"),
                                     "text": r.get("text"), "outcome": outcomes[i],
                                     "relayed": r.get("relayed") == "true"})
                pending[r.get("peer")].append(r)
            elif r.event == "peer_removed":
                reporter = r.get("reporter")
                removals.append({"ts": r.ts, "seed": s, "peer": r.get("peer"), "reason": r.get("reason"),
                                 "reporter": reporter})
                if r.get("reason") != "dead_report":
                    continue
                reports = pending[r.get("peer")]
                match = next((k for k, pr in enumerate(reports) if not reporter or pr.get("reporter") == reporter),
                             None)
                if match is None:
                    add_problem(problems, "removal_without_report", r.ts,
                                "seed %s removed %s as dead (reporter %s) without a matching dead_report before "
                                "it" % (s, r.get("peer"), reporter or "-"),
                                seed=s, peer=r.get("peer"), reporter=reporter)
                else:
                    reports.pop(match)
    for p in run.peers:
        for r in run.own(p):
            if r.event == "dead_detected":
                detections.append({"ts": r.ts, "detector": p, "peer": r.get("peer")})
            elif r.event == "dead_report_sent":
                reports_sent.append({"ts": r.ts, "reporter": p, "peer": r.get("peer"), "seed": r.get("seed"),
                                     "text": r.get("text")})
    return SimpleNamespace(dead_reports=dead_reports, removals=removals, detections=detections,
                           sent=reports_sent)


def _same_report(sent, got):
    if sent["text"] and got["text"]:
        return sent["text"] == got["text"]
    return sent["peer"] == got["peer"] and sent["reporter"] == got["reporter"]


def check_dead_reports_arrived(run, lives, reports, problems):
    """dead_report_unsent (a seed got a report its reporter never logged sending) and dead_report_lost (a
    report sent to a seed that ran throughout [send, send + grace] and never logged it)."""
    sent_by, got_by = defaultdict(list), defaultdict(list)
    for x in reports.sent:
        sent_by[(x["reporter"], x["seed"])].append(x)
    for d in reports.dead_reports:
        got_by[(d["seed"], d["reporter"])].append(d)
    for d in reports.dead_reports:
        if d["relayed"]:
            continue  # a seed passing on a report it acted on: the reporter is that seed, not a peer
        if d["reporter"] in run.has_log and not any(_same_report(x, d)
                                                    for x in sent_by.get((d["reporter"], d["seed"]), ())):
            add_problem(problems, "dead_report_unsent", d["ts"],
                        "seed %s got a dead report on %s from %s, whose log has no dead_report_sent for it"
                        % (d["seed"], d["peer"], d["reporter"]), seed=d["seed"], peer=d["peer"],
                        reporter=d["reporter"])
    for x in reports.sent:
        seed = x["seed"]
        if seed not in run.has_log or seed not in lives or not lives[seed].proc_through(x["ts"], x["ts"] + run.grace):
            continue
        if x["reporter"] in lives and not lives[x["reporter"]].proc_through(x["ts"], x["ts"]):
            continue  # sent from a cut-off host: it could not arrive
        if not any(_same_report(x, d) for d in got_by.get((seed, x["reporter"]), ())):
            add_problem(problems, "dead_report_lost", x["ts"],
                        "%s sent a dead report on %s to seed %s, which was running but never logged it"
                        % (x["reporter"], x["peer"], seed), seed=seed, peer=x["peer"], reporter=x["reporter"])


def find_false_dead_reports(run, lives, reports, problems):
    """false_dead_report: the earliest accusation of each (accused, accuser, incarnation), made while the
    accused ran without a pause for the grace before it and followed by more of its lines. A report one seed
    relays to another is that seed passing on the original accusation, which is judged where it arrived."""
    accusations = {}
    for ts, accused, accuser in ([(d["ts"], d["peer"], d["detector"]) for d in reports.detections]
                                 + [(d["ts"], d["peer"], d["reporter"]) for d in reports.sent]
                                 + [(d["ts"], d["peer"], d["reporter"]) for d in reports.dead_reports
                                    if not d["relayed"]]):
        if accused not in lives or accused not in run.has_log:
            continue
        key = (accused, accuser, lives[accused].incarnation_at(ts))
        if key not in accusations or ts < accusations[key]:
            accusations[key] = ts
    for (accused, accuser, inc), ts in accusations.items():
        life = lives[accused]
        if accuser in lives and not lives[accuser].proc_through(ts - run.grace, ts):
            continue  # the accuser was paused or cut off: the silence was on its side
        if not life.proc_through(ts - run.grace, ts):
            continue  # killed, paused, stopped or not yet started at some time in [T - grace, T]
        # The accused's lines after T in the same incarnation: a slice of its time-ordered records.
        times = run.times[accused]
        first, end = bisect_right(times, ts), bisect_left(times, life.next_start(inc))
        if end > first:
            last_seen = iso(times[end - 1])
            add_problem(problems, "false_dead_report", ts,
                        "%s declared %s dead at %s, but %s was running (not killed, paused or stopped in the %d ms "
                        "before) and logged %d more line(s) until %s"
                        % (accuser, accused, iso(ts), accused, run.grace_ms, end - first, last_seen),
                        peer=accused, reporter=accuser, last_seen=last_seen)


def find_unexpected_exits(run, launcher, problems):
    """unexpected_exit: a node the launcher found gone without having sent it an ending signal since its
    last start, and whose log has no `stopped` line."""
    for x in launcher.exits:
        addr = x["address"]
        own = run.own(addr)
        starts = [r.ts for r in own if r.event == "started"] or [own[0].ts if own else None]
        since = max([t for t in starts if t is not None and t <= x["ts"]], default=None)
        asked = any(s["signal"] in ENDING_SIGNALS and (since is None or s["ts"] >= since) and s["ts"] <= x["ts"]
                    for s in launcher.signals_to[addr])
        stopped = any(r.event == "stopped" and (since is None or r.ts >= since) and r.ts <= x["ts"] for r in own)
        if not asked and not stopped:
            last = [r.ts for r in own if r.ts <= x["ts"]]
            add_problem(problems, "unexpected_exit", x["ts"],
                        "the launcher found %s gone at %s without having signalled it, and its log has no "
                        "`stopped` line (last line at %s)" % (addr, iso(x["ts"]), iso(last[-1]) if last else "-"),
                        node=addr, last_line=iso(last[-1]) if last else None)


def find_end_snapshot(run, lives, teardown_gap_ms):
    """The moment "at the end" means: 1 us before the final teardown (the last run of graceful stops at most
    teardown_gap_ms apart, once every peer with a log has ended), else the last line of the logs. Returns
    its ts, whether it is a teardown, and the peers live then."""
    finals = {p: lives[p].final() for p in run.peers if p in run.has_log}
    stops = sorted(ts for state, ts in finals.values() if state == "stopped")
    t_end = None
    if stops and all(state != "running" for state, _ in finals.values()):
        t_end = stops[-1]
        for ts in reversed(stops[:-1]):
            if t_end - ts <= teardown_gap_ms * 1000:
                t_end = ts
            else:
                break
    snap = t_end - 1 if t_end is not None else max((r.ts for r in run.recs), default=0)
    live = {p for p in run.peers if p in run.has_log and lives[p].live_through(snap, snap)}
    return SimpleNamespace(ts=snap, teardown=t_end is not None, live=live)


def replay_overlay_to_snapshot(run, snapshot, max_degree_override, problems):
    """Each peer's neighbours replayed up to the snapshot (a `started` empties them) and its max_degree
    (--max-degree, else its config's); degree_exceeded problems; the edges at the end, sorted into
    agreed, one-sided, stale and a dead peer's last links; each seed's registered peers at the snapshot."""
    snap, live_end = snapshot.ts, snapshot.live
    views, max_degrees = {}, {}
    for p in run.peers:
        md = max_degree_override
        if md is None:
            cands = [run.meta.get(p, {}).get("config")] + [r.get("config") for r in run.own(p)
                                                            if r.event == "started"]
            path = find_config(run.data.run_dir, cands)
            md = read_max_degree(path) if path else None
        max_degrees[p] = md
        view, snap_view = set(), set()
        worst = None
        for r in run.own(p):
            if r.event == "started":
                view = set()
            elif r.event == "neighbour_up" and r.get("peer"):
                view.add(r.get("peer"))
                degree = to_int(r.get("degree"))
                degree = len(view) if degree is None else degree
                if md is not None and degree > md and (worst is None or degree > worst[0]):
                    worst = (degree, r.ts)
            elif r.event == "neighbour_down":
                view.discard(r.get("peer"))
            if r.ts <= snap:
                snap_view = set(view)
        views[p] = snap_view
        if worst is not None:
            add_problem(problems, "degree_exceeded", worst[1], "%s reached degree %d at %s; its max_degree is %d"
                        % (p, worst[0], iso(worst[1]), md), peer=p, degree=worst[0], max_degree=md)
    edges, one_sided, stale, dead_edges = set(), set(), set(), set()
    for p in run.peers:
        for q in views[p]:
            pair = tuple(sorted((p, q)))
            if p not in live_end:
                dead_edges.add(pair)
            elif q in live_end:
                if p in views.get(q, ()):
                    edges.add(pair)
                else:
                    one_sided.add((p, q))
            elif q not in run.has_log:
                edges.add(pair)
            else:
                stale.add((p, q))
    registered = {}
    for s in run.seeds:
        reg = set()
        for r in run.own(s):
            if r.ts > snap:
                break
            if r.event == "started":
                reg = set()
            elif r.event in ("registered", "reregistered"):
                reg.add(r.get("peer"))
            elif r.event == "peer_removed":
                reg.discard(r.get("peer"))
        registered[s] = sorted(x for x in reg if x)
    return SimpleNamespace(views=views, max_degrees=max_degrees, edges=edges, one_sided=one_sided, stale=stale,
                           dead_edges=dead_edges, registered=registered)


def estimate_clock_offsets(run, lat_records):
    """summary.clock: nodes grouped by host, offsets estimated from gossip hops between hosts both ways
    (_clock_offsets), and the latencies corrected with them. Returns (clock dict, corrected latencies)."""
    hosts = defaultdict(list)
    for a in run.peers + run.seeds:
        hosts[run.clock_key(a)].append(a)
    ref = sorted(hosts, key=lambda h: (-len(hosts[h]), h))[0] if hosts else None
    samples = defaultdict(list)
    for m, p, first in lat_records:
        sender = first.get("from")
        if not sender or run.clock_key(sender) == run.clock_key(p):
            continue
        if sender == m.origin and m.origin_logged:
            sent = m.t0
        elif sender in m.receipts:
            sent = m.receipts[sender][0].ts
        else:
            continue
        samples[(run.clock_key(sender), run.clock_key(p))].append(first.ts - sent)
    offsets, pairs = _clock_offsets(samples, ref)
    corrected = corrected_values = None
    if len(hosts) > 1 and len(offsets) > 1:
        corrected_values = []
        for m, p, first in lat_records:
            ho, hr = run.clock_key(m.origin), run.clock_key(p)
            if ho in offsets and hr in offsets:
                corrected_values.append((first.ts - offsets[hr]) - (m.t0 - offsets[ho]))
        corrected = stats_ms(corrected_values)
    clock = {
        "reference": ref,
        "method": "per host pair, offset(b)-offset(a) = (min one-way delay a->b - min one-way delay b->a)/2 "
                  "over gossip hops between the two hosts; offsets chained from the reference host",
        "hosts": {h: {"nodes": sorted(hosts[h]), "named_in_nodes_json": any(run.hosts.get(a) for a in hosts[h]),
                      "offset_ms": ms(offsets[h]) if h in offsets else None} for h in sorted(hosts)},
        "pairs": pairs,
        "corrected": corrected is not None,
        "latency_ms_corrected": corrected,
    }
    return clock, corrected_values


def _ts_list(items, keys):
    """The items sorted by ts then by these keys, with ts as ISO text."""
    out = []
    for it in sorted(items, key=lambda d: tuple([d["ts"]] + [str(d.get(k)) for k in keys])):
        d = dict(it)
        d["ts"] = iso(d["ts"])
        out.append(d)
    return out


def assemble_summary(run, launcher, lives, delivery, reports, snapshot, overlay, clock, corrected, problems):
    """summary.json's dict (field order as docs/AGGREGATE.md lists them) and the extras for the pictures."""
    data, notes = run.data, run.notes
    dup_by_peer = count_duplicates(run, lives)
    killed = {s["address"] for s in launcher.signals if s["signal"] == "KILL"}
    peers_out = {}
    for p in run.peers:
        counts = delivery.per_peer[p]
        peers_out[p] = {
            "name": run.meta.get(p, {}).get("name"), "host": run.hosts.get(p), "log": p in run.has_log,
            "live_at_end": p in snapshot.live, "killed": p in killed,
            "expected": counts["expected"], "received": counts["received"],
            "missing": counts["missing"], "received_total": counts["received_total"],
            "duplicates": dup_by_peer[p], "max_degree": overlay.max_degrees[p],
            "neighbours_at_end": sorted(overlay.views[p]) if p in snapshot.live else [],
        }
    seeds_out = {s: {"name": run.meta.get(s, {}).get("name"), "host": run.hosts.get(s), "log": s in run.has_log,
                     "registered_at_end": overlay.registered[s]} for s in run.seeds}
    if data.unparsed:
        notes.append("%d line(s) were not logfmt with ts/node/event; first: %s:%d: %s"
                     % (len(data.unparsed), os.path.relpath(data.unparsed[0][0], data.run_dir), data.unparsed[0][1],
                        data.unparsed[0][2]))
    if not data.nodes_json:
        notes.append("no nodes.json: hosts unknown, roles from the logs")
    if not data.events_log:
        notes.append("no events.log: kills and pauses by the launcher are unknown")
    if not any(v is not None for v in overlay.max_degrees.values()):
        notes.append("max_degree unknown for every peer (no readable config): degree not checked")
    summary = {
        "ok": not problems,
        "problems": problems,
        "grace_ms": run.grace_ms,
        "snapshot": {"ts": iso(snapshot.ts), "teardown": snapshot.teardown},
        "peers": peers_out,
        "seeds": seeds_out,
        "messages": delivery.messages,
        "delivery_ratio": delivery.ratio,
        "latency_ms": stats_ms(delivery.latencies),
        "duplicates": sum(dup_by_peer.values()),
        "edges": [list(e) for e in sorted(overlay.edges)],
        "one_sided_edges": [list(e) for e in sorted(overlay.one_sided)],
        "stale_edges": [list(e) for e in sorted(overlay.stale)],
        "dead_reports": _ts_list(reports.dead_reports, ["seed", "reporter", "peer"]),
        "dead_reports_sent": _ts_list(reports.sent, ["reporter", "seed", "peer"]),
        "removals": _ts_list(reports.removals, ["seed", "peer"]),
        "detections": _ts_list(reports.detections, ["detector", "peer"]),
        "killed": _ts_list([{"ts": s["ts"], "address": s["address"], "signal": s["signal"]} for s in launcher.signals
                            if s["signal"] in PAUSING_SIGNALS], ["address"]),
        "signals": _ts_list(launcher.signals, ["address"]),
        "exits": _ts_list(launcher.exits, ["address"]),
        "isolations": _ts_list(launcher.isolations, ["host"]),
        "clock": clock,
        "counts": {"files": len(data.files), "lines": len(data.timeline), "records": len(data.records),
                   "unparsed": len(data.unparsed), "peers": len(run.peers), "seeds": len(run.seeds),
                   "messages": len(delivery.messages)},
        "notes": notes,
    }
    extras = {"latencies_us": sorted(delivery.latencies), "dead_edges": sorted(overlay.dead_edges),
              "roles": run.roles, "corrected_latencies_us": sorted(corrected) if corrected else None}
    return summary, extras
