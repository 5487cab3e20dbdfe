#include "common/message_id.hpp"

namespace gossip {

std::string MessageId::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(32, '0');
  for (int i = 0; i < 16; ++i) {
    s[static_cast<std::size_t>(i)] = kDigits[(hi >> (60 - 4 * i)) & 0xf];
    s[static_cast<std::size_t>(16 + i)] = kDigits[(lo >> (60 - 4 * i)) & 0xf];
  }
  return s;
}

}  // namespace gossip
