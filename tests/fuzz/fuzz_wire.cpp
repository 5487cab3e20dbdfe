// fuzz_wire.cpp — libFuzzer target for the codec: any bytes, cut into frames, must either decode or be
// refused with a reason; never crash, hang or leak. What decodes must re-encode to frames that decode to
// the same message (the codec is its own inverse on everything it accepts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire.hpp"

namespace {
// Input layout: a sequence of [1-byte length][bytes] records, the last one taking the rest. A length byte
// of 255 means "a 70,000-byte frame of the next byte" so oversized frames are reachable.
std::vector<std::string> split(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> frames;
  std::size_t i = 0;
  while (i < size && frames.size() < 1100) {
    const std::size_t len = data[i++];
    if (len == 255 && i < size) {
      frames.emplace_back(70000, static_cast<char>(data[i++]));
      continue;
    }
    const std::size_t take = len < size - i ? len : size - i;
    frames.emplace_back(reinterpret_cast<const char*>(data + i), take);
    i += take;
  }
  return frames;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto frames = split(data, size);
  std::vector<std::string_view> views(frames.begin(), frames.end());
  const auto decoded = gossip::wire::decode(views);
  if (decoded.message.has_value() == !decoded.error.empty()) std::abort();  // exactly one of the two
  if (!decoded.message) return 0;
  const auto again = gossip::wire::encode(*decoded.message);
  std::vector<std::string_view> again_views(again.begin(), again.end());
  const auto round = gossip::wire::decode(again_views);
  if (!round.message || gossip::wire::encode(*round.message) != again) std::abort();
  return 0;
}
