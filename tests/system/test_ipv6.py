"""The overlay over IPv6: a seed and peers on [::1] register, link and gossip like on IPv4.
Skipped (exit 77, with the reason) where this host has no IPv6 loopback."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def free_port6():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def test_seeds_and_peers_on_ipv6_loopback_register_link_and_deliver_every_message(c):
    seed_port = free_port6()
    seed = c.start_seed(port=seed_port, overrides={"node": {"listen": "[::1]:%d" % seed_port}})
    h.check(seed.addr == "[::1]:%d" % seed_port, "seed advertises %s" % seed.addr)
    gossip = {"gossip": {"count": 3, "interval_ms": 150, "start_delay_ms": 1500}}
    peers = [c.start_peer(seeds=[seed], overrides=h.merge(gossip, {"node": {"listen": "[::1]:0"}}))
             for _ in range(4)]
    for p in peers:
        h.check(p.addr.startswith("[::1]:"), "peer advertises %s" % p.addr)
    h.wait_settled_overlay(c, peers, 20)
    for p in peers:
        others = {q.addr for q in peers if q is not p}
        p.wait_for(lambda l: l.get("event") == "gossip_recv", 20, "gossip from the 3 others", count=9)
        got = {(l["origin"], l["seq"]) for l in p.events("gossip_recv")}
        h.check({o for o, _ in got} == others, "%s got messages from %r" % (p, sorted({o for o, _ in got})))
        h.check(len(got) == 9 and len(p.events("gossip_recv")) == 9, "%s: %d receipts" % (p, len(got)))
    h.check({l["peer"] for l in seed.events("registered")} == {p.addr for p in peers}, "seed registrations")


if __name__ == "__main__":
    try:
        free_port6()
    except OSError as e:
        print("SKIP: no IPv6 loopback on this host (%s)" % e)
        sys.exit(h.SKIP)
    h.main([test_seeds_and_peers_on_ipv6_loopback_register_link_and_deliver_every_message])
