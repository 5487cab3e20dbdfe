// network.hpp — the simulated network between nodes: per-message latency, loss, FIFO order on each
// connection (TCP's), bounded queues (ZeroMQ's high-water marks), partitions between hosts and each host's
// clock offset. It decides when and whether a message arrives; it holds no message and knows no node.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "sim/scenario.hpp"

namespace gossip::sim {

// One direction of one connection: requests on `from`'s DEALER to `to`, or answers back to it.
inline std::uint64_t channel_id(std::uint32_t from, std::uint32_t to, bool answer) {
  return (static_cast<std::uint64_t>(from) << 33) | (static_cast<std::uint64_t>(to) << 1) | (answer ? 1u : 0u);
}

class Network {
 public:
  struct Channel {
    Duration last_arrival{0};  // FIFO: nothing arrives before this
    std::uint32_t held = 0;    // messages in it: sent, not yet handled or dropped
  };

  Network(const NetworkModel& model, int hosts, std::uint64_t seed);

  // The channel with this id, made on first use. The reference stays valid for the network's life.
  Channel& channel(std::uint64_t id) { return channels_[id]; }

  // A message sent at `now` on `c`: when it arrives (never before one sent earlier on the same channel),
  // or nullopt when the loss model drops it. Draws from the network's own generator.
  std::optional<Duration> arrival(Channel& c, Duration now);

  // A send beyond `capacity` messages held is refused, as a ZeroMQ socket at its high-water mark refuses it.
  static bool has_room(const Channel& c, std::uint32_t capacity) { return c.held < capacity; }
  static void queued(Channel& c) { ++c.held; }
  static void released(Channel& c) {
    if (c.held > 0) --c.held;
  }

  // Partitions: the hosts in `side` can reach each other but nobody else, until heal().
  void partition(const std::vector<int>& side);
  void heal();
  bool cut(int host_a, int host_b) const { return side_[static_cast<std::size_t>(host_a)] != side_[static_cast<std::size_t>(host_b)]; }
  bool partitioned() const { return partitioned_; }
  const std::vector<int>& sides() const { return side_; }

  void set_loss(double rate) { model_.loss = rate; }
  std::int64_t clock_offset_us(int host) const { return offsets_us_[static_cast<std::size_t>(host)]; }

 private:
  NetworkModel model_;
  LatencySampler latency_;
  std::mt19937_64 rng_;
  std::unordered_map<std::uint64_t, Channel> channels_;
  std::vector<int> side_;  // host -> side (0 = the main one)
  std::vector<std::int64_t> offsets_us_;
  bool partitioned_ = false;
};

}  // namespace gossip::sim
