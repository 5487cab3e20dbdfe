"""Seeds and peers as child processes on this machine, for the benchmarks and the system tests: write a
node's config, start it, read its log as it grows, stop it by PID (SIGTERM, then SIGKILL after a grace).

Not how scripts/launch runs nodes: its nodes outlive the launcher (`up --detach`, `stop` from another
shell) and may be on other hosts, so it starts and signals them through a host's command prefix
(launcher/remote.py, where this machine is the host "local"). Here every node is a child, so a test can
check its exit status.
"""

import os
import signal
import socket
import subprocess
import time

from toolkit.logfmt import parse_line
from toolkit.node_config import merge, write_config


def free_port(ip="127.0.0.1", avoid=()):
    """A TCP port on ip (IPv4 or IPv6) that was free a moment ago (bind port 0, read it, close) and is not in
    `avoid`. Someone else may take it before the node binds it: callers that must name the port in advance
    (a curve node's key names its exact address) retry on "cannot bind". Raises OSError (no such address)."""
    ip = ip.strip("[]")
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((ip, 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def start_process(argv, stdout_path, stderr_path=None):
    """Starts argv with stdin from /dev/null, stdout into stdout_path and stderr into stderr_path (into the
    same file when None). Returns the Popen; raises OSError when argv cannot be run."""
    out = open(stdout_path, "wb")
    err = open(stderr_path, "wb") if stderr_path else None
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err if err else subprocess.STDOUT)
    finally:
        out.close()
        if err:
            err.close()


def stop_processes(procs, grace_s):
    """SIGTERM to each of procs still running, SIGKILL to any still running grace_s seconds later; reaps
    them all. Returns the ones that needed SIGKILL."""
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    killed = []
    deadline = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killed.append(p)
            p.kill()
            p.wait()
    return killed


class LogTail:
    """A log read as it grows: whole lines only (a half-written last line waits for the rest), each parsed
    once by `parse` (bytes -> dict). The file is a path, or a folder and a file name prefix (a node names
    its log after its own address, known only once it runs); a missing file reads as no lines. feed() takes
    bytes fetched some other way (from another host). keep=False keeps no lines, for long runs."""

    def __init__(self, path=None, directory=None, prefix="", parse=parse_line, offset=0, keep=True):
        self.path = path
        self.directory = directory
        self.prefix = prefix
        self.parse = parse
        self.offset = offset  # bytes of the file taken so far, a half-written last line included
        self.keep = keep
        self.lines = []       # every line parsed so far, in file order (when keep)
        self._partial = b""
        self._handed = 0      # lines already returned by new()

    def feed(self, data):
        """Takes the bytes that followed self.offset; returns the lines they complete, parsed."""
        self.offset += len(data)
        parts = (self._partial + data).split(b"\n")
        self._partial = parts.pop()
        lines = [self.parse(raw) for raw in parts if raw]
        if self.keep:
            self.lines += lines
        return lines

    def read(self):
        """Parses what the file gained since the last read. Returns every line so far (self.lines)."""
        if self.path is None and self.directory and os.path.isdir(self.directory):
            names = sorted(n for n in os.listdir(self.directory) if n.startswith(self.prefix) and n.endswith(".log"))
            self.path = os.path.join(self.directory, names[0]) if names else None
        try:
            with open(self.path or "", "rb") as f:
                f.seek(self.offset)
                self.feed(f.read())
        except OSError:  # not there yet
            pass
        return self.lines

    def new(self):
        """The lines no earlier new() returned, after reading what the file gained."""
        self.read()
        out = self.lines[self._handed:]
        self._handed = len(self.lines)
        return out


class LocalNode:
    """One gossip-seed or gossip-peer started here from `sections` ({section: {key: value}}, see
    node_config.py), with console output off and its log in its own folder <parent>/<name>/; its config is
    <parent>/<name>.toml, its stdout and stderr <parent>/<name>.stdout and .stderr."""

    def __init__(self, bin_dir, role, name, parent, sections, preset="fast", parse=parse_line):
        self.role = role          # "seed" or "peer"
        self.name = name          # "seed1", "peer03": unique among the nodes under `parent`
        self.workdir = os.path.join(parent, name)  # the node's log_dir
        self.config_path = os.path.join(parent, name + ".toml")
        self.stderr_path = os.path.join(parent, name + ".stderr")
        self.stdout_path = os.path.join(parent, name + ".stdout")
        self.binary = os.path.join(bin_dir, "gossip-" + role)
        self.preset = preset
        self.parse = parse
        os.makedirs(self.workdir, exist_ok=True)
        self.start(sections)

    def start(self, sections):
        """(Re)writes the config from `sections` and starts the process, with a fresh view of its log. For a
        start that failed (a port taken meanwhile): the same node again, with other sections."""
        self.addr = None          # the advertised "IP:port", known once `started` is logged
        write_config(self.config_path, merge(sections, {"node": {"log_dir": self.workdir, "console": False}}),
                     self.preset)
        self.proc = start_process([self.binary, "--config", self.config_path], self.stdout_path, self.stderr_path)
        self.pid = self.proc.pid
        self.log = LogTail(directory=self.workdir, prefix=self.role + "-", parse=self.parse)

    def alive(self):
        return self.proc.poll() is None

    def started_line(self):
        """The node's `started` line once it is logged (self.addr is then its advertised address), else None."""
        for line in self.log.read():
            if line.get("event") == "started":
                self.addr = line.get("advertise")
                return line
        return None

    def tail(self, n):
        """The last n lines of the node's log as text ([] while it has none)."""
        try:
            with open(self.log.path or "", "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()[-n:]
        except OSError:
            return []

    def stderr(self):
        """What the node wrote on stderr so far."""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
