// net.hpp — the few things every node does with cppzmq sockets: make a DEALER, send frames without ever
// blocking, receive one whole message. Deliberately thin; cppzmq is used as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/address.hpp"

namespace gossip::net {

// The largest frame a socket accepts before dropping the connection (ZMQ_MAXMSGSIZE); twice the codec's
// message limit, so a message somewhat too large is seen and logged by the codec rather than silently cut.
inline constexpr std::int64_t kMaxSocketFrame = 524288;

// Frames of one incoming message kept: a version 2 message is one frame, so a second one is enough to
// tell a multipart message (a version 1 node's, or junk) from it; the rest are read and dropped.
inline constexpr std::size_t kMaxKeptFrames = 2;

// A handshake that has not finished in this time is dropped, so a connection that never completes one
// (an outsider without a key, a half-open scan) holds nothing for long.
inline constexpr int kHandshakeMs = 3000;

// CurveZMQ keys (Z85) for the two ends of a connection. A server also names its ZAP domain.
struct CurveServer {
  std::string secret_key;
};
struct CurveClient {
  std::string public_key;
  std::string secret_key;
  std::string server_key;  // the key the remote must prove it holds
};

// A DEALER connected to `to`, with send queue bound `hwm` and the given linger; over CurveZMQ when `curve`
// is given. It sets no routing id: the remote's ROUTER gives each connection its own, so no client can
// take over another's replies by naming itself after it. Throws zmq::error_t only on a programming error
// (bad endpoint syntax).
zmq::socket_t make_dealer(zmq::context_t& ctx, const Address& to, int hwm, int linger_ms,
                          const CurveClient* curve = nullptr);

// A ROUTER bound at `at` (mandatory routing, frame size limit), a CurveZMQ server checked by ZAP when
// `curve` is given. Returns nullopt and sets *why if the address cannot be bound. *bound receives the
// actual address (port 0 resolved).
std::optional<zmq::socket_t> bind_router(zmq::context_t& ctx, const Address& at, Address* bound,
                                         std::string* why, const CurveServer* curve = nullptr);

// Sends every frame with ZMQ_DONTWAIT. If routing_id is given (a ROUTER reply) it goes first.
// Returns false, sending nothing, if the message cannot be queued at once (queue full, peer gone).
bool send(zmq::socket_t& socket, const std::vector<std::string>& frames,
          const std::string* routing_id = nullptr);
// The same for a one-frame message (every protocol message).
bool send(zmq::socket_t& socket, std::string_view frame, const std::string* routing_id = nullptr);

// One whole message read without waiting; nullopt if none is ready. Frames past `max_frames` are read
// and discarded, so an oversized message cannot grow memory (the codec refuses what is left as
// multipart).
struct Incoming {
  std::string routing_id;  // ROUTER only
  std::vector<zmq::message_t> frames;
  std::vector<std::string_view> views() const;
  // The TCP peer's IP as libzmq saw it (trustworthy, unlike a sender field), or "unknown". For log lines
  // about refused input only: it is not free.
  std::string peer_ip() const;
  // The User-Id ZAP gave the connection (on a curve server: the client's public key in Z85), or "".
  // Valid while this message lives.
  std::string_view user_id() const;
};
std::optional<Incoming> receive(zmq::socket_t& socket, bool is_router, std::size_t max_frames);

}  // namespace gossip::net
