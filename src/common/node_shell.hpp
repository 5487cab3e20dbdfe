// node_shell.hpp — what every node process owns before its loop starts: stop signals, the zmq context,
// the bound inbox (ROUTER), the control endpoint when configured, its advertised address and its log.
// Seeds and peers both run NodeLoop on it. It holds no protocol state.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "common/address.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/signals.hpp"

namespace gossip {

class NodeShell {
 public:
  // Blocks stop signals, binds the inbox at node.listen (and the control endpoint at node.control, if
  // set) and opens `<log_dir>/<kind>-<ip>-<port>.log`. Returns nullptr and sets *why if an address cannot
  // be bound or the log cannot be opened.
  static std::unique_ptr<NodeShell> open(const Config& cfg, std::string_view kind, std::string* why);

  NodeShell(const NodeShell&) = delete;
  NodeShell& operator=(const NodeShell&) = delete;

  zmq::context_t& context() { return context_; }
  zmq::socket_t& inbox() { return inbox_; }
  zmq::socket_t* control() { return control_ ? &*control_ : nullptr; }
  const Address& self() const { return self_; }
  Logger& log() { return *log_; }
  StopSignals& signals() { return signals_; }

  NodeShell() = default;  // for open() only

 private:
  StopSignals signals_;  // first: blocks the signals before zmq starts its threads
  zmq::context_t context_;
  zmq::socket_t inbox_;
  std::optional<zmq::socket_t> control_;
  Address self_;
  std::unique_ptr<Logger> log_;
};

}  // namespace gossip
