"""Overlay formation: 3 seeds, 10 peers started one after another. Registration with a majority of seeds,
the seeds' records, the joined peer lists, and the overlay built from neighbour_up / neighbour_down lines."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_SEEDS = 3
N_PEERS = 10


def form_overlay(c, max_degree, target_degree):
    overrides = {"overlay": {"max_degree": max_degree, "target_degree": target_degree}, "gossip": {"count": 0}}
    c.start_seeds(N_SEEDS)
    peers = []
    for k in range(N_PEERS):
        p = c.start_peer(overrides=overrides)
        p.wait_for("joined", 20, "joined")
        if k > 0:  # the first peer has nobody to link to
            p.wait_for("neighbour_up", 20, "neighbour_up")
        peers.append(p)

    seed_addrs = {s.addr for s in c.seeds}
    majority = N_SEEDS // 2 + 1

    # Each peer registered with exactly floor(n/2)+1 distinct seeds, and only with real seeds.
    registered_with = {}
    for p in peers:
        regs = [l["seed"] for l in p.events("seed_registered")]
        h.check(len(regs) == majority and len(set(regs)) == majority,
                "%s: seed_registered lines %r, want %d distinct seeds once each" % (p, regs, majority))
        h.check(set(regs) <= seed_addrs, "%s registered with unknown seeds %r" % (p, set(regs) - seed_addrs))
        registered_with[p.addr] = set(regs)

    # Each seed logged `registered` exactly once for each peer that says it registered there, and no other.
    for s in c.seeds:
        got = [l["peer"] for l in s.events("registered")]
        want = {a for a, regs in registered_with.items() if s.addr in regs}
        h.check(len(got) == len(set(got)), "%s: a peer registered twice: %r" % (s, got))
        h.check(set(got) == want, "%s: registered %r, but the peers that registered with it are %r"
                % (s, sorted(got), sorted(want)))

    # A peer's candidate set (the union of its seeds' lists) holds every peer started before it.
    for k, p in enumerate(peers):
        joined = p.events("joined")
        h.check(len(joined) == 1, "%s logged joined %d times" % (p, len(joined)))
        listed = set(h.split_list(joined[0]["peers"]))
        earlier = {q.addr for q in peers[:k]}
        h.check(earlier <= listed, "%s joined with peers=%r, missing earlier peers %r"
                % (p, sorted(listed), sorted(earlier - listed)))
        h.check(p.addr not in listed, "%s is listed as its own candidate" % p)
        h.check(int(joined[0]["count"]) == len(listed), "%s: joined count= disagrees with peers=" % p)

    # The overlay settles: both sides of every link agree, it is connected, nobody is isolated.
    graph = h.wait_settled_overlay(c, peers, 20)

    # No peer ever exceeded max_degree: every degree= field, and the final graph.
    for p in peers:
        for l in p.lines():
            if "degree" in l:
                h.check(int(l["degree"]) <= max_degree, "%s exceeded max_degree %d: %s"
                        % (p, max_degree, l["_raw"].decode(errors="replace")))
        nb = graph[p.addr]
        h.check(len(nb) <= max_degree, "%s has %d neighbours > max_degree %d" % (p, len(nb), max_degree))
        last = [l for l in p.lines() if l.get("event") in ("neighbour_up", "neighbour_down")][-1]
        h.check(int(last["degree"]) == len(nb), "%s: last degree=%s but replayed links are %r"
                % (p, last["degree"], sorted(nb)))
    c.assert_alive()
    return peers, graph


def test_peers_register_with_a_seed_majority_and_form_a_connected_overlay_within_max_degree(c):
    form_overlay(c, max_degree=4, target_degree=2)


def test_newcomers_get_in_by_trading_links_when_max_degree_is_2(c):
    peers, graph = form_overlay(c, max_degree=2, target_degree=1)
    # With max_degree 2 and 10 peers most peers fill up, so some newcomer must have been let in by a trade;
    # report how many (the connectivity checks above are what prove the trade path keeps everyone in).
    traded = [l for p in peers for l in p.events("neighbour_down", reason="traded")]
    print("  trades: %d; final degrees: %s" % (len(traded), sorted(len(v) for v in graph.values())))


if __name__ == "__main__":
    h.main([test_peers_register_with_a_seed_majority_and_form_a_connected_overlay_within_max_degree,
            test_newcomers_get_in_by_trading_links_when_max_degree_is_2])
