#include "peer/overlay.hpp"

#include <algorithm>

namespace gossip {

Overlay::Overlay(Address self, const OverlayConfig& cfg) : self_(std::move(self)), cfg_(cfg) {}

void Overlay::set_candidates(const std::vector<Address>& candidates) {
  std::vector<Address> others;
  others.reserve(candidates.size());
  for (const auto& c : candidates)
    if (c != self_) others.push_back(c);
  candidates_ = FlatSet<Address>(std::move(others));
  // Forget cool-downs of peers the seeds no longer list, so the map stays bounded by the list.
  for (auto it = cooldown_.begin(); it != cooldown_.end();)
    it = candidates_.count(it->first) ? std::next(it) : cooldown_.erase(it);
  next_tick_ = TimePoint{};  // act on the new list at once
}

void Overlay::cool_down(const Address& peer, TimePoint until) {
  auto& t = cooldown_[peer];
  t = std::max(t, until);
}

bool Overlay::eligible(const Address& peer, TimePoint now) const {
  if (peer == self_ || neighbours_.count(peer) || pending_.count(peer)) return false;
  const auto it = cooldown_.find(peer);
  return it == cooldown_.end() || it->second <= now;
}

std::vector<Overlay::Action> Overlay::tick(TimePoint now, std::mt19937_64& rng) {
  std::vector<Action> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    // No answer at all: the peer is probably gone; leave it alone for a while.
    cool_down(it->first, now + 4 * cfg_.refill_interval);
    out.push_back(LinkDown{it->first, "timeout", false, std::nullopt, std::nullopt});
    it = pending_.erase(it);
  }
  next_tick_ = now + cfg_.refill_interval;
  if (closing_) return out;
  const std::size_t target = static_cast<std::size_t>(cfg_.target_degree);
  const std::size_t have = neighbours_.size() + pending_.size();
  if (have >= target) return out;
  const std::size_t want = target - have;
  std::vector<Address> pool;
  // Usually most candidates are eligible: a few random draws find them without scanning (and shuffling)
  // a list of thousands. When draws keep missing, the whole eligible pool is taken and shuffled.
  for (std::size_t draw = 0; draw < 4 * want && pool.size() < want && !candidates_.empty(); ++draw) {
    const auto& c = candidates_[std::uniform_int_distribution<std::size_t>(0, candidates_.size() - 1)(rng)];
    if (eligible(c, now) && std::find(pool.begin(), pool.end(), c) == pool.end()) pool.push_back(c);
  }
  if (pool.size() < want) {
    pool.clear();
    for (const auto& c : candidates_)
      if (eligible(c, now)) pool.push_back(c);
    std::shuffle(pool.begin(), pool.end(), rng);
  }
  for (std::size_t i = 0; i < pool.size() && i < want; ++i) {
    pending_[pool[i]] = now + cfg_.link_timeout;
    out.push_back(RequestLink{pool[i]});
  }
  if (pool.size() < want && pending_.empty() && now - last_want_peers_ >= cfg_.refill_interval) {
    last_want_peers_ = now;
    out.push_back(WantPeers{});
  }
  return out;
}

std::vector<Overlay::Action> Overlay::on_link_request(const Address& from, std::uint64_t their_degree,
                                                      TimePoint now, std::mt19937_64& rng) {
  std::vector<Action> out;
  if (from == self_) return {RejectLink{from, "self"}};
  if (closing_) return {RejectLink{from, "shutting_down"}};
  if (neighbours_.count(from)) return {AcceptLink{from}};  // it lost its side (restart): re-confirm
  const std::size_t max = static_cast<std::size_t>(cfg_.max_degree);
  if (neighbours_.size() >= max) {
    // Trade only for a peer with no link at all: a newcomer that would otherwise find no room. Trading
    // for any peer below target churns forever when target == max (the traded peer is then below target
    // and entitled to a trade itself).
    // With max_degree 1 the traded peer is left with no link and trades in turn, forever. And one trade
    // per refill interval is all a newcomer needs: more would let a flood of requests from made-up
    // senders churn every link (and every socket) we have.
    const bool recently_traded = last_trade_ != TimePoint{} && now - last_trade_ < cfg_.refill_interval;
    if (their_degree != 0 || neighbours_.empty() || max < 2 || recently_traded)
      return {RejectLink{from, "full"}};
    last_trade_ = now;
    // Hand one neighbour over to the newcomer; C-B becomes C-A-B, so the overlay stays connected.
    const Address given = neighbours_[std::uniform_int_distribution<std::size_t>(0, neighbours_.size() - 1)(rng)];
    neighbours_.erase(given);
    out.push_back(LinkDown{given, "traded", true, std::string("traded"), from});
  }
  pending_.erase(from);  // a crossing request: theirs settles ours too
  cooldown_.erase(from);
  neighbours_.insert(from);
  out.push_back(AcceptLink{from});
  out.push_back(LinkUp{from});
  return out;
}

std::vector<Overlay::Action> Overlay::on_link_accept(const Address& from) {
  if (!pending_.erase(from) || neighbours_.count(from)) return {};
  if (closing_ || neighbours_.size() >= static_cast<std::size_t>(cfg_.max_degree)) {
    // Filled up by inbound links while waiting: undo politely.
    return {LinkDown{from, "full", false, std::string("full"), std::nullopt}};
  }
  neighbours_.insert(from);
  cooldown_.erase(from);
  return {LinkUp{from}};
}

std::vector<Overlay::Action> Overlay::on_link_reject(const Address& from, const std::string& reason,
                                                     TimePoint now) {
  if (!pending_.erase(from)) return {};
  cool_down(from, now + cfg_.refill_interval);
  next_tick_ = TimePoint{};  // try another candidate at once
  return {LinkDown{from, "rejected_" + reason, false, std::nullopt, std::nullopt}};
}

std::vector<Overlay::Action> Overlay::drop(const Address& peer, const std::string& reason, TimePoint now) {
  const bool was = neighbours_.erase(peer) != 0;
  const bool pending = pending_.erase(peer) != 0;
  if (!was && !pending) return {};
  cool_down(peer, now + cfg_.refill_interval);
  next_tick_ = TimePoint{};
  return {LinkDown{peer, reason, was, std::nullopt, std::nullopt}};
}

std::vector<Overlay::Action> Overlay::on_unlink(const Address& from, const std::string& reason,
                                                const std::optional<Address>& suggest, TimePoint now) {
  auto out = drop(from, reason, now);
  if (out.empty()) return out;  // not a neighbour: nothing to hand over
  if (suggest && !closing_ && eligible(*suggest, now)) {
    pending_[*suggest] = now + cfg_.link_timeout;
    out.push_back(RequestLink{*suggest});
  }
  // The peer that traded us away is alive and well; it may be asked again later.
  cooldown_.erase(from);
  return out;
}

TimePoint Overlay::next_deadline() const {
  auto t = next_tick_;
  for (const auto& [peer, deadline] : pending_) t = std::min(t, deadline);
  return t;
}

}  // namespace gossip
