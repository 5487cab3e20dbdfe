#!/usr/bin/env python3
"""Summarises a ctest JUnit file (ctest --output-junit): what passed, what failed, what was skipped and why.

Usage: ctest_summary.py JUNIT.xml [LABEL]. Exit status 0 when nothing failed, 1 otherwise (2: no file).
Reads the file only; the skip reason is the test's own last output line (system tests print `SKIP: why`).
"""
import sys
import xml.etree.ElementTree as ET


FAILURE_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "TestFailure:",
                 "FAILED:", "FAIL ", "Error", "error:")


def failure(case: ET.Element) -> str:
    """The most telling line of a failed test's output: a sanitizer report, then a test failure, else the last."""
    out = [l.strip() for l in (case.findtext("system-out") or "").strip().splitlines() if l.strip()]
    for mark in FAILURE_MARKS:
        for line in out:
            if mark in line:
                return line[:200]
    return out[-1][:200] if out else "(no output)"


def reason(case: ET.Element) -> str:
    out = (case.findtext("system-out") or "").strip().splitlines()
    for line in reversed(out):
        if "skip" in line.lower():
            return line.strip()
    return out[-1].strip() if out else "(no output)"


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    label = sys.argv[2] if len(sys.argv) > 2 else "ctest"
    try:
        cases = ET.parse(sys.argv[1]).getroot().findall("testcase")
    except (OSError, ET.ParseError) as e:
        print(f"summary: no test results ({e})")
        return 2
    groups = {"run": [], "fail": [], "notrun": [], "disabled": []}
    for c in cases:
        groups.setdefault(c.get("status", "fail"), []).append(c)
    print(f"summary ({label}): {len(cases)} tests: {len(groups['run'])} passed, {len(groups['fail'])} failed, "
          f"{len(groups['notrun'])} skipped, {len(groups['disabled'])} disabled")
    for c in groups["run"]:
        print(f"  passed   {c.get('name')}  ({float(c.get('time') or 0):.1f} s)")
    for c in groups["fail"]:
        print(f"  FAILED   {c.get('name')}  ({float(c.get('time') or 0):.1f} s)  {failure(c)}")
    for c in groups["notrun"]:
        print(f"  skipped  {c.get('name')}  why: {reason(c)}")
    for c in groups["disabled"]:
        print(f"  disabled {c.get('name')}")
    if not cases:
        print("  (no tests were registered)")
    return 1 if groups["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
