#include "peer/peer_node.hpp"

#include <random>

namespace gossip {

std::unique_ptr<PeerNode> PeerNode::create(const Config& cfg, std::optional<Credentials> credentials,
                                           std::string* why) {
  auto shell = NodeShell::open(cfg, "peer", std::move(credentials), why);
  if (!shell) return nullptr;
  return std::make_unique<PeerNode>(cfg, std::move(shell));
}

PeerNode::PeerNode(const Config& cfg, std::unique_ptr<NodeShell> shell)
    : shell_(std::move(shell)),
      auth_(cfg.security.signing() ? std::optional<OriginAuth>(std::in_place, shell_->credentials()->self,
                                                                 shell_->credentials()->trust)
                                   : std::nullopt),
      peer_(shell_->self(), cfg, std::random_device{}(), auth_ ? &*auth_ : nullptr),
      loop_(*shell_, peer_, cfg.gossip.send_hwm, cfg.security.trust_reload_interval) {}

}  // namespace gossip
