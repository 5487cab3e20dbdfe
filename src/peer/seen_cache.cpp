#include "peer/seen_cache.hpp"

namespace gossip {

void SeenCache::expire(TimePoint now) {
  while (!order_.empty() && order_.front().first + ttl_ <= now) {
    ids_.erase(order_.front().second);
    order_.pop_front();
  }
}

bool SeenCache::contains(std::uint64_t id, TimePoint now) {
  expire(now);
  return ids_.count(id) != 0;
}

bool SeenCache::insert(std::uint64_t id, TimePoint now) {
  expire(now);
  if (ids_.count(id)) return false;
  while (ids_.size() >= max_) {
    ids_.erase(order_.front().second);
    order_.pop_front();
    ++evicted_;
  }
  ids_.insert(id);
  order_.emplace_back(now, id);
  return true;
}

}  // namespace gossip
