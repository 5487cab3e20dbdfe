"""Liveness and dead-node reports with real processes: a killed, a paused and a stopped peer.
Each test uses fast liveness rounds and checks the detector, the reports to the seeds, the seeds' removals,
and that gossip published afterwards still reaches every remaining peer."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

INTERVAL_MS = 400
MAX_MISSES = 3
# The detector's bound is (max_misses + 1) rounds after the death; on a loaded machine a timer can fire a
# little late, so this much scheduling slack is allowed on top (it is reported, not hidden).
SLACK_MS = 400
FAST = {
    "liveness": {"interval_ms": INTERVAL_MS, "max_misses": MAX_MISSES},
    "gossip": {"count": 0},
    "overlay": {"refill_interval_ms": 300},
}


def start_seeds_that_know_each_other(c, n, overrides):
    """Seeds whose configs list every seed, as the launcher writes them, so they relay dead-node reports."""
    ports = [h.free_port() for _ in range(n)]
    everyone = ["127.0.0.1:%d" % p for p in ports]
    return [c.start_seed(h.merge(overrides, {"node": {"seeds": everyone}}), port=p) for p in ports]


def start_network(c, n_peers, overrides=None, per_peer=None):
    """Seeds, then peers one by one; per_peer = {index: extra overrides for that peer}."""
    overrides = h.merge(FAST, overrides)
    start_seeds_that_know_each_other(c, 3, overrides)
    peers = []
    for k in range(n_peers):
        p = c.start_peer(overrides=h.merge(overrides, (per_peer or {}).get(k)), control=True)
        p.wait_for("joined", 20, "joined")
        if k > 0:
            p.wait_for("neighbour_up", 20, "neighbour_up")
        peers.append(p)
    graph = h.wait_settled_overlay(c, peers, 20)
    return peers, graph


def seeds_of(peer):
    return {l["seed"] for l in peer.events("seed_registered")}


def publish_and_check_delivery(c, senders, receivers, tag, timeout=20):
    """Publishes one payload from each sender; every receiver (other than the sender) must log it once."""
    payloads = []
    for i, s in enumerate(senders):
        payload = ("%s-%d-%s" % (tag, i, s.addr)).encode()
        r = c.ctl("publish", "--to", s.control, "--message", payload.decode())
        h.check(r.returncode == 0, "publish via %s failed: %s" % (s, r.stderr.decode(errors="replace")))
        payloads.append((s, payload))
    for s, payload in payloads:
        for r in receivers:
            if r is s:
                continue
            got = r.wait_for(lambda l, p=payload: l.get("event") == "gossip_recv" and h.value_bytes(l["msg"]) == p,
                             timeout, "gossip_recv of %r" % payload)
            h.check(len(got) == 1, "%s logged %r %d times" % (r, payload, len(got)))


def wait_removed_by_seeds(c, victim, reason, timeout):
    """Every seed the victim registered with logs peer_removed for it; returns those lines."""
    seeds = [s for s in c.seeds if s.addr in seeds_of(victim)]
    h.check(len(seeds) == 2, "%s registered with %r" % (victim, seeds_of(victim)))
    return [s.wait_for(lambda l: l.get("event") == "peer_removed" and l["peer"] == victim.addr
                       and l["reason"] == reason, timeout, "peer_removed %s (%s)" % (victim.addr, reason))[0]
            for s in seeds]


def test_a_killed_peer_is_detected_by_its_neighbours_reported_and_removed_and_gossip_goes_on(c):
    peers, graph = start_network(c, 6)
    victim = max(peers, key=lambda p: len(graph[p.addr]))
    neighbours = [p for p in peers if p.addr in graph[victim.addr]]
    killed_at = time.time()
    os.kill(victim.pid, signal.SIGKILL)
    victim.proc.wait()
    c.nodes.remove(victim)  # killed on purpose: the harness must not count it as a crash

    bound_ms = (MAX_MISSES + 1) * INTERVAL_MS
    for n in neighbours:
        line = n.wait_for(lambda l: l.get("event") == "dead_detected" and l["peer"] == victim.addr,
                          bound_ms / 1000 + 10, "dead_detected %s" % victim.addr)[0]
        took_ms = (h.ts_us(line) / 1e6 - killed_at) * 1000
        print("  %s detected the death after %.0f ms (bound %d ms)" % (n, took_ms, bound_ms))
        h.check(took_ms <= bound_ms + SLACK_MS, "%s took %.0f ms > (max_misses+1) x interval = %d ms (+%d slack)"
                % (n, took_ms, bound_ms, SLACK_MS))
        sent = n.wait_for(lambda l: l.get("event") == "dead_report_sent" and l["peer"] == victim.addr, 5,
                          "dead_report_sent")
        h.check({l["seed"] for l in sent} == seeds_of(n), "%s reported to %r, registered with %r"
                % (n, {l["seed"] for l in sent}, seeds_of(n)))
        text = sent[0]["text"]
        ip, port = victim.addr.rsplit(":", 1)
        h.check(text.startswith("Dead Node:%s:%s:" % (ip, port)) and text.endswith(":" + n.addr),
                "Dead Node text %r is not Dead Node:<ip>:<port>:<ts>:<self>" % text)
        h.check(len(n.events("dead_detected", peer=victim.addr)) == 1, "%s reported one death twice" % n)

    removed = wait_removed_by_seeds(c, victim, "dead_report", 10)
    # Removed on a neighbour's report, or on another seed's relay of one.
    for line in removed:
        h.check(line["reporter"] in {n.addr for n in neighbours} | {s.addr for s in c.seeds},
                "removal reporter %s is neither a neighbour nor a seed" % line)

    survivors = [p for p in peers if p is not victim]
    h.wait_settled_overlay(c, survivors, 20)
    publish_and_check_delivery(c, survivors[:2], survivors, "after-kill")
    # Seeds no longer hand the dead peer out.
    late = c.start_peer(overrides=FAST)
    joined = late.wait_for("joined", 20, "joined")[0]
    h.check(victim.addr not in h.split_list(joined["peers"]), "a seed still lists the dead peer: %s" % joined)


def test_a_paused_peer_is_reported_dead_and_after_resuming_registers_again_and_gets_new_gossip(c):
    # The victim originates gossip on its own all along, so its first message after resuming is tested too.
    peers, graph = start_network(c, 6, per_peer={2: {"gossip": {"count": 10000, "interval_ms": 250}}})
    victim = peers[2]
    neighbours = [p for p in peers if p.addr in graph[victim.addr]]
    os.kill(victim.pid, signal.SIGSTOP)
    try:
        for n in neighbours:
            n.wait_for(lambda l: l.get("event") == "dead_detected" and l["peer"] == victim.addr,
                       (MAX_MISSES + 1) * INTERVAL_MS / 1000 + 10, "dead_detected")
        wait_removed_by_seeds(c, victim, "dead_report", 10)
    finally:
        os.kill(victim.pid, signal.SIGCONT)
    resumed_at = time.time()

    # It notices it was dropped (from what the seeds and its old neighbours answer) and comes back.
    victim.wait_for(lambda l: l.get("event") == "dropped_by_seed", 15, "dropped_by_seed")
    for s in [s for s in c.seeds if s.addr in seeds_of(victim)]:
        s.wait_for(lambda l: l.get("event") == "registered" and l["peer"] == victim.addr, 15,
                   "second registration", count=2)
    victim.wait_for(lambda l: l.get("event") == "neighbour_up" and h.ts_us(l) / 1e6 >= resumed_at, 15,
                    "a new neighbour after resuming")
    h.wait_settled_overlay(c, peers, 20)
    # The silence was its own: a resumed peer never reports the live peers around it as dead.
    h.check(not victim.events("dead_detected"), "the resumed peer reported live peers dead: %r"
            % [l["peer"] for l in victim.events("dead_detected")])
    others = [p for p in peers if p is not victim]
    # Its first message after resuming waits for its links to be checked, so it is not lost on stale ones.
    first = victim.wait_for(lambda l: l.get("event") == "gossip_origin" and h.ts_us(l) / 1e6 >= resumed_at, 10,
                            "a gossip_origin after resuming")[0]
    for p in others:
        p.wait_for(lambda l: l.get("event") == "gossip_recv" and l["origin"] == victim.addr
                   and l["seq"] == first["seq"], 10, "the resumed peer's first message (seq %s)" % first["seq"])
    publish_and_check_delivery(c, others[:2], peers, "after-resume")
    publish_and_check_delivery(c, [victim], peers, "from-resumed")


def test_a_peer_stopped_with_sigterm_is_dropped_at_once_without_waiting_for_misses(c):
    peers, graph = start_network(c, 5)
    victim = max(peers, key=lambda p: len(graph[p.addr]))
    neighbours = [p for p in peers if p.addr in graph[victim.addr]]
    stopped_at = time.time()
    victim.proc.send_signal(signal.SIGTERM)
    h.check(victim.proc.wait(timeout=10) == 0, "SIGTERM exit status %s" % victim.proc.returncode)
    c.nodes.remove(victim)  # stopped on purpose, checked here
    h.check(victim.first("leaving") and victim.first("stopped"), "no leaving/stopped line")
    for n in neighbours:
        line = n.wait_for(lambda l: l.get("event") == "neighbour_down" and l["peer"] == victim.addr, 10,
                          "neighbour_down %s" % victim.addr)[0]
        took_ms = (h.ts_us(line) / 1e6 - stopped_at) * 1000
        h.check(line["reason"] == "left", "%s dropped it for %s, not left" % (n, line["reason"]))
        h.check(took_ms < INTERVAL_MS, "%s took %.0f ms, more than one liveness interval" % (n, took_ms))
        h.check(not n.events("dead_detected", peer=victim.addr), "%s waited for misses" % n)
    for line in wait_removed_by_seeds(c, victim, "left", 5):
        took_ms = (h.ts_us(line) / 1e6 - stopped_at) * 1000
        h.check(took_ms < INTERVAL_MS, "a seed took %.0f ms to drop a leaving peer" % took_ms)


if __name__ == "__main__":
    h.main([test_a_killed_peer_is_detected_by_its_neighbours_reported_and_removed_and_gossip_goes_on,
            test_a_paused_peer_is_reported_dead_and_after_resuming_registers_again_and_gets_new_gossip,
            test_a_peer_stopped_with_sigterm_is_dropped_at_once_without_waiting_for_misses])
