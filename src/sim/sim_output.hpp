// sim_output.hpp — writes a simulated run as a run folder that scripts/aggregate reads like a real one
// (docs/LAUNCH.md, The run folder): logs/<role>-<ip>-<port>.log with every node's events stamped in virtual
// time, events.log with what a launcher would have logged, nodes.json and configs/. Not a report: it
// judges nothing.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "sim/simulator.hpp"

namespace gossip::sim {

class SimOutput final : public RunListener {
 public:
  // Creates `dir` and removes the *.log files an earlier run left in dir/logs. Returns nullptr and sets
  // *why when it cannot.
  static std::unique_ptr<SimOutput> open(const std::filesystem::path& dir, const Simulator& sim, std::string* why);
  SimOutput(std::filesystem::path dir, const Simulator& sim);

  void on_event(const SimNode& node, Duration at, std::uint64_t wall_us, const LogEvent& e,
                const wire::Message* cause) override;
  void on_launcher(Duration at, std::uint64_t wall_us, const LogEvent& e) override;

  // Writes everything still buffered, nodes.json, configs/ and a copy of the scenario. Returns false and
  // sets *why on an I/O error.
  bool close(std::string* why);

 private:
  bool flush(std::size_t node, std::string* why);
  bool append(const std::filesystem::path& file, const std::string& text, std::string* why);

  std::filesystem::path dir_;
  const Simulator& sim_;
  std::vector<std::string> buffers_;  // per node, not yet written
  std::vector<bool> opened_;          // its file was created by this run
  std::string launcher_;              // events.log, kept whole (it is small)
  UtcClockText clock_;
  bool failed_ = false;
  std::string why_;
};

}  // namespace gossip::sim
