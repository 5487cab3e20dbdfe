"""harness.py — shared helpers for the system tests: real gossip-seed / gossip-peer processes on 127.0.0.1.

What it does: starts nodes from TOML configs (preset "fast") in a per-test temp dir, reads each node's log
with the strict logfmt parser (a malformed line fails the test), waits for conditions with deadlines, stops
every node it started (SIGTERM, then SIGKILL) and, when a test fails, prints the tail of every log. The
configs, processes, keys, parsing and overlay replay are the toolkit's (scripts/lib/toolkit/), as in
scripts/bench.

Security modes: every run is in one mode, main()'s `--security curve|none` (default curve); a test reads it
as cluster.security. In curve mode every node gets its own key for its exact addresses (so the harness picks
concrete ports where a test says port 0, and retries on a bind race), its .pub goes into the Cluster's one
trusted dir before it starts, and Cluster.ctl() speaks to those nodes as a member (the operator key,
127.0.0.1:1). A test whose overrides have a "security" section sets up its own security: the harness adds
none to that node, and ctl() adds no key for it.
A test file may declare the modes it runs in with a top-level line the CMake glob reads too:
    SECURITY_MODES = "curve"          (or "none"; "any" = starts no node, run once; absent = "curve none")
What it is not: a product model. Tests state their expectations themselves; this module only observes.
Standard library only; works with any python3 >= 3.8.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "scripts", "lib"))
from toolkit.keys import Keyring  # noqa: E402
from toolkit.local_nodes import LocalNode, free_port as free_port_on, stop_processes  # noqa: E402
from toolkit.logfmt import parse_line_strict, value_bytes  # noqa: E402,F401 (value_bytes: for the tests)
from toolkit.node_config import merge  # noqa: E402
from toolkit.overlay import components, distances, links, one_sided  # noqa: E402,F401 (for the tests)
from toolkit.timestamps import parse_ts  # noqa: E402

SKIP = 77  # ctest's SKIP_RETURN_CODE

# Robustness defaults layered over preset "fast" for tests that are not about these timers. The machine
# running the tests may be loaded (several builds at once, sanitizers): a 500 ms registration timeout or a
# 300 ms liveness round could then fire spuriously and make a test about something else fail. Tests that
# exercise a timer override it back explicitly.
ROBUST = {
    "node": {"register_timeout_ms": 2000},
    "overlay": {"link_timeout_ms": 2000},
    "liveness": {"interval_ms": 1000},
}

POLL_S = 0.05  # poll interval inside wait loops

# Curve mode: how often each node re-reads the trusted dir (the default is 1000 ms). Before a node starts,
# the harness waits until every running node has read its .pub: a REGISTER or LINK_REQUEST whose handshake
# a not-yet-reloaded node refused would wait for the 2 s register / link timeout instead. The wait is half
# this on average per node started (test_overlay_formation, 26 nodes: 4.2 s at 100 ms, 3.7 s at 50 ms,
# 3.3 s in mode none); checking a folder of a few dozen small files 20 times a second costs next to nothing.
TRUST_RELOAD_MS = 50
TRUST_WAIT_S = 3.0  # how long to wait for that; a paused node never reloads, and the start goes on without it
OPERATOR = "127.0.0.1:1"  # the address Cluster.ctl()'s key speaks for in curve mode (gossip-ctl's own default)
MODES = ("curve", "none")


class TestFailure(AssertionError):
    pass


def check(cond, message):
    """assert that survives python -O and carries a message."""
    if not cond:
        raise TestFailure(message)


def wait_until(cond, timeout, what, also=None, poll_s=POLL_S):
    """Polls cond() (truthy = done) until the deadline and returns its value; `also()`, called on each
    round, may raise to give up early. Fails with "no WHAT within T s" on timeout (`what` may be a function
    that says it then)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if also:
            also()
        if time.monotonic() > deadline:
            raise TestFailure("no %s within %.1f s" % (what() if callable(what) else what, timeout))
        time.sleep(poll_s)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close)."""
    return free_port_on("127.0.0.1")


def parse_checked(raw):
    """A log line parsed strictly (a node must never write a malformed one), its bytes kept as "_raw"."""
    try:
        d = parse_line_strict(raw)
    except ValueError as e:
        raise TestFailure("malformed log line (%s): %r" % (e, raw)) from None
    d["_raw"] = raw
    return d


def ts_us(line):
    """A parsed line's ts= as microseconds since the epoch (UTC)."""
    return parse_ts(line["ts"])


def split_list(v):
    """A comma-separated address list field ("" means empty)."""
    return [x for x in v.split(",") if x] if v else []


# ---- nodes -----------------------------------------------------------------------------------------------


class Node(LocalNode):
    """One started process and its log, with the lookups and waits the tests use."""

    def __init__(self, cluster, name, role, sections):
        self.asked = sections     # the sections as the test gave them, before the harness chose ports and keys
        self.picked = False       # the harness chose a port for it (curve mode), so a bind race may be retried
        self.keyed = False        # it has the harness's key and reads the Cluster's trusted dir (curve mode)
        super().__init__(cluster.bin_dir, role, name, cluster.dir, cluster.secure(name, self, sections),
                         parse=parse_checked)
        self.control = None       # control endpoint "IP:port" if any
        self.returncode = None    # set by Cluster.stop_all
        self.killed = False       # needed SIGKILL

    def __repr__(self):
        return "%s(%s)" % (self.name, self.addr or "?")

    def lines(self):
        """Every complete log line so far, parsed (a growing list; read incrementally)."""
        try:
            return self.log.read()
        except TestFailure as e:
            raise TestFailure("%s: %s" % (self.name, e)) from None

    def events(self, name, **match):
        """Lines with event=name whose fields equal the given values."""
        return [l for l in self.lines() if l.get("event") == name and all(l.get(k) == v for k, v in match.items())]

    def first(self, name, **match):
        ev = self.events(name, **match)
        return ev[0] if ev else None

    def wait_for(self, pred, timeout, what, count=1):
        """Polls until at least `count` lines satisfy pred (a function of a parsed line, or an event name);
        returns all matching lines. Fails on timeout or if the node exits meanwhile."""
        if isinstance(pred, str):
            name = pred
            pred = lambda l: l.get("event") == name  # noqa: E731
        found = []

        def enough():
            found[:] = [l for l in self.lines() if pred(l)]
            return len(found) >= count

        def exited():
            if not self.alive() and not enough():
                raise TestFailure("%s exited (status %s) while waiting for %s" % (self, self.proc.poll(), what))
        wait_until(enough, timeout, lambda: "%s at %s (found %d of %d)" % (what, self, len(found), count),
                   also=exited)
        return found


class Cluster:
    """The processes one test starts, in one temp dir; stop_all() ends them (main() calls it after each test).
    security: "curve" or "none" (the run's mode), or None for tests that start no node."""

    def __init__(self, bin_dir, test_name, keep=False, security="curve"):
        self.bin_dir = bin_dir
        self.dir = tempfile.mkdtemp(prefix="gossip-%s-" % test_name[:40])
        self.keep = keep
        self.security = security
        self.nodes = []
        self.seeds = []
        self.peers = []
        self._count = {"seed": 0, "peer": 0}
        self.keyring = None       # curve: every member's key, and the one trusted dir all nodes read
        self.operator = None      # curve: Cluster.ctl()'s own key, a member like the nodes
        if security == "curve" and os.access(self.bin("gossip-ctl"), os.X_OK):
            self.keyring = Keyring(self.bin("gossip-ctl"), os.path.join(self.dir, "keys"),
                                   os.path.join(self.dir, "trusted"), trust_reload_interval_ms=TRUST_RELOAD_MS)
            # Made before any node starts, so every node trusts it from its first moment.
            self.operator = self.keyring.member("operator", [OPERATOR])

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    @property
    def trusted_dir(self):
        """Curve mode: the folder of every member's .pub (None in mode none)."""
        return self.keyring.trusted_dir if self.keyring else None

    def _claimed_ports(self):
        """Ports some member's key speaks for (curve mode): not to be handed to a new node."""
        return self.keyring.claimed_ports() if self.keyring else set()

    def secure(self, name, node, sections):
        """The sections a node is started with: in curve mode, port 0 in node.listen / node.control replaced
        by a free port (node.picked is then set), a key for the node's exact addresses (its advertised one
        first, then its control endpoint) and a [security] section. Unchanged in mode none, and when the test
        gave a "security" section itself."""
        if self.security != "curve" or "security" in sections:
            return sections
        if self.keyring is None:
            raise TestFailure("security mode curve needs %s to make keys" % self.bin("gossip-ctl"))
        keyed = [n for n in self.nodes if n.keyed]
        self.keyring.await_first_read(keyed, TRUST_WAIT_S)  # no new .pub while a node is starting (see there)
        sections, node.picked = self.keyring.secure(name, sections)
        behind = self.keyring.await_trust(keyed, TRUST_WAIT_S)
        if behind:
            print("  (%s had not read the trusted dir's %d keys after %.0f s; starting anyway)"
                  % (", ".join(map(repr, behind)), self.keyring.trusted_count(), TRUST_WAIT_S))
        node.keyed = True
        return sections

    # -- starting --------------------------------------------------------------------------------------

    def _spawn(self, role, sections, name=None):
        self._count[role] += 1
        node = Node(self, name or "%s%d" % (role, self._count[role]), role, sections)
        self.nodes.append(node)
        return node

    def _await_started(self, node, timeout=15):
        """True once the node logged `started` (node.addr and node.control are then set); False if it exited."""
        def started_or_gone():
            if node.started_line():
                cl = node.first("control_listening") if node.role == "peer" else None
                node.control = cl["control"] if cl else None
                return "started"
            return None if node.alive() else "gone"
        state = wait_until(started_or_gone, timeout, "`started` line from %s" % node.name, poll_s=0.02)
        return state == "started"

    def start_seed(self, overrides=None, port=None, name=None):
        """Starts a seed on 127.0.0.1:port (a free port if None; retried on a bind race)."""
        for attempt in range(5):
            p = port or free_port_on("127.0.0.1", avoid=self._claimed_ports())
            node = self._spawn("seed", merge(ROBUST, {"node": {"listen": "127.0.0.1:%d" % p}}, overrides),
                               name=name)
            if self._await_started(node):
                self.seeds.append(node)
                return node
            node.proc.wait()
            self.nodes.remove(node)
            if port is not None or "cannot bind" not in node.stderr():
                raise TestFailure("seed %s failed to start: %s" % (node.name, node.stderr()))
            self._count["seed"] -= 1
        raise TestFailure("could not find a free port for a seed")

    def start_seeds(self, n, overrides=None):
        return [self.start_seed(overrides) for _ in range(n)]

    def spawn_peer(self, seeds=None, overrides=None, control=False):
        """Starts a peer without waiting for it (listen port 0: the node picks a free port itself).
        `seeds`: Node objects or "IP:port" strings (default: every seed started so far).
        `control`: give it a control endpoint (a free port chosen by the node)."""
        seeds = self.seeds if seeds is None else seeds
        seed_addrs = [s.addr if isinstance(s, Node) else s for s in seeds]
        node_keys = {"listen": "127.0.0.1:0", "seeds": seed_addrs}
        if control:
            node_keys["control"] = "127.0.0.1:0"
        node = self._spawn("peer", merge(ROBUST, {"node": node_keys}, overrides))
        self.peers.append(node)
        return node

    def started(self, node, timeout=15):
        """Waits for a spawned node's `started` line (sets node.addr). A node whose port the harness picked
        (curve mode) and someone else took meanwhile is started again on other ports."""
        for attempt in range(5):
            if self._await_started(node, timeout):
                return node
            node.proc.wait()
            if not node.picked or "cannot bind" not in node.stderr():
                break
            node.start(self.secure(node.name, node, node.asked))
        raise TestFailure("%s exited at start (status %s): %s" % (node.name, node.proc.poll(), node.stderr()))

    def start_peer(self, seeds=None, overrides=None, control=False):
        return self.started(self.spawn_peer(seeds, overrides, control))

    # -- observing -------------------------------------------------------------------------------------

    def wait_until(self, cond, timeout, what):
        """Polls cond() (truthy = done) until the deadline; returns its value. Fails if a node died."""
        def none_dead():
            dead = [n for n in self.nodes if not n.alive()]
            if dead:
                raise TestFailure("while waiting for %s: %s exited" % (what, ", ".join(
                    "%s (status %s)" % (n, n.proc.poll()) for n in dead)))
        return wait_until(cond, timeout, what, also=none_dead)

    def assert_alive(self, nodes=None):
        for n in nodes or self.nodes:
            check(n.alive(), "%s (pid %d) is not running (status %s)" % (n, n.pid, n.proc.poll()))

    def ctl(self, *args, timeout=30, input_bytes=None, as_member=True):
        """Runs gossip-ctl; returns CompletedProcess with bytes stdout/stderr. In curve mode `publish` and
        `send` to a node the harness gave a key go as the operator (--key, --trusted-dir), unless the test
        passes a key option itself or as_member=False (a client without a key)."""
        argv = [str(a) for a in args]
        to = argv[argv.index("--to") + 1] if "--to" in argv[:-1] else None
        if (as_member and self.operator and argv[:1] in (["publish"], ["send"])
                and to in self.keyring.claimed() and not {"--key", "--server-key", "--trusted-dir"} & set(argv)):
            argv[1:1] = ["--key", self.operator.key_file, "--trusted-dir", self.keyring.trusted_dir]
        return subprocess.run([self.bin("gossip-ctl")] + argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, input=input_bytes, timeout=timeout)

    # -- stopping --------------------------------------------------------------------------------------

    def stop_all(self, grace=8.0):
        """SIGTERM to every running node, SIGKILL to any still running after `grace` seconds; reaps all."""
        killed = stop_processes([n.proc for n in self.nodes], grace)
        for n in self.nodes:
            n.killed = n.killed or n.proc in killed
            n.returncode = n.proc.returncode

    def check_clean_exit(self):
        """After stop_all: every node exited 0 on SIGTERM and its stderr has no sanitizer report."""
        problems = []
        for n in self.nodes:
            if n.killed:
                problems.append("%s did not exit within the grace period after SIGTERM (killed)" % n)
            elif n.returncode != 0:
                problems.append("%s exited with status %s" % (n, n.returncode))
            err = n.stderr()
            if "AddressSanitizer" in err or "runtime error:" in err or "LeakSanitizer" in err:
                problems.append("%s: sanitizer report on stderr:\n%s" % (n, err[-3000:]))
        check(not problems, "\n".join(problems))

    def dump(self, n=40):
        print("---- test dir: %s" % self.dir)
        for node in self.nodes:
            print("---- last %d log lines of %s (pid %d, %s)" % (
                n, node, node.pid, "running" if node.alive() else "exit %s" % node.proc.returncode))
            for line in node.tail(n):
                print("  " + line)
            err = node.stderr().strip()
            if err:
                print("  [stderr] " + "\n  [stderr] ".join(err.splitlines()[-n:]))
        sys.stdout.flush()

    def cleanup(self, ok):
        if ok and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---- overlay reconstruction ------------------------------------------------------------------------------


def overlay(peers):
    """{addr: set(neighbour addrs)} for the given peers, from their logs."""
    return {p.addr: links(p.lines()) for p in peers}


def settled_overlay(peers):
    """The overlay if it is symmetric, connected and every peer has a neighbour; else None."""
    g = overlay(peers)
    if one_sided(g) or len(components(g)) != 1 or any(not nb for nb in g.values()):
        return None
    return g


def wait_settled_overlay(cluster, peers, timeout, quiet=0.6):
    """Waits until the overlay is settled (see settled_overlay) and has not changed for `quiet` seconds;
    returns it. Links that are still being traded or requested would show up as a change."""
    state = {"g": None, "since": None}

    def stable():
        g = settled_overlay(peers)
        now = time.monotonic()
        if g is None or g != state["g"]:
            state["g"], state["since"] = g, now
            return None
        return g if now - state["since"] >= quiet else None

    return cluster.wait_until(stable, timeout, "a symmetric, connected overlay, unchanged for %.1f s" % quiet)


# ---- runner ----------------------------------------------------------------------------------------------


def declared_modes():
    """The security modes the running test file declares (its SECURITY_MODES line), as a list."""
    return getattr(sys.modules["__main__"], "SECURITY_MODES", " ".join(MODES)).split()


def main(tests, binaries=("gossip-seed", "gossip-peer", "gossip-ctl"), argument=lambda cluster: cluster):
    """Runs each test function in its own Cluster, passing it argument(cluster) if it takes an argument;
    exits 0 if all pass, 1 if any fails, 77 if one of `binaries` is missing from --bin or the file does not
    run in the --security mode asked for."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=bool(binaries), help="directory with %s" % ", ".join(binaries or ["-"]))
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs of passing tests")
    ap.add_argument("--security", choices=MODES, default="curve",
                    help="the nodes' security mode (default curve): keys and a trust store, or none")
    args = ap.parse_args()
    bin_dir = os.path.abspath(args.bin or ".")
    missing = [b for b in binaries if not os.access(os.path.join(bin_dir, b), os.X_OK)]
    if missing:
        print("SKIP: %s not found in %s" % (", ".join(missing), bin_dir))
        sys.exit(SKIP)
    modes = declared_modes()
    security = None if modes == ["any"] else args.security
    if security and security not in modes:
        print("SKIP: this file runs in security mode %s only, not %s" % (" and ".join(modes), security))
        sys.exit(SKIP)
    if security:
        print("security mode %s" % security)
    selected = [t for t in tests if args.k in t.__name__]
    failed = 0
    for t in selected:
        cluster = Cluster(bin_dir, t.__name__, keep=args.keep, security=security)
        t0 = time.monotonic()
        ok = False
        print("RUN  %s" % t.__name__, flush=True)
        try:
            try:
                t(argument(cluster)) if t.__code__.co_argcount else t()
            finally:
                cluster.stop_all()
            cluster.check_clean_exit()
            ok = True
        except Exception:  # noqa: BLE001 - report any failure, including harness errors
            traceback.print_exc(file=sys.stdout)
            cluster.dump()
        finally:
            cluster.stop_all()  # idempotent; covers KeyboardInterrupt paths too
            cluster.cleanup(ok)
        dt = time.monotonic() - t0
        print("%s %s (%.1f s)" % ("PASS" if ok else "FAIL", t.__name__, dt), flush=True)
        failed += not ok
    print("%d passed, %d failed" % (len(selected) - failed, failed))
    sys.exit(1 if failed else 0)
