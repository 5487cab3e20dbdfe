// observer.hpp — watches a simulated run and judges it: the figures a reader wants (delivery, time to all,
// duplicates, detection and removal times) and the invariants that must hold whatever the faults:
//   - every message reaches, within the grace, every peer connected to its origin throughout the grace
//     by links both ends kept, among nodes that ran unpaused throughout and copies the network did not lose;
//   - no live peer is declared dead unless a pause, a cut or a lost message in the detection window
//     explains it; no lease expires for a live peer that stayed registered, unless explained the same way;
//   - no peer ever has more neighbours than its max_degree, and no send finds its DEALER closed;
//   - every peer's state stays within the bounds its config sets (memory bounded).
// It reads what a real run would log plus the simulator's ground truth; it changes nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/simulator.hpp"

namespace gossip::sim {

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;  // ms of virtual time; nearest rank
  std::size_t count = 0;
};

struct Summary {
  std::size_t seeds = 0, peers = 0;
  std::size_t messages = 0;          // originated
  std::size_t judged = 0;            // whose grace ended before the run did
  std::uint64_t expected = 0;        // (message, peer) pairs owed by the delivery rule
  std::uint64_t received = 0;        // of those, received within the grace
  Percentiles time_to_all;           // per judged message with every owed peer reached
  std::uint64_t receipts = 0;        // first receipts, owed or not
  std::uint64_t duplicates = 0;      // copies peers received again (their gossip_stats)
  std::uint64_t max_hops = 0;
  std::size_t kills = 0;
  Percentiles detection;             // a peer's kill -> its first dead_detected
  Percentiles removal;               // a peer's kill -> no running seed lists it
  std::size_t false_deaths = 0;      // live peers declared dead, unexplained
  std::size_t explained_deaths = 0;  // live peers declared dead, explained by a pause, cut or loss
  std::size_t evictions = 0;         // live peers removed from a seed on a dead report
  std::vector<std::string> violations;  // each broken invariant, described (at most a few hundred kept)
  std::size_t violation_count = 0;

  double delivery() const { return expected == 0 ? 1.0 : static_cast<double>(received) / static_cast<double>(expected); }
  bool ok() const { return violation_count == 0; }
};

class Observer final : public RunListener {
 public:
  explicit Observer(const Simulator& sim);

  void on_event(const SimNode& node, Duration at, std::uint64_t wall_us, const LogEvent& e,
                const wire::Message* cause) override;
  void on_launcher(Duration at, std::uint64_t wall_us, const LogEvent& e) override;
  void on_state(const SimNode& node, Duration at) override;
  void on_lost(const SimNode& from, const SimNode& to, const wire::Message& m, Duration at) override;

  // Judges what is left once the run has ended (finish() was called on the simulator).
  const Summary& finish();
  const Summary& summary() const { return summary_; }

 private:
  struct NodeFacts {
    Duration live_since = Duration::max();  // running and unpaused since; max while not
    SimNode::State state = SimNode::State::kNotStarted;
    std::vector<std::pair<std::uint32_t, Duration>> neighbours;  // from its own neighbour_up/down, since when
    std::optional<Duration> killed_at;      // the launcher's last KILL, until detected/removed
    bool detected = false;
    std::uint64_t duplicates = 0;  // its incarnation's latest gossip_stats
  };
  struct MessageFacts {
    std::uint32_t origin = 0;
    std::uint64_t seq = 0;
    Duration t0{0};
    std::vector<std::pair<std::uint32_t, Duration>> receipts;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> lost;  // copies from -> to that never arrived
  };

  void judge_due(Duration now);
  void judge(const MessageFacts& m, Duration end);
  void check_death(std::uint32_t reporter, std::uint32_t dead, Duration at);
  void check_expiry(std::uint32_t seed, std::uint32_t peer, Duration at);
  void check_footprints(Duration at);
  bool explained(std::uint32_t a, std::uint32_t b, Duration from, Duration to) const;
  std::optional<std::uint32_t> index_of(std::string_view address);
  std::optional<std::uint64_t> message_key(std::string_view origin, std::string_view seq);
  void violation(Duration at, std::string what);
  bool stable_link(std::uint32_t a, std::uint32_t b, Duration since) const;
  Duration lookback(const SimNode& n) const;

  const Simulator& sim_;
  Summary summary_;
  std::vector<NodeFacts> nodes_;
  struct TextHash {
    using is_transparent = void;  // looked up by string_view: no string built per event
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> by_text_;  // "ip:port" -> index
  std::unordered_map<std::uint64_t, std::uint64_t> message_ids_;  // (origin, seq) -> id
  std::deque<MessageFacts> pending_;                             // ids first_pending_ ..., in origin order
  std::uint64_t first_pending_ = 0;
  std::unordered_map<std::uint64_t, Duration> last_loss_;        // unordered node pair -> last loss
  std::vector<int> host_side_;
  std::vector<Duration> side_since_;
  std::vector<double> time_to_all_ms_, detection_ms_, removal_ms_;
  std::uint64_t closed_duplicates_ = 0;  // from incarnations that have ended
  Duration next_footprint_check_{0};
  // Scratch for judge(), by node index: a slot is set when it holds stamp_ (no clearing per message).
  std::uint32_t stamp_ = 0;
  std::vector<std::uint32_t> reached_, got_, todo_;
  std::vector<Duration> got_at_;
  bool ended_ = false;
};

}  // namespace gossip::sim
