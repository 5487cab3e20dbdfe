#include "peer/liveness.hpp"

namespace gossip {

void Liveness::add(const Address& peer, TimePoint now) {
  watched_[peer] = Watch{};
  if (!next_round_) next_round_ = now + cfg_.interval;
}

void Liveness::on_traffic(const Address& peer) {
  const auto it = watched_.find(peer);
  if (it == watched_.end()) return;
  it->second.awaiting = false;
  it->second.misses = 0;
}

int Liveness::misses(const Address& peer) const {
  const auto it = watched_.find(peer);
  return it == watched_.end() ? 0 : it->second.misses;
}

std::vector<Liveness::Action> Liveness::tick(TimePoint now) {
  std::vector<Action> out;
  const TimePoint due = next_round_.value_or(now);
  const bool stalled = round_stalled(due, now, cfg_.interval);
  if (stalled) out.push_back(Stalled{std::chrono::duration_cast<Millis>(now - due)});
  for (auto it = watched_.begin(); it != watched_.end();) {
    Watch& w = it->second;
    if (w.awaiting && !stalled) {
      ++w.misses;
      if (w.misses >= cfg_.max_misses) {
        out.push_back(Dead{it->first, w.misses});
        it = watched_.erase(it);
        continue;
      }
      out.push_back(Missed{it->first, w.misses});
    }
    w.awaiting = true;
    out.push_back(Probe{it->first});
    ++it;
  }
  // Schedule from now, not from `due`: after a stall, one round, not a burst of overdue ones.
  next_round_ = now + cfg_.interval;
  return out;
}

}  // namespace gossip
