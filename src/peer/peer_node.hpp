// peer_node.hpp — the gossip-peer process: a Peer (the whole protocol, pure) run by the shared NodeLoop
// on the sockets of a NodeShell. Everything the peer decides is in peer/peer.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/node_loop.hpp"
#include "common/node_shell.hpp"
#include "peer/peer.hpp"

namespace gossip {

class PeerNode {
 public:
  // Returns nullptr and sets *why if the node cannot start (address in use, log not writable).
  static std::unique_ptr<PeerNode> create(const Config& cfg, std::optional<Credentials> credentials,
                                          std::string* why);
  PeerNode(const Config& cfg, std::unique_ptr<NodeShell> shell);

  // Runs until SIGINT or SIGTERM, then leaves the overlay. Returns the process exit status.
  int run() { return loop_.run(); }

 private:
  std::unique_ptr<NodeShell> shell_;  // first: outlives the loop's sockets
  std::optional<OriginAuth> auth_;    // curve mode with security.sign_origins
  Peer peer_;
  NodeLoop loop_;
};

}  // namespace gossip
