#include "seed/seed.hpp"

namespace gossip {

Seed::Seed(Address self, const Config& cfg, std::uint64_t random_seed)
    : self_(std::move(self)), cfg_(cfg), rng_(random_seed), registry_(cfg.seed.max_peers) {
  for (const auto& seed : cfg.node.seeds)
    if (seed != self_ && seed != cfg.node.listen) other_seeds_.insert(seed);
}

void Seed::start(Now now, Effects& out) {
  for (const auto& seed : other_seeds_) out.open(Socket::kSeed, seed);
  // Leases are checked four times per TTL: a peer outlives its lease by at most a quarter of it.
  if (cfg_.seed.peer_ttl.count() != 0) next_expiry_ = now.mono + cfg_.seed.peer_ttl / 4;
}

void Seed::receive(const Arrival& in, Now now, Effects& out) {
  const wire::Message& m = in.message;
  if (in.on != Socket::kInbox) {
    // A seed asks nothing of anyone, so nothing should come back on its DEALERs.
    return log_bad_message(out, in.remote.to_string(), "unexpected_type: " + std::string(wire::type_name(m.body)));
  }
  // Only a forgery names us: a REGISTER in our name would put the seed on its own list.
  if (m.sender == self_) return log_bad_message(out, m.sender.to_string(), "sender_is_self");
  if (std::holds_alternative<wire::Register>(m.body)) {
    on_register(m.sender, now, out);
  } else if (const auto* dead = std::get_if<wire::DeadNode>(&m.body)) {
    on_dead_node(m.sender, *dead, out);
  } else if (std::holds_alternative<wire::Leave>(m.body)) {
    if (registry_.leave(m.sender)) out.log("peer_removed").kv("peer", m.sender).kv("reason", "left");
  } else {
    log_bad_message(out, m.sender.to_string(),
                    "unexpected_type: " + std::string(wire::type_name(m.body)) + " from " + m.sender.to_string());
  }
}

void Seed::on_register(const Address& peer, Now now, Effects& out) {
  const std::string name = peer.to_string();
  auto reg = registry_.register_peer(peer, now.mono, cfg_.seed.peer_list_max, rng_);
  if (reg.outcome == Registry::Outcome::kFull) {
    out.log("register_refused").kv("peer", name).kv("reason", "seed_full");
    return out.send(Socket::kInbox, peer, wire::Error{"seed_full"});
  }
  const bool known = reg.outcome == Registry::Outcome::kKnown;
  out.log(known ? "reregistered" : "registered").kv("peer", name).kv("peers", registry_.size());
  LogEvent sent("peer_list_sent");
  sent.kv("peer", name).kv("count", reg.others.size());
  out.send_logged(Socket::kInbox, peer, wire::PeerList{known, std::move(reg.others)}, std::move(sent));
}

// A peer reports to the seeds it registered with, which need not be all the seeds the dead peer
// registered with. So a seed that removes a peer on a peer's report relays the report, once, to the other
// seeds it is configured with; a relayed report is never relayed again, so there are no loops.
void Seed::on_dead_node(const Address& reporter, const wire::DeadNode& dead, Effects& out) {
  const bool from_seed = other_seeds_.count(reporter) != 0;
  const std::string peer = dead.dead.to_string();
  out.log("dead_report")
      .kv("peer", peer)
      .kv("reporter", reporter)
      .kv("text", wire::dead_node_text(dead.dead, dead.timestamp_us, reporter))
      .kv("relayed", from_seed);
  const auto removal = registry_.report_dead(dead.dead, reporter, from_seed);
  if (!removal.removed) {
    out.log("dead_report_ignored").kv("peer", peer).kv("reason", removal.reason);
    return;
  }
  out.log("peer_removed").kv("peer", peer).kv("reason", "dead_report").kv("reporter", reporter);
  if (from_seed) return;
  for (const auto& seed : other_seeds_) out.send(Socket::kSeed, seed, dead);
}

void Seed::refused(std::string_view from, std::string_view reason, Effects& out) {
  log_bad_message(out, from, reason);
}

void Seed::send_failed(Socket, const Address& to, std::string_view type, Effects& out) {
  out.log("send_failed").kv("to", to).kv("type", type);
}

// A revoked member's addresses leave the list at once: newcomers must not be sent to them.
void Seed::revoked(const std::vector<Address>& addresses, Now, Effects& out) {
  for (const auto& a : addresses)
    if (registry_.leave(a)) out.log("peer_removed").kv("peer", a).kv("reason", "key_revoked");
}

void Seed::tick(Now now, Effects& out) {
  if (next_expiry_ > now.mono) return;
  for (const auto& gone : registry_.expire(now.mono, cfg_.seed.peer_ttl))
    out.log("peer_removed").kv("peer", gone).kv("reason", "expired");
  next_expiry_ = now.mono + cfg_.seed.peer_ttl / 4;
}

TimePoint Seed::next_deadline() const { return next_expiry_; }

void Seed::stop(int signal, Now, Effects& out) {
  out.log("stopped").kv("signal", signal).kv("peers", registry_.size());
}

}  // namespace gossip
