// gossip-seed: keeps the list of live peers; peers register with it and report dead ones to it.
#include <iostream>

#include "common/cli.hpp"
#include "seed/seed_node.hpp"

int main(int argc, char** argv) {
  auto cli = gossip::parse_command_line(argc, argv, "gossip-seed",
                                        "A seed of the gossip overlay: registers peers, answers with the list "
                                        "of live peers, removes peers reported dead.",
                                        gossip::Role::kSeed);
  if (!cli.config) return cli.exit_code;
  std::string why;
  auto node = gossip::SeedNode::create(*cli.config, std::move(cli.credentials), &why);
  if (!node) {
    std::cerr << "gossip-seed: cannot start: " << why << "\n";
    return 1;
  }
  return node->run();
}
