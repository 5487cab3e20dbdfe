// message_id.hpp — the Message List key of a gossip message: BLAKE2b with a 16-byte digest of its
// canonical content (docs/PROTOCOL.md, "Message id"). Collision-resistant, so no one can make a message
// of their own that a peer takes for another origin's message and so suppresses it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gossip {

struct MessageId {
  std::uint64_t hi = 0;  // digest bytes 0-7, big-endian
  std::uint64_t lo = 0;  // digest bytes 8-15, big-endian
  bool empty() const { return hi == 0 && lo == 0; }
  friend bool operator==(const MessageId&, const MessageId&) = default;
  std::string hex() const;  // 32 lowercase hex digits, digest byte order
};

struct MessageIdHash {
  std::size_t operator()(const MessageId& id) const { return static_cast<std::size_t>(id.lo ^ (id.hi >> 7)); }
};

}  // namespace gossip
