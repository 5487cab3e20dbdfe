// Unit tests for src/peer/seen_cache.* and src/peer/gossip.*: the bounded Message List, origination
// cadence and body format, receive verdicts, forwarding targets and message identity.
#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "peer/gossip.hpp"
#include "peer/seen_cache.hpp"

using namespace gossip;
using namespace std::chrono_literals;

namespace {

Address addr(const char* text) { return *parse_address(text); }

const TimePoint t0 = TimePoint{} + 1000s;
const Address kSelf = addr("127.0.0.1:7001");

GossipConfig gossip_config() {
  GossipConfig c;
  c.interval = 5000ms;
  c.count = 3;
  c.start_delay = 1000ms;
  c.seen_ttl = 60000ms;
  c.seen_max = 1000;
  return c;
}

// FNV-1a 64 written out from its definition, independent of the product's code.
// SeenCache keys for tests: 0 is the all-zero id, which the table keeps aside.
MessageId mid(std::uint64_t n) { return MessageId{0, n}; }

wire::Gossip sample() { return wire::Gossip{addr("10.0.0.9:7009"), 5, 1700000000123456, 3, "hello"}; }

}  // namespace

// ---- SeenCache -------------------------------------------------------------------------------------------

TEST_CASE("the Message List reports a first sighting once and every repeat as a repeat", "[seen]") {
  SeenCache c(60000ms, 100);
  CHECK(c.insert(mid(42), t0));
  CHECK_FALSE(c.insert(mid(42), t0 + 1ms));
  CHECK_FALSE(c.insert(mid(42), t0 + 2ms));
  CHECK(c.insert(mid(43), t0 + 3ms));
  CHECK(c.contains(mid(42), t0 + 4ms));
  CHECK_FALSE(c.contains(mid(44), t0 + 4ms));
  CHECK(c.size() == 2);
  CHECK(c.evicted() == 0);
}

TEST_CASE("a Message List entry expires exactly ttl after it was added", "[seen]") {
  SeenCache c(1000ms, 100);
  CHECK(c.insert(mid(1), t0));
  CHECK(c.insert(mid(2), t0 + 500ms));
  CHECK(c.contains(mid(1), t0 + 999ms));
  CHECK_FALSE(c.contains(mid(1), t0 + 1000ms));
  CHECK(c.contains(mid(2), t0 + 1000ms));
  CHECK(c.size() == 1);
  // A repeat does not extend the lifetime: the entry still leaves ttl after the first sighting.
  CHECK_FALSE(c.insert(mid(2), t0 + 1400ms));
  CHECK_FALSE(c.contains(mid(2), t0 + 1500ms));
  // After expiry the same id is a first sighting again.
  CHECK(c.insert(mid(1), t0 + 2000ms));
  CHECK(c.evicted() == 0);  // expiry is not eviction
}

TEST_CASE("a full Message List evicts its oldest entry and counts the eviction", "[seen]") {
  SeenCache c(60000ms, 3);
  CHECK(c.insert(mid(1), t0));
  CHECK(c.insert(mid(2), t0 + 1ms));
  CHECK(c.insert(mid(3), t0 + 2ms));
  CHECK(c.size() == 3);
  CHECK(c.insert(mid(4), t0 + 3ms));
  CHECK(c.size() == 3);
  CHECK(c.evicted() == 1);
  CHECK_FALSE(c.contains(mid(1), t0 + 4ms));
  CHECK(c.contains(mid(2), t0 + 4ms));
  CHECK(c.contains(mid(3), t0 + 4ms));
  CHECK(c.contains(mid(4), t0 + 4ms));
  // A repeat neither evicts nor counts.
  CHECK_FALSE(c.insert(mid(2), t0 + 5ms));
  CHECK(c.evicted() == 1);
  // An evicted message comes back as new (the documented price of the bound).
  CHECK(c.insert(mid(1), t0 + 6ms));
  CHECK(c.evicted() == 2);
  CHECK_FALSE(c.contains(mid(2), t0 + 7ms));
}

TEST_CASE("a Message List of size one keeps only the latest id", "[seen]") {
  SeenCache c(60000ms, 1);
  CHECK(c.insert(mid(1), t0));
  CHECK(c.insert(mid(2), t0));
  CHECK(c.size() == 1);
  CHECK(c.contains(mid(2), t0));
  CHECK_FALSE(c.contains(mid(1), t0));
}

TEST_CASE("the Message List stays within its cap under 1,000,000 inserts", "[seen]") {
  constexpr std::size_t kCap = 5000;
  SeenCache c(600000ms, kCap);
  TimePoint now = t0;
  std::size_t firsts = 0;
  std::size_t peak = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    now += 1us;
    // Mostly fresh ids, some repeats of very recent ones.
    const std::uint64_t id = (i % 10 == 9) ? static_cast<std::uint64_t>(i - 1) : static_cast<std::uint64_t>(i);
    if (c.insert(mid(id), now)) ++firsts;
    peak = std::max(peak, c.size());
    if (peak > kCap) break;
  }
  CHECK(peak == kCap);
  CHECK(c.size() == kCap);
  CHECK(firsts == 900'000);
  CHECK(c.evicted() == firsts - kCap);
}

TEST_CASE("the Message List drains to empty once everything is older than ttl", "[seen]") {
  SeenCache c(100ms, 1000);
  for (std::uint64_t i = 0; i < 500; ++i) c.insert(mid(i), t0 + std::chrono::microseconds(i));
  CHECK(c.size() == 500);
  CHECK_FALSE(c.contains(mid(0), t0 + 200ms));
  CHECK(c.size() == 0);
}

// ---- message identity, forwarding ------------------------------------------------------------------------

TEST_CASE("message_id is BLAKE2b-128 of origin, seq, created and body separated by NUL", "[gossip]") {
  // Vectors from Python's hashlib.blake2b(text, digest_size=16), an implementation independent of ours.
  const auto m = sample();
  using namespace std::string_literals;
  CHECK(canonical_content(m) == "10.0.0.9:7009\0005\0001700000000123456\000hello"s);
  CHECK(message_id(m).hex() == "5d234eea1e913e1b4de2c1ad1c484b2d");
  auto v6 = m;
  v6.origin = Address{"::1", 7009};  // the canonical form, brackets included
  CHECK(message_id(v6).hex() == "7b128c4ae33aa6e4d0e70a2c8595ae4b");
}

TEST_CASE("message_id ignores the signature, and a preset id is taken as it is", "[gossip]") {
  auto m = sample();
  const auto id = message_id(m);
  m.signature = std::string(64, 'x');
  CHECK(message_id(m) == id);
  m.id = MessageId{1, 2};
  CHECK(message_id(m) == MessageId{1, 2});
}

TEST_CASE("message_id ignores hops", "[gossip]") {
  auto m = sample();
  const auto id = message_id(m);
  m.hops = 0;
  CHECK(message_id(m) == id);
  m.hops = 999;
  CHECK(message_id(m) == id);
  CHECK(message_id(next_hop(m)) == id);
}

TEST_CASE("message_id changes with body, seq, origin and created", "[gossip]") {
  const auto base = sample();
  const auto id = message_id(base);
  auto m = base;
  m.body = "hellp";
  CHECK(message_id(m) != id);
  m = base;
  m.body = "";
  CHECK(message_id(m) != id);
  m = base;
  m.seq = 6;
  CHECK(message_id(m) != id);
  m = base;
  m.origin = addr("10.0.0.9:7010");
  CHECK(message_id(m) != id);
  m = base;
  m.created_us += 1;
  CHECK(message_id(m) != id);
  // The separators keep fields from running into each other: seq 1 + created 23 differs from 12 + 3.
  auto a = base;
  auto b = base;
  a.seq = 1;
  a.created_us = 23;
  b.seq = 12;
  b.created_us = 3;
  CHECK(message_id(a) != message_id(b));
}

TEST_CASE("forward_targets excludes the sender and the origin", "[gossip]") {
  const FlatSet<Address> n = {addr("10.0.0.1:1"), addr("10.0.0.2:1"), addr("10.0.0.3:1"), addr("10.0.0.4:1")};
  CHECK(forward_targets(n, addr("10.0.0.2:1"), addr("10.0.0.3:1")) ==
        std::vector<Address>{addr("10.0.0.1:1"), addr("10.0.0.4:1")});
  CHECK(forward_targets(n, addr("10.0.0.2:1"), addr("10.0.0.2:1")) ==
        std::vector<Address>{addr("10.0.0.1:1"), addr("10.0.0.3:1"), addr("10.0.0.4:1")});
  // Our own message: no sender, every neighbour.
  CHECK(forward_targets(n, std::nullopt, kSelf).size() == 4);
  CHECK(forward_targets(n, std::nullopt, addr("10.0.0.4:1")).size() == 3);
  CHECK(forward_targets({addr("10.0.0.2:1")}, addr("10.0.0.2:1"), kSelf).empty());
  CHECK(forward_targets({}, std::nullopt, kSelf).empty());
}

TEST_CASE("next_hop adds one hop and keeps every other field", "[gossip]") {
  const auto m = sample();
  const auto n = next_hop(m);
  CHECK(n.hops == m.hops + 1);
  CHECK(m.hops == 3);  // the original is untouched
  CHECK(n.origin == m.origin);
  CHECK(n.seq == m.seq);
  CHECK(n.created_us == m.created_us);
  CHECK(n.body == m.body);
  CHECK(next_hop(next_hop(m)).hops == 5);
}

// ---- GossipEngine ----------------------------------------------------------------------------------------

TEST_CASE("nothing is originated before the first link", "[gossip]") {
  GossipEngine g(kSelf, gossip_config());
  CHECK(g.next_deadline() == TimePoint::max());
  CHECK_FALSE(g.tick(t0, 1));
  CHECK_FALSE(g.tick(t0 + 1000s, 1));
  CHECK(g.stats().originated == 0);
}

TEST_CASE("exactly count messages are originated, the first start_delay after the first link, then one per interval",
          "[gossip]") {
  GossipEngine g(kSelf, gossip_config());
  g.on_linked(t0);
  g.on_linked(t0 + 500ms);  // later links change nothing
  CHECK(g.next_deadline() == t0 + 1000ms);
  CHECK_FALSE(g.tick(t0 + 999ms, 1));

  std::vector<wire::Gossip> sent;
  std::vector<TimePoint> when;
  // Drive the engine the way the loop does: tick at each deadline, for far longer than needed.
  for (int step = 0; step < 100 && g.next_deadline() != TimePoint::max(); ++step) {
    const TimePoint now = g.next_deadline();
    const std::uint64_t wall = 1'700'000'000'000'000ull + static_cast<std::uint64_t>(step) * 5'000'000ull;
    auto m = g.tick(now, wall);
    REQUIRE(m);
    CHECK(m->created_us == wall);
    sent.push_back(*m);
    when.push_back(now);
  }
  REQUIRE(sent.size() == 3);
  CHECK(when[0] == t0 + 1000ms);
  CHECK(when[1] == t0 + 6000ms);
  CHECK(when[2] == t0 + 11000ms);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const auto& m = sent[i];
    CHECK(m.origin == kSelf);
    CHECK(m.seq == i + 1);
    CHECK(m.hops == 0);
    CHECK(m.body == std::to_string(m.created_us) + ":127.0.0.1:7001:" + std::to_string(i + 1));
  }
  CHECK(g.done_originating());
  CHECK(g.next_deadline() == TimePoint::max());
  CHECK_FALSE(g.tick(t0 + 100000s, 1));
  CHECK(g.stats().originated == 3);
}

TEST_CASE("a tick between deadlines originates nothing", "[gossip]") {
  GossipEngine g(kSelf, gossip_config());
  g.on_linked(t0);
  REQUIRE(g.tick(t0 + 1000ms, 1));
  CHECK_FALSE(g.tick(t0 + 1001ms, 2));
  CHECK_FALSE(g.tick(t0 + 5999ms, 3));
  CHECK(g.tick(t0 + 6000ms, 4));
}

TEST_CASE("a late loop gets one message, not a burst to catch up", "[gossip]") {
  auto cfg = gossip_config();
  cfg.count = 10;
  GossipEngine g(kSelf, cfg);
  g.on_linked(t0);
  REQUIRE(g.tick(t0 + 60000ms, 1));  // eleven intervals late
  CHECK_FALSE(g.tick(t0 + 60000ms, 2));
  CHECK(g.next_deadline() == t0 + 65000ms);
}

TEST_CASE("a zero count originates nothing", "[gossip]") {
  auto cfg = gossip_config();
  cfg.count = 0;
  GossipEngine g(kSelf, cfg);
  g.on_linked(t0);
  CHECK(g.next_deadline() == TimePoint::max());
  CHECK_FALSE(g.tick(t0 + 10s, 1));
}

TEST_CASE("published payloads become the body and share the seq counter", "[gossip]") {
  GossipEngine g(kSelf, gossip_config());
  const auto p = g.publish("user text", t0, 77);
  CHECK(p.body == "user text");
  CHECK(p.seq == 1);
  CHECK(p.origin == kSelf);
  CHECK(p.created_us == 77);
  g.on_linked(t0);
  const auto a = g.tick(t0 + 1000ms, 88);
  REQUIRE(a);
  CHECK(a->seq == 2);
  CHECK(a->body == "88:127.0.0.1:7001:2");
  CHECK(g.stats().originated == 2);
  // Publishing does not use up the automatic count.
  CHECK_FALSE(g.done_originating());
}

TEST_CASE("on_receive: new once, then duplicate; our own messages are never new", "[gossip]") {
  auto cfg = gossip_config();
  cfg.seen_ttl = 10000ms;
  GossipEngine g(kSelf, cfg);
  const auto m = sample();
  CHECK(g.on_receive(m, t0) == GossipEngine::Verdict::kNew);
  CHECK(g.on_receive(m, t0 + 1ms) == GossipEngine::Verdict::kDuplicate);
  // The same message one hop further is the same message.
  CHECK(g.on_receive(next_hop(m), t0 + 2ms) == GossipEngine::Verdict::kDuplicate);
  CHECK(g.stats().received == 1);
  CHECK(g.stats().duplicates == 2);

  // Our own message coming back while remembered is a duplicate.
  const auto own = g.publish("mine", t0, 5);
  CHECK(g.on_receive(next_hop(own), t0 + 5ms) == GossipEngine::Verdict::kDuplicate);
  CHECK(g.stats().duplicates == 3);
  // After it expired from the Message List it is recognised as ours: kOwn, not received.
  CHECK(g.on_receive(next_hop(own), t0 + 10000ms) == GossipEngine::Verdict::kOwn);
  CHECK(g.stats().received == 1);
  // And from then on it is remembered again.
  CHECK(g.on_receive(own, t0 + 10001ms) == GossipEngine::Verdict::kDuplicate);

  // A message claiming our origin that we never sent (say, from before a restart) is ours too.
  wire::Gossip forged{kSelf, 999, 1, 0, "x"};
  CHECK(g.on_receive(forged, t0 + 10002ms) == GossipEngine::Verdict::kOwn);
  CHECK(g.stats().received == 1);
}

TEST_CASE("a message that differs only in body is a new message", "[gossip]") {
  GossipEngine g(kSelf, gossip_config());
  auto m = sample();
  CHECK(g.on_receive(m, t0) == GossipEngine::Verdict::kNew);
  m.body = "other";
  CHECK(g.on_receive(m, t0) == GossipEngine::Verdict::kNew);
  CHECK(g.stats().received == 2);
}

TEST_CASE("the engine's Message List is bounded by seen_max", "[gossip]") {
  auto cfg = gossip_config();
  cfg.seen_max = 10;
  GossipEngine g(kSelf, cfg);
  for (std::uint64_t i = 1; i <= 100; ++i) {
    wire::Gossip m{addr("10.0.0.9:7009"), i, 1, 0, "x"};
    CHECK(g.on_receive(m, t0) == GossipEngine::Verdict::kNew);
  }
  CHECK(g.seen().size() == 10);
  CHECK(g.seen().evicted() == 90);
}

TEST_CASE("postponing origination after a stall delays the next message and never brings it forward",
          "[gossip]") {
  using namespace std::chrono_literals;
  GossipConfig cfg;
  cfg.interval = 100ms;
  cfg.count = 5;
  GossipEngine g(Address{"127.0.0.1", 7001}, cfg);
  const TimePoint t0{};
  g.postpone(t0 + 1s);  // not started yet: nothing to hold
  g.on_linked(t0);
  REQUIRE(g.tick(t0, 1));
  g.postpone(t0 + 400ms);
  CHECK(g.next_deadline() == t0 + 400ms);
  CHECK_FALSE(g.tick(t0 + 399ms, 2));
  CHECK(g.tick(t0 + 400ms, 3));
  g.postpone(t0 + 450ms);  // earlier than the next due time (500 ms): no change
  CHECK(g.next_deadline() == t0 + 500ms);
}

TEST_CASE("the Message List agrees with a plain set under random inserts, expiry and eviction", "[seen]") {
  // Ids drawn from a small range collide in the table and exercise probing and backward-shift deletion;
  // id 0 is a legal id too.
  std::mt19937_64 rng(99);
  SeenCache c(50ms, 300);
  std::deque<std::pair<TimePoint, std::uint64_t>> model;
  std::set<std::uint64_t> in;
  TimePoint now = t0;
  for (int i = 0; i < 200000; ++i) {
    now += std::chrono::microseconds(std::uniform_int_distribution<int>(0, 400)(rng));
    const std::uint64_t id = std::uniform_int_distribution<std::uint64_t>(0, 2000)(rng) * 0x100000001ull;
    while (!model.empty() && model.front().first + 50ms <= now) {
      in.erase(model.front().second);
      model.pop_front();
    }
    const bool fresh = !in.count(id);
    if (fresh) {
      if (model.size() >= 300) {
        in.erase(model.front().second);
        model.pop_front();
      }
      model.emplace_back(now, id);
      in.insert(id);
    }
    REQUIRE(c.insert(mid(id), now) == fresh);
    REQUIRE(c.size() == model.size());
  }
  for (std::uint64_t id = 0; id <= 2000; ++id) CHECK(c.contains(mid(id * 0x100000001ull), now) == (in.count(id * 0x100000001ull) != 0));
}

TEST_CASE("a known id travels with the message and is used; a decoded message is always hashed", "[gossip]") {
  auto m = sample();
  const auto id = message_id(m);
  auto known = next_hop(m);
  known.id = id;
  CHECK(message_id(next_hop(known)) == id);
  known.id = mid(42);  // a made-up id would be believed: only our own code may set it ...
  CHECK(message_id(known) == mid(42));
  // ... and the codec never carries it.
  const auto frames = wire::encode(wire::Message{kSelf, known});
  const auto decoded = wire::decode(frames);
  REQUIRE(decoded.message);
  const auto& g = std::get<wire::Gossip>(decoded.message->body);
  CHECK(g.id.empty());
  CHECK(message_id(g) == id);
}
