"""The Python toolkit shared by scripts/launch, scripts/aggregate, scripts/bench and tests/system: one logfmt
parser and writer (logfmt.py) and one timestamp parser and formatter (timestamps.py). Put scripts/lib on
sys.path and `from toolkit import ...`.

Standard library only. What scripts/aggregate imports runs on any Python 3.8+.
"""
