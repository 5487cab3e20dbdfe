"""harness.py — shared helpers for the system tests: real gossip-seed / gossip-peer processes on 127.0.0.1.

What it does: writes node TOML configs (preset "fast"), starts processes (PIDs and stdout/stderr recorded
in a per-test temp dir), reads and parses each node's logfmt log, waits for conditions with deadlines,
stops every node it started (SIGTERM, then SIGKILL) and, when a test fails, prints the tail of every log.
What it is not: a product model. Tests state their expectations themselves; this module only observes.
Standard library only; works with any python3 >= 3.8.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "scripts", "lib"))
# A node must never write a line log.cpp would not: the strict parser makes one fail the test.
from toolkit.logfmt import parse_line_strict as parse_logfmt, value_bytes  # noqa: E402,F401 (value_bytes: tests)
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


class TestFailure(AssertionError):
    pass


def check(cond, message):
    """assert that survives python -O and carries a message."""
    if not cond:
        raise TestFailure(message)


# ---- ports -----------------------------------------------------------------------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- logfmt ----------------------------------------------------------------------------------------------

def ts_us(line):
    """A parsed line's ts= as microseconds since the epoch (UTC)."""
    return parse_ts(line["ts"])


def split_list(v):
    """A comma-separated address list field ("" means empty)."""
    return [x for x in v.split(",") if x] if v else []


# ---- nodes -----------------------------------------------------------------------------------------------


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        # A TOML basic string; every escape json.dumps emits (\" \\ \n \uXXXX ...) is valid TOML.
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError("no TOML form for %r" % (v,))


def merge(*layers):
    out = {}
    for layer in layers:
        for section, keys in (layer or {}).items():
            out.setdefault(section, {}).update(keys)
    return out


def write_config(path, sections, preset="fast"):
    lines = ['preset = "%s"' % preset] if preset else []
    for section, keys in sections.items():
        lines.append("")
        lines.append("[%s]" % section)
        for k, v in keys.items():
            lines.append("%s = %s" % (k, toml_value(v)))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


class Node:
    """One started process and its log."""

    def __init__(self, cluster, name, role, proc, workdir, config_path):
        self.cluster = cluster
        self.name = name          # "seed1", "peer3" (for messages)
        self.role = role          # "seed" or "peer"
        self.proc = proc
        self.pid = proc.pid
        self.workdir = workdir    # the node's own log_dir
        self.config_path = config_path
        self.addr = None          # advertised "IP:port", known once `started` is logged
        self.control = None       # control endpoint "IP:port" if any
        self.log_path = None
        self.returncode = None    # set by Cluster.stop_all
        self.killed = False       # needed SIGKILL
        self._lines = []
        self._offset = 0
        self._partial = b""

    def __repr__(self):
        return "%s(%s)" % (self.name, self.addr or "?")

    def alive(self):
        return self.proc.poll() is None

    def _find_log(self):
        if self.log_path is None:
            names = [n for n in os.listdir(self.workdir) if n.startswith(self.role + "-") and n.endswith(".log")]
            if names:
                self.log_path = os.path.join(self.workdir, names[0])
        return self.log_path

    def lines(self):
        """Every complete log line so far, parsed (a growing list; read incrementally)."""
        path = self._find_log()
        if path is None:
            return self._lines
        with open(path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        self._offset += len(data)
        data = self._partial + data
        parts = data.split(b"\n")
        self._partial = parts.pop()
        for raw in parts:
            if not raw:
                continue
            try:
                d = parse_logfmt(raw)
            except ValueError as e:
                raise TestFailure("%s: malformed log line (%s): %r" % (self.name, e, raw))
            d["_raw"] = raw
            self._lines.append(d)
        return self._lines

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
        deadline = time.monotonic() + timeout
        while True:
            found = [l for l in self.lines() if pred(l)]
            if len(found) >= count:
                return found
            if not self.alive():
                found = [l for l in self.lines() if pred(l)]
                if len(found) >= count:
                    return found
                raise TestFailure("%s exited (status %s) while waiting for %s" % (self, self.proc.poll(), what))
            if time.monotonic() > deadline:
                raise TestFailure("%s: no %s within %.1f s (found %d of %d)" % (self, what, timeout, len(found), count))
            time.sleep(POLL_S)

    def tail(self, n=40):
        lines = []
        path = self._find_log()
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()[-n:]
        return lines


class Cluster:
    """The processes one test starts, in one temp dir. Use as a context manager or call stop_all()."""

    def __init__(self, bin_dir, test_name, keep=False):
        self.bin_dir = bin_dir
        self.dir = tempfile.mkdtemp(prefix="gossip-%s-" % test_name[:40])
        self.keep = keep
        self.nodes = []
        self.seeds = []
        self.peers = []
        self._count = {"seed": 0, "peer": 0}

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    # -- starting --------------------------------------------------------------------------------------

    def _spawn(self, role, sections, name=None):
        self._count[role] += 1
        name = name or "%s%d" % (role, self._count[role])
        workdir = os.path.join(self.dir, name)
        os.makedirs(workdir, exist_ok=True)
        sections = merge(sections, {"node": {"log_dir": workdir, "console": False}})
        cfg = os.path.join(self.dir, name + ".toml")
        write_config(cfg, sections)
        out = open(os.path.join(self.dir, name + ".stdout"), "wb")
        err = open(os.path.join(self.dir, name + ".stderr"), "wb")
        try:
            proc = subprocess.Popen([self.bin("gossip-" + role), "--config", cfg], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL)
        finally:
            out.close()
            err.close()
        node = Node(self, name, role, proc, workdir, cfg)
        self.nodes.append(node)
        return node

    def _await_started(self, node, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            st = node.first("started")
            if st:
                node.addr = st["advertise"]
                if node.role == "peer":
                    cl = node.first("control_listening")
                    if cl:
                        node.control = cl["control"]
                return True
            if not node.alive():
                return False
            if time.monotonic() > deadline:
                raise TestFailure("%s did not log `started` within %d s" % (node.name, timeout))
            time.sleep(0.02)

    def stderr_of(self, node):
        with open(os.path.join(self.dir, node.name + ".stderr"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start_seed(self, overrides=None, port=None, name=None):
        """Starts a seed on 127.0.0.1:port (a free port if None; retried on a bind race)."""
        for attempt in range(5):
            p = port or free_port()
            node = self._spawn("seed", merge(ROBUST, {"node": {"listen": "127.0.0.1:%d" % p}}, overrides),
                               name=name)
            if self._await_started(node):
                self.seeds.append(node)
                return node
            node.proc.wait()
            self.nodes.remove(node)
            if port is not None or "cannot bind" not in self.stderr_of(node):
                raise TestFailure("seed %s failed to start: %s" % (node.name, self.stderr_of(node)))
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
        """Waits for a spawned node's `started` line (sets node.addr)."""
        if not self._await_started(node, timeout):
            raise TestFailure("%s exited at start (status %s): %s" % (node.name, node.proc.poll(), self.stderr_of(node)))
        return node

    def start_peer(self, seeds=None, overrides=None, control=False):
        return self.started(self.spawn_peer(seeds, overrides, control))

    # -- observing -------------------------------------------------------------------------------------

    def by_addr(self):
        return {n.addr: n for n in self.nodes if n.addr}

    def wait_until(self, cond, timeout, what):
        """Polls cond() (truthy = done) until the deadline; returns its value. Fails if a node died."""
        deadline = time.monotonic() + timeout
        while True:
            v = cond()
            if v:
                return v
            dead = [n for n in self.nodes if not n.alive()]
            if dead:
                raise TestFailure("while waiting for %s: %s exited" % (what, ", ".join(
                    "%s (status %s)" % (n, n.proc.poll()) for n in dead)))
            if time.monotonic() > deadline:
                raise TestFailure("no %s within %.1f s" % (what, timeout))
            time.sleep(POLL_S)

    def assert_alive(self, nodes=None):
        for n in nodes or self.nodes:
            check(n.alive(), "%s (pid %d) is not running (status %s)" % (n, n.pid, n.proc.poll()))

    def ctl(self, *args, timeout=30, input_bytes=None):
        """Runs gossip-ctl; returns CompletedProcess with bytes stdout/stderr."""
        return subprocess.run([self.bin("gossip-ctl")] + [str(a) for a in args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, input=input_bytes, timeout=timeout)

    # -- stopping --------------------------------------------------------------------------------------

    def stop_all(self, grace=8.0):
        """SIGTERM to every running node, SIGKILL to any still running after `grace` seconds; reaps all."""
        for n in self.nodes:
            if n.alive():
                try:
                    n.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for n in self.nodes:
            try:
                n.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                n.killed = True
                n.proc.kill()
                n.proc.wait()
            n.returncode = n.proc.returncode

    def check_clean_exit(self):
        """After stop_all: every node exited 0 on SIGTERM and its stderr has no sanitizer report."""
        problems = []
        for n in self.nodes:
            if n.killed:
                problems.append("%s did not exit within the grace period after SIGTERM (killed)" % n)
            elif n.returncode != 0:
                problems.append("%s exited with status %s" % (n, n.returncode))
            err = self.stderr_of(n)
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
            err = self.stderr_of(node).strip()
            if err:
                print("  [stderr] " + "\n  [stderr] ".join(err.splitlines()[-n:]))
        sys.stdout.flush()

    def cleanup(self, ok):
        if ok and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---- overlay reconstruction ------------------------------------------------------------------------------


def links_of(node):
    """The node's current neighbour set, replayed from its neighbour_up / neighbour_down lines."""
    cur = set()
    for l in node.lines():
        if l.get("event") == "neighbour_up":
            cur.add(l["peer"])
        elif l.get("event") == "neighbour_down":
            cur.discard(l["peer"])
    return cur


def overlay(peers):
    """{addr: set(neighbour addrs)} for the given peers, from their logs."""
    return {p.addr: links_of(p) for p in peers}


def asymmetric_links(graph):
    """Links one side has and the other does not: [(a, b)] where b in graph[a] but a not in graph[b]."""
    return [(a, b) for a, nb in graph.items() for b in nb if a not in graph.get(b, set())]


def components(graph):
    seen, comps = set(), []
    for start in graph:
        if start in seen:
            continue
        comp, todo = set(), [start]
        while todo:
            v = todo.pop()
            if v in comp:
                continue
            comp.add(v)
            todo.extend(w for w in graph.get(v, ()) if w in graph and w not in comp)
        seen |= comp
        comps.append(comp)
    return comps


def settled_overlay(peers):
    """The overlay if it is symmetric, connected and every peer has a neighbour; else None."""
    g = overlay(peers)
    if asymmetric_links(g) or len(components(g)) != 1 or any(not nb for nb in g.values()):
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


def main(tests):
    """Runs each test function f(cluster) in its own Cluster; exits 0 if all pass, 1 if any fails,
    77 if the binaries are missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with gossip-seed, gossip-peer, gossip-ctl")
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs of passing tests")
    args = ap.parse_args()
    bin_dir = os.path.abspath(args.bin)
    missing = [b for b in ("gossip-seed", "gossip-peer", "gossip-ctl")
               if not os.access(os.path.join(bin_dir, b), os.X_OK)]
    if missing:
        print("SKIP: %s not found in %s" % (", ".join(missing), bin_dir))
        sys.exit(SKIP)
    selected = [t for t in tests if args.k in t.__name__]
    failed = 0
    for t in selected:
        cluster = Cluster(bin_dir, t.__name__, keep=args.keep)
        t0 = time.monotonic()
        ok = False
        print("RUN  %s" % t.__name__, flush=True)
        try:
            try:
                t(cluster)
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
