// liveness.hpp — the failure detector: a round of liveness requests every interval; a neighbour that
// stays silent for max_misses rounds in a row is dead. Any message from a neighbour proves it alive.
// Pure: takes `now`, returns whom to probe and whom to declare dead. Knows nothing of sockets.
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/flat.hpp"

namespace gossip {

class Liveness {
 public:
  struct Probe {  // send LIVENESS_REQUEST
    Address to;
  };
  struct Missed {  // a round went unanswered (misses < max)
    Address peer;
    int misses;
  };
  struct Dead {  // max_misses rounds unanswered: report once, then forget the peer
    Address peer;
    int misses;
  };
  struct Stalled {  // this round came so late that we, not they, were silent: no misses counted
    Millis late;
  };
  using Action = std::variant<Probe, Missed, Dead, Stalled>;

  explicit Liveness(const LivenessConfig& cfg) : cfg_(cfg) {}

  // Starts watching `peer` (no misses; first probe in the next round). The first call starts the rounds.
  void add(const Address& peer, TimePoint now);
  void remove(const Address& peer) { watched_.erase(peer); }
  // Any message from `peer`, a LIVENESS_REPLY or other: its misses go back to 0.
  void on_traffic(const Address& peer);

  // One round. REQUIRES: now >= next_deadline(). Call it only after handling every message that has
  // arrived, so replies that came in while we were not running are counted first.
  std::vector<Action> tick(TimePoint now);
  TimePoint next_deadline() const { return next_round_.value_or(TimePoint::max()); }
  int misses(const Address& peer) const;
  std::size_t watched_count() const { return watched_.size(); }

 private:
  struct Watch {
    bool awaiting = false;  // probed, nothing heard since
    int misses = 0;
  };
  LivenessConfig cfg_;
  FlatMap<Address, Watch> watched_;  // our neighbours: few, and looked up per message
  std::optional<TimePoint> next_round_;
};

// True if a round due at `due` but run at `now` is so late (over half an interval) that the silence
// since the last round is ours: a paused process, a stalled host.
inline bool round_stalled(TimePoint due, TimePoint now, Millis interval) { return now - due > interval / 2; }

}  // namespace gossip
