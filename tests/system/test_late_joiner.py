"""A late joiner: 6 peers are gossiping when a 7th starts. Every message originated after the newcomer's
link is up on both sides reaches it exactly once."""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_EARLY = 6
COUNT = 40
INTERVAL_MS = 150


def test_a_peer_that_joins_mid_run_receives_every_later_message_exactly_once(c):
    c.start_seeds(3)
    overrides = {"gossip": {"count": COUNT, "interval_ms": INTERVAL_MS, "start_delay_ms": 0}}
    early = [c.spawn_peer(overrides=overrides) for _ in range(N_EARLY)]
    for p in early:
        c.started(p)
    # Mid-run: every early peer has originated a few messages (of COUNT * INTERVAL_MS = 6 s of gossip).
    for p in early:
        p.wait_for("gossip_origin", 20, "5 gossip_origin", count=5)
    late = c.start_peer(overrides={"gossip": {"count": 0}})
    up = late.wait_for("neighbour_up", 20, "neighbour_up")[0]
    via = {p.addr: p for p in early}.get(up["peer"])
    h.check(via is not None, "late peer linked to %s, not an early peer" % up["peer"])
    via_up = via.wait_for(lambda l: l.get("event") == "neighbour_up" and l.get("peer") == late.addr, 20,
                          "its neighbour_up with the late peer")[0]
    # From here on, any message that reaches `via` is forwarded to the late peer (it is not the origin and
    # did not send it to `via`), as long as this link stays up.
    link_up_us = max(h.ts_us(up), h.ts_us(via_up))

    for p in early:
        p.wait_for("gossip_origin", 30, "all %d gossip_origin" % COUNT, count=COUNT)
    after = {(p.addr, l["seq"]): l for p in early for l in p.events("gossip_origin") if h.ts_us(l) > link_up_us}
    h.check(len(after) >= N_EARLY * 10, "only %d messages originated after the late peer linked (of %d); the "
            "late peer started too late to test anything" % (len(after), N_EARLY * COUNT))

    def got_all():
        keys = {(l["origin"], l["seq"]) for l in late.events("gossip_recv")}
        return set(after) <= keys
    try:
        c.wait_until(got_all, 20, "gossip_recv at the late peer for all %d later messages" % len(after))
    except h.TestFailure:
        keys = {(l["origin"], l["seq"]) for l in late.events("gossip_recv")}
        missing = sorted(set(after) - keys)
        churn = [l["_raw"] for p in early + [late] for l in p.events("neighbour_down") if h.ts_us(l) > link_up_us]
        raise h.TestFailure("late peer missed %d of %d messages originated after its link was up: %r\n"
                            "links that went down meanwhile: %r" % (len(missing), len(after), missing[:20], churn))
    # A quiet second (one stats round) for any duplicate to show up.
    n = len(late.events("gossip_stats"))
    late.wait_for("gossip_stats", 10, "a gossip_stats line", count=n + 2)

    # The link used as the reference stayed up throughout (else the premise above does not hold).
    for node, other in ((late, via), (via, late)):
        downs = [l for l in node.events("neighbour_down", peer=other.addr)]
        h.check(not downs, "the late peer's first link went down during the run: %r" % [l["_raw"] for l in downs])

    recv = late.events("gossip_recv")
    counts = collections.Counter((l["origin"], l["seq"]) for l in recv)
    dups = {k: v for k, v in counts.items() if v > 1}
    h.check(not dups, "the late peer received these more than once: %r" % dups)
    for l in recv:
        key = (l["origin"], l["seq"])
        if key in after:
            h.check(l["msg"] == after[key]["msg"], "body mismatch for %r: %r vs %r" % (key, l["msg"], after[key]["msg"]))
        h.check(int(l["hops"]) >= 1, "hops=%s < 1" % l["hops"])
    print("  late peer linked %.2f s into the run; %d of %d messages originated after that, all received once; "
          "%d received in all" % ((link_up_us - min(h.ts_us(p.first("gossip_origin")) for p in early)) / 1e6,
                                  len(after), N_EARLY * COUNT, len(recv)))


if __name__ == "__main__":
    h.main([test_a_peer_that_joins_mid_run_receives_every_later_message_exactly_once])
