// credentials.hpp — what a curve node loads before it starts: its own identity (security.key_file) and
// the members it trusts (security.trusted_dir), checked against each other and against the node's
// address, so a mistake stops the node with the file, line, key and reason instead of a silent lock-out.
#pragma once

#include <variant>

#include "common/config.hpp"
#include "common/keys.hpp"
#include "common/trust_store.hpp"

namespace gossip {

struct Credentials {
  SecretIdentity self;
  TrustStore trust;
  // trusted_dir as it was just before `trust` was read from it: a file added after that point changes
  // the fingerprint, so the first re-read picks it up (computed after the read, it could be missed).
  std::string trust_fingerprint;
};

// REQUIRES: cfg.security.curve() (so the advertised address has its port: the config refuses port 0).
// Checks: both load; the key names the node's advertised address; the trusted directory holds this very key.
std::variant<Credentials, ConfigError> load_credentials(const Config& cfg);

}  // namespace gossip
