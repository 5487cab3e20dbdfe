"""Publishing through a peer's control endpoint with gossip-ctl: arbitrary payload bytes arrive at every
other peer unchanged (checked byte for byte through the log's escapes); an oversized payload is refused."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MAX_PAYLOAD = 1000

PAYLOADS = [
    b"colons:in:the:payload:127.0.0.1:7001:1",
    "héllo wörld ☃ 日本".encode("utf-8"),
    b'a "quote" and a \\backslash\\ and key=value',
    b"two\nlines\r\nand\ta tab",
    b"\xff\xfe\x00raw\x80bytes\xc3(\x1b[31m",  # invalid UTF-8, NUL, a truncated sequence, ESC
    # Byte sequences that look like UTF-8 but are not: a surrogate, overlong forms, above U+10FFFF, and
    # lead bytes F5..FF followed by continuation bytes. The log must escape them (its lines stay UTF-8).
    b"surrogate \xed\xa0\x80 overlong \xe0\x80\x80 \xf0\x80\x80\x80 big \xf4\x90\x80\x80 lead \xf8\x88\x80 \xff\x80\x80",
    b"",
    b" leading and trailing spaces ",
    bytes(range(256)),
    b"x" * MAX_PAYLOAD,  # exactly the limit: accepted
]


def test_published_payloads_reach_every_other_peer_byte_for_byte_and_oversized_ones_are_refused(c):
    c.start_seeds(3)
    overrides = {"gossip": {"count": 0, "max_payload_bytes": MAX_PAYLOAD}}
    publisher = c.start_peer(overrides=overrides, control=True)
    others = [c.start_peer(overrides=overrides) for _ in range(4)]
    peers = [publisher] + others
    h.check(publisher.control, "the publisher logged no control_listening line")
    h.wait_settled_overlay(c, peers, 20)

    published = []  # (payload, seq)
    for i, payload in enumerate(PAYLOADS):
        path = os.path.join(c.dir, "payload%d.bin" % i)
        with open(path, "wb") as f:
            f.write(payload)
        r = c.ctl("publish", "--to", publisher.control, "--file", path, "--timeout-ms", "10000")
        h.check(r.returncode == 0, "publish of payload %d failed (%d): %r" % (i, r.returncode, r.stderr))
        m = re.search(rb"published origin=(\S+) seq=(\d+)", r.stdout)
        h.check(m and m.group(1).decode() == publisher.addr, "unexpected gossip-ctl output %r" % r.stdout)
        published.append((payload, m.group(2).decode()))
    h.check(len({seq for _, seq in published}) == len(PAYLOADS), "sequence numbers repeat: %r" % published)

    # The publisher logs each as gossip_origin with the payload as body.
    for payload, seq in published:
        o = publisher.wait_for(lambda l, s=seq: l.get("event") == "gossip_origin" and l.get("seq") == s, 10,
                               "gossip_origin seq=%s" % seq)[0]
        h.check(h.value_bytes(o["msg"]) == payload, "gossip_origin seq=%s msg=%r, published %r"
                % (seq, h.value_bytes(o["msg"]), payload))

    # Every other peer logs it once, with the same bytes.
    for p in others:
        p.wait_for("gossip_recv", 20, "gossip_recv for all %d payloads" % len(PAYLOADS), count=len(PAYLOADS))
    for p in others:
        recv = p.events("gossip_recv")
        h.check(len(recv) == len(PAYLOADS), "%s: %d gossip_recv lines for %d payloads" % (p, len(recv), len(PAYLOADS)))
        by_seq = {l["seq"]: l for l in recv}
        for payload, seq in published:
            l = by_seq.get(seq)
            h.check(l is not None and l["origin"] == publisher.addr, "%s: no gossip_recv for seq %s" % (p, seq))
            got = h.value_bytes(l["msg"])
            h.check(got == payload, "%s: seq %s arrived as %r, published %r" % (p, seq, got, payload))
    h.check(not publisher.events("gossip_recv"), "the publisher logged its own message as received")

    # One byte over the limit: refused, nothing gossiped.
    path = os.path.join(c.dir, "too_big.bin")
    with open(path, "wb") as f:
        f.write(b"y" * (MAX_PAYLOAD + 1))
    r = c.ctl("publish", "--to", publisher.control, "--file", path, "--timeout-ms", "10000")
    h.check(r.returncode != 0, "an oversized publish succeeded: %r" % r.stdout)
    h.check(b"payload_too_large" in r.stderr, "gossip-ctl did not say why: %r" % r.stderr)
    refused = publisher.wait_for("publish_refused", 10, "publish_refused")
    h.check(len(refused) == 1 and refused[0]["bytes"] == str(MAX_PAYLOAD + 1)
            and refused[0]["reason"] == "payload_too_large", "publish_refused line: %r" % refused[0]["_raw"])
    # Let one stats round pass, then nobody has anything new.
    stats_seen = {p.name: len(p.events("gossip_stats")) for p in peers}
    for p in peers:
        p.wait_for("gossip_stats", 10, "a gossip_stats line", count=stats_seen[p.name] + 1)
    h.check(len(publisher.events("gossip_origin")) == len(PAYLOADS), "the refused payload was originated")
    for p in others:
        h.check(len(p.events("gossip_recv")) == len(PAYLOADS), "%s received the refused payload" % p)
    c.assert_alive()

    # Every log line is valid UTF-8 (LOGS.md: bytes that are not valid UTF-8 are written as \xNN), so any
    # UTF-8 tool can read the logs; checked last so the delivery checks above report first.
    bad = []
    for p in peers:
        for l in p.lines():
            try:
                l["_raw"].decode("utf-8")
            except UnicodeDecodeError as e:
                bad.append("%s: %s in %r" % (p.name, e.reason, l["_raw"][max(0, e.start - 20):e.end + 20]))
    h.check(not bad, "%d log lines are not valid UTF-8:\n  %s" % (len(bad), "\n  ".join(bad[:10])))


if __name__ == "__main__":
    h.main([test_published_payloads_reach_every_other_peer_byte_for_byte_and_oversized_ones_are_refused])
