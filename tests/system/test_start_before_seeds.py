"""Peers started before any seed: they find no seed (seed_unreachable, register_retry), keep retrying with
backoff, and once the seeds come up they join and link to each other."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def test_peers_started_before_the_seeds_retry_then_join_and_link(c):
    seed_ports = [h.free_port() for _ in range(3)]
    seed_addrs = ["127.0.0.1:%d" % p for p in seed_ports]
    # The fast preset's own registration timer (500 ms): this test is about it.
    overrides = {"node": {"register_timeout_ms": 500}, "gossip": {"count": 0}}
    peers = [c.start_peer(seeds=seed_addrs, overrides=overrides) for _ in range(2)]

    for p in peers:
        # Every seed tried and given up on, then a new round scheduled.
        unreachable = p.wait_for("seed_unreachable", 20, "seed_unreachable for all 3 seeds", count=3)
        h.check({l["seed"] for l in unreachable} <= set(seed_addrs), "%s: seed_unreachable for unknown seeds" % p)
        p.wait_for("register_retry", 20, "two register_retry rounds", count=2)
    for p in peers:
        h.check(not p.events("joined") and not p.events("seed_registered"), "%s joined with no seed running" % p)
        unreachable = p.events("seed_unreachable")
        h.check({l["seed"] for l in unreachable} == set(seed_addrs),
                "%s: a round gave up before trying every seed: %r" % (p, [l["seed"] for l in unreachable]))
        h.check(all(l["was_registered"] == "false" and l["timeout_ms"] == "500" for l in unreachable),
                "%s: unexpected seed_unreachable fields" % p)
        # Backoff: attempt k waits min(100 * 2^(k-1), 1000) ms, +-50 % (preset "fast": 100..1000 ms).
        for k, retry in enumerate(p.events("register_retry"), start=1):
            base = min(100 * 2 ** (k - 1), 1000)
            h.check(int(retry["attempt"]) == k and base // 2 <= int(retry["delay_ms"]) <= base * 3 // 2,
                    "%s: %r, want attempt=%d delay_ms in %d..%d" % (p, retry["_raw"], k, base // 2, base * 3 // 2))

    for port in seed_ports:
        c.start_seed(port=port)

    for p in peers:
        joined = p.wait_for("joined", 30, "joined after the seeds came up")
        h.check(len(joined) == 1, "%s joined %d times" % (p, len(joined)))
        regs = set(h.split_list(joined[0]["seeds"]))
        h.check(len(regs) == 2 and regs <= set(seed_addrs), "%s joined with seeds %r, want 2 of the 3" % (p, regs))
    a, b = peers
    a.wait_for(lambda l: l.get("event") == "neighbour_up" and l.get("peer") == b.addr, 30, "neighbour_up with the other peer")
    b.wait_for(lambda l: l.get("event") == "neighbour_up" and l.get("peer") == a.addr, 30, "neighbour_up with the other peer")
    # The seeds know both peers (each seed only those that registered with it, together both).
    on_seeds = {l["peer"] for s in c.seeds for l in s.events("registered")}
    h.check(on_seeds == {a.addr, b.addr}, "seeds registered %r, want both peers" % on_seeds)
    c.assert_alive()


if __name__ == "__main__":
    h.main([test_peers_started_before_the_seeds_retry_then_join_and_link])
