// protocol_node.hpp — the whole protocol of one node as a pure object: what arrived (on which socket, the
// decoded message, "now") goes in, effects come out. `Peer` and `Seed` implement it; the real poll loop
// (common/node_loop) and the simulator (src/sim) drive it the same way. It reads no clock, opens no socket
// and draws randomness only from a generator it was given.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/effects.hpp"
#include "common/wire.hpp"

namespace gossip {

// "Now" as a node sees it: monotonic time for timers, wall-clock µs for timestamps on the wire and in logs.
struct Now {
  TimePoint mono;
  std::uint64_t wall_us = 0;
};

// One decoded message and where it came from.
struct Arrival {
  Socket on;               // the socket it arrived on
  const Address& remote;   // kSeed/kLink: the address that DEALER is connected to; else the sender field
  const wire::Message& message;
};

class ProtocolNode {
 public:
  virtual ~ProtocolNode() = default;

  // Once, before anything else.
  virtual void start(Now now, Effects& out) = 0;
  // A message the codec accepted.
  virtual void receive(const Arrival& in, Now now, Effects& out) = 0;
  // Input the shell refused before decoding it (the codec's reason, or too many frames). `from` is
  // whatever identifies its source in a log line.
  virtual void refused(std::string_view from, std::string_view reason, Effects& out) = 0;
  // A Send or one copy of a Forward that the socket did not accept (queue full, requester gone, no
  // such socket). `type` is the message type token.
  virtual void send_failed(Socket via, const Address& to, std::string_view type, Effects& out) = 0;
  // Every timer that is due. REQUIRES now >= next_deadline(). The caller hands over everything that has
  // arrived first, so that a node that was not running judges no timeout before reading its input.
  virtual void tick(Now now, Effects& out) = 0;
  // Curve mode: these addresses' key was removed from the trust store; the shell has closed our
  // connections to them and refuses what they send. The node forgets them as it would a dead node.
  virtual void revoked(const std::vector<Address>& addresses, Now now, Effects& out) = 0;
  // The earliest time tick() has something to do; TimePoint::max() for never.
  virtual TimePoint next_deadline() const = 0;
  // A stop signal: the last effects (LEAVE, final log lines). Nothing is called after it.
  virtual void stop(int signal, Now now, Effects& out) = 0;
};

// The `bad_message from=… reason=…` line every node writes for input it refuses.
inline void log_bad_message(Effects& out, std::string_view from, std::string_view reason) {
  out.log("bad_message").kv("from", from).kv("reason", reason);
}

// The first line of every incarnation of a node.
inline LogEvent started_event(std::string_view role, const Address& listen, const Address& advertise, long pid,
                              std::string_view config_path) {
  LogEvent e("started");
  e.kv("role", role)
      .kv("listen", listen.to_string())
      .kv("advertise", advertise.to_string())
      .kv("pid", pid)
      .kv("config", config_path)
      .kv("protocol", wire::kSignature);
  return e;
}

}  // namespace gossip
