"""The run folder: everything one run leaves behind, in the layout other tools read (docs/LAUNCH.md).

    <run>/cluster.toml        copy of the cluster file
    <run>/nodes.json          one object per node (see NODE_KEYS)
    <run>/configs/<name>.toml local copies of the node configs
    <run>/keys/<name>.key, .pub  security mode curve: each node's key pair, and the operator's (gossip-ctl)
    <run>/trusted/<name>.pub  security mode curve: every public key, the trusted folder shipped to each host
    <run>/logs/<role>-<ip>-<port>.log   collected node logs
    <run>/stderr/<name>.txt   a node's stderr, collected only when not empty
    <run>/events.log          the launcher's own events, logfmt like the nodes' logs
    <run>/run.json            the launcher's state: running or stopped, who is attached

Only files; no processes are touched here.
"""
from __future__ import annotations

import datetime
import json
import os
import shlex

from toolkit.logfmt import format_line
from toolkit.timestamps import now_ts

NODE_KEYS = ("name", "role", "host", "address", "listen", "config", "log", "stderr", "pid", "remote", "control")


class HostRef:
    """A host as nodes.json records it: enough to run commands there again."""

    def __init__(self, name: str, remote: str):
        self.name = name
        self.remote = remote

    def prefix(self) -> list[str]:
        return [] if self.remote == "local" else shlex.split(self.remote)


class RunDir:
    def __init__(self, path: str):
        self.path = os.path.abspath(path)

    @staticmethod
    def create(runs_root: str, name: str, explicit: str | None) -> "RunDir":
        """A new run folder: `explicit` if given (must be absent or empty), else runs_root/<name>-<UTC time>
        (with -2, -3... if two runs start in the same second). Raises OSError / FileExistsError."""
        if explicit:
            path = os.path.abspath(explicit)
            if os.path.exists(path) and os.listdir(path):
                raise FileExistsError(f"run folder {path} exists and is not empty")
        else:
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            path = os.path.join(runs_root, f"{name}-{stamp}")
            n = 1
            while os.path.exists(path):
                n += 1
                path = os.path.join(runs_root, f"{name}-{stamp}-{n}")
        for sub in ("", "configs", "logs"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        return RunDir(path)

    def file(self, *parts: str) -> str:
        return os.path.join(self.path, *parts)

    def exists(self) -> bool:
        return os.path.isfile(self.file("nodes.json"))

    def event(self, event: str, **fields: object) -> None:
        """Appends one launcher line to events.log (one write, so concurrent launchers do not interleave)."""
        line = (format_line(now_ts(), "launcher", event, fields) + "\n").encode()
        fd = os.open(self.file("events.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def _write_json(self, name: str, obj: object) -> None:
        tmp = self.file(f".{name}.tmp.{os.getpid()}")
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, self.file(name))

    def _read_json(self, name: str, default: object) -> object:
        try:
            with open(self.file(name)) as f:
                return json.load(f)
        except FileNotFoundError:
            return default

    def save_nodes(self, nodes: list[dict]) -> None:
        self._write_json("nodes.json", [{k: n.get(k) for k in NODE_KEYS} for n in nodes])

    def load_nodes(self) -> list[dict]:
        return list(self._read_json("nodes.json", []))

    def save_state(self, state: dict) -> None:
        self._write_json("run.json", state)

    def load_state(self) -> dict:
        return dict(self._read_json("run.json", {}))

    def update_state(self, **changes: object) -> dict:
        state = self.load_state()
        state.update(changes)
        self.save_state(state)
        return state

    def hosts(self, nodes: list[dict]) -> dict[str, HostRef]:
        return {n["host"]: HostRef(n["host"], n["remote"]) for n in nodes}
