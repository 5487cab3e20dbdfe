// gossip-sim: runs the real Seed and Peer code on a simulated network in virtual time, deterministically.
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "sim/campaign.hpp"
#include "sim/observer.hpp"
#include "sim/scenario.hpp"
#include "sim/sim_output.hpp"
#include "sim/simulator.hpp"

namespace {

constexpr const char* kUsage =
    "usage: gossip-sim --scenario FILE.toml [--seed N] [--out DIR]\n"
    "       gossip-sim --campaign K [--seed N] [--verbose]\n"
    "       gossip-sim --replay CASE_SEED [--out DIR]\n"
    "\n"
    "Runs the overlay's real Seed and Peer objects on a simulated network in virtual time. The same\n"
    "scenario and seed give the same run, byte for byte. docs/SIMULATOR.md has the scenario format.\n"
    "\n"
    "  --scenario FILE  a scenario (cluster, node config, network model, timeline of faults)\n"
    "  --seed N         the random seed (default: the scenario's `seed`; campaign: 1)\n"
    "  --out DIR        write the run as a run folder (logs/, events.log, nodes.json, configs/) for\n"
    "                   scripts/aggregate\n"
    "  --campaign K     run K random fault scenarios and check the invariants after each\n"
    "  --replay SEED    run one campaign case again (its seed is printed when it fails)\n"
    "  --verbose        campaign: one line per case\n"
    "\n"
    "Prints a summary to stdout (identical for identical runs) and wall time and peak memory to stderr.\n"
    "Exit status: 0 every check passed, 1 a check failed, 2 bad arguments or a bad scenario.\n";

std::optional<std::uint64_t> parse_u64(const std::string& s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

int usage_error(const std::string& what) {
  std::cerr << "gossip-sim: " << what << "\n" << kUsage;
  return 2;
}

// One run of `scenario`: simulate, write the run folder if asked, print the summary.
int run_one(gossip::sim::Scenario scenario, std::uint64_t seed, const std::optional<std::string>& out_dir) {
  using namespace gossip::sim;
  const auto started = std::chrono::steady_clock::now();
  Simulator sim(std::move(scenario), seed);
  Observer observer(sim);
  sim.add_listener(observer);
  std::unique_ptr<SimOutput> output;
  if (out_dir) {
    std::string why;
    output = SimOutput::open(*out_dir, sim, &why);
    if (!output) {
      std::cerr << "gossip-sim: " << why << "\n";
      return 2;
    }
    sim.add_listener(*output);
  }
  sim.run();
  const Summary& summary = observer.finish();
  if (output) {
    std::string why;
    if (!output->close(&why)) {
      std::cerr << "gossip-sim: " << why << "\n";
      return 2;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_summary(sim.scenario(), seed, summary, sim.stats(), std::cout);
  if (out_dir) std::cout << "  run folder: " << *out_dir << " (scripts/aggregate " << *out_dir << ")\n";
  std::cout.flush();
  std::fprintf(stderr, "gossip-sim: wall %.3f s, %llu messages delivered (%.0f per second), %llu events, peak RSS %.1f MiB\n",
               wall, static_cast<unsigned long long>(sim.stats().delivered),
               static_cast<double>(sim.stats().delivered) / std::max(wall, 1e-9),
               static_cast<unsigned long long>(sim.stats().events), static_cast<double>(peak_rss_kib()) / 1024.0);
  return summary.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> scenario_file, out_dir;
  std::optional<std::uint64_t> seed, campaign, replay;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "gossip-sim (protocol " << gossip::wire::kSignature << ")\n";
      return 0;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--scenario" || arg == "--out") {
      auto v = value();
      if (!v) return usage_error(arg + " needs a value");
      (arg == "--scenario" ? scenario_file : out_dir) = *v;
    } else if (arg == "--seed" || arg == "--campaign" || arg == "--replay") {
      auto v = value();
      auto n = v ? parse_u64(*v) : std::nullopt;
      if (!n) return usage_error(arg + " needs a non-negative integer");
      (arg == "--seed" ? seed : arg == "--campaign" ? campaign : replay) = *n;
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }
  if ((scenario_file ? 1 : 0) + (campaign ? 1 : 0) + (replay ? 1 : 0) != 1)
    return usage_error("give exactly one of --scenario, --campaign, --replay");

  using namespace gossip::sim;
  if (campaign) {
    if (out_dir) return usage_error("--out goes with --scenario or --replay (replay a failing case to get its logs)");
    const auto started = std::chrono::steady_clock::now();
    const auto base = seed.value_or(1);
    const int failed = run_campaign(static_cast<int>(*campaign), base, verbose, std::cout);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "campaign: " << *campaign << " scenarios (seed " << base << "), " << failed << " failed\n";
    std::fprintf(stderr, "gossip-sim: campaign wall %.3f s, peak RSS %.1f MiB\n", wall,
                 static_cast<double>(peak_rss_kib()) / 1024.0);
    return failed == 0 ? 0 : 1;
  }
  if (replay) return run_one(random_scenario(*replay), *replay, out_dir);
  auto loaded = load_scenario(*scenario_file);
  if (auto* err = std::get_if<ScenarioError>(&loaded)) {
    std::cerr << "gossip-sim: scenario error: " << err->to_string() << "\n";
    return 2;
  }
  auto& scenario = std::get<Scenario>(loaded);
  const auto s = seed.value_or(scenario.seed);
  return run_one(std::move(scenario), s, out_dir);
}
