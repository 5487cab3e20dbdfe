// seed_node.hpp — the seed process: one ROUTER inbox, one poll loop, the Registry behind it.
// The shell only decodes, asks the Registry, answers, relays dead-node reports to the other seeds and
// logs; every decision is the Registry's.
#pragma once

#include <map>
#include <memory>
#include <random>

#include "common/config.hpp"
#include "common/net.hpp"
#include "common/node_shell.hpp"
#include "common/wire.hpp"
#include "seed/registry.hpp"

namespace gossip {

class SeedNode {
 public:
  // Returns nullptr and sets *why if the node cannot start (address in use, log not writable).
  static std::unique_ptr<SeedNode> create(const Config& cfg, std::string* why);
  SeedNode(const Config& cfg, std::unique_ptr<NodeShell> shell);

  // Runs until SIGINT or SIGTERM. Returns the process exit status.
  int run();

 private:
  void handle(const net::Incoming& in, const wire::Message& m);
  void reply(const std::string& routing_id, wire::Body body);
  void on_dead_node(const wire::Message& m, const wire::DeadNode& dead, TimePoint now);
  void relay_to_seeds(const wire::DeadNode& dead);
  void expire_leases(TimePoint now);

  Config cfg_;
  std::unique_ptr<NodeShell> shell_;
  Registry registry_;
  std::mt19937_64 rng_;
  std::map<Address, zmq::socket_t> other_seeds_;  // DEALERs to the other seeds of node.seeds, for relays
  TimePoint next_expiry_;
};

}  // namespace gossip
