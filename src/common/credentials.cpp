#include "common/credentials.hpp"

namespace gossip {
namespace {

std::optional<ConfigError> check_speaks_for(const Config& cfg, const SecretIdentity& self, const Address& address) {
  if (self.pub.speaks_for(address)) return std::nullopt;
  std::string named;
  for (const auto& a : self.pub.addresses) named += (named.empty() ? "" : ", ") + a.to_string();
  return ConfigError{cfg.file.string(), 0, "security.key_file",
                     cfg.security.key_file.string() + " speaks for " + named + ", not for this node's address " +
                         address.to_string() + " (make it with gossip-ctl keygen --address " + address.to_string() +
                         ")"};
}

}  // namespace

std::variant<Credentials, ConfigError> load_credentials(const Config& cfg) {
  auto self = read_secret_identity(cfg.security.key_file);
  if (auto* err = std::get_if<ConfigError>(&self)) return *err;
  auto print = trusted_dir_fingerprint(cfg.security.trusted_dir);
  auto trust = TrustStore::load(cfg.security.trusted_dir);
  if (auto* err = std::get_if<ConfigError>(&trust)) return *err;
  Credentials c{std::get<SecretIdentity>(std::move(self)), std::get<TrustStore>(std::move(trust)), std::move(print)};
  if (auto err = check_speaks_for(cfg, c.self, cfg.advertised())) return *err;
  if (!c.trust.by_curve_key(c.self.pub.curve_public))
    return ConfigError{cfg.file.string(), 0, "security.trusted_dir",
                       cfg.security.trusted_dir.string() + " does not hold this node's own public key (" +
                           c.self.pub.curve_public + "): copy its .pub file there"};
  return c;
}

}  // namespace gossip
