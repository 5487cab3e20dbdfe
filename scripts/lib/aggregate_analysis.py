"""aggregate_analysis.py - judges a run from its records: who should have got each gossip message, who did,
how long it took, what went wrong. Produces the summary dict written as summary.json; docs/AGGREGATE.md
defines every field and every rule used here. Standard library only.

What it does not do: read files (aggregate_load.py) or write anything (aggregate_render.py).
"""

import os
from collections import defaultdict

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
               "neighbour_down", "neighbour_rejected", "liveness_miss", "liveness_stalled", "dead_detected",
               "dead_report_sent", "gossip_origin", "gossip_recv", "gossip_stats", "publish_refused", "peer_error",
               "leaving"}
PROBLEM_ORDER = ["missing_message", "duplicate_delivery", "removal_without_report", "dead_report_unsent",
                 "dead_report_lost", "degree_exceeded", "false_dead_report", "unexpected_exit"]
# Launcher signals after which a node's exit is expected.
ENDING_SIGNALS = {"KILL", "TERM", "INT", "HUP", "QUIT"}
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


# ---- a node's life -------------------------------------------------------------------------------------

_PRIO = {"start": 0, "nup": 1, "rejoin": 1, "cont": 2, "removed": 2, "pause": 2, "end": 3, "kill": 3}


class Life:
    """When a node was running (proc) and when it was live (running, not paused, not removed as dead)."""

    def __init__(self):
        self.transitions = []   # (ts, priority, kind)
        self.proc = []          # [(from, to)) intervals, to may be INF: started, not stopped/left/killed/paused
        self.live = []          # proc minus the time from a seed's removal to its rejoining
        self.incarnations = []  # [start ts, first neighbour_up ts or None], one per start

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
        idx = -1
        for i, (start, _) in enumerate(self.incarnations):
            if start <= t:
                idx = i
        return idx

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


def _clock_offsets(samples, hosts, ref):
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


def analyse(data, grace_ms=2000, teardown_gap_ms=1000, max_degree_override=None):
    """The summary dict (docs/AGGREGATE.md) plus a dict of extras the report and pictures use."""
    grace = int(grace_ms) * 1000
    notes = list(data.notes)
    recs = sorted(data.records, key=lambda r: r.key())
    by_node = defaultdict(list)
    launcher = []
    for r in recs:
        (launcher if r.node == "launcher" else by_node[r.node]).append(r)
    meta = data.nodes_meta
    run_dir = data.run_dir

    # ---- who is who
    def role_of(addr):
        role = meta.get(addr, {}).get("role")
        if role in ("seed", "peer"):
            return role
        own = by_node.get(addr, [])
        for r in own:
            if r.event == "started" and r.get("role") in ("seed", "peer"):
                return r.get("role")
        for r in own:
            base = os.path.basename(data.files[r.src])
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

    all_nodes = sorted(set(by_node) | set(meta))
    roles = {a: role_of(a) for a in all_nodes}
    peers = [a for a in all_nodes if roles[a] == "peer"]
    seeds = [a for a in all_nodes if roles[a] == "seed"]
    for a in all_nodes:
        if roles[a] is None:
            notes.append("node %s: role unknown (no started line, file name or telling event); ignored" % a)
    has_log = {a for a in all_nodes if by_node.get(a)}
    for a in all_nodes:
        if a not in has_log:
            notes.append("%s %s is in nodes.json but has no log lines: not judged" % (roles[a] or "node", a))

    def host_of(addr):
        h = meta.get(addr, {}).get("host")
        return h if isinstance(h, str) and h else None

    def clock_key(addr):
        return host_of(addr) or addr.rsplit(":", 1)[0]

    # ---- launcher signals and exits it noticed
    name_to_addr = {m.get("name"): a for a, m in meta.items() if m.get("name")}
    signals, exits = [], []
    for r in launcher:
        if r.event not in ("node_signalled", "node_exited"):
            continue
        addr = r.get("address") or name_to_addr.get(r.get("name"))
        if not addr:
            notes.append("events.log line %d: %s without a known address; ignored" % (r.lineno, r.event))
            continue
        if r.event == "node_exited":
            exits.append({"ts": r.ts, "address": addr, "name": r.get("name") or None})
        else:
            signals.append({"ts": r.ts, "address": addr, "name": r.get("name") or None,
                            "signal": norm_signal(r.get("signal"))})

    # ---- lives
    lives = {a: Life() for a in peers + seeds}
    for a, life in lives.items():
        own = by_node.get(a, [])
        if own and own[0].event != "started":
            life.add(own[0].ts, "start")
        for r in own:
            if r.event == "started":
                life.add(r.ts, "start")
            elif r.event in ("leaving", "stopped"):
                life.add(r.ts, "end")
            elif r.event == "neighbour_up":
                life.add(r.ts, "nup")
    for s in signals:
        effect = SIGNAL_EFFECT.get(s["signal"])
        if effect and s["address"] in lives:
            lives[s["address"]].add(s["ts"], effect)
    for x in exits:
        if x["address"] in lives:
            lives[x["address"]].add(x["ts"], "kill")
    # A host cut off from the LAN (`launch mark RUN host_isolated host=H`): its nodes are running but nobody
    # can reach them, so they count as paused until `host_restored`.
    isolations = []
    for r in launcher:
        if r.event in ("host_isolated", "host_restored") and r.get("host"):
            isolations.append({"ts": r.ts, "host": r.get("host"), "event": r.event})
            for a in lives:
                if host_of(a) == r.get("host"):
                    lives[a].add(r.ts, "pause" if r.event == "host_isolated" else "cont")
    for s in seeds:
        for r in by_node.get(s, []):
            p = r.get("peer")
            if p not in lives:
                continue
            if r.event == "peer_removed" and r.get("reason") == "dead_report":
                lives[p].add(r.ts, "removed")
            elif r.event == "registered":
                lives[p].add(r.ts, "rejoin")
    for life in lives.values():
        life.build()

    # ---- messages and receipts
    instances = defaultdict(list)
    for p in peers:
        for r in by_node.get(p, []):
            if r.event == "gossip_origin":
                seq = to_int(r.get("seq"))
                if seq is None:
                    notes.append("%s: gossip_origin without a numeric seq at %s; ignored" % (p, iso(r.ts)))
                    continue
                instances[(p, seq)].append(Msg(p, seq, r.ts, True))
    orphans = {}
    own_echoes = 0
    for p in peers:
        for r in by_node.get(p, []):
            if r.event != "gossip_recv":
                continue
            origin, seq, created = r.get("origin"), to_int(r.get("seq")), to_int(r.get("created_us"))
            if not origin or seq is None:
                notes.append("%s: gossip_recv without origin/seq at %s; ignored" % (p, iso(r.ts)))
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
        notes.append("%d gossip_recv lines of a peer's own message were ignored" % own_echoes)
    msgs = [m for lst in instances.values() for m in lst] + list(orphans.values())
    msgs.sort(key=lambda m: (m.t0, m.origin, m.seq))

    def cut_off(host, a, b):
        """Whether `host` was isolated at some time in [a, b]."""
        since = None
        for x in sorted(isolations, key=lambda x: x["ts"]):
            if x["host"] != host:
                continue
            if x["event"] == "host_isolated":
                since = x["ts"] if since is None else since
            elif since is not None:
                if since <= b and x["ts"] >= a:
                    return True
                since = None
        return since is not None and since <= b

    problems = []
    per_peer = {p: {"expected": 0, "received": 0, "missing": [], "received_total": 0} for p in peers}
    messages_out = []
    all_lat = []
    lat_records = []  # (message, receiver, first receipt record) for clock correction
    for m in msgs:
        window_end = m.t0 + grace
        receivers = set(m.receipts)
        olife = lives.get(m.origin)
        lost = (not receivers and m.origin in has_log and olife is not None
                and not olife.proc_through(m.t0, window_end))
        # An origin whose host was cut off within the window may have reached nobody beyond it: nobody is
        # held to the message (a partition is not a delivery failure).
        if lost or cut_off(host_of(m.origin), m.t0, window_end):
            expected = set()
        else:
            expected = {p for p in peers if p != m.origin and p in has_log
                        and lives[p].joined_at(m.t0) and lives[p].live_through(m.t0, window_end)}
        lats = []
        hops = []
        lat_expected = []
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
                    problems.append({
                        "kind": "duplicate_delivery", "ts": iso(inc_recs[1].ts), "peer": p, "origin": m.origin,
                        "seq": m.seq, "count": len(inc_recs),
                        "detail": "%s logged gossip_recv %d times for %s seq %d (first at %s)"
                                  % (p, len(inc_recs), m.origin, m.seq, iso(inc_recs[0].ts))})
        all_lat.extend(lats)
        missing = sorted(expected - receivers)
        for p in sorted(expected):
            per_peer[p]["expected"] += 1
            if p in receivers:
                per_peer[p]["received"] += 1
            else:
                per_peer[p]["missing"].append([m.origin, m.seq])
        for p in missing:
            problems.append({
                "kind": "missing_message", "ts": iso(m.t0), "peer": p, "origin": m.origin, "seq": m.seq,
                "detail": "%s never logged gossip_recv for %s seq %d (created %s), though it was joined at "
                          "that time and live until %s" % (p, m.origin, m.seq, iso(m.t0), iso(window_end))})
        s = stats_ms(lats)
        messages_out.append({
            "origin": m.origin, "seq": m.seq, "created": iso(m.t0), "origin_logged": m.origin_logged,
            "expected": len(expected), "received": len(expected & receivers), "received_total": len(receivers),
            "missing": missing, "p50_ms": s["p50"], "p99_ms": s["p99"], "max_ms": s["max"],
            "max_hops": max(hops) if hops else None,
            "time_to_all_ms": ms(max(lat_expected)) if expected and not missing else None,
            "lost_at_origin": lost})

    total_expected = sum(x["expected"] for x in messages_out)
    total_received = sum(x["received"] for x in messages_out)
    delivery_ratio = round(total_received / total_expected, 6) if total_expected else 1.0

    # ---- duplicates counted by the peers themselves (last gossip_stats of each incarnation)
    dup_by_peer = {}
    for p in peers:
        last = {}
        for r in by_node.get(p, []):
            d = to_int(r.get("duplicates")) if r.event == "gossip_stats" else None
            if d is not None:
                last[lives[p].incarnation_at(r.ts)] = d
        dup_by_peer[p] = sum(last.values())
    duplicates = sum(dup_by_peer.values())

    # ---- seeds: reports, removals; peers: detections, reports sent
    dead_reports, removals, detections, reports_sent = [], [], [], []
    for s in seeds:
        own = by_node.get(s, [])
        pending = []  # dead_report records not yet matched to a removal
        for i, r in enumerate(own):
            if r.event == "dead_report":
                outcome = None
                for later in own[i + 1:]:
                    if later.get("peer") == r.get("peer") and later.event in ("peer_removed", "dead_report_ignored"):
                        outcome = ("removed" if later.event == "peer_removed"
                                   else "ignored: %s" % (later.get("reason") or "?"))
                        break
                dead_reports.append({"ts": r.ts, "seed": s, "reporter": r.get("reporter"), "peer": r.get("peer"),
                                     "text": r.get("text"), "outcome": outcome,
                                     "relayed": r.get("relayed") == "true"})
                pending.append(r)
            elif r.event == "peer_removed":
                reporter = r.get("reporter")
                removals.append({"ts": r.ts, "seed": s, "peer": r.get("peer"), "reason": r.get("reason"),
                                 "reporter": reporter})
                if r.get("reason") != "dead_report":
                    continue
                match = None
                for k, pr in enumerate(pending):
                    if pr.get("peer") == r.get("peer") and (not reporter or pr.get("reporter") == reporter):
                        match = k
                        break
                if match is None:
                    problems.append({
                        "kind": "removal_without_report", "ts": iso(r.ts), "seed": s, "peer": r.get("peer"),
                        "reporter": reporter,
                        "detail": "seed %s removed %s as dead (reporter %s) without a matching dead_report "
                                  "before it" % (s, r.get("peer"), reporter or "-")})
                else:
                    pending.pop(match)
    for p in peers:
        for r in by_node.get(p, []):
            if r.event == "dead_detected":
                detections.append({"ts": r.ts, "detector": p, "peer": r.get("peer")})
            elif r.event == "dead_report_sent":
                reports_sent.append({"ts": r.ts, "reporter": p, "peer": r.get("peer"), "seed": r.get("seed"),
                                     "text": r.get("text")})

    def same_report(sent, got):
        if sent["text"] and got["text"]:
            return sent["text"] == got["text"]
        return sent["peer"] == got["peer"] and sent["reporter"] == got["reporter"]

    for d in dead_reports:
        if d["relayed"]:
            continue  # a seed passing on a report it acted on: the reporter is that seed, not a peer
        if d["reporter"] in has_log and not any(
                x["reporter"] == d["reporter"] and x["seed"] == d["seed"] and same_report(x, d) for x in reports_sent):
            problems.append({
                "kind": "dead_report_unsent", "ts": iso(d["ts"]), "seed": d["seed"], "peer": d["peer"],
                "reporter": d["reporter"],
                "detail": "seed %s got a dead report on %s from %s, whose log has no dead_report_sent for it"
                          % (d["seed"], d["peer"], d["reporter"])})
    for x in reports_sent:
        seed = x["seed"]
        if seed not in has_log or seed not in lives or not lives[seed].proc_through(x["ts"], x["ts"] + grace):
            continue
        if x["reporter"] in lives and not lives[x["reporter"]].proc_through(x["ts"], x["ts"]):
            continue  # sent from a cut-off host: it could not arrive
        if not any(d["seed"] == seed and d["reporter"] == x["reporter"] and same_report(x, d) for d in dead_reports):
            problems.append({
                "kind": "dead_report_lost", "ts": iso(x["ts"]), "seed": seed, "peer": x["peer"],
                "reporter": x["reporter"],
                "detail": "%s sent a dead report on %s to seed %s, which was running but never logged it"
                          % (x["reporter"], x["peer"], seed)})

    # ---- false dead reports: accused, by the same accuser, while it was running
    accusations = {}
    for src in ([(d["ts"], d["peer"], d["detector"]) for d in detections]
                + [(d["ts"], d["peer"], d["reporter"]) for d in reports_sent]
                + [(d["ts"], d["peer"], d["reporter"]) for d in dead_reports]):
        ts, accused, accuser = src
        if accused not in lives or accused not in has_log:
            continue
        key = (accused, accuser, lives[accused].incarnation_at(ts))
        if key not in accusations or ts < accusations[key]:
            accusations[key] = ts
    for (accused, accuser, inc), ts in sorted(accusations.items(), key=lambda kv: (kv[1], kv[0][0], kv[0][1])):
        life = lives[accused]
        if accuser in lives and not lives[accuser].proc_through(ts - grace, ts):
            continue  # the accuser was paused or cut off: the silence was on its side
        if not life.proc_through(ts - grace, ts):
            continue  # killed, paused, stopped or not yet started at some time in [T - grace, T]
        after = [r for r in by_node[accused] if r.ts > ts and life.incarnation_at(r.ts) == inc]
        if after:
            problems.append({
                "kind": "false_dead_report", "ts": iso(ts), "peer": accused, "reporter": accuser,
                "last_seen": iso(after[-1].ts),
                "detail": "%s declared %s dead at %s, but %s was running (not killed, paused or stopped in the "
                          "%d ms before) and logged %d more line(s) until %s"
                          % (accuser, accused, iso(ts), accused, grace_ms, len(after), iso(after[-1].ts))})

    # ---- exits the launcher noticed without having asked for them (a crash)
    for x in exits:
        addr = x["address"]
        own = by_node.get(addr, [])
        starts = [r.ts for r in own if r.event == "started"] or [own[0].ts if own else None]
        since = max([t for t in starts if t is not None and t <= x["ts"]], default=None)
        asked = any(s["address"] == addr and s["signal"] in ENDING_SIGNALS and (since is None or s["ts"] >= since)
                    and s["ts"] <= x["ts"] for s in signals)
        stopped = any(r.event == "stopped" and (since is None or r.ts >= since) and r.ts <= x["ts"] for r in own)
        if not asked and not stopped:
            last = [r.ts for r in own if r.ts <= x["ts"]]
            problems.append({
                "kind": "unexpected_exit", "ts": iso(x["ts"]), "node": addr,
                "last_line": iso(last[-1]) if last else None,
                "detail": "the launcher found %s gone at %s without having signalled it, and its log has no "
                          "`stopped` line (last line at %s)" % (addr, iso(x["ts"]), iso(last[-1]) if last else "-")})

    # ---- the snapshot for "at the end": before the final teardown, if there was one
    max_ts = max((r.ts for r in recs), default=0)
    finals = {p: lives[p].final() for p in peers if p in has_log}
    stops = sorted(ts for state, ts in finals.values() if state == "stopped")
    t_end = None
    if stops and all(state != "running" for state, _ in finals.values()):
        t_end = stops[-1]
        for ts in reversed(stops[:-1]):
            if t_end - ts <= teardown_gap_ms * 1000:
                t_end = ts
            else:
                break
    snap = t_end - 1 if t_end is not None else max_ts
    live_end = {p for p in peers if p in has_log and lives[p].live_through(snap, snap)}

    # ---- overlay at the snapshot, degree checks
    views = {}
    max_degrees = {}
    for p in peers:
        md = max_degree_override
        if md is None:
            cands = [meta.get(p, {}).get("config")] + [r.get("config") for r in by_node.get(p, [])
                                                        if r.event == "started"]
            path = find_config(run_dir, cands)
            md = read_max_degree(path) if path else None
        max_degrees[p] = md
        view, snap_view = set(), set()
        worst = None
        for r in by_node.get(p, []):
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
            problems.append({
                "kind": "degree_exceeded", "ts": iso(worst[1]), "peer": p, "degree": worst[0], "max_degree": md,
                "detail": "%s reached degree %d at %s; its max_degree is %d" % (p, worst[0], iso(worst[1]), md)})
    edges, one_sided, stale, dead_edges = set(), set(), set(), set()
    for p in peers:
        for q in views[p]:
            pair = tuple(sorted((p, q)))
            if p not in live_end:
                dead_edges.add(pair)
            elif q in live_end:
                if p in views.get(q, ()):
                    edges.add(pair)
                else:
                    one_sided.add((p, q))
            elif q not in has_log:
                edges.add(pair)
            else:
                stale.add((p, q))
    registered_end = {}
    for s in seeds:
        reg = set()
        for r in by_node.get(s, []):
            if r.ts > snap:
                break
            if r.event == "started":
                reg = set()
            elif r.event in ("registered", "reregistered"):
                reg.add(r.get("peer"))
            elif r.event == "peer_removed":
                reg.discard(r.get("peer"))
        registered_end[s] = sorted(x for x in reg if x)

    # ---- clocks
    hosts = defaultdict(list)
    for a in peers + seeds:
        hosts[clock_key(a)].append(a)
    ref = sorted(hosts, key=lambda h: (-len(hosts[h]), h))[0] if hosts else None
    samples = defaultdict(list)
    for m, p, first in lat_records:
        sender = first.get("from")
        if not sender or clock_key(sender) == clock_key(p):
            continue
        if sender == m.origin and m.origin_logged:
            sent = m.t0
        elif sender in m.receipts:
            sent = m.receipts[sender][0].ts
        else:
            continue
        samples[(clock_key(sender), clock_key(p))].append(first.ts - sent)
    offsets, pairs = _clock_offsets(samples, list(hosts), ref)
    corrected = None
    corrected_values = None
    if len(hosts) > 1 and len(offsets) > 1:
        corrected_values = []
        for m, p, first in lat_records:
            ho, hr = clock_key(m.origin), clock_key(p)
            if ho in offsets and hr in offsets:
                corrected_values.append((first.ts - offsets[hr]) - (m.t0 - offsets[ho]))
        corrected = stats_ms(corrected_values)
    clock = {
        "reference": ref,
        "method": "per host pair, offset(b)-offset(a) = (min one-way delay a->b - min one-way delay b->a)/2 "
                  "over gossip hops between the two hosts; offsets chained from the reference host",
        "hosts": {h: {"nodes": sorted(hosts[h]), "named_in_nodes_json": any(host_of(a) for a in hosts[h]),
                      "offset_ms": ms(offsets[h]) if h in offsets else None} for h in sorted(hosts)},
        "pairs": pairs,
        "corrected": corrected is not None,
        "latency_ms_corrected": corrected,
    }

    # ---- assemble
    problems.sort(key=lambda x: (PROBLEM_ORDER.index(x["kind"]), x.get("ts") or "", x["detail"]))
    peers_out = {}
    for p in peers:
        sig = [s for s in signals if s["address"] == p and s["signal"] in ("KILL", "STOP", "TSTP")]
        peers_out[p] = {
            "name": meta.get(p, {}).get("name"), "host": host_of(p), "log": p in has_log,
            "live_at_end": p in live_end, "killed": any(s["signal"] == "KILL" for s in sig),
            "expected": per_peer[p]["expected"], "received": per_peer[p]["received"],
            "missing": per_peer[p]["missing"], "received_total": per_peer[p]["received_total"],
            "duplicates": dup_by_peer[p], "max_degree": max_degrees[p],
            "neighbours_at_end": sorted(views[p]) if p in live_end else [],
        }
    seeds_out = {s: {"name": meta.get(s, {}).get("name"), "host": host_of(s), "log": s in has_log,
                     "registered_at_end": registered_end[s]} for s in seeds}

    def ts_list(items, keys):
        out = []
        for it in sorted(items, key=lambda d: tuple([d["ts"]] + [str(d.get(k)) for k in keys])):
            d = dict(it)
            d["ts"] = iso(d["ts"])
            out.append(d)
        return out

    if data.unparsed:
        notes.append("%d line(s) were not logfmt with ts/node/event; first: %s:%d: %s"
                     % (len(data.unparsed), os.path.relpath(data.unparsed[0][0], run_dir), data.unparsed[0][1],
                        data.unparsed[0][2]))
    if not data.nodes_json:
        notes.append("no nodes.json: hosts unknown, roles from the logs")
    if not data.events_log:
        notes.append("no events.log: kills and pauses by the launcher are unknown")
    if not any(v is not None for v in max_degrees.values()):
        notes.append("max_degree unknown for every peer (no readable config): degree not checked")

    summary = {
        "ok": not problems,
        "problems": problems,
        "grace_ms": int(grace_ms),
        "snapshot": {"ts": iso(snap), "teardown": t_end is not None},
        "peers": peers_out,
        "seeds": seeds_out,
        "messages": messages_out,
        "delivery_ratio": delivery_ratio,
        "latency_ms": stats_ms(all_lat),
        "duplicates": duplicates,
        "edges": [list(e) for e in sorted(edges)],
        "one_sided_edges": [list(e) for e in sorted(one_sided)],
        "stale_edges": [list(e) for e in sorted(stale)],
        "dead_reports": ts_list(dead_reports, ["seed", "reporter", "peer"]),
        "dead_reports_sent": ts_list(reports_sent, ["reporter", "seed", "peer"]),
        "removals": ts_list(removals, ["seed", "peer"]),
        "detections": ts_list(detections, ["detector", "peer"]),
        "killed": ts_list([{"ts": s["ts"], "address": s["address"], "signal": s["signal"]} for s in signals
                           if s["signal"] in ("KILL", "STOP", "TSTP")], ["address"]),
        "signals": ts_list(signals, ["address"]),
        "exits": ts_list(exits, ["address"]),
        "isolations": ts_list(isolations, ["host"]),
        "clock": clock,
        "counts": {"files": len(data.files), "lines": len(data.timeline), "records": len(data.records),
                   "unparsed": len(data.unparsed), "peers": len(peers), "seeds": len(seeds),
                   "messages": len(messages_out)},
        "notes": notes,
    }
    extras = {"latencies_us": sorted(all_lat), "dead_edges": sorted(dead_edges), "roles": roles,
              "corrected_latencies_us": sorted(corrected_values) if corrected_values else None}
    return summary, extras
