// node_harness.hpp — test helpers for the pure node objects: NodeHarness feeds one Peer or Seed what
// arrives and keeps the effects it returns; Recorder keeps everything a simulated run logged. Helpers for
// tests only: no assertions of their own.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/config.hpp"
#include "common/protocol_node.hpp"
#include "sim/simulator.hpp"

namespace gossip::testing {

using namespace std::chrono_literals;

inline Address seed_at(int i) { return sim::seed_address(i); }
inline Address peer_at(int i) { return sim::peer_address(i); }

// `[node]` with the simulator's seed addresses 1..seeds (built by appending: GCC 12 warns falsely
// on `"literal" + std::string&&`).
inline std::string node_table(int seeds) {
  std::string node = "[node]\nlisten = \"10.9.9.9:7000\"\nseeds = [";
  for (int i = 1; i <= seeds; ++i) {
    if (i > 1) node += ", ";
    node += '"';
    node += seed_at(i).to_string();
    node += '"';
  }
  return node += "]\n";
}

// A node config as a file would give it (preset, then `toml`), read by the real parser.
inline Config make_config(Role role, int seeds, const std::string& toml = "") {
  std::string text = "preset = \"fast\"\n";
  text += toml;
  text += "\n";
  auto parsed = parse_config(text + node_table(seeds), "test.toml", role);  // `toml` must not have a [node] table
  if (auto* err = std::get_if<ConfigError>(&parsed)) throw std::runtime_error(err->to_string());
  return std::get<Config>(parsed);
}

// One node, driven by hand. Every call appends to effects(); clear() forgets them.
class NodeHarness {
 public:
  explicit NodeHarness(ProtocolNode& node) : node_(node) {}

  TimePoint now() const { return now_; }
  std::uint64_t wall_us() const { return 1767225600000000ull + static_cast<std::uint64_t>((now_ - start_) / 1us); }
  void advance(std::chrono::nanoseconds d) { now_ += d; }

  void start() { node_.start(when(), out_); }
  void arrive(Socket on, const Address& remote, wire::Message m) {
    node_.receive(Arrival{on, remote, m}, when(), out_);
  }
  // A request or one-way message from `from` on the inbox.
  void inbox(const Address& from, wire::Body body) { arrive(Socket::kInbox, from, wire::Message{from, std::move(body)}); }
  // An answer from `from` on our DEALER to it.
  void on_link(const Address& from, wire::Body body) { arrive(Socket::kLink, from, wire::Message{from, std::move(body)}); }
  void on_seed(const Address& from, wire::Body body) { arrive(Socket::kSeed, from, wire::Message{from, std::move(body)}); }
  void control(wire::Body body) { arrive(Socket::kControl, Address{"127.0.0.1", 9}, wire::Message{Address{"127.0.0.1", 9}, std::move(body)}); }
  // Runs every timer due up to `t`, as the loop would (each at its deadline).
  void run_timers_until(TimePoint t) {
    for (int guard = 0; guard < 100000 && node_.next_deadline() <= t; ++guard) {
      now_ = std::max(now_, node_.next_deadline());
      node_.tick(when(), out_);
    }
    now_ = std::max(now_, t);
  }
  // One tick at exactly `t` (a loop that wakes late).
  void tick_at(TimePoint t) {
    now_ = t;
    node_.tick(when(), out_);
  }
  void stop(int signal = 15) { node_.stop(signal, when(), out_); }
  void revoked(const std::vector<Address>& addresses) { node_.revoked(addresses, when(), out_); }
  void send_failed(Socket via, const Address& to, std::string_view type) { node_.send_failed(via, to, type, out_); }

  const std::vector<Effect>& effects() const { return out_.list(); }
  void clear() { out_.clear(); }

  // Bodies of type T sent on `via` (to `to`, if given).
  template <class T>
  std::vector<T> sent(Socket via, std::optional<Address> to = std::nullopt) const {
    std::vector<T> found;
    for (const auto& e : out_.list())
      if (const auto* s = std::get_if<Send>(&e))
        if (s->via == via && (!to || s->to == *to))
          if (const auto* b = std::get_if<T>(&s->body)) found.push_back(*b);
    return found;
  }
  // Addresses a Send of type T went to on `via`.
  template <class T>
  std::vector<Address> sent_to(Socket via) const {
    std::vector<Address> found;
    for (const auto& e : out_.list())
      if (const auto* s = std::get_if<Send>(&e))
        if (s->via == via && std::holds_alternative<T>(s->body)) found.push_back(s->to);
    return found;
  }
  std::vector<Forward> forwards() const {
    std::vector<Forward> found;
    for (const auto& e : out_.list())
      if (const auto* f = std::get_if<Forward>(&e)) found.push_back(*f);
    return found;
  }
  std::vector<LogEvent> logs(std::string_view name) const {
    std::vector<LogEvent> found;
    for (const auto& e : out_.list())
      if (const auto* l = std::get_if<LogEvent>(&e); l && l->name() == name) found.push_back(*l);
      else if (const auto* s = std::get_if<Send>(&e); s && s->log_when_sent && s->log_when_sent->name() == name)
        found.push_back(*s->log_when_sent);
    return found;
  }
  bool opened(Socket via, const Address& to) const { return has<Open>(via, to); }
  bool closed(Socket via, const Address& to) const { return has<Close>(via, to); }

 private:
  template <class T>
  bool has(Socket via, const Address& to) const {
    for (const auto& e : out_.list())
      if (const auto* x = std::get_if<T>(&e); x && x->via == via && x->to == to) return true;
    return false;
  }
  Now when() const { return Now{now_, wall_us()}; }

  ProtocolNode& node_;
  const TimePoint start_ = TimePoint(std::chrono::hours(2));
  TimePoint now_ = start_;
  Effects out_;
};

// Everything a simulated run logged, per node.
class Recorder final : public sim::RunListener {
 public:
  struct Line {
    std::string node;
    sim::Duration at;
    LogEvent event;
  };
  void on_event(const sim::SimNode& n, sim::Duration at, std::uint64_t, const LogEvent& e,
                const wire::Message*) override {
    lines_.push_back({n.name, at, e});
  }
  void on_launcher(sim::Duration at, std::uint64_t, const LogEvent& e) override { lines_.push_back({"launcher", at, e}); }

  // Lines of `node` (or of every node, for "") named `event`, optionally with key=value.
  std::vector<Line> find(std::string_view node, std::string_view event, std::string_view key = "",
                         std::string_view value = "") const {
    std::vector<Line> out;
    for (const auto& l : lines_)
      if ((node.empty() || l.node == node) && l.event.name() == event &&
          (key.empty() || l.event.get(key) == std::optional<std::string>(std::string(value))))
        out.push_back(l);
    return out;
  }
  const std::vector<Line>& lines() const { return lines_; }

 private:
  std::vector<Line> lines_;
};

// A small scenario: `seeds` seeds, `peers` peers joining `join_every` apart, the fast preset plus `toml`.
inline sim::Scenario small_scenario(int seeds, int peers, const std::string& toml = "",
                                    sim::Duration join_every = 100ms, sim::Duration duration = 30s) {
  sim::Scenario s;
  s.seeds = seeds;
  s.peers = peers;
  s.join_every = join_every;
  s.duration = duration;
  s.config_toml = "preset = \"fast\"\n";
  s.config_toml += toml;
  for (auto role : {Role::kSeed, Role::kPeer}) {
    auto parsed = parse_config(s.config_toml + "\n" + node_table(seeds), "scenario.toml", role);
    if (auto* err = std::get_if<ConfigError>(&parsed)) throw std::runtime_error(err->to_string());
    (role == Role::kSeed ? s.seed_config : s.peer_config) = std::get<Config>(parsed);
  }
  return s;
}

}  // namespace gossip::testing
