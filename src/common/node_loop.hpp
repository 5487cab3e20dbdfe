// node_loop.hpp — the one poll loop both binaries run. It owns a node's DEALERs (one per seed or peer the
// protocol asks for), polls them with the inbox, the control endpoint and the stop signals until the
// protocol's next deadline, decodes what arrives, hands it to the ProtocolNode, carries out the effects it
// returns and ticks it when a deadline passes. It makes no protocol decision of its own. In curve mode it
// also answers libzmq's ZAP requests, refuses a message whose sender its connection's key does not speak
// for (before the node sees it), and re-reads the trust store.
#pragma once

#include <map>
#include <set>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "common/effects.hpp"
#include "common/node_shell.hpp"
#include "common/protocol_node.hpp"

namespace gossip {

class NodeLoop {
 public:
  // `send_hwm` bounds each DEALER's queue (gossip.send_hwm). REQUIRES: shell and node outlive the loop.
  NodeLoop(NodeShell& shell, ProtocolNode& node, int send_hwm, Millis trust_interval = Millis{1000});
  NodeLoop(const NodeLoop&) = delete;
  NodeLoop& operator=(const NodeLoop&) = delete;

  // Starts the node and runs until SIGINT or SIGTERM; then carries out the node's last effects and waits
  // briefly for them to leave. Returns the process exit status.
  int run();

 private:
  // The ROUTER and routing id of the message being handled: where an answer goes.
  struct ReplyPath {
    zmq::socket_t* router = nullptr;
    const std::string* routing_id = nullptr;
  };
  struct Dealer {
    zmq::socket_t socket;
    std::string server_key;  // curve: the key the remote proved it holds; what it may speak for
  };
  struct Failure {
    Socket via;
    Address to;
    std::string type;
  };

  void read(Socket kind, const Address& who, zmq::socket_t& socket);
  void carry_out(ReplyPath reply, std::uint64_t wall_us);
  bool send(Socket via, const Address& to, std::string_view frame, ReplyPath reply);
  zmq::socket_t* dealer(Socket via, const Address& to);
  void open(Socket via, const Address& to);
  void poll(TimePoint deadline);
  void answer_zap();
  // Returns false when the node cannot go on (its ROUTERs could not be bound again).
  bool check_trust(TimePoint now);
  void log_unlogged_refusals();
  // Curve mode: why a message from the connection authenticated as `key` is refused, or "".
  std::string_view refusal(std::string_view key, const Address& sender) const;

  NodeShell& shell_;
  ProtocolNode& node_;
  int send_hwm_;
  std::map<std::pair<Socket, Address>, Dealer> dealers_;
  TimePoint next_trust_check_ = TimePoint::max();
  Millis trust_interval_{1000};
  TimePoint next_zap_log_{};         // refused handshakes are logged at most once a second...
  std::uint64_t zap_unlogged_ = 0;   // ...with a count of those left out
  std::set<std::string> authenticated_;  // keys ZAP let in since the ROUTERs were last bound
  std::set<std::pair<Socket, Address>> awaiting_key_;  // DEALERs the node opened that no trusted key allows yet
  Effects effects_;                // reused for every input
  std::vector<Failure> failures_;  // sends refused while carrying out effects_, reported afterwards
  std::vector<zmq::pollitem_t> items_;
  std::vector<std::pair<Socket, Address>> owners_;  // who items_[i] belongs to (past the signal fd and watch)
  std::size_t zap_item_ = 0;                         // the ZAP socket's index in items_; 0: none
};

}  // namespace gossip
