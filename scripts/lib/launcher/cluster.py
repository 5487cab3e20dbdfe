"""The cluster file (docs/LAUNCH.md): which hosts, how many seeds and peers on each, how to reach each host,
and the settings copied into every node's config. Also renders each node's TOML config.

Validates everything before anything starts; a bad file raises ClusterError with the key and the reason.
Knows nothing about processes or run folders.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shlex
import tomllib

from toolkit.keys import security_section
from toolkit.node_config import merge, render_config

# Keys the launcher sets itself in every node's [node] section; a cluster file may not set them.
LAUNCHER_NODE_KEYS = ("listen", "advertise", "seeds", "seeds_file", "log_dir", "console", "control")
COPIED_SECTIONS = ("node", "overlay", "gossip", "liveness", "seed")  # [seed] goes to seeds only

TOP_KEYS = {"name", "duration_s", "preset", "remote", "bin_dir", "work_dir", "seed_port", "peer_port",
            "control_port", "stagger_ms", "grace_s", "security", "hosts", *COPIED_SECTIONS}
# A [security] table's keys copied into every node's [security]; mode is the table's own, key_file and
# trusted_dir are the launcher's (one key pair per node, one trusted folder per host).
SECURITY_KEYS = ("mode", "sign_origins", "trust_reload_interval_ms")
HOST_KEYS = {"name", "address", "listen", "remote", "seeds", "peers", "seed_port", "peer_port", "control_port",
             "bin_dir", "work_dir"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

DEFAULT_REMOTE = "ssh {host}"


class ClusterError(Exception):
    """A problem with the cluster file: str() is `FILE: key 'K': reason`."""


@dataclasses.dataclass
class Host:
    name: str          # the {host} in remote prefixes; unique in the cluster
    address: str       # IP the nodes on this host advertise (canonical text form)
    listen: str        # IP they bind
    remote: str        # "local" or a prefix with {host} already filled in
    seeds: int
    peers: int
    seed_port: int
    peer_port: int
    control_port: int | None  # first peer's control port on 127.0.0.1 of the host; None = no control
    bin_dir: str       # absolute, on the host
    work_dir: str      # absolute, on the host

    def prefix(self) -> list[str]:
        """The argv prefix that runs a command on this host; [] for local."""
        return [] if self.remote == "local" else shlex.split(self.remote)


@dataclasses.dataclass
class NodeSpec:
    name: str          # seed-1, peer-3: numbered across the whole cluster in host order
    role: str          # "seed" or "peer"
    host: Host
    ip: str            # advertised IP
    port: int
    listen_ip: str
    control: str | None = None  # "127.0.0.1:PORT" on the host, peers only

    @property
    def address(self) -> str:
        return join_address(self.ip, self.port)

    @property
    def listen(self) -> str:
        return join_address(self.listen_ip, self.port)

    def log_basename(self) -> str:
        """What the node names its log: <role>-<ip>-<port>.log, ':' in an IPv6 address written as '_'."""
        return f"{self.role}-{self.ip.replace(':', '_')}-{self.port}.log"

    def binary(self) -> str:
        return os.path.join(self.host.bin_dir, f"gossip-{self.role}")


@dataclasses.dataclass
class Cluster:
    file: str
    name: str
    duration_s: float
    preset: str
    stagger_ms: int
    grace_s: float
    hosts: list[Host]
    nodes: list[NodeSpec]   # seeds first (in host order), then peers (in host order)
    sections: dict[str, dict]  # node/overlay/gossip/liveness/seed tables copied into node configs
    security: str = "curve"    # "curve": a key pair per node and a trusted folder; "none": no keys at all
    security_extra: dict = dataclasses.field(default_factory=dict)  # more [security] keys for every node

    def seeds(self) -> list[NodeSpec]:
        return [n for n in self.nodes if n.role == "seed"]

    def peers(self) -> list[NodeSpec]:
        return [n for n in self.nodes if n.role == "peer"]

    def key_addresses(self, node: NodeSpec) -> list[str]:
        """What a node's key speaks for: its advertised address, then its control endpoint when no other node
        of the cluster has the same one (peers on two hosts may both use 127.0.0.1:9001, and a trusted
        folder may not hold two keys for one address; gossip-ctl then needs --server-key)."""
        own = [node.address]
        if node.control and sum(1 for n in self.nodes if n.control == node.control) == 1:
            own.append(node.control)
        return own


def join_address(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _canonical_ip(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ClusterError(f"{where}: must be a string IP address")
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        raise ClusterError(f"{where}: '{value}' is not an IPv4 or IPv6 address") from None


def _int(table: dict, key: str, where: str, default: int | None, lo: int, hi: int) -> int | None:
    if key not in table:
        return default
    v = table[key]
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ClusterError(f"{where}key '{key}': must be an integer between {lo} and {hi} (got {v!r})")
    return v


def _str(table: dict, key: str, where: str, default: str | None) -> str | None:
    if key not in table:
        return default
    v = table[key]
    if not isinstance(v, str) or not v:
        raise ClusterError(f"{where}key '{key}': must be a non-empty string")
    return v


def _resolve(path: str, root: str) -> str:
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(root, path))


def load_cluster(path: str, repo_root: str, preset_override: str | None = None,
                 duration_override: float | None = None) -> Cluster:
    """Reads and checks a cluster file. Raises ClusterError (file, key, reason) on any problem."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ClusterError(f"{path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ClusterError(f"{path}: TOML syntax error: {e}") from None
    try:
        return _build(path, data, repo_root, preset_override, duration_override)
    except ClusterError as e:
        raise ClusterError(f"{path}: {e}") from None


def _build(path: str, data: dict, root: str, preset_override: str | None,
           duration_override: float | None) -> Cluster:
    for k in data:
        if k not in TOP_KEYS:
            raise ClusterError(f"key '{k}': unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    name = _str(data, "name", "", "cluster")
    if not NAME_RE.match(name):
        raise ClusterError("key 'name': use letters, digits, '_', '.', '-' (it names the run folder)")
    duration = data.get("duration_s", 0)
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
        raise ClusterError("key 'duration_s': must be a number >= 0 (0 = until Ctrl-C or `launch stop`)")
    if duration_override is not None:
        duration = duration_override
    preset = preset_override or _str(data, "preset", "", "default")
    if preset not in ("default", "fast"):
        raise ClusterError("key 'preset': must be \"default\" or \"fast\"")
    top_remote = _str(data, "remote", "", None)
    bin_dir = _str(data, "bin_dir", "", "build/bin")
    work_dir = _str(data, "work_dir", "", "/tmp/gossip-run")
    seed_port = _int(data, "seed_port", "", 5001, 1, 65535)
    peer_port = _int(data, "peer_port", "", 7001, 1, 65535)
    control_port = _int(data, "control_port", "", None, 1, 65535)
    stagger_ms = _int(data, "stagger_ms", "", 100, 0, 60000)
    grace = data.get("grace_s", 5)
    if not isinstance(grace, (int, float)) or isinstance(grace, bool) or not 0 <= grace <= 600:
        raise ClusterError("key 'grace_s': must be a number of seconds between 0 and 600")

    sections: dict[str, dict] = {}
    for s in COPIED_SECTIONS:
        table = data.get(s, {})
        if not isinstance(table, dict):
            raise ClusterError(f"key '{s}': must be a table [{s}]")
        for k, v in table.items():
            if s == "node" and k in LAUNCHER_NODE_KEYS:
                raise ClusterError(f"key 'node.{k}': set by the launcher for each node; remove it "
                                   "(control endpoints: top-level control_port)")
            if isinstance(v, dict):
                raise ClusterError(f"key '{s}.{k}': nested tables are not node settings")
        sections[s] = table
    security, security_extra = _security(data.get("security", "curve"))

    raw_hosts = data.get("hosts")
    if not isinstance(raw_hosts, list) or not raw_hosts or not all(isinstance(h, dict) for h in raw_hosts):
        raise ClusterError("key 'hosts': needs at least one [[hosts]] table")
    hosts: list[Host] = []
    for i, h in enumerate(raw_hosts, 1):
        where = f"hosts[{i}] "
        for k in h:
            if k not in HOST_KEYS:
                raise ClusterError(f"{where}key '{k}': unknown key (known: {', '.join(sorted(HOST_KEYS))})")
        hname = _str(h, "name", where, None)
        if hname is None:
            raise ClusterError(f"{where}key 'name': is required")
        if not NAME_RE.match(hname):
            raise ClusterError(f"{where}key 'name': use letters, digits, '_', '.', '-'")
        if any(x.name == hname for x in hosts):
            raise ClusterError(f"{where}key 'name': '{hname}' names two hosts")
        if "address" not in h:
            raise ClusterError(f"{where}key 'address': is required")
        address = _canonical_ip(h["address"], f"{where}key 'address'")
        if ipaddress.ip_address(address).is_unspecified:
            raise ClusterError(f"{where}key 'address': others cannot dial {address}; give the host's own IP")
        listen = _canonical_ip(h["listen"], f"{where}key 'listen'") if "listen" in h else address
        remote_tpl = _str(h, "remote", where, None) or top_remote or DEFAULT_REMOTE
        remote = "local" if remote_tpl.strip() == "local" else remote_tpl.replace("{host}", hname)
        if remote != "local" and not shlex.split(remote):
            raise ClusterError(f"{where}key 'remote': empty prefix; use \"local\"")
        hosts.append(Host(
            name=hname, address=address, listen=listen, remote=remote,
            seeds=_int(h, "seeds", where, 0, 0, 1000), peers=_int(h, "peers", where, 0, 0, 10000),
            seed_port=_int(h, "seed_port", where, seed_port, 1, 65535),
            peer_port=_int(h, "peer_port", where, peer_port, 1, 65535),
            control_port=_int(h, "control_port", where, control_port, 1, 65535),
            bin_dir=_resolve(_str(h, "bin_dir", where, bin_dir), root),
            work_dir=_resolve(_str(h, "work_dir", where, work_dir), root)))

    nodes: list[NodeSpec] = []
    for role in ("seed", "peer"):
        count = 0
        for h in hosts:
            for i in range(h.seeds if role == "seed" else h.peers):
                count += 1
                port = (h.seed_port if role == "seed" else h.peer_port) + i
                if port > 65535:
                    raise ClusterError(f"host '{h.name}': {role} ports run past 65535")
                node = NodeSpec(f"{role}-{count}", role, h, h.address, port, h.listen)
                if role == "peer" and h.control_port is not None:
                    node.control = join_address("127.0.0.1", h.control_port + i)
                nodes.append(node)
    if not any(n.role == "seed" for n in nodes):
        raise ClusterError("no seeds: give at least one host `seeds = N`")

    # Two nodes may not share an IP and port, nor a port on the same host (a wildcard listen takes them all).
    used: dict[tuple[str, int], str] = {}
    for n in nodes:
        ports = [n.port] + ([int(n.control.rsplit(":", 1)[1])] if n.control else [])
        for p in ports:
            for key in ((n.host.name, p), ("ip " + n.ip, p)):
                if key in used and used[key] != n.name:
                    raise ClusterError(f"{n.name} and {used[key]} both use port {p} on {n.host.name} "
                                       f"({n.ip}); move seed_port / peer_port / control_port apart")
                used[key] = n.name
    return Cluster(file=path, name=name, duration_s=float(duration), preset=preset, stagger_ms=stagger_ms,
                   grace_s=float(grace), hosts=hosts, nodes=nodes, sections=sections, security=security,
                   security_extra=security_extra)


def _security(value: object) -> tuple[str, dict]:
    """`security = "curve" | "none"`, or a [security] table with mode and more node keys. Returns the mode
    and the keys to copy into every node's [security]. Raises ClusterError."""
    if isinstance(value, str):
        value = {"mode": value}
    if not isinstance(value, dict):
        raise ClusterError("key 'security': must be \"curve\", \"none\" or a table [security]")
    for k, v in value.items():
        if k in ("key_file", "trusted_dir"):
            raise ClusterError(f"key 'security.{k}': set by the launcher for each node (a key pair per node, "
                               "one trusted folder per host); remove it")
        if k not in SECURITY_KEYS:
            raise ClusterError(f"key 'security.{k}': unknown key (known: {', '.join(SECURITY_KEYS)})")
    mode = value.get("mode", "curve")
    if mode not in ("curve", "none"):
        raise ClusterError("key 'security.mode': must be \"curve\" or \"none\"")
    extra = {k: v for k, v in value.items() if k != "mode"}
    if mode == "none" and extra:
        raise ClusterError(f"key 'security.{next(iter(extra))}': only for security mode \"curve\"")
    return mode, extra


def host_key_paths(node: NodeSpec, host_dir: str) -> dict[str, str]:
    """Where a curve node's secret key and its host's trusted folder are on the host."""
    return {"key_file": os.path.join(host_dir, "keys", f"{node.name}.key"),
            "trusted_dir": os.path.join(host_dir, "trusted")}


def render_node_config(cluster: Cluster, node: NodeSpec, host_dir: str, run_id: str) -> str:
    """The node's TOML config: every seed of the cluster, console off, logs under host_dir/logs, then the
    cluster file's settings, then (security mode curve) its key and its host's trusted folder. Raises
    ClusterError for a setting with no TOML form."""
    own = {"listen": node.listen, "advertise": node.address, "seeds": [s.address for s in cluster.seeds()],
           "log_dir": os.path.join(host_dir, "logs"), "console": False}
    if node.control:
        own["control"] = node.control
    copied = {s: t for s, t in cluster.sections.items() if s != "seed" or node.role == "seed"}
    if cluster.security == "curve":
        copied["security"] = security_section(**host_key_paths(node, host_dir), **cluster.security_extra)["security"]
    try:
        return render_config(merge({"node": own}, copied), cluster.preset,
                             f"Written by scripts/launch for run {run_id}: {node.name} ({node.role}) on host "
                             f"{node.host.name}.")
    except TypeError as e:
        raise ClusterError(f"cannot write into a node config: {e}") from None
