// gossip-peer: registers with a majority of seeds, links to a few peers, gossips, watches its neighbours.
#include <iostream>

#include "common/cli.hpp"
#include "peer/peer_node.hpp"

int main(int argc, char** argv) {
  auto cli = gossip::parse_command_line(argc, argv, "gossip-peer",
                                        "A peer of the gossip overlay: registers with floor(n/2)+1 seeds, links "
                                        "to random peers, originates and forwards gossip, detects dead "
                                        "neighbours.",
                                        gossip::Role::kPeer);
  if (!cli.config) return cli.exit_code;
  std::string why;
  auto node = gossip::PeerNode::create(*cli.config, std::move(cli.credentials), &why);
  if (!node) {
    std::cerr << "gossip-peer: cannot start: " << why << "\n";
    return 1;
  }
  return node->run();
}
