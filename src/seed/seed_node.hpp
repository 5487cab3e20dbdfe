// seed_node.hpp — the gossip-seed process: a Seed (the whole protocol, pure) run by the shared NodeLoop
// on the sockets of a NodeShell. Everything the seed decides is in seed/seed.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/node_loop.hpp"
#include "common/node_shell.hpp"
#include "seed/seed.hpp"

namespace gossip {

class SeedNode {
 public:
  // Returns nullptr and sets *why if the node cannot start (address in use, log not writable).
  static std::unique_ptr<SeedNode> create(const Config& cfg, std::optional<Credentials> credentials,
                                          std::string* why);
  SeedNode(const Config& cfg, std::unique_ptr<NodeShell> shell);

  // Runs until SIGINT or SIGTERM. Returns the process exit status.
  int run() { return loop_.run(); }

 private:
  std::unique_ptr<NodeShell> shell_;  // first: outlives the loop's sockets
  Seed seed_;
  NodeLoop loop_;
};

}  // namespace gossip
