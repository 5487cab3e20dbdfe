"""What a running cluster is doing, for a person watching: the interesting events as they happen
(registrations, links, dead nodes, signals from `launch kill`) and every few seconds one line per node.
Also the end-of-run delivery summary computed from the collected logs.

Reads the nodes' logs incrementally (from an offset, one command per host) and never changes anything.
"""
from __future__ import annotations

import glob
import os
import sys
import time
from typing import TextIO

from . import remote
from toolkit.local_nodes import LogTail
from toolkit.logfmt import parse_line
from toolkit.timestamps import parse_ts


class _Node:
    def __init__(self, rec: dict):
        self.rec = rec
        self.name: str = rec["name"]
        self.role: str = rec["role"]
        self.address: str = rec["address"]
        self.log = LogTail(keep=False)        # its log on its host, fed one command per host
        self.neighbours: set[str] = set()     # addresses
        self.received = 0                     # gossip_recv lines
        self.originated = 0                   # gossip_origin lines
        self.duplicates = 0                   # from the last gossip_stats
        self.registered: set[str] = set()     # a seed's peers
        self.alive: bool | None = None
        self.stopped = False
        self.paused = False                   # last signal from `launch kill` was STOP


class LiveView:
    """Polls the logs of the nodes in `records` (nodes.json entries) and prints to `out`."""

    def __init__(self, records: list[dict], hosts: dict, events_log: str, started: float,  # time.time()
                 out: TextIO = sys.stdout):
        self.nodes = [_Node(r) for r in records if r.get("pid")]
        self.by_addr = {n.address: n for n in self.nodes}
        self.hosts = hosts                    # host name -> object with .name and .prefix()
        # Only what the launcher logs from now on is news.
        self.events = LogTail(events_log, offset=os.path.getsize(events_log) if os.path.exists(events_log) else 0)
        self.started = started
        self.out = out
        self.links: set[frozenset] = set()    # links already announced
        self.width = max([len(n.name) for n in self.nodes] + [8])
        self.ts = ""                          # the timestamp of the event being handled

    def _name(self, address: str) -> str:
        n = self.by_addr.get(address)
        return n.name if n else address

    def say(self, who: str, text: str) -> None:
        """One event line, stamped with the event's own time since the run started."""
        t = _parse_ts(self.ts)
        at = (t - self.started) if t is not None else time.time() - self.started
        self.out.write(f"{at:7.1f}s  {who:<{self.width}}  {text}\n")
        self.out.flush()

    def poll(self) -> None:
        """Reads what every node logged since the last poll, and the launcher's events, and prints events."""
        batch: list[tuple[str, _Node | None, dict]] = []
        by_host: dict[str, list[_Node]] = {}
        for n in self.nodes:
            by_host.setdefault(n.rec["host"], []).append(n)
        for host_name, nodes in by_host.items():
            tails = remote.read_tails(self.hosts[host_name], [(n.name, n.rec["log"], n.log.offset) for n in nodes])
            for n in nodes:
                batch += [(e.get("ts", ""), n, e) for e in n.log.feed(tails.get(n.name, b""))]
        batch += [(e.get("ts", ""), None, e) for e in self.events.new()]
        batch.sort(key=lambda x: x[0])  # the ISO timestamps sort as text
        for _, n, e in batch:
            self.ts = e.get("ts", "")
            if n is None:
                self._on_launcher_event(e)
            else:
                self._on_line(n, e)

    def _on_launcher_event(self, e: dict[str, str]) -> None:
        if e.get("event") == "node_signalled":
            target = next((n for n in self.nodes if n.name == e.get("name")), None)
            if target and e.get("signal") in ("STOP", "CONT"):
                target.paused = e.get("signal") == "STOP"
            if e.get("by") == "kill":
                self.say("launcher", f"sent SIG{e.get('signal')} to {e.get('name')} ({e.get('address')})")
        elif e.get("event") == "node_exited":
            self.say("launcher", f"{e.get('name')} ({e.get('address')}) is no longer running")

    def _on_line(self, n: _Node, e: dict[str, str]) -> None:
        ev = e.get("event", "")
        peer = self._name(e.get("peer", ""))
        if ev == "registered":
            n.registered.add(e.get("peer", ""))
            self.say(n.name, f"registered {peer} ({e.get('peers')} peers)")
        elif ev == "reregistered":
            n.registered.add(e.get("peer", ""))
        elif ev == "peer_removed":
            n.registered.discard(e.get("peer", ""))
            by = f" reported by {self._name(e['reporter'])}" if "reporter" in e else ""
            self.say(n.name, f"removed {peer}: {e.get('reason')}{by}")
        elif ev == "joined":
            seeds = ",".join(self._name(s) for s in e.get("seeds", "").split(",") if s)
            self.say(n.name, f"joined via {seeds}; {e.get('count')} other peers known")
        elif ev == "neighbour_up":
            n.neighbours.add(e.get("peer", ""))
            pair = frozenset((n.address, e.get("peer", "")))
            if pair not in self.links:
                self.links.add(pair)
                self.say(n.name, f"linked with {peer}")
        elif ev == "neighbour_down":
            n.neighbours.discard(e.get("peer", ""))
            pair = frozenset((n.address, e.get("peer", "")))
            if pair in self.links:
                self.links.discard(pair)
                extra = f", handed to {self._name(e['handed_to'])}" if "handed_to" in e else ""
                self.say(n.name, f"unlinked from {peer} ({e.get('reason')}{extra})")
        elif ev == "dead_detected":
            self.say(n.name, f"DEAD: {peer} missed {e.get('misses')} liveness probes in a row")
        elif ev == "dead_report" and e.get("relayed") != "true":  # relays between seeds would triple the lines
            self.say(n.name, f"dead report about {peer} from {self._name(e.get('reporter', ''))}")
        elif ev == "gossip_origin":
            n.originated += 1
        elif ev == "gossip_recv":
            n.received += 1
        elif ev == "gossip_stats":
            n.duplicates = int(e.get("duplicates", "0") or 0)
        elif ev in ("seed_unreachable", "dropped_by_seed", "seed_error"):
            self.say(n.name, f"{ev} {self._name(e.get('seed', ''))} {e.get('reason', '')}".rstrip())
        elif ev in ("bad_message", "liveness_stalled", "register_retry"):
            rest = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("ts", "node", "event"))
            self.say(n.name, f"{ev} {rest}")
        elif ev == "security":
            self.say(n.name, f"security mode={e.get('mode')}: {e.get('trusted')} keys trusted")
        elif ev == "security_warning":
            self.say(n.name, f"security mode={e.get('mode')}: WARNING: {e.get('detail')}")
        elif ev in ("connection_refused", "trust_error"):
            rest = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("ts", "node", "event"))
            self.say(n.name, f"{ev} {rest}")
        elif ev == "stopped":
            n.stopped = True
            self.say(n.name, f"stopped (signal {e.get('signal')})")

    def table(self, alive: dict[str, bool]) -> None:
        """One line per node: state, neighbours, gossip counts (peers) or registered peers (seeds)."""
        total_origin = sum(n.originated for n in self.nodes if n.role == "peer")
        self.out.write(f"{time.time() - self.started:7.1f}s  ---- {len(self.links)} links, "
                       f"{total_origin} messages originated so far ----\n")
        for n in self.nodes:
            up = alive.get(n.name, n.alive)
            state = ("stopped" if n.stopped else "paused" if n.paused and up else "up" if up
                     else "DOWN" if up is False else "?")
            if n.role == "seed":
                detail = f"{len(n.registered)} peers registered"
            else:
                others = total_origin - n.originated
                nbrs = " ".join(sorted(self._name(a) for a in n.neighbours)) if up is not False else ""
                nbrs = nbrs or "-"
                detail = (f"sent {n.originated:<3} recv {n.received:>4}/{others:<4} dup {n.duplicates:<5} "
                          f"nbrs {nbrs}")
            self.out.write(f"          {n.name:<{self.width}}  {n.address:<21} {state:<7}  {detail}\n")
        self.out.flush()


def _parse_ts(ts: str) -> float | None:
    """A line's ts= in seconds since the epoch (time.time()'s scale); None when it is not a timestamp."""
    us = parse_ts(ts)
    return None if us is None else us / 1e6


def delivery_summary(logs_dir: str, records: list[dict] | None = None) -> list[str]:
    """From collected node logs: did every peer get every message the other peers originated while it was
    in the overlay (from its first neighbour_up to its last log line)? Returns the lines to print."""
    names = {r["address"]: r["name"] for r in records or []}
    created: dict[tuple[str, int], float] = {}          # (origin, seq) -> when it was originated
    received: dict[str, set[tuple[str, int]]] = {}
    window: dict[str, list[float | None]] = {}          # peer -> [first neighbour_up, last line]
    latencies: list[float] = []
    max_hops = dead = removed = 0
    for path in sorted(glob.glob(os.path.join(logs_dir, "*.log"))):
        role = os.path.basename(path).split("-", 1)[0]
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                e = parse_line(line.rstrip("\n"))
                ev, me, t = e.get("event"), e.get("node", ""), _parse_ts(e.get("ts", ""))
                if role == "peer" and t is not None:
                    w = window.setdefault(me, [None, None])
                    w[1] = t
                    if ev == "neighbour_up" and w[0] is None:
                        w[0] = t
                if ev == "gossip_origin" and t is not None:
                    created[(me, int(e.get("seq", "0")))] = t
                elif ev == "gossip_recv":
                    received.setdefault(me, set()).add((e.get("origin", ""), int(e.get("seq", "0"))))
                    if t is not None and e.get("created_us", "").isdigit():
                        latencies.append(t - int(e["created_us"]) / 1e6)
                    max_hops = max(max_hops, int(e.get("hops", "0") or 0))
                elif ev == "dead_detected":
                    dead += 1
                elif ev == "peer_removed" and e.get("reason") == "dead_report":
                    removed += 1
    if not window:
        return ["summary: no peer logs"]
    expected_all = got_all = before = 0
    short: list[str] = []
    for p, (linked, last) in sorted(window.items(), key=lambda kv: names.get(kv[0], kv[0])):
        others = {m: t for m, t in created.items() if m[0] != p}
        if linked is None:
            short.append(f"{names.get(p, p)} never linked to a neighbour")
            continue
        expected = {m for m, t in others.items() if linked <= t <= last}
        before += sum(1 for t in others.values() if t < linked)
        got = len(received.get(p, set()) & expected)
        expected_all += len(expected)
        got_all += got
        if got < len(expected):
            short.append(f"{names.get(p, p)} got {got} of {len(expected)}")
    lines = [f"summary: {len(window)} peers originated {len(created)} messages; delivered {got_all} of "
             f"{expected_all} to the other peers that were in the overlay when each was sent"
             + (f" ({100.0 * got_all / expected_all:.1f}%)" if expected_all else "")]
    if before:
        lines.append(f"summary: ({before} deliveries not expected: sent before the receiver had its first link)")
    if expected_all and not short:
        lines.append("summary: every peer received every message the other peers sent while it was linked")
    lines += [f"summary: incomplete: {s}" for s in short]
    if short:
        lines.append("summary: (a quick count that does not allow for crashes, pauses or cut-off hosts; "
                     "`scripts/aggregate RUN_DIR` applies the full rules)")
    if latencies:
        latencies.sort()
        lines.append(f"summary: delivery latency median {1000 * latencies[len(latencies) // 2]:.1f} ms, "
                     f"max {1000 * latencies[-1]:.1f} ms (wall clocks); most hops {max_hops}")
    lines.append(f"summary: dead_detected lines {dead}; peers removed by seeds after a dead report {removed}")
    return lines
