// keys.hpp — a member's identity: a CURVE key pair (the transport: CurveZMQ), an Ed25519 key pair (the
// signatures on the messages it originates) and the node addresses it speaks for. A `.key` file holds
// all of it and stays on the member's host (mode 0600); the `.pub` file holds the public half and is
// copied to every member's trusted directory (docs/SECURITY.md).
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/config.hpp"

namespace gossip {

inline constexpr std::size_t kCurveKeyText = 40;  // a 32-byte CURVE key in Z85, as libzmq takes it
using SignPublicKey = std::array<unsigned char, 32>;
using SignSecretKey = std::array<unsigned char, 64>;  // libsodium's form: seed then public key

struct PublicIdentity {
  std::string name;                // the file's stem, for log lines ("peer-3")
  std::vector<Address> addresses;  // every address this key may put in a sender or origin field
  std::string curve_public;        // Z85
  SignPublicKey sign_public{};
  std::filesystem::path file;      // where it was read from (empty for a fresh one)

  bool speaks_for(const Address& a) const;
};

struct SecretIdentity {
  PublicIdentity pub;
  std::string curve_secret;  // Z85
  SignSecretKey sign_secret{};
};

// A fresh identity for `addresses` (at least one, none a wildcard and none with port 0).
SecretIdentity generate_identity(std::string name, std::vector<Address> addresses);

// The two files' TOML text.
std::string public_file_text(const PublicIdentity& id);
std::string secret_file_text(const SecretIdentity& id);

// Reads a `.pub` or `.key` file, checking every field (and, for a `.key`, that both public keys are the
// ones its secret keys make). Errors carry the file, line, key and reason, like a bad node config.
std::variant<PublicIdentity, ConfigError> read_public_identity(const std::filesystem::path& file);
std::variant<SecretIdentity, ConfigError> read_secret_identity(const std::filesystem::path& file);

// Writes DIR/NAME.key (mode 0600) and DIR/NAME.pub for `out` = DIR/NAME. Returns an error text, or "".
// An existing .key is an error unless `overwrite`.
std::string write_identity(const SecretIdentity& id, const std::filesystem::path& out, bool overwrite = false);

}  // namespace gossip
