"""A bad config stops a node before anything starts: exit status 2, one message naming the file, the line,
the key and the reason, and no log file, no bound port. A good config with unreachable seeds still runs."""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CASES = [
    # (name, config text, key in the message, words of the reason, line)
    ("syntax", 'preset = "fast"\n[node\nlisten = "127.0.0.1:%d"\n', None, "TOML syntax error", 2),
    ("unknown key", '[node]\nlisten = "127.0.0.1:%d"\nseeds = ["127.0.0.1:1"]\ncolour = 3\n', "node.colour",
     "unknown key", 4),
    ("wrong type", '[node]\nlisten = "127.0.0.1:%d"\nseeds = ["127.0.0.1:1"]\n[overlay]\nmax_degree = "4"\n',
     "overlay.max_degree", "must be an integer", 5),
    ("out of range", '[node]\nlisten = "127.0.0.1:%d"\nseeds = ["127.0.0.1:1"]\n[liveness]\nmax_misses = 0\n',
     "liveness.max_misses", "between 1 and 1000", 5),
    ("bad address", '[node]\nlisten = "127.0.0.1:%d"\nseeds = ["localhost:5001"]\n', "node.seeds",
     "not an IP address", 3),
    ("cross-key", '[node]\nlisten = "127.0.0.1:%d"\nseeds = ["127.0.0.1:1"]\n[overlay]\nmax_degree = 2\n'
     'target_degree = 3\n', "overlay.target_degree", "must not exceed overlay.max_degree", 6),
]


def test_every_kind_of_bad_config_exits_2_naming_file_line_key_and_reason_before_anything_starts(c):
    for name, text, key, reason, line in CASES:
        port = h.free_port()
        path = os.path.join(c.dir, name.replace(" ", "_") + ".toml")
        with open(path, "w") as f:
            f.write(text % port)
        for binary in ("gossip-peer", "gossip-seed"):
            r = subprocess.run([c.bin(binary), "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=20)
            err = r.stderr.strip()
            print("  %s / %s -> %d: %s" % (name, binary, r.returncode, err))
            h.check(r.returncode == 2, "%s (%s): exit %d, want 2" % (name, binary, r.returncode))
            h.check(len(err.splitlines()) == 1, "%s: want one line, got %r" % (name, err))
            h.check("%s:%d:" % (path, line) in err, "%s: file and line missing from %r" % (name, err))
            if key:
                h.check("key '%s'" % key in err, "%s: key missing from %r" % (name, err))
            h.check(reason in err, "%s: reason %r missing from %r" % (name, reason, err))
        # Nothing started: the port is still free and no log was written next to the config.
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        h.check(not os.path.exists(os.path.join(c.dir, "logs")), "a log directory was created")
    r = subprocess.run([c.bin("gossip-peer"), "--config", os.path.join(c.dir, "missing.toml")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
    h.check(r.returncode == 2 and "cannot open" in r.stderr, "missing file: %d %r" % (r.returncode, r.stderr))


def test_a_peer_whose_seeds_are_all_unreachable_keeps_running_and_says_so(c):
    dead = ["127.0.0.1:%d" % h.free_port() for _ in range(3)]
    p = c.start_peer(seeds=dead, overrides={"node": {"register_timeout_ms": 200, "retry_max_ms": 400}})
    p.wait_for("seed_unreachable", 10, "seed_unreachable", count=3)
    p.wait_for("register_retry", 10, "register_retry", count=2)
    h.check(p.alive(), "the peer exited")


if __name__ == "__main__":
    h.main([test_every_kind_of_bad_config_exits_2_naming_file_line_key_and_reason_before_anything_starts,
            test_a_peer_whose_seeds_are_all_unreachable_keeps_running_and_says_so])
