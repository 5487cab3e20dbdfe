// cli.hpp — the command line shared by gossip-seed and gossip-peer: `--config FILE`, `--help`,
// `--version`. Loads the config (and in curve mode the keys) and turns every problem into a message and an exit status.
#pragma once

#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/credentials.hpp"

namespace gossip {

struct CliResult {
  std::optional<Config> config;  // set when the node should run
  std::optional<Credentials> credentials;  // with it, in security mode curve
  int exit_code = 0;             // otherwise: 0 after --help/--version, 2 on a usage or config error
};

// `program` and `summary` head the --help text. Prints errors to stderr, help to stdout.
CliResult parse_command_line(int argc, char** argv, const std::string& program, const std::string& summary,
                             Role role);

}  // namespace gossip
