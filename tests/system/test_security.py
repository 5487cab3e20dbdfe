"""Security mode curve (protocol version 2) under attack, with real processes: 2 seeds and 3 to 4 peers, every
node's key in one shared trusted_dir. An outsider (an untrusted CURVE key, a client without CURVE, raw TCP
junk) gets nothing done and costs no memory; a member speaking in another member's name is refused before
the protocol sees it; a member's GOSSIP with a forged origin is rejected and goes no further; a key deleted
from trusted_dir is shut out within one re-read. Each test also shows the cluster still gossips afterwards.
The tests set [security] themselves, so they do not depend on the harness's default mode."""

SECURITY_MODES = "curve"  # every test sets its own [security]: curve, against outsiders and members

import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

RELOAD_MS = 500        # security.trust_reload_interval_ms in these tests
HANDSHAKE_S = 3.0      # net::kHandshakeMs: an unfinished handshake is dropped after this
# Scheduling slack on a loaded machine (2 cores shared with builds), allowed on top of a bound and reported.
SLACK_S = 1.5
RSS_BUDGET_KIB = 8 * 1024
UNTRUSTED = 15         # gossip-ctl runs with an untrusted key per node in the memory test
BASE = {"gossip": {"count": 0}}  # no gossip of their own: every message in these tests is one we publish


# ---- keys and the cluster ------------------------------------------------------------------------------


class Key:
    """One member's (or outsider's) key pair on disk."""

    def __init__(self, name, addr, base):
        self.name = name
        self.addr = addr            # the one address it speaks for (gossip-ctl's sender with --key)
        self.key = base + ".key"
        self.pub = base + ".pub"
        with open(self.pub, encoding="utf-8") as f:
            self.curve = re.search(r'^curve_public = "(.*)"$', f.read(), re.M).group(1)  # Z85, as logged

    def __repr__(self):
        return "%s(%s)" % (self.name, self.addr)


class Members:
    """The keys of one test: attack-keys/ holds every key pair, attack-trusted/ the .pub files every node
    trusts (names of their own: the harness keeps its keys in keys/ and trusted/ of the same folder)."""

    def __init__(self, c):
        self.c = c
        self.keys_dir = os.path.join(c.dir, "attack-keys")
        self.trusted = os.path.join(c.dir, "attack-trusted")
        os.makedirs(self.keys_dir)
        os.makedirs(self.trusted)

    def keygen(self, name, addr, trusted=True):
        base = os.path.join(self.keys_dir, name)
        r = self.c.ctl("keygen", "--out", base, "--address", addr)
        h.check(r.returncode == 0, "keygen %s %s: %s" % (name, addr, r.stderr.decode(errors="replace")))
        if trusted:
            shutil.copy(base + ".pub", os.path.join(self.trusted, name + ".pub"))
        return Key(name, addr, base)

    def revoke(self, key):
        os.remove(os.path.join(self.trusted, key.name + ".pub"))

    def security(self, key):
        return {"security": {"mode": "curve", "key_file": key.key, "trusted_dir": self.trusted,
                             "sign_origins": True, "trust_reload_interval_ms": RELOAD_MS}}


def distinct_free_ports(n):
    ports = []
    for _ in range(20 * n):
        p = h.free_port()
        if p not in ports:
            ports.append(p)
        if len(ports) == n:
            return ports
    raise h.TestFailure("could not find %d distinct free ports" % n)


def start_curve_network(c, n_peers, overrides=None, operators=("op",), spares=2):
    """2 seeds that know each other and n_peers peers with control endpoints, all in curve mode; every key
    (seeds, peers, operators: gossip-ctl clients that are members) is in trusted/ before anyone starts, so
    no member is ever refused. Returns (members, seeds, peers, operators {name: Key}, spare addresses nobody
    listens on, the settled overlay). Each node gets .key (its Key)."""
    m = Members(c)
    ports = distinct_free_ports(2 + n_peers + len(operators) + spares)
    addrs = ["127.0.0.1:%d" % p for p in ports]
    seed_keys = [m.keygen("seed%d" % (i + 1), addrs[i]) for i in range(2)]
    peer_keys = [m.keygen("peer%d" % (i + 1), addrs[2 + i]) for i in range(n_peers)]
    ops = {name: m.keygen(name, addrs[2 + n_peers + i]) for i, name in enumerate(operators)}
    spare = addrs[2 + n_peers + len(operators):]
    overrides = h.merge(BASE, overrides)
    seeds = []
    for k, port in zip(seed_keys, ports):
        s = c.start_seed(h.merge(overrides, m.security(k), {"node": {"seeds": [x.addr for x in seed_keys]}}),
                         port=port, name=k.name)
        s.key = k
        seeds.append(s)
    peers = []
    for i, k in enumerate(peer_keys):
        p = c.spawn_peer(overrides=h.merge(overrides, m.security(k), {"node": {"listen": k.addr}}), control=True)
        p.key = k
        c.started(p)
        h.check(p.addr == k.addr, "%s advertises %s, its key names %s" % (p.name, p.addr, k.addr))
        p.wait_for("joined", 20, "joined")
        if i > 0:
            p.wait_for("neighbour_up", 20, "neighbour_up")
        peers.append(p)
    for n in seeds + peers:
        line = n.first("started")
        h.check(line.get("security") == "curve", "%s started with security=%s" % (n, line.get("security")))
    graph = h.wait_settled_overlay(c, peers, 20)
    return m, seeds, peers, ops, spare, graph


# ---- gossip-ctl --------------------------------------------------------------------------------------------


def ctl_send_args(to, frames, key=None, server=None, timeout_ms=1000):
    """gossip-ctl arguments for one `send`: with key and server (Key objects) over CURVE, else plain."""
    args = ["send", "--to", to, "--timeout-ms", timeout_ms]
    if key:
        args += ["--key", key.key, "--server-key", server.pub]
    return args + list(frames)


def ctl_many(c, jobs, timeout=30):
    """Runs several gossip-ctl commands at once (each has its own connection and routing id); returns
    [(args, returncode, stdout, stderr)] in order. Any still running at the deadline is killed by PID."""
    procs = [(args, subprocess.Popen([c.bin("gossip-ctl")] + [str(a) for a in args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)) for args in jobs]
    out = []
    deadline = time.monotonic() + timeout
    try:
        for args, p in procs:
            try:
                so, se = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                so, se = p.communicate()
                raise h.TestFailure("gossip-ctl %r did not finish within %d s" % (args[:6], timeout))
            out.append((args, p.returncode, so.decode(errors="replace"), se.decode(errors="replace")))
    finally:
        for _, p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


def publish(c, via, payload, client, required=True):
    """Publishes payload through peer `via`'s control endpoint as member `client` (a Key); returns gossip-ctl's
    output. A refusal or no answer fails the test, or returns None when not `required`."""
    r = c.ctl("publish", "--to", via.control, "--message", payload, "--key", client.key, "--server-key", via.key.pub,
              "--timeout-ms", 5000)
    if r.returncode != 0 and not required:
        return None
    h.check(r.returncode == 0, "publish %r via %s as %s failed (%s): %s"
            % (payload, via, client, r.returncode, r.stderr.decode(errors="replace")))
    return r.stdout.decode()


def wait_delivered(receivers, payload, timeout=15, origin=None):
    """Every receiver logs gossip_recv of payload exactly once (with that origin, if given)."""
    want = payload.encode()
    for r in receivers:
        got = r.wait_for(lambda l: l.get("event") == "gossip_recv" and h.value_bytes(l["msg"]) == want, timeout,
                         "gossip_recv of %r" % payload)
        h.check(len(got) == 1, "%s logged %r %d times" % (r, payload, len(got)))
        if origin:
            h.check(got[0]["origin"] == origin, "%s: %r arrived with origin=%s, not %s"
                    % (r, payload, got[0]["origin"], origin))


def gossips_normally(c, peers, client, tag):
    """A message published through the first peer reaches every other one."""
    payload = "%s-%d" % (tag, time.time_ns())
    publish(c, peers[0], payload, client)
    wait_delivered(peers[1:], payload)


def now_us():
    return str(time.time_ns() // 1000)


def gossip_frames(sender, origin, seq, body, signature=""):
    return ["GSP2", "GOSSIP", sender, origin, str(seq), now_us(), "0", body, signature]


def random_signature():
    return "hex:" + os.urandom(64).hex()


# ---- looking at logs ---------------------------------------------------------------------------------------


def marks(nodes):
    """How many lines each node had logged: the start of "what happened since"."""
    return {n.name: len(n.lines()) for n in nodes}


def since(node, mark, name=None):
    lines = node.lines()[mark[node.name]:]
    return [l for l in lines if name is None or l.get("event") == name]


def wait_new(node, mark, pred, timeout, what, count=1):
    """node.wait_for over the lines logged since mark only."""
    old = {id(l) for l in node.lines()[:mark[node.name]]}
    return node.wait_for(lambda l: id(l) not in old and pred(l), timeout, what, count)


def raw(line):
    r = line["_raw"]
    return r.decode("utf-8", "replace") if isinstance(r, bytes) else r


def check_none(nodes, mark, pred, what):
    """No node logged, since mark, a line matching pred; the failure lists them, node by node."""
    bad = ["%s: %s" % (n, raw(l)) for n in nodes for l in since(n, mark) if pred(l)]
    h.check(not bad, "%s (%d lines):\n  %s" % (what, len(bad), "\n  ".join(bad[:12])))


def names(line, addr):
    """The line names this address in one of its fields (lists included)."""
    return any(k not in ("ts", "node", "_raw") and (v == addr or addr in h.split_list(v))
               for k, v in line.items() if isinstance(v, str))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise h.TestFailure("no VmRSS for pid %d" % pid)


# ---- raw TCP: what an outsider without libzmq sends ------------------------------------------------------


def zmtp_greeting(mechanism):
    """A ZMTP 3.0 greeting: signature, version 3.0, mechanism, as-server 0, filler."""
    return b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + mechanism.ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


def zmtp_frame(body, more=False, command=False, declared=None):
    """One ZMTP 3 frame; `declared` claims another length than the body's (a huge one, say)."""
    n = len(body) if declared is None else declared
    flags = (0x01 if more else 0) | (0x04 if command else 0)
    if n > 255:
        return bytes([flags | 0x02]) + struct.pack(">Q", n) + body
    return bytes([flags, n]) + body


def zmtp_null_client(frames):
    """A complete NULL-mechanism client: greeting, READY (Socket-Type DEALER), then the message."""
    ready = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
    out = zmtp_greeting(b"NULL") + zmtp_frame(ready, command=True)
    for i, f in enumerate(frames):
        out += zmtp_frame(f, more=i + 1 < len(frames))
    return out


def zmtp1_message(frames):
    """The same message in the unversioned ZMTP 1.0 framing (length including the flags byte, flags, body),
    after an empty identity frame: what libzmq takes for an old peer when the first byte is not 0xff."""
    out = b""
    for i, f in enumerate([b""] + frames):
        n = len(f) + 1
        length = bytes([n]) if n < 255 else b"\xff" + struct.pack(">Q", n)
        out += length + bytes([1 if 0 < i < len(frames) else 0]) + f
    return out


def curve_junk_hello():
    """A CURVE greeting and a HELLO command of the right size whose crypto is random bytes."""
    hello = b"\x05HELLO" + b"\x01\x00" + b"\x00" * 72 + os.urandom(32 + 8 + 80)
    return zmtp_greeting(b"CURVE") + zmtp_frame(hello, command=True)


def huge_message_attempt():
    """A NULL client that announces a 1 TiB frame and starts streaming it."""
    ready = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
    return (zmtp_greeting(b"NULL") + zmtp_frame(ready, command=True) + zmtp_frame(b"GSP2", more=True) +
            zmtp_frame(b"A" * 65536, declared=1 << 40))


def open_raw(addr, payload, timeout=3.0):
    """A TCP connection to addr that has sent payload (b"": nothing); None if it could not connect. A
    send the node cut short (it hung up on the junk) is what should happen, not an error."""
    host, port = addr.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError:
        return None
    try:
        if payload:
            s.sendall(payload)
    except OSError:
        pass
    return s


def wait_closed(socks, timeout):
    """Reads (and discards) what the node sends on each socket until it closes it, for at most `timeout`
    seconds. Returns ({socket: time.monotonic() when the node closed it}, [sockets still open])."""
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    t0 = time.monotonic()
    closed = {}
    for _ in range(200000):  # a bound on rounds besides the time
        left = t0 + timeout - time.monotonic()
        if len(closed) == len(socks) or left <= 0:
            break
        for key, _ in sel.select(timeout=min(0.2, left)):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:  # reset by the node
                data = b""
            if not data:
                closed[s] = time.monotonic()
                sel.unregister(s)
    sel.close()
    return closed, [s for s in socks if s not in closed]


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


# ---- 1. outsiders ----------------------------------------------------------------------------------------


def test_outsiders_without_a_trusted_key_cannot_register_link_gossip_report_or_unlink_anyone(c):
    m, seeds, peers, ops, spare, graph = start_curve_network(c, 3)
    target = peers[0]
    neighbour = next(p for p in peers if p.addr in graph[target.addr])
    victim = peers[2] if peers[2] is not neighbour else peers[1]  # a live peer, reported dead
    outsider = m.keygen("outsider", spare[0], trusted=False)
    o = outsider.addr
    body = "outsider-gossip-%d" % time.time_ns()
    # (node, frames): each message in the outsider's own name and, where it matters, in a member's.
    attempts = []
    for s in seeds:
        attempts += [(s, ["GSP2", "REGISTER", o]),
                     (s, ["GSP2", "DEAD_NODE", o, victim.addr, now_us()]),
                     (s, ["GSP2", "DEAD_NODE", neighbour.addr, victim.addr, now_us()]),
                     (s, ["GSP2", "LEAVE", victim.addr])]
    attempts += [(target, ["GSP2", "LINK_REQUEST", o, "0"]),
                 (target, gossip_frames(o, o, 1, body, random_signature())),
                 (target, gossip_frames(neighbour.addr, neighbour.addr, 1, body + "-named", random_signature())),
                 (target, ["GSP2", "UNLINK", neighbour.addr, "traded", o]),
                 (target, ["GSP2", "LEAVE", neighbour.addr]),
                 (target, ["GSP2", "LIVENESS_REQUEST", o, now_us()])]
    mark = marks(c.nodes)
    t0 = time.monotonic()
    jobs = [ctl_send_args(n.addr, f, outsider, n.key, 1500) for n, f in attempts]    # an untrusted key
    jobs += [ctl_send_args(n.addr, f, timeout_ms=1500) for n, f in attempts]         # no CURVE at all
    results = ctl_many(c, jobs[:len(jobs) // 2]) + ctl_many(c, jobs[len(jobs) // 2:])
    kinds = ["an untrusted key"] * len(attempts) + ["no CURVE"] * len(attempts)
    for (args, rc, out, err), (n, f), kind in zip(results, attempts * 2, kinds):
        h.check(rc == 1 and "cannot connect" in err and "frame:" not in out,
                "%s from %s (sender %s) got through to %s with %s (exit %d): stdout %r stderr %r"
                % (f[1], o, f[2], n, kind, rc, out, err))
    # The same messages from raw TCP: a NULL-mechanism client, the unversioned ZMTP 1.0 framing, a CURVE
    # greeting with a junk HELLO, plain random bytes.
    socks, opened = [], {}
    try:
        for n, f in attempts:
            frames = [x.encode() if not x.startswith("hex:") else bytes.fromhex(x[4:]) for x in f]
            for payload in (zmtp_null_client(frames), zmtp1_message(frames), curve_junk_hello(), os.urandom(2048)):
                t = time.monotonic()
                s = open_raw(n.addr, payload)
                h.check(s is not None, "cannot open a TCP connection to %s" % n)
                socks.append(s)
                opened[s] = t
        closed, still_open = wait_closed(socks, HANDSHAKE_S + SLACK_S)
    finally:
        close_all(socks)
    h.check(not still_open, "%d of %d raw TCP connections with junk were still open after %.1f s"
            % (len(still_open), len(socks), HANDSHAKE_S + SLACK_S))
    print("  %d gossip-ctl attempts refused; %d raw connections hung up on after at most %.2f s (%.1f s in all)"
          % (len(jobs), len(socks), max(closed[s] - opened[s] for s in socks), time.monotonic() - t0))

    c.assert_alive()
    # The untrusted key was seen and refused by every node it tried; no member was refused.
    for n in set(n for n, _ in attempts):
        lines = [l for l in since(n, mark, "connection_refused") if l["key"] == outsider.curve]
        h.check(lines, "%s logged no connection_refused key=%s for the outsider's attempts" % (n, outsider.curve))
        h.check(all(l["reason"] == "untrusted_key" and l["ip"] == "127.0.0.1" for l in lines),
                "%s: %r" % (n, [raw(l) for l in lines]))
    check_none(c.nodes, mark, lambda l: l.get("event") == "connection_refused" and l["key"] != outsider.curve,
               "a member was refused a connection")
    # Nothing reached the protocol: not even a bad_message, and nothing names the outsider.
    check_none(c.nodes, mark, lambda l: l.get("event") == "bad_message", "outsider input reached the codec")
    check_none(c.nodes, mark, lambda l: names(l, o), "a node acted on the outsider's address")
    check_none(seeds, mark, lambda l: l.get("event") in ("peer_removed", "dead_report", "dead_report_ignored"),
               "a seed acted on a dead-node report or LEAVE")
    check_none(peers, mark, lambda l: l.get("event") in ("neighbour_down", "neighbour_up", "link_failed"),
               "the overlay changed")
    check_none(peers, mark, lambda l: l.get("event") in ("gossip_recv", "gossip_rejected"),
               "outsider gossip reached a peer")

    # The cluster goes on: gossip reaches everyone, and the seeds still list every peer (the next
    # re-registration's PEER_LIST from each seed names all the others).
    gossips_normally(c, peers, ops["op"], "after-outsiders")
    others = {p.addr for p in peers if p is not target}
    for s in seeds:
        wait_new(target, mark, lambda l, s=s: l.get("event") == "peer_list" and l["seed"] == s.addr
                 and set(h.split_list(l["peers"])) == others, 10,
                 "a PEER_LIST from %s that still lists %s" % (s, sorted(others)))


# ---- 2. memory and unfinished handshakes -----------------------------------------------------------------


class RssSampler:
    """Samples VmRSS of some PIDs every 50 ms in a thread until stop(); keeps each one's peak."""

    def __init__(self, nodes, max_s=60):
        self.nodes = nodes
        self.peak = {n.name: rss_kib(n.pid) for n in nodes}
        self._stop = threading.Event()
        self._max_s = max_s
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        deadline = time.monotonic() + self._max_s
        while not self._stop.wait(0.05) and time.monotonic() < deadline:
            for n in self.nodes:
                try:
                    self.peak[n.name] = max(self.peak[n.name], rss_kib(n.pid))
                except (OSError, h.TestFailure):
                    pass

    def stop(self):
        self._stop.set()
        self._t.join(timeout=5)
        return self.peak


def idle_rss(node):
    """The node's RSS now: the highest of a few readings 100 ms apart (a measurement, not a wait)."""
    readings = []
    for _ in range(5):
        readings.append(rss_kib(node.pid))
        time.sleep(0.1)
    return max(readings)


def test_an_outsiders_hundreds_of_connections_cost_no_memory_and_unfinished_handshakes_are_dropped(c):
    m, seeds, peers, ops, spare, graph = start_curve_network(c, 3)
    outsider = m.keygen("outsider", spare[0], trusted=False)
    targets = [seeds[0], peers[0]]
    gossips_normally(c, peers, ops["op"], "warm-up")  # buffers a normal message needs are in the idle figure
    idle = {n.name: idle_rss(n) for n in targets}
    mark = marks(c.nodes)
    per_target = 200
    silent, junk = [], []
    opened = {}  # socket: time.monotonic() when connected
    ctl = []
    sampler = RssSampler(targets)
    try:
        # Untrusted CURVE handshakes and CURVE-less clients with a 300 KB multipart message, all at once.
        # (A refused gossip-ctl makes one handshake: libzmq does not retry after a ZAP refusal.)
        big = ["GSP2", "GOSSIP", outsider.addr] + ["B" * 60000] * 5
        for n in targets:
            ctl += [ctl_send_args(n.addr, ["GSP2", "REGISTER", outsider.addr], outsider, n.key, 3000)] * UNTRUSTED
            ctl += [ctl_send_args(n.addr, big, timeout_ms=3000)] * 3
        ctl_procs = [subprocess.Popen([c.bin("gossip-ctl")] + [str(a) for a in args], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE) for args in ctl]
        try:
            t0 = time.monotonic()
            # b"" and a bare CURVE greeting start a handshake and stall: only the handshake timeout ends them.
            stalls = [b"", zmtp_greeting(b"CURVE")]
            kinds = stalls + [huge_message_attempt(), curve_junk_hello(), os.urandom(4096),
                              zmtp1_message([b"GSP2", b"REGISTER", outsider.addr.encode()] + [b"C" * 60000] * 4)]
            failed = 0
            for i in range(per_target):
                for n in targets:
                    payload = kinds[i % len(kinds)]
                    t = time.monotonic()
                    s = open_raw(n.addr, payload)
                    if s is None:
                        failed += 1
                    else:
                        opened[s] = t
                        (silent if payload in stalls else junk).append((n, s))
            last_open = time.monotonic()
            h.check(failed <= per_target // 20,
                    "%d of %d raw connections could not be opened" % (failed, 2 * per_target))
            # Junk is hung up on at once; a connection that sends nothing when its handshake times out. Every
            # one must be gone HANDSHAKE_S (plus slack) after it was opened.
            closed, still_open = wait_closed([s for _, s in silent + junk], HANDSHAKE_S + SLACK_S)
            took = time.monotonic() - t0
            for p in ctl_procs:
                p.wait(timeout=15)
            ctl_err = [p.stderr.read().decode(errors="replace") for p in ctl_procs]
            ctl_rc = [p.returncode for p in ctl_procs]
        finally:
            for p in ctl_procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stderr.close()
    finally:
        peak = sampler.stop()
        close_all([s for _, s in silent + junk])

    def lifetimes(pairs):
        return sorted(closed[s] - opened[s] for _, s in pairs if s in closed) or [-1.0]
    junk_life, silent_life = lifetimes(junk), lifetimes(silent)
    print("  %d raw connections opened in %.2f s: %d with junk lived %.2f..%.2f s, %d stalled ones %.2f..%.2f s"
          " (%.1f s in all)" % (len(silent) + len(junk), last_open - t0, len(junk), junk_life[0], junk_life[-1],
                                len(silent), silent_life[0], silent_life[-1], took))
    for n in targets:
        print("  %s RSS idle %d KiB, peak under attack %d KiB (+%d KiB), after %d KiB"
              % (n, idle[n.name], peak[n.name], peak[n.name] - idle[n.name], rss_kib(n.pid)))
    c.assert_alive()
    late = [(n, closed[s] - opened[s] if s in closed else None, "stalled" if (n, s) in silent else "junk")
            for n, s in silent + junk if s not in closed or closed[s] - opened[s] > HANDSHAKE_S + SLACK_S]
    h.check(not late, "%d of %d connections outlived the %.0f s handshake timeout (+%.1f s slack), e.g. %s"
            % (len(late), len(opened), HANDSHAKE_S, SLACK_S, ", ".join(
                "%s to %s: %s" % (k, n, "still open" if t is None else "%.2f s" % t) for n, t, k in late[:5])))
    for rc, err, args in zip(ctl_rc, ctl_err, ctl):
        h.check(rc == 1 and "cannot connect" in err, "gossip-ctl %r... got through (exit %d): %s" % (args[:8], rc, err))
    for n in targets:
        grew = peak[n.name] - idle[n.name]
        h.check(grew <= RSS_BUDGET_KIB, "%s: RSS grew by %d KiB under the outsider's connections (idle %d KiB,"
                " peak %d KiB; budget %d KiB)" % (n, grew, idle[n.name], peak[n.name], RSS_BUDGET_KIB))
    # One more untrusted handshake each, over a second after the burst (its line, or the next
    # connections_refused count, carries what the burst left unlogged).
    for args, rc, out, err in ctl_many(c, [ctl_send_args(n.addr, ["GSP2", "REGISTER", outsider.addr], outsider,
                                                         n.key, 1000) for n in targets]):
        h.check(rc == 1 and "cannot connect" in err, "gossip-ctl %r... got through (exit %d): %s" % (args[:8], rc, err))
    for n in targets:
        def refusals():
            lines = [l for l in since(n, mark) if l.get("event") == "connection_refused"]
            summed = sum(int(l["count"]) for l in since(n, mark) if l.get("event") == "connections_refused")
            return lines, len(lines) + sum(int(l["unlogged"]) for l in lines) + summed
        c.wait_until(lambda: refusals()[1] >= UNTRUSTED + 1, 5,
                     "%s: connection_refused lines and counts for %d untrusted handshakes" % (n, UNTRUSTED + 1))
        lines, counted = refusals()
        h.check(all(l["key"] == outsider.curve for l in lines),
                "%s refused another key: %r" % (n, [raw(l) for l in lines]))
        print("  %s: %d connection_refused lines for %d untrusted handshakes (%d in unlogged= and connections_refused)"
              % (n, len(lines), counted, counted - len(lines)))
        h.check(counted == UNTRUSTED + 1, "%s: connection_refused lines and their unlogged= count %d refusals, the"
                " untrusted key made %d handshakes: %r" % (n, counted, UNTRUSTED + 1, [raw(l) for l in lines]))
    check_none(c.nodes, mark, lambda l: l.get("event") == "bad_message", "outsider input reached the codec")
    check_none(c.nodes, mark, lambda l: names(l, outsider.addr), "a node acted on the outsider's address")
    gossips_normally(c, peers, ops["op"], "after-flood")


# ---- 3. a member in another member's name --------------------------------------------------------------


def test_a_member_speaking_in_another_members_name_is_refused_counted_and_changes_nothing(c):
    m, seeds, peers, ops, spare, graph = start_curve_network(c, 3)
    op = ops["op"]
    target = peers[0]
    neighbour = next(p for p in peers if p.addr in graph[target.addr])
    other = next(p for p in peers if p is not target and p is not neighbour)
    other_seed = seeds[1]
    forged_body = "forged-in-%s-name" % neighbour.addr
    # (node, ROUTER address, frames, claimed sender)
    attempts = [
        (seeds[0], seeds[0].addr, ["GSP2", "REGISTER", other.addr], other.addr),
        (seeds[0], seeds[0].addr, ["GSP2", "DEAD_NODE", neighbour.addr, other.addr, now_us()], neighbour.addr),
        # A seed's relay is believed without the reporter being registered: the strongest lie.
        (seeds[0], seeds[0].addr, ["GSP2", "DEAD_NODE", other_seed.addr, other.addr, now_us()], other_seed.addr),
        (seeds[0], seeds[0].addr, ["GSP2", "LEAVE", other.addr], other.addr),
        (target, target.addr, ["GSP2", "LINK_REQUEST", other.addr, "0"], other.addr),
        (target, target.addr, ["GSP2", "UNLINK", neighbour.addr, "traded", other.addr], neighbour.addr),
        (target, target.addr, ["GSP2", "LEAVE", neighbour.addr], neighbour.addr),
        (target, target.addr, gossip_frames(neighbour.addr, neighbour.addr, 1, forged_body), neighbour.addr),
        (target, target.addr, ["GSP2", "LIVENESS_REQUEST", neighbour.addr, now_us()], neighbour.addr),
        (target, target.addr, ["GSP2", "LIVENESS_REPLY", neighbour.addr, now_us(), target.addr], neighbour.addr),
        (target, target.control, ["GSP2", "PUBLISH", neighbour.addr, "forged-publish"], neighbour.addr),
    ]
    mark = marks(c.nodes)
    results = ctl_many(c, [ctl_send_args(to, f, op, n.key, 1000) for n, to, f, _ in attempts])
    for (n, to, f, claimed), (args, rc, out, err) in zip(attempts, results):
        h.check(rc == 0, "%s %s: the member's connection to %s failed (exit %d): %s" % (f[1], claimed, n, rc, err))
        h.check(out.strip() == "no reply", "%s in %s's name to %s was answered: %r" % (f[1], claimed, n, out))
    for n in (seeds[0], target):
        mine = [(f[1], claimed) for x, _, f, claimed in attempts if x is n]
        lines = wait_new(n, mark, lambda l: l.get("event") == "bad_message", 10,
                         "a bad_message for each of %d messages in another's name" % len(mine), count=len(mine))
        h.check(len(lines) == len(mine), "%s: %d bad_message lines for %d attempts: %r"
                % (n, len(lines), len(mine), [raw(l) for l in lines]))
        h.check(all(l["reason"] == "sender_mismatch" for l in lines), "%s: %r" % (n, [raw(l) for l in lines]))
        h.check(sorted(l["from"] for l in lines) == sorted(claimed for _, claimed in mine),
                "%s: bad_message from= %r, the claimed senders were %r"
                % (n, sorted(l["from"] for l in lines), sorted(claimed for _, claimed in mine)))
    # The same key in its own name is heard (a non-neighbour's LIVENESS_REQUEST is answered NOT_LINKED):
    # the refusals above are about the name, not the key.
    [(_, rc, out, err)] = ctl_many(c, [ctl_send_args(target.addr, ["GSP2", "LIVENESS_REQUEST", op.addr, now_us()],
                                                     op, target.key, 3000)])
    h.check("frame: NOT_LINKED" in out, "the member in its own name got %r (exit %d, %s)" % (out, rc, err))

    c.assert_alive()
    check_none(c.nodes, mark, lambda l: l.get("event") == "bad_message" and l["reason"] != "sender_mismatch",
               "other bad_message lines")
    check_none(seeds, mark, lambda l: l.get("event") in ("peer_removed", "dead_report_ignored"),
               "a seed acted on a report or LEAVE in another's name")
    check_none(peers, mark,
               lambda l: l.get("event") in ("neighbour_down", "neighbour_up", "link_failed", "dead_detected"),
               "the overlay changed")
    check_none(peers, mark, lambda l: l.get("event") in ("gossip_recv", "gossip_origin", "gossip_rejected"),
               "forged gossip or publish was handled")
    h.check(h.overlay(peers) == graph, "the overlay changed: %r, was %r" % (h.overlay(peers), graph))
    gossips_normally(c, peers, op, "after-impersonation")
    # Both seeds still list `other` (the one named dead and leaving): the next PEER_LIST says so.
    for s in seeds:
        wait_new(target, mark, lambda l, s=s: l.get("event") == "peer_list" and l["seed"] == s.addr
                 and other.addr in h.split_list(l["peers"]), 10, "a PEER_LIST from %s that still lists %s" % (s, other))


# ---- 4. a forged origin --------------------------------------------------------------------------------


def test_a_linked_members_gossip_with_a_forged_origin_is_rejected_and_goes_no_further(c):
    # Five misses, not three: the member is a neighbour that never answers a probe, and its forgeries must
    # arrive before the target gives it up (~5 s).
    m, seeds, peers, ops, spare, graph = start_curve_network(c, 4, overrides={"liveness": {"max_misses": 5}})
    op = ops["op"]
    target = min(peers, key=lambda p: len(graph[p.addr]))
    # The forged origin: a peer that is not the target's neighbour if there is one (its genuine messages then
    # reach the target only through others).
    origin = min((p for p in peers if p is not target), key=lambda p: p.addr in graph[target.addr])
    unknown = spare[0]
    mark = marks(c.nodes)

    def send(frames, timeout_ms=1000):
        [(args, rc, out, err)] = ctl_many(c, [ctl_send_args(target.addr, frames, op, target.key, timeout_ms)])
        h.check(rc == 0, "send %s to %s failed (exit %d): %s" % (frames[1], target, rc, err))
        return out

    # Not a neighbour yet: its GOSSIP is answered NOT_LINKED and not even checked.
    out = send(gossip_frames(op.addr, origin.addr, 1, "before-linking", random_signature()), 3000)
    h.check("frame: NOT_LINKED" in out, "a non-neighbour's GOSSIP got %r, not NOT_LINKED" % out)
    # Linked: a LINK_REQUEST in its own name, with a degree that asks for no trade.
    out = send(["GSP2", "LINK_REQUEST", op.addr, "3"], 3000)
    h.check("frame: LINK_ACCEPT" in out, "%s did not accept the member's LINK_REQUEST: %r" % (target, out))
    target.wait_for(lambda l: l.get("event") == "neighbour_up" and l["peer"] == op.addr, 5, "neighbour_up member")
    forged = [  # (origin, seq, body, signature, reason)
        (origin.addr, 1, "forged-unsigned", "", "unsigned"),
        (origin.addr, 2, "forged-random-signature", random_signature(), "bad_signature"),
        (unknown, 1, "forged-unknown-origin", random_signature(), "unknown_origin"),
        (op.addr, 1, "forged-own-origin-bad-signature", random_signature(), "bad_signature"),
    ]
    jobs = [ctl_send_args(target.addr, gossip_frames(op.addr, o, seq, body, sig), op, target.key, 800)
            for o, seq, body, sig, _ in forged]
    for (args, rc, out, err), f in zip(ctl_many(c, jobs), forged):
        h.check(rc == 0 and out.strip() == "no reply", "forged %s: exit %d, %r %s" % (f[2], rc, out, err))
    rejected = wait_new(target, mark, lambda l: l.get("event") == "gossip_rejected", 10,
                        "gossip_rejected for %d forgeries" % len(forged), count=len(forged))
    h.check(len(rejected) == len(forged),
            "%s: %d gossip_rejected for %d forgeries" % (target, len(rejected), len(forged)))
    got = sorted((l["origin"], l["seq"], l["reason"], l["from"]) for l in rejected)
    want = sorted((o, str(seq), reason, op.addr) for o, seq, _, _, reason in forged)
    h.check(got == want, "%s: gossip_rejected (origin, seq, reason, from) %r, want %r" % (target, got, want))
    target.wait_for(lambda l: l.get("event") == "gossip_stats" and int(l.get("rejected", "0")) >= len(forged), 5,
                    "gossip_stats rejected=%d" % len(forged))

    # The origin's own messages, seq 1 among them, still reach everyone (the target included)...
    genuine = ["genuine-%d-%s" % (i, origin.addr) for i in range(2)]
    for payload in genuine:
        h.check("seq=%d" % (genuine.index(payload) + 1) in publish(c, origin, payload, op),
                "the origin's published seq is not %d" % (genuine.index(payload) + 1))
    for payload in genuine:
        wait_delivered([p for p in peers if p is not origin], payload, origin=origin.addr)
    # ...and no forgery went anywhere: no peer received one, and none was passed on to be rejected elsewhere.
    bodies = {f[2].encode() for f in forged}
    check_none(peers, mark, lambda l: l.get("event") == "gossip_recv" and h.value_bytes(l["msg"]) in bodies,
               "a forged message was received")
    check_none([p for p in peers if p is not target], mark, lambda l: l.get("event") == "gossip_rejected",
               "a forged message was forwarded")
    c.assert_alive()


# ---- 5. revocation ---------------------------------------------------------------------------------------


def test_a_member_whose_key_is_deleted_from_trusted_dir_is_shut_out_within_one_reload(c):
    m, seeds, peers, ops, spare, graph = start_curve_network(
        c, 4, overrides={"liveness": {"interval_ms": 500}}, operators=("op", "op_revoked"))
    op, op_revoked = ops["op"], ops["op_revoked"]
    revoked = min(peers, key=lambda p: len(graph[p.addr]))
    neighbours = [p for p in peers if p.addr in graph[revoked.addr]]
    survivors = [p for p in peers if p is not revoked]
    publish(c, survivors[0], "before-revocation", op_revoked)  # the operator key works until revoked
    wait_delivered([p for p in peers if p is not survivors[0]], "before-revocation")
    mark = marks(c.nodes)
    t0 = time.time()
    m.revoke(revoked.key)
    m.revoke(op_revoked)

    # The survivors keep publishing while every node re-reads trusted_dir and those the revoked keys were
    # connected to (the seeds, the revoked peer's neighbours, the node the revoked operator published
    # through) rebind their servers, which drops every connection, honest ones too, for a moment: one
    # message a round, at most 30. A publish whose control endpoint was rebound under it may go unanswered.
    rebinding = seeds + neighbours + ([survivors[0]] if survivors[0] not in neighbours else [])
    untouched = [n for n in c.nodes if n not in rebinding and n is not revoked]
    during, unanswered = [], []

    def reloaded_everywhere():
        if len(during) + len(unanswered) < 30:
            via = survivors[(len(during) + len(unanswered)) % len(survivors)]
            payload = "during-reload-%d" % (len(during) + len(unanswered))
            (during if publish(c, via, payload, op, required=False) else unanswered).append((via, payload))
        return (all(any(l.get("event") == "trust_reloaded" for l in since(n, mark)) for n in c.nodes) and
                all(any(l.get("event") == "servers_rebound" for l in since(n, mark)) for n in rebinding))
    c.wait_until(reloaded_everywhere, RELOAD_MS / 1000 + 10,
                 "trust_reloaded at every node and servers_rebound where a revoked key was connected")

    # Every node re-read trusted_dir within one interval (plus slack: a node watches the folder, so it
    # may re-read at once, once per deletion) and dropped both keys.
    delays = []
    for n in c.nodes:
        def dropped_both():
            lines = [l for l in since(n, mark) if l.get("event") == "trust_reloaded"]
            return lines if sum(int(l["revoked"]) for l in lines) >= 2 else None
        lines = c.wait_until(dropped_both, RELOAD_MS / 1000 + 10, "%s: trust_reloaded dropping both keys" % n)
        h.check(sum(int(l["revoked"]) for l in lines) == 2 and
                int(lines[0]["before"]) - int(lines[-1]["trusted"]) == 2,
                "%s: %r (two keys were deleted)" % (n, [raw(l) for l in lines]))
        delays.append((h.ts_us(lines[0]) / 1e6 - t0, n))
    worst = max(delays, key=lambda d: d[0])
    print("  trust_reloaded after %.0f..%.0f ms (interval %d ms)" % (min(delays, key=lambda d: d[0])[0] * 1000,
                                                                        worst[0] * 1000, RELOAD_MS))
    h.check(worst[0] <= RELOAD_MS / 1000 + SLACK_S, "%s re-read trusted_dir %.0f ms after the deletion (interval %d"
            " ms, slack %.0f ms)" % (worst[1], worst[0] * 1000, RELOAD_MS, SLACK_S * 1000))
    for n in rebinding:
        wait_new(n, mark, lambda l: l.get("event") == "servers_rebound", 5, "servers_rebound")
    # A node no revoked key was connected to keeps its connections: nothing of its own is in flux.
    check_none(untouched, mark, lambda l: l.get("event") == "servers_rebound",
               "a node that no revoked key was connected to rebound its servers")
    for n in neighbours:
        n.wait_for(lambda l: l.get("event") == "connection_closed" and l["to"] == revoked.addr
                   and l["reason"] == "key_revoked", 5, "connection_closed to=%s reason=key_revoked" % revoked.addr)

    # The revoked peer's next attempts (its DEALERs reconnect to the rebound servers) are refused. Checked
    # before anyone else is refused: a node logs one refusal a second, and the rest only as the next line's
    # unlogged= count.
    for n in seeds + neighbours:
        wait_new(n, mark, lambda l: l.get("event") == "connection_refused" and l["key"] == revoked.key.curve, 10,
                 "connection_refused key=%s (the revoked peer)" % revoked.key.curve)
    # The revoked operator cannot connect any more.
    r = c.ctl("publish", "--to", survivors[0].control, "--message", "after-revocation-revoked-operator",
              "--key", op_revoked.key, "--server-key", survivors[0].key.pub, "--timeout-ms", 1500)
    h.check(r.returncode == 1 and b"cannot connect" in r.stderr,
            "the revoked operator key still published (exit %d): %r %r" % (r.returncode, r.stdout, r.stderr))
    # The others drop it (its silence makes it dead) and close ranks; the seeds forget it.
    h.wait_settled_overlay(c, survivors, 20)
    for s in seeds:
        s.wait_for(lambda l: l.get("event") == "peer_removed" and l["peer"] == revoked.addr, 15,
                   "peer_removed %s" % revoked.addr)
    # What it originates now goes nowhere; what the others publish still reaches them all.
    publish(c, revoked, "from-the-revoked-peer", op)
    payload = "after-revocation"
    publish(c, survivors[0], payload, op)
    wait_delivered(survivors[1:], payload)
    # What was published during the reload: not required to arrive. Rebinding closes a node's ROUTERs with
    # whatever they had received and not yet handed over, and the copies on their way from every neighbour
    # can all be in that window (seen in about one run in ten; reported, not fixed here). Counted and shown.
    def missing():
        return [(p, r) for via, p in during for r in survivors if r is not via
                and not any(h.value_bytes(l["msg"]) == p.encode() for l in r.events("gossip_recv"))]
    try:
        c.wait_until(lambda: not missing(), 3, "every message published during the reload")
    except h.TestFailure:
        pass
    lost = missing()
    print("  %d of %d messages published during the reload reached every survivor; %d publishes unanswered%s"
          % (len(during) - len({p for p, _ in lost}), len(during), len(unanswered),
             "".join(": %s via %s" % (p, v) for v, p in unanswered)))
    for p, r in lost:
        gone = [l for l in since(r, mark, "servers_rebound")]
        origin = next(l for v, q in during if q == p for l in v.events("gossip_origin")
                      if h.value_bytes(l["msg"]) == p.encode())
        print("  LOST during the reload: %r, originated %s at %s, never reached %s (its servers_rebound at %s)"
              % (p, origin["node"], origin["ts"], r, gone[0]["ts"] if gone else "-"))
    check_none(survivors, mark, lambda l: l.get("event") == "gossip_recv"
               and h.value_bytes(l["msg"]) in (b"from-the-revoked-peer", b"after-revocation-revoked-operator"),
               "gossip from a revoked key arrived")
    check_none(seeds, mark, lambda l: l.get("event") == "peer_removed" and l["peer"] != revoked.addr,
               "a seed removed a peer that was not revoked")
    check_none(survivors, mark, lambda l: l.get("event") == "connection_refused" and l["key"] not in
               (revoked.key.curve, op_revoked.curve), "a member that was not revoked was refused")
    c.assert_alive()


def test_a_seed_whose_fellow_seeds_key_lands_later_still_relays_to_it(c):
    """A seed opens its DEALERs to the other seeds once, at start. If one of their keys is not trusted yet,
    the DEALER is opened when a re-read brings the key: the relay of a dead report reaches that seed."""
    m = Members(c)
    ports = distinct_free_ports(4)
    addrs = ["127.0.0.1:%d" % p for p in ports]
    seed1, seed2 = m.keygen("seed1", addrs[0]), m.keygen("seed2", addrs[1], trusted=False)
    both, only_first = m.keygen("peer_both", addrs[2]), m.keygen("peer_first", addrs[3])
    seeds_cfg = {"node": {"seeds": [seed1.addr, seed2.addr]}}
    s1 = c.start_seed(h.merge(BASE, m.security(seed1), seeds_cfg), port=ports[0], name="seed1")
    s1.wait_for(lambda l: l.get("event") == "socket_error" and l.get("to") == seed2.addr, 10,
                "socket_error during=open to=%s (its key is not trusted yet)" % seed2.addr)
    shutil.copy(seed2.pub, os.path.join(m.trusted, "seed2.pub"))
    s1.wait_for("trust_reloaded", 10, "trust_reloaded after seed2.pub landed")
    s2 = c.start_seed(h.merge(BASE, m.security(seed2), seeds_cfg), port=ports[1], name="seed2")
    # One peer registers with both seeds (2 of 2), the other knows only seed1 and so reports only there.
    victim = c.start_peer(seeds=[seed1.addr, seed2.addr],
                          overrides=h.merge(BASE, m.security(both), {"node": {"listen": both.addr}}))
    for s in (s1, s2):
        s.wait_for(lambda l: l.get("event") == "registered" and l["peer"] == both.addr, 20, "registered %s" % both)
    reporter = c.start_peer(seeds=[seed1.addr],
                            overrides=h.merge(BASE, m.security(only_first), {"node": {"listen": only_first.addr}}))
    reporter.wait_for(lambda l: l.get("event") == "neighbour_up" and l["peer"] == both.addr, 20, "the link")
    os.kill(victim.pid, signal.SIGSTOP)
    try:
        s2.wait_for(lambda l: l.get("event") == "peer_removed" and l["peer"] == both.addr
                    and l["reason"] == "dead_report", 10, "peer_removed %s relayed by seed1" % both.addr)
    finally:
        os.kill(victim.pid, signal.SIGCONT)
    h.check(any(l.get("relayed") == "true" for l in s2.events("dead_report", peer=both.addr)),
            "seed2 removed %s without a relayed report" % both.addr)


if __name__ == "__main__":
    h.main([test_outsiders_without_a_trusted_key_cannot_register_link_gossip_report_or_unlink_anyone,
            test_an_outsiders_hundreds_of_connections_cost_no_memory_and_unfinished_handshakes_are_dropped,
            test_a_member_speaking_in_another_members_name_is_refused_counted_and_changes_nothing,
            test_a_linked_members_gossip_with_a_forged_origin_is_rejected_and_goes_no_further,
            test_a_member_whose_key_is_deleted_from_trusted_dir_is_shut_out_within_one_reload,
            test_a_seed_whose_fellow_seeds_key_lands_later_still_relays_to_it])