// gossip.hpp — what a peer originates and what it does with a gossip message it receives: first
// sightings are kept in the Message List and forwarded to every neighbour but the sender; repeats are
// counted and dropped. Pure: the node sends what this returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/flat.hpp"
#include "common/wire.hpp"
#include "peer/seen_cache.hpp"

namespace gossip {

// The bytes an id and an origin's signature cover: origin NUL seq NUL created NUL body (docs/PROTOCOL.md).
std::string canonical_content(const wire::Gossip& m);

// The Message List key: BLAKE2b-128 of canonical_content(m); hops and signature are not part of it.
// m.id when it is set (the key computed earlier from the same fields).
MessageId message_id(const wire::Gossip& m);

// Neighbours a message received from `from` goes on to: all but the sender and the origin.
std::vector<Address> forward_targets(const FlatSet<Address>& neighbours, const std::optional<Address>& from,
                                     const Address& origin);

// The copy sent onwards: one more hop.
wire::Gossip next_hop(const wire::Gossip& m);

struct GossipStats {
  std::uint64_t originated = 0;
  std::uint64_t received = 0;    // first sightings from others
  std::uint64_t duplicates = 0;  // repeats (including our own messages coming back)
  std::uint64_t forwarded = 0;   // copies handed to neighbour sockets
  std::uint64_t dropped = 0;     // copies refused by a full or gone neighbour socket
};

class GossipEngine {
 public:
  GossipEngine(Address self, const GossipConfig& cfg);

  // Our first neighbour is up: origination starts `start_delay` later. Later calls change nothing.
  void on_linked(TimePoint now);
  // Holds automatic origination until at least `until` (no-op if it is not started or already later).
  // After a stall our links may be stale: their far ends may have dropped us while we were paused.
  void postpone(TimePoint until);
  // The next automatic message when one is due (body `<timestamp>:<ip:port>:<seq>`), else nullopt.
  std::optional<wire::Gossip> tick(TimePoint now, std::uint64_t wall_us);
  // A message with a user's payload as body. The caller checks the payload size.
  wire::Gossip publish(std::string payload, TimePoint now, std::uint64_t wall_us);

  enum class Verdict { kNew, kDuplicate, kOwn };
  // Records a received message whose key is `id` (message_id(m)). kNew: log it and forward next_hop()
  // to forward_targets().
  Verdict on_receive(const wire::Gossip& m, const MessageId& id, TimePoint now);
  Verdict on_receive(const wire::Gossip& m, TimePoint now) { return on_receive(m, message_id(m), now); }

  // True if the Message List holds `id` (a repeat), without recording anything.
  bool seen(const MessageId& id, TimePoint now) { return seen_.contains(id, now); }

  TimePoint next_deadline() const;
  bool done_originating() const { return auto_sent_ >= cfg_.count; }
  GossipStats& stats() { return stats_; }
  const GossipStats& stats() const { return stats_; }
  const SeenCache& seen() const { return seen_; }

 private:
  wire::Gossip make(std::string body, std::uint64_t seq, std::uint64_t wall_us, TimePoint now);

  Address self_;
  GossipConfig cfg_;
  SeenCache seen_;
  std::optional<TimePoint> next_origin_;  // unset until the first link
  int auto_sent_ = 0;
  std::uint64_t next_seq_ = 1;
  GossipStats stats_;
};

}  // namespace gossip
