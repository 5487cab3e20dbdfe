// fuzz_wire.cpp — libFuzzer target for the codec: any bytes, as one frame (a version 2 message) or cut
// into several (what a version 1 node or junk would send), must either decode or be refused with a
// reason; never crash, hang or leak. What decodes must re-encode to a frame that decodes to the same
// message (the codec is its own inverse on everything it accepts).
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
  if (size == 0) return 0;
  // The first byte chooses: even, the rest is one frame; odd, the rest is cut into frames.
  std::vector<std::string> frames;
  if (data[0] % 2 == 0)
    frames.emplace_back(reinterpret_cast<const char*>(data + 1), size - 1);
  else
    frames = split(data + 1, size - 1);
  std::vector<std::string_view> views(frames.begin(), frames.end());
  const auto decoded = gossip::wire::decode(views);
  if (decoded.message.has_value() == !decoded.error.empty()) std::abort();  // exactly one of the two
  if (!decoded.message) return 0;
  const auto again = gossip::wire::encode(*decoded.message);
  const auto round = gossip::wire::decode(again);
  if (!round.message || gossip::wire::encode(*round.message) != again) std::abort();
  return 0;
}
