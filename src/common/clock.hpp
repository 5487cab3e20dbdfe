// clock.hpp — the two kinds of time a node uses. Protocol cores take `TimePoint now` as an argument and
// never read a clock themselves, so tests drive them with made-up times.
#pragma once

#include <chrono>
#include <cstdint>

namespace gossip {

// Monotonic time for every timer and deadline (unaffected by wall-clock jumps).
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Wall-clock microseconds since the Unix epoch, for timestamps that travel on the wire and into logs.
inline std::uint64_t wall_micros() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace gossip
