// origin_auth.hpp — signed origins: a peer signs every GOSSIP it originates with its Ed25519 key, and
// checks the origin's signature on every message it has not seen before, before the Message List
// records it, so that a forged copy never suppresses the genuine one. Pure (libsodium's deterministic
// functions); it reads the trust store it is given and nothing else.
#pragma once

#include <string>
#include <string_view>

#include "common/keys.hpp"
#include "common/trust_store.hpp"
#include "common/wire.hpp"

namespace gossip {

// The bytes an origin signs: the domain "GSP2 GOSSIP" and a NUL, then the message's canonical content.
std::string signed_bytes(std::string_view canonical_content);

class OriginAuth {
 public:
  // REQUIRES: both outlive this object. The trust store may change in place (a re-read).
  OriginAuth(const SecretIdentity& self, const TrustStore& trust);

  // The signature of the message with this canonical content (kSignatureBytes).
  std::string sign(std::string_view canonical_content) const;
  // "" when `m` carries a valid signature by the key its origin belongs to; else why not:
  // "unsigned", "unknown_origin" (no trusted key names it) or "bad_signature".
  std::string_view check(const wire::Gossip& m, std::string_view canonical_content) const;

 private:
  const SecretIdentity& self_;
  const TrustStore& trust_;
};

}  // namespace gossip
