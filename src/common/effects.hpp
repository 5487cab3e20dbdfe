// effects.hpp — what a node's protocol logic asks for, as values: send this body to that address on that
// kind of socket, open or close a DEALER, write this log event. The real shell (common/node_loop) carries
// them out against ZeroMQ; the simulator (src/sim) against its virtual network. Nothing here does I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/log_event.hpp"
#include "common/wire.hpp"

namespace gossip {

// The sockets of a node (docs/PROTOCOL.md, Transport and sockets). What arrives says which one it came
// on; what leaves says which one it goes out on.
enum class Socket : std::uint8_t {
  kInbox,    // the ROUTER everyone sends to; a send on it answers the message being handled
  kControl,  // the local control ROUTER (PUBLISH); a send on it answers the control client
  kSeed,     // our DEALER to a seed
  kLink,     // our DEALER to a peer (a neighbour, or a peer we ask for a link)
};

// Send `body` (sender = us). On kSeed/kLink it goes on our DEALER to `to`, which must be open. On
// kInbox/kControl it is the answer to the message being handled, to its requester `to` (named for the
// log line should it fail). `log_when_sent` is written only if the send was accepted.
struct Send {
  Socket via;
  Address to;
  wire::Body body;
  std::optional<LogEvent> log_when_sent;
};

// One GOSSIP to several neighbours (our DEALERs): encoded once, queued on each.
struct Forward {
  std::vector<Address> to;
  wire::Gossip message;
};

// Open a DEALER of kind `via` (kSeed or kLink) to `to`, unless one is open already.
struct Open {
  Socket via;
  Address to;
};

// Close our DEALER of kind `via` to `to`, if open; what it still queues leaves within its linger.
struct Close {
  Socket via;
  Address to;
};

using Effect = std::variant<Send, Forward, Open, Close, LogEvent>;

// The effects of one input, in the order they must be carried out.
class Effects {
 public:
  void send(Socket via, const Address& to, wire::Body body) { list_.push_back(Send{via, to, std::move(body), {}}); }
  void send_logged(Socket via, const Address& to, wire::Body body, LogEvent when_sent) {
    list_.push_back(Send{via, to, std::move(body), std::move(when_sent)});
  }
  void forward(std::vector<Address> to, wire::Gossip message) {
    list_.push_back(Forward{std::move(to), std::move(message)});
  }
  void open(Socket via, const Address& to) { list_.push_back(Open{via, to}); }
  void close(Socket via, const Address& to) { list_.push_back(Close{via, to}); }
  // The event to fill in with kv(). The reference is valid until the next effect is added.
  LogEvent& log(std::string_view name) { return std::get<LogEvent>(list_.emplace_back(LogEvent(name))); }

  std::vector<Effect>& list() { return list_; }
  const std::vector<Effect>& list() const { return list_; }
  bool empty() const { return list_.empty(); }
  void clear() { list_.clear(); }

 private:
  std::vector<Effect> list_;
};

}  // namespace gossip
