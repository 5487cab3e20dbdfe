// backoff.hpp — the jittered exponential backoff between registration rounds. A pure function so the
// rule is tested directly; the caller supplies the randomness.
#pragma once

#include <algorithm>
#include <chrono>

namespace gossip {

// Delay before retry number `attempt` (1 = first retry): min * 2^(attempt-1), capped at max, then scaled
// by a factor in [0.5, 1.5) taken from `unit_random` in [0, 1). Jitter keeps many peers that started
// before their seeds from retrying in lock-step.
inline std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds min,
                                               std::chrono::milliseconds max, double unit_random) {
  const int doublings = std::clamp(attempt - 1, 0, 30);
  const auto base = std::min<long long>(max.count(), min.count() << std::min(doublings, 20));
  const double factor = 0.5 + std::clamp(unit_random, 0.0, 0.999999);
  return std::chrono::milliseconds(std::max<long long>(1, static_cast<long long>(base * factor)));
}

}  // namespace gossip
