"""aggregate_logfmt.py - reads the nodes' logfmt lines (docs/LOGS.md) and their timestamps.

Standard library only; works with any Python 3.8+. Not a general logfmt library: it accepts exactly what
src/common/log.cpp writes (bare values, or double-quoted values with \\" \\\\ \\n \\r \\t \\xNN escapes) and
is lenient with anything else (an unknown escape keeps its character, a bare key has the value "").
"""

import calendar
import re
import time

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$")


def parse_ts(text):
    """'2026-11-25T13:37:50.123456Z' -> microseconds since the Unix epoch (int); None if it is not one."""
    if not text:
        return None
    m = _TS.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    frac = (m.group(7) or "") + "000000"
    secs = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = m.group(8)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        secs -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return secs * 1_000_000 + int(frac[:6])


def format_ts(us):
    """Microseconds since the epoch -> '2026-11-25T13:37:50.123456Z' (the nodes' own format)."""
    secs, frac = divmod(int(us), 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%06dZ" % frac


_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", '"': b'"', "\\": b"\\"}
_HEX = set("0123456789abcdefABCDEF")


def _unquote(line, i):
    """Decodes the quoted value whose opening quote is at line[i]. Returns (value, index after it)."""
    out = bytearray()
    n = len(line)
    i += 1
    start = i
    while i < n:
        c = line[i]
        if c == '"':
            out += line[start:i].encode("utf-8", "surrogateescape")
            return out.decode("utf-8", "backslashreplace"), i + 1
        if c == "\\" and i + 1 < n:
            out += line[start:i].encode("utf-8", "surrogateescape")
            e = line[i + 1]
            if e in _ESCAPES:
                out += _ESCAPES[e]
                i += 2
            elif e == "x" and i + 3 < n and line[i + 2] in _HEX and line[i + 3] in _HEX:
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
            else:
                out += e.encode("utf-8", "surrogateescape")
                i += 2
            start = i
            continue
        i += 1
    # No closing quote (a truncated line): take what is there.
    out += line[start:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "backslashreplace"), n


def parse_line(line):
    """One logfmt line -> dict of key -> str value (first occurrence of a key wins). Empty dict for a
    line with no key=value pair at all."""
    line = line.rstrip("\r\n")
    fields = {}
    if '"' not in line:
        for token in line.split():
            key, _, value = token.partition("=")
            if key and key not in fields:
                fields[key] = value
        return fields
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            break
        j = i
        while j < n and line[j] not in "= ":
            j += 1
        key = line[i:j]
        if j < n and line[j] == "=":
            j += 1
            if j < n and line[j] == '"':
                value, j = _unquote(line, j)
            else:
                k = j
                while k < n and line[k] != " ":
                    k += 1
                value, j = line[j:k], k
        else:
            value = ""
        if key and key not in fields:
            fields[key] = value
        i = j
    return fields
