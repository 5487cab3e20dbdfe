#include "seed/seed_node.hpp"

#include <random>

#include "common/clock.hpp"
#include "common/net.hpp"

namespace gossip {

namespace {
constexpr std::size_t kBatch = 1024;  // messages handled per wake-up before checking signals again

}  // namespace

std::unique_ptr<SeedNode> SeedNode::create(const Config& cfg, std::string* why) {
  auto shell = NodeShell::open(cfg, "seed", why);
  if (!shell) return nullptr;
  return std::make_unique<SeedNode>(cfg, std::move(shell));
}

SeedNode::SeedNode(const Config& cfg, std::unique_ptr<NodeShell> shell)
    : cfg_(cfg),
      shell_(std::move(shell)),
      registry_(cfg.seed.max_peers),
      rng_(std::random_device{}()),
      next_expiry_(Clock::now() + cfg.seed.peer_ttl / 4) {
  for (const auto& seed : cfg.node.seeds)
    if (seed != shell_->self() && seed != cfg.node.listen)
      other_seeds_.emplace(seed, net::make_dealer(shell_->context(), seed, shell_->self(), 1000, 0));
}

void SeedNode::reply(const std::string& routing_id, wire::Body body) {
  const auto frames = wire::encode(wire::Message{shell_->self(), std::move(body)});
  if (!net::send(shell_->inbox(), frames, &routing_id))
    shell_->log().event("send_failed").kv("to", routing_id).kv("type", frames[1]);
}

void SeedNode::handle(const net::Incoming& in, const wire::Message& m) {
  const std::string& routing_id = in.routing_id;
  const auto now = Clock::now();
  Logger& log = shell_->log();
  const std::string sender = m.sender.to_string();
  if (std::holds_alternative<wire::Register>(m.body)) {
    auto reg = registry_.register_peer(m.sender, now, wire::kMaxPeerList, rng_);
    if (reg.outcome == Registry::Outcome::kFull) {
      log.event("register_refused").kv("peer", sender).kv("reason", "seed_full");
      reply(routing_id, wire::Error{"seed_full"});
      return;
    }
    const bool known = reg.outcome == Registry::Outcome::kKnown;
    log.event(known ? "reregistered" : "registered").kv("peer", sender).kv("peers", registry_.size());
    const auto count = reg.others.size();
    reply(routing_id, wire::PeerList{known, std::move(reg.others)});
    log.event("peer_list_sent").kv("peer", sender).kv("count", count);
  } else if (const auto* dead = std::get_if<wire::DeadNode>(&m.body)) {
    on_dead_node(m, *dead, now);
  } else if (std::holds_alternative<wire::Leave>(m.body)) {
    if (registry_.leave(m.sender)) log.event("peer_removed").kv("peer", sender).kv("reason", "left");
  } else {
    shell_->bad_message(in.peer_ip(), "unexpected_type: " + std::string(wire::type_name(m.body)) + " from " + sender);
  }
}

// A peer reports to the seeds it registered with, which need not be all the seeds the dead peer
// registered with. So a seed that removes a peer on a peer's report relays the report, once, to the other
// seeds it is configured with; a relayed report is never relayed again.
void SeedNode::on_dead_node(const wire::Message& m, const wire::DeadNode& dead, TimePoint now) {
  Logger& log = shell_->log();
  const bool from_seed = other_seeds_.count(m.sender) != 0;
  const std::string peer = dead.dead.to_string();
  log.event("dead_report")
      .kv("peer", peer)
      .kv("reporter", m.sender.to_string())
      .kv("text", wire::dead_node_text(dead.dead, dead.timestamp_us, m.sender))
      .kv("relayed", from_seed ? "true" : "false");
  const auto removal = registry_.report_dead(dead.dead, m.sender, now, from_seed);
  if (!removal.removed) {
    log.event("dead_report_ignored").kv("peer", peer).kv("reason", removal.reason);
    return;
  }
  log.event("peer_removed").kv("peer", peer).kv("reason", "dead_report").kv("reporter", m.sender.to_string());
  if (!from_seed) relay_to_seeds(dead);
}

void SeedNode::relay_to_seeds(const wire::DeadNode& dead) {
  const auto frames = wire::encode(wire::Message{shell_->self(), dead});
  for (auto& [seed, socket] : other_seeds_)
    if (!net::send(socket, frames)) shell_->log().event("send_failed").kv("to", seed.to_string()).kv("type", "DEAD_NODE");
}

void SeedNode::expire_leases(TimePoint now) {
  for (const auto& gone : registry_.expire(now, cfg_.seed.peer_ttl))
    shell_->log().event("peer_removed").kv("peer", gone.to_string()).kv("reason", "expired");
}

int SeedNode::run() {
  Logger& log = shell_->log();
  while (true) {
    zmq::pollitem_t items[] = {
        {shell_->inbox().handle(), 0, ZMQ_POLLIN, 0},
        {nullptr, shell_->signals().fd(), ZMQ_POLLIN, 0},
    };
    const bool leases = cfg_.seed.peer_ttl.count() != 0;
    const auto wait = leases ? std::chrono::ceil<std::chrono::milliseconds>(
                                   std::max(next_expiry_ - Clock::now(), Clock::duration{0}))
                             : std::chrono::milliseconds(-1);
    log.flush();
    try {
      zmq::poll(items, 2, wait);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      if (const auto sig = shell_->signals().take()) {
        log.event("stopped").kv("signal", *sig).kv("peers", registry_.size());
        return 0;
      }
    }
    for (std::size_t n = 0; n < kBatch; ++n) {
      auto in = net::receive(shell_->inbox(), true, wire::kMaxFrames);
      if (!in) break;
      if (in->truncated) {
        shell_->bad_message(in->peer_ip(), "too_many_frames");
        continue;
      }
      auto decoded = wire::decode(in->views());
      if (!decoded.message) {
        shell_->bad_message(in->peer_ip(), decoded.error);
        continue;
      }
      try {
        handle(*in, *decoded.message);
      } catch (const zmq::error_t& e) {
        log.event("socket_error").kv("during", wire::type_name(decoded.message->body)).kv("error", e.what());
      }
    }
    if (cfg_.seed.peer_ttl.count() != 0 && Clock::now() >= next_expiry_) {
      expire_leases(Clock::now());
      next_expiry_ = Clock::now() + cfg_.seed.peer_ttl / 4;
    }
  }
}

}  // namespace gossip
