"""Untrusted input: random bytes on the raw TCP port and well-formed ZeroMQ messages with bad content
(sent with gossip-ctl). The seed and the peer log `bad_message` with the right reason, keep running, and
still work afterwards: a new peer registers with the seed and links with the peer.

In security mode curve gossip-ctl is a trusted member (the harness's operator key, 127.0.0.1:1): the codec's
refusals are the same as in mode none, a decodable message in anyone else's name (the stranger's, the
peer's own) is refused with sender_mismatch before the node acts on it, and the same message in the
operator's own name gets the answer a stranger's gets in mode none."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

STRANGER = "127.0.0.1:9"  # a sender address no node here has
# A ZMTP 3.0 greeting start (signature, version 3.0, "NULL"): the junk after it reaches libzmq's
# handshake parser rather than being refused at the first byte.
ZMTP_GREETING = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL" + b"\x00" * 16


def spray_random_bytes(addr, times=6, size=4096):
    host, port = addr.rsplit(":", 1)
    for i in range(times):
        payload = (ZMTP_GREETING if i % 2 else b"") + os.urandom(size)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(2)
                while s.recv(4096):  # until the node closes the connection (or the timeout)
                    pass
            except OSError:  # a reset, a broken pipe, ENOTCONN (a curve node may hang up before our
                pass         # shutdown), a timeout: the node hung up on the junk, exactly what it should do


def common_cases():
    """(frames, expected reason prefix) that every node must refuse."""
    return [
        (["XSP1", "REGISTER", STRANGER], "bad_signature"),
        (["hex:00ff", "REGISTER", STRANGER], "bad_signature"),
        (["GSP9", "REGISTER", STRANGER], "unsupported_version"),
        (["GSP2", "BOGUS", STRANGER], "unknown_type"),
        (["GSP2", "register", STRANGER], "unknown_type"),
        (["GSP2", "REGISTER", STRANGER, "extra"], "wrong_field_count: REGISTER takes 0, got 1"),
        (["GSP2", "GOSSIP", STRANGER, STRANGER, "1", "1"], "wrong_field_count: GOSSIP takes 6, got 3"),
        (["GSP2", "PEER_LIST", STRANGER], "wrong_field_count: PEER_LIST"),
        (["GSP2", "REGISTER", "localhost:9"], "bad_address: sender"),
        # Quote, newline, '=' and a non-UTF-8 byte in the sender: they reach the log inside the reason.
        (["GSP2", "REGISTER", "hex:" + b'a"b\nc=\xff:9'.hex()], "bad_address: sender"),
        (["GSP2", "REGISTER", "127.0.0.1:0"], "bad_address: sender"),
        (["GSP2", "DEAD_NODE", STRANGER, STRANGER, "12x"], "bad_number: timestamp"),
        (["GSP2", "LINK_REQUEST", STRANGER, "-1"], "bad_number: degree"),
        (["GSP2", "LINK_REJECT", STRANGER, "Not A Token"], "bad_field: reason"),
        (["GSP2", "PEER_LIST", STRANGER, "maybe"], "bad_field: status"),
        # 70,000 bytes in one field (as a plain argument: a hex: one would exceed the 128 KiB argv limit).
        (["GSP2", "GOSSIP", STRANGER, STRANGER, "1", "1", "0", "A" * 70000, ""], "field_too_large: 70000 bytes"),
        # 5 fields of 60,000 bytes: each under the field limit, together over the 262,144-byte message limit.
        (["GSP2", "GOSSIP", STRANGER] + ["B" * 60000] * 5, "message_too_large"),
        # 1,100 fields: over the 1,028-field limit.
        (["GSP2", "PEER_LIST", STRANGER, "new"] + [STRANGER] * 1096, "too_many_fields"),
        # A message is one frame: what a version 1 node sends (one field per frame) is refused for its
        # version, a version 2 message in several frames for its frames.
        (["--multipart", "GSP1", "REGISTER", STRANGER], "unsupported_version"),
        (["--multipart", "GSP2", "REGISTER", STRANGER], "too_many_frames"),
    ]


def in_name_of(frames, sender):
    """The same message with another sender field (frame 3)."""
    return frames[:2] + [sender] + frames[3:]


def send_each(c, node, cases, bad_from, timeout=20):
    """Sends the cases one at a time with gossip-ctl; after each, waits for exactly one new bad_message line
    on the node and checks its reason (one at a time, so that each line belongs to its case)."""
    for frames, reason in cases:
        before = len(node.events("bad_message"))
        r = c.ctl("send", "--to", node.addr, "--timeout-ms", "50", *frames)
        h.check(r.returncode == 0, "gossip-ctl send %r... failed (%s): %s"
                % (frames[:3], r.returncode, r.stderr.decode(errors="replace")))
        got = node.wait_for("bad_message", timeout, "bad_message for %r..." % (frames[:3],), count=before + 1)
        h.check(len(got) == before + 1, "%s: %d bad_message lines for one bad message %r...: %r"
                % (node, len(got) - before, frames[:3], [l["reason"] for l in got[before:]]))
        line = got[-1]
        h.check(line["reason"].startswith(reason), "%s: bad_message reason=%r for %r..., want %r..."
                % (node, line["reason"], frames[:3], reason))
        # from= names the TCP peer (or, for a decodable message, the sender it claims). Collected and
        # checked at the end so that one wrong field does not hide how the rest behaves.
        if line["from"] not in ("127.0.0.1", STRANGER, node.addr, h.OPERATOR):
            bad_from.append("%s: from=%s reason=%s" % (node.name, line["from"], line["reason"][:40]))


def test_seed_and_peer_log_bad_input_keep_running_and_still_work(c):
    seed = c.start_seed()
    peer = c.start_peer(overrides={"gossip": {"count": 0}})
    peer.wait_for("joined", 20, "joined")

    curve = c.security == "curve"
    # Decodable, but of a type this node does not take (in the stranger's name).
    seed_wrong_type = [
        (["GSP2", "GOSSIP", STRANGER, STRANGER, "1", "1", "0", "hello", ""], "unexpected_type: GOSSIP"),
        (["GSP2", "LINK_REQUEST", STRANGER, "0"], "unexpected_type: LINK_REQUEST"),
    ]
    peer_wrong_type = [
        (["GSP2", "REGISTER", STRANGER], "unexpected_type: REGISTER"),
        (["GSP2", "PEER_LIST", STRANGER, "new"], "unexpected_type: PEER_LIST"),
    ]
    in_peers_name = ["GSP2", "LINK_REQUEST", peer.addr, "0"]
    if curve:
        # Refused for the name before the type is looked at; the operator's own name reaches the type check.
        seed_cases = common_cases() + [(f, "sender_mismatch") for f, _ in seed_wrong_type] + [
            (in_name_of(f, h.OPERATOR), why) for f, why in seed_wrong_type]
        peer_cases = common_cases() + [(f, "sender_mismatch") for f, _ in peer_wrong_type] + [
            (in_name_of(f, h.OPERATOR), why) for f, why in peer_wrong_type] + [(in_peers_name, "sender_mismatch")]
    else:
        seed_cases = common_cases() + seed_wrong_type
        peer_cases = common_cases() + peer_wrong_type + [(in_peers_name, "sender_is_self")]
    bad_from = []
    send_each(c, seed, seed_cases, bad_from)
    send_each(c, peer, peer_cases, bad_from)

    # Well-formed but not acceptable: a stranger reports the peer dead; a non-neighbour sends gossip. In
    # curve mode the stranger's name is refused outright, and the operator, a member but neither a
    # registered peer nor a neighbour, gets what the stranger gets in mode none.
    dead_node = ["GSP2", "DEAD_NODE", STRANGER, peer.addr, "1"]
    gossip = ["GSP2", "GOSSIP", STRANGER, STRANGER, "7", "1", "0", "not from a neighbour", ""]
    if curve:
        send_each(c, seed, [(dead_node, "sender_mismatch")], bad_from)
        r = c.ctl("send", "--to", peer.addr, "--timeout-ms", "1000", *gossip)
        h.check(r.returncode == 0 and b"frame:" not in r.stdout, "peer answered gossip in a stranger's name: %r"
                % r.stdout)
        # The reply timeout has passed, so the refusal is logged by now unless the peer did something else.
        h.check(peer.events("bad_message")[-1]["reason"] == "sender_mismatch",
                "the stranger's gossip was not refused: %r" % peer.events("bad_message")[-1]["_raw"])
        dead_node, gossip = in_name_of(dead_node, h.OPERATOR), in_name_of(gossip, h.OPERATOR)
    r = c.ctl("send", "--to", seed.addr, "--timeout-ms", "1000", *dead_node)
    h.check(r.returncode == 0, "gossip-ctl DEAD_NODE failed: %r" % r.stderr)
    seed.wait_for(lambda l: l.get("event") == "dead_report_ignored" and l.get("peer") == peer.addr,
                  20, "dead_report_ignored for a non-member's report")
    r = c.ctl("send", "--to", peer.addr, "--timeout-ms", "5000", *gossip)
    h.check(b"frame: NOT_LINKED" in r.stdout, "peer did not answer a non-neighbour's GOSSIP with NOT_LINKED: %r"
            % r.stdout)

    c.assert_alive()
    # Random bytes on the raw TCP port. libzmq takes a stream that does not start with a ZMTP 3 greeting
    # for the old unversioned framing, so junk can reach the codec as messages: any number of bad_message
    # lines is fine here, as long as the node keeps running and works afterwards.
    counts = {n.name: len(n.events("bad_message")) for n in (seed, peer)}
    for node in (seed, peer):
        spray_random_bytes(node.addr)
    c.assert_alive()
    h.check(not seed.events("peer_removed"), "the seed removed a peer on a stranger's word: %r"
            % [l["_raw"] for l in seed.events("peer_removed")])
    h.check(not peer.events("gossip_recv"), "the peer accepted gossip from a non-neighbour")
    h.check({l["peer"] for l in seed.events("registered")} == {peer.addr},
            "the seed registered someone from the junk: %r" % [l["peer"] for l in seed.events("registered")])

    # Both still work: a newcomer registers with the seed (which still lists the peer) and links with it.
    newcomer = c.start_peer(overrides={"gossip": {"count": 0}})
    newcomer.wait_for(lambda l: l.get("event") == "seed_registered" and l.get("seed") == seed.addr, 20,
                      "seed_registered with the seed")
    seed.wait_for(lambda l: l.get("event") == "registered" and l.get("peer") == newcomer.addr, 20,
                  "registered peer=newcomer")
    joined = newcomer.wait_for("joined", 20, "joined")[0]
    h.check(peer.addr in h.split_list(joined["peers"]), "the seed no longer lists the peer: %s" % joined["peers"])
    newcomer.wait_for(lambda l: l.get("event") == "neighbour_up" and l.get("peer") == peer.addr, 20,
                      "neighbour_up with the peer")
    peer.wait_for(lambda l: l.get("event") == "neighbour_up" and l.get("peer") == newcomer.addr, 20,
                  "neighbour_up with the newcomer")
    c.assert_alive()
    print("  bad_message lines from random bytes: seed %d, peer %d"
          % tuple(len(n.events("bad_message")) - counts[n.name] for n in (seed, peer)))
    h.check(not bad_from, "%d of %d bad_message lines do not name the TCP peer 127.0.0.1 in from=:\n  %s"
            % (len(bad_from), len(seed_cases) + len(peer_cases), "\n  ".join(bad_from)))


if __name__ == "__main__":
    h.main([test_seed_and_peer_log_bad_input_keep_running_and_still_work])
