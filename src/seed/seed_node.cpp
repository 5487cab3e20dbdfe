#include "seed/seed_node.hpp"

#include <random>

namespace gossip {

std::unique_ptr<SeedNode> SeedNode::create(const Config& cfg, std::optional<Credentials> credentials,
                                           std::string* why) {
  auto shell = NodeShell::open(cfg, "seed", std::move(credentials), why);
  if (!shell) return nullptr;
  return std::make_unique<SeedNode>(cfg, std::move(shell));
}

SeedNode::SeedNode(const Config& cfg, std::unique_ptr<NodeShell> shell)
    : shell_(std::move(shell)),
      seed_(shell_->self(), cfg, std::random_device{}()),
      loop_(*shell_, seed_, cfg.gossip.send_hwm, cfg.security.trust_reload_interval) {}

}  // namespace gossip
