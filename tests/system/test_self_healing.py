"""The overlay heals: peers killed one after another, and a seed restarted mid-run."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from test_failure_detection import FAST, publish_and_check_delivery, start_network, wait_removed_by_seeds  # noqa: E402


def test_killing_three_of_ten_peers_one_after_another_leaves_an_overlay_that_reaches_all_seven(c):
    peers, graph = start_network(c, 10)
    alive = list(peers)
    for round_no in range(3):
        # Kill the best-connected peer each time: the hardest case for the survivors' links.
        victim = max(alive, key=lambda p: len(graph[p.addr]))
        os.kill(victim.pid, signal.SIGKILL)
        victim.proc.wait()
        c.nodes.remove(victim)
        alive.remove(victim)
        wait_removed_by_seeds(c, victim, "dead_report", 15)
        graph = h.wait_settled_overlay(c, alive, 30)
        print("  after kill %d: %d peers, degrees %s" % (round_no + 1, len(alive),
                                                         sorted(len(v) for v in graph.values())))
    h.check(len(alive) == 7, "expected 7 survivors")
    publish_and_check_delivery(c, alive[:3], alive, "after-three-deaths")


def test_a_restarted_seed_relearns_its_peers_from_their_periodic_registration(c):
    overrides = h.merge(FAST, {"node": {"reregister_interval_ms": 800}})
    peers, _ = start_network(c, 5, overrides)
    seed = c.seeds[0]
    addr = seed.addr
    before = {l["peer"] for l in seed.events("registered")}
    h.check(before, "seed %s had no peers to lose" % seed)
    os.kill(seed.pid, signal.SIGKILL)
    seed.proc.wait()
    c.nodes.remove(seed)
    c.seeds.remove(seed)
    port = int(addr.rsplit(":", 1)[1])
    reborn = c.start_seed(overrides, port=port)
    h.check(reborn.addr == addr, "restarted seed came up at %s, not %s" % (reborn.addr, addr))

    def relearned():
        return {l["peer"] for l in reborn.events("registered")} >= before

    c.wait_until(relearned, 15, "the restarted seed relearning %r" % sorted(before))
    # Its answers now list the live peers again, so a newcomer registering there learns them.
    late = c.start_peer(seeds=[reborn], overrides=overrides)
    joined = late.wait_for("joined", 15, "joined")[0]
    listed = set(h.split_list(joined["peers"]))
    h.check(before <= listed, "the restarted seed lists %r, missing %r" % (sorted(listed), sorted(before - listed)))
    for p in peers:
        if p.addr in before:
            p.wait_for(lambda l: l.get("event") == "dropped_by_seed" and l["seed"] == addr, 10, "dropped_by_seed")


def test_a_seed_drops_a_peer_whose_lease_ran_out_when_no_report_can_reach_it(c):
    # A lone peer has no neighbours to report its death: only the registration lease removes it.
    overrides = h.merge(FAST, {"node": {"reregister_interval_ms": 300}, "seed": {"peer_ttl_ms": 1500}})
    c.start_seeds(3, overrides)
    lone = c.start_peer(overrides=overrides)
    lone.wait_for("joined", 15, "joined")
    registered_with = {l["seed"] for l in lone.events("seed_registered")}
    # Alive and re-registering, it is not dropped: wait past two lease lengths first.
    c.wait_until(lambda: len(lone.events("register_sent")) >= 2 + 2 * 5, 15, "ten periodic registrations")
    for s in c.seeds:
        h.check(not s.events("peer_removed"), "%s dropped a live peer: %r" % (s, s.events("peer_removed")))
    os.kill(lone.pid, signal.SIGKILL)
    lone.proc.wait()
    c.nodes.remove(lone)
    for s in c.seeds:
        if s.addr in registered_with:
            s.wait_for(lambda l: l.get("event") == "peer_removed" and l["peer"] == lone.addr
                       and l["reason"] == "expired", 10, "peer_removed reason=expired")


if __name__ == "__main__":
    h.main([test_killing_three_of_ten_peers_one_after_another_leaves_an_overlay_that_reaches_all_seven,
            test_a_restarted_seed_relearns_its_peers_from_their_periodic_registration,
            test_a_seed_drops_a_peer_whose_lease_ran_out_when_no_report_can_reach_it])
