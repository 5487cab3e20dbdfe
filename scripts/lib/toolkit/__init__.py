"""The Python toolkit shared by scripts/launch, scripts/aggregate, scripts/bench and tests/system: one logfmt
parser and writer (logfmt.py), one timestamp parser and formatter (timestamps.py) and one node config
writer (node_config.py). Put scripts/lib on sys.path and `from toolkit import ...`.

Standard library only. What scripts/aggregate imports runs on any Python 3.8+.
"""
