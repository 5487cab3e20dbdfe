"""Running commands on a cluster host, the same way for every kind of host.

A host is reached through a prefix: "local" (no prefix), "ssh HOST", "ip netns exec NS", or anything that
runs its arguments as a command there. Every action is a `sh -c SCRIPT` behind that prefix: write a file by
piping it into `cat`, start a node with nohup and read back its PID, signal with kill, check a PID, read a
file with cat. Not a process supervisor: it only runs short commands and returns their results.
"""
from __future__ import annotations

import os
import shlex
import subprocess

from .cluster import Host, NodeSpec

COMMAND_TIMEOUT_S = 60  # a host that does not answer a short command within this is reported, not waited on


class RemoteError(Exception):
    """A command on a host failed or timed out; str() says which host and what happened."""


def node_paths(node: NodeSpec, host_dir: str) -> dict[str, str]:
    """Where a node's config, log and stderr live on its host."""
    return {"config": os.path.join(host_dir, "configs", f"{node.name}.toml"),
            "log": os.path.join(host_dir, "logs", node.log_basename()),
            "stderr": os.path.join(host_dir, "stderr", f"{node.name}.txt")}


def sh_argv(prefix: list[str], script: str) -> list[str]:
    """argv that runs `sh -c SCRIPT` behind prefix. ssh hands its command to the remote login shell as one
    string, so for ssh the command is quoted once more; other prefixes exec their arguments directly."""
    if prefix and os.path.basename(prefix[0]) == "ssh":
        return prefix + [shlex.join(["sh", "-c", script])]
    return prefix + ["sh", "-c", script]


def run_sh(prefix: list[str], script: str, host: str, stdin_text: str | None = None,
           timeout: float = COMMAND_TIMEOUT_S, check: bool = True,
           new_session: bool = False) -> subprocess.CompletedProcess:
    """Runs SCRIPT on the host. Returns the completed process (stdout as text). Raises RemoteError when the
    command cannot be run, times out, or (check=True) exits non-zero."""
    argv = sh_argv(prefix, script)
    try:
        p = subprocess.run(argv, input=stdin_text if stdin_text is not None else "",
                           capture_output=True, text=True, errors="replace", timeout=timeout,
                           start_new_session=new_session)
    except FileNotFoundError as e:
        raise RemoteError(f"host {host}: cannot run {argv[0]!r}: {e.strerror}") from None
    except subprocess.TimeoutExpired:
        raise RemoteError(f"host {host}: no answer within {timeout:.0f} s from: {shlex.join(argv)}") from None
    if check and p.returncode != 0:
        err = (p.stderr or p.stdout).strip().splitlines()
        raise RemoteError(f"host {host}: exit status {p.returncode} from {shlex.join(argv)}"
                          + (f": {err[-1]}" if err else ""))
    return p


def q(s: str) -> str:
    return shlex.quote(s)


def write_file(host: Host, path: str, text: str) -> None:
    """Writes TEXT to PATH on the host, creating its folder. Raises RemoteError."""
    run_sh(host.prefix(), f"mkdir -p {q(os.path.dirname(path))} && cat > {q(path)}", host.name, stdin_text=text)


def write_files(host: Host, files: list[tuple[str, str, bool]]) -> None:
    """Writes every (path, text, secret) on the host in one command, creating the folders; a secret file is
    readable by its owner only from its first byte on (umask 077), the others by all (0644). For the key files
    and the trusted folder of security mode curve: text without NUL bytes. Raises RemoteError."""
    if not files:
        return
    lines = ["set -e", "umask 077"]
    lines.append("mkdir -p " + " ".join(sorted({q(os.path.dirname(p)) for p, _, _ in files})))
    for path, text, secret in files:
        marker = "GOSSIP_EOF"
        while marker in text:
            marker += "_"
        body = text if text.endswith("\n") else text + "\n"
        # A quoted here-document: the shell expands nothing in it.
        lines.append(f"cat > {q(path)} <<'{marker}'\n{body}{marker}")
        if not secret:
            lines.append(f"chmod 644 {q(path)}")
    # The script goes on stdin, not in argv: a cluster's trusted folder can be larger than one argument may be.
    run_sh(host.prefix(), "exec sh -s", host.name, stdin_text="\n".join(lines) + "\n")


def start_node(node: NodeSpec, host_dir: str) -> int:
    """Starts the node's binary in the background on its host and returns its PID there. The node runs in its
    own session, so a Ctrl-C meant for the launcher does not reach it. Raises RemoteError."""
    paths = node_paths(node, host_dir)
    script = (f"mkdir -p {q(os.path.dirname(paths['log']))} {q(os.path.dirname(paths['stderr']))} && "
              f"cd {q(host_dir)} || exit 1; "
              f"nohup {q(node.binary())} --config {q(paths['config'])} </dev/null >/dev/null "
              f"2>{q(paths['stderr'])} & echo $!")
    p = run_sh(node.host.prefix(), script, node.host.name, new_session=True)
    out = p.stdout.strip().splitlines()
    if not out or not out[-1].isdigit():
        raise RemoteError(f"host {node.host.name}: starting {node.name} printed no PID: {p.stdout!r}")
    return int(out[-1])


def _is_ours(pid: int, config: str) -> str:
    """Shell test: PID is alive and is the node started with CONFIG (not a zombie, not a reused PID)."""
    return f"kill -0 {pid} 2>/dev/null && grep -qF -- {q(config)} /proc/{pid}/cmdline 2>/dev/null"


def _per_node(host: Host, nodes: list[dict], script, default: str) -> dict[str, str]:
    """Runs, in one remote shell, script(n) for each node record n: a shell snippet that echoes the node's
    name and one word. Returns name -> that word (`default` for nodes it said nothing about)."""
    lines = [script(n) for n in nodes]
    result = {n["name"]: default for n in nodes}
    if not lines:
        return result
    p = run_sh(host.prefix(), "\n".join(lines), host.name, check=False)
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in result:
            result[parts[0]] = parts[1]
    return result


def _per_node_ok(host: Host, nodes: list[dict], command) -> dict[str, bool]:
    """name -> whether the shell condition command(n) held, for node records with a pid."""
    with_pid = [n for n in nodes if n.get("pid")]
    words = _per_node(host, with_pid,
                      lambda n: f"if {command(n)}; then echo {q(n['name'])} 1; else echo {q(n['name'])} 0; fi", "0")
    return {n["name"]: words.get(n["name"]) == "1" for n in nodes}


def alive_many(host: Host, nodes: list[dict]) -> dict[str, bool]:
    """For node records (name, pid, config) on one host: name -> is it running. Raises RemoteError."""
    return _per_node_ok(host, nodes, lambda n: _is_ours(int(n["pid"]), n["config"]))


def signal_many(host: Host, nodes: list[dict], signal: str) -> dict[str, bool]:
    """Sends SIGNAL (TERM, KILL, STOP, CONT, ...) to each node record on one host that is still ours.
    Returns name -> whether it was signalled. Raises RemoteError."""
    return _per_node_ok(host, nodes,
                        lambda n: f"{_is_ours(int(n['pid']), n['config'])} && kill -s {signal} {int(n['pid'])}")


def read_file(host: Host, path: str) -> bytes | None:
    """The file's bytes on the host, or None when it does not exist, cannot be read, or the host is silent."""
    try:
        p = subprocess.run(sh_argv(host.prefix(), f"cat {q(path)}"), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=COMMAND_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout if p.returncode == 0 else None


def read_tails(host: Host, files: list[tuple[str, str, int]]) -> dict[str, bytes]:
    """For (key, path, offset) on one host: key -> the file's bytes from offset on (b"" if none or on error).
    One command per host. RS (0x1e), which the nodes never write raw, separates the files."""
    if not files:
        return {}
    parts = [f"printf '\\n\\036%s\\n' {q(k)}; tail -c +{off + 1} {q(path)} 2>/dev/null" for k, path, off in files]
    out: dict[str, bytes] = {k: b"" for k, _, _ in files}
    try:
        p = subprocess.run(sh_argv(host.prefix(), "; ".join(parts) + "; true"), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return out
    for chunk in p.stdout.split(b"\n\x1e")[1:]:
        key, _, body = chunk.partition(b"\n")
        k = key.decode(errors="replace")
        if k in out:
            out[k] = body
    return out


def started_many(host: Host, nodes: list[dict]) -> dict[str, str]:
    """For node records on one host: name -> "started" (its log has the `started` line), "waiting" (running,
    not yet) or "dead" (its process is gone). Raises RemoteError."""
    return _per_node(host, nodes, lambda n: (
        f"if grep -q ' event=started ' {q(n['log'])} 2>/dev/null; then echo {q(n['name'])} started; "
        f"elif {_is_ours(int(n['pid']), n['config'])}; then echo {q(n['name'])} waiting; "
        f"else echo {q(n['name'])} dead; fi"), "waiting")


def missing_files(host: Host, paths: list[str]) -> list[str]:
    """Which of these executables are missing (or not executable) on the host. Raises RemoteError."""
    script = "; ".join(f"[ -x {q(p)} ] || echo {q(p)}" for p in paths) + "; true"
    return run_sh(host.prefix(), script, host.name).stdout.splitlines()
