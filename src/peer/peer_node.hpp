// peer_node.hpp — the peer process: the thin shell around Membership, Overlay, GossipEngine and
// Liveness. It owns every socket and the one poll loop, feeds each core what arrived and "now", and
// carries out what the cores return. It makes no protocol decision of its own.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <zmq.hpp>

#include "common/config.hpp"
#include "common/node_shell.hpp"
#include "common/wire.hpp"
#include "peer/gossip.hpp"
#include "peer/liveness.hpp"
#include "peer/membership.hpp"
#include "peer/overlay.hpp"

namespace gossip {

class PeerNode {
 public:
  // Returns nullptr and sets *why if the node cannot start (address in use, log not writable).
  static std::unique_ptr<PeerNode> create(const Config& cfg, std::string* why);
  PeerNode(const Config& cfg, std::unique_ptr<NodeShell> shell, std::optional<zmq::socket_t> control);

  // Runs until SIGINT or SIGTERM, then leaves the overlay. Returns the process exit status.
  int run();

 private:
  // Where a response goes: back through our inbox to the requester's routing id.
  struct ReplyTo {
    zmq::socket_t* socket;
    const std::string* routing_id;
  };

  void on_inbox(const std::string& routing_id, const wire::Message& m);
  void on_link_socket(const Address& peer, const wire::Message& m);
  void on_seed_socket(const Address& seed, const wire::Message& m);
  void on_control(const std::string& routing_id, const wire::Message& m);
  void on_gossip(const Address& from, const wire::Gossip& g, TimePoint now);

  void apply(std::vector<Membership::Action> actions);
  void apply(std::vector<Overlay::Action> actions, std::optional<ReplyTo> reply = std::nullopt);
  void apply(std::vector<Liveness::Action> actions);
  void originate(const wire::Gossip& g);
  void send_to_neighbours(const wire::Gossip& g, const std::optional<Address>& from);
  void reply(ReplyTo to, wire::Body body);
  bool send_link(const Address& peer, wire::Body body);
  zmq::socket_t& open_link(const Address& peer);
  void close_link(const Address& peer);
  void log_stats(const char* event);
  void tick_due(TimePoint now);
  TimePoint next_deadline() const;
  void leave();

  Config cfg_;
  std::unique_ptr<NodeShell> shell_;
  std::optional<zmq::socket_t> control_;     // local PUBLISH endpoint, when node.control is set
  std::mt19937_64 rng_;
  Membership membership_;
  Overlay overlay_;
  GossipEngine gossip_;
  Liveness liveness_;
  std::map<Address, zmq::socket_t> seeds_;   // one DEALER per seed we register with
  std::map<Address, zmq::socket_t> links_;   // one DEALER per neighbour or link being requested
  TimePoint next_stats_;
};

}  // namespace gossip
