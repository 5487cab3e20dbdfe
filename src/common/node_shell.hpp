// node_shell.hpp — what every node process owns before its loop starts: stop signals, the zmq context,
// the bound inbox (ROUTER), the control endpoint when configured, its advertised address and its log;
// in security mode curve also its credentials and the ZAP socket through which libzmq asks whom to let
// in. Seeds and peers both run NodeLoop on it. It holds no protocol state.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/address.hpp"
#include "common/config.hpp"
#include "common/credentials.hpp"
#include "common/dir_watch.hpp"
#include "common/log.hpp"
#include "common/net.hpp"
#include "common/signals.hpp"

namespace gossip {

class NodeShell {
 public:
  // Blocks stop signals, binds the inbox at node.listen (and the control endpoint at node.control, if
  // set) and opens `<log_dir>/<kind>-<ip>-<port>.log`. With credentials (curve mode) every ROUTER is a
  // CurveZMQ server whose clients ZAP checks against the trust store. Returns nullptr and sets *why if
  // an address cannot be bound or the log cannot be opened.
  static std::unique_ptr<NodeShell> open(const Config& cfg, std::string_view kind,
                                         std::optional<Credentials> credentials, std::string* why);

  NodeShell(const NodeShell&) = delete;
  NodeShell& operator=(const NodeShell&) = delete;

  zmq::context_t& context() { return context_; }
  zmq::socket_t& inbox() { return inbox_; }
  zmq::socket_t* control() { return control_ ? &*control_ : nullptr; }
  zmq::socket_t* zap() { return zap_ ? &*zap_ : nullptr; }
  // Curve mode: readable when trusted_dir changed (-1: no watch, or mode none).
  int trust_watch_fd() const { return trust_watch_ ? trust_watch_->fd() : -1; }
  void drain_trust_watch() {
    if (trust_watch_) trust_watch_->drain();
  }
  const Address& self() const { return self_; }
  Logger& log() { return *log_; }
  StopSignals& signals() { return signals_; }

  // Curve mode only (nullptr otherwise): this node's identity and the members it trusts.
  const Credentials* credentials() const { return credentials_ ? &*credentials_ : nullptr; }
  // The keys a DEALER to `to` uses; nullopt when `to` belongs to no trusted key. REQUIRES: curve mode.
  std::optional<net::CurveClient> client_keys(const Address& to) const;

  // Curve mode: re-reads trusted_dir when its contents changed. Logs `trust_reloaded` (or
  // `trust_error`, keeping the old store) and returns the members no longer trusted.
  std::vector<PublicIdentity> reload_trust(std::uint64_t wall_us);
  // Counts the re-reads that changed the trust store.
  std::uint64_t trust_generation() const { return trust_generation_; }
  // Closes and binds the ROUTERs again: the one way libzmq offers to end connections a ROUTER accepted
  // (those of a revoked key). Honest clients reconnect on their own, but what was in flight on their
  // connections is lost. Returns false and logs on failure (the node then cannot go on).
  bool rebind_servers(std::uint64_t wall_us);

  NodeShell() = default;  // for open() only

 private:
  bool bind_servers(std::string* why);

  StopSignals signals_;  // first: blocks the signals before zmq starts its threads
  zmq::context_t context_;
  std::optional<zmq::socket_t> zap_;  // before the ROUTERs: it must exist before their first handshake
  zmq::socket_t inbox_;
  std::optional<zmq::socket_t> control_;
  Address self_;
  Address inbox_at_;                    // what the inbox is bound to (port resolved)
  std::optional<Address> control_at_;
  std::unique_ptr<Logger> log_;
  std::optional<Credentials> credentials_;
  std::filesystem::path trusted_dir_;
  std::unique_ptr<DirectoryWatch> trust_watch_;
  std::string trust_fingerprint_;
  std::uint64_t trust_generation_ = 0;
};

}  // namespace gossip
