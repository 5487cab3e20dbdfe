#include "common/node_shell.hpp"

#include <unistd.h>

#include "common/net.hpp"

namespace gossip {

std::filesystem::path log_file_for(const Config& cfg, std::string_view kind, const Address& self) {
  std::string ip = self.ip;
  for (auto& c : ip)
    if (c == ':') c = '_';
  return cfg.node.log_dir / (std::string(kind) + "-" + ip + "-" + std::to_string(self.port) + ".log");
}

std::unique_ptr<NodeShell> NodeShell::open(const Config& cfg, std::string_view kind, std::string* why) {
  auto shell = std::make_unique<NodeShell>();
  Address bound;
  auto inbox = net::bind_router(shell->context_, cfg.node.listen, &bound, why);
  if (!inbox) return nullptr;
  shell->inbox_ = std::move(*inbox);
  shell->self_ = cfg.node.advertise.value_or(bound);
  shell->log_ = Logger::open(log_file_for(cfg, kind, shell->self_), shell->self_.to_string(), cfg.node.console,
                             why);
  if (!shell->log_) return nullptr;
  shell->log_->event("started")
      .kv("role", kind)
      .kv("listen", bound.to_string())
      .kv("advertise", shell->self_.to_string())
      .kv("pid", static_cast<long>(getpid()))
      .kv("config", cfg.file.string())
      .kv("protocol", "GSP1");
  return shell;
}

void NodeShell::bad_message(std::string_view from, std::string_view reason) {
  log_->event("bad_message").kv("from", from).kv("reason", reason);
}

}  // namespace gossip
