// Unit tests for src/seed/registry.*: a seed's list of live peers, registration and the dead-report rule.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <map>
#include <set>
#include <string>

#include "seed/registry.hpp"

using namespace gossip;
using namespace std::chrono_literals;

namespace {

Address peer(int i) { return Address{"10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 7000}; }

const TimePoint t0 = TimePoint{} + 1000ms;
constexpr std::size_t kNoLimit = 1024;

}  // namespace

TEST_CASE("a first registration is new and lists every other peer but never the requester", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(1);
  auto first = r.register_peer(peer(1), t0, kNoLimit, rng);
  CHECK(first.outcome == Registry::Outcome::kNew);
  CHECK(first.others.empty());

  r.register_peer(peer(2), t0, kNoLimit, rng);
  auto third = r.register_peer(peer(3), t0 + 1ms, kNoLimit, rng);
  CHECK(third.outcome == Registry::Outcome::kNew);
  CHECK(third.others == std::vector<Address>{peer(1), peer(2)});
  CHECK(r.size() == 3);
}

TEST_CASE("a repeated registration is known and adds no duplicate", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(2);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  r.register_peer(peer(2), t0, kNoLimit, rng);
  auto again = r.register_peer(peer(1), t0 + 5s, kNoLimit, rng);
  CHECK(again.outcome == Registry::Outcome::kKnown);
  CHECK(again.others == std::vector<Address>{peer(2)});
  CHECK(r.size() == 2);
  CHECK(r.peers() == std::vector<Address>{peer(1), peer(2)});
}

TEST_CASE("the list is a random sample of exactly the limit when more peers are registered", "[registry]") {
  Registry r(1000);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) r.register_peer(peer(i), t0, kNoLimit, rng);
  std::set<Address> seen_in_samples;
  for (int round = 0; round < 20; ++round) {
    auto reg = r.register_peer(peer(0), t0, 10, rng);
    CHECK(reg.outcome == Registry::Outcome::kKnown);
    REQUIRE(reg.others.size() == 10);
    const std::set<Address> distinct(reg.others.begin(), reg.others.end());
    CHECK(distinct.size() == 10);
    CHECK(distinct.count(peer(0)) == 0);
    for (const auto& a : reg.others) CHECK(r.contains(a));
    seen_in_samples.insert(distinct.begin(), distinct.end());
  }
  // Twenty samples of 10 from 49 reach far more than one fixed set of 10.
  CHECK(seen_in_samples.size() > 30);
}

TEST_CASE("a list at exactly the limit is returned whole", "[registry]") {
  Registry r(1000);
  std::mt19937_64 rng(4);
  for (int i = 0; i < 11; ++i) r.register_peer(peer(i), t0, kNoLimit, rng);
  auto reg = r.register_peer(peer(0), t0, 10, rng);
  CHECK(reg.others.size() == 10);
}

TEST_CASE("a full registry refuses a new peer but still answers a known one", "[registry]") {
  Registry r(3);
  std::mt19937_64 rng(5);
  for (int i = 1; i <= 3; ++i) CHECK(r.register_peer(peer(i), t0, kNoLimit, rng).outcome == Registry::Outcome::kNew);
  auto refused = r.register_peer(peer(4), t0, kNoLimit, rng);
  CHECK(refused.outcome == Registry::Outcome::kFull);
  CHECK(refused.others.empty());
  CHECK_FALSE(r.contains(peer(4)));
  CHECK(r.size() == 3);
  CHECK(r.register_peer(peer(2), t0, kNoLimit, rng).outcome == Registry::Outcome::kKnown);
  // Room again after one leaves.
  CHECK(r.leave(peer(1)));
  CHECK(r.register_peer(peer(4), t0, kNoLimit, rng).outcome == Registry::Outcome::kNew);
}

TEST_CASE("a listed peer reported dead by another listed peer is removed", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(6);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  r.register_peer(peer(2), t0, kNoLimit, rng);
  auto removal = r.report_dead(peer(2), peer(1));
  CHECK(removal.removed);
  CHECK(removal.reason.empty());
  CHECK_FALSE(r.contains(peer(2)));
  CHECK(r.size() == 1);
  // It registers as new afterwards.
  CHECK(r.register_peer(peer(2), t0 + 2s, kNoLimit, rng).outcome == Registry::Outcome::kNew);
}

TEST_CASE("a report about an unknown peer changes nothing", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(7);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  auto removal = r.report_dead(peer(9), peer(1));
  CHECK_FALSE(removal.removed);
  CHECK(removal.reason == "unknown_peer");
  CHECK(r.size() == 1);
  // A second report of an already-removed peer is also unknown.
  r.register_peer(peer(2), t0, kNoLimit, rng);
  CHECK(r.report_dead(peer(2), peer(1)).removed);
  CHECK(r.report_dead(peer(2), peer(1)).reason == "unknown_peer");
}

TEST_CASE("a report from an unlisted reporter is ignored", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(8);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  auto removal = r.report_dead(peer(1), peer(9));
  CHECK_FALSE(removal.removed);
  CHECK(removal.reason == "unknown_reporter");
  CHECK(r.contains(peer(1)));
}

TEST_CASE("a peer reporting itself dead is ignored", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(9);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  auto removal = r.report_dead(peer(1), peer(1));
  CHECK_FALSE(removal.removed);
  CHECK(removal.reason == "self_report");
  CHECK(r.contains(peer(1)));
}

TEST_CASE("leave removes a listed peer once and reports whether it was listed", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(10);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  r.register_peer(peer(2), t0, kNoLimit, rng);
  CHECK(r.leave(peer(1)));
  CHECK_FALSE(r.contains(peer(1)));
  CHECK_FALSE(r.leave(peer(1)));
  CHECK_FALSE(r.leave(peer(7)));
  CHECK(r.peers() == std::vector<Address>{peer(2)});
  CHECK(r.register_peer(peer(2), t0, kNoLimit, rng).others.empty());
}

TEST_CASE("a dead report relayed by another seed removes the peer though the relaying seed is not listed",
          "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(11);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  const Address other_seed{"127.0.0.1", 6002};
  // Without the seed flag the same reporter is an unknown peer.
  CHECK(r.report_dead(peer(1), other_seed).reason == "unknown_reporter");
  CHECK(r.contains(peer(1)));
  const auto relayed = r.report_dead(peer(1), other_seed, true);
  CHECK(relayed.removed);
  CHECK_FALSE(r.contains(peer(1)));
  // A relay about a peer this seed never had changes nothing.
  CHECK(r.report_dead(peer(5), other_seed, true).reason == "unknown_peer");
}

TEST_CASE("a peer whose registration is ttl old expires, and re-registering renews the lease", "[registry]") {
  Registry r(100);
  std::mt19937_64 rng(12);
  r.register_peer(peer(1), t0, kNoLimit, rng);
  r.register_peer(peer(2), t0 + 10s, kNoLimit, rng);
  CHECK(r.expire(t0 + 119s, 120s).empty());
  r.register_peer(peer(1), t0 + 100s, kNoLimit, rng);  // renews peer 1 (a known registration)
  CHECK(r.expire(t0 + 129s, 120s).empty());
  CHECK(r.expire(t0 + 130s, 120s) == std::vector<Address>{peer(2)});
  CHECK(r.contains(peer(1)));
  CHECK_FALSE(r.contains(peer(2)));
  CHECK(r.expire(t0 + 220s, 120s) == std::vector<Address>{peer(1)});
  CHECK(r.size() == 0);
}

TEST_CASE("samples are uniform over the other peers, whatever the requester's place", "[registry]") {
  Registry r(1000);
  std::mt19937_64 rng(8);
  for (int i = 0; i < 40; ++i) r.register_peer(peer(i), t0, kNoLimit, rng);
  std::map<Address, int> hits;
  for (int round = 0; round < 4000; ++round) {
    const auto who = peer(round % 40);
    for (const auto& a : r.register_peer(who, t0, 10, rng).others) {
      REQUIRE(a != who);
      ++hits[a];
    }
  }
  // 4,000 samples of 10 of 39: each peer is picked about 4000 * 10 / 40 = 1,000 times.
  REQUIRE(hits.size() == 40);
  for (const auto& [a, n] : hits) {
    CHECK(n > 850);
    CHECK(n < 1150);
  }
}

TEST_CASE("removals in any order keep every answer made of registered peers", "[registry]") {
  Registry r(1000);
  std::mt19937_64 rng(9);
  std::set<Address> in;
  for (int i = 0; i < 300; ++i) {
    r.register_peer(peer(i), t0, kNoLimit, rng);
    in.insert(peer(i));
  }
  for (int i = 0; i < 300; i += 3) {
    CHECK(r.leave(peer((i * 7) % 300)) == (in.erase(peer((i * 7) % 300)) == 1));
    REQUIRE(r.size() == in.size());
    for (const auto& a : r.register_peer(*in.begin(), t0, 20, rng).others) CHECK(in.count(a) == 1);
  }
  CHECK(r.peers() == std::vector<Address>(in.begin(), in.end()));
}
