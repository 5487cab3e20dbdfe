#include "peer/peer_node.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/net.hpp"
#include "common/overloaded.hpp"

namespace gossip {

namespace {
constexpr std::size_t kBatch = 1024;  // messages per socket per wake-up: no socket starves the others
constexpr int kSeedLingerMs = 0;      // a seed socket is closed when the seed is given up: drop its queue
constexpr int kLinkLingerMs = 200;    // long enough for an UNLINK to leave before the socket closes
constexpr int kLeaveLingerMs = 500;   // on shutdown, time for LEAVE to be delivered

std::string join(const std::vector<Address>& list) {
  std::string s;
  for (const auto& a : list) {
    if (!s.empty()) s += ',';
    s += a.to_string();
  }
  return s;
}


std::string id_hex(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}
}  // namespace

std::unique_ptr<PeerNode> PeerNode::create(const Config& cfg, std::string* why) {
  auto shell = NodeShell::open(cfg, "peer", why);
  if (!shell) return nullptr;
  std::optional<zmq::socket_t> control;
  if (cfg.node.control) {
    Address bound;
    control = net::bind_router(shell->context(), *cfg.node.control, &bound, why);
    if (!control) return nullptr;
    shell->log().event("control_listening").kv("control", bound.to_string());
  }
  return std::make_unique<PeerNode>(cfg, std::move(shell), std::move(control));
}

PeerNode::PeerNode(const Config& cfg, std::unique_ptr<NodeShell> shell, std::optional<zmq::socket_t> control)
    : cfg_(cfg),
      shell_(std::move(shell)),
      control_(std::move(control)),
      rng_(std::random_device{}()),
      membership_(cfg.node.seeds, MembershipTiming{cfg.node.register_timeout, cfg.node.retry_min,
                                                   cfg.node.retry_max, cfg.node.reregister_interval}),
      overlay_(shell_->self(), cfg.overlay),
      gossip_(shell_->self(), cfg.gossip),
      liveness_(cfg.liveness),
      next_stats_(Clock::now() + cfg.gossip.stats_interval) {}

// ---- sockets ---------------------------------------------------------------------------------------

zmq::socket_t& PeerNode::open_link(const Address& peer) {
  auto it = links_.find(peer);
  if (it == links_.end())
    it = links_.emplace(peer, net::make_dealer(shell_->context(), peer, shell_->self(), cfg_.gossip.send_hwm,
                                               kLinkLingerMs))
             .first;
  return it->second;
}

void PeerNode::close_link(const Address& peer) { links_.erase(peer); }

bool PeerNode::send_link(const Address& peer, wire::Body body) {
  const auto it = links_.find(peer);
  if (it == links_.end()) return false;
  return net::send(it->second, wire::encode(wire::Message{shell_->self(), std::move(body)}));
}

void PeerNode::reply(ReplyTo to, wire::Body body) {
  const auto frames = wire::encode(wire::Message{shell_->self(), std::move(body)});
  if (!net::send(*to.socket, frames, to.routing_id))
    shell_->log().event("send_failed").kv("to", *to.routing_id).kv("type", frames[1]);
}

// ---- carrying out what the cores decide -------------------------------------------------------------

void PeerNode::apply(std::vector<Membership::Action> actions) {
  Logger& log = shell_->log();
  for (auto& action : actions) {
    std::visit(Overloaded{
                   [&](Membership::SendRegister& a) {
                     auto it = seeds_.find(a.seed);
                     if (a.fresh || it == seeds_.end()) {
                       seeds_.erase(a.seed);
                       it = seeds_.emplace(a.seed, net::make_dealer(shell_->context(), a.seed, shell_->self(),
                                                                    cfg_.gossip.send_hwm, kSeedLingerMs))
                                .first;
                     }
                     if (net::send(it->second, wire::encode(wire::Message{shell_->self(), wire::Register{}})))
                       log.event("register_sent").kv("seed", a.seed.to_string());
                     else
                       log.event("send_failed").kv("to", a.seed.to_string()).kv("type", "REGISTER");
                   },
                   [&](Membership::SeedTimedOut& a) {
                     seeds_.erase(a.seed);
                     log.event("seed_unreachable")
                         .kv("seed", a.seed.to_string())
                         .kv("timeout_ms", cfg_.node.register_timeout.count())
                         .kv("was_registered", a.was_registered ? "true" : "false");
                   },
                   [&](Membership::SeedRegistered& a) {
                     log.event("seed_registered").kv("seed", a.seed.to_string());
                   },
                   [&](Membership::Joined& a) {
                     log.event("joined")
                         .kv("seeds", join(a.seeds))
                         .kv("peers", join(a.peers))
                         .kv("count", a.peers.size());
                   },
                   [&](Membership::DroppedBySeed& a) {
                     log.event("dropped_by_seed").kv("seed", a.seed.to_string());
                   },
                   [&](Membership::RoundFailed& a) {
                     log.event("register_retry").kv("attempt", a.attempt).kv("delay_ms", a.delay.count());
                   },
               },
               action);
  }
}

void PeerNode::apply(std::vector<Overlay::Action> actions, std::optional<ReplyTo> reply_to) {
  Logger& log = shell_->log();
  const auto now = Clock::now();
  for (auto& action : actions) {
    std::visit(Overloaded{
                   [&](Overlay::RequestLink& a) {
                     open_link(a.to);
                     send_link(a.to, wire::LinkRequest{overlay_.degree()});
                     log.event("link_request").kv("peer", a.to.to_string()).kv("degree", overlay_.degree());
                   },
                   [&](Overlay::AcceptLink& a) {
                     open_link(a.peer);
                     if (reply_to) reply(*reply_to, wire::LinkAccept{});
                   },
                   [&](Overlay::RejectLink& a) {
                     if (reply_to) reply(*reply_to, wire::LinkReject{a.reason});
                     log.event("link_refused").kv("peer", a.peer.to_string()).kv("reason", a.reason);
                   },
                   [&](Overlay::LinkUp& a) {
                     liveness_.add(a.peer, now);
                     gossip_.on_linked(now);
                     log.event("neighbour_up").kv("peer", a.peer.to_string()).kv("degree", overlay_.degree());
                   },
                   [&](Overlay::LinkDown& a) {
                     if (a.unlink_reason) send_link(a.peer, wire::Unlink{*a.unlink_reason, a.suggest});
                     close_link(a.peer);
                     liveness_.remove(a.peer);
                     if (a.was_neighbour) {
                       auto line = log.event("neighbour_down");
                       line.kv("peer", a.peer.to_string()).kv("reason", a.reason).kv("degree", overlay_.degree());
                       if (a.suggest) line.kv("handed_to", a.suggest->to_string());
                     } else {
                       log.event("neighbour_rejected").kv("peer", a.peer.to_string()).kv("reason", a.reason);
                     }
                   },
                   [&](Overlay::WantPeers&) { apply(membership_.refresh(now)); },
               },
               action);
  }
}

void PeerNode::apply(std::vector<Liveness::Action> actions) {
  Logger& log = shell_->log();
  const auto now = Clock::now();
  for (auto& action : actions) {
    std::visit(Overloaded{
                   [&](Liveness::Probe& a) { send_link(a.to, wire::LivenessRequest{wall_micros()}); },
                   [&](Liveness::Missed& a) {
                     log.event("liveness_miss").kv("peer", a.peer.to_string()).kv("misses", a.misses);
                   },
                   [&](Liveness::Stalled& a) {
                     // We were paused: neighbours may have dropped us. Give their NOT_LINKED answers and our
                     // relinking a moment before originating, or the next message would go to stale links.
                     gossip_.postpone(now + cfg_.overlay.link_timeout);
                     log.event("liveness_stalled").kv("late_ms", a.late.count());
                   },
                   [&](Liveness::Dead& a) {
                     log.event("dead_detected").kv("peer", a.peer.to_string()).kv("misses", a.misses);
                     const auto ts = wall_micros();
                     const auto text = wire::dead_node_text(a.peer, ts, shell_->self());
                     for (const auto& seed : membership_.registered_seeds()) {
                       const auto it = seeds_.find(seed);
                       if (it == seeds_.end()) continue;
                       if (!net::send(it->second,
                                      wire::encode(wire::Message{shell_->self(), wire::DeadNode{a.peer, ts}}))) {
                         log.event("send_failed").kv("to", seed.to_string()).kv("type", "DEAD_NODE");
                         continue;
                       }
                       log.event("dead_report_sent").kv("seed", seed.to_string()).kv("peer", a.peer.to_string()).kv("text", text);
                     }
                     apply(overlay_.drop(a.peer, "dead", now));
                   },
               },
               action);
  }
}

// ---- gossip ------------------------------------------------------------------------------------------

void PeerNode::send_to_neighbours(const wire::Gossip& g, const std::optional<Address>& from) {
  const auto targets = forward_targets(overlay_.neighbours(), from, g.origin);
  if (targets.empty()) return;
  const auto frames = wire::encode(wire::Message{shell_->self(), from ? next_hop(g) : g});
  auto& stats = gossip_.stats();
  for (const auto& t : targets) {
    const auto it = links_.find(t);
    if (it != links_.end() && net::send(it->second, frames))
      ++stats.forwarded;
    else
      ++stats.dropped;
  }
}

void PeerNode::originate(const wire::Gossip& g) {
  shell_->log()
      .event("gossip_origin")
      .kv("id", id_hex(message_id(g)))
      .kv("seq", g.seq)
      .kv("msg", g.body)
      .kv("neighbours", overlay_.degree());
  send_to_neighbours(g, std::nullopt);
}

void PeerNode::on_gossip(const Address& from, const wire::Gossip& g, TimePoint now) {
  if (gossip_.on_receive(g, now) != GossipEngine::Verdict::kNew) return;
  shell_->log()
      .event("gossip_recv")
      .kv("from", from.to_string())
      .kv("origin", g.origin.to_string())
      .kv("seq", g.seq)
      .kv("hops", g.hops + 1)
      .kv("created_us", g.created_us)
      .kv("msg", g.body);
  send_to_neighbours(g, from);
}

// ---- what arrives --------------------------------------------------------------------------------------

void PeerNode::on_inbox(const std::string& routing_id, const wire::Message& m) {
  const auto now = Clock::now();
  const Address& from = m.sender;
  ReplyTo back{&shell_->inbox(), &routing_id};
  if (from == shell_->self()) {
    shell_->bad_message(from.to_string(), "sender_is_self");
    return;
  }
  // Our LINK_ACCEPT from `from` travels on another connection than its first GOSSIP or LIVENESS_REQUEST
  // and may arrive after them: a neighbour-only message from a peer we asked is its acceptance.
  if (overlay_.is_pending(from) &&
      (std::holds_alternative<wire::Gossip>(m.body) || std::holds_alternative<wire::LivenessRequest>(m.body)))
    apply(overlay_.on_link_accept(from, now));
  if (overlay_.is_neighbour(from)) liveness_.on_traffic(from);
  std::visit(Overloaded{
                 [&](const wire::LinkRequest& b) { apply(overlay_.on_link_request(from, b.degree, now, rng_), back); },
                 [&](const wire::Gossip& b) {
                   if (!overlay_.is_neighbour(from)) return reply(back, wire::NotLinked{});
                   on_gossip(from, b, now);
                 },
                 [&](const wire::LivenessRequest& b) {
                   if (!overlay_.is_neighbour(from)) return reply(back, wire::NotLinked{});
                   reply(back, wire::LivenessReply{b.timestamp_us, from});
                 },
                 [&](const wire::Unlink& b) { apply(overlay_.on_unlink(from, b.reason, b.suggest, now)); },
                 [&](const wire::Leave&) { apply(overlay_.drop(from, "left", now)); },
                 [&](const auto& other) {
                   shell_->bad_message(from.to_string(), "unexpected_type: " + std::string(wire::type_name(other)));
                 },
             },
             m.body);
}

void PeerNode::on_link_socket(const Address& peer, const wire::Message& m) {
  const auto now = Clock::now();
  if (overlay_.is_neighbour(peer)) liveness_.on_traffic(peer);
  std::visit(Overloaded{
                 [&](const wire::LinkAccept&) { apply(overlay_.on_link_accept(peer, now)); },
                 [&](const wire::LinkReject& b) { apply(overlay_.on_link_reject(peer, b.reason, now)); },
                 [&](const wire::LivenessReply&) {},
                 [&](const wire::NotLinked&) {
                   // It dropped us (perhaps reported us dead while we were paused): drop our side too and
                   // make sure the seeds still list us.
                   apply(overlay_.drop(peer, "dropped_by_peer", now));
                   apply(membership_.refresh(now));
                 },
                 [&](const wire::Error& b) {
                   shell_->log().event("peer_error").kv("peer", peer.to_string()).kv("reason", b.reason);
                 },
                 [&](const auto& other) {
                   shell_->bad_message(peer.to_string(), "unexpected_type: " + std::string(wire::type_name(other)));
                 },
             },
             m.body);
}

void PeerNode::on_seed_socket(const Address& seed, const wire::Message& m) {
  const auto now = Clock::now();
  if (const auto* list = std::get_if<wire::PeerList>(&m.body)) {
    shell_->log()
        .event("peer_list")
        .kv("seed", seed.to_string())
        .kv("status", list->known ? "known" : "new")
        .kv("peers", join(list->peers))
        .kv("count", list->peers.size());
    apply(membership_.on_peer_list(seed, list->known, list->peers, now));
    if (membership_.joined()) overlay_.set_candidates(membership_.known_peers());
  } else if (const auto* err = std::get_if<wire::Error>(&m.body)) {
    shell_->log().event("seed_error").kv("seed", seed.to_string()).kv("reason", err->reason);
  } else {
    shell_->bad_message(seed.to_string(), "unexpected_type: " + std::string(wire::type_name(m.body)));
  }
}

void PeerNode::on_control(const std::string& routing_id, const wire::Message& m) {
  ReplyTo back{&*control_, &routing_id};
  const auto* pub = std::get_if<wire::Publish>(&m.body);
  if (!pub) {
    shell_->bad_message("control", "unexpected_type: " + std::string(wire::type_name(m.body)));
    return reply(back, wire::Error{"unexpected_type"});
  }
  if (pub->payload.size() > cfg_.gossip.max_payload) {
    shell_->log().event("publish_refused").kv("bytes", pub->payload.size()).kv("reason", "payload_too_large");
    return reply(back, wire::Error{"payload_too_large"});
  }
  const auto g = gossip_.publish(pub->payload, Clock::now(), wall_micros());
  originate(g);
  reply(back, wire::Published{g.origin, g.seq});
}

// ---- the loop -------------------------------------------------------------------------------------------

TimePoint PeerNode::next_deadline() const {
  return std::min({membership_.next_deadline(), membership_.joined() ? overlay_.next_deadline() : TimePoint::max(),
                   gossip_.next_deadline(), liveness_.next_deadline(), next_stats_});
}

void PeerNode::tick_due(TimePoint now) {
  if (membership_.next_deadline() <= now) apply(membership_.tick(now, rng_));
  if (membership_.joined() && overlay_.next_deadline() <= now) apply(overlay_.tick(now, rng_));
  // Liveness last among the timers: every message that arrived has been handled by now.
  if (liveness_.next_deadline() <= now) apply(liveness_.tick(now));
  if (gossip_.next_deadline() <= now)
    if (auto g = gossip_.tick(now, wall_micros())) originate(*g);
  if (next_stats_ <= now) {
    next_stats_ = now + cfg_.gossip.stats_interval;
    log_stats("gossip_stats");
  }
}

void PeerNode::log_stats(const char* event) {
  const auto& s = gossip_.stats();
  shell_->log()
      .event(event)
      .kv("originated", s.originated)
      .kv("received", s.received)
      .kv("duplicates", s.duplicates)
      .kv("forwarded", s.forwarded)
      .kv("dropped", s.dropped)
      .kv("seen", gossip_.seen().size())
      .kv("evicted", gossip_.seen().evicted())
      .kv("degree", overlay_.degree());
}

void PeerNode::leave() {
  overlay_.close();
  for (auto& [peer, socket] : links_) {
    socket.set(zmq::sockopt::linger, kLeaveLingerMs);
    if (overlay_.is_neighbour(peer)) net::send(socket, wire::encode(wire::Message{shell_->self(), wire::Leave{}}));
  }
  for (const auto& seed : membership_.registered_seeds()) {
    const auto it = seeds_.find(seed);
    if (it == seeds_.end()) continue;
    it->second.set(zmq::sockopt::linger, kLeaveLingerMs);
    net::send(it->second, wire::encode(wire::Message{shell_->self(), wire::Leave{}}));
  }
}

int PeerNode::run() {
  Logger& log = shell_->log();
  apply(membership_.start(Clock::now(), rng_));
  std::vector<zmq::pollitem_t> items;
  enum class Kind { kInbox, kSignal, kControl, kSeed, kLink };
  std::vector<std::pair<Kind, Address>> owners;
  while (true) {
    items.clear();
    owners.clear();
    items.push_back({shell_->inbox().handle(), 0, ZMQ_POLLIN, 0});
    owners.push_back({Kind::kInbox, {}});
    items.push_back({nullptr, shell_->signals().fd(), ZMQ_POLLIN, 0});
    owners.push_back({Kind::kSignal, {}});
    if (control_) {
      items.push_back({control_->handle(), 0, ZMQ_POLLIN, 0});
      owners.push_back({Kind::kControl, {}});
    }
    for (auto& [seed, socket] : seeds_) {
      items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});
      owners.push_back({Kind::kSeed, seed});
    }
    for (auto& [peer, socket] : links_) {
      items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});
      owners.push_back({Kind::kLink, peer});
    }

    const auto deadline = next_deadline();
    auto now = Clock::now();
    const auto wait = deadline == TimePoint::max()
                          ? std::chrono::milliseconds(-1)
                          : std::chrono::ceil<std::chrono::milliseconds>(std::max(deadline - now, Clock::duration{0}));
    log.flush();
    try {
      zmq::poll(items.data(), items.size(), wait);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }

    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      const auto& [kind, who] = owners[i];
      if (kind == Kind::kSignal) {
        if (const auto sig = shell_->signals().take()) {
          log.event("leaving").kv("signal", *sig).kv("neighbours", overlay_.degree());
          leave();
          log_stats("gossip_stats");
          log.event("stopped").kv("signal", *sig);
          return 0;
        }
        continue;
      }
      // The socket may have been closed by a message handled earlier in this pass.
      zmq::socket_t* socket = kind == Kind::kInbox     ? &shell_->inbox()
                              : kind == Kind::kControl ? &*control_
                              : kind == Kind::kSeed    ? (seeds_.count(who) ? &seeds_.at(who) : nullptr)
                                                       : (links_.count(who) ? &links_.at(who) : nullptr);
      const bool is_router = kind == Kind::kInbox || kind == Kind::kControl;
      for (std::size_t n = 0; socket && n < kBatch; ++n) {
        auto in = net::receive(*socket, is_router, wire::kMaxFrames);
        if (!in) break;
        if (in->truncated) {
          shell_->bad_message(in->peer_ip(), "too_many_frames");
          continue;
        }
        auto decoded = wire::decode(in->views());
        if (!decoded.message) {
          shell_->bad_message(is_router ? in->peer_ip() : who.to_string(), decoded.error);
          continue;
        }
        try {
          switch (kind) {
            case Kind::kInbox: on_inbox(in->routing_id, *decoded.message); break;
            case Kind::kControl: on_control(in->routing_id, *decoded.message); break;
            case Kind::kSeed: on_seed_socket(who, *decoded.message); break;
            case Kind::kLink: on_link_socket(who, *decoded.message); break;
            case Kind::kSignal: break;
          }
        } catch (const zmq::error_t& e) {
          // Out of sockets or file descriptors, say: drop this message, never the node.
          log.event("socket_error").kv("during", wire::type_name(decoded.message->body)).kv("error", e.what());
        }
        // A handler may have closed this very socket.
        if (kind == Kind::kSeed && !seeds_.count(who)) break;
        if (kind == Kind::kLink && !links_.count(who)) break;
      }
    }
    now = Clock::now();
    try {
      tick_due(now);
    } catch (const zmq::error_t& e) {
      log.event("socket_error").kv("during", "timers").kv("error", e.what());
    }
  }
}

}  // namespace gossip
