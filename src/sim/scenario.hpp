// scenario.hpp — what a simulated run is: the cluster (seeds, peers, hosts, how peers join), the node
// config every node uses, the network model and a timeline of faults and publishes. Read from a TOML
// file (docs/SIMULATOR.md) or made up by the fault campaign. A scenario holds no state of a run.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "common/config.hpp"

namespace gossip::sim {

using Duration = std::chrono::nanoseconds;

// One-way latency of a message, drawn per message.
struct LatencyModel {
  enum class Kind { kFixed, kUniform, kNormal, kLognormal };
  Kind kind = Kind::kUniform;
  double a_ms = 0.2;  // fixed: the value; uniform: min; normal: mean; lognormal: median
  double b_ms = 2.0;  // uniform: max; normal: standard deviation; lognormal: sigma (of the log, unitless)
  double min_ms = 0.01;  // no draw is below this (a normal's left tail, say)
};

// Draws latencies from a LatencyModel. Normal and lognormal draws come from a table of 4,096 quantiles,
// interpolated: the same distribution to well under a percent, without a log and an exp per message.
class LatencySampler {
 public:
  explicit LatencySampler(const LatencyModel& model);
  Duration sample(std::mt19937_64& rng) const;

 private:
  LatencyModel model_;
  std::vector<double> quantiles_ms_;  // empty for fixed and uniform
};

struct NetworkModel {
  LatencyModel latency;
  double loss = 0.0;          // chance that one message is lost (on top of what partitions and queues do)
  double clock_skew_ms = 0;   // each host's wall clock is off by a uniform draw in [-skew, +skew]
};

// Something the timeline does at `at`.
struct Action {
  enum class Kind { kStart, kKill, kPause, kResume, kRestart, kPartition, kHeal, kJoin, kPublish, kLoss };
  Kind kind = Kind::kKill;
  Duration at{0};
  // Whom it applies to: named nodes ("peer-3", "seed-1"), or `random_peers` live peers drawn at that moment.
  std::vector<std::string> nodes;
  int random_peers = 0;
  Duration length{0};          // pause / partition / restart: how long before it is undone (0: never)
  std::vector<std::string> hosts;  // partition: the hosts cut off, together, from the rest
  int count = 0;               // join: new peers; publish: messages
  Duration every{0};           // join / publish: between two
  std::string message;         // publish: the payload ("" = "<name>-<n>")
  double rate = 0;             // loss: the new loss rate
  int line = 0;                // where it was written, for messages
};

struct Scenario {
  std::string name = "sim";
  std::filesystem::path file;           // where it was read from; empty for a generated one
  std::uint64_t seed = 1;               // the random seed: same scenario and seed, same run
  Duration duration = std::chrono::seconds(60);
  std::uint64_t start_wall_us = 1767225600000000ull;  // 2026-01-01T00:00:00Z: virtual wall clock at t=0
  int seeds = 3;
  int peers = 10;
  int hosts = 1;                        // nodes are spread round-robin over hosts h1..hN
  Duration seeds_start{0};              // when the seeds start
  Duration join_start{0};               // the first peer starts at this time...
  Duration join_every = std::chrono::milliseconds(100);  // ...and the next ones this far apart
  Duration grace = std::chrono::seconds(2);  // a message must reach every connected live peer within this
  Config seed_config;                   // every seed's config (node.listen and node.seeds set per node)
  Config peer_config;                   // every peer's config
  std::string config_toml;              // the scenario's [config] as TOML, written next to the logs
  NetworkModel network;
  std::vector<Action> timeline;         // sorted by `at`
};

// A scenario's errors are a node config's kind: file, line, key, reason.
using ScenarioError = ConfigError;

std::variant<Scenario, ScenarioError> load_scenario(const std::filesystem::path& file);
std::variant<Scenario, ScenarioError> parse_scenario(std::string_view text, const std::filesystem::path& file);

// Seeds' and peers' names and addresses (index from 1): "seed-1" at 10.0.0.1:5000, "peer-1" at
// 10.1.0.1:7000, "peer-256" at 10.1.1.0:7000, ...; hosts "h1", "h2", ...
std::string node_name(bool is_seed, int index);
Address seed_address(int index);
Address peer_address(int index);
std::string host_name(int index);

}  // namespace gossip::sim
