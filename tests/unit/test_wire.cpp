// Unit tests for src/common/wire.*: every message type round-trips, and decode refuses malformed input
// with the reason token docs/PROTOCOL.md names, never crashing on any input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire.hpp"

using namespace gossip;
using namespace gossip::wire;

namespace {

Address addr(const char* text) {
  auto a = parse_address(text);
  REQUIRE(a);
  return *a;
}

// A message written as its pieces: the magic ("GSP2") and then the fields, as docs/PROTOCOL.md lists them.
// Encoded into one frame exactly as a node would (frame_of), so tests can say what they send field by
// field; an empty list is a message with no frame at all.
Decoded decode_strings(const std::vector<std::string>& pieces) {
  if (pieces.empty()) return decode(std::vector<std::string_view>{});
  return decode(frame_of(pieces[0], {pieces.begin() + 1, pieces.end()}));
}

// The pieces of a frame our encoder wrote (the inverse of frame_of).
std::vector<std::string> pieces_of(const std::string& frame) {
  const auto split = split_frame(frame);
  REQUIRE(split.error.empty());
  return {split.pieces.begin(), split.pieces.end()};
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// Decodes the message made of `pieces`, requires a refusal, and returns its reason.
std::string refusal(const std::vector<std::string>& pieces) {
  const auto d = decode_strings(pieces);
  CHECK_FALSE(d.message);
  CHECK_FALSE(d.error.empty());
  return d.error;
}

// Encodes m, decodes it, and checks that re-encoding the result yields exactly the same frame.
Message round_trip(const Message& m) {
  const auto frames = encode(m);
  const auto d = decode(frames);
  INFO(d.error);
  REQUIRE(d.message);
  CHECK(d.error.empty());
  CHECK(d.message->body.index() == m.body.index());
  CHECK(d.message->sender == m.sender);
  CHECK(encode(*d.message) == frames);
  return *d.message;
}

const Address kSender{"127.0.0.1", 7001};

// One valid encoding of every type, for mutation.
std::vector<std::vector<std::string>> sample_encodings() {
  std::vector<Message> ms = {
      {kSender, Register{}},
      {kSender, PeerList{true, {addr("10.0.0.1:1"), addr("[::1]:2")}}},
      {kSender, PeerList{false, {}}},
      {kSender, DeadNode{addr("10.0.0.2:9"), 1700000000000000}},
      {kSender, Leave{}},
      {kSender, LinkRequest{3}},
      {kSender, LinkAccept{}},
      {kSender, LinkReject{"full"}},
      {kSender, Unlink{"traded", addr("10.0.0.3:4")}},
      {kSender, Unlink{"left", std::nullopt}},
      {kSender, Gossip{addr("10.0.0.4:5"), 7, 1700000000000001, 2, "hello:world"}},
      {kSender, LivenessRequest{42}},
      {kSender, LivenessReply{42, addr("10.0.0.5:6")}},
      {kSender, NotLinked{}},
      {kSender, Publish{"payload"}},
      {kSender, Published{addr("10.0.0.6:7"), 8}},
      {kSender, Error{"seed_full"}},
  };
  std::vector<std::vector<std::string>> out;
  for (const auto& m : ms) out.push_back(pieces_of(encode(m)));
  return out;
}

}  // namespace

TEST_CASE("encode writes one frame: GSP2, then the type, the sender and the fields, each after its length", "[wire]") {
  using namespace std::string_literals;
  // Byte for byte, as docs/PROTOCOL.md shows it: lengths are 4 bytes, big-endian.
  CHECK(encode({kSender, LinkRequest{5}}) ==
        "GSP2\0\0\0\x0cLINK_REQUEST\0\0\0\x0e" "127.0.0.1:7001\0\0\0\x01" "5"s);
  CHECK(encode({kSender, Register{}}) == "GSP2\0\0\0\x08REGISTER\0\0\0\x0e" "127.0.0.1:7001"s);
  const auto f = pieces_of(encode({kSender, Unlink{"left", std::nullopt}}));
  CHECK(f == std::vector<std::string>{"GSP2", "UNLINK", "127.0.0.1:7001", "left", ""});
}

TEST_CASE("decode refuses a multipart message, naming a version 1 node's for what it is", "[wire]") {
  const auto one = encode({kSender, Register{}});
  CHECK(decode(std::vector<std::string_view>{one}).message);
  CHECK(starts_with(decode(std::vector<std::string_view>{one, ""}).error, "too_many_frames"));
  // What a version 1 node sends: one field per frame.
  CHECK(starts_with(decode(std::vector<std::string_view>{"GSP1", "REGISTER", "127.0.0.1:7001"}).error,
                    "unsupported_version"));
}

TEST_CASE("decode refuses a length that runs past the end of the frame as truncated", "[wire]") {
  using namespace std::string_literals;
  const auto ok = encode({kSender, Register{}});
  CHECK(starts_with(decode(ok.substr(0, ok.size() - 1)).error, "truncated"));
  CHECK(starts_with(decode("GSP2\0\0"s).error, "truncated"));
  CHECK(starts_with(decode("GSP2\xff\xff\xff\xffx"s).error, "field_too_large"));
  CHECK(starts_with(decode("GSP2\0\0\0\x08REGISTER"s).error, "truncated"));  // no sender
  CHECK(starts_with(decode(ok + "\0"s).error, "truncated"));  // a stray byte after the last field
}

TEST_CASE("every message type round-trips through encode and decode", "[wire]") {
  SECTION("REGISTER") { round_trip({kSender, Register{}}); }
  SECTION("PEER_LIST known with IPv4 and IPv6 peers") {
    const auto m = round_trip({kSender, PeerList{true, {addr("10.0.0.1:1"), addr("[::1]:2")}}});
    const auto& b = std::get<PeerList>(m.body);
    CHECK(b.known);
    REQUIRE(b.peers.size() == 2);
    CHECK(b.peers[1] == addr("[::1]:2"));
  }
  SECTION("PEER_LIST new and empty") {
    const auto m = round_trip({kSender, PeerList{false, {}}});
    CHECK_FALSE(std::get<PeerList>(m.body).known);
    CHECK(std::get<PeerList>(m.body).peers.empty());
  }
  SECTION("PEER_LIST with exactly 1024 peers") {
    PeerList b{false, {}};
    for (int i = 0; i < 1024; ++i)
      b.peers.push_back(addr(("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":9").c_str()));
    const auto m = round_trip({kSender, b});
    CHECK(std::get<PeerList>(m.body).peers.size() == 1024);
  }
  SECTION("DEAD_NODE") {
    const auto m = round_trip({kSender, DeadNode{addr("10.0.0.2:9"), 1700000000000000}});
    CHECK(std::get<DeadNode>(m.body).dead == addr("10.0.0.2:9"));
    CHECK(std::get<DeadNode>(m.body).timestamp_us == 1700000000000000u);
  }
  SECTION("LEAVE") { round_trip({kSender, Leave{}}); }
  SECTION("LINK_REQUEST with the largest 64-bit degree") {
    const auto m = round_trip({kSender, LinkRequest{UINT64_MAX}});
    CHECK(std::get<LinkRequest>(m.body).degree == UINT64_MAX);
  }
  SECTION("LINK_ACCEPT") { round_trip({kSender, LinkAccept{}}); }
  SECTION("LINK_REJECT") { CHECK(std::get<LinkReject>(round_trip({kSender, LinkReject{"full"}}).body).reason == "full"); }
  SECTION("UNLINK with a suggestion") {
    const auto m = round_trip({kSender, Unlink{"traded", addr("[fe80::2]:4")}});
    const auto& b = std::get<Unlink>(m.body);
    CHECK(b.reason == "traded");
    REQUIRE(b.suggest);
    CHECK(*b.suggest == addr("[fe80::2]:4"));
  }
  SECTION("UNLINK without a suggestion encodes an empty field") {
    const auto frames = pieces_of(encode({kSender, Unlink{"left", std::nullopt}}));
    REQUIRE(frames.size() == 5);
    CHECK(frames[4].empty());
    CHECK_FALSE(std::get<Unlink>(round_trip({kSender, Unlink{"left", std::nullopt}}).body).suggest);
  }
  SECTION("GOSSIP with a binary body") {
    const std::string body("a\0b\xff:c\n", 7);
    const auto m = round_trip({kSender, Gossip{addr("10.0.0.4:5"), 7, 1700000000000001, 2, body}});
    const auto& g = std::get<Gossip>(m.body);
    CHECK(g.origin == addr("10.0.0.4:5"));
    CHECK(g.seq == 7);
    CHECK(g.created_us == 1700000000000001u);
    CHECK(g.hops == 2);
    CHECK(g.body == body);
  }
  SECTION("GOSSIP with an empty body") { CHECK(std::get<Gossip>(round_trip({kSender, Gossip{kSender, 1, 0, 0, ""}}).body).body.empty()); }
  SECTION("LIVENESS_REQUEST") { CHECK(std::get<LivenessRequest>(round_trip({kSender, LivenessRequest{42}}).body).timestamp_us == 42); }
  SECTION("LIVENESS_REPLY") {
    const auto m = round_trip({kSender, LivenessReply{42, addr("10.0.0.5:6")}});
    CHECK(std::get<LivenessReply>(m.body).timestamp_us == 42);
    CHECK(std::get<LivenessReply>(m.body).requester == addr("10.0.0.5:6"));
  }
  SECTION("NOT_LINKED") { round_trip({kSender, NotLinked{}}); }
  SECTION("PUBLISH") { CHECK(std::get<Publish>(round_trip({kSender, Publish{"hi there"}}).body).payload == "hi there"); }
  SECTION("PUBLISHED") {
    const auto m = round_trip({kSender, Published{addr("10.0.0.6:7"), 8}});
    CHECK(std::get<Published>(m.body).origin == addr("10.0.0.6:7"));
    CHECK(std::get<Published>(m.body).seq == 8);
  }
  SECTION("ERROR") { CHECK(std::get<Error>(round_trip({kSender, Error{"seed_full"}}).body).reason == "seed_full"); }
}

TEST_CASE("type_name gives the wire token of every body", "[wire]") {
  CHECK(type_name(Register{}) == "REGISTER");
  CHECK(type_name(PeerList{}) == "PEER_LIST");
  CHECK(type_name(DeadNode{}) == "DEAD_NODE");
  CHECK(type_name(Leave{}) == "LEAVE");
  CHECK(type_name(LinkRequest{}) == "LINK_REQUEST");
  CHECK(type_name(LinkAccept{}) == "LINK_ACCEPT");
  CHECK(type_name(LinkReject{}) == "LINK_REJECT");
  CHECK(type_name(Unlink{}) == "UNLINK");
  CHECK(type_name(Gossip{}) == "GOSSIP");
  CHECK(type_name(LivenessRequest{}) == "LIVENESS_REQUEST");
  CHECK(type_name(LivenessReply{}) == "LIVENESS_REPLY");
  CHECK(type_name(NotLinked{}) == "NOT_LINKED");
  CHECK(type_name(Publish{}) == "PUBLISH");
  CHECK(type_name(Published{}) == "PUBLISHED");
  CHECK(type_name(Error{}) == "ERROR");
}

TEST_CASE("decode refuses an empty message and a bad signature", "[wire]") {
  CHECK(starts_with(refusal({}), "bad_signature"));
  CHECK(starts_with(refusal({""}), "bad_signature"));
  CHECK(starts_with(refusal({"XSP1", "REGISTER", "127.0.0.1:7001"}), "bad_signature"));
  CHECK(starts_with(refusal({"GS", "REGISTER", "127.0.0.1:7001"}), "bad_signature"));
  CHECK(starts_with(refusal({"gsp2", "REGISTER", "127.0.0.1:7001"}), "bad_signature"));
}

TEST_CASE("decode refuses any version but 2 as unsupported_version, version 1 included", "[wire]") {
  CHECK(starts_with(refusal({"GSP1", "REGISTER", "127.0.0.1:7001"}), "unsupported_version"));
  CHECK(starts_with(refusal({"GSP3", "REGISTER", "127.0.0.1:7001"}), "unsupported_version"));
  CHECK(starts_with(refusal({"GSP", "REGISTER", "127.0.0.1:7001"}), "unsupported_version"));
  // The version is exactly the first 4 bytes: "GSP20" is version 2 followed by a malformed field.
  CHECK_FALSE(decode_strings({"GSP20", "REGISTER", "127.0.0.1:7001"}).message);
}

TEST_CASE("decode refuses fewer than three frames", "[wire]") {
  CHECK_FALSE(refusal({"GSP2"}).empty());
  CHECK_FALSE(refusal({"GSP2", "REGISTER"}).empty());
}

TEST_CASE("decode refuses an unknown type token", "[wire]") {
  CHECK(starts_with(refusal({"GSP2", "HELLO", "127.0.0.1:7001"}), "unknown_type"));
  CHECK(starts_with(refusal({"GSP2", "register", "127.0.0.1:7001"}), "unknown_type"));
  CHECK(starts_with(refusal({"GSP2", "", "127.0.0.1:7001"}), "unknown_type"));
  CHECK(starts_with(refusal({"GSP2", "REGISTER ", "127.0.0.1:7001"}), "unknown_type"));
}

TEST_CASE("decode refuses a frame count that does not match the type", "[wire]") {
  CHECK(starts_with(refusal({"GSP2", "REGISTER", "127.0.0.1:7001", "extra"}), "wrong_field_count"));
  CHECK(starts_with(refusal({"GSP2", "LINK_REQUEST", "127.0.0.1:7001"}), "wrong_field_count"));
  CHECK(starts_with(refusal({"GSP2", "GOSSIP", "127.0.0.1:7001", "10.0.0.1:1", "1", "2", "3", "b"}),
                    "wrong_field_count"));  // version 1's five fields
  CHECK(starts_with(refusal({"GSP2", "GOSSIP", "127.0.0.1:7001", "10.0.0.1:1", "1", "2", "3", "b", "", "x"}),
                    "wrong_field_count"));
  CHECK(starts_with(refusal({"GSP2", "UNLINK", "127.0.0.1:7001", "left"}), "wrong_field_count"));
  CHECK(starts_with(refusal({"GSP2", "PEER_LIST", "127.0.0.1:7001"}), "wrong_field_count"));
  // Every fixed-size type, one field short and one field long.
  for (const auto& good : sample_encodings()) {
    if (good[1] == "PEER_LIST") continue;
    auto shorter = good;
    auto longer = good;
    longer.push_back("1");
    INFO(good[1]);
    CHECK(starts_with(refusal(longer), "wrong_field_count"));
    if (shorter.size() > 3) {
      shorter.pop_back();
      CHECK(starts_with(refusal(shorter), "wrong_field_count"));
    }
  }
}

TEST_CASE("decode refuses a malformed sender or address field as bad_address", "[wire]") {
  CHECK(starts_with(refusal({"GSP2", "REGISTER", "localhost:7001"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "REGISTER", ""}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "REGISTER", "127.0.0.1:0"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "REGISTER", "::1:7001"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "DEAD_NODE", "127.0.0.1:7001", "10.0.0.1", "5"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "PEER_LIST", "127.0.0.1:7001", "new", "10.0.0.1:1", "bogus"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "UNLINK", "127.0.0.1:7001", "traded", "10.0.0.1:99999"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "LIVENESS_REPLY", "127.0.0.1:7001", "5", "x"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "PUBLISHED", "127.0.0.1:7001", "[::1]", "5"}), "bad_address"));
  CHECK(starts_with(refusal({"GSP2", "GOSSIP", "127.0.0.1:7001", "1.2.3.4:", "1", "2", "3", "b", ""}), "bad_address"));
}

TEST_CASE("decode refuses numbers with a sign, letters, 21 digits or a value over 64 bits", "[wire]") {
  auto link_request = [](const std::string& n) {
    return std::vector<std::string>{"GSP2", "LINK_REQUEST", "127.0.0.1:7001", n};
  };
  for (const std::string& bad : std::vector<std::string>{"-1", "+1", "12a", "abc", "0x10", "", " 1", "1 ", "1.5", "123456789012345678901",
                                "18446744073709551616", "99999999999999999999"}) {
    INFO('"' << bad << '"');
    CHECK(starts_with(refusal(link_request(bad)), "bad_number"));
  }
  const auto max = decode_strings(link_request("18446744073709551615"));
  REQUIRE(max.message);
  CHECK(std::get<LinkRequest>(max.message->body).degree == UINT64_MAX);
  const auto padded = decode_strings(link_request("00000000000000000007"));  // 20 digits is allowed
  REQUIRE(padded.message);
  CHECK(std::get<LinkRequest>(padded.message->body).degree == 7);

  CHECK(starts_with(refusal({"GSP2", "GOSSIP", "127.0.0.1:7001", "10.0.0.1:1", "1", "-2", "3", "b", ""}), "bad_number"));
  CHECK(starts_with(refusal({"GSP2", "DEAD_NODE", "127.0.0.1:7001", "10.0.0.1:1", "now"}), "bad_number"));
  CHECK(starts_with(refusal({"GSP2", "LIVENESS_REQUEST", "127.0.0.1:7001", "1e6"}), "bad_number"));
}

TEST_CASE("decode refuses tokens outside [a-z0-9_]{1,64} as bad_field", "[wire]") {
  auto reject = [](const std::string& reason) {
    return std::vector<std::string>{"GSP2", "LINK_REJECT", "127.0.0.1:7001", reason};
  };
  for (const std::string& bad : std::vector<std::string>{"", "Full", "a-b", "a b", std::string(65, 'a'), std::string("a\0b", 3), "\xc3\xa9"}) {
    INFO('"' << bad << '"');
    CHECK(starts_with(refusal(reject(bad)), "bad_field"));
  }
  CHECK(decode_strings(reject(std::string(64, 'z'))).message);
  CHECK(starts_with(refusal({"GSP2", "ERROR", "127.0.0.1:7001", "SEED_FULL"}), "bad_field"));
  CHECK(starts_with(refusal({"GSP2", "UNLINK", "127.0.0.1:7001", "", ""}), "bad_field"));
  CHECK(starts_with(refusal({"GSP2", "PEER_LIST", "127.0.0.1:7001", "maybe"}), "bad_field"));
  CHECK(starts_with(refusal({"GSP2", "PEER_LIST", "127.0.0.1:7001", "NEW"}), "bad_field"));
}

TEST_CASE("decode refuses a field over 65,536 bytes as field_too_large", "[wire]") {
  const std::vector<std::string> ok = {"GSP2", "PUBLISH", "127.0.0.1:7001", std::string(65536, 'x')};
  CHECK(decode_strings(ok).message);
  const std::vector<std::string> big = {"GSP2", "PUBLISH", "127.0.0.1:7001", std::string(65537, 'x')};
  CHECK(starts_with(refusal(big), "field_too_large"));
}

TEST_CASE("decode refuses more than 1,028 fields as too_many_fields", "[wire]") {
  std::vector<std::string> frames = {"GSP2", "PEER_LIST", "127.0.0.1:7001", "new"};
  while (frames.size() < 1031) frames.push_back("10.0.0.1:1");
  CHECK(starts_with(refusal(frames), "too_many_fields"));
}

TEST_CASE("decode refuses a message over 262,144 bytes in all as message_too_large", "[wire]") {
  const std::string chunk(65536, 'x');
  const std::vector<std::string> frames = {"GSP2", "GOSSIP", chunk, chunk, chunk, chunk, "b", ""};
  CHECK(starts_with(refusal(frames), "message_too_large"));
}

TEST_CASE("decode refuses a PEER_LIST with more than 1024 addresses", "[wire]") {
  std::vector<std::string> frames = {"GSP2", "PEER_LIST", "127.0.0.1:7001", "known"};
  for (int i = 0; i < 1024; ++i) frames.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":1");
  REQUIRE(decode_strings(frames).message);
  frames.push_back("10.9.9.9:1");
  REQUIRE(frames.size() - 1 <= kMaxFields);
  CHECK(starts_with(refusal(frames), "wrong_field_count"));
}

TEST_CASE("decoded addresses are canonical even when the sender spelled them differently", "[wire]") {
  const auto d = decode_strings({"GSP2", "REGISTER", "[0:0:0:0:0:0:0:1]:7001"});
  REQUIRE(d.message);
  CHECK(d.message->sender.to_string() == "[::1]:7001");
}

TEST_CASE("the assignment's human-readable forms are built from the fields", "[wire]") {
  const auto dead = addr("10.0.0.2:9");
  const auto me = addr("10.0.0.1:8");
  CHECK(dead_node_text(dead, 123, me) == "Dead Node:10.0.0.2:9:123:10.0.0.1:8");
  CHECK(liveness_request_text(5, me) == "Liveness Request:5:10.0.0.1:8");
  CHECK(liveness_reply_text(5, me, dead) == "Liveness Reply:5:10.0.0.1:8:10.0.0.2:9");
}

TEST_CASE("20,000 random and mutated frame vectors never crash and always decode or give a reason", "[wire][fuzz]") {
  std::mt19937_64 rng(20240601);
  const auto samples = sample_encodings();
  const std::vector<std::string_view> known_reasons = {
      "bad_signature",    "unsupported_version", "truncated",         "unknown_type", "wrong_field_count",
      "field_too_large",  "too_many_fields",     "message_too_large", "bad_address",  "bad_number",
      "bad_field"};
  const std::vector<std::string> dictionary = {"GSP2", "GSP2", "REGISTER", "PEER_LIST", "GOSSIP", "UNLINK",
                                               "127.0.0.1:1", "[::1]:2", "new", "known", "0", "-1",
                                               "18446744073709551616", "", "full", std::string(1, '\0')};
  auto random_bytes = [&](std::size_t max_len) {
    std::string s(std::uniform_int_distribution<std::size_t>(0, max_len)(rng), '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  };
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };

  int decoded = 0;
  int refused = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<std::string> frames;
    if (iter % 4 == 0) {
      // Pure noise: random count of random frames.
      const auto n = pick(9);
      for (std::size_t i = 0; i < n; ++i) frames.push_back(random_bytes(24));
    } else {
      frames = samples[pick(samples.size())];
      const auto mutations = 1 + pick(3);
      for (std::size_t k = 0; k < mutations; ++k) {
        switch (pick(7)) {
          case 0:  // flip a byte in a frame
            if (!frames.empty())
              if (auto& f = frames[pick(frames.size())]; !f.empty()) f[pick(f.size())] ^= static_cast<char>(1 + pick(255));
            break;
          case 1:  // drop a frame
            if (!frames.empty()) frames.erase(frames.begin() + static_cast<long>(pick(frames.size())));
            break;
          case 2:  // insert a dictionary frame
            frames.insert(frames.begin() + static_cast<long>(pick(frames.size() + 1)), dictionary[pick(dictionary.size())]);
            break;
          case 3:  // replace a frame with random bytes
            if (!frames.empty()) frames[pick(frames.size())] = random_bytes(16);
            break;
          case 4:  // truncate a frame
            if (!frames.empty()) {
              auto& f = frames[pick(frames.size())];
              f.resize(f.empty() ? 0 : pick(f.size()));
            }
            break;
          case 5:  // replace a frame with a dictionary word
            if (!frames.empty()) frames[pick(frames.size())] = dictionary[pick(dictionary.size())];
            break;
          case 6:  // append a byte to a frame
            if (!frames.empty()) frames[pick(frames.size())].push_back(static_cast<char>(rng() & 0xFF));
            break;
        }
      }
    }
    const auto d = decode_strings(frames);
    if (d.message) {
      ++decoded;
      REQUIRE(d.error.empty());
      // Whatever decodes re-encodes into something that decodes to the same frames again.
      const auto again = encode(*d.message);
      const auto d2 = decode(again);
      REQUIRE(d2.message);
      REQUIRE(encode(*d2.message) == again);
    } else {
      ++refused;
      REQUIRE_FALSE(d.error.empty());
      const bool known = std::any_of(known_reasons.begin(), known_reasons.end(),
                                     [&](std::string_view r) { return starts_with(d.error, r); });
      INFO(d.error);
      REQUIRE(known);
    }
  }
  CHECK(decoded + refused == 20000);
  // Both outcomes occur: the mutations are not all fatal and not all harmless.
  CHECK(decoded > 100);
  CHECK(refused > 10000);
}
