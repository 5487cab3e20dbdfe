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

// REQUIRES: cfg.security.curve(). Checks: both load; the key names the node's advertised address (when
// it is known before binding, i.e. not port 0); the trusted directory holds this very key.
std::variant<Credentials, ConfigError> load_credentials(const Config& cfg);

// The check load_credentials makes of the address, for a node that learns it only once bound.
std::optional<ConfigError> check_speaks_for(const Config& cfg, const SecretIdentity& self, const Address& address);

}  // namespace gossip
