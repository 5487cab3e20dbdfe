// log_bench: what one gossip_recv log line costs a peer. It drives the real Logger (src/common/log.*) exactly
// as PeerNode::on_gossip does — same event, same keys, same kinds of values — into a real file, flushing
// every 1024 lines as the poll loop does between batches, and prints nanoseconds per line.
// Not a test; it prints figures (one `result ...` logfmt line for scripts).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"

int main(int argc, char** argv) {
  std::string dir;
  long long lines = 500000;
  std::size_t payload_bytes = 16;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--lines" && i + 1 < argc) {
      lines = std::stoll(argv[++i]);
    } else if (a == "--payload-bytes" && i + 1 < argc) {
      payload_bytes = std::stoull(argv[++i]);
    } else {
      std::cerr << "usage: log_bench --dir DIR [--lines N] [--payload-bytes B]\n"
                   "Writes N (default 500000) gossip_recv lines to DIR/log_bench.log through the node's Logger\n"
                   "and prints the cost per line. Exit status: 0 done, 1 cannot open the file, 2 usage error.\n";
      return 2;
    }
  }
  if (dir.empty() || lines < 1) {
    std::cerr << "log_bench: --dir is required (see --help)\n";
    return 2;
  }
  std::string why;
  auto log = gossip::Logger::open(std::filesystem::path(dir) / "log_bench.log", "127.0.0.1:40000", false, &why);
  if (!log) {
    std::cerr << "log_bench: " << why << "\n";
    return 1;
  }
  const gossip::Address from{"127.0.0.1", 40001}, origin{"127.0.0.1", 40002};
  const std::string body(payload_bytes, 'x');
  using SteadyClock = std::chrono::steady_clock;

  // The timestamp alone (gmtime_r + snprintf per line).
  const auto t0 = SteadyClock::now();
  std::size_t sink = 0;
  for (long long i = 0; i < lines; ++i) sink += gossip::utc_timestamp_now().size();
  const auto t1 = SteadyClock::now();

  for (long long i = 0; i < lines; ++i) {
    log->event("gossip_recv")
        .kv("from", from.to_string())
        .kv("origin", origin.to_string())
        .kv("seq", static_cast<std::uint64_t>(i + 1))
        .kv("hops", std::uint64_t{1})
        .kv("created_us", gossip::wall_micros())
        .kv("msg", body);
    if ((i & 1023) == 1023) log->flush();
  }
  log->flush();
  const auto t2 = SteadyClock::now();
  const double ts_ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(lines);
  const double line_ns = std::chrono::duration<double, std::nano>(t2 - t1).count() / static_cast<double>(lines);
  std::printf("result lines=%lld ns_per_line=%.0f ns_per_timestamp=%.0f lines_per_s=%.0f sink=%zu\n", lines,
              line_ns, ts_ns, 1e9 / line_ns, sink % 10);
  std::printf("one gossip_recv line: %.0f ns (of which the timestamp: %.0f ns); %.0f lines/s on one core\n",
              line_ns, ts_ns, 1e9 / line_ns);
  return 0;
}
