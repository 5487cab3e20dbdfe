// address.hpp — a node's network address (IPv4 or IPv6 plus port) and its canonical text form.
// Not a resolver: host names are refused so every node compares addresses as plain strings.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gossip {

struct Address {
  std::string ip;      // canonical inet_ntop text, no brackets
  std::uint16_t port;  // 0 only in a `listen` setting, meaning "any free port"

  bool is_v6() const { return ip.find(':') != std::string::npos; }
  // "1.2.3.4:5" or "[::1]:5": the form used on the wire, in logs and as a map key.
  std::string to_string() const;
  // "tcp://1.2.3.4:5" for zmq connect/bind.
  std::string endpoint() const;

  auto operator<=>(const Address&) const = default;
};

// For unordered containers keyed by address.
struct AddressHash {
  std::size_t operator()(const Address& a) const noexcept {
    return std::hash<std::string>{}(a.ip) * 1000003u ^ a.port;
  }
};

// Parses "IPv4:port" or "[IPv6]:port". Returns nullopt and sets *why on anything else
// (a host name, a missing or out-of-range port). Port 0 is accepted only if allow_port_zero.
std::optional<Address> parse_address(std::string_view text, std::string* why = nullptr,
                                     bool allow_port_zero = false);

// True if ip is an unspecified ("any") address: 0.0.0.0 or ::.
bool is_wildcard(const Address& a);

}  // namespace gossip
