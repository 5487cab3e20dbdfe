#include "common/address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace gossip {

std::string Address::to_string() const {
  std::string s;
  s.reserve(ip.size() + 8);
  if (is_v6()) s.append("[").append(ip).append("]");
  else s.append(ip);
  return s.append(":").append(std::to_string(port));
}

std::string Address::endpoint() const { return "tcp://" + to_string(); }

namespace {
bool fail(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return false;
}

// True if `host` is dotted-quad IPv4 already in canonical form (0-255, no leading zeros): the common case
// on the hot path (two addresses per gossip message), answered without inet_pton/inet_ntop.
bool is_canonical_ipv4(std::string_view host) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    const std::size_t start = i;
    unsigned value = 0;
    while (i < host.size() && host[i] >= '0' && host[i] <= '9' && i - start < 3) value = value * 10 + (host[i++] - '0');
    const std::size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && host[start] == '0')) return false;
    ++parts;
    if (i == host.size()) break;
    if (host[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

// Canonicalises an IP literal through inet_pton/inet_ntop so "127.000.0.1" cannot alias "127.0.0.1".
bool canonical_ip(std::string_view host, bool v6, std::string& out) {
  if (!v6 && is_canonical_ipv4(host)) {
    out.assign(host);
    return true;
  }
  const std::string h(host);
  char buf[INET6_ADDRSTRLEN] = {};
  if (v6) {
    in6_addr a{};
    if (inet_pton(AF_INET6, h.c_str(), &a) != 1) return false;
    if (!inet_ntop(AF_INET6, &a, buf, sizeof buf)) return false;
  } else {
    in_addr a{};
    if (inet_pton(AF_INET, h.c_str(), &a) != 1) return false;
    if (!inet_ntop(AF_INET, &a, buf, sizeof buf)) return false;
  }
  out = buf;
  return true;
}
}  // namespace

std::optional<Address> parse_address(std::string_view text, std::string* why, bool allow_port_zero) {
  if (text.size() > 64) return fail(why, "address longer than 64 bytes"), std::nullopt;
  std::string_view host;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail(why, "expected [IPv6]:port"), std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    v6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(why, "expected IP:port"), std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail(why, "IPv6 addresses must be written [IPv6]:port"), std::nullopt;
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return fail(why, "port must be a number from 1 to 65535"), std::nullopt;
  if (port == 0 && !allow_port_zero) return fail(why, "port 0 is not allowed here"), std::nullopt;
  Address a{{}, static_cast<std::uint16_t>(port)};
  if (!canonical_ip(host, v6, a.ip))
    return fail(why, std::string(host).insert(0, 1, '\'').append("' is not an IP address (host names are not resolved)")),
           std::nullopt;
  return a;
}

bool is_wildcard(const Address& a) { return a.ip == "0.0.0.0" || a.ip == "::"; }

}  // namespace gossip
