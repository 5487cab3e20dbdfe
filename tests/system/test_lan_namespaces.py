"""A LAN of five hosts made of network namespaces joined by a bridge, driven through scripts/launch with
`ip netns exec` as the remote command, and judged from scripts/aggregate's JSON summary.

3 seeds (on hosts 1-3) and 12 peers (3 on each of hosts 1-4). Every peer gets every message; then host 4's
link goes down: its peers are reported dead by peers on the other hosts and removed by the seeds, and new
messages still reach every peer on the other hosts. In security mode curve (the default) the launcher
makes every node's key pair and ships it and the trusted folder to each host through its prefix. Everything the test makes (namespaces, veths, the
bridge, processes) is removed afterwards, also when it fails; its files are kept when it fails, as every
system test's are. Skipped (exit 77, with the reason) where namespaces cannot be made.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import netns_lan  # noqa: E402 (scripts/lib is on the path through harness)
from toolkit.local_nodes import LogTail  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH = os.path.join(REPO, "scripts", "launch")
AGGREGATE = os.path.join(REPO, "scripts", "aggregate")
TAG = "gsp%d" % (os.getpid() % 100000)  # unique names: a crashed earlier run cannot collide with this one
LAN = netns_lan.Lan(TAG, 4, "10.213.%d" % (os.getpid() % 200 + 20))  # private range, only in our namespaces
HOSTS = LAN.hosts
CUT_HOST = HOSTS[3]
INTERVAL_MS = 300  # liveness round
PEERS_PER_HOST = 3


def cluster_file(path, bin_dir, work_dir, security):
    hosts = []
    for i, ns in enumerate(HOSTS):
        hosts.append('[[hosts]]\nname = "%s"\naddress = "%s"\nseeds = %d\npeers = %d\n'
                     % (ns, LAN.address(i), 1 if i < 3 else 0, PEERS_PER_HOST))
    text = """name = "lan"
security = "%s"
duration_s = 0
preset = "fast"
remote = "ip netns exec {host}"
bin_dir = "%s"
work_dir = "%s"
stagger_ms = 50
grace_s = 3

[node]
register_timeout_ms = 1000
reregister_interval_ms = 1000

[seed]
peer_ttl_ms = 4000

[overlay]
link_timeout_ms = 1000
refill_interval_ms = 300

[gossip]
count = 2000
interval_ms = 250
start_delay_ms = 1500

[liveness]
interval_ms = %d
max_misses = 3

%s""" % (security, bin_dir, work_dir, INTERVAL_MS, "\n".join(hosts))
    with open(path, "w") as f:
        f.write(text)


def node_logs(run_dir):
    with open(os.path.join(run_dir, "nodes.json")) as f:
        return json.load(f)


class LiveLog(LogTail):
    """A node's log on its host, read while the run goes on (the namespaces share this filesystem)."""

    def __init__(self, node):
        super().__init__(node["log"], parse=h.parse_checked)

    def events(self, name):
        return [l for l in self.read() if l.get("event") == name]


def wait(cond, timeout, what):
    return h.wait_until(cond, timeout, what, poll_s=0.1)


def test_a_lan_of_namespaces_forms_one_overlay_and_drops_a_cut_off_host(c):
    tmp, bin_dir = c.dir, c.bin_dir
    run_dir = os.path.join(tmp, "run")
    ok = False
    try:
        LAN.create()
        cluster = os.path.join(tmp, "cluster.toml")
        cluster_file(cluster, bin_dir, os.path.join(tmp, "hosts"), c.security)
        up = subprocess.run([sys.executable, LAUNCH, "up", cluster, "--detach", "--run-dir", run_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        print(up.stdout[-2000:])
        h.check(up.returncode == 0, "launch up failed (status %d)" % up.returncode)
        nodes = node_logs(run_dir)
        peers = {n["address"]: LiveLog(n) for n in nodes if n["role"] == "peer"}
        seeds = {n["address"]: LiveLog(n) for n in nodes if n["role"] == "seed"}
        host_of = {n["address"]: n["host"] for n in nodes}
        h.check(len(peers) == 4 * PEERS_PER_HOST and len(seeds) == 3, "nodes.json lists %r" % sorted(host_of))
        cut = {a for a in peers if host_of[a] == CUT_HOST}

        # Every node runs in the mode asked for; everyone joins, links across hosts, and gossips.
        wrong = [(a, l["security"]) for a, log in list(peers.items()) + list(seeds.items())
                 for l in log.events("started") if l["security"] != c.security]
        h.check(not wrong, "nodes not in security mode %s: %r" % (c.security, wrong))
        wait(lambda: all(p.events("joined") for p in peers.values()), 30, "every peer joined")
        # About four seconds of gossip from all 11 others before the cut.
        wait(lambda: all(len(p.events("gossip_recv")) >= 11 * 16 for p in peers.values()), 60,
             "every peer receiving gossip from the others")

        def cross_links(addr):
            return {b for b in h.links(peers[addr].read()) if host_of.get(b) != CUT_HOST}

        # Cut host 4 off the LAN.
        watchers = {a: cross_links(a) for a in cut}
        LAN.cut(CUT_HOST)
        cut_at = time.time()
        print("cut %s at %.3f; its peers' links to other hosts: %r" % (CUT_HOST, cut_at, watchers))
        mark = subprocess.run([sys.executable, LAUNCH, "mark", run_dir, "host_isolated", "host=" + CUT_HOST],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        h.check(mark.returncode == 0, "launch mark failed: %s" % mark.stdout)

        # Peers elsewhere that were linked to a cut peer detect it and report it; the seeds drop every cut peer.
        for a, links in watchers.items():
            for b in links:
                wait(lambda b=b, a=a: any(l["peer"] == a for l in peers[b].events("dead_detected")), 15,
                     "%s detecting %s dead" % (b, a))
        # Each seed a cut peer had registered with (2 of the 3) drops it.
        registered = {a: {s for s, log in seeds.items() if any(l["peer"] == a for l in log.events("registered"))}
                      for a in cut}
        for a in cut:
            h.check(len(registered[a]) >= 2, "%s registered with %r" % (a, registered[a]))
            for s in registered[a]:
                wait(lambda a=a, log=seeds[s]: any(l["peer"] == a for l in log.events("peer_removed")), 20,
                     "seed %s removing %s" % (s, a))
        removed_at = time.time()
        # New gossip for a while after the removals.
        wait(lambda: time.time() > removed_at + 6, 10, "six more seconds of gossip")
        stop_at = time.time()

        stop = subprocess.run([sys.executable, LAUNCH, "stop", run_dir], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=120)
        print(stop.stdout[-1500:])
        h.check(stop.returncode == 0, "launch stop failed (status %d)" % stop.returncode)
        agg = subprocess.run([sys.executable, AGGREGATE, run_dir], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=300)
        print(agg.stdout[-1500:])
        h.check(agg.returncode in (0, 1), "aggregate failed (status %d)" % agg.returncode)
        with open(os.path.join(run_dir, "report", "summary.json")) as f:
            summary = json.load(f)
        check_summary(summary, cut, watchers, registered, cut_at, removed_at, stop_at, host_of)
        ok = True
    finally:
        subprocess.run([sys.executable, LAUNCH, "stop", run_dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120) if os.path.exists(run_dir) else None
        leftovers = LAN.destroy()
        if not ok and os.path.isdir(run_dir):
            for name in sorted(os.listdir(os.path.join(run_dir, "logs")) if os.path.isdir(
                    os.path.join(run_dir, "logs")) else []):
                print("---- tail of %s" % name)
                with open(os.path.join(run_dir, "logs", name), "rb") as f:
                    print(b"\n".join(f.read().splitlines()[-15:]).decode(errors="replace"))
        if leftovers:
            raise h.TestFailure("namespaces left behind: %r" % leftovers)


def check_summary(s, cut, watchers, registered, cut_at, removed_at, stop_at, host_of):
    """What the aggregated report must state about this run."""
    created = lambda m: h.ts_us({"ts": m["created"]}) / 1e6  # noqa: E731
    others = {a for a in s["peers"] if a not in cut}
    h.check(len(others) == 3 * PEERS_PER_HOST, "summary peers: %r" % sorted(s["peers"]))
    h.check([x["host"] for x in s["isolations"]] == [CUT_HOST], "isolations: %r" % s["isolations"])
    # The report finds nothing wrong: every peer got every message it should have (a cut-off host is held
    # to nothing from the moment it is cut), no false or lost reports, no duplicates.
    h.check(s["ok"] and not s["problems"], "problems: %s" % json.dumps(s["problems"][:8], indent=1))
    # Before the cut: every message reached every other peer, on every host.
    before = [m for m in s["messages"] if created(m) < cut_at - 2.5]
    h.check(len(before) >= 4 * PEERS_PER_HOST, "only %d messages before the cut" % len(before))
    for m in before:
        h.check(m["expected"] == 4 * PEERS_PER_HOST - 1 and m["received"] == m["expected"],
                "before the cut %s#%s reached %d of %d" % (m["origin"], m["seq"], m["received"], m["expected"]))
    # The cut peers were reported dead by their neighbours on other hosts and removed by their seeds.
    for a, links in watchers.items():
        reporters = {r["reporter"] for r in s["dead_reports"] if r["peer"] == a}
        h.check(links <= reporters, "%s: reported dead by %r, expected at least its cross-host neighbours %r"
                % (a, sorted(reporters), sorted(links)))
    for a in cut:
        seeds_removing = {r["seed"] for r in s["removals"] if r["peer"] == a}
        h.check(registered[a] <= seeds_removing, "%s removed by %r, registered with %r"
                % (a, sorted(seeds_removing), sorted(registered[a])))
    # After the removals: every message from the other hosts reached every peer on the other hosts.
    # (Messages of the last 2.5 s are left out: peers stopping within the 2 s grace are not held to them.)
    after = [m for m in s["messages"] if removed_at < created(m) < stop_at - 2.5 and m["origin"] in others]
    h.check(len(after) >= len(others), "too few messages after the removals: %d" % len(after))
    for m in after:
        h.check(m["expected"] == len(others) - 1 and not m["missing"],
                "%s#%s after the cut: expected %d, missing %r" % (m["origin"], m["seq"], m["expected"], m["missing"]))
    for a in others:
        h.check(s["peers"][a]["received"] == s["peers"][a]["expected"], "%s: %r" % (a, s["peers"][a]))
    print("summary: %d messages (%d before the cut, %d after the removals), delivery_ratio %s, latency %r, "
          "%d dead reports, %d removals" % (len(s["messages"]), len(before), len(after), s["delivery_ratio"],
                                           s["latency_ms"], len(s["dead_reports"]), len(s["removals"])))


if __name__ == "__main__":
    why = netns_lan.why_not_possible()
    if why:
        print("SKIP: %s" % why)
        sys.exit(h.SKIP)
    h.main([test_a_lan_of_namespaces_forms_one_overlay_and_drops_a_cut_off_host],
           binaries=("gossip-seed", "gossip-peer", "gossip-ctl"))  # gossip-ctl makes the keys
