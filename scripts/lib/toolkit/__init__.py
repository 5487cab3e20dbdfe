"""The Python toolkit shared by scripts/launch, scripts/aggregate, scripts/bench and tests/system: one logfmt
parser and writer (logfmt.py), one timestamp parser and formatter (timestamps.py), one node config writer
(node_config.py), one way to start, watch and stop nodes on this machine by PID (local_nodes.py), one way
to make a node's key pair for security mode curve (keys.py) and the overlay as the logs describe it
(overlay.py). Put scripts/lib on sys.path and `from toolkit import ...`.

Not a library for other projects: it knows this project's logs, configs and binaries and nothing more.
Standard library only. What scripts/aggregate imports (logfmt, timestamps) runs on any Python 3.8+.
"""
