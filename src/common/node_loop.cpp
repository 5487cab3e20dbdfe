#include "common/node_loop.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/net.hpp"
#include "common/overloaded.hpp"
#include "common/zap.hpp"

namespace gossip {

namespace {
constexpr std::size_t kBatch = 1024;  // messages per socket per wake-up: no socket starves the others
constexpr int kSeedLingerMs = 0;      // a seed socket is closed when the seed is given up: drop its queue
constexpr int kLinkLingerMs = 200;    // long enough for an UNLINK to leave before the socket closes
constexpr int kStopLingerMs = 500;    // on stop, time for LEAVE to be delivered

Now now() { return Now{Clock::now(), wall_micros()}; }
}  // namespace

NodeLoop::NodeLoop(NodeShell& shell, ProtocolNode& node, int send_hwm, Millis trust_interval)
    : shell_(shell), node_(node), send_hwm_(send_hwm), trust_interval_(trust_interval) {
  // With a watch on trusted_dir, a change is seen at once and the timer is only a safety net.
  if (shell_.credentials()) {
    if (shell_.trust_watch_fd() >= 0) trust_interval_ *= 10;
    next_trust_check_ = Clock::now() + trust_interval_;
  }
}

zmq::socket_t* NodeLoop::dealer(Socket via, const Address& to) {
  const auto it = dealers_.find({via, to});
  return it == dealers_.end() ? nullptr : &it->second.socket;
}

std::string_view NodeLoop::refusal(std::string_view key, const Address& sender) const {
  // The accepted case first, without building a key string: this runs for every message.
  const auto& trust = shell_.credentials()->trust;
  if (trust.speaks_for(key, sender)) return "";
  return trust.by_curve_key(key) ? "sender_mismatch" : "untrusted_key";  // untrusted: revoked since the handshake
}

void NodeLoop::answer_zap() {
  auto& zap = *shell_.zap();
  for (std::size_t n = 0; n < kBatch; ++n) {
    auto in = net::receive(zap, false, 16);
    if (!in) return;
    const auto d = decide_zap(shell_.credentials()->trust, in->views());
    net::send(zap, d.reply);
    if (d.accepted) {
      authenticated_.insert(d.key);
      continue;
    }
    // An outsider may try thousands of times a second: a line a second, with a count, is enough.
    const auto t = Clock::now();
    if (t < next_zap_log_) {
      ++zap_unlogged_;
      continue;
    }
    next_zap_log_ = t + std::chrono::seconds(1);
    shell_.log()
        .event("connection_refused")
        .kv("ip", d.client_ip)
        .kv("key", d.key.empty() ? "-" : d.key)
        .kv("reason", d.reason)
        .kv("unlogged", zap_unlogged_);
    zap_unlogged_ = 0;
  }
}

void NodeLoop::log_unlogged_refusals() {
  if (zap_unlogged_ == 0) return;
  shell_.log().event("connections_refused").kv("count", zap_unlogged_);
  zap_unlogged_ = 0;
}

bool NodeLoop::check_trust(TimePoint now) {
  next_trust_check_ = now + trust_interval_;
  shell_.drain_trust_watch();
  const auto generation = shell_.trust_generation();
  const auto revoked = shell_.reload_trust(wall_micros());
  if (shell_.trust_generation() != generation) {
    const auto waiting = std::vector<std::pair<Socket, Address>>(awaiting_key_.begin(), awaiting_key_.end());
    for (const auto& [via, to] : waiting) open(via, to);
  }
  if (revoked.empty()) return true;
  bool connected_to_us = false;
  std::vector<Address> addresses;
  for (const auto& member : revoked) {
    connected_to_us = connected_to_us || authenticated_.count(member.curve_public) != 0;
    addresses.insert(addresses.end(), member.addresses.begin(), member.addresses.end());
    for (auto it = dealers_.begin(); it != dealers_.end();) {
      if (it->second.server_key != member.curve_public) {
        ++it;
        continue;
      }
      shell_.log().event("connection_closed").kv("to", it->first.second).kv("reason", "key_revoked");
      awaiting_key_.insert(it->first);  // still wanted by the node, unless it closes it: a new key reopens it
      it = dealers_.erase(it);
    }
  }
  const auto t = Clock::now();
  node_.revoked(addresses, Now{t, wall_micros()}, effects_);
  carry_out({}, wall_micros());
  // Rebinding drops every inbound connection, honest ones too: only when a revoked key has one.
  if (!connected_to_us) return true;
  authenticated_.clear();
  return shell_.rebind_servers(wall_micros());
}

void NodeLoop::open(Socket via, const Address& to) {
  if (dealer(via, to)) return;
  std::optional<net::CurveClient> keys;
  if (shell_.credentials() && !(keys = shell_.client_keys(to))) {
    // Its sends fail and are reported like those to any unreachable node, until a re-read of the trust
    // store brings its key: then it is opened after all (a seed's fellow seeds are opened once, at start,
    // and their keys may land later).
    if (awaiting_key_.insert({via, to}).second)
      shell_.log().event("socket_error").kv("during", "open").kv("to", to).kv("error",
                                                                              "no trusted key speaks for this address");
    return;
  }
  awaiting_key_.erase({via, to});
  try {
    dealers_.emplace(std::pair{via, to}, Dealer{net::make_dealer(shell_.context(), to, send_hwm_,
                                                                 via == Socket::kSeed ? kSeedLingerMs : kLinkLingerMs,
                                                                 keys ? &*keys : nullptr),
                                                keys ? keys->server_key : std::string()});
  } catch (const zmq::error_t& e) {
    // Out of sockets or descriptors: the sends to it fail and are reported as such.
    shell_.log().event("socket_error").kv("during", "open").kv("to", to).kv("error", e.what());
  }
}

bool NodeLoop::send(Socket via, const Address& to, std::string_view frame, ReplyPath reply) {
  if (via == Socket::kInbox || via == Socket::kControl) {
    // An answer goes back on the ROUTER the request came in on, and only there.
    const zmq::socket_t* expected = via == Socket::kInbox ? &shell_.inbox() : shell_.control();
    if (!reply.router || reply.router != expected) return false;
    return net::send(*reply.router, frame, reply.routing_id);
  }
  auto* socket = dealer(via, to);
  return socket && net::send(*socket, frame);
}

void NodeLoop::carry_out(ReplyPath reply, std::uint64_t wall_us) {
  const Address& self = shell_.self();
  do {
    for (auto& effect : effects_.list()) {
      std::visit(Overloaded{
                     [&](Send& s) {
                       const auto type = wire::type_name(s.body);
                       if (!send(s.via, s.to, wire::encode(wire::Message{self, std::move(s.body)}), reply))
                         failures_.push_back({s.via, s.to, std::string(type)});
                       else if (s.log_when_sent)
                         shell_.log().write(*s.log_when_sent, wall_us);
                     },
                     [&](Forward& f) {
                       const auto frame = wire::encode(wire::Message{self, std::move(f.message)});
                       for (const auto& to : f.to)
                         if (!send(Socket::kLink, to, frame, {})) failures_.push_back({Socket::kLink, to, "GOSSIP"});
                     },
                     [&](Open& o) { open(o.via, o.to); },
                     [&](Close& c) {
                       dealers_.erase({c.via, c.to});
                       awaiting_key_.erase({c.via, c.to});
                     },
                     [&](LogEvent& e) { shell_.log().write(e, wall_us); },
                 },
                 effect);
    }
    effects_.clear();
    // Reported after the batch so the node's answers (log lines) are carried out like any other effect.
    for (const auto& f : failures_) node_.send_failed(f.via, f.to, f.type, effects_);
    failures_.clear();
  } while (!effects_.empty());
}

void NodeLoop::read(Socket kind, const Address& who, zmq::socket_t& socket) {
  const bool router = kind == Socket::kInbox || kind == Socket::kControl;
  const std::pair<Socket, Address> key{kind, who};
  for (std::size_t n = 0; n < kBatch; ++n) {
    auto in = net::receive(socket, router, net::kMaxKeptFrames);
    if (!in) break;
    const auto t = now();
    std::string_view during = "input";
    try {
      if (in->frames.empty()) {
        node_.refused(router ? in->peer_ip() : who.to_string(), "bad_signature", effects_);  // a routing id alone
      } else if (auto decoded = wire::decode(in->views()); !decoded.message) {
        node_.refused(router ? in->peer_ip() : who.to_string(), decoded.error, effects_);
      } else if (const auto why = shell_.credentials()
                                      ? refusal(router ? in->user_id() : dealers_.at(key).server_key,
                                                decoded.message->sender)
                                      : std::string_view();
                 !why.empty()) {
        // Never handed to the node: a message in another's name is no sign of anyone's life.
        node_.refused(decoded.message->sender.to_string(), why, effects_);
      } else {
        during = wire::type_name(decoded.message->body);
        node_.receive(Arrival{kind, router ? decoded.message->sender : who, *decoded.message}, t, effects_);
      }
      carry_out(router ? ReplyPath{&socket, &in->routing_id} : ReplyPath{}, t.wall_us);
    } catch (const zmq::error_t& e) {
      effects_.clear();
      failures_.clear();
      shell_.log().event("socket_error").kv("during", during).kv("error", e.what());
    }
    // A handler may have closed (or replaced) this very DEALER.
    if (!router) {
      const auto it = dealers_.find(key);
      if (it == dealers_.end() || &it->second.socket != &socket) break;
    }
  }
}

void NodeLoop::poll(TimePoint deadline) {
  items_.clear();
  owners_.clear();
  items_.push_back({nullptr, shell_.signals().fd(), ZMQ_POLLIN, 0});
  if (shell_.trust_watch_fd() >= 0) items_.push_back({nullptr, shell_.trust_watch_fd(), ZMQ_POLLIN, 0});
  items_.push_back({shell_.inbox().handle(), 0, ZMQ_POLLIN, 0});
  owners_.push_back({Socket::kInbox, {}});
  if (auto* control = shell_.control()) {
    items_.push_back({control->handle(), 0, ZMQ_POLLIN, 0});
    owners_.push_back({Socket::kControl, {}});
  }
  zap_item_ = 0;
  if (auto* zap = shell_.zap()) {
    zap_item_ = items_.size();
    items_.push_back({zap->handle(), 0, ZMQ_POLLIN, 0});
    owners_.push_back({Socket::kInbox, {}});  // a placeholder: zap_item_ says whose it is
  }
  for (auto& [key, d] : dealers_) {
    items_.push_back({d.socket.handle(), 0, ZMQ_POLLIN, 0});
    owners_.push_back(key);
  }
  const auto wait = deadline == TimePoint::max()
                        ? std::chrono::milliseconds(-1)
                        : std::chrono::ceil<std::chrono::milliseconds>(std::max(deadline - Clock::now(), Clock::duration{0}));
  shell_.log().flush();
  try {
    zmq::poll(items_.data(), items_.size(), wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    // Interrupted: nothing is known to be ready; the caller goes on to the timers as after a timeout.
    for (auto& item : items_) item.revents = 0;
  }
}

int NodeLoop::run() {
  {
    const auto t = now();
    node_.start(t, effects_);
    carry_out({}, t.wall_us);
  }
  while (true) {
    const auto unlogged_due = zap_unlogged_ > 0 ? next_zap_log_ : TimePoint::max();
    poll(std::min({node_.next_deadline(), next_trust_check_, unlogged_due}));
    // The end of a flood of refused handshakes is counted too, not only its next refusal.
    if (zap_unlogged_ > 0 && Clock::now() >= next_zap_log_) log_unlogged_refusals();
    const std::size_t first_socket = shell_.trust_watch_fd() >= 0 ? 2 : 1;  // past the signal fd and the watch
    if (first_socket == 2 && (items_[1].revents & ZMQ_POLLIN)) next_trust_check_ = TimePoint{};
    if (items_[0].revents & ZMQ_POLLIN) {
      if (const auto sig = shell_.signals().take()) {
        for (auto& [key, d] : dealers_) d.socket.set(zmq::sockopt::linger, kStopLingerMs);
        const auto t = now();
        log_unlogged_refusals();
        node_.stop(*sig, t, effects_);
        carry_out({}, t.wall_us);
        shell_.log().flush();
        return 0;
      }
    }
    for (std::size_t i = first_socket; i < items_.size(); ++i) {
      if (!(items_[i].revents & ZMQ_POLLIN)) continue;
      if (i == zap_item_) {
        answer_zap();
        continue;
      }
      const auto& [kind, who] = owners_[i - first_socket];
      zmq::socket_t* socket = kind == Socket::kInbox     ? &shell_.inbox()
                              : kind == Socket::kControl ? shell_.control()
                                                         : dealer(kind, who);
      if (socket) read(kind, who, *socket);  // a DEALER may have been closed earlier in this pass
    }
    if (next_trust_check_ <= Clock::now() && !check_trust(Clock::now())) {
      shell_.log().flush();
      return 1;  // no inbox: nothing more can arrive
    }
    // Timers last: every message that had arrived has been handled.
    if (node_.next_deadline() <= Clock::now()) {
      const auto t = now();
      try {
        node_.tick(t, effects_);
        carry_out({}, t.wall_us);
      } catch (const zmq::error_t& e) {
        effects_.clear();
        failures_.clear();
        shell_.log().event("socket_error").kv("during", "timers").kv("error", e.what());
      }
    }
  }
}

}  // namespace gossip
