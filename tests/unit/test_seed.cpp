// Unit tests for src/seed/seed.*: what a seed answers, the relay-once rule for dead-node reports and the
// lease schedule. Each test drives a real Seed and checks the effects it returns.
#include <catch2/catch.hpp>

#include <algorithm>

#include "node_harness.hpp"
#include "seed/seed.hpp"

using namespace gossip;
using namespace gossip::testing;

namespace {

// Seed 1 of three, with leases of `ttl_ms` (re-registration every 3 s in the fast preset).
struct OneSeed {
  explicit OneSeed(int ttl_ms = 12000)
      : cfg(make_config(Role::kSeed, 3, "[seed]\npeer_ttl_ms = " + std::to_string(ttl_ms) + "\n")), seed(seed_at(1), cfg, 5), h(seed) {
    h.start();
  }
  void registers(const Address& p) { h.inbox(p, wire::Register{}); }
  Config cfg;
  Seed seed;
  NodeHarness h;
};

}  // namespace

TEST_CASE("a seed opens a DEALER to every other seed it is configured with, not to itself", "[seed]") {
  OneSeed s;
  CHECK(s.h.opened(Socket::kSeed, seed_at(2)));
  CHECK(s.h.opened(Socket::kSeed, seed_at(3)));
  CHECK_FALSE(s.h.opened(Socket::kSeed, seed_at(1)));
}

TEST_CASE("REGISTER is answered with the other peers, new the first time and known after", "[seed]") {
  OneSeed s;
  s.registers(peer_at(1));
  s.registers(peer_at(2));
  s.h.clear();
  s.registers(peer_at(2));
  const auto lists = s.h.sent<wire::PeerList>(Socket::kInbox, peer_at(2));
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].known);
  CHECK(lists[0].peers == std::vector<Address>{peer_at(1)});
  CHECK(s.h.logs("reregistered").size() == 1);
  // peer_list_sent is written only once the answer is accepted by the socket.
  CHECK(s.h.logs("peer_list_sent").size() == 1);
  bool logged_when_sent = false;
  for (const auto& e : s.h.effects())
    if (const auto* send = std::get_if<Send>(&e)) logged_when_sent = send->log_when_sent.has_value();
  CHECK(logged_when_sent);
}

TEST_CASE("a full seed answers ERROR seed_full", "[seed]") {
  auto cfg = make_config(Role::kSeed, 1, "[seed]\nmax_peers = 1\n");
  Seed seed(seed_at(1), cfg, 1);
  NodeHarness h(seed);
  h.start();
  h.inbox(peer_at(1), wire::Register{});
  h.clear();
  h.inbox(peer_at(2), wire::Register{});
  const auto errors = h.sent<wire::Error>(Socket::kInbox, peer_at(2));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].reason == "seed_full");
  CHECK(h.logs("register_refused").size() == 1);
}

TEST_CASE("a peer's report that removes a peer is relayed to every other seed, once", "[seed]") {
  OneSeed s;
  s.registers(peer_at(1));
  s.registers(peer_at(2));
  s.h.clear();
  s.h.inbox(peer_at(1), wire::DeadNode{peer_at(2), 99});
  CHECK_FALSE(s.seed.registry().contains(peer_at(2)));
  auto relayed = s.h.sent_to<wire::DeadNode>(Socket::kSeed);
  std::sort(relayed.begin(), relayed.end());
  CHECK(relayed == std::vector<Address>{seed_at(2), seed_at(3)});
  for (const auto& d : s.h.sent<wire::DeadNode>(Socket::kSeed)) CHECK((d.dead == peer_at(2) && d.timestamp_us == 99));
  const auto removed = s.h.logs("peer_removed");
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].get("reason") == "dead_report");

  SECTION("the second report of the same death removes nothing and is not relayed") {
    s.h.clear();
    s.h.inbox(peer_at(3), wire::DeadNode{peer_at(2), 100});
    CHECK(s.h.sent_to<wire::DeadNode>(Socket::kSeed).empty());
    CHECK(s.h.logs("dead_report_ignored").size() == 1);
  }
}

TEST_CASE("a report relayed by another seed removes the peer and is never relayed again", "[seed]") {
  OneSeed s;
  s.registers(peer_at(2));
  s.h.clear();
  s.h.inbox(seed_at(2), wire::DeadNode{peer_at(2), 5});
  CHECK_FALSE(s.seed.registry().contains(peer_at(2)));
  CHECK(s.h.sent_to<wire::DeadNode>(Socket::kSeed).empty());
  const auto report = s.h.logs("dead_report");
  REQUIRE(report.size() == 1);
  CHECK(report[0].get("relayed") == "true");
}

TEST_CASE("a peer that stops registering expires between one lease and a quarter more", "[seed]") {
  OneSeed s(12000);
  s.registers(peer_at(1));
  const auto registered = s.h.now();
  s.h.run_timers_until(registered + 12000ms - 1ms);
  CHECK(s.seed.registry().contains(peer_at(1)));
  s.h.run_timers_until(registered + 15000ms);
  CHECK_FALSE(s.seed.registry().contains(peer_at(1)));
  const auto removed = s.h.logs("peer_removed");
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].get("reason") == "expired");
}

TEST_CASE("a peer that keeps re-registering never expires; with peer_ttl_ms 0 nobody does", "[seed]") {
  SECTION("re-registering") {
    OneSeed s(12000);
    for (int i = 0; i < 20; ++i) {
      s.registers(peer_at(1));
      s.h.run_timers_until(s.h.now() + 3000ms);
    }
    CHECK(s.seed.registry().contains(peer_at(1)));
  }
  SECTION("no leases") {
    OneSeed s(0);
    s.registers(peer_at(1));
    CHECK(s.seed.next_deadline() == TimePoint::max());
  }
}

TEST_CASE("LEAVE removes the peer at once; what a seed does not handle is refused", "[seed]") {
  OneSeed s;
  s.registers(peer_at(1));
  s.h.clear();
  s.h.inbox(peer_at(1), wire::Leave{});
  CHECK_FALSE(s.seed.registry().contains(peer_at(1)));
  CHECK(s.h.logs("peer_removed")[0].get("reason") == "left");
  s.h.clear();
  s.h.inbox(peer_at(4), wire::Gossip{peer_at(4), 1, 1, 0, "x"});
  s.h.on_seed(seed_at(2), wire::Error{"anything"});  // nothing should come back on a seed's DEALERs
  const auto bad = s.h.logs("bad_message");
  REQUIRE(bad.size() == 2);
  CHECK(bad[0].get("reason")->rfind("unexpected_type: GOSSIP", 0) == 0);
}

TEST_CASE("a PEER_LIST names at most seed.peer_list_max peers", "[seed]") {
  auto cfg = make_config(Role::kSeed, 1, "[seed]\npeer_list_max = 5\n");
  Seed seed(seed_at(1), cfg, 1);
  NodeHarness h(seed);
  h.start();
  for (int i = 1; i <= 20; ++i) h.inbox(peer_at(i), wire::Register{});
  const auto lists = h.sent<wire::PeerList>(Socket::kInbox, peer_at(20));
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].peers.size() == 5);
}

TEST_CASE("a message in the seed's own name is refused: it never lists itself", "[seed]") {
  OneSeed s;
  s.h.clear();
  s.h.inbox(seed_at(1), wire::Register{});
  const auto bad = s.h.logs("bad_message");
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].get("reason") == "sender_is_self");
  CHECK(s.seed.registry().size() == 0);
  CHECK(s.h.sent<wire::PeerList>(Socket::kInbox).empty());
}

TEST_CASE("a revoked member's addresses leave the seed's list at once", "[seed]") {
  OneSeed s;
  s.registers(peer_at(1));
  s.registers(peer_at(2));
  s.h.clear();
  s.h.revoked({peer_at(2), peer_at(9)});  // 9 was never registered: nothing to say about it
  CHECK(s.seed.registry().contains(peer_at(1)));
  CHECK_FALSE(s.seed.registry().contains(peer_at(2)));
  const auto removed = s.h.logs("peer_removed");
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].get("peer") == peer_at(2).to_string());
  CHECK(removed[0].get("reason") == "key_revoked");
}
