"""The nodes' timestamps (docs/LOGS.md): UTC ISO-8601 with microseconds, `2026-11-25T13:37:50.123456Z`,
taken as whole microseconds since the Unix epoch.

Parses what src/common/log.cpp writes and, leniently, other zones and fraction lengths; formats only the
nodes' own form. Not a date library: no local time, no leap-second smearing.
"""

import calendar
import re
import time

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$")
# 'YYYY-mm-ddTHH:MM:SS' -> microseconds at that second: a run's lines share few distinct seconds, and
# parsing every line's date from scratch was the aggregator's largest cost on big runs.
_SECOND_US = {}


def _parse_full(text):
    m = _TS.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    frac = (m.group(7) or "") + "000000"
    secs = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = m.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        secs -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return secs * 1_000_000 + int(frac[:6])


def parse_ts(text):
    """'2026-11-25T13:37:50.123456Z' -> microseconds since the Unix epoch (int); None if it is not one."""
    if not text:
        return None
    frac = text[20:26]
    if len(text) == 27 and text[19] == "." and text[26] == "Z" and frac.isdigit() and frac.isascii():
        base = _SECOND_US.get(text[:19], False)
        if base is False:
            base = _SECOND_US[text[:19]] = _parse_full(text[:19] + "Z")
        return None if base is None else base + int(frac)
    return _parse_full(text)


def format_ts(us):
    """Microseconds since the epoch -> '2026-11-25T13:37:50.123456Z' (the nodes' own format)."""
    secs, frac = divmod(int(us), 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%06dZ" % frac


def now_ts():
    """This instant in the nodes' format, for lines the tools write themselves (events.log)."""
    return format_ts(time.time_ns() // 1000)
