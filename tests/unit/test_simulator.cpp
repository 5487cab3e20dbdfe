// Unit tests for src/sim/*: the simulator runs the real Seed and Peer objects deterministically; the
// network keeps TCP's order, holds what crosses a cut, and a paused node handles its input before its
// timers; the rules of whole clusters (formation, healing, dissemination after a stall) and the
// observer's checks, which must be able to fail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "node_harness.hpp"
#include "sim/campaign.hpp"
#include "sim/observer.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

using namespace gossip;
using namespace gossip::sim;
using namespace gossip::testing;

namespace {

std::uint64_t digest_of(const Scenario& s, std::uint64_t seed) {
  Simulator sim(s, seed);
  RunDigest d;
  sim.add_listener(d);
  sim.run();
  return d.value();
}

Summary judged(Simulator& sim) {
  Observer o(sim);
  sim.add_listener(o);
  sim.run();
  return o.finish();
}

std::string violations(const Summary& s) {
  std::string out;
  for (const auto& v : s.violations) out += v + "\n";
  return out;
}

// Number of connected components of the neighbour graph of the running peers.
int components(const Simulator& sim) {
  std::map<Address, const Peer*> peers;
  for (const auto& n : sim.nodes())
    if (n.peer && n.state == SimNode::State::kRunning) peers[n.address] = n.peer;
  std::set<Address> seen;
  int count = 0;
  for (const auto& [start, p] : peers) {
    if (seen.count(start)) continue;
    ++count;
    std::deque<Address> todo{start};
    seen.insert(start);
    while (!todo.empty()) {
      const auto at = todo.front();
      todo.pop_front();
      for (const auto& n : peers.at(at)->overlay().neighbours())
        if (peers.count(n) && seen.insert(n).second) todo.push_back(n);
    }
  }
  return count;
}

bool symmetric(const Simulator& sim) {
  for (const auto& n : sim.nodes()) {
    if (!n.peer) continue;
    for (const auto& b : n.peer->overlay().neighbours()) {
      const auto* other = sim.find(b);
      if (!other || !other->peer || !other->peer->overlay().is_neighbour(n.address)) return false;
    }
  }
  return true;
}

}  // namespace

// ---- determinism and the scenario file -------------------------------------------------------------------

TEST_CASE("the same scenario and seed give the same run; another seed gives another", "[sim]") {
  auto s = small_scenario(2, 12, "[gossip]\ncount = 5\n");
  s.network.loss = 0.01;
  Action kill;
  kill.kind = Action::Kind::kKill;
  kill.at = 8s;
  kill.random_peers = 2;
  s.timeline.push_back(kill);
  const auto a = digest_of(s, 42);
  CHECK(digest_of(s, 42) == a);
  CHECK(digest_of(s, 43) != a);
}

TEST_CASE("a bad scenario is refused with its file, line, key and reason", "[sim]") {
  auto error = [](const std::string& text) {
    auto r = parse_scenario(text, "bad.toml");
    REQUIRE(std::holds_alternative<ScenarioError>(r));
    return std::get<ScenarioError>(r).to_string();
  };
  CHECK(error("duration_ms = 0\n") == "bad.toml:1: key 'duration_ms': must be between 1 and 2592000000 (got 0)");
  CHECK(error("[cluster]\npeers = 3\nseeds = 0\n") == "bad.toml:3: key 'cluster.seeds': must be between 1 and 250 (got 0)");
  CHECK(error("[config.overlay]\nmax_degree = 99\n") ==
        "bad.toml:2: key 'config.overlay.max_degree': must be between 1 and 64 (got 99)");
  CHECK(error("[config.node]\nlisten = \"1.2.3.4:5\"\n") ==
        "bad.toml:2: key 'config.node.listen': is set by the simulator for each node");
  CHECK(error("[[timeline]]\nat_ms = 5\naction = \"explode\"\n") ==
        "bad.toml:3: key 'timeline[1].action': must be one of start, kill, pause, resume, restart, partition, heal, "
        "join, publish, loss");
  CHECK(error("[cluster]\npeers = 3\n[[timeline]]\nat_ms = 5\naction = \"kill\"\nnode = \"peer-4\"\n")
            .find("key 'timeline[1].node': no node named 'peer-4'") != std::string::npos);
  CHECK(error("[network]\nlatency = { dist = \"uniform\", min_ms = 3, max_ms = 1 }\n").find("max_ms") !=
        std::string::npos);
  CHECK(error("typo = 1\n") == "bad.toml:1: key 'typo': unknown key");
}

TEST_CASE("every shipped scenario parses", "[sim]") {
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(GOSSIP_SOURCE_DIR "/config/sim")) {
    if (entry.path().extension() != ".toml") continue;
    ++found;
    INFO(entry.path());
    auto r = load_scenario(entry.path());
    if (auto* err = std::get_if<ScenarioError>(&r)) FAIL(err->to_string());
  }
  CHECK(found >= 1);
}

// ---- the network ----------------------------------------------------------------------------------------

TEST_CASE("messages on one connection arrive in order; across connections they may overtake", "[sim]") {
  NetworkModel model;
  model.latency = {LatencyModel::Kind::kUniform, 0.1, 20.0, 0.01};
  Network net(model, 1, 9);
  Duration last_a{0};
  bool overtook = false;
  for (int i = 0; i < 1000; ++i) {
    const Duration now = i * 10us;
    const auto a = net.arrival(net.channel(channel_id(1, 2, false)), now);
    const auto b = net.arrival(net.channel(channel_id(3, 2, false)), now);
    REQUIRE((a && b));
    CHECK(*a >= last_a);
    last_a = *a;
    overtook = overtook || *b < *a;
  }
  CHECK(overtook);
}

TEST_CASE("the loss model drops about the configured share of messages", "[sim]") {
  NetworkModel model;
  model.loss = 0.1;
  Network net(model, 1, 3);
  int lost = 0;
  for (int i = 0; i < 10000; ++i) lost += net.arrival(net.channel(channel_id(1, 2, false)), Duration{0}) ? 0 : 1;
  CHECK(lost > 800);
  CHECK(lost < 1200);
}

TEST_CASE("messages across a cut are held and arrive after the heal", "[sim]") {
  auto s = small_scenario(1, 8, "[gossip]\ncount = 0\n", 50ms, 20s);
  s.hosts = 2;
  Simulator sim(s, 5);
  Recorder rec;
  sim.add_listener(rec);
  sim.run_until(5s);
  sim.partition({"h2"});
  const auto* a = sim.find("peer-1");  // peers alternate hosts: peer-1 is on h2 with seed-1 on h1
  REQUIRE(a);
  const bool a_on_h2 = a->host == 1;
  // A message from a peer on the other side than peer-1 can reach it only after the heal.
  const std::string from = a_on_h2 ? "peer-2" : "peer-1";
  sim.publish(from, "across");
  sim.run_until(5100ms);  // a cut shorter than failure detection
  sim.heal();
  sim.run_until(8s);
  CHECK(sim.stats().held_by_partition > 0);
  std::size_t other_side = 0, got = 0;
  for (const auto& n : sim.nodes()) {
    if (n.is_seed || n.name == from || n.host == sim.find(from)->host) continue;
    ++other_side;
    const auto r = rec.find(n.name, "gossip_recv", "msg", "across");
    if (r.empty()) continue;
    ++got;
    CHECK(r[0].at >= 5100ms);
  }
  CHECK(other_side > 0);
  CHECK(got == other_side);
}

// ---- whole clusters ---------------------------------------------------------------------------------------

TEST_CASE("a paused peer wakes without declaring any neighbour dead", "[sim]") {
  auto s = small_scenario(2, 10, "[gossip]\ncount = 0\n");
  Simulator sim(s, 11);
  Recorder rec;
  sim.add_listener(rec);
  sim.run_until(5s);
  sim.pause("peer-4");
  sim.run_until(8s);  // ten liveness intervals: its own probes are overdue many times over
  sim.resume("peer-4");
  sim.run_until(12s);
  CHECK(rec.find("peer-4", "liveness_stalled").size() == 1);
  CHECK(rec.find("peer-4", "dead_detected").empty());
  CHECK(rec.find("peer-4", "liveness_miss").empty());
}

TEST_CASE("a paused peer's first message after it wakes reaches every other peer", "[sim]") {
  auto s = small_scenario(2, 10, "[gossip]\ncount = 1000\ninterval_ms = 700\nstart_delay_ms = 3000\n");
  Simulator sim(s, 12);
  Recorder rec;
  sim.add_listener(rec);
  sim.run_until(5s);
  sim.pause("peer-4");
  sim.run_until(8s);  // long enough for its neighbours to declare it dead and drop it
  const std::string me = sim.find("peer-4")->address.to_string();
  REQUIRE_FALSE(rec.find("", "dead_detected", "peer", me).empty());
  sim.resume("peer-4");
  sim.run_until(15s);
  const auto after = std::find_if(rec.lines().begin(), rec.lines().end(), [&](const Recorder::Line& l) {
    return l.node == "peer-4" && l.at >= 8s && l.event.name() == "gossip_origin";
  });
  REQUIRE(after != rec.lines().end());
  CHECK(after->at >= 8s + s.peer_config.overlay.link_timeout);  // held while its links were re-checked
  const auto body = *after->event.get("msg");
  CHECK(rec.find("", "gossip_recv", "msg", body).size() == 9);
}

TEST_CASE("a killed peer is reported by its neighbours and removed from every seed", "[sim]") {
  auto s = small_scenario(3, 12, "[gossip]\ncount = 0\n");
  Simulator sim(s, 13);
  Recorder rec;
  sim.add_listener(rec);
  sim.run_until(5s);
  const auto* victim = sim.find("peer-6");
  REQUIRE(sim.peer("peer-6")->overlay().degree() > 0);
  sim.kill("peer-6");
  const auto& cfg = s.peer_config.liveness;
  sim.run_until(5s + (cfg.max_misses + 1) * cfg.interval + 200ms);
  CHECK_FALSE(rec.find("", "dead_detected", "peer", victim->address.to_string()).empty());
  for (const auto& n : sim.nodes())
    if (n.seed) CHECK_FALSE(n.seed->registry().contains(victim->address));
  CHECK(components(sim) == 1);
}

TEST_CASE("a restarted seed relearns every peer within one re-registration interval", "[sim]") {
  auto s = small_scenario(2, 8, "[gossip]\ncount = 0\n");
  Simulator sim(s, 14);
  Recorder rec;
  sim.add_listener(rec);
  sim.run_until(5s);
  sim.kill("seed-1");
  sim.run_until(6s);
  sim.start("seed-1");
  sim.run_until(6s + s.peer_config.node.reregister_interval + s.peer_config.node.register_timeout + 100ms);
  std::size_t peers_on_it = 0;
  for (const auto& n : sim.nodes())
    if (n.peer && n.peer->membership().registered_with(sim.find("seed-1")->address)) ++peers_on_it;
  CHECK(sim.seed("seed-1")->registry().size() == peers_on_it);
  CHECK(peers_on_it > 0);
  CHECK_FALSE(rec.find("", "dropped_by_seed").empty());
}

// The 30-peer overlay of the overlay tests, now with real peers and seeds.
TEST_CASE("30 peers joining one by one never exceed max_degree and form one connected overlay", "[sim]") {
  for (const auto& [target, max] : std::vector<std::pair<int, int>>{{2, 4}, {3, 5}, {2, 3}}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      INFO("target=" << target << " max=" << max << " seed=" << seed);
      auto s = small_scenario(2, 0,
                              "[overlay]\ntarget_degree = " + std::to_string(target) + "\nmax_degree = " +
                                  std::to_string(max) + "\n[gossip]\ncount = 0\n");
      Action join;
      join.kind = Action::Kind::kJoin;
      join.at = 1s;
      join.count = 30;
      join.every = 2s;
      s.timeline.push_back(join);
      s.duration = 95s;
      Simulator sim(s, seed * 1000 + static_cast<std::uint64_t>(target * 10 + max));
      Recorder rec;
      sim.add_listener(rec);
      int disconnected_after_join = 0;
      for (int i = 0; i < 30; ++i) {
        sim.run_until(1s + i * 2s + 1999ms);  // just before the next peer starts
        if (components(sim) != 1) ++disconnected_after_join;
      }
      CHECK(disconnected_after_join == 0);  // connected again within 2 s of every join, trades included
      sim.run_until(90s);
      CHECK_FALSE(rec.find("", "neighbour_down", "reason", "traded").empty());  // newcomers got room
      CHECK(symmetric(sim));
      CHECK(components(sim) == 1);
      std::size_t below_target = 0, highest = 0;
      for (const auto& n : sim.nodes()) {
        if (!n.peer) continue;
        const auto d = n.peer->overlay().degree();
        CHECK(d >= 1);
        CHECK(d <= static_cast<std::size_t>(max));
        highest = std::max(highest, d);
        if (d < static_cast<std::size_t>(target)) ++below_target;
      }
      CHECK(highest >= static_cast<std::size_t>(target));
      CHECK(below_target == 0);
      for (const auto& l : rec.find("", "neighbour_up")) CHECK(std::stoi(*l.event.get("degree")) <= max);
    }
  }
}

// With target_degree == max_degree a traded-away peer is below target; if that entitled it to a trade at
// the next full peer, trading would never stop when no target-regular graph exists (31 peers x 3 links is
// odd). Trades are therefore only for peers with no link at all.
TEST_CASE("an overlay with target_degree equal to max_degree settles instead of trading forever", "[sim]") {
  auto s = small_scenario(2, 31, "[overlay]\ntarget_degree = 3\nmax_degree = 3\n[gossip]\ncount = 0\n", 2s, 150s);
  Simulator sim(s, 4242);
  Recorder rec;
  sim.add_listener(rec);
  sim.run_until(100s);
  const auto traded = rec.find("", "neighbour_down", "reason", "traded").size();
  std::map<Address, FlatSet<Address>> before;
  for (const auto& n : sim.nodes())
    if (n.peer) before[n.address] = n.peer->overlay().neighbours();
  sim.run_until(140s);
  CHECK(rec.find("", "neighbour_down", "reason", "traded").size() == traded);
  for (const auto& n : sim.nodes())
    if (n.peer) CHECK(before[n.address] == n.peer->overlay().neighbours());
  CHECK(components(sim) == 1);
}

TEST_CASE("every message reaches every peer in a cluster with crashes, pauses and a partition", "[sim]") {
  auto s = small_scenario(3, 40, "[gossip]\ncount = 8\ninterval_ms = 500\n", 50ms, 40s);
  s.hosts = 3;
  s.network.loss = 0.002;
  auto add = [&](Action::Kind k, Duration at, int random_peers, Duration length, std::vector<std::string> hosts = {}) {
    Action a;
    a.kind = k;
    a.at = at;
    a.random_peers = random_peers;
    a.length = length;
    a.hosts = std::move(hosts);
    s.timeline.push_back(a);
  };
  add(Action::Kind::kKill, 8s, 4, {});
  add(Action::Kind::kPause, 12s, 2, 3s);
  add(Action::Kind::kPartition, 18s, 0, 4s, {"h3"});
  Simulator sim(s, 77);
  const auto sum = judged(sim);
  INFO(violations(sum));
  CHECK(sum.ok());
  CHECK(sum.judged > 200);
  CHECK(sum.expected > 5000);
  CHECK(sum.delivery() == 1.0);
  CHECK(sum.kills == 4);
  CHECK(sum.detection.count == 4);
}

// ---- the observer's checks can fail ---------------------------------------------------------------------

TEST_CASE("the observer reports a message that a connected peer never got", "[sim]") {
  auto s = small_scenario(1, 2, "[gossip]\ncount = 0\n");
  Simulator sim(s, 1);
  sim.run_until(3s);  // two running peers, linked
  Observer o(sim);
  const SimNode& a = sim.nodes()[1];
  const SimNode& b = sim.nodes()[2];
  for (auto* n : {&a, &b}) o.on_state(*n, 3s);
  o.on_event(a, 3s, 0, LogEvent("neighbour_up").kv("peer", b.address.to_string()).kv("degree", 1), nullptr);
  o.on_event(b, 3s, 0, LogEvent("neighbour_up").kv("peer", a.address.to_string()).kv("degree", 1), nullptr);
  o.on_event(a, 4s, 0, LogEvent("gossip_origin").kv("id", "0").kv("seq", 1).kv("msg", "m").kv("neighbours", 1), nullptr);
  o.on_event(a, 7s, 0, LogEvent("gossip_stats").kv("duplicates", 0), nullptr);  // past the grace: judged
  const auto& sum = o.summary();
  CHECK(sum.expected == 1);
  CHECK(sum.received == 0);
  REQUIRE(sum.violation_count == 1);
  CHECK(sum.violations[0].find("never got message 1") != std::string::npos);
}

TEST_CASE("the observer reports a live peer declared dead with nothing to explain it", "[sim]") {
  auto s = small_scenario(1, 2, "[gossip]\ncount = 0\n");
  Simulator sim(s, 1);
  sim.run_until(5s);
  Observer o(sim);
  const SimNode& a = sim.nodes()[1];
  const SimNode& b = sim.nodes()[2];
  for (auto* n : {&a, &b}) o.on_state(*n, 0s);
  o.on_event(a, 5s, 0, LogEvent("dead_detected").kv("peer", b.address.to_string()).kv("misses", 3), nullptr);
  CHECK(o.summary().false_deaths == 1);
  CHECK_FALSE(o.summary().ok());
  SECTION("a loss between them in the detection window explains it") {
    Observer o2(sim);
    for (auto* n : {&a, &b}) o2.on_state(*n, 0s);
    o2.on_lost(b, a, wire::Message{b.address, wire::LivenessReply{}}, 4500ms);
    o2.on_event(a, 5s, 0, LogEvent("dead_detected").kv("peer", b.address.to_string()).kv("misses", 3), nullptr);
    CHECK(o2.summary().false_deaths == 0);
    CHECK(o2.summary().explained_deaths == 1);
  }
}

TEST_CASE("the observer reports a peer over its max_degree", "[sim]") {
  auto s = small_scenario(1, 1, "[overlay]\nmax_degree = 2\n");
  Simulator sim(s, 1);
  sim.run_until(1s);
  Observer o(sim);
  o.on_event(sim.nodes()[1], 1s, 0, LogEvent("neighbour_up").kv("peer", "10.1.0.9:7000").kv("degree", 3), nullptr);
  CHECK(o.summary().violation_count == 1);
}

// ---- regressions found by the fault campaign ---------------------------------------------------------

TEST_CASE("campaign case 5192053309050326538 (a round ending short of a majority) runs clean", "[sim]") {
  const std::uint64_t seed = 5192053309050326538ull;
  Simulator sim(random_scenario(seed), seed);
  const auto sum = judged(sim);
  INFO(violations(sum));
  CHECK(sum.ok());
}

TEST_CASE("latency draws follow the configured distribution", "[sim]") {
  std::mt19937_64 rng(5);
  auto quantile = [&](LatencyModel m, double q) {
    LatencySampler s(m);
    std::vector<double> v;
    for (int i = 0; i < 200000; ++i) v.push_back(std::chrono::duration<double, std::milli>(s.sample(rng)).count());
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size()))];
  };
  const LatencyModel lognormal{LatencyModel::Kind::kLognormal, 2.0, 0.5, 0.01};
  CHECK(quantile(lognormal, 0.5) == Approx(2.0).epsilon(0.02));
  CHECK(quantile(lognormal, 0.9) == Approx(2.0 * std::exp(0.5 * 1.2816)).epsilon(0.02));
  const LatencyModel normal{LatencyModel::Kind::kNormal, 5.0, 1.0, 0.01};
  CHECK(quantile(normal, 0.5) == Approx(5.0).epsilon(0.01));
  CHECK(quantile(normal, 0.159) == Approx(4.0).epsilon(0.02));
  const LatencyModel uniform{LatencyModel::Kind::kUniform, 1.0, 3.0, 0.01};
  CHECK(quantile(uniform, 0.25) == Approx(1.5).epsilon(0.02));
  const LatencyModel fixed{LatencyModel::Kind::kFixed, 0.7, 0, 0.01};
  CHECK(quantile(fixed, 0.99) == Approx(0.7));
}
