#include "seed/registry.hpp"

#include <algorithm>
#include <unordered_set>

namespace gossip {

Registry::Registration Registry::register_peer(const Address& peer, TimePoint now, std::size_t list_limit,
                                               std::mt19937_64& rng) {
  auto it = entries_.find(peer);
  Outcome outcome = Outcome::kKnown;
  if (it == entries_.end()) {
    if (list_.size() >= max_peers_) return {Outcome::kFull, {}};
    it = entries_.emplace(peer, Entry{list_.size(), now, now}).first;
    list_.push_back(peer);
    outcome = Outcome::kNew;
  }
  it->second.last_seen = now;
  const std::size_t me = it->second.index;
  const std::size_t others = list_.size() - 1;
  std::vector<Address> out;
  if (others <= list_limit) {
    out.reserve(others);
    for (std::size_t i = 0; i < list_.size(); ++i)
      if (i != me) out.push_back(list_[i]);
  } else {
    // Floyd's sampling of list_limit distinct positions among the others (positions past `me` shift by one).
    std::unordered_set<std::size_t> chosen;
    chosen.reserve(list_limit * 2);
    for (std::size_t j = others - list_limit; j < others; ++j) {
      const std::size_t t = std::uniform_int_distribution<std::size_t>(0, j)(rng);
      chosen.insert(chosen.count(t) ? j : t);
    }
    out.reserve(list_limit);
    for (const std::size_t k : chosen) out.push_back(list_[k < me ? k : k + 1]);
  }
  std::sort(out.begin(), out.end());
  return {outcome, std::move(out)};
}

bool Registry::remove(const Address& peer) {
  const auto it = entries_.find(peer);
  if (it == entries_.end()) return false;
  // Swap the last entry into the hole: O(1), and list_ has no order to keep.
  const std::size_t hole = it->second.index;
  entries_.erase(it);
  if (hole + 1 != list_.size()) {
    list_[hole] = std::move(list_.back());
    entries_.at(list_[hole]).index = hole;
  }
  list_.pop_back();
  return true;
}

Registry::Removal Registry::report_dead(const Address& dead, const Address& reporter, bool reporter_is_seed) {
  if (dead == reporter) return {false, "self_report"};
  if (!reporter_is_seed && !contains(reporter)) return {false, "unknown_reporter"};
  if (!remove(dead)) return {false, "unknown_peer"};
  return {true, ""};
}

std::vector<Address> Registry::expire(TimePoint now, Millis ttl) {
  std::vector<Address> gone;
  for (const auto& [addr, entry] : entries_)
    if (now - entry.last_seen >= ttl) gone.push_back(addr);
  std::sort(gone.begin(), gone.end());
  for (const auto& a : gone) remove(a);
  return gone;
}

bool Registry::leave(const Address& peer) { return remove(peer); }

std::vector<Address> Registry::peers() const {
  std::vector<Address> out = list_;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gossip
