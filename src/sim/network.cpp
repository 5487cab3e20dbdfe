#include "sim/network.hpp"

#include <algorithm>

namespace gossip::sim {

Network::Network(const NetworkModel& model, int hosts, std::uint64_t seed)
    : model_(model), latency_(model.latency), rng_(seed), side_(static_cast<std::size_t>(hosts), 0) {
  std::uniform_real_distribution<double> skew(-model.clock_skew_ms, model.clock_skew_ms);
  for (int h = 0; h < hosts; ++h)
    offsets_us_.push_back(model.clock_skew_ms > 0 ? static_cast<std::int64_t>(skew(rng_) * 1000.0) : 0);
}

std::optional<Duration> Network::arrival(Channel& c, Duration now) {
  if (model_.loss > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < model_.loss) return std::nullopt;
  c.last_arrival = std::max(now + latency_.sample(rng_), c.last_arrival);
  return c.last_arrival;
}

void Network::partition(const std::vector<int>& side) {
  std::fill(side_.begin(), side_.end(), 0);
  for (int h : side) side_[static_cast<std::size_t>(h)] = 1;
  partitioned_ = true;
}

void Network::heal() {
  std::fill(side_.begin(), side_.end(), 0);
  partitioned_ = false;
}

}  // namespace gossip::sim
