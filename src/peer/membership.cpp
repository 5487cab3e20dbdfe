#include "peer/membership.hpp"

#include <algorithm>
#include <iterator>

#include "common/backoff.hpp"

namespace gossip {

std::vector<Address> choose_distinct(std::vector<Address> from, std::size_t count, std::mt19937_64& rng) {
  std::sort(from.begin(), from.end());
  from.erase(std::unique(from.begin(), from.end()), from.end());
  std::shuffle(from.begin(), from.end(), rng);
  if (from.size() > count) from.resize(count);
  return from;
}

Membership::Membership(std::vector<Address> seeds, MembershipTiming timing)
    : seeds_(std::move(seeds)), timing_(timing), majority_(seed_majority(seeds_.size())) {}

std::vector<Membership::Action> Membership::start(TimePoint now, std::mt19937_64& rng) { return fill(now, rng); }

// Asks untried seeds until registered + pending reach a majority; if none are left, schedules a new round.
std::vector<Membership::Action> Membership::fill(TimePoint now, std::mt19937_64& rng) {
  std::vector<Action> out;
  // Distinct seeds: a registered seed that is being re-asked is in both maps and counts once.
  std::size_t have = registered_.size();
  for (const auto& [s, deadline] : pending_)
    if (!registered_.count(s)) ++have;
  if (have >= majority_) return out;
  std::vector<Address> untried;
  for (const auto& s : seeds_)
    if (!registered_.count(s) && !pending_.count(s) && !tried_.count(s)) untried.push_back(s);
  for (const auto& s : choose_distinct(untried, majority_ - have, rng)) {
    pending_[s] = now + timing_.register_timeout;
    out.push_back(SendRegister{s, true});
  }
  if (pending_.empty() && registered_.size() < majority_ && !retry_at_) {
    ++failed_rounds_;
    const auto delay = backoff_delay(failed_rounds_, timing_.retry_min, timing_.retry_max,
                                     std::uniform_real_distribution<double>(0.0, 1.0)(rng));
    retry_at_ = now + delay;
    out.push_back(RoundFailed{failed_rounds_, delay});
  }
  return out;
}

std::vector<Membership::Action> Membership::on_peer_list(const Address& seed, bool known,
                                                         const std::vector<Address>& peers, TimePoint now,
                                                         std::mt19937_64& rng) {
  std::vector<Action> out;
  const bool was_pending = pending_.erase(seed) != 0;
  const bool was_registered = registered_.count(seed) != 0;
  if (!was_pending && !was_registered) return out;
  registered_[seed] = peers;
  if (!was_registered) out.push_back(SeedRegistered{seed});
  // The lease at this seed runs from now, majority or not: re-registration keeps it, even while the other
  // seeds stay out of reach for longer than the lease.
  if (!next_reregister_) next_reregister_ = now + timing_.reregister_interval;
  if (was_registered && !known) out.push_back(DroppedBySeed{seed});
  if (joined() && !was_joined_) {
    was_joined_ = true;
    failed_rounds_ = 0;
    tried_.clear();
    retry_at_.reset();
    next_reregister_ = now + timing_.reregister_interval;
    out.push_back(Joined{registered_seeds(), known_peers()});
  }
  // Short of a majority with nobody left to wait for: without this the peer would wait for nothing, for
  // ever (registered with too few seeds, never re-registering).
  if (!joined() && pending_.empty() && !retry_at_) {
    auto more = fill(now, rng);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::vector<Membership::Action> Membership::tick(TimePoint now, std::mt19937_64& rng) {
  std::vector<Action> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const bool was_registered = registered_.erase(it->first) != 0;
    out.push_back(SeedTimedOut{it->first, was_registered});
    tried_.insert(it->first);
    it = pending_.erase(it);
  }
  if (!joined()) was_joined_ = false;
  if (retry_at_ && *retry_at_ <= now) {
    retry_at_.reset();
    tried_.clear();
  }
  if (!retry_at_) {
    auto more = fill(now, rng);
    out.insert(out.end(), more.begin(), more.end());
  }
  if (next_reregister_ && *next_reregister_ <= now) {
    next_reregister_ = now + timing_.reregister_interval;
    for (const auto& [seed, list] : registered_)
      if (!pending_.count(seed)) {
        pending_[seed] = now + timing_.register_timeout;
        out.push_back(SendRegister{seed, false});
      }
  }
  return out;
}

std::vector<Membership::Action> Membership::refresh(TimePoint now) {
  std::vector<Action> out;
  if (last_refresh_ != TimePoint{} && now - last_refresh_ < timing_.register_timeout) return out;
  last_refresh_ = now;
  for (const auto& [seed, list] : registered_)
    if (!pending_.count(seed)) {
      pending_[seed] = now + timing_.register_timeout;
      out.push_back(SendRegister{seed, false});
    }
  return out;
}

TimePoint Membership::next_deadline() const {
  auto t = TimePoint::max();
  for (const auto& [seed, deadline] : pending_) t = std::min(t, deadline);
  if (retry_at_) t = std::min(t, *retry_at_);
  if (next_reregister_) t = std::min(t, *next_reregister_);
  return t;
}

std::vector<Address> Membership::registered_seeds() const {
  std::vector<Address> out;
  for (const auto& [seed, list] : registered_) out.push_back(seed);
  return out;
}

std::vector<Address> Membership::known_peers() const {
  // Seeds send sorted lists (docs/PROTOCOL.md does not promise it, so each is checked): merging them is
  // linear, where sorting thousands of addresses on every answer was not.
  std::vector<Address> all, merged, list;
  for (const auto& [seed, from_seed] : registered_) {
    list = from_seed;
    if (!std::is_sorted(list.begin(), list.end())) std::sort(list.begin(), list.end());
    merged.clear();
    merged.reserve(all.size() + list.size());
    std::set_union(all.begin(), all.end(), list.begin(), list.end(), std::back_inserter(merged));
    all.swap(merged);
  }
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace gossip
