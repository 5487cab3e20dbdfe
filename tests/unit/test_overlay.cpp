// Unit tests for src/peer/overlay.*: link requests up to target, acceptance up to max, trading a link for
// a newcomer, cool-downs, crossing requests, hand-overs. Whole overlays of real peers are in
// test_simulator.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "peer/overlay.hpp"

using namespace gossip;
using namespace std::chrono_literals;

namespace {

Address peer(int i) { return Address{"10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 7000}; }

const TimePoint t0 = TimePoint{} + 100s;

OverlayConfig config(int target = 2, int max = 4) {
  OverlayConfig c;
  c.target_degree = target;
  c.max_degree = max;
  c.link_timeout = 2000ms;
  c.refill_interval = 5000ms;
  return c;
}

template <class T>
std::vector<T> all_of_type(const std::vector<Overlay::Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

std::vector<Address> requested(const std::vector<Overlay::Action>& actions) {
  std::vector<Address> out;
  for (const auto& r : all_of_type<Overlay::RequestLink>(actions)) out.push_back(r.to);
  return out;
}

bool has_want_peers(const std::vector<Overlay::Action>& actions) {
  return !all_of_type<Overlay::WantPeers>(actions).empty();
}

// Gives `o` the neighbours `peers` by accepting their requests (each says it already has target links,
// so no trade happens).
void fill_with(Overlay& o, const std::vector<Address>& peers, std::mt19937_64& rng) {
  for (const auto& p : peers) {
    const auto a = o.on_link_request(p, 100, t0, rng);
    REQUIRE(all_of_type<Overlay::LinkUp>(a).size() == 1);
  }
}

}  // namespace

TEST_CASE("a peer requests links to up to target_degree distinct candidates and no more", "[overlay]") {
  std::mt19937_64 rng(1);
  Overlay o(peer(0), config(3, 5));
  o.set_candidates({peer(0), peer(1), peer(2), peer(3), peer(4), peer(5), peer(6)});
  const auto actions = o.tick(t0, rng);
  auto to = requested(actions);
  REQUIRE(to.size() == 3);
  std::sort(to.begin(), to.end());
  CHECK(std::adjacent_find(to.begin(), to.end()) == to.end());
  for (const auto& a : to) {
    CHECK(a != peer(0));  // never itself, even when the seeds list it
    CHECK(o.is_pending(a));
  }
  CHECK_FALSE(has_want_peers(actions));
  // Pending requests count toward the target: nothing more is asked.
  CHECK(requested(o.tick(t0 + 100ms, rng)).empty());
  CHECK(o.degree() == 0);
  CHECK(o.next_deadline() <= t0 + 2000ms);

  // Two accept: still one short only if a request fails.
  CHECK(all_of_type<Overlay::LinkUp>(o.on_link_accept(to[0])).size() == 1);
  CHECK(all_of_type<Overlay::LinkUp>(o.on_link_accept(to[1])).size() == 1);
  CHECK(o.degree() == 2);
  CHECK(requested(o.tick(t0 + 200ms, rng)).empty());
  // The third refuses: another candidate is asked at once.
  o.on_link_reject(to[2], "full", t0 + 300ms);
  CHECK(o.next_deadline() <= t0 + 300ms);
  const auto retry = requested(o.tick(t0 + 300ms, rng));
  REQUIRE(retry.size() == 1);
  CHECK(std::find(to.begin(), to.end(), retry[0]) == to.end());
}

TEST_CASE("a peer with fewer candidates than target asks all of them and wants more peers", "[overlay]") {
  std::mt19937_64 rng(2);
  Overlay o(peer(0), config(3, 5));
  o.set_candidates({peer(1)});
  const auto actions = o.tick(t0, rng);
  CHECK(requested(actions) == std::vector<Address>{peer(1)});
  // A request is still pending, so the seeds are not asked yet.
  CHECK_FALSE(has_want_peers(actions));
}

TEST_CASE("a peer with no candidates left asks for peers, at most once per refill_interval", "[overlay]") {
  std::mt19937_64 rng(3);
  Overlay o(peer(0), config());
  CHECK(has_want_peers(o.tick(t0, rng)));
  CHECK_FALSE(has_want_peers(o.tick(t0 + 4999ms, rng)));
  CHECK(has_want_peers(o.tick(t0 + 5000ms, rng)));

  // Only itself as candidate is the same as none.
  Overlay lonely(peer(0), config());
  lonely.set_candidates({peer(0)});
  CHECK(has_want_peers(lonely.tick(t0, rng)));
}

TEST_CASE("a peer at target asks for nothing", "[overlay]") {
  std::mt19937_64 rng(4);
  Overlay o(peer(0), config(2, 4));
  o.set_candidates({peer(1), peer(2), peer(3)});
  fill_with(o, {peer(1), peer(2)}, rng);
  const auto actions = o.tick(t0, rng);
  CHECK(actions.empty());
}

TEST_CASE("a peer accepts link requests until it has max_degree neighbours", "[overlay]") {
  std::mt19937_64 rng(5);
  Overlay o(peer(0), config(2, 4));
  for (int i = 1; i <= 4; ++i) {
    const auto a = o.on_link_request(peer(i), 2, t0, rng);
    REQUIRE(a.size() == 2);
    CHECK(std::get<Overlay::AcceptLink>(a[0]).peer == peer(i));
    CHECK(std::get<Overlay::LinkUp>(a[1]).peer == peer(i));
    CHECK(o.degree() == static_cast<std::size_t>(i));
  }
  const auto refused = o.on_link_request(peer(5), 2, t0, rng);
  REQUIRE(refused.size() == 1);
  CHECK(std::get<Overlay::RejectLink>(refused[0]).peer == peer(5));
  CHECK(std::get<Overlay::RejectLink>(refused[0]).reason == "full");
  CHECK(o.degree() == 4);
  CHECK_FALSE(o.is_neighbour(peer(5)));
}

TEST_CASE("a full peer rejects a requester whose degree is at or above target", "[overlay]") {
  std::mt19937_64 rng(6);
  Overlay o(peer(0), config(2, 4));
  fill_with(o, {peer(1), peer(2), peer(3), peer(4)}, rng);
  for (std::uint64_t degree : {1u, 2u, 3u, 4u, 1000u}) {
    INFO("requester degree " << degree);
    const auto a = o.on_link_request(peer(9), degree, t0, rng);
    REQUIRE(a.size() == 1);
    CHECK(std::get<Overlay::RejectLink>(a[0]).reason == "full");
  }
  CHECK(o.neighbours() == FlatSet<Address>{peer(1), peer(2), peer(3), peer(4)});
}

TEST_CASE("a full peer trades a random neighbour for a requester with no links", "[overlay]") {
  std::set<Address> traded_away;
  for (std::uint64_t s = 1; s <= 40; ++s) {
    std::mt19937_64 rng(s);
    Overlay o(peer(0), config(2, 4));
    fill_with(o, {peer(1), peer(2), peer(3), peer(4)}, rng);
    const auto a = o.on_link_request(peer(9), 0, t0, rng);
    REQUIRE(a.size() == 3);
    const auto& down = std::get<Overlay::LinkDown>(a[0]);
    CHECK(down.peer != peer(9));
    CHECK(down.reason == "traded");
    CHECK(down.was_neighbour);
    REQUIRE(down.unlink_reason);
    CHECK(*down.unlink_reason == "traded");
    REQUIRE(down.suggest);
    CHECK(*down.suggest == peer(9));  // the traded neighbour links to the newcomer instead
    CHECK(std::get<Overlay::AcceptLink>(a[1]).peer == peer(9));
    CHECK(std::get<Overlay::LinkUp>(a[2]).peer == peer(9));
    CHECK(o.degree() == 4);
    CHECK(o.is_neighbour(peer(9)));
    CHECK_FALSE(o.is_neighbour(down.peer));
    traded_away.insert(down.peer);
  }
  CHECK(traded_away.size() >= 3);  // the neighbour given away is chosen at random
}

TEST_CASE("a newcomer with no links at all is taken in by a full peer through a trade", "[overlay]") {
  std::mt19937_64 rng(7);
  Overlay o(peer(0), config(2, 2));
  fill_with(o, {peer(1), peer(2)}, rng);
  const auto a = o.on_link_request(peer(3), 0, t0, rng);
  CHECK(all_of_type<Overlay::LinkDown>(a).size() == 1);
  CHECK(o.is_neighbour(peer(3)));
  CHECK(o.degree() == 2);
}

TEST_CASE("a full peer trades at most once per refill interval, however many newcomers ask", "[overlay]") {
  std::mt19937_64 rng(11);
  Overlay o(peer(0), config(2, 4));  // refill_interval 5 s
  fill_with(o, {peer(1), peer(2), peer(3), peer(4)}, rng);
  CHECK(all_of_type<Overlay::LinkDown>(o.on_link_request(peer(10), 0, t0, rng)).size() == 1);
  for (int i = 11; i < 100; ++i) {
    const auto a = o.on_link_request(peer(i), 0, t0 + std::chrono::milliseconds(i), rng);
    REQUIRE(a.size() == 1);
    CHECK(std::get<Overlay::RejectLink>(a[0]).reason == "full");
  }
  CHECK(all_of_type<Overlay::LinkDown>(o.on_link_request(peer(200), 0, t0 + 5000ms, rng)).size() == 1);
  CHECK(o.degree() == 4);
}

TEST_CASE("with max_degree 1 a full peer never trades (the traded peer would trade in turn forever)",
          "[overlay]") {
  std::mt19937_64 rng(12);
  Overlay o(peer(0), config(1, 1));
  fill_with(o, {peer(1)}, rng);
  const auto a = o.on_link_request(peer(2), 0, t0, rng);
  REQUIRE(a.size() == 1);
  CHECK(std::get<Overlay::RejectLink>(a[0]).reason == "full");
  CHECK(o.is_neighbour(peer(1)));
}

TEST_CASE("a request from a current neighbour is accepted again without a second link", "[overlay]") {
  std::mt19937_64 rng(8);
  Overlay o(peer(0), config(2, 4));
  fill_with(o, {peer(1), peer(2), peer(3), peer(4)}, rng);
  const auto a = o.on_link_request(peer(2), 0, t0, rng);
  REQUIRE(a.size() == 1);
  CHECK(std::get<Overlay::AcceptLink>(a[0]).peer == peer(2));
  CHECK(o.degree() == 4);
}

TEST_CASE("a request from itself or while closing is rejected with the reason", "[overlay]") {
  std::mt19937_64 rng(9);
  Overlay o(peer(0), config());
  const auto self = o.on_link_request(peer(0), 0, t0, rng);
  REQUIRE(self.size() == 1);
  CHECK(std::get<Overlay::RejectLink>(self[0]).reason == "self");
  o.set_candidates({peer(1), peer(2)});
  o.close();
  const auto closing = o.on_link_request(peer(3), 0, t0, rng);
  REQUIRE(closing.size() == 1);
  CHECK(std::get<Overlay::RejectLink>(closing[0]).reason == "shutting_down");
  CHECK(requested(o.tick(t0, rng)).empty());
  CHECK_FALSE(has_want_peers(o.tick(t0, rng)));
}

TEST_CASE("a candidate that rejected us is not asked again before the cool-down", "[overlay]") {
  std::mt19937_64 rng(10);
  Overlay o(peer(0), config(1, 4));
  o.set_candidates({peer(1)});
  REQUIRE(requested(o.tick(t0, rng)) == std::vector<Address>{peer(1)});
  const TimePoint t1 = t0 + 10ms;
  const auto down = all_of_type<Overlay::LinkDown>(o.on_link_reject(peer(1), "full", t1));
  REQUIRE(down.size() == 1);
  CHECK(down[0].reason == "rejected_full");
  CHECK_FALSE(down[0].was_neighbour);
  CHECK_FALSE(down[0].unlink_reason);
  CHECK_FALSE(o.is_pending(peer(1)));
  for (auto dt : {0ms, 1ms, 1000ms, 4999ms}) {
    INFO(dt.count() << " ms after the rejection");
    CHECK(requested(o.tick(t1 + dt, rng)).empty());
  }
  CHECK(requested(o.tick(t1 + 5000ms, rng)) == std::vector<Address>{peer(1)});
  // A reject for a request we never made (or already settled) is ignored.
  CHECK(o.on_link_reject(peer(7), "full", t1).empty());
}

TEST_CASE("a candidate that never answered is not asked again before four refill intervals", "[overlay]") {
  std::mt19937_64 rng(11);
  Overlay o(peer(0), config(1, 4));
  o.set_candidates({peer(1)});
  REQUIRE(requested(o.tick(t0, rng)) == std::vector<Address>{peer(1)});
  CHECK(o.next_deadline() == t0 + 2000ms);
  CHECK(all_of_type<Overlay::LinkDown>(o.tick(t0 + 1999ms, rng)).empty());
  const TimePoint t1 = t0 + 2000ms;
  const auto a = o.tick(t1, rng);
  const auto down = all_of_type<Overlay::LinkDown>(a);
  REQUIRE(down.size() == 1);
  CHECK(down[0].peer == peer(1));
  CHECK(down[0].reason == "timeout");
  CHECK_FALSE(down[0].was_neighbour);
  CHECK(requested(a).empty());
  CHECK_FALSE(o.is_pending(peer(1)));
  for (auto dt : {1ms, 5000ms, 10000ms, 19999ms}) {
    INFO(dt.count() << " ms after the timeout");
    CHECK(requested(o.tick(t1 + dt, rng)).empty());
  }
  CHECK(requested(o.tick(t1 + 20000ms, rng)) == std::vector<Address>{peer(1)});
}

TEST_CASE("a late accept after the request timed out does not make a link", "[overlay]") {
  std::mt19937_64 rng(12);
  Overlay o(peer(0), config(1, 4));
  o.set_candidates({peer(1)});
  o.tick(t0, rng);
  o.tick(t0 + 2000ms, rng);
  CHECK(o.on_link_accept(peer(1)).empty());
  CHECK_FALSE(o.is_neighbour(peer(1)));
}

TEST_CASE("crossing link requests between two peers settle into one link", "[overlay]") {
  std::mt19937_64 rng(13);
  Overlay a(peer(1), config(1, 4));
  Overlay b(peer(2), config(1, 4));
  a.set_candidates({peer(2)});
  b.set_candidates({peer(1)});
  REQUIRE(requested(a.tick(t0, rng)) == std::vector<Address>{peer(2)});
  REQUIRE(requested(b.tick(t0, rng)) == std::vector<Address>{peer(1)});
  // Both requests arrive before either answer.
  const auto at_b = b.on_link_request(peer(1), a.degree(), t0 + 1ms, rng);
  const auto at_a = a.on_link_request(peer(2), b.degree(), t0 + 1ms, rng);
  CHECK(all_of_type<Overlay::AcceptLink>(at_b).size() == 1);
  CHECK(all_of_type<Overlay::AcceptLink>(at_a).size() == 1);
  CHECK(all_of_type<Overlay::LinkUp>(at_a).size() == 1);
  CHECK(all_of_type<Overlay::LinkUp>(at_b).size() == 1);
  CHECK_FALSE(a.is_pending(peer(2)));
  CHECK_FALSE(b.is_pending(peer(1)));
  // Then the accepts arrive: nothing more happens.
  CHECK(a.on_link_accept(peer(2)).empty());
  CHECK(b.on_link_accept(peer(1)).empty());
  CHECK(a.neighbours() == FlatSet<Address>{peer(2)});
  CHECK(b.neighbours() == FlatSet<Address>{peer(1)});
  // No timeout fires later for the settled request.
  CHECK(all_of_type<Overlay::LinkDown>(a.tick(t0 + 5000ms, rng)).empty());
  CHECK(a.degree() == 1);
}

TEST_CASE("an accept that arrives after inbound links filled us up is undone with UNLINK full", "[overlay]") {
  std::mt19937_64 rng(14);
  Overlay o(peer(0), config(2, 2));
  o.set_candidates({peer(1), peer(2), peer(3), peer(4)});
  const auto to = requested(o.tick(t0, rng));
  REQUIRE(to.size() == 2);
  std::vector<Address> inbound;
  for (int i = 5; inbound.size() < 2; ++i) inbound.push_back(peer(i));
  fill_with(o, inbound, rng);
  const auto a = o.on_link_accept(to[0]);
  REQUIRE(a.size() == 1);
  const auto& down = std::get<Overlay::LinkDown>(a[0]);
  CHECK(down.peer == to[0]);
  CHECK_FALSE(down.was_neighbour);
  REQUIRE(down.unlink_reason);
  CHECK(*down.unlink_reason == "full");
  CHECK(o.degree() == 2);
  CHECK_FALSE(o.is_neighbour(to[0]));
}

TEST_CASE("UNLINK with a suggestion drops the sender and requests the suggested peer", "[overlay]") {
  std::mt19937_64 rng(15);
  Overlay o(peer(0), config(3, 4));
  fill_with(o, {peer(1), peer(2)}, rng);
  const auto a = o.on_unlink(peer(1), "traded", peer(9), t0);
  REQUIRE(a.size() == 2);
  const auto& down = std::get<Overlay::LinkDown>(a[0]);
  CHECK(down.peer == peer(1));
  CHECK(down.reason == "traded");
  CHECK(down.was_neighbour);
  CHECK_FALSE(down.unlink_reason);  // no UNLINK back
  CHECK(std::get<Overlay::RequestLink>(a[1]).to == peer(9));
  CHECK(o.is_pending(peer(9)));
  CHECK_FALSE(o.is_neighbour(peer(1)));
  CHECK(o.degree() == 1);
  // The peer that traded us away is not in cool-down: it may be asked again (we are one below target 3).
  o.set_candidates({peer(1)});
  CHECK(requested(o.tick(t0 + 1ms, rng)) == std::vector<Address>{peer(1)});
}

TEST_CASE("UNLINK without a suggestion, or from a non-neighbour, requests nothing", "[overlay]") {
  std::mt19937_64 rng(16);
  Overlay o(peer(0), config(2, 4));
  fill_with(o, {peer(1), peer(2)}, rng);
  const auto plain = o.on_unlink(peer(1), "full", std::nullopt, t0);
  REQUIRE(plain.size() == 1);
  CHECK(std::get<Overlay::LinkDown>(plain[0]).reason == "full");
  CHECK(o.on_unlink(peer(7), "traded", peer(8), t0).empty());
  CHECK_FALSE(o.is_pending(peer(8)));
  // A suggestion of ourselves or of a current neighbour is not requested.
  CHECK(requested(o.on_unlink(peer(2), "traded", peer(0), t0)).empty());
  fill_with(o, {peer(3), peer(4)}, rng);
  CHECK(requested(o.on_unlink(peer(3), "traded", peer(4), t0)).empty());
}

TEST_CASE("drop removes a neighbour or a pending request and cools it down", "[overlay]") {
  std::mt19937_64 rng(17);
  Overlay o(peer(0), config(1, 4));
  fill_with(o, {peer(1)}, rng);
  const auto a = o.drop(peer(1), "dead", t0);
  REQUIRE(a.size() == 1);
  CHECK(std::get<Overlay::LinkDown>(a[0]).was_neighbour);
  CHECK(std::get<Overlay::LinkDown>(a[0]).reason == "dead");
  CHECK(o.degree() == 0);
  CHECK(o.drop(peer(1), "dead", t0).empty());  // only once
  o.set_candidates({peer(1)});
  CHECK(requested(o.tick(t0 + 4999ms, rng)).empty());
  CHECK(requested(o.tick(t0 + 5000ms, rng)) == std::vector<Address>{peer(1)});
  const auto p = o.drop(peer(1), "left", t0 + 5001ms);
  REQUIRE(p.size() == 1);
  CHECK_FALSE(std::get<Overlay::LinkDown>(p[0]).was_neighbour);
  CHECK_FALSE(o.is_pending(peer(1)));
}
