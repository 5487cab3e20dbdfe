// sim_bench: the simulator's speed and size figures (docs/PERFORMANCE.md). For each scenario file it runs
// the whole simulation in a child process (so each peak RSS is its own) and prints deliveries per second,
// peers, wall time and peak memory; first it measures the floor, the simulator's own machinery with no node
// in it (the event heap and the network model), in the same run.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "sim/observer.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  unsigned long long deliveries = 0, gossip = 0, events = 0, peers = 0;
  double wall_s = 0, virtual_s = 0, delivery = 0, p99_ms = 0, max_ms = 0;
  int ok = 0;
};

// What the simulator spends per delivery besides the nodes: one latency draw and FIFO check, one push and
// one pop on a heap of 32-byte events as large as a busy run's.
double floor_events_per_second() {
  struct Event {
    gossip::sim::Duration at;
    std::uint64_t order, data;
    std::uint32_t node;
    std::uint8_t kind;
  };
  auto later = [](const Event& a, const Event& b) { return a.at != b.at ? a.at > b.at : a.order > b.order; };
  gossip::sim::NetworkModel model;
  model.latency = {gossip::sim::LatencyModel::Kind::kLognormal, 0.5, 0.5, 0.01};
  gossip::sim::Network net(model, 1, 1);
  std::vector<gossip::sim::Network::Channel*> channels;
  for (std::uint64_t c = 0; c < 4096; ++c) channels.push_back(&net.channel(c));
  std::vector<Event> heap;
  std::uint64_t order = 0;
  gossip::sim::Duration now{0};
  for (int i = 0; i < 20000; ++i) {  // the number in flight in a 1,000-peer flood
    heap.push_back({*net.arrival(*channels[order % 4096], now), order, 0, 0, 0});
    ++order;
    std::push_heap(heap.begin(), heap.end(), later);
  }
  const long long n = 20'000'000;
  const auto t0 = Clock::now();
  std::uint64_t sink = 0;
  for (long long i = 0; i < n; ++i) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Event e = heap.back();
    heap.pop_back();
    now = e.at;
    sink += e.data;
    heap.push_back({*net.arrival(*channels[order % 4096], now), order, sink, 0, 0});
    ++order;
    std::push_heap(heap.begin(), heap.end(), later);
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(n) / s + static_cast<double>(sink % 2) * 1e-9;
}

Result run(const gossip::sim::Scenario& s) {
  Result r;
  const auto t0 = Clock::now();
  gossip::sim::Simulator sim(s, s.seed);
  gossip::sim::Observer observer(sim);
  sim.add_listener(observer);
  sim.run();
  const auto& sum = observer.finish();
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  r.deliveries = sim.stats().delivered;
  r.gossip = sim.stats().gossip_delivered;
  r.events = sim.stats().events;
  r.peers = sum.peers;
  r.virtual_s = std::chrono::duration<double>(s.duration).count();
  r.delivery = sum.delivery();
  r.p99_ms = sum.time_to_all.p99;
  r.max_ms = sum.time_to_all.max;
  r.ok = sum.ok() ? 1 : 0;
  return r;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << "usage: sim_bench SCENARIO.toml...   (bench/sim/*.toml are the shipped ones)\n"
                 "Runs each scenario in its own process and prints deliveries per second on one core, peers,\n"
                 "wall time and peak memory, after the floor: the simulator's event loop with no node in it.\n";
    return argc < 2 ? 2 : 0;
  }
  std::printf("sim_bench: %s, %ld cores online; one simulation uses one core\n", cpu_model().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);
  std::printf("floor: the event heap and network model alone: %.2f M events/s\n", floor_events_per_second() / 1e6);
  std::printf("%-18s %8s %9s %12s %11s %8s %13s %9s %9s %13s %7s\n", "scenario", "peers", "virtual_s", "deliveries",
              "gossip", "wall_s", "deliveries/s", "peak_MiB", "delivery", "to_all_p99_ms", "checks");
  std::fflush(stdout);
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    auto loaded = gossip::sim::load_scenario(argv[i]);
    if (auto* err = std::get_if<gossip::sim::ScenarioError>(&loaded)) {
      std::fprintf(stderr, "sim_bench: %s\n", err->to_string().c_str());
      return 2;
    }
    const auto& s = std::get<gossip::sim::Scenario>(loaded);
    int fds[2];
    if (pipe(fds) != 0) return 2;
    const pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      const Result r = run(s);
      const ssize_t written = write(fds[1], &r, sizeof r);
      _exit(written == static_cast<ssize_t>(sizeof r) ? 0 : 1);
    }
    close(fds[1]);
    Result r;
    const bool got = read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
    close(fds[0]);
    int status = 0;
    rusage usage{};
    wait4(child, &status, 0, &usage);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "sim_bench: %s: the run failed\n", argv[i]);
      ++failures;
      continue;
    }
    std::printf("%-18s %8llu %9.1f %12llu %11llu %8.1f %13.0f %9.0f %9.6f %13.2f %7s\n", s.name.c_str(), r.peers,
                r.virtual_s, r.deliveries, r.gossip, r.wall_s, static_cast<double>(r.deliveries) / r.wall_s,
                static_cast<double>(usage.ru_maxrss) / 1024.0, r.delivery, r.p99_ms, r.ok ? "ok" : "FAILED");
    std::fflush(stdout);
    if (!r.ok) ++failures;
  }
  return failures == 0 ? 0 : 1;
}
