"""logfmt lines as the nodes write them (docs/LOGS.md): `ts=... node=... event=... key=value ...`.

Writes the launcher's own lines in the same format and parses node lines for the live view and the summary.
Not a general logfmt library: it knows exactly the quoting the nodes use and nothing more.
"""
from __future__ import annotations

import datetime

_HEX = "0123456789abcdef"


def utc_timestamp() -> str:
    """The nodes' timestamp format: UTC ISO-8601 with microseconds, e.g. 2024-05-01T12:00:00.123456Z."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_bare(v: str) -> bool:
    return v != "" and all(" " < c < "\x7f" and c not in '"=\\' for c in v)


def format_value(v: object) -> str:
    """A value bare when it can be, else double-quoted with \\" \\\\ \\n \\r \\t \\xNN escapes (UTF-8 passes)."""
    s = str(v)
    if _is_bare(s):
        return s
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append("\\x" + _HEX[ord(c) >> 4] + _HEX[ord(c) & 15])
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def format_line(node: str, event: str, **fields: object) -> str:
    """One line without the newline: ts= node= event= then the fields in the order given (None skipped)."""
    parts = [f"ts={utc_timestamp()}", f"node={format_value(node)}", f"event={format_value(event)}"]
    parts += [f"{k}={format_value(v)}" for k, v in fields.items() if v is not None]
    return " ".join(parts)


def parse_line(line: str) -> dict[str, str]:
    """The key/value pairs of one line. A malformed tail is skipped, never raised: logs may be cut mid-line."""
    out: dict[str, str] = {}
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        eq = line.find("=", i)
        if eq < 0:
            break
        key = line[i:eq]
        i = eq + 1
        if i < n and line[i] == '"':
            i += 1
            buf = []
            while i < n and line[i] != '"':
                c = line[i]
                if c == "\\" and i + 1 < n:
                    e = line[i + 1]
                    if e == "x" and i + 3 < n:
                        try:
                            buf.append(chr(int(line[i + 2:i + 4], 16)))
                            i += 4
                            continue
                        except ValueError:
                            pass
                    buf.append({"n": "\n", "r": "\r", "t": "\t"}.get(e, e))
                    i += 2
                    continue
                buf.append(c)
                i += 1
            i += 1  # the closing quote
            out[key] = "".join(buf)
        else:
            end = line.find(" ", i)
            end = n if end < 0 else end
            out[key] = line[i:end]
            i = end
    return out
