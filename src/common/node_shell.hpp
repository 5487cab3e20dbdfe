// node_shell.hpp — what every node process owns: stop signals, the zmq context, the bound inbox
// (ROUTER), its advertised address and its log. Seeds and peers build their loops on it.
#pragma once

#include <memory>
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
  // Blocks stop signals, binds the inbox at node.listen and opens `<log_dir>/<kind>-<ip>-<port>.log`.
  // Returns nullptr and sets *why if the address cannot be bound or the log cannot be opened.
  static std::unique_ptr<NodeShell> open(const Config& cfg, std::string_view kind, std::string* why);

  NodeShell(const NodeShell&) = delete;
  NodeShell& operator=(const NodeShell&) = delete;

  zmq::context_t& context() { return context_; }
  zmq::socket_t& inbox() { return inbox_; }
  const Address& self() const { return self_; }
  Logger& log() { return *log_; }
  StopSignals& signals() { return signals_; }

  // The `bad_message from=… reason=…` line every node writes for input it refuses.
  void bad_message(std::string_view from, std::string_view reason);

  NodeShell() = default;  // for open() only

 private:
  StopSignals signals_;  // first: blocks the signals before zmq starts its threads
  zmq::context_t context_;
  zmq::socket_t inbox_;
  Address self_;
  std::unique_ptr<Logger> log_;
};

// "<log_dir>/<kind>-<ip>-<port>.log", with ':' in an IPv6 address written as '_'.
std::filesystem::path log_file_for(const Config& cfg, std::string_view kind, const Address& self);

}  // namespace gossip
