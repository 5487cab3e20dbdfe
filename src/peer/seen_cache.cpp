#include "peer/seen_cache.hpp"

namespace gossip {

namespace {
constexpr std::size_t kMinSlots = 16;

// Fibonacci hashing: spreads ids whose low bits are alike over the table.
// The id is a cryptographic digest, so its low word is already uniform; the multiply guards against a
// table filled by ids that are alike (an attacker cannot make them so, but tests can).
std::size_t home(const MessageId& id, std::size_t mask) {
  return static_cast<std::size_t>((id.lo * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}
}  // namespace

std::size_t SeenCache::slot_of(const MessageId& id) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(id, mask);
  while (!slots_[i].empty() && slots_[i] != id) i = (i + 1) & mask;
  return i;
}

// Backward-shift deletion keeps every remaining id reachable from its home slot without tombstones.
void SeenCache::erase_slot(std::size_t i) {
  const std::size_t mask = slots_.size() - 1;
  slots_[i] = MessageId{};
  for (std::size_t j = (i + 1) & mask; !slots_[j].empty(); j = (j + 1) & mask) {
    const std::size_t h = home(slots_[j], mask);
    // Move slots_[j] into the hole at i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    slots_[j] = MessageId{};
    i = j;
  }
}

void SeenCache::resize(std::size_t capacity) {
  std::vector<MessageId> old = std::move(slots_);
  slots_.assign(capacity, MessageId{});
  for (const auto& id : old)
    if (!id.empty()) slots_[slot_of(id)] = id;
}

void SeenCache::remove_oldest() {
  const auto id = order_.front().second;
  order_.pop_front();
  if (id.empty()) {
    has_zero_ = false;
  } else {
    erase_slot(slot_of(id));
  }
  // Shrink when mostly empty, so a burst does not pin memory.
  if (slots_.size() > kMinSlots && order_.size() * 8 < slots_.size()) resize(slots_.size() / 2);
}

void SeenCache::expire(TimePoint now) {
  while (!order_.empty() && order_.front().first + ttl_ <= now) remove_oldest();
}

bool SeenCache::contains(const MessageId& id, TimePoint now) {
  expire(now);
  if (id.empty()) return has_zero_;
  return !slots_.empty() && slots_[slot_of(id)] == id;
}

bool SeenCache::insert(const MessageId& id, TimePoint now) {
  expire(now);
  if (id.empty() ? has_zero_ : !slots_.empty() && slots_[slot_of(id)] == id) return false;
  while (order_.size() >= max_) {
    remove_oldest();
    ++evicted_;
  }
  if (id.empty()) {
    has_zero_ = true;
  } else {
    if (slots_.empty()) slots_.assign(kMinSlots, MessageId{});
    if ((order_.size() + 1) * 2 > slots_.size()) resize(slots_.size() * 2);  // load at most 1/2
    slots_[slot_of(id)] = id;
  }
  order_.emplace_back(now, id);
  return true;
}

}  // namespace gossip
