#include "sim/campaign.hpp"

#include <chrono>
#include <cstdio>
#include <random>

#include "sim/simulator.hpp"

namespace gossip::sim {

namespace {
using std::chrono::milliseconds;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A node config as a scenario would write it, read by the same code (so every value is checked).
Config make_config(const std::string& toml, Role role, int seeds) {
  std::string text = toml + "\n[node]\nlisten = \"10.0.0.1:5000\"\nseeds = [";
  for (int i = 1; i <= seeds; ++i) text += (i > 1 ? ", \"" : "\"") + seed_address(i).to_string() + "\"";
  text += "]\n";
  auto parsed = parse_config(text, "campaign.toml", role);
  if (auto* err = std::get_if<ConfigError>(&parsed)) throw std::logic_error("campaign config: " + err->to_string());
  return std::get<Config>(std::move(parsed));
}
}  // namespace

std::uint64_t case_seed(std::uint64_t seed, int k) {
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(k) + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (z ^ (z >> 31)) & 0x7fffffffffffffffull;
}

Scenario random_scenario(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  Scenario s;
  s.name = "campaign-" + std::to_string(seed);
  s.seed = seed;
  s.seeds = pick(1, 3);
  s.peers = pick(3, 24);
  s.hosts = pick(1, 3);
  s.duration = milliseconds(pick(20, 50) * 1000);
  s.join_every = milliseconds(pick(20, 400));
  const int target = pick(1, 3);
  const int max = std::max(2, target + pick(0, 2));
  const std::string toml = "preset = \"fast\"\n[overlay]\ntarget_degree = " + std::to_string(target) +
                           "\nmax_degree = " + std::to_string(max) + "\n[gossip]\ncount = " + std::to_string(pick(2, 8)) +
                           "\ninterval_ms = " + std::to_string(pick(150, 800)) + "\n[liveness]\nmax_misses = " +
                           std::to_string(pick(2, 4)) + "\n";
  s.config_toml = toml;
  s.seed_config = make_config(toml, Role::kSeed, s.seeds);
  s.peer_config = make_config(toml, Role::kPeer, s.seeds);
  if (chance(0.5)) {
    s.network.latency = {LatencyModel::Kind::kUniform, 0.05 + pick(0, 10) / 10.0, 1.0 + pick(0, 40) / 10.0, 0.01};
  } else {
    s.network.latency = {LatencyModel::Kind::kLognormal, 0.2 + pick(0, 20) / 10.0, 0.2 + pick(0, 8) / 10.0, 0.01};
  }
  if (chance(0.3)) s.network.loss = pick(1, 50) / 1000.0;
  if (chance(0.3)) s.network.clock_skew_ms = pick(1, 500);

  const int duration_ms = static_cast<int>(std::chrono::duration_cast<milliseconds>(s.duration).count());
  const int faults = pick(0, 10);
  for (int f = 0; f < faults; ++f) {
    Action a;
    a.at = milliseconds(pick(3000, duration_ms - 5000));
    switch (pick(0, 6)) {
      case 0:
        a.kind = Action::Kind::kKill;
        a.random_peers = pick(1, std::max(1, s.peers / 3));
        break;
      case 1:
        a.kind = Action::Kind::kPause;
        a.random_peers = pick(1, 3);
        a.length = milliseconds(pick(100, 10000));
        break;
      case 2: {
        if (s.hosts < 2) continue;
        a.kind = Action::Kind::kPartition;
        const int cut = pick(1, s.hosts - 1);
        for (int h = 0; h < cut; ++h) a.hosts.push_back(host_name(pick(1, s.hosts)));
        a.length = milliseconds(pick(500, 15000));
        break;
      }
      case 3:
        a.kind = Action::Kind::kRestart;
        if (chance(0.5)) {
          a.nodes = {node_name(true, pick(1, s.seeds))};
        } else {
          a.random_peers = pick(1, 2);
        }
        a.length = milliseconds(pick(200, 6000));
        break;
      case 4:
        a.kind = Action::Kind::kJoin;
        a.count = pick(1, 6);
        a.every = milliseconds(pick(10, 500));
        break;
      case 5:
        a.kind = Action::Kind::kLoss;
        a.rate = chance(0.5) ? 0.0 : pick(1, 100) / 1000.0;
        break;
      default:
        a.kind = Action::Kind::kPublish;
        a.count = pick(1, 5);
        a.every = milliseconds(pick(10, 300));
        break;
    }
    s.timeline.push_back(std::move(a));
  }
  std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const Action& x, const Action& y) { return x.at < y.at; });
  return s;
}

void RunDigest::add(std::string_view bytes) {
  for (unsigned char c : bytes) {
    h_ ^= c;
    h_ *= 1099511628211ull;
  }
  h_ ^= 0xff;
  h_ *= 1099511628211ull;
}

void RunDigest::on_event(const SimNode& node, Duration, std::uint64_t wall_us, const LogEvent& e, const wire::Message*) {
  add(node.name);
  add(std::to_string(wall_us));
  add(e.text());
}

void RunDigest::on_launcher(Duration, std::uint64_t wall_us, const LogEvent& e) {
  add(std::to_string(wall_us));
  add(e.text());
}

int run_campaign(int count, std::uint64_t seed, bool verbose, std::ostream& out) {
  int failed = 0;
  for (int k = 0; k < count; ++k) {
    const auto cs = case_seed(seed, k);
    const Scenario s = random_scenario(cs);
    Simulator sim(s, cs);
    Observer observer(sim);
    RunDigest digest;
    sim.add_listener(observer);
    sim.add_listener(digest);
    sim.run();
    const Summary& sum = observer.finish();
    bool ok = sum.ok();
    std::string why;
    if (k % 10 == 0) {
      Simulator again(s, cs);
      RunDigest second;
      again.add_listener(second);
      again.run();
      if (second.value() != digest.value()) {
        ok = false;
        why = "two runs of the same case logged different events";
      }
    }
    if (verbose || !ok)
      out << "case " << k << " seed " << cs << ": " << s.seeds << " seeds, " << s.peers << " peers, "
          << s.timeline.size() << " faults/actions, delivery " << fixed(sum.delivery(), 6) << ", "
          << sum.violation_count << " violations" << (ok ? "" : " FAILED") << "\n";
    if (!ok) {
      ++failed;
      if (!why.empty()) out << "  " << why << "\n";
      for (const auto& v : sum.violations) out << "  " << v << "\n";
      out << "  replay: gossip-sim --replay " << cs << " --out DIR\n";
    }
  }
  return failed;
}

void print_summary(const Scenario& s, std::uint64_t seed, const Summary& sum, const NetworkStats& net, std::ostream& out) {
  out << "gossip-sim: scenario " << s.name << ", seed " << seed << ": " << sum.seeds << " seeds, " << sum.peers
      << " peers, " << fixed(std::chrono::duration<double>(s.duration).count(), 1) << " s of virtual time\n";
  out << "  delivery " << fixed(sum.delivery(), 6) << ": " << sum.received << " of " << sum.expected
      << " owed receipts; " << sum.judged << " of " << sum.messages << " messages judged\n";
  out << "  time to all (virtual): p50 " << fixed(sum.time_to_all.p50, 2) << " ms, p99 " << fixed(sum.time_to_all.p99, 2)
      << " ms, max " << fixed(sum.time_to_all.max, 2) << " ms over " << sum.time_to_all.count << " messages\n";
  const double dup = sum.receipts ? static_cast<double>(sum.duplicates) / static_cast<double>(sum.receipts) : 0.0;
  out << "  duplicates per receipt " << fixed(dup, 3) << " (" << sum.duplicates << " copies, " << sum.receipts
      << " first receipts); max hops " << sum.max_hops << "\n";
  out << "  network: " << net.delivered << " messages delivered (" << net.gossip_delivered << " gossip), " << net.lost
      << " lost, " << net.refused << " refused, " << net.dropped << " dropped at a gone receiver, "
      << net.held_by_partition << " held by partitions\n";
  out << "  kills: " << sum.kills << "; detected by a neighbour after p50 " << fixed(sum.detection.p50 / 1000, 3)
      << " s, max " << fixed(sum.detection.max / 1000, 3) << " s (" << sum.detection.count
      << "); off every seed after p50 " << fixed(sum.removal.p50 / 1000, 3) << " s, max "
      << fixed(sum.removal.max / 1000, 3) << " s (" << sum.removal.count << ")\n";
  out << "  live peers declared dead: " << sum.false_deaths << " unexplained, " << sum.explained_deaths
      << " explained by a pause, cut or loss; " << sum.evictions << " removed from a seed\n";
  if (sum.ok()) {
    out << "  checks: ok\n";
  } else {
    out << "  checks: FAILED, " << sum.violation_count << " violations\n";
    for (const auto& v : sum.violations) out << "    " << v << "\n";
  }
}

}  // namespace gossip::sim
