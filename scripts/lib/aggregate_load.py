"""aggregate_load.py - finds and reads everything in a run folder: the nodes' logs, events.log, nodes.json
and the nodes' configs. Standard library only.

What it does not do: judge anything. aggregate_analysis.py turns what this reads into the summary.
"""

import hashlib
import json
import os

from toolkit.logfmt import parse_line
from toolkit.timestamps import parse_ts

try:  # Python 3.11+
    import tomllib as _toml
except ImportError:  # pragma: no cover - older interpreters
    _toml = None

DEFAULT_MAX_DEGREE = 4  # src/common/config.hpp OverlayConfig::max_degree


class Record:
    """One parsed log line."""

    __slots__ = ("ts", "node", "event", "kv", "src", "lineno")

    def __init__(self, ts, node, event, kv, src, lineno):
        self.ts = ts          # microseconds since the epoch, by the writer's clock
        self.node = node      # "ip:port", or "launcher" for events.log lines
        self.event = event
        self.kv = kv          # every key=value of the line, decoded
        self.src = src        # index into RunData.files
        self.lineno = lineno  # 1-based

    def key(self):
        return (self.ts, self.src, self.lineno)

    def get(self, key, default=None):
        return self.kv.get(key, default)


class RunData:
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.files = []          # paths of every file read
        self.records = []        # parsed lines, in file order
        self.timeline = []       # (ts, src, lineno, raw bytes) for every line, parsed or not
        self.unparsed = []       # (path, lineno, excerpt) of lines with no ts/node/event
        self.nodes_meta = {}     # address -> entry of nodes.json
        self.nodes_json = None   # path if present
        self.events_log = None   # path if present
        self.notes = []          # things worth telling the reader


def _read_nodes_json(path, data):
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        data.notes.append("nodes.json could not be read (%s); going on without it" % e)
        return
    if isinstance(entries, dict):  # tolerate {"nodes": [...]}
        entries = entries.get("nodes", [])
    if not isinstance(entries, list):
        data.notes.append("nodes.json is not a list of nodes; ignored")
        return
    data.nodes_json = path
    for e in entries:
        if not isinstance(e, dict):
            continue
        addr = e.get("address") or e.get("listen")
        if isinstance(addr, str) and addr:
            data.nodes_meta[addr] = e


def _log_files(run_dir, data):
    """logs/*.log, the run folder's own *.log, and nodes.json's log paths that exist here."""
    found = []
    seen = set()

    def add(path):
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(path):
            return
        seen.add(real)
        found.append(path)

    events = os.path.join(run_dir, "events.log")
    if os.path.isfile(events):
        data.events_log = events
        add(events)
    logs_dir = os.path.join(run_dir, "logs")
    if os.path.isdir(logs_dir):
        for name in sorted(os.listdir(logs_dir)):
            if name.endswith(".log"):
                add(os.path.join(logs_dir, name))
    for name in sorted(os.listdir(run_dir)):
        # timeline.log is what this tool writes, should --out have pointed at the run folder itself.
        if name.endswith(".log") and name not in ("events.log", "timeline.log"):
            add(os.path.join(run_dir, name))
    # nodes.json's log paths are on the nodes' hosts; the launcher collects each into RUN/logs/ under the same
    # file name. Such a path is read only when no collected copy exists (on a local run both exist).
    collected = {os.path.basename(p) for p in found}
    for addr in sorted(data.nodes_meta):
        log = data.nodes_meta[addr].get("log")
        if isinstance(log, str) and log and os.path.basename(log) not in collected:
            cand = os.path.join(run_dir, log)
            if os.path.isfile(cand):
                add(cand)
    return found


def load(run_dir):
    """Reads the run folder. Raises FileNotFoundError if it has no log file at all."""
    data = RunData(run_dir)
    nodes_json = os.path.join(run_dir, "nodes.json")
    if os.path.isfile(nodes_json):
        _read_nodes_json(nodes_json, data)
    files = _log_files(run_dir, data)
    if not files:
        raise FileNotFoundError("no log files in %s (looked for logs/*.log, *.log, events.log)" % run_dir)
    digests = {}
    for path in files:
        with open(path, "rb") as f:
            raw = f.read()
        digest = hashlib.sha256(raw).hexdigest()
        if digest in digests:
            data.notes.append("%s has the same bytes as %s: read once" % (
                os.path.relpath(path, run_dir), os.path.relpath(digests[digest], run_dir)))
            continue
        digests[digest] = path
        src = len(data.files)
        data.files.append(path)
        lines = raw.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        last_ts = None
        for lineno, rawline in enumerate(lines, 1):
            text = rawline.decode("utf-8", "backslashreplace")
            kv = parse_line(text) if text.strip() else {}
            ts = parse_ts(kv.get("ts"))
            node, event = kv.get("node"), kv.get("event")
            if ts is None or not node or not event:
                if text.strip():
                    data.unparsed.append((path, lineno, text[:160]))
                # Keeps its place after the line before it in the same file.
                data.timeline.append((last_ts if last_ts is not None else -1, src, lineno, rawline))
                continue
            last_ts = ts
            data.timeline.append((ts, src, lineno, rawline))
            data.records.append(Record(ts, node, event, kv, src, lineno))
    return data


def _tiny_toml_max_degree(text):
    """max_degree from [overlay] without a TOML library; None if absent."""
    section = ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]").strip()
        elif section == "overlay" and line.startswith("max_degree"):
            _, _, value = line.partition("=")
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None


def read_max_degree(config_path):
    """overlay.max_degree of a node's config file: its value, the default 4 when the file has no such
    key, or None when the file cannot be read."""
    try:
        with open(config_path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    if _toml is not None:
        try:
            doc = _toml.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return None
        overlay = doc.get("overlay", {})
        value = overlay.get("max_degree", DEFAULT_MAX_DEGREE) if isinstance(overlay, dict) else DEFAULT_MAX_DEGREE
        return value if isinstance(value, int) else None
    value = _tiny_toml_max_degree(raw.decode("utf-8", "replace"))
    return DEFAULT_MAX_DEGREE if value is None else value


def find_config(run_dir, candidates):
    """The first of `candidates` (paths from nodes.json or the node's `started config=`) that exists, tried
    by file name under RUN/configs/, then as given (a relative path from the run folder)."""
    for c in candidates:
        if not isinstance(c, str) or not c:
            continue
        # The run folder's own copy first (a path on the node's host may hold another run's file); join()
        # keeps an absolute path as it is and takes a relative one from the run folder.
        for cand in (os.path.join(run_dir, "configs", os.path.basename(c)), os.path.join(run_dir, c)):
            if os.path.isfile(cand):
                return cand
    return None
