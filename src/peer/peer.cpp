#include "peer/peer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/overloaded.hpp"

namespace gossip {

namespace {
std::string join(const std::vector<Address>& list) {
  std::string s;
  s.reserve(list.size() * 20);
  for (const auto& a : list) {
    if (!s.empty()) s += ',';
    if (a.is_v6()) s += '[';
    s += a.ip;
    s += a.is_v6() ? "]:" : ":";
    char port[8];
    s.append(port, static_cast<std::size_t>(std::to_chars(port, port + sizeof port, a.port).ptr - port));
  }
  return s;
}

std::string unexpected(const wire::Body& body) { return "unexpected_type: " + std::string(wire::type_name(body)); }
}  // namespace

Peer::Peer(Address self, const Config& cfg, std::uint64_t random_seed, const OriginAuth* auth)
    : self_(std::move(self)),
      cfg_(cfg),
      rng_(random_seed),
      membership_(cfg.node.seeds, MembershipTiming{cfg.node.register_timeout, cfg.node.retry_min,
                                                   cfg.node.retry_max, cfg.node.reregister_interval}),
      overlay_(self_, cfg.overlay),
      gossip_(self_, cfg.gossip),
      liveness_(cfg.liveness),
      auth_(auth) {}

void Peer::start(Now now, Effects& out) {
  next_stats_ = now.mono + cfg_.gossip.stats_interval;
  apply(membership_.start(now.mono, rng_), out);
}

// ---- what arrives --------------------------------------------------------------------------------------

void Peer::receive(const Arrival& in, Now now, Effects& out) {
  switch (in.on) {
    case Socket::kInbox: return on_inbox(in.message, now, out);
    case Socket::kControl: return on_control(in.message, now, out);
    case Socket::kSeed: return on_seed_socket(in.remote, in.message, now, out);
    case Socket::kLink: return on_link_socket(in.remote, in.message, now, out);
  }
}

// Liveness watches exactly our neighbours, so this is a no-op for anyone else.
void Peer::heard_from(const Address& peer) { liveness_.on_traffic(peer); }

// Requests and one-way messages from other peers. Anything else on the inbox is refused, and a refused
// message is no sign of life.
void Peer::on_inbox(const wire::Message& m, Now now, Effects& out) {
  const Address& from = m.sender;
  if (from == self_) return log_bad_message(out, from.to_string(), "sender_is_self");
  // Its LINK_ACCEPT travels on another connection than its first GOSSIP or LIVENESS_REQUEST and may
  // arrive after them: a neighbour-only message from a peer we asked is its acceptance.
  const bool neighbour_only =
      std::holds_alternative<wire::Gossip>(m.body) || std::holds_alternative<wire::LivenessRequest>(m.body);
  if (neighbour_only && !overlay_.is_neighbour(from)) {
    if (overlay_.is_pending(from)) apply(overlay_.on_link_accept(from), now, out);
    if (!overlay_.is_neighbour(from)) return out.send(Socket::kInbox, from, wire::NotLinked{});
  }
  std::visit(Overloaded{
                 [&](const wire::LinkRequest& b) {
                   heard_from(from);
                   apply(overlay_.on_link_request(from, b.degree, now.mono, rng_), now, out);
                 },
                 [&](const wire::Gossip& b) { on_gossip(from, b, now, out); },
                 [&](const wire::LivenessRequest& b) {
                   heard_from(from);
                   out.send(Socket::kInbox, from, wire::LivenessReply{b.timestamp_us, from});
                 },
                 [&](const wire::Unlink& b) { apply(overlay_.on_unlink(from, b.reason, b.suggest, now.mono), now, out); },
                 [&](const wire::Leave&) { apply(overlay_.drop(from, "left", now.mono), now, out); },
                 [&](const auto&) { log_bad_message(out, from.to_string(), unexpected(m.body)); },
             },
             m.body);
}

// Responses from a peer we opened a DEALER to.
void Peer::on_link_socket(const Address& peer, const wire::Message& m, Now now, Effects& out) {
  std::visit(Overloaded{
                 [&](const wire::LinkAccept&) { apply(overlay_.on_link_accept(peer), now, out); },
                 [&](const wire::LinkReject& b) {
                   apply(overlay_.on_link_reject(peer, b.reason, now.mono), now, out);
                 },
                 [&](const wire::LivenessReply&) { heard_from(peer); },
                 [&](const wire::NotLinked&) {
                   // It dropped us (perhaps reported us dead while we were paused): drop our side too and
                   // make sure the seeds still list us.
                   apply(overlay_.drop(peer, "dropped_by_peer", now.mono), now, out);
                   apply(membership_.refresh(now.mono), out);
                 },
                 [&](const wire::Error& b) {
                   heard_from(peer);
                   out.log("peer_error").kv("peer", peer).kv("reason", b.reason);
                 },
                 [&](const auto&) { log_bad_message(out, peer.to_string(), unexpected(m.body)); },
             },
             m.body);
}

// Responses from a seed we registered with.
void Peer::on_seed_socket(const Address& seed, const wire::Message& m, Now now, Effects& out) {
  if (const auto* list = std::get_if<wire::PeerList>(&m.body)) {
    out.log("peer_list")
        .kv("seed", seed)
        .kv("status", list->known ? "known" : "new")
        .kv("peers", join(list->peers))
        .kv("count", list->peers.size());
    apply(membership_.on_peer_list(seed, list->known, list->peers, now.mono, rng_), out);
    // The overlay may hold a partial list before a majority has answered: it seeks no link until then
    // (tick), which is the one place that rule lives.
    overlay_.set_candidates(membership_.known_peers());
  } else if (const auto* err = std::get_if<wire::Error>(&m.body)) {
    out.log("seed_error").kv("seed", seed).kv("reason", err->reason);
  } else {
    log_bad_message(out, seed.to_string(), unexpected(m.body));
  }
}

// PUBLISH from a local control client; every request gets an answer.
void Peer::on_control(const wire::Message& m, Now now, Effects& out) {
  const auto* pub = std::get_if<wire::Publish>(&m.body);
  if (!pub) {
    log_bad_message(out, "control", unexpected(m.body));
    return out.send(Socket::kControl, m.sender, wire::Error{"unexpected_type"});
  }
  if (pub->payload.size() > cfg_.gossip.max_payload) {
    out.log("publish_refused").kv("bytes", pub->payload.size()).kv("reason", "payload_too_large");
    return out.send(Socket::kControl, m.sender, wire::Error{"payload_too_large"});
  }
  const auto g = gossip_.publish(pub->payload, now.mono, now.wall_us);
  originate(g, out);
  out.send(Socket::kControl, m.sender, wire::Published{g.origin, g.seq});
}

void Peer::refused(std::string_view from, std::string_view reason, Effects& out) {
  log_bad_message(out, from, reason);
}

void Peer::send_failed(Socket via, const Address& to, std::string_view type, Effects& out) {
  if (via == Socket::kLink && type == wire::type_name(wire::Gossip{})) {
    // A full or gone neighbour: its copy is dropped, the others go on. Counted, not logged: under load
    // this happens per message.
    auto& stats = gossip_.stats();
    if (stats.forwarded > 0) --stats.forwarded;
    ++stats.dropped;
    return;
  }
  out.log("send_failed").kv("to", to).kv("type", type);
}

// ---- gossip ------------------------------------------------------------------------------------------

void Peer::on_gossip(const Address& from, const wire::Gossip& g, Now now, Effects& out) {
  const auto id = message_id(g);
  // The signature is checked before the Message List sees the id, so a forged copy cannot suppress the
  // genuine one; and once per message, not per copy: a repeat's id was recorded only after its check.
  if (auth_ && !gossip_.seen(id, now.mono)) {
    if (const auto why = auth_->check(g, canonical_content(g)); !why.empty()) {
      ++rejected_;
      out.log("gossip_rejected").kv("from", from).kv("origin", g.origin).kv("seq", g.seq).kv("reason", why);
      return;  // and no sign of life: the neighbour passed on a forgery
    }
  }
  heard_from(from);
  if (gossip_.on_receive(g, id, now.mono) != GossipEngine::Verdict::kNew) return;
  out.log("gossip_recv")
      .kv("from", from)
      .kv("origin", g.origin)
      .kv("seq", g.seq)
      .kv("hops", g.hops + 1)
      .kv("created_us", g.created_us)
      .kv("msg", g.body);
  auto onwards = next_hop(g);
  onwards.id = id;  // its receivers need not hash it again (a copy that reaches them by wire is)
  forward(std::move(onwards), from, out);
}

void Peer::forward(wire::Gossip g, const Address& from, Effects& out) {
  auto targets = forward_targets(overlay_.neighbours(), from, g.origin);
  if (targets.empty()) return;
  gossip_.stats().forwarded += targets.size();  // send_failed() takes back the copies not accepted
  out.forward(std::move(targets), std::move(g));
}

void Peer::originate(wire::Gossip g, Effects& out) {
  if (auth_) g.signature = auth_->sign(canonical_content(g));
  out.log("gossip_origin")
      .kv("id", g.id.hex())
      .kv("seq", g.seq)
      .kv("msg", g.body)
      .kv("neighbours", overlay_.degree());
  forward(std::move(g), self_, out);
}

// ---- carrying out what the cores decide -------------------------------------------------------------

void Peer::apply(std::vector<Membership::Action> actions, Effects& out) {
  for (auto& action : actions) {
    std::visit(Overloaded{
                   [&](Membership::SendRegister& a) {
                     // A fresh socket drops whatever the old one still queued, so a late seed does not
                     // register us twice.
                     if (a.fresh) out.close(Socket::kSeed, a.seed);
                     out.open(Socket::kSeed, a.seed);
                     LogEvent sent("register_sent");
                     sent.kv("seed", a.seed);
                     out.send_logged(Socket::kSeed, a.seed, wire::Register{}, std::move(sent));
                   },
                   [&](Membership::SeedTimedOut& a) {
                     out.close(Socket::kSeed, a.seed);
                     out.log("seed_unreachable")
                         .kv("seed", a.seed)
                         .kv("timeout_ms", cfg_.node.register_timeout.count())
                         .kv("was_registered", a.was_registered);
                   },
                   [&](Membership::SeedRegistered& a) { out.log("seed_registered").kv("seed", a.seed); },
                   [&](Membership::Joined& a) {
                     out.log("joined").kv("seeds", join(a.seeds)).kv("peers", join(a.peers)).kv("count", a.peers.size());
                   },
                   [&](Membership::DroppedBySeed& a) { out.log("dropped_by_seed").kv("seed", a.seed); },
                   [&](Membership::RoundFailed& a) {
                     out.log("register_retry").kv("attempt", a.attempt).kv("delay_ms", a.delay.count());
                   },
               },
               action);
  }
}

void Peer::apply(std::vector<Overlay::Action> actions, Now now, Effects& out) {
  for (auto& action : actions) {
    std::visit(Overloaded{
                   [&](Overlay::RequestLink& a) {
                     out.open(Socket::kLink, a.to);
                     out.send(Socket::kLink, a.to, wire::LinkRequest{overlay_.degree()});
                     out.log("link_request").kv("peer", a.to).kv("degree", overlay_.degree());
                   },
                   [&](Overlay::AcceptLink& a) {
                     out.open(Socket::kLink, a.peer);
                     out.send(Socket::kInbox, a.peer, wire::LinkAccept{});
                   },
                   [&](Overlay::RejectLink& a) {
                     out.send(Socket::kInbox, a.peer, wire::LinkReject{a.reason});
                     out.log("link_refused").kv("peer", a.peer).kv("reason", a.reason);
                   },
                   [&](Overlay::LinkUp& a) {
                     liveness_.add(a.peer, now.mono);
                     gossip_.on_linked(now.mono);
                     out.log("neighbour_up").kv("peer", a.peer).kv("degree", overlay_.degree());
                   },
                   [&](Overlay::LinkDown& a) {
                     if (a.unlink_reason) out.send(Socket::kLink, a.peer, wire::Unlink{*a.unlink_reason, a.suggest});
                     out.close(Socket::kLink, a.peer);
                     liveness_.remove(a.peer);
                     if (!a.was_neighbour) {
                       out.log("link_failed").kv("peer", a.peer).kv("reason", a.reason);
                       return;
                     }
                     auto& line = out.log("neighbour_down");
                     line.kv("peer", a.peer).kv("reason", a.reason).kv("degree", overlay_.degree());
                     if (a.suggest) line.kv("handed_to", *a.suggest);
                   },
                   [&](Overlay::WantPeers&) { apply(membership_.refresh(now.mono), out); },
               },
               action);
  }
}

void Peer::apply(std::vector<Liveness::Action> actions, Now now, Effects& out) {
  for (auto& action : actions) {
    std::visit(Overloaded{
                   [&](Liveness::Probe& a) { out.send(Socket::kLink, a.to, wire::LivenessRequest{now.wall_us}); },
                   [&](Liveness::Missed& a) {
                     out.log("liveness_miss").kv("peer", a.peer).kv("misses", a.misses);
                   },
                   [&](Liveness::Stalled& a) {
                     // We were paused: neighbours may have dropped us. Give their NOT_LINKED answers and our
                     // relinking a moment before originating, or the next message would go to stale links.
                     gossip_.postpone(now.mono + cfg_.overlay.link_timeout);
                     out.log("liveness_stalled").kv("late_ms", a.late.count());
                   },
                   [&](Liveness::Dead& a) { report_dead(a.peer, a.misses, now, out); },
               },
               action);
  }
}

// A dead neighbour goes to every seed we are registered with (the assignment's "Dead Node" message), then
// its link is closed.
void Peer::report_dead(const Address& peer, int misses, Now now, Effects& out) {
  out.log("dead_detected").kv("peer", peer).kv("misses", misses);
  const auto text = wire::dead_node_text(peer, now.wall_us, self_);
  for (const auto& seed : membership_.registered_seeds()) {
    LogEvent sent("dead_report_sent");
    sent.kv("seed", seed).kv("peer", peer).kv("text", text);
    out.send_logged(Socket::kSeed, seed, wire::DeadNode{peer, now.wall_us}, std::move(sent));
  }
  apply(overlay_.drop(peer, "dead", now.mono), now, out);
}

// A revoked member can no longer reach us nor we it: its link is as good as dead, but no one need report
// it (every member's trust store loses it the same way, the seeds' included).
void Peer::revoked(const std::vector<Address>& addresses, Now now, Effects& out) {
  for (const auto& a : addresses) apply(overlay_.drop(a, "key_revoked", now.mono), now, out);
}

// ---- timers and stopping ------------------------------------------------------------------------------

TimePoint Peer::next_deadline() const {
  return std::min({membership_.next_deadline(), membership_.joined() ? overlay_.next_deadline() : TimePoint::max(),
                   gossip_.next_deadline(), liveness_.next_deadline(), next_stats_});
}

void Peer::tick(Now now, Effects& out) {
  const auto t = now.mono;
  if (membership_.next_deadline() <= t) apply(membership_.tick(t, rng_), out);
  // Links are sought only once a majority of seeds has answered: before that the candidates are partial.
  if (membership_.joined() && overlay_.next_deadline() <= t) apply(overlay_.tick(t, rng_), now, out);
  // Liveness before gossip: a neighbour found dead now is dropped before the next message goes out.
  if (liveness_.next_deadline() <= t) apply(liveness_.tick(t), now, out);
  if (gossip_.next_deadline() <= t)
    if (auto g = gossip_.tick(t, now.wall_us)) originate(*g, out);
  if (next_stats_ <= t) {
    next_stats_ = t + cfg_.gossip.stats_interval;
    log_stats(out);
  }
}

void Peer::log_stats(Effects& out) {
  const auto& s = gossip_.stats();
  out.log("gossip_stats")
      .kv("originated", s.originated)
      .kv("received", s.received)
      .kv("duplicates", s.duplicates)
      .kv("forwarded", s.forwarded)
      .kv("dropped", s.dropped)
      .kv("seen", gossip_.seen().size())
      .kv("evicted", gossip_.seen().evicted())
      .kv("degree", overlay_.degree())
      .kv("rejected", rejected_);
}

// LEAVE to every neighbour and every seed we are registered with, so they drop us at once instead of
// waiting for liveness or the lease.
void Peer::stop(int signal, Now, Effects& out) {
  out.log("leaving").kv("signal", signal).kv("neighbours", overlay_.degree());
  overlay_.close();
  for (const auto& n : overlay_.neighbours()) out.send(Socket::kLink, n, wire::Leave{});
  for (const auto& seed : membership_.registered_seeds()) out.send(Socket::kSeed, seed, wire::Leave{});
  log_stats(out);
  out.log("stopped").kv("signal", signal);
}

}  // namespace gossip
