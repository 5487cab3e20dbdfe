#include "peer/peer_node.hpp"

#include <random>

namespace gossip {

std::unique_ptr<PeerNode> PeerNode::create(const Config& cfg, std::string* why) {
  auto shell = NodeShell::open(cfg, "peer", why);
  if (!shell) return nullptr;
  return std::make_unique<PeerNode>(cfg, std::move(shell));
}

PeerNode::PeerNode(const Config& cfg, std::unique_ptr<NodeShell> shell)
    : shell_(std::move(shell)),
      peer_(shell_->self(), cfg, std::random_device{}()),
      loop_(*shell_, peer_, cfg.gossip.send_hwm) {}

}  // namespace gossip
