#include "common/zap.hpp"

#include <zmq.h>

namespace gossip {

ZapDecision decide_zap(const TrustStore& trust, const std::vector<std::string_view>& request) {
  ZapDecision d;
  // RFC 27: version "1.0", request id, domain, address, identity, mechanism, credentials. Even a request
  // we cannot read gets an answer: the ZAP socket is a REP and would stall every later handshake.
  if (request.size() < 6 || request[0] != "1.0") {
    d.reason = "malformed_zap_request";
    d.reply = {"1.0", request.size() > 1 ? std::string(request[1]) : std::string(), "400", d.reason, "", ""};
    return d;
  }
  d.client_ip = std::string(request[3]);
  auto answer = [&](const char* code, std::string text, std::string user_id) {
    d.reply = {"1.0", std::string(request[1]), code, std::move(text), std::move(user_id), ""};
  };
  if (request[2] != kZapDomain) {
    d.reason = "wrong_domain";
  } else if (request[5] != "CURVE" || request.size() != 7 || request[6].size() != 32) {
    d.reason = "not_curve";
  } else {
    char z85[41];
    zmq_z85_encode(z85, reinterpret_cast<const std::uint8_t*>(request[6].data()), 32);
    d.key = z85;
    if (trust.by_curve_key(d.key)) {
      d.accepted = true;
      answer("200", "OK", d.key);
      return d;
    }
    d.reason = "untrusted_key";
  }
  answer("400", d.reason, "");
  return d;
}

}  // namespace gossip
