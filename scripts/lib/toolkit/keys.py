"""Members' key pairs for security mode "curve" (docs/CONFIG.md, [security]): the one place where the
launcher, the system tests and the benchmarks make a node's keys. A key pair is made by `gossip-ctl keygen`
(NAME.key, mode 0600, and NAME.pub, naming the exact addresses the member speaks for); its .pub is then put
into a trusted directory, the set of members every node of a cluster lets in.

Not a key manager: it does not revoke, rotate or check keys (the nodes do that), and it never reads a secret
key. Standard library only; runs on any Python 3.8+.
"""

import os
import shutil
import subprocess
import time

from toolkit.local_nodes import free_port
from toolkit.node_config import merge

KEYGEN_TIMEOUT_S = 30


class KeygenError(Exception):
    """gossip-ctl keygen could not be run or refused: str() says which key and why."""


class Member:
    """One member's key pair on this machine."""

    def __init__(self, name, addresses, key_file, pub_file):
        self.name = name              # the files' base name: NAME.key, NAME.pub
        self.addresses = addresses    # ["IP:port", ...] the key speaks for, the first being its sender field
        self.key_file = key_file      # absolute path of NAME.key (secret)
        self.pub_file = pub_file      # absolute path of NAME.pub

    def __repr__(self):
        return "Member(%s, %s)" % (self.name, ",".join(self.addresses))


def keygen(ctl, out_base, addresses):
    """Runs `gossip-ctl keygen --out OUT_BASE --address A ...` (ctl: the gossip-ctl binary), creating the
    folder of OUT_BASE first; an existing pair of that name is replaced. Returns a Member. Raises KeygenError
    with gossip-ctl's own message when it cannot be run or refuses (a bad address, a folder it cannot
    write)."""
    if not addresses:
        raise KeygenError("%s: a key needs at least one address" % out_base)
    out_base = os.path.abspath(out_base)
    os.makedirs(os.path.dirname(out_base), exist_ok=True)
    argv = [ctl, "keygen", "--out", out_base, "--force"]
    for a in addresses:
        argv += ["--address", a]
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=KEYGEN_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise KeygenError("%s: cannot run %s keygen: %s" % (out_base, ctl, e)) from None
    if r.returncode != 0:
        why = (r.stderr or r.stdout).decode("utf-8", "replace").strip().splitlines()
        raise KeygenError("%s: gossip-ctl keygen exited %d: %s" % (out_base, r.returncode, why[0] if why else "?"))
    return Member(os.path.basename(out_base), list(addresses), out_base + ".key", out_base + ".pub")


def trust(pub_file, trusted_dir, name=None):
    """Puts a copy of pub_file into trusted_dir as NAME.pub (default: its own file name), creating the folder.
    The copy is written under a name the nodes ignore and then renamed, so a node re-reading the folder never
    sees half a file. Returns the copy's path. Raises OSError."""
    os.makedirs(trusted_dir, exist_ok=True)
    dest = os.path.join(trusted_dir, (name + ".pub") if name else os.path.basename(pub_file))
    tmp = os.path.join(trusted_dir, ".%s.%d.tmp" % (os.path.basename(dest), os.getpid()))
    shutil.copyfile(pub_file, tmp)
    os.replace(tmp, dest)
    return dest


def make_member(ctl, keys_dir, name, addresses, trusted_dir=None):
    """A key pair keys_dir/NAME.key and .pub for these addresses, its .pub also put into trusted_dir when one
    is given. Returns the Member. Raises KeygenError (keygen) or OSError (the copy)."""
    member = keygen(ctl, os.path.join(keys_dir, name), addresses)
    if trusted_dir:
        trust(member.pub_file, trusted_dir)
    return member


def security_section(key_file, trusted_dir, **extra):
    """The [security] table of a curve node's config: mode, key_file, trusted_dir, then `extra` keys
    (sign_origins, trust_reload_interval_ms). As {"security": {...}}, for node_config.merge."""
    section = {"mode": "curve", "key_file": key_file, "trusted_dir": trusted_dir}
    section.update(extra)
    return {"security": section}


class Keyring:
    """The keys of one cluster run on this machine: every member's pair in keys_dir, every .pub in one
    trusted_dir that all the cluster's nodes read. A node restarted at the same addresses gets its old key
    back (a restart keeps its identity, and two keys may not claim one address); a new node is not given a
    port some key already names. For the system tests and the benchmarks, whose nodes are LocalNodes."""

    def __init__(self, ctl, keys_dir, trusted_dir, **security_extra):
        self.ctl = ctl                    # the gossip-ctl binary that makes the keys
        self.keys_dir = os.path.abspath(keys_dir)
        self.trusted_dir = os.path.abspath(trusted_dir)
        self.extra = security_extra       # more [security] keys for every node (trust_reload_interval_ms)
        self.members = {}                 # name -> Member, the latest pair of each name

    def member(self, name, addresses):
        """The key pair for exactly these addresses: the existing one if a member already has them (under any
        name), else a new pair NAME (replacing an older pair of that name, whose addresses are then free).
        Its .pub is in trusted_dir when this returns. Raises KeygenError or OSError."""
        for m in self.members.values():
            if m.addresses == list(addresses):
                return m
        m = make_member(self.ctl, self.keys_dir, name, addresses, self.trusted_dir)
        self.members[name] = m
        return m

    def claimed(self):
        """Every address some member's key speaks for."""
        return {a for m in self.members.values() for a in m.addresses}

    def claimed_ports(self):
        """The ports of those addresses: not to be handed to a new node on any IP."""
        return {int(a.rpartition(":")[2]) for a in self.claimed()}

    def section(self, member):
        """The [security] table for a node with this member's key, as {"security": {...}}."""
        return security_section(member.key_file, self.trusted_dir, **self.extra)

    def secure(self, name, sections):
        """A node's config sections ({section: {key: value}}, node_config.merge's form) made ready for mode
        curve: port 0 in node.listen / node.control becomes a free port no key names yet, the node gets a
        key pair for its exact addresses (node.advertise or node.listen, then node.control) and a [security]
        table. Returns (sections, picked): picked is True when a port was chosen here, so that a start
        that failed to bind it may be retried with secure() again. Raises KeygenError or OSError."""
        keys = dict(sections.get("node", {}))
        taken = self.claimed_ports()
        picked = False
        for key in ("listen", "control"):
            if keys.get(key):
                ip, _, port = keys[key].rpartition(":")
                if int(port) == 0:
                    port = free_port(ip, avoid=taken)
                    taken.add(port)
                    keys[key] = "%s:%d" % (ip, port)
                    picked = True
        addresses = [keys.get("advertise") or keys["listen"]] + ([keys["control"]] if keys.get("control") else [])
        member = self.member(name, addresses)
        return merge(sections, {"node": keys}, self.section(member)), picked

    def await_first_read(self, nodes, timeout_s, poll_s=0.01):
        """Waits until each of these running nodes has logged its `security` line, i.e. has loaded the
        trusted dir at start and noted what it held. Call it before putting a new .pub there: a .pub copied
        while a node is between those two steps is not loaded until the folder changes again (a race in the
        node's start-up: it loads the trust store first, notes the folder's state afterwards). Returns the
        nodes still starting at the deadline."""
        deadline = time.monotonic() + timeout_s
        behind = [n for n in nodes if n.alive()]
        while True:
            behind = [n for n in behind if n.alive() and not any(l.get("event") == "security" for l in n.log.read())]
            if not behind or time.monotonic() >= deadline:
                return behind
            time.sleep(poll_s)

    def trusted_count(self):
        """How many .pub files trusted_dir holds now."""
        return len([f for f in os.listdir(self.trusted_dir) if f.endswith(".pub")])

    def await_trust(self, nodes, timeout_s, poll_s=0.01):
        """Waits until each of these running nodes (LocalNodes that read trusted_dir) has read every key
        trusted_dir now holds: its last `security` or `trust_reloaded` line says trusted=N with N at least
        that many. A node learns a newcomer within its trust_reload_interval_ms; starting the newcomer
        before that would have its first handshakes refused. Returns the nodes still behind at the deadline
        ([] when all caught up); nodes that exit meanwhile are not waited for."""
        want = self.trusted_count()

        def knows(n):
            counts = [l.get("trusted") for l in n.log.read() if l.get("event") in ("security", "trust_reloaded")]
            return bool(counts) and counts[-1].isdigit() and int(counts[-1]) >= want

        deadline = time.monotonic() + timeout_s
        behind = [n for n in nodes if n.alive()]
        while True:
            behind = [n for n in behind if n.alive() and not knows(n)]
            if not behind or time.monotonic() >= deadline:
                return behind
            time.sleep(poll_s)
