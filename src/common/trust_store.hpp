// trust_store.hpp — every member a node lets in: the `.pub` files of security.trusted_dir, looked up by
// CURVE key (who completed a handshake) and by address (whom a sender, origin or link names). Each
// address belongs to exactly one key, so "this key speaks for that address" has one answer.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/config.hpp"
#include "common/keys.hpp"

namespace gossip {

class TrustStore {
 public:
  TrustStore() = default;

  // Every `*.pub` file in `dir` (other files are ignored). Refused: an unreadable directory, a bad file,
  // a key or an address named by two files.
  static std::variant<TrustStore, ConfigError> load(const std::filesystem::path& dir);
  // The same checks on identities already read (tests, the simulator).
  static std::variant<TrustStore, ConfigError> from(std::vector<PublicIdentity> members);

  const PublicIdentity* by_curve_key(std::string_view z85) const;
  const PublicIdentity* by_address(const Address& a) const;
  // True iff the key is trusted and names `a` among its addresses.
  bool speaks_for(std::string_view curve_key, const Address& a) const;

  // Keys trusted in `before` and not here.
  std::vector<std::string> revoked_since(const TrustStore& before) const;
  std::size_t size() const { return members_.size(); }
  const std::vector<PublicIdentity>& members() const { return members_; }

 private:
  std::vector<PublicIdentity> members_;
  std::unordered_map<std::string, std::size_t> by_key_;
  std::unordered_map<Address, std::size_t, AddressHash> by_address_;
};

// What trusted_dir holds now, cheaply: the names, sizes and modification times of its `.pub` files. Two
// equal fingerprints mean nothing to re-read.
std::string trusted_dir_fingerprint(const std::filesystem::path& dir);

}  // namespace gossip
