#include "seed/registry.hpp"

#include <algorithm>

namespace gossip {

Registry::Registration Registry::register_peer(const Address& peer, TimePoint now, std::size_t list_limit,
                                               std::mt19937_64& rng) {
  auto it = peers_.find(peer);
  Outcome outcome = Outcome::kKnown;
  if (it == peers_.end()) {
    if (peers_.size() >= max_peers_) return {Outcome::kFull, {}};
    it = peers_.emplace(peer, Entry{now, now}).first;
    outcome = Outcome::kNew;
  }
  it->second.last_seen = now;
  std::vector<Address> others;
  others.reserve(peers_.size());
  for (const auto& [addr, entry] : peers_)
    if (addr != peer) others.push_back(addr);
  if (others.size() > list_limit) {
    std::shuffle(others.begin(), others.end(), rng);
    others.resize(list_limit);
    std::sort(others.begin(), others.end());
  }
  return {outcome, std::move(others)};
}

Registry::Removal Registry::report_dead(const Address& dead, const Address& reporter, bool reporter_is_seed) {
  if (dead == reporter) return {false, "self_report"};
  if (!reporter_is_seed && !contains(reporter)) return {false, "unknown_reporter"};
  if (peers_.erase(dead) == 0) return {false, "unknown_peer"};
  return {true, ""};
}

std::vector<Address> Registry::expire(TimePoint now, Millis ttl) {
  std::vector<Address> gone;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_seen >= ttl) {
      gone.push_back(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

bool Registry::leave(const Address& peer) { return peers_.erase(peer) != 0; }

std::vector<Address> Registry::peers() const {
  std::vector<Address> out;
  out.reserve(peers_.size());
  for (const auto& [addr, entry] : peers_) out.push_back(addr);
  return out;
}

}  // namespace gossip
