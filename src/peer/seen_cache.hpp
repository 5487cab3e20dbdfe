// seen_cache.hpp — the Message List: hashes of messages already handled, bounded in time and size.
// Entries leave after `ttl` or, when full, oldest first; memory is flat under any load. Every received
// copy asks it, so the ids live in one open-addressing table (a lookup is one cache miss) that grows and
// shrinks with what it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/message_id.hpp"

namespace gossip {

class SeenCache {
 public:
  // REQUIRES: max_entries >= 1.
  SeenCache(Millis ttl, std::size_t max_entries) : ttl_(ttl), max_(max_entries) {}

  // Records `id`. Returns true if it was not present (a first sighting), false for a repeat.
  bool insert(const MessageId& id, TimePoint now);
  bool contains(const MessageId& id, TimePoint now);
  std::size_t size() const { return order_.size(); }
  std::size_t evicted() const { return evicted_; }  // removed by the size cap (not by expiry)

 private:
  void expire(TimePoint now);
  void remove_oldest();
  std::size_t slot_of(const MessageId& id) const;  // where `id` is, or the empty slot where it would go
  void erase_slot(std::size_t slot);
  void resize(std::size_t capacity);

  Millis ttl_;
  std::size_t max_;
  // Linear probing over ids; the all-zero id marks an empty slot, so that id itself is kept aside in
  // has_zero_.
  std::vector<MessageId> slots_;
  bool has_zero_ = false;
  std::deque<std::pair<TimePoint, MessageId>> order_;  // insertion order = expiry order (one TTL)
  std::size_t evicted_ = 0;
};

}  // namespace gossip
