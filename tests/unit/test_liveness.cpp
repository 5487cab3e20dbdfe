// Unit tests for src/peer/liveness.*: the failure detector's rounds, misses, death reports and stalls.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "peer/liveness.hpp"

using namespace gossip;
using namespace std::chrono_literals;

namespace {

Address peer(int i) { return Address{"10.0.0." + std::to_string(i), 7000}; }

const TimePoint t0 = TimePoint{} + 50s;

LivenessConfig config(int max_misses = 3, Millis interval = 1000ms) {
  LivenessConfig c;
  c.interval = interval;
  c.max_misses = max_misses;
  return c;
}

template <class T>
std::vector<T> all_of_type(const std::vector<Liveness::Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

std::set<Address> probed(const std::vector<Liveness::Action>& actions) {
  std::set<Address> out;
  for (const auto& p : all_of_type<Liveness::Probe>(actions)) out.insert(p.to);
  return out;
}

// Runs one round at its deadline (plus `late`), returning what it produced.
std::vector<Liveness::Action> round(Liveness& l, Millis late = 0ms) { return l.tick(l.next_deadline() + late); }

}  // namespace

TEST_CASE("no rounds run before the first peer is watched", "[liveness]") {
  Liveness l(config());
  CHECK(l.next_deadline() == TimePoint::max());
  l.add(peer(1), t0);
  CHECK(l.next_deadline() == t0 + 1000ms);
  // A second add does not move the schedule.
  l.add(peer(2), t0 + 300ms);
  CHECK(l.next_deadline() == t0 + 1000ms);
}

TEST_CASE("every watched peer is probed in every round", "[liveness]") {
  Liveness l(config(1000));
  for (int i = 1; i <= 5; ++i) l.add(peer(i), t0);
  for (int r = 0; r < 4; ++r) {
    INFO("round " << r);
    const auto a = round(l);
    CHECK(probed(a) == std::set<Address>{peer(1), peer(2), peer(3), peer(4), peer(5)});
    CHECK(all_of_type<Liveness::Probe>(a).size() == 5);  // one probe each, no more
  }
}

TEST_CASE("rounds come one interval apart", "[liveness]") {
  Liveness l(config());
  l.add(peer(1), t0);
  l.tick(t0 + 1000ms);
  CHECK(l.next_deadline() == t0 + 2000ms);
  l.tick(t0 + 2100ms);  // a little late: scheduled from when it ran
  CHECK(l.next_deadline() == t0 + 3100ms);
}

TEST_CASE("a neighbour that misses three rounds is declared dead once", "[liveness]") {
  Liveness l(config(3));
  l.add(peer(1), t0);
  // Round 1 sends the first probe; rounds 2 and 3 find it unanswered (misses 1, 2); round 4 the third.
  auto r1 = round(l);
  CHECK(probed(r1) == std::set<Address>{peer(1)});
  CHECK(all_of_type<Liveness::Missed>(r1).empty());

  auto r2 = round(l);
  auto missed = all_of_type<Liveness::Missed>(r2);
  REQUIRE(missed.size() == 1);
  CHECK(missed[0].peer == peer(1));
  CHECK(missed[0].misses == 1);
  CHECK(l.misses(peer(1)) == 1);
  CHECK(all_of_type<Liveness::Dead>(r2).empty());

  auto r3 = round(l);
  missed = all_of_type<Liveness::Missed>(r3);
  REQUIRE(missed.size() == 1);
  CHECK(missed[0].misses == 2);
  CHECK(all_of_type<Liveness::Dead>(r3).empty());

  auto r4 = round(l);
  const auto dead = all_of_type<Liveness::Dead>(r4);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].peer == peer(1));
  CHECK(dead[0].misses == 3);
  CHECK(all_of_type<Liveness::Missed>(r4).empty());
  CHECK(probed(r4).empty());  // a dead peer is not probed again

  // Never a second report for the same death, however long it stays silent.
  for (int r = 0; r < 20; ++r) {
    const auto later = round(l);
    CHECK(all_of_type<Liveness::Dead>(later).empty());
    CHECK(probed(later).empty());
  }
}

TEST_CASE("the death is reported after exactly max_misses unanswered rounds for any max_misses", "[liveness]") {
  for (int max = 1; max <= 6; ++max) {
    INFO("max_misses " << max);
    Liveness l(config(max));
    l.add(peer(1), t0);
    round(l);  // first probe
    int dead_reports = 0;
    int rounds_until_dead = 0;
    for (int r = 1; r <= max + 5; ++r) {
      const auto d = all_of_type<Liveness::Dead>(round(l));
      if (!d.empty()) {
        ++dead_reports;
        CHECK(d[0].misses == max);
        if (rounds_until_dead == 0) rounds_until_dead = r;
      }
    }
    CHECK(dead_reports == 1);
    CHECK(rounds_until_dead == max);
  }
}

TEST_CASE("any traffic before the last miss resets the count and keeps the peer alive", "[liveness]") {
  Liveness l(config(3));
  l.add(peer(1), t0);
  round(l);
  round(l);
  round(l);
  REQUIRE(l.misses(peer(1)) == 2);
  l.on_traffic(peer(1));
  CHECK(l.misses(peer(1)) == 0);
  // The round after the reply counts no miss.
  const auto a = round(l);
  CHECK(all_of_type<Liveness::Missed>(a).empty());
  CHECK(all_of_type<Liveness::Dead>(a).empty());
  CHECK(probed(a) == std::set<Address>{peer(1)});
  // From here it takes the full three unanswered rounds again.
  CHECK(all_of_type<Liveness::Dead>(round(l)).empty());
  CHECK(all_of_type<Liveness::Dead>(round(l)).empty());
  CHECK(all_of_type<Liveness::Dead>(round(l)).size() == 1);
}

TEST_CASE("a peer that answers every round is never missed", "[liveness]") {
  Liveness l(config(3));
  l.add(peer(1), t0);
  l.add(peer(2), t0);
  for (int r = 0; r < 50; ++r) {
    const auto a = round(l);
    CHECK(all_of_type<Liveness::Missed>(a).empty());
    CHECK(all_of_type<Liveness::Dead>(a).empty());
    l.on_traffic(peer(1));
    l.on_traffic(peer(2));
  }
}

TEST_CASE("only the silent one of two neighbours is declared dead", "[liveness]") {
  Liveness l(config(3));
  l.add(peer(1), t0);
  l.add(peer(2), t0);
  std::vector<Address> deaths;
  for (int r = 0; r < 10; ++r) {
    for (const auto& d : all_of_type<Liveness::Dead>(round(l))) deaths.push_back(d.peer);
    l.on_traffic(peer(2));
  }
  CHECK(deaths == std::vector<Address>{peer(1)});
  CHECK(l.misses(peer(2)) == 0);
}

TEST_CASE("traffic from a peer that is not watched changes nothing", "[liveness]") {
  Liveness l(config(3));
  l.on_traffic(peer(9));
  CHECK(l.misses(peer(9)) == 0);
  CHECK(l.next_deadline() == TimePoint::max());
}

TEST_CASE("a stalled round (more than interval/2 late) counts no misses", "[liveness]") {
  Liveness l(config(3, 1000ms));
  l.add(peer(1), t0);
  round(l);
  round(l);
  round(l);
  REQUIRE(l.misses(peer(1)) == 2);
  // The process was paused: this round runs 10 s late. Without the stall rule it would be the third miss.
  const auto due = l.next_deadline();
  const auto a = l.tick(due + 10000ms);
  const auto stalled = all_of_type<Liveness::Stalled>(a);
  REQUIRE(stalled.size() == 1);
  CHECK(stalled[0].late == 10000ms);
  CHECK(all_of_type<Liveness::Missed>(a).empty());
  CHECK(all_of_type<Liveness::Dead>(a).empty());
  CHECK(l.misses(peer(1)) == 2);
  CHECK(probed(a) == std::set<Address>{peer(1)});  // probes still go out
  // Scheduled from now: one round, not a burst of overdue ones.
  CHECK(l.next_deadline() == due + 10000ms + 1000ms);
  // The next on-time round counts again.
  CHECK(all_of_type<Liveness::Dead>(round(l)).size() == 1);
}

TEST_CASE("a round up to interval/2 late still counts misses", "[liveness]") {
  Liveness l(config(3, 1000ms));
  l.add(peer(1), t0);
  round(l);
  const auto a = round(l, 500ms);
  CHECK(all_of_type<Liveness::Stalled>(a).empty());
  CHECK(all_of_type<Liveness::Missed>(a).size() == 1);
  const auto b = round(l, 501ms);
  CHECK(all_of_type<Liveness::Stalled>(b).size() == 1);
  CHECK(all_of_type<Liveness::Missed>(b).empty());
}

TEST_CASE("round_stalled is true only beyond half an interval", "[liveness]") {
  CHECK_FALSE(round_stalled(t0, t0, 1000ms));
  CHECK_FALSE(round_stalled(t0, t0 + 500ms, 1000ms));
  CHECK(round_stalled(t0, t0 + 501ms, 1000ms));
  CHECK(round_stalled(t0, t0 + 13s, 13000ms));
  CHECK_FALSE(round_stalled(t0, t0 + 6500ms, 13000ms));
}

TEST_CASE("a removed peer is not probed and never declared dead", "[liveness]") {
  Liveness l(config(3));
  l.add(peer(1), t0);
  l.add(peer(2), t0);
  round(l);
  round(l);
  l.remove(peer(1));
  CHECK(l.misses(peer(1)) == 0);
  for (int r = 0; r < 10; ++r) {
    const auto a = round(l);
    CHECK(probed(a).count(peer(1)) == 0);
    for (const auto& d : all_of_type<Liveness::Dead>(a)) CHECK(d.peer != peer(1));
    for (const auto& m : all_of_type<Liveness::Missed>(a)) CHECK(m.peer != peer(1));
    l.on_traffic(peer(2));
  }
  l.remove(peer(7));  // removing an unknown peer is harmless
}

TEST_CASE("a peer added again after removal starts with no misses", "[liveness]") {
  Liveness l(config(3));
  l.add(peer(1), t0);
  round(l);
  round(l);
  round(l);
  REQUIRE(l.misses(peer(1)) == 2);
  l.remove(peer(1));
  l.add(peer(1), t0 + 3500ms);
  CHECK(l.misses(peer(1)) == 0);
  const auto a = round(l);
  CHECK(all_of_type<Liveness::Missed>(a).empty());
  CHECK(probed(a) == std::set<Address>{peer(1)});
}

TEST_CASE("random replies never produce more than one death per silence, and only after max_misses",
          "[liveness]") {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 50; ++trial) {
    Liveness l(config(3));
    l.add(peer(1), t0);
    int silent_rounds = 0;  // rounds since a reply, counting the round that sent the probe
    bool watched = true;
    for (int r = 0; r < 40 && watched; ++r) {
      const auto a = round(l);
      const auto dead = all_of_type<Liveness::Dead>(a);
      if (!dead.empty()) {
        CHECK(silent_rounds == 3);
        watched = false;
        break;
      }
      CHECK(silent_rounds < 3);
      if (rng() % 3 == 0) {
        l.on_traffic(peer(1));
        silent_rounds = 0;
      } else {
        ++silent_rounds;
      }
    }
  }
}
