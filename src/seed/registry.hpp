// registry.hpp — a seed's list of live peers and the rules for adding and removing them.
// Pure: no sockets, no clock reads. The one place that decides whether a dead-node report removes a peer.
// An answer costs O(list_limit), not O(registered peers): 100,000 peers register without a quadratic bill.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <random>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/config.hpp"

namespace gossip {

class Registry {
 public:
  explicit Registry(std::size_t max_peers) : max_peers_(max_peers) {}

  enum class Outcome { kNew, kKnown, kFull };
  struct Registration {
    Outcome outcome;
    std::vector<Address> others;  // every other registered peer, a random sample if over `list_limit`
  };
  // Adds `peer` if absent (a repeat is not a duplicate). Refuses (kFull, empty list) a new peer when the
  // registry already holds max_peers.
  // The answer's list is sorted.
  Registration register_peer(const Address& peer, TimePoint now, std::size_t list_limit, std::mt19937_64& rng);

  struct Removal {
    bool removed;        // the peer was on the list and is gone now
    std::string reason;  // why not, when not removed: "unknown_peer", "unknown_reporter", "self_report"
  };
  // The removal rule for a DEAD_NODE report: remove a listed peer when a listed peer other than itself
  // reports it, or when another seed relays such a report (`reporter_is_seed`: the caller has checked the
  // reporter is one of our configured seeds). Hardening against forged reports belongs here and nowhere
  // else.
  Removal report_dead(const Address& dead, const Address& reporter, bool reporter_is_seed = false);

  // Removes and returns the peers that have not registered for `ttl` (their lease ran out: they died
  // and no report reached this seed, or this seed was cut off from them).
  std::vector<Address> expire(TimePoint now, Millis ttl);

  // A peer said it is leaving. Returns whether it was listed.
  bool leave(const Address& peer);

  bool contains(const Address& peer) const { return entries_.count(peer) != 0; }
  std::size_t size() const { return list_.size(); }
  std::vector<Address> peers() const;  // sorted

 private:
  struct Entry {
    std::size_t index;        // its place in list_
    TimePoint registered_at;  // first registration
    TimePoint last_seen;      // latest REGISTER: the lease runs from here
  };
  bool remove(const Address& peer);

  std::size_t max_peers_;
  std::vector<Address> list_;  // every registered peer, in no order: random picks are O(1)
  std::unordered_map<Address, Entry, AddressHash> entries_;
};

}  // namespace gossip
