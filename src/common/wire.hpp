// wire.hpp — the codec: every message type of protocol version 2 (docs/PROTOCOL.md), encoded to and
// decoded from one ZeroMQ frame: "GSP2", then length-prefixed fields (type, sender, the type's fields).
// One frame per message keeps a hop to one zmq_send and, in curve mode, one CurveZMQ box. The only place
// that knows the byte layout. Knows nothing of sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/message_id.hpp"

namespace gossip::wire {

inline constexpr std::string_view kSignature = "GSP2";
inline constexpr std::size_t kMaxFieldBytes = 65536;
inline constexpr std::size_t kMaxFields = 1028;  // a PEER_LIST: type, sender, status, 1,024 peers + slack
inline constexpr std::size_t kMaxMessageBytes = 262144;
inline constexpr std::size_t kLengthBytes = 4;  // each field's length, unsigned big-endian
inline constexpr std::size_t kMaxPeerList = 1024;
inline constexpr std::size_t kSignatureBytes = 64;  // Ed25519

struct Register {};
struct PeerList {
  bool known = false;           // the seed had the requester on its list before this REGISTER
  std::vector<Address> peers;   // every other live peer (at most kMaxPeerList)
};
struct DeadNode {
  Address dead;
  std::uint64_t timestamp_us = 0;
};
struct Leave {};
struct LinkRequest {
  std::uint64_t degree = 0;  // the requester's neighbour count: lets a full peer trade a link for a newcomer
};
struct LinkAccept {};
struct LinkReject {
  std::string reason;
};
struct Unlink {
  std::string reason;
  std::optional<Address> suggest;  // a peer the receiver should link to instead
};
struct Gossip {
  Address origin;
  std::uint64_t seq = 0;
  std::uint64_t created_us = 0;
  std::uint64_t hops = 0;
  std::string body;
  std::string signature{};  // the origin's Ed25519 signature (kSignatureBytes), or empty: unsigned
  // Not on the wire: the Message List key (peer/gossip.hpp message_id) when already computed from these
  // very fields, else empty. The codec never reads it and decodes it as empty, so what a remote sends is
  // always hashed by the receiver; a peer sets it on the copies it originates and forwards.
  MessageId id{};
};
struct LivenessRequest {
  std::uint64_t timestamp_us = 0;
};
struct LivenessReply {
  std::uint64_t timestamp_us = 0;  // copied from the request
  Address requester;
};
struct NotLinked {};
struct Publish {
  std::string payload;
};
struct Published {
  Address origin;
  std::uint64_t seq = 0;
};
struct Error {
  std::string reason;
};

using Body = std::variant<Register, PeerList, DeadNode, Leave, LinkRequest, LinkAccept, LinkReject, Unlink,
                          Gossip, LivenessRequest, LivenessReply, NotLinked, Publish, Published, Error>;

struct Message {
  Address sender;  // frame 2: the sender's advertised address
  Body body;
};

// The type token on the wire ("REGISTER", "GOSSIP", ...).
std::string_view type_name(const Body& body);

// The one frame to send. Never fails for a Message built by our code;
// REQUIRES: tokens are [a-z0-9_]{1,64} and a peer list holds at most kMaxPeerList addresses.
std::string encode(const Message& message);

// A frame cut into its pieces without checking what they say: the first 4 bytes (the magic), then each
// field; or, when a length does not fit (or a limit is passed), the codec's reason and no pieces. For
// tools that show or count what arrived; decode() checks everything else.
struct Split {
  std::vector<std::string_view> pieces;  // views into the frame
  std::string error;
};
Split split_frame(std::string_view frame);

// A frame from raw pieces: `magic` as it is, then each field with its length. For tools and tests that
// need to send what our own encoder never would (gossip-ctl send).
std::string frame_of(std::string_view magic, const std::vector<std::string>& fields);

// Either a message or the reason it was refused (a short token such as "unknown_type" plus detail).
struct Decoded {
  std::optional<Message> message;
  std::string error;  // empty iff message is set
};

// Checks a received message (every frame of it: a version 2 message is exactly one) against
// docs/PROTOCOL.md. Never throws on any input.
Decoded decode(const std::vector<std::string_view>& frames);
Decoded decode(std::string_view frame);

// The assignment's human-readable forms, used in log lines.
std::string dead_node_text(const Address& dead, std::uint64_t timestamp_us, const Address& reporter);
std::string liveness_request_text(std::uint64_t timestamp_us, const Address& sender);
std::string liveness_reply_text(std::uint64_t timestamp_us, const Address& requester, const Address& self);

}  // namespace gossip::wire
