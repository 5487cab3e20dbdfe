"""Floods a running peer with forged link requests and gossip: it must stay up, bounded and useful.
(In security mode none the node trusts the sender field, so forged requests are accepted as such; what must
not happen is a crash, a socket leak or a wedged loop. In mode curve the flood comes from a member, the
harness's operator key: every request in another's name is refused with sender_mismatch, and none of
them can cost the peer a link.)"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def test_a_flood_of_forged_link_requests_from_newcomers_neither_crashes_a_full_peer_nor_churns_its_links(c):
    c.start_seeds(1)
    overrides = {"overlay": {"refill_interval_ms": 1000}, "gossip": {"count": 0}}
    peers = [c.start_peer(overrides=overrides) for _ in range(5)]
    target = peers[0]
    c.wait_until(lambda: len(h.links(target.lines())) >= 2, 20, "the target peer having links")
    # 3,000 LINK_REQUESTs "from" 3,000 different peers, each claiming no links at all: each would be a trade.
    r = c.ctl("send", "--to", target.addr, "--repeat", 3000, "--timeout-ms", 10000,
              "GSP2", "LINK_REQUEST", "127.0.0.1:%n", "0", timeout=120)
    h.check(r.returncode == 0, "flood not sent: %s" % r.stderr.decode(errors="replace"))
    # It handled them (the last one is answered, or refused) and is still alive.
    if c.security == "curve":
        c.wait_until(lambda: target.events("bad_message", **{"from": "127.0.0.1:3000"}), 30,
                     "the last forged request refused")
        # Number 1 names 127.0.0.1:1, the operator's own address: a genuine request from a member.
        refused = target.events("bad_message", reason="sender_mismatch")
        h.check(len(refused) == 2999, "%d of the 2,999 requests in others' names refused" % len(refused))
        forged = {"127.0.0.1:%d" % n for n in range(2, 3001)}
        acted = [l["_raw"] for l in target.lines() if l.get("peer") in forged]
        h.check(not acted, "the peer acted on requests in others' names: %r" % acted[:3])
    else:
        c.wait_until(lambda: any(l.get("event") in ("link_refused", "neighbour_up")
                                 and l.get("peer") == "127.0.0.1:3000" for l in target.lines()), 30,
                     "the last forged request handled")
    c.assert_alive()
    traded = target.events("neighbour_down", reason="traded")
    print("  trades during the flood: %d; refused: %d" % (len(traded), len(target.events("link_refused"))))
    h.check(len(traded) <= 3, "a flood made the peer trade %d links" % len(traded))
    h.check(not target.events("socket_error"), "socket errors: %r" % target.events("socket_error")[:3])
    # Still useful: once the forged links have died out (liveness) and the one traded-away neighbour has
    # found a new link, a real newcomer gets in and its gossip reaches everyone.
    h.wait_settled_overlay(c, peers, 30)
    late = c.start_peer(overrides={"gossip": {"count": 3, "interval_ms": 100, "start_delay_ms": 1000}})
    late.wait_for("neighbour_up", 20, "the newcomer linking")
    for p in peers:
        p.wait_for(lambda l: l.get("event") == "gossip_recv" and l.get("origin") == late.addr, 20,
                   "gossip from the newcomer", count=3)


if __name__ == "__main__":
    h.main([test_a_flood_of_forged_link_requests_from_newcomers_neither_crashes_a_full_peer_nor_churns_its_links])
