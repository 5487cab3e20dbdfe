"""The by-hand walk-through: config/seed.toml and config/peer.toml as shipped (security mode curve), with the
keys made by exactly the commands their comments show, or README.md's "Running nodes by hand" block. The
commands make the keys the configs name, the seed and the peer start in mode curve and the peer joins, and
gossip-ctl publishes through the peer with the key the commands made for it.

The configs and the commands are run in a copy of config/ under the test's temp dir (their relative paths
then land there, not in the repo), with two changes only: the ports (5001, 7001, 9001) are free ones, and
the peer's node.control is on, for the publish line."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from toolkit.local_nodes import LogTail, free_port, start_process, stop_processes  # noqa: E402

SECURITY_MODES = "curve"  # the shipped configs are curve; mode none needs no keys to walk through
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED_PORTS = (5001, 7001, 9001)  # seed, peer, peer's control endpoint


def comment_commands(path):
    """The shell commands in a config's comments: lines `#   build/bin/...`, `#   mkdir ...`, `#   cp ...`."""
    with open(path, encoding="utf-8") as f:
        return [m.group(1) for m in (re.match(r"^#\s{2,}((?:build/bin/|mkdir |cp ).*)$", l.rstrip("\n")) for l in f)
                if m]


def readme_commands():
    """The commands of README.md's "Running nodes by hand" sh block, continuation lines joined."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Running nodes by hand", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [l for l in block.replace("\\\n", " ").splitlines() if l.strip()]


def walk(c, commands):
    """Runs the commands in a copy of config/ with free ports; starts the nodes the way they say. Returns the
    (seed, peer) logs after checking that both run in mode curve and the peer joined."""
    root = os.path.join(c.dir, "repo")
    shutil.copytree(os.path.join(REPO, "config"), os.path.join(root, "config"))
    ports = {}
    for shipped in SHIPPED_PORTS:
        ports[shipped] = free_port("127.0.0.1", avoid=set(ports.values()))

    def localise(text):
        for shipped, port in ports.items():
            text = text.replace("127.0.0.1:%d" % shipped, "127.0.0.1:%d" % port)
        return text.replace("build/bin/", c.bin_dir + "/")

    for name in ("seed.toml", "peer.toml", "seeds.toml"):
        path = os.path.join(root, "config", name)
        with open(path, encoding="utf-8") as f:
            text = localise(f.read())
        if name == "peer.toml":
            text, n = re.subn(r'^control = ""', 'control = "127.0.0.1:%d"' % ports[9001], text, flags=re.M)
            h.check(n == 1, "config/peer.toml has no `control = \"\"` line to turn on")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    procs, logs, published = [], {}, []
    try:
        for cmd in commands:
            if cmd.startswith("cmake "):
                continue  # the build: --bin is built
            role = re.match(r"^build/bin/gossip-(seed|peer) ", cmd)
            if role:
                # A node: started in the background, like a second terminal would.
                out = os.path.join(c.dir, role.group(1) + ".out")
                procs.append(start_process(["sh", "-c", 'cd "$0" && exec ' + localise(cmd), root], out))
                log = logs[role.group(1)] = LogTail(directory=os.path.join(root, "logs"),
                                                    prefix=role.group(1) + "-", parse=h.parse_checked)
                h.wait_until(lambda: [l for l in log.read() if l.get("event") == "started"] or procs[-1].poll(),
                             15, "%s's `started` line" % role.group(1))
                h.check(procs[-1].poll() is None, "%s exited: %s" % (cmd, open(out).read()))
                continue
            if " publish " in cmd:
                h.wait_until(lambda: [l for l in logs["peer"].read() if l.get("event") == "joined"], 15,
                             "the peer's `joined` line")
            r = subprocess.run(["sh", "-c", localise(cmd)], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=30)
            print("  $ %s\n    %s" % (cmd, r.stdout.strip().replace("\n", "\n    ")))
            h.check(r.returncode == 0, "`%s` exited %d" % (cmd, r.returncode))
            if " publish " in cmd:
                published.append(r.stdout)
        h.check(set(logs) == {"seed", "peer"}, "the commands started %r, not a seed and a peer" % sorted(logs))
        for role, log in logs.items():
            sec = [l for l in log.read() if l.get("event") == "security"]
            h.check(sec and sec[0]["mode"] == "curve", "the %s does not run in mode curve: %r" % (role, sec))
        h.wait_until(lambda: [l for l in logs["peer"].read() if l.get("event") == "joined"], 15,
                     "the peer's `joined` line")
        h.check(published and "published origin=127.0.0.1:%d" % ports[7001] in published[0],
                "no publish through the peer: %r" % published)
        h.wait_until(lambda: [l for l in logs["peer"].read() if l.get("event") == "gossip_origin"], 15,
                     "the published message's gossip_origin")
    except BaseException:
        for role, log in logs.items():
            print("  ---- %s log, last lines\n  %s" % (role, "\n  ".join(l["_raw"].decode(errors="replace")
                                                                       for l in log.read()[-12:])))
        raise
    finally:
        stop_processes(procs, 8.0)
    h.check(all(p.returncode == 0 for p in procs), "exit statuses %r" % [p.returncode for p in procs])


def test_the_commands_in_the_shipped_configs_comments_make_their_keys_and_the_nodes_join_in_curve_mode(c):
    commands = comment_commands(os.path.join(REPO, "config", "seed.toml")) + \
        ["build/bin/gossip-seed --config config/seed.toml"] + \
        comment_commands(os.path.join(REPO, "config", "peer.toml"))
    publish = [x for x in commands if " publish " in x]
    h.check(publish, "config/peer.toml shows no publish command")
    # The peer starts once its key is made, before the publish line.
    commands.insert(commands.index(publish[0]), "build/bin/gossip-peer --config config/peer.toml")
    walk(c, commands)


def test_the_readme_walk_through_runs_as_written(c):
    walk(c, readme_commands())


if __name__ == "__main__":
    h.main([test_the_commands_in_the_shipped_configs_comments_make_their_keys_and_the_nodes_join_in_curve_mode,
            test_the_readme_walk_through_runs_as_written])
