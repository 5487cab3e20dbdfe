// membership.hpp — a peer's registration with its seeds: choose a majority of distinct seeds, register,
// replace seeds that do not answer, back off when too few answer, re-register periodically, and keep the
// union of the peer lists the seeds sent. Pure: it returns what to send; the node does the sending.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/config.hpp"

namespace gossip {

// floor(n/2)+1: the assignment's seed majority. Two majorities always share a seed, so two peers' union
// lists always see each other through at least one seed.
inline std::size_t seed_majority(std::size_t n) { return n / 2 + 1; }

// `count` distinct items of `from`, chosen uniformly at random.
std::vector<Address> choose_distinct(std::vector<Address> from, std::size_t count, std::mt19937_64& rng);

struct MembershipTiming {
  Millis register_timeout{2000};
  Millis retry_min{250};
  Millis retry_max{5000};
  Millis reregister_interval{30000};
};

class Membership {
 public:
  // Send REGISTER to `seed`; `fresh` means on a new socket (drop any old one and what it queued).
  struct SendRegister {
    Address seed;
    bool fresh;
  };
  // `seed` did not answer in time: close its socket. `was_registered` if it had answered before.
  struct SeedTimedOut {
    Address seed;
    bool was_registered;
  };
  // `seed` answered our REGISTER: we are on its list.
  struct SeedRegistered {
    Address seed;
  };
  // A majority answered for the first time (or again after losing it).
  struct Joined {
    std::vector<Address> seeds;
    std::vector<Address> peers;
  };
  // A seed we were registered with answered `new`: it had dropped us (reported dead, or restarted).
  struct DroppedBySeed {
    Address seed;
  };
  // Every seed was tried without reaching a majority; the next round starts after `delay`.
  struct RoundFailed {
    int attempt;
    Millis delay;
  };
  using Action = std::variant<SendRegister, SeedTimedOut, SeedRegistered, Joined, DroppedBySeed, RoundFailed>;

  Membership(std::vector<Address> seeds, MembershipTiming timing);

  // First round: registers with a random majority.
  std::vector<Action> start(TimePoint now, std::mt19937_64& rng);
  // A PEER_LIST from `seed`. Lists from seeds we are not waiting on and not registered with are ignored.
  // The last answer of a round that left us short of a majority ends the round (RoundFailed, backoff).
  std::vector<Action> on_peer_list(const Address& seed, bool known, const std::vector<Address>& peers,
                                   TimePoint now, std::mt19937_64& rng);
  // Timeouts, replacement seeds, backoff rounds and periodic re-registration. Call at next_deadline().
  std::vector<Action> tick(TimePoint now, std::mt19937_64& rng);
  // Re-register with our seeds now (we suspect we were dropped, or want fresh peers). Rate-limited to
  // one refresh per register_timeout.
  std::vector<Action> refresh(TimePoint now);

  TimePoint next_deadline() const;
  bool joined() const { return registered_.size() >= majority_; }
  std::vector<Address> registered_seeds() const;
  bool registered_with(const Address& seed) const { return registered_.count(seed) != 0; }
  std::size_t pending_count() const { return pending_.size(); }
  // Union of the latest lists from the seeds we are registered with. (A seed never lists the requester;
  // Overlay::set_candidates drops ourselves anyway.)
  std::vector<Address> known_peers() const;

 private:
  std::vector<Action> fill(TimePoint now, std::mt19937_64& rng);

  std::vector<Address> seeds_;
  MembershipTiming timing_;
  std::size_t majority_;
  std::map<Address, std::vector<Address>> registered_;  // seed -> the latest list it sent
  std::map<Address, TimePoint> pending_;                // seed -> answer deadline
  std::set<Address> tried_;                             // seeds that failed this round
  int failed_rounds_ = 0;
  std::optional<TimePoint> retry_at_;
  std::optional<TimePoint> next_reregister_;
  TimePoint last_refresh_{};
  bool was_joined_ = false;
};

}  // namespace gossip
