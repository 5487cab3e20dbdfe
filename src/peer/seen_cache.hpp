// seen_cache.hpp — the Message List: hashes of messages already handled, bounded in time and size.
// Entries leave after `ttl` or, when full, oldest first; memory is flat under any load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>
#include <utility>

#include "common/clock.hpp"
#include "common/config.hpp"

namespace gossip {

class SeenCache {
 public:
  // REQUIRES: max_entries >= 1.
  SeenCache(Millis ttl, std::size_t max_entries) : ttl_(ttl), max_(max_entries) {}

  // Records `id`. Returns true if it was not present (a first sighting), false for a repeat.
  bool insert(std::uint64_t id, TimePoint now);
  bool contains(std::uint64_t id, TimePoint now);
  std::size_t size() const { return ids_.size(); }
  std::size_t evicted() const { return evicted_; }  // removed by the size cap (not by expiry)

 private:
  void expire(TimePoint now);

  Millis ttl_;
  std::size_t max_;
  std::unordered_set<std::uint64_t> ids_;
  std::deque<std::pair<TimePoint, std::uint64_t>> order_;  // insertion order = expiry order (one TTL)
  std::size_t evicted_ = 0;
};

}  // namespace gossip
