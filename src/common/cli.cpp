#include "common/cli.hpp"

#include <iostream>
#include <string_view>

#include "common/wire.hpp"

namespace gossip {

CliResult parse_command_line(int argc, char** argv, const std::string& program, const std::string& summary,
                             Role role) {
  std::optional<std::string> path;
  auto usage = [&](std::ostream& os) {
    os << "usage: " << program << " --config FILE\n\n"
       << summary << "\n\n"
       << "options:\n"
       << "  --config FILE  the node's TOML config (keys: docs/CONFIG.md)\n"
       << "  --help         show this text\n"
       << "  --version      show the version and the wire protocol version\n\n"
       << "SIGINT or SIGTERM stops the node cleanly. A bad config exits with status 2.\n";
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return {std::nullopt, std::nullopt, 0};
    }
    if (arg == "--version") {
      std::cout << program << " 2.0.0 (wire protocol " << wire::kSignature << ")\n";
      return {std::nullopt, std::nullopt, 0};
    }
    if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = std::string(arg.substr(9));
    } else {
      std::cerr << program << ": unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return {std::nullopt, std::nullopt, 2};
    }
  }
  if (!path) {
    std::cerr << program << ": --config FILE is required\n";
    usage(std::cerr);
    return {std::nullopt, std::nullopt, 2};
  }
  auto loaded = load_config(*path, role);
  if (auto* err = std::get_if<ConfigError>(&loaded)) {
    std::cerr << program << ": config error: " << err->to_string() << "\n";
    return {std::nullopt, std::nullopt, 2};
  }
  CliResult result{std::get<Config>(std::move(loaded)), std::nullopt, 0};
  if (result.config->security.curve()) {
    auto creds = load_credentials(*result.config);
    if (auto* err = std::get_if<ConfigError>(&creds)) {
      std::cerr << program << ": config error: " << err->to_string() << "\n";
      return {std::nullopt, std::nullopt, 2};
    }
    result.credentials = std::get<Credentials>(std::move(creds));
  }
  return result;
}

}  // namespace gossip
