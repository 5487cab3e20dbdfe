#include "common/origin_auth.hpp"

#include <sodium.h>

#include <stdexcept>

namespace gossip {

std::string signed_bytes(std::string_view canonical_content) {
  std::string s("GSP2 GOSSIP", 11);
  s += '\0';
  s += canonical_content;
  return s;
}

OriginAuth::OriginAuth(const SecretIdentity& self, const TrustStore& trust) : self_(self), trust_(trust) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
}

std::string OriginAuth::sign(std::string_view canonical_content) const {
  const auto bytes = signed_bytes(canonical_content);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), self_.sign_secret.data());
  return sig;
}

std::string_view OriginAuth::check(const wire::Gossip& m, std::string_view canonical_content) const {
  if (m.signature.empty()) return "unsigned";
  const auto* origin = trust_.by_address(m.origin);
  if (!origin) return "unknown_origin";
  if (m.signature.size() != crypto_sign_BYTES) return "bad_signature";
  const auto bytes = signed_bytes(canonical_content);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(m.signature.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                  origin->sign_public.data()) != 0)
    return "bad_signature";
  return "";
}

}  // namespace gossip
