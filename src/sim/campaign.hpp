// campaign.hpp — the randomized fault campaign ("swarm testing"): each case is a random scenario (cluster
// size, timers, latency, loss, joins, kills, pauses, partitions, seed restarts, publishes) drawn from one
// case seed, run on the simulator and judged by the Observer. A failing case prints the seed that replays
// it exactly. Not a benchmark: cases are small and fast.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "sim/observer.hpp"
#include "sim/scenario.hpp"

namespace gossip::sim {

// The scenario of one case, decided by `case_seed` alone.
Scenario random_scenario(std::uint64_t case_seed);

// The seed of case `k` (from 0) of a campaign started with `seed`.
std::uint64_t case_seed(std::uint64_t seed, int k);

// A 64-bit digest of everything a run logged, to compare two runs.
class RunDigest final : public RunListener {
 public:
  void on_event(const SimNode& node, Duration at, std::uint64_t wall_us, const LogEvent& e,
                const wire::Message* cause) override;
  void on_launcher(Duration at, std::uint64_t wall_us, const LogEvent& e) override;
  std::uint64_t value() const { return h_; }

 private:
  void add(std::string_view bytes);
  std::uint64_t h_ = 14695981039346656037ull;
};

// Runs `count` cases; prints each failure (and, with `verbose`, every case) to `out`. Every tenth case
// runs twice and must log the same, byte for byte. Returns the number of failed cases.
int run_campaign(int count, std::uint64_t seed, bool verbose, std::ostream& out);

// Prints a run's summary, the figures and then the verdict, as gossip-sim does.
void print_summary(const Scenario& s, std::uint64_t seed, const Summary& sum, const NetworkStats& net, std::ostream& out);

}  // namespace gossip::sim
