// zap.hpp — the ZAP (ZeroMQ RFC 27) decision of a curve node: libzmq asks, for every CURVE handshake on
// the node's ROUTERs, whether the client's public key may connect; the answer is yes only for a key in
// the trust store, and the key itself becomes the connection's User-Id, which the node then checks
// against every message's sender field. Pure: frames in, frames out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/trust_store.hpp"

namespace gossip {

inline constexpr std::string_view kZapEndpoint = "inproc://zeromq.zap.01";
inline constexpr std::string_view kZapDomain = "gossip";

struct ZapDecision {
  std::vector<std::string> reply;  // the frames to send back (always some: a REP socket must answer)
  bool accepted = false;
  std::string reason;              // why a connection was refused ("untrusted_key", ...)
  std::string client_ip;           // the request's address field
  std::string key;                 // the client's key in Z85, when it gave one
};

// `request`: the frames a ZAP handler receives (version, request id, domain, address, identity,
// mechanism, credentials...).
ZapDecision decide_zap(const TrustStore& trust, const std::vector<std::string_view>& request);

}  // namespace gossip
