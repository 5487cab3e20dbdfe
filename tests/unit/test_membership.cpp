// Unit tests for src/peer/membership.* and src/common/backoff.hpp: choosing a seed majority, replacing
// silent seeds, backing off, joining with the union of lists, and periodic re-registration.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/backoff.hpp"
#include "peer/membership.hpp"

using namespace gossip;
using namespace std::chrono_literals;

namespace {

Address seed(int i) { return Address{"127.0.0.1", static_cast<std::uint16_t>(6000 + i)}; }
Address peer(int i) { return Address{"10.0.0." + std::to_string(i), 7000}; }

std::vector<Address> seeds(int n) {
  std::vector<Address> out;
  for (int i = 1; i <= n; ++i) out.push_back(seed(i));
  return out;
}

const TimePoint t0 = TimePoint{} + 10s;

MembershipTiming timing() {
  MembershipTiming t;
  t.register_timeout = 2000ms;
  t.retry_min = 250ms;
  t.retry_max = 5000ms;
  t.reregister_interval = 30000ms;
  return t;
}

template <class T>
std::vector<T> all_of_type(const std::vector<Membership::Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

std::vector<Address> register_targets(const std::vector<Membership::Action>& actions) {
  std::vector<Address> out;
  for (const auto& s : all_of_type<Membership::SendRegister>(actions)) out.push_back(s.seed);
  return out;
}

bool distinct(std::vector<Address> v) {
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) == v.end();
}

}  // namespace

TEST_CASE("seed_majority is floor(n/2)+1 for one to seven seeds", "[membership]") {
  CHECK(seed_majority(1) == 1);
  CHECK(seed_majority(2) == 2);
  CHECK(seed_majority(3) == 2);
  CHECK(seed_majority(4) == 3);
  CHECK(seed_majority(5) == 3);
  CHECK(seed_majority(6) == 4);
  CHECK(seed_majority(7) == 4);
  // Two majorities always overlap.
  for (std::size_t n = 1; n <= 7; ++n) CHECK(2 * seed_majority(n) > n);
}

TEST_CASE("choose_distinct returns the requested number of distinct items from the input", "[membership]") {
  std::mt19937_64 rng(11);
  auto from = seeds(7);
  from.push_back(seed(3));  // duplicates in the input count once
  from.push_back(seed(3));
  std::set<std::vector<Address>> different_choices;
  for (int i = 0; i < 200; ++i) {
    const auto chosen = choose_distinct(from, 4, rng);
    REQUIRE(chosen.size() == 4);
    REQUIRE(distinct(chosen));
    for (const auto& c : chosen) REQUIRE(std::find(from.begin(), from.end(), c) != from.end());
    different_choices.insert(chosen);
  }
  CHECK(different_choices.size() > 20);  // it is random, not a fixed prefix
  CHECK(choose_distinct({seed(1), seed(1), seed(2)}, 5, rng).size() == 2);
  CHECK(choose_distinct({}, 3, rng).empty());
  CHECK(choose_distinct(seeds(3), 0, rng).empty());
}

TEST_CASE("start registers with exactly a majority of distinct seeds on fresh sockets", "[membership]") {
  for (int n = 1; n <= 7; ++n) {
    for (std::uint64_t s = 1; s <= 20; ++s) {
      INFO("n=" << n << " rng seed=" << s);
      std::mt19937_64 rng(s);
      Membership m(seeds(n), timing());
      const auto actions = m.start(t0, rng);
      const auto sends = all_of_type<Membership::SendRegister>(actions);
      REQUIRE(actions.size() == sends.size());
      REQUIRE(sends.size() == seed_majority(static_cast<std::size_t>(n)));
      for (const auto& send : sends) {
        CHECK(send.fresh);
        CHECK(send.seed.port >= 6001);
        CHECK(send.seed.port <= 6000 + n);
      }
      CHECK(distinct(register_targets(actions)));
      CHECK_FALSE(m.joined());
      CHECK(m.next_deadline() == t0 + 2000ms);
    }
  }
}

TEST_CASE("nothing times out before register_timeout", "[membership]") {
  std::mt19937_64 rng(12);
  Membership m(seeds(3), timing());
  m.start(t0, rng);
  CHECK(m.tick(t0 + 1999ms, rng).empty());
}

TEST_CASE("a seed that does not answer in time is replaced by one not tried yet", "[membership]") {
  std::mt19937_64 rng(13);
  Membership m(seeds(5), timing());
  const auto first = register_targets(m.start(t0, rng));
  REQUIRE(first.size() == 3);
  // Two answer, the third stays silent.
  m.on_peer_list(first[0], false, {peer(1)}, t0 + 10ms, rng);
  m.on_peer_list(first[1], false, {peer(2)}, t0 + 20ms, rng);
  CHECK_FALSE(m.joined());  // 2 of 3 needed

  const auto actions = m.tick(t0 + 2000ms, rng);
  const auto timed_out = all_of_type<Membership::SeedTimedOut>(actions);
  REQUIRE(timed_out.size() == 1);
  CHECK(timed_out[0].seed == first[2]);
  CHECK_FALSE(timed_out[0].was_registered);
  const auto replacement = register_targets(actions);
  REQUIRE(replacement.size() == 1);
  CHECK(std::find(first.begin(), first.end(), replacement[0]) == first.end());
  CHECK(all_of_type<Membership::SendRegister>(actions)[0].fresh);
  CHECK(all_of_type<Membership::RoundFailed>(actions).empty());

  // A late answer from the seed that timed out is ignored.
  CHECK(m.on_peer_list(first[2], false, {peer(9)}, t0 + 2100ms, rng).empty());
  CHECK_FALSE(m.joined());

  const auto joined = all_of_type<Membership::Joined>(m.on_peer_list(replacement[0], false, {peer(3)}, t0 + 2200ms, rng));
  REQUIRE(joined.size() == 1);
  CHECK(joined[0].peers == std::vector<Address>{peer(1), peer(2), peer(3)});
}

TEST_CASE("after every seed fails a round, it waits a jittered backoff and then starts a new round", "[membership]") {
  std::mt19937_64 rng(14);
  const auto t = timing();
  Membership m(seeds(3), t);
  const auto first = register_targets(m.start(t0, rng));
  REQUIRE(first.size() == 2);

  auto a1 = m.tick(t0 + 2000ms, rng);
  CHECK(all_of_type<Membership::SeedTimedOut>(a1).size() == 2);
  const auto third = register_targets(a1);
  REQUIRE(third.size() == 1);
  CHECK(std::find(first.begin(), first.end(), third[0]) == first.end());
  CHECK(all_of_type<Membership::RoundFailed>(a1).empty());

  const TimePoint t2 = t0 + 4000ms;
  auto a2 = m.tick(t2, rng);
  CHECK(all_of_type<Membership::SeedTimedOut>(a2).size() == 1);
  CHECK(register_targets(a2).empty());
  const auto failed = all_of_type<Membership::RoundFailed>(a2);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].attempt == 1);
  CHECK(failed[0].delay >= t.retry_min / 2);
  CHECK(failed[0].delay < t.retry_min * 3 / 2);
  CHECK(m.next_deadline() == t2 + failed[0].delay);

  // Nothing happens during the delay.
  CHECK(m.tick(t2 + failed[0].delay - 1ms, rng).empty());

  // Then a new round with a fresh majority, every seed eligible again.
  const TimePoint t3 = t2 + failed[0].delay;
  const auto a3 = m.tick(t3, rng);
  const auto round2 = register_targets(a3);
  CHECK(round2.size() == 2);
  CHECK(distinct(round2));

  // A second failed round doubles the base delay.
  m.tick(t3 + 2000ms, rng);
  const auto a4 = m.tick(t3 + 4000ms, rng);
  const auto failed2 = all_of_type<Membership::RoundFailed>(a4);
  REQUIRE(failed2.size() == 1);
  CHECK(failed2[0].attempt == 2);
  CHECK(failed2[0].delay >= t.retry_min);
  CHECK(failed2[0].delay < t.retry_min * 3);
}

TEST_CASE("a peer with one seed that never answers keeps retrying with growing, capped delays", "[membership]") {
  std::mt19937_64 rng(15);
  auto t = timing();
  t.retry_min = 100ms;
  t.retry_max = 400ms;
  Membership m(seeds(1), t);
  TimePoint now = t0;
  REQUIRE(register_targets(m.start(now, rng)).size() == 1);
  for (int attempt = 1; attempt <= 6; ++attempt) {
    now += t.register_timeout;
    const auto actions = m.tick(now, rng);
    const auto failed = all_of_type<Membership::RoundFailed>(actions);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].attempt == attempt);
    const auto base = std::min<long long>(400, 100LL << (attempt - 1));
    CHECK(failed[0].delay.count() >= base / 2);
    CHECK(failed[0].delay.count() < base * 3 / 2);
    now += failed[0].delay;
    REQUIRE(register_targets(m.tick(now, rng)).size() == 1);
  }
}

// Found by the simulator's fault campaign: two of three seeds timed out in one round, the third answered,
// and the peer then waited for nothing, for ever (registered with one seed, never joined, never
// re-registering, until that seed's lease dropped it).
TEST_CASE("a round that ends short of a majority backs off and asks the other seeds again", "[membership]") {
  std::mt19937_64 rng(21);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  REQUIRE(first.size() == 2);
  const auto after_timeouts = m.tick(t0 + 2000ms, rng);  // both silent: the third seed is asked
  const auto third = register_targets(after_timeouts);
  REQUIRE(third.size() == 1);
  const auto answered = m.on_peer_list(third[0], false, {peer(1)}, t0 + 2010ms, rng);
  CHECK_FALSE(m.joined());
  const auto failed = all_of_type<Membership::RoundFailed>(answered);
  REQUIRE(failed.size() == 1);  // the round is over: nobody else to wait for
  CHECK(m.next_deadline() == t0 + 2010ms + failed[0].delay);
  const auto retry = register_targets(m.tick(m.next_deadline(), rng));
  REQUIRE(retry.size() == 1);  // one more seed makes a majority with the one that answered
  CHECK(retry[0] != third[0]);
  CHECK(all_of_type<Membership::Joined>(m.on_peer_list(retry[0], false, {peer(2)}, m.next_deadline(), rng)).size() == 1);
}

// Found by the fault campaign: while the other seeds were cut off for longer than a lease, the seed that
// had answered expired the peer, which never re-registered because it had not joined.
TEST_CASE("a peer short of a majority keeps re-registering with the seeds that answered", "[membership]") {
  std::mt19937_64 rng(22);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  m.on_peer_list(first[0], false, {peer(1)}, t0 + 10ms, rng);  // one answers; the rest never will
  TimePoint now = t0 + 10ms;
  int reregistered = 0;
  while (now < t0 + 10ms + 3 * timing().reregister_interval) {
    now = m.next_deadline();
    for (const auto& s : all_of_type<Membership::SendRegister>(m.tick(now, rng)))
      if (s.seed == first[0]) {
        ++reregistered;
        CHECK_FALSE(s.fresh);  // on its socket: it has answered before
        m.on_peer_list(first[0], true, {peer(1)}, now + 5ms, rng);
      }
  }
  CHECK_FALSE(m.joined());
  CHECK(reregistered >= 3);
}

TEST_CASE("joined once a majority answered, with the union of their lists", "[membership]") {
  std::mt19937_64 rng(16);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  REQUIRE(first.size() == 2);

  const auto r1 = m.on_peer_list(first[0], false, {peer(1), peer(2)}, t0 + 5ms, rng);
  REQUIRE(all_of_type<Membership::SeedRegistered>(r1).size() == 1);
  CHECK(all_of_type<Membership::SeedRegistered>(r1)[0].seed == first[0]);
  CHECK(all_of_type<Membership::Joined>(r1).empty());
  CHECK_FALSE(m.joined());

  const auto r2 = m.on_peer_list(first[1], false, {peer(2), peer(3)}, t0 + 6ms, rng);
  CHECK(all_of_type<Membership::SeedRegistered>(r2).size() == 1);
  const auto joined = all_of_type<Membership::Joined>(r2);
  REQUIRE(joined.size() == 1);
  auto expected_seeds = first;
  std::sort(expected_seeds.begin(), expected_seeds.end());
  CHECK(joined[0].seeds == expected_seeds);
  CHECK(joined[0].peers == std::vector<Address>{peer(1), peer(2), peer(3)});
  CHECK(m.joined());
  CHECK(m.registered_seeds() == expected_seeds);
  CHECK(m.known_peers() == std::vector<Address>{peer(1), peer(2), peer(3)});

  // A list from a seed we never asked is ignored; a second answer does not join again.
  const auto other = seeds(3);
  for (const auto& s : other)
    if (std::find(first.begin(), first.end(), s) == first.end())
      CHECK(m.on_peer_list(s, false, {peer(8)}, t0 + 7ms, rng).empty());
  CHECK(m.known_peers().size() == 3);
  // Nothing more to do until re-registration.
  CHECK(m.tick(t0 + 2000ms, rng).empty());
  CHECK(m.next_deadline() == t0 + 6ms + 30000ms);
}

TEST_CASE("a joined peer re-registers with its seeds every reregister_interval", "[membership]") {
  std::mt19937_64 rng(17);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  m.on_peer_list(first[0], false, {peer(1)}, t0, rng);
  m.on_peer_list(first[1], false, {peer(2)}, t0, rng);
  REQUIRE(m.joined());

  CHECK(m.tick(t0 + 29999ms, rng).empty());
  const auto again = m.tick(t0 + 30000ms, rng);
  const auto sends = all_of_type<Membership::SendRegister>(again);
  REQUIRE(sends.size() == 2);
  for (const auto& s : sends) CHECK_FALSE(s.fresh);  // on the socket we already have
  auto targets = register_targets(again);
  std::sort(targets.begin(), targets.end());
  auto expected = first;
  std::sort(expected.begin(), expected.end());
  CHECK(targets == expected);

  // Known answers refresh the lists without any event.
  const auto ans = m.on_peer_list(first[0], true, {peer(4)}, t0 + 30010ms, rng);
  CHECK(ans.empty());
  CHECK(m.known_peers() == std::vector<Address>{peer(2), peer(4)});

  // And again one interval later.
  m.on_peer_list(first[1], true, {peer(2)}, t0 + 30010ms, rng);
  CHECK(register_targets(m.tick(t0 + 60000ms, rng)).size() == 2);
}

TEST_CASE("a registered seed that answers new on re-registration reports DroppedBySeed", "[membership]") {
  std::mt19937_64 rng(18);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  m.on_peer_list(first[0], false, {}, t0, rng);
  m.on_peer_list(first[1], false, {}, t0, rng);
  m.tick(t0 + 30000ms, rng);
  const auto dropped = all_of_type<Membership::DroppedBySeed>(m.on_peer_list(first[0], false, {peer(5)}, t0 + 30001ms, rng));
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].seed == first[0]);
  CHECK(all_of_type<Membership::DroppedBySeed>(m.on_peer_list(first[1], true, {}, t0 + 30001ms, rng)).empty());
  CHECK(m.joined());
}

TEST_CASE("a registered seed that stops answering re-registration is replaced by an untried one", "[membership]") {
  std::mt19937_64 rng(19);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  m.on_peer_list(first[0], false, {}, t0, rng);
  m.on_peer_list(first[1], false, {}, t0, rng);
  const TimePoint t1 = t0 + 30000ms;
  m.tick(t1, rng);
  m.on_peer_list(first[1], true, {}, t1 + 10ms, rng);  // first[0] stays silent
  const auto actions = m.tick(t1 + 2000ms, rng);
  const auto timed_out = all_of_type<Membership::SeedTimedOut>(actions);
  REQUIRE(timed_out.size() == 1);
  CHECK(timed_out[0].seed == first[0]);
  CHECK(timed_out[0].was_registered);
  CHECK_FALSE(m.joined());
  const auto replacement = register_targets(actions);
  REQUIRE(replacement.size() == 1);
  CHECK(std::find(first.begin(), first.end(), replacement[0]) == first.end());
  // Its answer restores the majority: joined again.
  CHECK(all_of_type<Membership::Joined>(m.on_peer_list(replacement[0], false, {}, t1 + 2100ms, rng)).size() == 1);
}

TEST_CASE("a registered seed timing out while another is still being re-asked is replaced at once",
          "[membership]") {
  // Deadlines of registered seeds can differ when refresh() re-asks only the seeds not already pending.
  std::mt19937_64 rng(20);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  m.on_peer_list(first[0], false, {}, t0, rng);
  m.on_peer_list(first[1], false, {}, t0, rng);
  const TimePoint t1 = t0 + 30000ms;
  REQUIRE(register_targets(m.tick(t1, rng)).size() == 2);  // periodic: both asked, deadline t1+2s
  m.on_peer_list(first[1], true, {}, t1 + 10ms, rng);             // first[1] answers, first[0] is silent
  const auto refreshed = register_targets(m.refresh(t1 + 1000ms));
  REQUIRE(refreshed == std::vector<Address>{first[1]});       // deadline t1+3s

  const auto actions = m.tick(t1 + 2000ms, rng);
  REQUIRE(all_of_type<Membership::SeedTimedOut>(actions).size() == 1);
  // Only one seed is registered (and it is being re-asked), so a third seed must be asked now, not at the
  // next re-registration 28 seconds later.
  const auto replacement = register_targets(actions);
  REQUIRE(replacement.size() == 1);
  CHECK(std::find(first.begin(), first.end(), replacement[0]) == first.end());
  CHECK(m.next_deadline() <= t1 + 4000ms);
}

TEST_CASE("refresh re-asks registered seeds at most once per register_timeout", "[membership]") {
  std::mt19937_64 rng(21);
  Membership m(seeds(3), timing());
  const auto first = register_targets(m.start(t0, rng));
  CHECK(m.refresh(t0).empty());  // nothing registered yet
  m.on_peer_list(first[0], false, {}, t0 + 1ms, rng);
  m.on_peer_list(first[1], false, {}, t0 + 1ms, rng);
  const TimePoint t1 = t0 + 5000ms;
  CHECK(register_targets(m.refresh(t1)).size() == 2);
  m.on_peer_list(first[0], true, {}, t1 + 1ms, rng);
  m.on_peer_list(first[1], true, {}, t1 + 1ms, rng);
  CHECK(m.refresh(t1 + 1999ms).empty());
  CHECK(register_targets(m.refresh(t1 + 2000ms)).size() == 2);
}

TEST_CASE("backoff_delay doubles from min per attempt up to max", "[backoff]") {
  const auto min = 250ms;
  const auto max = 5000ms;
  // unit_random 0.5 gives factor 1.0: the undithered base.
  CHECK(backoff_delay(1, min, max, 0.5) == 250ms);
  CHECK(backoff_delay(2, min, max, 0.5) == 500ms);
  CHECK(backoff_delay(3, min, max, 0.5) == 1000ms);
  CHECK(backoff_delay(4, min, max, 0.5) == 2000ms);
  CHECK(backoff_delay(5, min, max, 0.5) == 4000ms);
  CHECK(backoff_delay(6, min, max, 0.5) == 5000ms);
  CHECK(backoff_delay(7, min, max, 0.5) == 5000ms);
  CHECK(backoff_delay(1000, min, max, 0.5) == 5000ms);
  CHECK(backoff_delay(0, min, max, 0.5) == 250ms);   // treated as the first
  CHECK(backoff_delay(-5, min, max, 0.5) == 250ms);
}

TEST_CASE("backoff_delay jitter stays within half and one and a half times the base", "[backoff]") {
  std::mt19937_64 rng(22);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int attempt = 1; attempt <= 10; ++attempt) {
    const long long base = std::min<long long>(5000, 250LL << (attempt - 1));
    long long lo = base * 2;
    long long hi = 0;
    for (int i = 0; i < 500; ++i) {
      const long long d = backoff_delay(attempt, 250ms, 5000ms, unit(rng)).count();
      REQUIRE(d >= base / 2);
      REQUIRE(d < base * 3 / 2);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // The jitter actually spreads the delays over most of the range.
    CHECK(lo < base * 6 / 10);
    CHECK(hi > base * 14 / 10);
  }
  CHECK(backoff_delay(1, 1000ms, 5000ms, 0.0) == 500ms);
  CHECK(backoff_delay(1, 1000ms, 5000ms, 0.999999) == 1499ms);
  // Out-of-range randomness is clamped, never outside the band.
  CHECK(backoff_delay(1, 1000ms, 5000ms, -3.0) == 500ms);
  CHECK(backoff_delay(1, 1000ms, 5000ms, 7.0) == 1499ms);
  // Never zero, even for a 1 ms minimum and the lowest factor.
  CHECK(backoff_delay(1, 1ms, 5000ms, 0.0) == 1ms);
}
