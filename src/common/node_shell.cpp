#include "common/node_shell.hpp"

#include <unistd.h>

#include "common/clock.hpp"
#include "common/net.hpp"
#include "common/protocol_node.hpp"

namespace gossip {

std::unique_ptr<NodeShell> NodeShell::open(const Config& cfg, std::string_view kind, std::string* why) {
  auto shell = std::make_unique<NodeShell>();
  Address bound;
  auto inbox = net::bind_router(shell->context_, cfg.node.listen, &bound, why);
  if (!inbox) return nullptr;
  shell->inbox_ = std::move(*inbox);
  Address control_bound;
  if (cfg.node.control) {
    shell->control_ = net::bind_router(shell->context_, *cfg.node.control, &control_bound, why);
    if (!shell->control_) return nullptr;
  }
  shell->self_ = cfg.node.advertise.value_or(bound);
  shell->log_ = Logger::open(log_file_for(cfg.node.log_dir, kind, shell->self_), shell->self_.to_string(),
                             cfg.node.console, why);
  if (!shell->log_) return nullptr;
  shell->log_->write(started_event(kind, bound, shell->self_, static_cast<long>(getpid()), cfg.file.string()),
                     wall_micros());
  if (shell->control_) shell->log_->event("control_listening").kv("control", control_bound.to_string());
  return shell;
}

}  // namespace gossip
