// simulator.hpp — a deterministic cluster simulator: real Seed and Peer objects exchange the effects they
// return over a simulated Network, in virtual time. Every random choice comes from the scenario's seed,
// so the same scenario and seed give the same run, event for event. Listeners see what a real run would
// log (the nodes' events, the launcher's) plus the ground truth the checks need.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/protocol_node.hpp"
#include "peer/peer.hpp"
#include "seed/seed.hpp"
#include "sim/network.hpp"
#include "sim/scenario.hpp"

namespace gossip::sim {

// Virtual time t is this monotonic time point (never the epoch: "never" sentinels in the cores use it).
inline TimePoint mono_at(Duration t) { return TimePoint(std::chrono::hours(1)) + t; }

struct SimNode {
  enum class State { kNotStarted, kRunning, kPaused, kDown };
  std::uint32_t index = 0;  // position in Simulator::nodes()
  std::string name;         // "seed-1", "peer-7"
  bool is_seed = false;
  Address address;
  int host = 0;             // 0-based; its name is host_name(host + 1)
  State state = State::kNotStarted;
  int incarnation = 0;      // 1 for the first start, +1 per restart
  Config config;
  std::unique_ptr<ProtocolNode> node;  // set while running or paused
  Peer* peer = nullptr;                // the same object, typed
  Seed* seed = nullptr;

  bool up() const { return state == State::kRunning || state == State::kPaused; }
};

// What a run produces, in virtual-time order.
class RunListener {
 public:
  virtual ~RunListener() = default;
  // A node's log event; `wall_us` is the node's (virtual) wall clock, which stamps the line. `cause` is the
  // message whose handling produced it (nullptr for timers, starts and stops): listeners that need a
  // message's origin and seq read them there instead of parsing the line.
  virtual void on_event(const SimNode&, Duration /*at*/, std::uint64_t /*wall_us*/, const LogEvent&,
                        const wire::Message* /*cause*/) {}
  // A line of the launcher's events.log (node_started, node_signalled, host_isolated, ...).
  virtual void on_launcher(Duration /*at*/, std::uint64_t /*wall_us*/, const LogEvent&) {}
  // A node started, stopped, was paused or resumed, or its host was cut off or restored.
  virtual void on_state(const SimNode&, Duration /*at*/) {}
  // A message that `from` sent to `to` and that will never arrive: lost by the network model, or refused
  // by a full queue.
  virtual void on_lost(const SimNode& /*from*/, const SimNode& /*to*/, const wire::Message&, Duration) {}
};

struct NetworkStats {
  std::uint64_t delivered = 0;       // messages handed to a node
  std::uint64_t gossip_delivered = 0;
  std::uint64_t lost = 0;            // dropped by the loss model
  std::uint64_t refused = 0;         // sends refused by a full queue, a gone requester or a wrong socket
  std::uint64_t no_socket = 0;       // sends on a DEALER that was not open (a bug in the node)
  std::uint64_t dropped = 0;         // lost because the receiver crashed, closed its socket or was gone
  std::uint64_t held_by_partition = 0;
  std::uint64_t events = 0;          // events processed by the simulator
};

class Simulator {
 public:
  // `seed` decides every random choice of the run (the scenario's own seed is the usual one).
  Simulator(Scenario scenario, std::uint64_t seed);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  void add_listener(RunListener& listener) { listeners_.push_back(&listener); }

  // The whole scenario: its timeline up to its duration, then every running node is stopped (SIGTERM).
  void run();
  // Handles every event up to virtual time `t` (for tests); time then reads `t`.
  void run_until(Duration t);
  // Stops every running node as at the end of a run. Nothing runs afterwards.
  void finish();

  Duration now() const { return now_; }
  const Scenario& scenario() const { return scenario_; }
  const std::vector<SimNode>& nodes() const { return nodes_; }
  const SimNode* find(std::string_view name) const;
  const SimNode* find(const Address& address) const;
  Peer* peer(std::string_view name);  // nullptr unless that peer is up
  Seed* seed(std::string_view name);
  const NetworkStats& stats() const { return stats_; }
  const Network& network() const { return network_; }

  // Faults, now (the timeline uses the same). Names are "seed-N" / "peer-N".
  void start(std::string_view name);
  void kill(std::string_view name);
  void pause(std::string_view name);
  void resume(std::string_view name);
  void partition(const std::vector<std::string>& hosts);
  void heal();
  void publish(std::string_view peer, std::string payload);
  // A message from outside the cluster (a stranger, an attacker) arriving at `to` on socket `on`, with
  // `remote` as the far end of a DEALER. Answers to it are kept in outsider_replies().
  void inject(std::string_view to, Socket on, const wire::Message& message);
  const std::vector<wire::Message>& outsider_replies() const { return outsider_replies_; }

 private:
  static constexpr std::uint32_t kOutside = 0xFFFFFFFFu;  // the sender of injected messages

  struct Delivery {
    std::uint32_t to = 0;
    std::uint32_t from = 0;           // node index, or kOutside
    Socket on = Socket::kInbox;       // kInbox: a request from `from`'s DEALER; kSeed/kLink: an answer to `to`'s
    Socket dealer = Socket::kLink;    // requests: the kind of `from`'s DEALER (where the answer goes)
    std::uint32_t socket_gen = 0;     // the DEALER it travels on (from's for requests, to's for answers)
    std::uint32_t to_incarnation = 0;
    std::shared_ptr<const wire::Message> message;
    Network::Channel* channel = nullptr;  // what it is counted against until handled or dropped
    Network::Channel* answers = nullptr;  // requests: the channel an answer to it goes back on
  };
  // Small, because the heap moves it on every push and pop; a delivery's payload waits in slots_.
  struct Event {
    Duration at;
    std::uint64_t order;  // class in the top bits (actions, deliveries, timers), then a counter
    std::uint64_t data;   // kAction: index into actions_; kTimer: the node's timer token; kDelivery: slot
    std::uint32_t node;   // kStart, kTimer
    enum class Kind : std::uint8_t { kAction, kStart, kDelivery, kTimer } kind;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.at != b.at ? a.at > b.at : a.order > b.order; }
  };
  // Where the answer to the message being handled goes.
  struct ReplyPath {
    std::uint32_t to = kOutside;
    Socket dealer = Socket::kInbox;  // the requester's DEALER kind (kSeed/kLink), kInbox for outsiders
    std::uint32_t socket_gen = 0;
    Network::Channel* answers = nullptr;
    bool control = false;  // a control client: answers are kept like an outsider's
  };
  struct Dealer {
    Socket via;
    Address to;
    std::uint32_t gen;     // unique over the run: an answer finds the very DEALER its request left on
    std::uint32_t target;  // node index, or kOutside when nobody listens at `to`
    Network::Channel* requests = nullptr;  // to `target`, and its answers back: looked up once
    Network::Channel* answers = nullptr;
  };
  struct NodeRuntime {
    std::vector<Dealer> dealers;          // its open DEALERs (a handful: linear search beats a map)
    std::deque<Delivery> held;            // arrived while paused
    std::uint64_t timer_token = 0;
    Duration timer_at = Duration::max();
  };

  void push(Duration at, Event::Kind kind, std::uint32_t node, std::uint64_t data, int cls);
  void dispatch(Event& e);
  void do_action(const Action& a);
  std::vector<std::uint32_t> targets(const Action& a);
  void start_node(std::uint32_t i);
  void stop_node(std::uint32_t i, int signal);
  void kill_node(std::uint32_t i);
  void deliver(Delivery d);
  void handle(std::uint32_t i, const Delivery& d);
  void carry_out(std::uint32_t i, const ReplyPath& reply);
  enum class Sent { kOk, kRefused, kNoSocket };
  Sent send(std::uint32_t i, Socket via, const Address& to, std::shared_ptr<const wire::Message> m,
            const ReplyPath& reply);
  void lost(std::uint32_t from, std::uint32_t to, const wire::Message& m);
  void reschedule(std::uint32_t i);
  Dealer* dealer(std::uint32_t i, Socket via, const Address& to);
  bool has_dealer(std::uint32_t i, std::uint32_t gen) const;
  void schedule(Delivery d);
  Now now_for(const SimNode& n) const;
  void launcher(LogEvent e);
  void notify_state(const SimNode& n);
  void release(const Delivery& d);
  std::uint32_t add_peer();

  Scenario scenario_;
  std::uint64_t seed_;
  Network network_;
  std::mt19937_64 rng_;  // the timeline's random choices (which peers, payloads)
  std::vector<SimNode> nodes_;
  std::vector<NodeRuntime> runtime_;
  std::unordered_map<Address, std::uint32_t, AddressHash> by_address_;
  std::vector<RunListener*> listeners_;
  std::vector<Event> queue_;            // a heap ordered by Later
  std::vector<Delivery> slots_;         // payloads of queued deliveries
  std::vector<std::uint32_t> free_slots_;
  std::vector<Delivery> partition_held_;  // crossing a cut: delivered after heal()
  std::vector<Delivery> parked_;          // sent to a node that was not up: delivered when it starts
  std::vector<wire::Message> outsider_replies_;
  Effects effects_;
  struct Failure {
    Socket via;
    Address to;
    std::string_view type;
  };
  std::vector<Failure> failures_;
  std::deque<Action> actions_;  // the timeline, then what undoes its pauses and partitions (stable on push_back)
  Duration now_{0};
  std::uint64_t order_ = 0;
  std::uint32_t next_gen_ = 0;
  int peers_started_ = 0;  // peers named so far (joins append)
  bool finished_ = false;
  NetworkStats stats_;
  const wire::Message* cause_ = nullptr;  // the message being handled, for on_event
};

}  // namespace gossip::sim
