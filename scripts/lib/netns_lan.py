"""netns_lan.py — a LAN of hosts on one machine: one network namespace per host, each with an `eth0` on a
shared bridge (which lives in a namespace of its own), addresses from a private /24 that exists only inside
those namespaces. Used by scripts/netns-lan and by the LAN system test. Needs root and iproute2.

Not a network emulator: links are perfect (no delay, no loss); a host is cut off by taking its eth0 down.
"""
import os
import shutil
import signal
import subprocess


class LanError(Exception):
    pass


def ip(*args, check=True):
    r = subprocess.run(["ip"] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=20)
    if check and r.returncode != 0:
        raise LanError("ip %s: %s" % (" ".join(map(str, args)), r.stderr.strip()))
    return r


class Lan:
    """Hosts `<tag>-h1` .. `<tag>-hN` on bridge namespace `<tag>-br`, addresses `<subnet>.1` .. `<subnet>.N`."""

    def __init__(self, tag, count, subnet):
        self.tag = tag
        self.hosts = ["%s-h%d" % (tag, i) for i in range(1, count + 1)]
        self.bridge = "%s-br" % tag
        self.subnet = subnet  # "10.213.7": the first three octets of a private /24

    def address(self, i):
        """The IP of host i (0-based)."""
        return "%s.%d" % (self.subnet, i + 1)

    def create(self):
        """Makes the namespaces, veths and bridge. On failure, removes what it made and raises LanError."""
        try:
            ip("netns", "add", self.bridge)
            ip("-n", self.bridge, "link", "add", "br0", "type", "bridge")
            ip("-n", self.bridge, "link", "set", "br0", "up")
            for i, ns in enumerate(self.hosts):
                twin = "%s-v%d" % (self.tag, i)
                ip("netns", "add", ns)
                ip("-n", ns, "link", "set", "lo", "up")
                ip("link", "add", twin, "type", "veth", "peer", "name", "eth0", "netns", ns)
                ip("link", "set", twin, "netns", self.bridge)
                ip("-n", self.bridge, "link", "set", twin, "master", "br0")
                ip("-n", self.bridge, "link", "set", twin, "up")
                ip("-n", ns, "addr", "add", self.address(i) + "/24", "dev", "eth0")
                ip("-n", ns, "link", "set", "eth0", "up")
        except LanError:
            self.destroy()
            raise

    def cut(self, host):
        """Takes `host`'s link down: it can no longer reach, or be reached by, any other host."""
        ip("-n", host, "link", "set", "eth0", "down")

    def restore(self, host):
        ip("-n", host, "link", "set", "eth0", "up")

    def destroy(self):
        """Kills every process left in the namespaces, deletes them (their veths and the bridge go with them).
        Returns the names of any namespaces of this LAN that are still there."""
        for ns in self.hosts + [self.bridge]:
            for pid in ip("netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", ns, check=False)
        return [ns for ns in existing() if ns.startswith(self.tag + "-")]


def existing():
    return [line.split()[0] for line in ip("netns", "list", check=False).stdout.splitlines() if line.strip()]


def why_not_possible():
    """None if namespaces can be made here, else the reason (for a clear skip)."""
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_SYS_ADMIN"
    if not shutil.which("ip"):
        return "the `ip` command (iproute2) is missing"
    probe = "gossip-probe-%d" % os.getpid()
    r = ip("netns", "add", probe, check=False)
    if r.returncode != 0:
        return "cannot create a network namespace: %s" % r.stderr.strip()
    ip("netns", "del", probe, check=False)
    return None
