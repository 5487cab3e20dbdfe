#include "sim/simulator.hpp"

#include <algorithm>
#include <csignal>

#include "common/overloaded.hpp"

namespace gossip::sim {

namespace {
constexpr std::uint32_t kAnswerQueue = 1000;  // a ROUTER's per-connection send queue (ZeroMQ's default HWM)
constexpr int kClassAction = 0, kClassDelivery = 1, kClassTimer = 2;  // at one instant: faults, input, timers

// splitmix64: independent, reproducible streams from one seed.
std::uint64_t mix(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (a + 1) + 0xbf58476d1ce4e5b9ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t to_us(Duration d) { return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()); }
}  // namespace

Simulator::Simulator(Scenario scenario, std::uint64_t seed)
    : scenario_(std::move(scenario)), seed_(seed), network_(scenario_.network, scenario_.hosts, mix(seed, 1)),
      rng_(mix(seed, 2)) {
  std::vector<Address> seeds;
  for (int k = 1; k <= scenario_.seeds; ++k) seeds.push_back(seed_address(k));
  for (int k = 1; k <= scenario_.seeds; ++k) {
    SimNode n;
    n.index = static_cast<std::uint32_t>(nodes_.size());
    n.name = node_name(true, k);
    n.is_seed = true;
    n.address = seed_address(k);
    n.host = static_cast<int>(n.index) % scenario_.hosts;
    n.config = scenario_.seed_config;
    n.config.node.listen = n.address;
    n.config.node.seeds = seeds;
    n.config.file = "configs/seed.toml";
    by_address_.emplace(n.address, n.index);
    nodes_.push_back(std::move(n));
    runtime_.emplace_back();
    push(scenario_.seeds_start, Event::Kind::kStart, nodes_.back().index, 0, kClassAction);
  }
  for (int k = 1; k <= scenario_.peers; ++k) {
    push(scenario_.join_start + (k - 1) * scenario_.join_every, Event::Kind::kStart, add_peer(), 0, kClassAction);
  }
  actions_.assign(scenario_.timeline.begin(), scenario_.timeline.end());
  for (std::size_t i = 0; i < actions_.size(); ++i) push(actions_[i].at, Event::Kind::kAction, 0, i, kClassAction);
}

Simulator::~Simulator() = default;

std::uint32_t Simulator::add_peer() {
  SimNode n;
  n.index = static_cast<std::uint32_t>(nodes_.size());
  n.name = node_name(false, ++peers_started_);
  n.address = peer_address(peers_started_);
  n.host = static_cast<int>(n.index) % scenario_.hosts;
  n.config = scenario_.peer_config;
  n.config.node.listen = n.address;
  n.config.file = "configs/peer.toml";
  by_address_.emplace(n.address, n.index);
  nodes_.push_back(std::move(n));
  runtime_.emplace_back();
  return nodes_.back().index;
}

void Simulator::push(Duration at, Event::Kind kind, std::uint32_t node, std::uint64_t data, int cls) {
  queue_.push_back(Event{at, (static_cast<std::uint64_t>(cls) << 60) | order_++, data, node, kind});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

// ---- running -----------------------------------------------------------------------------------------

void Simulator::run() {
  run_until(scenario_.duration);
  finish();
}

void Simulator::run_until(Duration t) {
  while (!queue_.empty() && queue_.front().at <= t && !finished_) {
    std::pop_heap(queue_.begin(), queue_.end(), Later{});
    Event e = queue_.back();
    queue_.pop_back();
    now_ = e.at;
    ++stats_.events;
    dispatch(e);
  }
  now_ = std::max(now_, t);
}

void Simulator::dispatch(Event& e) {
  switch (e.kind) {
    case Event::Kind::kAction: return do_action(actions_[e.data]);
    case Event::Kind::kStart: return start_node(e.node);
    case Event::Kind::kDelivery: {
      Delivery d = std::move(slots_[e.data]);
      free_slots_.push_back(static_cast<std::uint32_t>(e.data));
      return deliver(std::move(d));
    }
    case Event::Kind::kTimer: {
      SimNode& n = nodes_[e.node];
      NodeRuntime& rt = runtime_[e.node];
      if (n.state != SimNode::State::kRunning || e.data != rt.timer_token) return;
      rt.timer_at = Duration::max();
      const Now now = now_for(n);
      if (n.node->next_deadline() <= now.mono) {
        n.node->tick(now, effects_);
        carry_out(e.node, {});
      }
      return reschedule(e.node);
    }
  }
}

void Simulator::finish() {
  if (finished_) return;
  launcher(LogEvent("run_stopping").kv("reason", "duration"));
  for (auto& n : nodes_) {
    if (n.state == SimNode::State::kRunning) stop_node(n.index, SIGTERM);
    else if (n.state == SimNode::State::kPaused) kill_node(n.index);  // as the launcher does after its grace
  }
  launcher(LogEvent("run_stopped").kv("reason", "duration"));
  finished_ = true;
}

Now Simulator::now_for(const SimNode& n) const {
  const auto wall = static_cast<std::int64_t>(scenario_.start_wall_us + to_us(now_)) + network_.clock_offset_us(n.host);
  return Now{mono_at(now_), static_cast<std::uint64_t>(std::max<std::int64_t>(wall, 0))};
}

void Simulator::launcher(LogEvent e) {
  const auto wall = scenario_.start_wall_us + to_us(now_);
  for (auto* l : listeners_) l->on_launcher(now_, wall, e);
}

void Simulator::notify_state(const SimNode& n) {
  for (auto* l : listeners_) l->on_state(n, now_);
}

void Simulator::reschedule(std::uint32_t i) {
  SimNode& n = nodes_[i];
  NodeRuntime& rt = runtime_[i];
  if (n.state != SimNode::State::kRunning) return;
  const TimePoint deadline = n.node->next_deadline();
  if (deadline == TimePoint::max()) {
    rt.timer_at = Duration::max();
    ++rt.timer_token;
    return;
  }
  const Duration at = std::max(std::chrono::duration_cast<Duration>(deadline - mono_at(Duration{0})), now_);
  if (at == rt.timer_at) return;
  rt.timer_at = at;
  push(at, Event::Kind::kTimer, i, ++rt.timer_token, kClassTimer);
}

// ---- the timeline --------------------------------------------------------------------------------------

std::vector<std::uint32_t> Simulator::targets(const Action& a) {
  std::vector<std::uint32_t> out;
  for (const auto& name : a.nodes)
    if (const auto* n = find(name)) out.push_back(n->index);
  if (a.random_peers > 0) {
    std::vector<std::uint32_t> live;
    for (const auto& n : nodes_)
      if (!n.is_seed && n.state == SimNode::State::kRunning &&
          std::find(out.begin(), out.end(), n.index) == out.end())
        live.push_back(n.index);
    std::shuffle(live.begin(), live.end(), rng_);
    live.resize(std::min(live.size(), static_cast<std::size_t>(a.random_peers)));
    std::sort(live.begin(), live.end());
    out.insert(out.end(), live.begin(), live.end());
  }
  return out;
}

void Simulator::do_action(const Action& a) {
  using K = Action::Kind;
  auto undo_later = [&](K kind, std::vector<std::string> nodes) {
    if (a.length.count() == 0) return;
    Action undo;
    undo.kind = kind;
    undo.at = now_ + a.length;
    undo.nodes = std::move(nodes);
    undo.line = a.line;
    actions_.push_back(std::move(undo));
    push(actions_.back().at, Event::Kind::kAction, 0, actions_.size() - 1, kClassAction);
  };
  auto names = [&](const std::vector<std::uint32_t>& idx) {
    std::vector<std::string> out;
    for (auto i : idx) out.push_back(nodes_[i].name);
    return out;
  };
  switch (a.kind) {
    case K::kStart:
      for (auto i : targets(a)) start_node(i);
      break;
    case K::kKill:
      for (auto i : targets(a)) kill(nodes_[i].name);
      break;
    case K::kPause: {
      const auto t = targets(a);
      for (auto i : t) pause(nodes_[i].name);
      undo_later(K::kResume, names(t));
      break;
    }
    case K::kResume:
      for (auto i : targets(a)) resume(nodes_[i].name);
      break;
    case K::kRestart: {
      const auto t = targets(a);
      for (auto i : t) kill(nodes_[i].name);
      const Duration down = a.length.count() ? a.length : std::chrono::seconds(1);
      for (auto i : t) push(now_ + down, Event::Kind::kStart, i, 0, kClassAction);
      break;
    }
    case K::kPartition:
      partition(a.hosts);
      undo_later(K::kHeal, {});
      break;
    case K::kHeal: heal(); break;
    case K::kJoin:
      for (int j = 0; j < a.count; ++j) push(now_ + j * a.every, Event::Kind::kStart, add_peer(), 0, kClassAction);
      break;
    case K::kPublish: {
      // One message now, the next `every` later, each from the named peer or a random live one.
      const auto t = targets(a);
      for (int j = 0; j < a.count; ++j) {
        if (j > 0) {
          Action next = a;
          next.at = now_ + j * a.every;
          next.count = 1;
          next.message = a.message.empty() ? "" : a.message + "-" + std::to_string(j + 1);
          actions_.push_back(std::move(next));
          push(actions_.back().at, Event::Kind::kAction, 0, actions_.size() - 1, kClassAction);
          continue;
        }
        std::vector<std::uint32_t> from = t;
        if (from.empty()) {
          Action any;
          any.random_peers = 1;
          from = targets(any);
        }
        for (auto i : from) publish(nodes_[i].name, a.message.empty() ? nodes_[i].name + "-" + std::to_string(to_us(now_)) : a.message);
      }
      break;
    }
    case K::kLoss: network_.set_loss(a.rate); break;
  }
}

// ---- node lifecycle -------------------------------------------------------------------------------------

const SimNode* Simulator::find(std::string_view name) const {
  for (const auto& n : nodes_)
    if (n.name == name) return &n;
  return nullptr;
}

const SimNode* Simulator::find(const Address& address) const {
  const auto it = by_address_.find(address);
  return it == by_address_.end() ? nullptr : &nodes_[it->second];
}

Peer* Simulator::peer(std::string_view name) {
  const auto* n = find(name);
  return n && n->up() ? nodes_[n->index].peer : nullptr;
}

Seed* Simulator::seed(std::string_view name) {
  const auto* n = find(name);
  return n && n->up() ? nodes_[n->index].seed : nullptr;
}

void Simulator::start(std::string_view name) {
  if (const auto* n = find(name)) start_node(n->index);
}

void Simulator::start_node(std::uint32_t i) {
  SimNode& n = nodes_[i];
  if (n.up() || finished_) return;
  ++n.incarnation;
  const auto node_seed = mix(seed_, 1000 + i, static_cast<std::uint64_t>(n.incarnation));
  if (n.is_seed) {
    auto s = std::make_unique<Seed>(n.address, n.config, node_seed);
    n.seed = s.get();
    n.peer = nullptr;
    n.node = std::move(s);
  } else {
    auto p = std::make_unique<Peer>(n.address, n.config, node_seed);
    n.peer = p.get();
    n.seed = nullptr;
    n.node = std::move(p);
  }
  n.state = SimNode::State::kRunning;
  launcher(LogEvent("node_started")
               .kv("name", n.name)
               .kv("role", n.is_seed ? "seed" : "peer")
               .kv("address", n.address.to_string())
               .kv("host", host_name(n.host + 1))
               .kv("pid", 0));
  const Now now = now_for(n);
  const auto started = started_event(n.is_seed ? "seed" : "peer", n.address, n.address, 0, n.config.file.string());
  for (auto* l : listeners_) l->on_event(n, now_, now.wall_us, started, nullptr);
  notify_state(n);
  n.node->start(now, effects_);
  carry_out(i, {});
  reschedule(i);
  // What was sent to it while it was not up was queued by the senders' DEALERs: it arrives now.
  std::vector<Delivery> mine;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->to == i) {
      mine.push_back(std::move(*it));
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& d : mine) {
    d.to_incarnation = static_cast<std::uint32_t>(n.incarnation);
    schedule(std::move(d));
  }
}

void Simulator::stop_node(std::uint32_t i, int signal) {
  SimNode& n = nodes_[i];
  launcher(LogEvent("node_signalled").kv("name", n.name).kv("address", n.address.to_string()).kv("signal", "TERM").kv("by", "stop"));
  n.node->stop(signal, now_for(n), effects_);
  carry_out(i, {});
  kill_node(i);
}

void Simulator::kill(std::string_view name) {
  const auto* n = find(name);
  if (!n || !n->up()) return;
  launcher(LogEvent("node_signalled").kv("name", n->name).kv("address", n->address.to_string()).kv("signal", "KILL").kv("by", "kill"));
  kill_node(n->index);
}

void Simulator::kill_node(std::uint32_t i) {
  SimNode& n = nodes_[i];
  NodeRuntime& rt = runtime_[i];
  n.state = SimNode::State::kDown;
  n.node.reset();
  n.peer = nullptr;
  n.seed = nullptr;
  for (const auto& d : rt.held) release(d);
  rt.held.clear();
  rt.dealers.clear();
  ++rt.timer_token;
  rt.timer_at = Duration::max();
  // Its DEALERs are gone, and with them what they still queued.
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->from == i) {
      release(*it);
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  notify_state(n);
}

void Simulator::pause(std::string_view name) {
  const auto* n = find(name);
  if (!n || n->state != SimNode::State::kRunning) return;
  launcher(LogEvent("node_signalled").kv("name", n->name).kv("address", n->address.to_string()).kv("signal", "STOP").kv("by", "kill"));
  nodes_[n->index].state = SimNode::State::kPaused;
  notify_state(*n);
}

void Simulator::resume(std::string_view name) {
  const auto* found = find(name);
  if (!found || found->state != SimNode::State::kPaused) return;
  const auto i = found->index;
  launcher(LogEvent("node_signalled").kv("name", found->name).kv("address", found->address.to_string()).kv("signal", "CONT").kv("by", "kill"));
  nodes_[i].state = SimNode::State::kRunning;
  notify_state(nodes_[i]);
  // As a real node does after SIGCONT: everything that arrived first, then the overdue timers.
  auto held = std::move(runtime_[i].held);
  runtime_[i].held.clear();
  for (auto& d : held) {
    if (nodes_[i].state != SimNode::State::kRunning) {
      release(d);
      continue;
    }
    handle(i, d);
  }
  runtime_[i].timer_at = Duration::max();
  reschedule(i);
}

void Simulator::partition(const std::vector<std::string>& hosts) {
  std::vector<int> side;
  for (const auto& h : hosts)
    for (int k = 0; k < scenario_.hosts; ++k)
      if (host_name(k + 1) == h) side.push_back(k);
  network_.partition(side);
  for (const auto& h : hosts) launcher(LogEvent("host_isolated").kv("host", h));
  for (const auto& n : nodes_) notify_state(n);
}

void Simulator::heal() {
  if (!network_.partitioned()) return;
  std::vector<int> was_cut;
  for (int k = 0; k < scenario_.hosts; ++k)
    if (network_.sides()[static_cast<std::size_t>(k)] != 0) was_cut.push_back(k);
  network_.heal();
  for (int k : was_cut) launcher(LogEvent("host_restored").kv("host", host_name(k + 1)));
  for (const auto& n : nodes_) notify_state(n);
  // TCP kept what it could not deliver during the cut; it arrives now, in order per connection.
  auto held = std::move(partition_held_);
  partition_held_.clear();
  for (auto& d : held) schedule(std::move(d));
}

void Simulator::publish(std::string_view name, std::string payload) {
  const auto* n = find(name);
  if (!n || n->state != SimNode::State::kRunning || n->is_seed) return;
  wire::Message m{Address{"127.0.0.1", 9}, wire::Publish{std::move(payload)}};
  Delivery d;
  d.to = n->index;
  d.from = kOutside;
  d.on = Socket::kControl;
  d.to_incarnation = n->incarnation;
  d.message = std::make_shared<const wire::Message>(std::move(m));
  handle(n->index, d);
}

void Simulator::inject(std::string_view name, Socket on, const wire::Message& message) {
  const auto* n = find(name);
  if (!n || n->state != SimNode::State::kRunning) return;
  Delivery d;
  d.to = n->index;
  d.from = kOutside;
  d.on = on;
  d.to_incarnation = n->incarnation;
  d.message = std::make_shared<const wire::Message>(message);
  handle(n->index, d);
}

// ---- messages ---------------------------------------------------------------------------------------------

void Simulator::release(const Delivery& d) {
  if (d.channel) Network::released(*d.channel);
}

// Puts a message that is counted against its channel on the way: it arrives after the network's latency,
// or is lost.
void Simulator::schedule(Delivery d) {
  if (const auto at = network_.arrival(*d.channel, now_)) {
    std::uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(std::move(d));
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
      slots_[slot] = std::move(d);
    }
    push(*at, Event::Kind::kDelivery, 0, slot, kClassDelivery);
    return;
  }
  ++stats_.lost;
  release(d);
  lost(d.from, d.to, *d.message);
}

Simulator::Dealer* Simulator::dealer(std::uint32_t i, Socket via, const Address& to) {
  for (auto& d : runtime_[i].dealers)
    if (d.via == via && d.to.port == to.port && d.to.ip == to.ip) return &d;
  return nullptr;
}

bool Simulator::has_dealer(std::uint32_t i, std::uint32_t gen) const {
  for (const auto& d : runtime_[i].dealers)
    if (d.gen == gen) return true;
  return false;
}

void Simulator::deliver(Delivery d) {
  SimNode& n = nodes_[d.to];
  const bool answer = d.on != Socket::kInbox;
  // Sent to an incarnation that has crashed since, or on a DEALER that is closed now: the connection is gone.
  const bool gone = !n.up() || d.to_incarnation != static_cast<std::uint32_t>(n.incarnation);
  const bool closed = !gone && answer && !has_dealer(d.to, d.socket_gen);
  if (gone || closed) {
    release(d);
    ++stats_.dropped;
    return;
  }
  if (network_.cut(nodes_[d.from].host, n.host)) {
    ++stats_.held_by_partition;
    partition_held_.push_back(std::move(d));
    return;
  }
  if (n.state == SimNode::State::kPaused) {
    runtime_[d.to].held.push_back(std::move(d));
    return;
  }
  handle(d.to, d);
}

void Simulator::handle(std::uint32_t i, const Delivery& d) {
  SimNode& n = nodes_[i];
  release(d);
  ++stats_.delivered;
  if (std::holds_alternative<wire::Gossip>(d.message->body)) ++stats_.gossip_delivered;
  const Address& remote = d.on == Socket::kInbox || d.on == Socket::kControl || d.from == kOutside
                              ? d.message->sender
                              : nodes_[d.from].address;
  ReplyPath reply;
  if (d.on == Socket::kInbox || d.on == Socket::kControl) {
    reply.to = d.from;
    reply.dealer = d.dealer;
    reply.socket_gen = d.socket_gen;
    reply.answers = d.answers;
    reply.control = d.on == Socket::kControl;
  }
  n.node->receive(Arrival{d.on, remote, *d.message}, now_for(n), effects_);
  cause_ = d.message.get();
  carry_out(i, reply);
  cause_ = nullptr;
  reschedule(i);
}

void Simulator::lost(std::uint32_t from, std::uint32_t to, const wire::Message& m) {
  for (auto* l : listeners_) l->on_lost(nodes_[from], nodes_[to], m, now_);
}

Simulator::Sent Simulator::send(std::uint32_t i, Socket via, const Address& to, std::shared_ptr<const wire::Message> m,
                                const ReplyPath& reply) {
  if (via == Socket::kInbox || via == Socket::kControl) {
    if ((via == Socket::kControl) != reply.control) return Sent::kRefused;  // only where the request came in
    if (reply.to == kOutside) {
      outsider_replies_.push_back(*m);
      return Sent::kOk;
    }
    // ROUTER_MANDATORY: an answer to a requester whose connection is gone fails at once.
    const SimNode& r = nodes_[reply.to];
    if (!r.up() || !has_dealer(reply.to, reply.socket_gen)) return Sent::kRefused;
    auto& channel = reply.answers ? *reply.answers : network_.channel(channel_id(i, reply.to, true));
    if (!Network::has_room(channel, kAnswerQueue)) {
      lost(i, reply.to, *m);
      return Sent::kRefused;
    }
    Network::queued(channel);
    schedule(Delivery{reply.to, i, reply.dealer, reply.dealer, reply.socket_gen,
                      static_cast<std::uint32_t>(r.incarnation), std::move(m), &channel});
    return Sent::kOk;
  }
  const Dealer* socket = dealer(i, via, to);
  if (!socket) return Sent::kNoSocket;
  if (socket->target == kOutside) return Sent::kOk;  // nobody listens there: the DEALER queues it forever
  const std::uint32_t t = socket->target;
  auto& channel = *socket->requests;
  if (!Network::has_room(channel, static_cast<std::uint32_t>(nodes_[i].config.gossip.send_hwm))) {
    lost(i, t, *m);
    return Sent::kRefused;
  }
  Network::queued(channel);
  Delivery d{t, i, Socket::kInbox, via, socket->gen, static_cast<std::uint32_t>(nodes_[t].incarnation), std::move(m), &channel,
             socket->answers};
  if (!nodes_[t].up()) {
    parked_.push_back(std::move(d));  // its DEALER queues it until the node (re)starts
    return Sent::kOk;
  }
  schedule(std::move(d));
  return Sent::kOk;
}

void Simulator::carry_out(std::uint32_t i, const ReplyPath& reply) {
  SimNode& n = nodes_[i];
  const Address self = n.address;
  do {
    const Now now = now_for(n);
    for (auto& effect : effects_.list()) {
      std::visit(Overloaded{
                     [&](Send& s) {
                       const auto type = wire::type_name(s.body);
                       auto m = std::make_shared<const wire::Message>(wire::Message{self, std::move(s.body)});
                       const auto sent = send(i, s.via, s.to, std::move(m), reply);
                       if (sent != Sent::kOk) {
                         ++(sent == Sent::kNoSocket ? stats_.no_socket : stats_.refused);
                         failures_.push_back({s.via, s.to, type});
                       } else if (s.log_when_sent) {
                         for (auto* l : listeners_) l->on_event(n, now_, now.wall_us, *s.log_when_sent, cause_);
                       }
                     },
                     [&](Forward& f) {
                       auto m = std::make_shared<const wire::Message>(wire::Message{self, std::move(f.message)});
                       for (const auto& to : f.to) {
                         const auto sent = send(i, Socket::kLink, to, m, {});
                         if (sent == Sent::kOk) continue;
                         ++(sent == Sent::kNoSocket ? stats_.no_socket : stats_.refused);
                         failures_.push_back({Socket::kLink, to, "GOSSIP"});
                       }
                     },
                     [&](Open& o) {
                       if (dealer(i, o.via, o.to)) return;
                       const auto found = by_address_.find(o.to);
                       Dealer d{o.via, o.to, ++next_gen_, found == by_address_.end() ? kOutside : found->second};
                       if (d.target != kOutside) {
                         d.requests = &network_.channel(channel_id(i, d.target, false));
                         d.answers = &network_.channel(channel_id(d.target, i, true));
                       }
                       runtime_[i].dealers.push_back(std::move(d));
                     },
                     [&](Close& c) {
                       Dealer* d = dealer(i, c.via, c.to);
                       if (!d) return;
                       const auto gen = d->gen;
                       auto& dealers = runtime_[i].dealers;
                       dealers.erase(dealers.begin() + (d - dealers.data()));
                       // What that DEALER still queued for a node that is not up goes with it.
                       for (auto p = parked_.begin(); p != parked_.end();) {
                         if (p->from == i && p->socket_gen == gen) {
                           release(*p);
                           p = parked_.erase(p);
                         } else {
                           ++p;
                         }
                       }
                     },
                     [&](LogEvent& e) {
                       for (auto* l : listeners_) l->on_event(n, now_, now.wall_us, e, cause_);
                     },
                 },
                 effect);
    }
    effects_.clear();
    auto failures = std::move(failures_);
    failures_.clear();
    if (n.node)
      for (const auto& f : failures) n.node->send_failed(f.via, f.to, f.type, effects_);
  } while (!effects_.empty());
}

}  // namespace gossip::sim
