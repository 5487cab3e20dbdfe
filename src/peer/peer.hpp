// peer.hpp — the whole protocol of a peer as one pure object: it owns Membership, Overlay, GossipEngine
// and Liveness, and every rule that ties them together (which socket a message may arrive on, what a
// refused message means, what a neighbour's first message implies, what happens after a stall, whom a
// death is reported to, what leaving sends). The shell (PeerNode) and the simulator only carry out the
// effects it returns. No sockets, no clock reads; randomness from its own seeded generator.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "common/config.hpp"
#include "common/origin_auth.hpp"
#include "common/protocol_node.hpp"
#include "peer/gossip.hpp"
#include "peer/liveness.hpp"
#include "peer/membership.hpp"
#include "peer/overlay.hpp"

namespace gossip {

class Peer final : public ProtocolNode {
 public:
  // `self` is the advertised address: the sender of everything it sends, the origin of its messages.
  // With `auth` (security.sign_origins in curve mode) it signs what it originates and accepts only
  // messages signed by their origin. REQUIRES: auth, if given, outlives the peer.
  Peer(Address self, const Config& cfg, std::uint64_t random_seed, const OriginAuth* auth = nullptr);

  void start(Now now, Effects& out) override;
  void receive(const Arrival& in, Now now, Effects& out) override;
  void refused(std::string_view from, std::string_view reason, Effects& out) override;
  void send_failed(Socket via, const Address& to, std::string_view type, Effects& out) override;
  void tick(Now now, Effects& out) override;
  void revoked(const std::vector<Address>& addresses, Now now, Effects& out) override;
  TimePoint next_deadline() const override;
  void stop(int signal, Now now, Effects& out) override;

  // Read-only views, for tests and the simulator's checks.
  const Address& self() const { return self_; }
  const Membership& membership() const { return membership_; }
  const Overlay& overlay() const { return overlay_; }
  const GossipEngine& gossip() const { return gossip_; }
  const Liveness& liveness() const { return liveness_; }

 private:
  void on_inbox(const wire::Message& m, Now now, Effects& out);
  void on_link_socket(const Address& peer, const wire::Message& m, Now now, Effects& out);
  void on_seed_socket(const Address& seed, const wire::Message& m, Now now, Effects& out);
  void on_control(const wire::Message& m, Now now, Effects& out);
  void on_gossip(const Address& from, const wire::Gossip& g, Now now, Effects& out);
  // A message from `peer` that we accepted: proof that it is alive.
  void heard_from(const Address& peer);

  void originate(wire::Gossip g, Effects& out);
  void forward(wire::Gossip g, const Address& from, Effects& out);
  void report_dead(const Address& peer, int misses, Now now, Effects& out);
  void apply(std::vector<Membership::Action> actions, Effects& out);
  void apply(std::vector<Overlay::Action> actions, Now now, Effects& out);
  void apply(std::vector<Liveness::Action> actions, Now now, Effects& out);
  void log_stats(Effects& out);

  Address self_;
  Config cfg_;
  std::mt19937_64 rng_;
  Membership membership_;
  Overlay overlay_;
  GossipEngine gossip_;
  Liveness liveness_;
  TimePoint next_stats_ = TimePoint::max();  // set by start()
  const OriginAuth* auth_;
  std::uint64_t rejected_ = 0;  // GOSSIP refused for its origin's signature
};

}  // namespace gossip
