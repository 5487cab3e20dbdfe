"""The nodes' log lines (docs/LOGS.md): `ts=... node=... event=... key=value ...`, read and written.

The one parser and writer of the toolkit. Not a general logfmt library: it knows exactly the quoting
src/common/log.cpp writes (bare values, or double-quoted ones with \\" \\\\ \\n \\r \\t \\xNN escapes).
`parse_line` is lenient, for tools reading logs a kill may have cut mid-line: an unknown escape keeps its
character, a bare key has the value "", the first occurrence of a key wins, a truncated value is taken as
it is. `parse_line_strict` refuses (ValueError) anything log.cpp would not write, for the tests that check
the nodes' output, and keeps every value's exact bytes (see value_bytes).
"""

_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", '"': b'"', "\\": b"\\"}
_HEX = frozenset("0123456789abcdefABCDEF")


def parse_line(line):
    """One line (str, or bytes taken as UTF-8) -> {key: value}; invalid UTF-8, raw or escaped as \\xNN,
    comes out as the text `\\xNN`, so values print and serialise as they are. {} for a line without keys."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "backslashreplace")
    if '"' not in line:  # the common case, and the fast one: nothing to unquote
        fields = {}
        for token in line.split():
            key, _, value = token.partition("=")
            if key and key not in fields:
                fields[key] = value
        return fields
    return _parse(line, False, "backslashreplace")


def parse_line_strict(raw):
    """One line (bytes or str) -> {key: value}, where value_bytes(value) gives back the exact bytes the node
    logged. Raises ValueError for anything src/common/log.cpp would not write: a key without '=', a bad or
    repeated key, an unterminated quote, an unknown escape, text right after a closing quote."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "surrogateescape")
    return _parse(raw, True, "surrogateescape")


def value_bytes(value):
    """The exact bytes of a value from parse_line_strict."""
    return value.encode("utf-8", "surrogateescape")


def _parse(line, strict, errors):
    line = line.rstrip("\r\n")
    fields = {}
    i, n = 0, len(line)
    while i < n:
        if line[i] == " ":
            i += 1
            continue
        j = i
        while j < n and line[j] not in "= ":
            j += 1
        key = line[i:j]
        if strict and (not key or j == n or line[j] != "=" or not key.isascii() or '"' in key):
            raise ValueError("bad key or no '=' at character %d" % i)
        if j < n and line[j] == "=":
            j += 1
            if j < n and line[j] == '"':
                value, j = _unquote(line, j, strict, errors)
                if strict and j < n and line[j] != " ":
                    raise ValueError("text after the quoted value of %r" % key)
            else:
                k = line.find(" ", j)
                k = n if k < 0 else k
                value, j = line[j:k], k
        else:
            value = ""
        if strict and key in fields:
            raise ValueError("key %r twice" % key)
        if key and key not in fields:
            fields[key] = value
        i = j
    return fields


def _unquote(line, i, strict, errors):
    """Decodes the quoted value whose opening quote is at line[i]. Returns (value, index after it)."""
    out = bytearray()
    n = len(line)
    i += 1
    start = i
    while i < n:
        c = line[i]
        if c == '"':
            out += line[start:i].encode("utf-8", "surrogateescape")
            return out.decode("utf-8", errors), i + 1
        if c == "\\" and i + 1 < n:
            out += line[start:i].encode("utf-8", "surrogateescape")
            e = line[i + 1]
            if e in _ESCAPES:
                out += _ESCAPES[e]
                i += 2
            elif e == "x" and i + 3 < n and line[i + 2] in _HEX and line[i + 3] in _HEX:
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
            elif strict:
                raise ValueError("unknown escape \\%s" % e)
            else:
                out += e.encode("utf-8", "surrogateescape")
                i += 2
            start = i
            continue
        i += 1
    if strict:
        raise ValueError("unterminated quoted value")
    # No closing quote (a truncated line): take what is there.
    out += line[start:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", errors), n


def _is_bare(v):
    return v != "" and all(" " < c < "\x7f" and c not in '"=\\' for c in v)


def format_value(v):
    """A value bare when it can be, else double-quoted with \\" \\\\ \\n \\r \\t \\xNN escapes (UTF-8 passes)."""
    s = str(v)
    if _is_bare(s):
        return s
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def format_line(ts, node, event, fields):
    """One line without the newline: ts= node= event= then the dict's fields in its order (None skipped)."""
    parts = ["ts=%s" % ts, "node=%s" % format_value(node), "event=%s" % format_value(event)]
    parts += ["%s=%s" % (k, format_value(v)) for k, v in fields.items() if v is not None]
    return " ".join(parts)
