#include "common/net.hpp"

#include "common/zap.hpp"

namespace gossip::net {

zmq::socket_t make_dealer(zmq::context_t& ctx, const Address& to, int hwm,
                          int linger_ms, const CurveClient* curve) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  if (curve) {
    s.set(zmq::sockopt::curve_serverkey, curve->server_key);
    s.set(zmq::sockopt::curve_publickey, curve->public_key);
    s.set(zmq::sockopt::curve_secretkey, curve->secret_key);
    s.set(zmq::sockopt::handshake_ivl, kHandshakeMs);
  }
  s.set(zmq::sockopt::sndhwm, hwm);
  s.set(zmq::sockopt::linger, linger_ms);
  s.set(zmq::sockopt::maxmsgsize, kMaxSocketFrame);
  if (to.is_v6()) s.set(zmq::sockopt::ipv6, 1);
  s.connect(to.endpoint());
  return s;
}

std::optional<zmq::socket_t> bind_router(zmq::context_t& ctx, const Address& at, Address* bound,
                                         std::string* why, const CurveServer* curve) {
  zmq::socket_t s(ctx, zmq::socket_type::router);
  if (curve) {
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, curve->secret_key);
    s.set(zmq::sockopt::zap_domain, std::string(kZapDomain));
    s.set(zmq::sockopt::handshake_ivl, kHandshakeMs);
  }
  s.set(zmq::sockopt::router_mandatory, 1);
  s.set(zmq::sockopt::maxmsgsize, kMaxSocketFrame);
  s.set(zmq::sockopt::linger, 0);
  if (at.is_v6()) s.set(zmq::sockopt::ipv6, 1);
  const std::string endpoint = at.port == 0 ? "tcp://" + (at.is_v6() ? "[" + at.ip + "]" : at.ip) + ":*"
                                            : at.endpoint();
  try {
    s.bind(endpoint);
  } catch (const zmq::error_t& e) {
    if (why) *why = "cannot bind " + at.to_string() + ": " + e.what();
    return std::nullopt;
  }
  if (bound) {
    // last_endpoint is "tcp://ip:port" (brackets for IPv6).
    const auto last = s.get(zmq::sockopt::last_endpoint);
    auto parsed = parse_address(std::string_view(last).substr(6));
    *bound = parsed ? *parsed : at;
  }
  return s;
}

bool send(zmq::socket_t& socket, const std::vector<std::string>& frames, const std::string* routing_id) {
  try {
    // Multipart sends are atomic once the first part is accepted: a full queue refuses the first part.
    if (routing_id) {
      if (!socket.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
        return false;
    }
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                               : zmq::send_flags::dontwait;
      if (!socket.send(zmq::buffer(frames[i]), flags)) return false;
    }
    return true;
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH from a ROUTER whose requester has gone
  }
}

bool send(zmq::socket_t& socket, std::string_view frame, const std::string* routing_id) {
  try {
    if (routing_id &&
        !socket.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      return false;
    return socket.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH from a ROUTER whose requester has gone
  }
}

std::vector<std::string_view> Incoming::views() const {
  std::vector<std::string_view> v;
  v.reserve(frames.size());
  for (const auto& f : frames) v.emplace_back(static_cast<const char*>(f.data()), f.size());
  return v;
}

std::string Incoming::peer_ip() const {
  // libzmq 4.3 attaches connection metadata to content frames, not to a ROUTER's routing-id frame, and may
  // have none at all for a message poll prefetched; zmq_msg_gets reports that as NULL, without throwing.
  for (const auto& f : frames)
    if (const char* ip = zmq_msg_gets(f.handle(), "Peer-Address")) return ip;
  return "unknown";
}

std::string_view Incoming::user_id() const {
  for (const auto& f : frames)
    if (const char* id = zmq_msg_gets(f.handle(), "User-Id")) return id;
  return "";
}

std::optional<Incoming> receive(zmq::socket_t& socket, bool is_router, std::size_t max_frames) {
  Incoming in;
  zmq::message_t part;
  bool first = true;
  try {
    bool more = true;
    while (more) {
      if (!socket.recv(part, first ? zmq::recv_flags::dontwait : zmq::recv_flags::none)) return std::nullopt;
      more = part.more();
      if (first && is_router) {
        in.routing_id.assign(static_cast<const char*>(part.data()), part.size());
      } else if (in.frames.size() < max_frames) {
        in.frames.push_back(std::move(part));
        part = zmq::message_t();
      }
      first = false;
    }
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  return in;
}

}  // namespace gossip::net
