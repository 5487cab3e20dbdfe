"""A node's TOML config (docs/CONFIG.md) written from {section: {key: value}}: the one writer behind the
launcher's, the benchmarks' and the system tests' node configs.

It writes TOML; it does not check it. The nodes validate their own config (file, line, key and reason on
stderr, exit status 2), and a test of that needs to be able to write a config they refuse.
"""

import json


def toml_value(v):
    """A bool, int, float, str or list of those as TOML. Raises TypeError for anything else."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        # A TOML basic string: every escape json.dumps emits (\" \\ \n \uXXXX ...) is valid TOML.
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError("no TOML form for %r" % (v,))


def merge(*layers):
    """{section: {key: value}} layers merged left to right (a later layer's key wins; None is skipped)."""
    out = {}
    for layer in layers:
        for section, keys in (layer or {}).items():
            out.setdefault(section, {}).update(keys)
    return out


def render_config(sections, preset=None, comment=None):
    """The config's text: a `# comment` line, `preset = ...`, then each section that has keys, in order.
    Raises TypeError for a value with no TOML form."""
    lines = ["# " + comment] if comment else []
    if preset:
        lines.append("preset = %s" % toml_value(preset))
    for section, keys in sections.items():
        if keys:
            lines += ["", "[%s]" % section] + ["%s = %s" % (k, toml_value(v)) for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def write_config(path, sections, preset=None):
    """Writes render_config(sections, preset) to path."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_config(sections, preset))
