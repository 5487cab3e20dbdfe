#include "common/node_shell.hpp"

#include <unistd.h>

#include "common/clock.hpp"
#include "common/protocol_node.hpp"
#include "common/zap.hpp"

namespace gossip {

bool NodeShell::bind_servers(std::string* why) {
  std::optional<net::CurveServer> curve;
  if (credentials_) curve = net::CurveServer{credentials_->self.curve_secret};
  const auto* server = curve ? &*curve : nullptr;
  auto inbox = net::bind_router(context_, inbox_at_, &inbox_at_, why, server);
  if (!inbox) return false;
  inbox_ = std::move(*inbox);
  if (control_at_) {
    control_ = net::bind_router(context_, *control_at_, &*control_at_, why, server);
    if (!control_) return false;
  }
  return true;
}

std::unique_ptr<NodeShell> NodeShell::open(const Config& cfg, std::string_view kind,
                                           std::optional<Credentials> credentials, std::string* why) {
  auto shell = std::make_unique<NodeShell>();
  shell->credentials_ = std::move(credentials);
  if (shell->credentials_) {
    // libzmq sends every CURVE handshake's client key here and waits for our answer (RFC 27).
    shell->zap_.emplace(shell->context_, zmq::socket_type::rep);
    shell->zap_->set(zmq::sockopt::linger, 0);
    shell->zap_->bind(std::string(kZapEndpoint));
    shell->trusted_dir_ = cfg.security.trusted_dir;
    shell->trust_fingerprint_ = shell->credentials_->trust_fingerprint;
    // Watched before anything else can change it: a key copied in from now on is noticed.
    shell->trust_watch_ = std::make_unique<DirectoryWatch>(shell->trusted_dir_);
  }
  shell->inbox_at_ = cfg.node.listen;
  shell->control_at_ = cfg.node.control;
  if (!shell->bind_servers(why)) return nullptr;
  shell->self_ = cfg.node.advertise.value_or(shell->inbox_at_);
  shell->log_ = Logger::open(log_file_for(cfg.node.log_dir, kind, shell->self_), shell->self_.to_string(),
                             cfg.node.console, why);
  if (!shell->log_) return nullptr;
  auto started = started_event(kind, shell->inbox_at_, shell->self_, static_cast<long>(getpid()), cfg.file.string());
  started.kv("security", shell->credentials_ ? "curve" : "none");
  shell->log_->write(started, wall_micros());
  if (shell->credentials_) {
    shell->log_->event("security")
        .kv("mode", "curve")
        .kv("key", shell->credentials_->self.pub.curve_public)
        .kv("trusted", shell->credentials_->trust.size())
        .kv("sign_origins", cfg.security.sign_origins);
  } else {
    shell->log_->event("security_warning")
        .kv("mode", "none")
        .kv("detail", "anyone who can reach this node can speak in any node's name (docs/SECURITY.md)");
  }
  if (shell->control_) shell->log_->event("control_listening").kv("control", shell->control_at_->to_string());
  return shell;
}

std::optional<net::CurveClient> NodeShell::client_keys(const Address& to) const {
  const auto* owner = credentials_->trust.by_address(to);
  if (!owner) return std::nullopt;
  return net::CurveClient{credentials_->self.pub.curve_public, credentials_->self.curve_secret, owner->curve_public};
}

std::vector<PublicIdentity> NodeShell::reload_trust(std::uint64_t wall_us) {
  if (!credentials_) return {};
  auto print = trusted_dir_fingerprint(trusted_dir_);
  if (print == trust_fingerprint_) return {};
  trust_fingerprint_ = std::move(print);
  auto loaded = TrustStore::load(trusted_dir_);
  if (auto* err = std::get_if<ConfigError>(&loaded)) {
    // Half-copied or conflicting files: keep what we had rather than lock everyone out.
    log_->write(LogEvent("trust_error").kv("error", err->to_string()).kv("kept", credentials_->trust.size()), wall_us);
    return {};
  }
  auto& fresh = std::get<TrustStore>(loaded);
  std::vector<PublicIdentity> revoked;
  for (const auto& key : fresh.revoked_since(credentials_->trust)) revoked.push_back(*credentials_->trust.by_curve_key(key));
  const std::size_t before = credentials_->trust.size();
  credentials_->trust = std::move(fresh);
  ++trust_generation_;
  log_->write(LogEvent("trust_reloaded")
                  .kv("trusted", credentials_->trust.size())
                  .kv("before", before)
                  .kv("revoked", revoked.size()),
              wall_us);
  return revoked;
}

bool NodeShell::rebind_servers(std::uint64_t wall_us) {
  inbox_.close();
  if (control_) control_->close();
  std::string why;
  // The old listeners close in libzmq's I/O thread; their ports are free again within milliseconds.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (bind_servers(&why)) {
      log_->write(LogEvent("servers_rebound").kv("attempts", attempt + 1), wall_us);
      return true;
    }
    if (inbox_.handle() != nullptr) inbox_.close();
    ::usleep(5000);
  }
  log_->write(LogEvent("socket_error").kv("during", "rebind").kv("error", why), wall_us);
  return false;
}

}  // namespace gossip
