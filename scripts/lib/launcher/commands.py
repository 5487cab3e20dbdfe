"""The subcommands of scripts/launch: up, stop, kill, status (usage: docs/LAUNCH.md).

`up` starts a cluster and, unless detached, waits and stops it; `stop` ends a run from another shell; `kill`
signals one node now (failure drills); `status` says which nodes are alive. Every action on a node goes through
remote.py, so a local run and a multi-host run take the same path.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import time

from . import remote, view
from .cluster import Cluster, ClusterError, host_key_paths, load_cluster, render_node_config
from .rundir import RunDir
from toolkit.keys import KeygenError, make_member
from toolkit.timestamps import now_ts

START_TIMEOUT_S = 20.0     # a node that has not logged `started` by then is reported
ALIVE_CHECK_S = 2.0        # how often an attached `up` checks that its nodes still run
VIEW_POLL_S = 1.0          # how often the live view reads new log lines
SIGNALS = ("TERM", "KILL", "STOP", "CONT", "INT", "HUP", "USR1", "USR2")
OPERATOR = "127.0.0.1:1"   # what the run's operator key speaks for: gossip-ctl's own sender field


def say(*parts: object) -> None:
    print(*parts, flush=True)


class Interrupts:
    """Counts SIGINT/SIGTERM/SIGHUP instead of dying: the first asks for a clean stop, a second one makes the
    stop skip the grace period."""

    def __init__(self) -> None:
        self.count = 0
        self.last: str | None = None
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, self._on)

    def _on(self, signo: int, _frame: object) -> None:
        self.count += 1
        self.last = signal.Signals(signo).name
        if self.count == 1:
            print(f"\nlauncher: {self.last}: stopping the cluster (again to skip the grace period)",
                  file=sys.stderr, flush=True)


def _host_groups(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["host"], []).append(r)
    return groups


def alive_all(records: list[dict], hosts: dict) -> dict[str, bool]:
    """name -> running, for every record with a PID; a host that cannot be asked counts as not known (absent)."""
    result: dict[str, bool] = {}
    for host_name, recs in _host_groups([r for r in records if r.get("pid")]).items():
        try:
            result.update(remote.alive_many(hosts[host_name], recs))
        except remote.RemoteError as e:
            say(f"launcher: warning: {e}")
    return result


def _signal(run: RunDir, records: list[dict], hosts: dict, sig: str, by: str) -> list[dict]:
    """Sends SIG to these records (grouped per host), logs node_signalled for each one reached."""
    done = []
    for host_name, recs in _host_groups(records).items():
        try:
            res = remote.signal_many(hosts[host_name], recs, sig)
        except remote.RemoteError as e:
            say(f"launcher: warning: {e}")
            continue
        for r in recs:
            if res.get(r["name"]):
                run.event("node_signalled", name=r["name"], address=r["address"], signal=sig, by=by)
                done.append(r)
    return done


def stop_run(run: RunDir, records: list[dict], hosts: dict, grace_s: float, reason: str,
             hurry=lambda: False) -> int:
    """Stops the nodes (peers first, so their LEAVE reaches running seeds; then seeds): SIGTERM and SIGCONT
    (a paused node must wake to handle it), up to grace_s to exit, then SIGKILL. Then collects every log into
    the run folder. Returns the number of log files collected."""
    run.update_state(state="stopping")
    run.event("run_stopping", reason=reason)
    say(f"launch: stopping ({reason}): SIGTERM to the peers, then the seeds; SIGKILL after {grace_s:g} s")
    for role in ("peer", "seed"):
        group = [r for r in records if r["role"] == role and r.get("pid")]
        alive = alive_all(group, hosts)
        group = [r for r in group if alive.get(r["name"])]
        if not group:
            continue
        _signal(run, group, hosts, "TERM", "stop")
        for host_name, recs in _host_groups(group).items():
            try:
                remote.signal_many(hosts[host_name], recs, "CONT")
            except remote.RemoteError:
                pass
        deadline = time.monotonic() + grace_s
        while group and time.monotonic() < deadline and not hurry():
            time.sleep(0.25)
            alive = alive_all(group, hosts)
            group = [r for r in group if alive.get(r["name"], True)]
        if group:
            say(f"launcher: {len(group)} {role}(s) still running after {grace_s:g} s: "
                f"{', '.join(r['name'] for r in group)}; sending SIGKILL")
            _signal(run, group, hosts, "KILL", "stop")
            deadline = time.monotonic() + 5
            while group and time.monotonic() < deadline:
                time.sleep(0.2)
                alive = alive_all(group, hosts)
                group = [r for r in group if alive.get(r["name"], True)]
            for r in group:
                say(f"launcher: warning: {r['name']} (pid {r['pid']} on {r['host']}) survived SIGKILL")
    files = collect_logs(run, records, hosts)
    run.event("logs_collected", files=files, dir=run.file("logs"))
    run.event("run_stopped", reason=reason)
    run.update_state(state="stopped", stopped=now_ts())
    return files


def collect_logs(run: RunDir, records: list[dict], hosts: dict) -> int:
    """Copies each node's log (and its stderr when not empty) from its host into the run folder."""
    files = 0
    for r in records:
        host = hosts[r["host"]]
        data = remote.read_file(host, r["log"])
        if data is None:
            if r.get("pid"):
                say(f"launcher: warning: no log from {r['name']} at {r['host']}:{r['log']}")
        else:
            with open(run.file("logs", os.path.basename(r["log"])), "wb") as f:
                f.write(data)
            files += 1
        err = remote.read_file(host, r["stderr"]) if r.get("stderr") else None
        if err:
            os.makedirs(run.file("stderr"), exist_ok=True)
            with open(run.file("stderr", f"{r['name']}.txt"), "wb") as f:
                f.write(err)
    return files


def _stderr_tail(hosts: dict, r: dict) -> str:
    data = remote.read_file(hosts[r["host"]], r["stderr"]) if r.get("stderr") else None
    lines = (data or b"").decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(nothing on stderr)"


def wait_started(run: RunDir, records: list[dict], hosts: dict, interrupts: Interrupts) -> list[dict]:
    """Waits until each node has logged `started` (or died, or START_TIMEOUT_S passed). Returns the failures."""
    pending = {r["name"]: r for r in records if r.get("pid")}
    failed: list[dict] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while pending and time.monotonic() < deadline and not interrupts.count:
        for host_name, recs in _host_groups(list(pending.values())).items():
            try:
                states = remote.started_many(hosts[host_name], recs)
            except remote.RemoteError as e:
                say(f"launcher: warning: {e}")
                continue
            for name, st in states.items():
                if st == "started":
                    pending.pop(name)
                elif st == "dead":
                    r = pending.pop(name)
                    why = _stderr_tail(hosts, r)
                    say(f"launcher: ERROR: {name} ({r['address']}) exited at start: {why}")
                    run.event("node_failed", name=name, address=r["address"], host=r["host"], reason=why)
                    failed.append(r)
        if pending:
            time.sleep(0.2)
    for r in pending.values():
        if not interrupts.count:
            say(f"launcher: warning: {r['name']} ({r['address']}) has not logged `started` "
                f"after {START_TIMEOUT_S:g} s")
    return failed


def _record(node, host_dir: str, pid: int | None) -> dict:
    paths = remote.node_paths(node, host_dir)
    return {"name": node.name, "role": node.role, "host": node.host.name, "address": node.address,
            "listen": node.listen, "config": paths["config"], "log": paths["log"], "stderr": paths["stderr"],
            "pid": pid, "remote": node.host.remote, "control": node.control}


def cmd_up(args: argparse.Namespace, root: str) -> int:
    try:
        cluster = load_cluster(args.cluster, root, "fast" if args.fast else None, args.duration)
    except ClusterError as e:
        print(f"launch: cluster file error: {e}", file=sys.stderr)
        return 2
    try:
        run = RunDir.create(os.path.join(root, "runs"), cluster.name, args.run_dir)
    except OSError as e:
        print(f"launch: {e}", file=sys.stderr)
        return 2
    if args.run_dir_file:
        with open(args.run_dir_file, "w") as f:
            f.write(run.path + "\n")
    shutil.copyfile(cluster.file, run.file("cluster.toml"))
    run_id = os.path.basename(run.path)
    host_id = f"{run_id}-{secrets.token_hex(3)}"  # unique on the hosts even if two runs share a name
    host_dirs = {h.name: os.path.join(h.work_dir, host_id) for h in cluster.hosts}
    hosts = {h.name: h for h in cluster.hosts}
    run.save_state({"run_id": run_id, "name": cluster.name, "cluster_file": os.path.abspath(cluster.file),
                    "preset": cluster.preset, "duration_s": cluster.duration_s, "grace_s": cluster.grace_s,
                    "security": cluster.security, "host_dirs": host_dirs, "state": "starting",
                    "attached": not args.detach, "launcher_pid": os.getpid(), "started": now_ts()})
    run.event("run_started", name=cluster.name, run_dir=run.path, cluster=os.path.abspath(cluster.file),
              hosts=len(cluster.hosts), seeds=len(cluster.seeds()), peers=len(cluster.peers()),
              preset=cluster.preset, duration_s=f"{cluster.duration_s:g}", security=cluster.security)
    say(f"launch: {cluster.name}: {len(cluster.seeds())} seeds + {len(cluster.peers())} peers on "
        f"{len(cluster.hosts)} host(s), preset {cluster.preset}, security {cluster.security}; "
        f"run folder {run.path}")

    interrupts = Interrupts()
    records: list[dict] = []
    failed: list[dict] = []
    started_at, started_wall = time.monotonic(), time.time()
    stop_reason = "error"
    try:
        if not _prepare_hosts(cluster, run, host_dirs, run_id, root):
            stop_reason = "start_failed"
            return 1
        for role in ("seed", "peer"):
            batch = []
            for node in (cluster.seeds() if role == "seed" else cluster.peers()):
                if interrupts.count:
                    break
                if role == "peer" and batch and cluster.stagger_ms:
                    time.sleep(cluster.stagger_ms / 1000)
                pid = None
                try:
                    pid = remote.start_node(node, host_dirs[node.host.name])
                except remote.RemoteError as e:
                    say(f"launcher: ERROR: cannot start {node.name}: {e}")
                    run.event("node_failed", name=node.name, address=node.address, host=node.host.name,
                              reason=str(e))
                rec = _record(node, host_dirs[node.host.name], pid)
                records.append(rec)
                run.save_nodes(records)
                if pid is None:
                    failed.append(rec)
                    continue
                batch.append(rec)
                run.event("node_started", name=node.name, role=node.role, address=node.address,
                          host=node.host.name, pid=pid)
                say(f"  started {node.name:<8} {node.address:<21} host {node.host.name:<10} pid {pid}")
            # Seeds must be up before peers register; peers are checked so a failed bind is reported now.
            failed += wait_started(run, batch, hosts, interrupts)
        if interrupts.count:
            stop_reason = f"signal_{interrupts.last}"
            return 1
        run.update_state(state="running")
        if failed:
            say(f"launcher: {len(failed)} node(s) failed to start: {', '.join(r['name'] for r in failed)}")
        if args.detach:
            run.update_state(attached=False, launcher_pid=None)
            say(f"launch: detached; `scripts/launch stop {run.path}` ends the run")
            say(run.path)
            stop_reason = ""
            return 1 if failed else 0
        stop_reason = _wait(cluster, run, records, hosts, interrupts, args, started_at, started_wall)
        return 1 if failed else 0
    finally:
        if stop_reason and not any(r.get("pid") for r in records):
            run.event("run_stopped", reason=stop_reason)
            run.update_state(state="stopped", stopped=now_ts())
            say(f"launch: no node was started ({stop_reason}); run folder {run.path}")
        elif stop_reason:
            files = stop_run(run, records, hosts, cluster.grace_s, stop_reason, hurry=lambda: interrupts.count > 1)
            _print_end(run, records, files)


def keygen_binary(cluster: Cluster, root: str) -> str | None:
    """The gossip-ctl on this machine that makes the run's keys: in a host's bin_dir (the same path is on
    every host, and so usually here too), else in this repo's build/bin. None if there is none."""
    for d in dict.fromkeys([h.bin_dir for h in cluster.hosts] + [os.path.join(root, "build", "bin")]):
        path = os.path.join(d, "gossip-ctl")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def make_keys(cluster: Cluster, run: RunDir, root: str) -> bool:
    """Security mode curve: a key pair per node in RUN/keys/ (each for the node's exact addresses), one for
    the operator (gossip-ctl, 127.0.0.1:1), and every .pub in RUN/trusted/. Made here, shipped to the hosts
    by ship_keys. Returns False (and says why) when a key cannot be made."""
    ctl = keygen_binary(cluster, root)
    if ctl is None:
        say("launcher: ERROR: security mode curve needs gossip-ctl on this machine to make the keys; none in "
            f"{', '.join(sorted({h.bin_dir for h in cluster.hosts}))} or build/bin (build it, or write "
            "security = \"none\" in the cluster file)")
        return False
    try:
        for node in cluster.nodes:
            make_member(ctl, run.file("keys"), node.name, cluster.key_addresses(node), run.file("trusted"))
        make_member(ctl, run.file("keys"), "operator", [OPERATOR], run.file("trusted"))
    except (KeygenError, OSError) as e:
        say(f"launcher: ERROR: making the keys: {e}")
        return False
    run.event("keys_made", keys=len(cluster.nodes) + 1, dir=run.file("keys"), trusted_dir=run.file("trusted"))
    say(f"launch: security curve: a key pair for each of the {len(cluster.nodes)} nodes and the operator in "
        f"{run.file('keys')}, all public keys in {run.file('trusted')}; gossip-ctl publish and send need "
        f"--key {run.file('keys', 'operator.key')} --trusted-dir {run.file('trusted')}")
    return True


def ship_keys(cluster: Cluster, run: RunDir, host_dirs: dict) -> bool:
    """Writes, on every host, each of its nodes' secret key (mode 0600) and the whole trusted folder, in one
    command per host. Returns False (and says why) when a host cannot be written to."""
    trusted = {}
    for name in sorted(os.listdir(run.file("trusted"))):
        if name.endswith(".pub"):
            with open(run.file("trusted", name)) as f:
                trusted[name] = f.read()
    for h in cluster.hosts:
        nodes = [n for n in cluster.nodes if n.host is h]
        if not nodes:
            continue
        files = []
        for node in nodes:
            with open(run.file("keys", f"{node.name}.key")) as f:
                files.append((host_key_paths(node, host_dirs[h.name])["key_file"], f.read(), True))
        trusted_dir = host_key_paths(nodes[0], host_dirs[h.name])["trusted_dir"]
        files += [(os.path.join(trusted_dir, name), text, False) for name, text in trusted.items()]
        try:
            remote.write_files(h, files)
        except remote.RemoteError as e:
            say(f"launcher: ERROR: shipping the keys to host {h.name}: {e}")
            return False
    return True


def _prepare_hosts(cluster: Cluster, run: RunDir, host_dirs: dict, run_id: str, root: str) -> bool:
    """Checks the binaries on every host, makes and ships the keys (security mode curve) and writes every
    node's config there (and a local copy)."""
    for h in cluster.hosts:
        roles = {n.role for n in cluster.nodes if n.host is h}
        try:
            missing = remote.missing_files(h, [os.path.join(h.bin_dir, f"gossip-{r}") for r in sorted(roles)])
        except remote.RemoteError as e:
            say(f"launcher: ERROR: {e}")
            return False
        if missing:
            say(f"launcher: ERROR: on host {h.name}: not found or not executable: {', '.join(missing)} "
                f"(build first: cmake -S . -B build && cmake --build build)")
            return False
    if cluster.security == "curve":
        if not make_keys(cluster, run, root) or not ship_keys(cluster, run, host_dirs):
            return False
    else:
        say("launch: security none: the nodes trust every message's sender field (the cluster file says "
            "security = \"none\")")
    for node in cluster.nodes:
        text = render_node_config(cluster, node, host_dirs[node.host.name], run_id)
        with open(run.file("configs", f"{node.name}.toml"), "w") as f:
            f.write(text)
        try:
            remote.write_file(node.host, remote.node_paths(node, host_dirs[node.host.name])["config"], text)
        except remote.RemoteError as e:
            say(f"launcher: ERROR: writing the config of {node.name}: {e}")
            return False
    return True


def _wait(cluster: Cluster, run: RunDir, records: list[dict], hosts: dict, interrupts: Interrupts,
          args: argparse.Namespace, started_at: float, started_wall: float) -> str:
    """Waits for Ctrl-C, a `launch stop`, the duration, or every node gone; returns why it stopped."""
    duration = cluster.duration_s
    deadline = time.monotonic() + duration if duration > 0 else None  # counted once every node is up
    live = view.LiveView(records, hosts, run.file("events.log"), started_wall) if args.view else None
    when = f"for {duration:g} s" if deadline else "until Ctrl-C"
    say(f"launch: running {when} (Ctrl-C or `scripts/launch stop {run.path}` stops it)")
    alive = alive_all(records, hosts)  # only a change from here on is news
    next_alive = next_poll = time.monotonic()
    next_table = time.monotonic() + args.view_interval
    while True:
        now = time.monotonic()
        if interrupts.count:
            return "stop_command" if interrupts.last == "SIGTERM" else f"signal_{interrupts.last}"
        if deadline and now >= deadline:
            return "duration"
        if now >= next_alive:
            next_alive = now + ALIVE_CHECK_S
            current = alive_all(records, hosts)
            for r in records:
                if alive.get(r["name"]) and current.get(r["name"]) is False:
                    run.event("node_exited", name=r["name"], address=r["address"], host=r["host"])
                    if not live:
                        say(f"launcher: {r['name']} ({r['address']}) is no longer running")
            alive.update({k: v for k, v in current.items() if k in alive})
            if alive and not any(alive.values()):
                say("launcher: every node has exited")
                return "all_nodes_exited"
        if live and now >= next_poll:
            next_poll = now + VIEW_POLL_S
            live.poll()
            if now >= next_table:
                next_table = now + args.view_interval
                live.table(alive)
        time.sleep(0.1)


def _print_end(run: RunDir, records: list[dict], files: int) -> None:
    for line in view.delivery_summary(run.file("logs"), records):
        say(line)
    say(f"launch: stopped; {files} node logs in {run.file('logs')}, launcher events in {run.file('events.log')}")
    say(run.path)


def _load_run(path: str) -> tuple[RunDir, list[dict], dict] | None:
    run = RunDir(path)
    if not run.exists():
        print(f"launch: {path} is not a run folder (no nodes.json)", file=sys.stderr)
        return None
    records = run.load_nodes()
    return run, records, run.hosts(records)


def _launcher_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(b"launch") for a in argv) and b"up" in argv


def cmd_stop(args: argparse.Namespace, _root: str) -> int:
    loaded = _load_run(args.run_dir)
    if not loaded:
        return 2
    run, records, hosts = loaded
    state = run.load_state()
    grace = float(args.grace if args.grace is not None else state.get("grace_s", 5))
    pid = state.get("launcher_pid")
    if state.get("attached") and state.get("state") != "stopped" and _launcher_alive(pid):
        # An attached `up` owns this run: ask it to stop, so it collects the logs and prints its summary.
        os.kill(pid, signal.SIGTERM)
        say(f"launch: asked the attached launcher (pid {pid}) to stop the run")
        deadline = time.monotonic() + 2 * grace + 120
        while time.monotonic() < deadline and _launcher_alive(pid) and run.load_state().get("state") != "stopped":
            time.sleep(0.3)
        if run.load_state().get("state") == "stopped":
            say(run.path)
            return 0
        say("launch: the attached launcher did not finish; stopping the nodes here")
    files = stop_run(run, records, hosts, grace, "stop_command")
    _print_end(run, records, files)
    return 0


def _find(records: list[dict], which: str) -> dict | None:
    for r in records:
        if which in (r["name"], r["address"]):
            return r
    return None


def cmd_kill(args: argparse.Namespace, _root: str) -> int:
    loaded = _load_run(args.run_dir)
    if not loaded:
        return 2
    run, records, hosts = loaded
    r = _find(records, args.node)
    if not r:
        print(f"launch: no node '{args.node}' in {run.path} (names: "
              f"{', '.join(x['name'] for x in records)})", file=sys.stderr)
        return 2
    sig = args.signal.upper().removeprefix("SIG")
    if not r.get("pid") or not _signal(run, [r], hosts, sig, "kill"):
        print(f"launch: {r['name']} ({r['address']}) is not running", file=sys.stderr)
        return 1
    say(f"launch: sent SIG{sig} to {r['name']} ({r['address']}, pid {r['pid']} on host {r['host']})")
    return 0


def cmd_status(args: argparse.Namespace, _root: str) -> int:
    loaded = _load_run(args.run_dir)
    if not loaded:
        return 2
    run, records, hosts = loaded
    alive = alive_all(records, hosts)
    state = run.load_state()
    say(f"run {run.path}: {state.get('state', '?')}")
    for r in records:
        a = alive.get(r["name"])
        say(f"{r['name']:<10} {r['role']:<5} {r['host']:<12} {r['address']:<22} pid {str(r.get('pid')):<8} "
            f"{'alive' if a else 'dead' if a is False else 'unknown'}")
    return 0


def cmd_mark(args: argparse.Namespace, _root: str) -> int:
    """Records in events.log something done to the run from outside the launcher (a cable pulled, a host
    cut off), so scripts/aggregate can take it into account."""
    loaded = _load_run(args.run_dir)
    if not loaded:
        return 2
    run, records, _hosts = loaded
    fields = {}
    for kv in args.fields:
        key, sep, value = kv.partition("=")
        if not sep or not key.isidentifier():
            print(f"launch: '{kv}' is not key=value", file=sys.stderr)
            return 2
        fields[key] = value
    if args.event in ("host_isolated", "host_restored"):
        known = {r["host"] for r in records}
        if fields.get("host") not in known:
            print(f"launch: {args.event} needs host=NAME, one of: {', '.join(sorted(known))}", file=sys.stderr)
            return 2
    run.event(args.event, **fields)
    say(f"launch: recorded {args.event} in {run.file('events.log')}")
    return 0


def main(argv: list[str], root: str) -> int:
    p = argparse.ArgumentParser(prog="launch", description="Start, watch and stop a cluster of gossip nodes "
                                "on one or many hosts (docs/LAUNCH.md).")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a cluster; wait; stop it and collect the logs")
    up.add_argument("cluster", help="cluster file (TOML), e.g. config/cluster.toml")
    up.add_argument("--duration", type=float, metavar="S", help="seconds to run (0 = until Ctrl-C or stop); "
                    "overrides duration_s")
    up.add_argument("--run-dir", metavar="DIR", help="the run folder (default runs/<name>-<UTC time>)")
    up.add_argument("--detach", action="store_true", help="start everything and return; `stop` ends the run")
    up.add_argument("--fast", action="store_true", help="use the node preset \"fast\" (short timers)")
    up.add_argument("--view", action="store_true", help="show events as they happen and a table per node")
    up.add_argument("--view-interval", type=float, default=5.0, metavar="S", help="seconds between tables (5)")
    up.add_argument("--run-dir-file", metavar="FILE", help="also write the run folder's path into FILE")
    stop = sub.add_parser("stop", help="stop every node of a run (TERM, grace, KILL) and collect the logs")
    stop.add_argument("run_dir")
    stop.add_argument("--grace", type=float, metavar="S", help="seconds between TERM and KILL (the run's grace_s)")
    kill = sub.add_parser("kill", help="send one node a signal now (failure drills)")
    kill.add_argument("run_dir")
    kill.add_argument("node", help="the node's name (peer-3) or address (127.0.0.1:7003)")
    kill.add_argument("--signal", default="KILL", type=str.upper, choices=SIGNALS, help="default KILL")
    status = sub.add_parser("status", help="one line per node: name, role, host, address, pid, alive")
    status.add_argument("run_dir")
    mark = sub.add_parser("mark", help="record an outside event in events.log, e.g. host_isolated host=h4")
    mark.add_argument("run_dir")
    mark.add_argument("event", help="event name: host_isolated / host_restored (understood by scripts/aggregate) "
                      "or any other [a-z_] name")
    mark.add_argument("fields", nargs="*", metavar="KEY=VALUE")
    args = p.parse_args(argv)
    if args.command == "up" and args.duration is not None and args.duration < 0:
        p.error("--duration must be >= 0")
    return {"up": cmd_up, "stop": cmd_stop, "kill": cmd_kill, "status": cmd_status,
            "mark": cmd_mark}[args.command](args, root)
