#include "sim/observer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace gossip::sim {

namespace {
constexpr std::size_t kViolationsKept = 200;

double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string at_text(Duration at) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "t=%.3fs", std::chrono::duration<double>(at).count());
  return buf;
}

std::uint64_t pair_key(std::uint32_t a, std::uint32_t b) {
  if (a > b) std::swap(a, b);
  return (static_cast<std::uint64_t>(a) << 32) | b;
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) { return v[static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(v.size())))) - 1]; };
  p.p50 = rank(0.50);
  p.p99 = rank(0.99);
  p.max = v.back();
  return p;
}

std::uint64_t number(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}
}  // namespace

Observer::Observer(const Simulator& sim) : sim_(sim) {
  host_side_.assign(static_cast<std::size_t>(sim.scenario().hosts), 0);
  side_since_.assign(static_cast<std::size_t>(sim.scenario().hosts), Duration{0});
}

std::optional<std::uint32_t> Observer::index_of(std::string_view address) {
  if (const auto it = by_text_.find(address); it != by_text_.end()) return it->second;
  const auto parsed = parse_address(address);
  const SimNode* n = parsed ? sim_.find(*parsed) : nullptr;
  if (!n) return std::nullopt;
  by_text_.emplace(std::string(address), n->index);
  return n->index;
}

std::optional<std::uint64_t> Observer::message_key(std::string_view origin, std::string_view seq) {
  const auto o = index_of(origin);
  if (!o) return std::nullopt;
  return (static_cast<std::uint64_t>(*o) << 40) | (number(seq) & ((1ull << 40) - 1));
}

void Observer::violation(Duration at, std::string what) {
  ++summary_.violation_count;
  if (summary_.violations.size() < kViolationsKept) summary_.violations.push_back(at_text(at) + " " + std::move(what));
}

Duration Observer::lookback(const SimNode& n) const {
  return (n.config.liveness.max_misses + 1) * std::chrono::duration_cast<Duration>(n.config.liveness.interval);
}

// ---- what happens ------------------------------------------------------------------------------------------

void Observer::on_event(const SimNode& node, Duration at, std::uint64_t, const LogEvent& e,
                        const wire::Message* cause) {
  judge_due(at);
  if (nodes_.size() <= node.index) nodes_.resize(sim_.nodes().size());
  NodeFacts& me = nodes_[node.index];
  const auto name = e.name();
  if (name == "gossip_recv") {
    ++summary_.receipts;
    std::optional<std::uint64_t> key;
    if (const auto* g = cause ? std::get_if<wire::Gossip>(&cause->body) : nullptr) {
      // The message that was received, typed: no need to parse the line (the hot path of a big run).
      summary_.max_hops = std::max(summary_.max_hops, g->hops + 1);
      if (const SimNode* o = sim_.find(g->origin)) key = (static_cast<std::uint64_t>(o->index) << 40) | (g->seq & ((1ull << 40) - 1));
    } else {
      std::optional<std::string_view> f[3];
      e.bare({"origin", "seq", "hops"}, f);
      if (f[2]) summary_.max_hops = std::max(summary_.max_hops, number(*f[2]));
      if (f[0] && f[1]) key = message_key(*f[0], *f[1]);
    }
    if (!key) return;
    const auto it = message_ids_.find(*key);
    if (it == message_ids_.end() || it->second < first_pending_) return;  // judged already
    pending_[it->second - first_pending_].receipts.emplace_back(node.index, at);
  } else if (name == "gossip_origin") {
    ++summary_.messages;
    const auto seq = e.bare("seq");
    if (!seq) return;
    MessageFacts m{node.index, number(*seq), at, {}, {}};
    message_ids_[(static_cast<std::uint64_t>(node.index) << 40) | (m.seq & ((1ull << 40) - 1))] = first_pending_ + pending_.size();
    pending_.push_back(std::move(m));
  } else if (name == "neighbour_up") {
    const auto degree = e.bare("degree");
    if (degree && number(*degree) > static_cast<std::uint64_t>(node.config.overlay.max_degree))
      violation(at, node.name + " has " + std::string(*degree) + " neighbours, over max_degree " +
                        std::to_string(node.config.overlay.max_degree));
    const auto peer = e.bare("peer");
    const auto other = peer ? index_of(*peer) : std::nullopt;
    if (!other) return;
    auto& list = me.neighbours;
    if (std::none_of(list.begin(), list.end(), [&](const auto& p) { return p.first == *other; }))
      list.emplace_back(*other, at);
  } else if (name == "neighbour_down") {
    const auto peer = e.bare("peer");
    const auto other = peer ? index_of(*peer) : std::nullopt;
    if (!other) return;
    auto& list = me.neighbours;
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& p) { return p.first == *other; }), list.end());
  } else if (name == "gossip_stats") {
    if (const auto d = e.bare("duplicates")) me.duplicates = number(*d);
  } else if (name == "started") {
    closed_duplicates_ += me.duplicates;
    me.duplicates = 0;
    me.neighbours.clear();
  } else if (name == "dead_detected") {
    const auto peer = e.bare("peer");
    if (const auto dead = peer ? index_of(*peer) : std::nullopt) check_death(node.index, *dead, at);
  } else if (name == "peer_removed") {
    const auto peer = e.bare("peer");
    const auto gone = peer ? index_of(*peer) : std::nullopt;
    if (!gone) return;
    const auto reason = e.bare("reason");
    const SimNode& g = sim_.nodes()[*gone];
    if (reason && *reason == "dead_report" && g.state == SimNode::State::kRunning) ++summary_.evictions;
    if (reason && *reason == "expired") check_expiry(node.index, *gone, at);
    if (nodes_.size() <= *gone) nodes_.resize(sim_.nodes().size());
    NodeFacts& dead = nodes_[*gone];
    if (dead.killed_at) {
      const bool listed = std::any_of(sim_.nodes().begin(), sim_.nodes().end(), [&](const SimNode& s) {
        return s.seed && s.seed->registry().contains(g.address);
      });
      if (!listed) {
        removal_ms_.push_back(to_ms(at - *dead.killed_at));
        dead.killed_at.reset();
      }
    }
  }
}

void Observer::on_launcher(Duration at, std::uint64_t, const LogEvent& e) {
  judge_due(at);
  if (e.name() == "run_stopping") {
    ended_ = true;
    return;
  }
  if (e.name() != "node_signalled" || e.bare("signal") != std::optional<std::string_view>("KILL")) return;
  const auto name = e.get("name");
  const SimNode* n = name ? sim_.find(*name) : nullptr;
  if (!n || n->is_seed) return;
  if (nodes_.size() <= n->index) nodes_.resize(sim_.nodes().size());
  ++summary_.kills;
  nodes_[n->index].killed_at = at;
  nodes_[n->index].detected = false;
}

void Observer::on_state(const SimNode& node, Duration at) {
  judge_due(at);
  if (nodes_.size() <= node.index) nodes_.resize(sim_.nodes().size());
  NodeFacts& me = nodes_[node.index];
  const bool live = node.state == SimNode::State::kRunning;
  const bool was_live = me.state == SimNode::State::kRunning;
  if (live && !was_live) me.live_since = at;
  if (!live) me.live_since = Duration::max();
  if (!node.up()) me.neighbours.clear();  // its links died with it
  me.state = node.state;
  const auto& sides = sim_.network().sides();
  for (std::size_t h = 0; h < sides.size() && h < host_side_.size(); ++h)
    if (sides[h] != host_side_[h]) {
      host_side_[h] = sides[h];
      side_since_[h] = at;
    }
}

void Observer::on_lost(const SimNode& from, const SimNode& to, const wire::Message& m, Duration at) {
  last_loss_[pair_key(from.index, to.index)] = at;
  const auto* g = std::get_if<wire::Gossip>(&m.body);
  if (!g) return;
  const auto origin = index_of(g->origin.to_string());
  if (!origin) return;
  const auto it = message_ids_.find((static_cast<std::uint64_t>(*origin) << 40) | (g->seq & ((1ull << 40) - 1)));
  if (it == message_ids_.end() || it->second < first_pending_) return;
  pending_[it->second - first_pending_].lost.emplace_back(from.index, to.index);
}

// ---- judging -----------------------------------------------------------------------------------------------

bool Observer::stable_link(std::uint32_t a, std::uint32_t b, Duration since) const {
  const auto& list = nodes_[a].neighbours;
  return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.first == b && p.second <= since; });
}

bool Observer::explained(std::uint32_t a, std::uint32_t b, Duration from, Duration to) const {
  const auto& na = sim_.nodes()[a];
  const auto& nb = sim_.nodes()[b];
  if (nodes_[a].live_since > from || nodes_[b].live_since > from) return true;  // paused, restarted or down
  const auto ha = static_cast<std::size_t>(na.host), hb = static_cast<std::size_t>(nb.host);
  if (host_side_[ha] != host_side_[hb] || side_since_[ha] > from || side_since_[hb] > from) return true;  // a cut
  const auto loss = last_loss_.find(pair_key(a, b));
  return loss != last_loss_.end() && loss->second >= from && loss->second <= to;
}

void Observer::check_death(std::uint32_t reporter, std::uint32_t dead, Duration at) {
  if (nodes_.size() <= std::max(reporter, dead)) nodes_.resize(sim_.nodes().size());
  const SimNode& d = sim_.nodes()[dead];
  NodeFacts& facts = nodes_[dead];
  if (!d.up()) {
    if (facts.killed_at && !facts.detected) {
      detection_ms_.push_back(to_ms(at - *facts.killed_at));
      facts.detected = true;
    }
    return;
  }
  const SimNode& r = sim_.nodes()[reporter];
  if (explained(reporter, dead, at - lookback(r), at)) {
    ++summary_.explained_deaths;
    return;
  }
  ++summary_.false_deaths;
  violation(at, r.name + " declared " + d.name + " dead; it ran unpaused and reachable throughout the last " +
                    std::to_string(static_cast<long long>(to_ms(lookback(r)))) + " ms");
}

void Observer::check_expiry(std::uint32_t seed, std::uint32_t peer, Duration at) {
  const SimNode& p = sim_.nodes()[peer];
  const SimNode& s = sim_.nodes()[seed];
  if (p.state != SimNode::State::kRunning || !p.peer || !p.peer->membership().registered_with(s.address)) return;
  if (explained(seed, peer, at - std::chrono::duration_cast<Duration>(s.config.seed.peer_ttl), at)) return;
  violation(at, s.name + " let the lease of " + p.name + " expire; it ran, stayed registered and reachable");
}

void Observer::check_footprints(Duration at) {
  for (const auto& n : sim_.nodes()) {
    if (n.peer) {
      const auto& c = n.config;
      const auto max = static_cast<std::size_t>(c.overlay.max_degree);
      const Peer& p = *n.peer;
      const std::size_t seeds = c.node.seeds.size();
      if (p.overlay().degree() > max || p.overlay().pending_count() > max || p.liveness().watched_count() > max ||
          p.gossip().seen().size() > c.gossip.seen_max ||
          p.overlay().candidate_count() > seeds * wire::kMaxPeerList || p.membership().pending_count() > seeds)
        violation(at, n.name + " holds more state than its config allows: degree " +
                          std::to_string(p.overlay().degree()) + ", pending links " +
                          std::to_string(p.overlay().pending_count()) + ", watched " +
                          std::to_string(p.liveness().watched_count()) + ", seen " +
                          std::to_string(p.gossip().seen().size()) + ", candidates " +
                          std::to_string(p.overlay().candidate_count()));
    } else if (n.seed && n.seed->registry().size() > n.config.seed.max_peers) {
      violation(at, n.name + " lists more peers than seed.max_peers");
    }
  }
}

void Observer::judge_due(Duration now) {
  if (now >= next_footprint_check_) {
    next_footprint_check_ = now + std::chrono::seconds(1);
    check_footprints(now);
  }
  if (ended_) return;
  const Duration grace = sim_.scenario().grace;
  while (!pending_.empty() && pending_.front().t0 + grace < now) {
    judge(pending_.front(), pending_.front().t0 + grace);
    pending_.pop_front();
    ++first_pending_;
  }
}

void Observer::judge(const MessageFacts& m, Duration end) {
  if (nodes_.size() < sim_.nodes().size()) nodes_.resize(sim_.nodes().size());
  auto live_throughout = [&](std::uint32_t i) {
    return nodes_[i].live_since <= m.t0 && nodes_[i].state == SimNode::State::kRunning;
  };
  if (!live_throughout(m.origin)) return;  // it may never have left its origin: owed to nobody
  ++summary_.judged;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> lost = m.lost;
  std::sort(lost.begin(), lost.end());
  const auto& sides = host_side_;
  auto usable = [&](std::uint32_t a, std::uint32_t b) {
    const auto ha = static_cast<std::size_t>(sim_.nodes()[a].host), hb = static_cast<std::size_t>(sim_.nodes()[b].host);
    return sides[ha] == sides[hb] && side_since_[ha] <= m.t0 && side_since_[hb] <= m.t0 && stable_link(b, a, m.t0) &&
           !std::binary_search(lost.begin(), lost.end(), std::pair{a, b});
  };
  // Who the flood must reach: everyone the origin can reach over links that held throughout.
  const auto n = sim_.nodes().size();
  if (reached_.size() < n) {
    reached_.resize(n, 0);
    got_.resize(n, 0);
    got_at_.resize(n);
  }
  ++stamp_;
  std::vector<std::uint32_t>& todo = todo_;
  todo.assign(1, m.origin);
  reached_[m.origin] = stamp_;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const auto x = todo[k];
    for (const auto& [y, since] : nodes_[x].neighbours) {
      if (since > m.t0 || reached_[y] == stamp_ || !live_throughout(y) || !usable(x, y)) continue;
      reached_[y] = stamp_;
      todo.push_back(y);
    }
  }
  for (const auto& [who, t] : m.receipts)
    if (t <= end && got_[who] != stamp_) {
      got_[who] = stamp_;
      got_at_[who] = t;
    }
  Duration slowest{0};
  std::size_t missing = 0;
  for (std::size_t k = 1; k < todo.size(); ++k) {
    const auto who = todo[k];
    ++summary_.expected;
    if (got_[who] != stamp_) {
      if (++missing <= 3)
        violation(end, sim_.nodes()[who].name + " never got message " + std::to_string(m.seq) + " of " +
                           sim_.nodes()[m.origin].name + " (connected to it throughout the grace)");
      continue;
    }
    ++summary_.received;
    slowest = std::max(slowest, got_at_[who] - m.t0);
  }
  if (missing > 3) violation(end, std::to_string(missing - 3) + " more peers missed that message");
  if (missing == 0 && todo.size() > 1) time_to_all_ms_.push_back(to_ms(slowest));
}

const Summary& Observer::finish() {
  judge_due(sim_.now());
  check_footprints(sim_.now());
  summary_.seeds = summary_.peers = 0;
  for (const auto& n : sim_.nodes()) ++(n.is_seed ? summary_.seeds : summary_.peers);
  summary_.duplicates = closed_duplicates_;
  for (const auto& n : nodes_) summary_.duplicates += n.duplicates;
  summary_.time_to_all = percentiles(time_to_all_ms_);
  summary_.detection = percentiles(detection_ms_);
  summary_.removal = percentiles(removal_ms_);
  if (sim_.stats().no_socket > 0)
    violation(sim_.now(), std::to_string(sim_.stats().no_socket) + " sends went to a DEALER that was not open");
  return summary_;
}

}  // namespace gossip::sim
