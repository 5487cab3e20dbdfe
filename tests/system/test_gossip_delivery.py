"""Gossip delivery: 3 seeds, 10 peers, each originating gossip.count=5 messages after a start delay that
lets the overlay form first. Every peer receives every other peer's messages exactly once, never its own."""

import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_PEERS = 10
COUNT = 5
# Counted from each peer's first neighbour_up. Started back to back, 10 peers join and link within a few
# hundred milliseconds (about 0.2 s here when idle); 3 s leaves a wide margin on a loaded machine, and the
# test checks that margin held (the overlay was complete and stable before the first message) instead of
# assuming it.
START_DELAY_MS = 3000


def test_every_peer_receives_each_other_peers_messages_exactly_once(c):
    c.start_seeds(3)
    overrides = {"gossip": {"count": COUNT, "interval_ms": 200, "start_delay_ms": START_DELAY_MS}}
    peers = [c.spawn_peer(overrides=overrides) for _ in range(N_PEERS)]
    for p in peers:
        c.started(p)
    addrs = {p.addr for p in peers}
    total = N_PEERS * COUNT

    # Wait for every peer to have originated all its messages and received all the others'.
    for p in peers:
        p.wait_for("gossip_origin", 30, "%d gossip_origin" % COUNT, count=COUNT)
    for p in peers:
        p.wait_for("gossip_recv", 30, "%d gossip_recv" % (total - COUNT), count=total - COUNT)
    # Then let two more stats rounds pass (>= 1 s) so late duplicates or extra deliveries would show.
    stats_seen = {p.name: len(p.events("gossip_stats")) for p in peers}
    for p in peers:
        p.wait_for("gossip_stats", 10, "two more gossip_stats", count=stats_seen[p.name] + 2)
    c.stop_all()  # final gossip_stats lines are written on SIGTERM

    # Precondition (the timing assumption above): before the first message, the overlay held all 10 peers,
    # connected and agreed on by both sides; and no link went down while messages were flowing.
    origins = {}
    for p in peers:
        for l in p.events("gossip_origin"):
            origins[(p.addr, l["seq"])] = l
    h.check(len(origins) == total, "expected %d distinct (origin, seq), got %d" % (total, len(origins)))
    first_origin = min(h.ts_us(l) for l in origins.values())
    last_recv = max(h.ts_us(l) for p in peers for l in p.events("gossip_recv"))
    g0 = {p.addr: h.links(p.lines(), before_us=first_origin) for p in peers}  # the overlay at that time
    h.check(not h.one_sided(g0) and len(h.components(g0)) == 1,
            "precondition: the overlay was not complete when the first message left (start_delay too short "
            "for this machine?): %r" % {a: sorted(b) for a, b in g0.items()})
    downs = [l for p in peers for l in p.events("neighbour_down") if first_origin <= h.ts_us(l) <= last_recv]
    h.check(not downs, "a link went down while gossip was flowing: %r" % [l["_raw"] for l in downs])

    for p in peers:
        mine = [l for l in p.events("gossip_origin")]
        h.check([int(l["seq"]) for l in mine] == list(range(1, COUNT + 1)), "%s: seqs %r" % (p, [l["seq"] for l in mine]))
        for l in mine:
            m = re.fullmatch(r"(\d+):(.+):(\d+)", l["msg"])
            h.check(m and m.group(2) == p.addr and m.group(3) == l["seq"], "%s: origin body %r" % (p, l["msg"]))

    dist = {a: h.distances(g0, a) for a in addrs}
    for p in peers:
        recv = p.events("gossip_recv")
        own = [l for l in recv if l["origin"] == p.addr]
        h.check(not own, "%s logged gossip_recv for its own messages: %r" % (p, [l["_raw"] for l in own]))
        keys = collections.Counter((l["origin"], l["seq"]) for l in recv)
        dups = {k: n for k, n in keys.items() if n > 1}
        h.check(not dups, "%s received these more than once: %r" % (p, dups))
        want = {k for k in origins if k[0] != p.addr}
        h.check(set(keys) == want, "%s: missing %r, unexpected %r" % (p, sorted(want - set(keys)), sorted(set(keys) - want)))
        for l in recv:
            o = origins[(l["origin"], l["seq"])]
            h.check(l["msg"] == o["msg"], "%s: body %r differs from the origin's %r" % (p, l["msg"], o["msg"]))
            h.check(l["msg"] == "%s:%s:%s" % (l["created_us"], l["origin"], l["seq"]),
                    "%s: body %r is not <created_us>:<origin>:<seq>" % (p, l["msg"]))
            hops = int(l["hops"])
            h.check(dist[l["origin"]][p.addr] <= hops <= N_PEERS - 1,
                    "%s: hops=%d for a message from %s at overlay distance %d"
                    % (p, hops, l["origin"], dist[l["origin"]][p.addr]))
            h.check(l["from"] in g0[p.addr], "%s: received from %s, not a neighbour" % (p, l["from"]))

    # Counters: the last gossip_stats of each peer (written on SIGTERM) agrees with its log.
    sent = arrived = 0
    for p in peers:
        stats = p.events("gossip_stats")
        h.check(stats, "%s logged no gossip_stats" % p)
        for s in stats:
            h.check(all(int(s[k]) >= 0 for k in ("duplicates", "forwarded", "dropped", "seen")),
                    "%s: negative counter in %r" % (p, s["_raw"]))
        last = stats[-1]
        h.check(int(last["originated"]) == COUNT and int(last["received"]) == total - COUNT,
                "%s: final stats %r, want originated=%d received=%d" % (p, last["_raw"], COUNT, total - COUNT))
        h.check(int(last["dropped"]) == 0, "%s dropped messages: %r" % (p, last["_raw"]))
        sent += int(last["forwarded"])
        arrived += int(last["received"]) + int(last["duplicates"])
    # Every GOSSIP sent to a neighbour arrived and was counted as new or duplicate: nothing lost on a link.
    h.check(sent == arrived, "forwarded %d GOSSIP messages in all, but %d arrived (received + duplicates)"
            % (sent, arrived))


if __name__ == "__main__":
    h.main([test_every_peer_receives_each_other_peers_messages_exactly_once])
