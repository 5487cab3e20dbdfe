// config_table.hpp — reading a node config from a TOML table that is already parsed, for files that hold a
// node config inside something larger (a simulator scenario's [config]). Separate from config.hpp so
// that only the two readers pay for including toml++.
#pragma once

#include <filesystem>
#include <string_view>
#include <variant>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "common/config.hpp"

namespace gossip {

// The checks of parse_config() on `root`, whose nodes carry their lines in `file`. Error keys are
// written `key_prefix` + the dotted key ("config." + "overlay.max_degree").
std::variant<Config, ConfigError> config_from_table(const toml::table& root, const std::filesystem::path& file,
                                                    Role role, std::string_view key_prefix);

}  // namespace gossip
