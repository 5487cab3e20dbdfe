#include "peer/gossip.hpp"

#include <charconv>

namespace gossip {

namespace {
constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

void fnv(std::uint64_t& h, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  // Four bytes per turn of the loop: the same hash, a quarter of the loop's own work.
  for (; n >= 4; n -= 4, p += 4) {
    h = (h ^ p[0]) * kFnvPrime;
    h = (h ^ p[1]) * kFnvPrime;
    h = (h ^ p[2]) * kFnvPrime;
    h = (h ^ p[3]) * kFnvPrime;
  }
  for (; n > 0; --n, ++p) h = (h ^ *p) * kFnvPrime;
}

void fnv_number(std::uint64_t& h, std::uint64_t n) {
  char buf[20];
  const auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  fnv(h, std::string_view(buf, static_cast<std::size_t>(end - buf)));
}
}  // namespace

// Hashes the canonical texts without building them: this runs for every copy received.
std::uint64_t message_id(const wire::Gossip& m) {
  if (m.id != 0) return m.id;
  std::uint64_t h = kFnvOffset;
  const std::string_view sep("\0", 1);
  const bool v6 = m.origin.is_v6();
  if (v6) fnv(h, "[");
  fnv(h, m.origin.ip);
  fnv(h, v6 ? "]:" : ":");
  fnv_number(h, m.origin.port);
  fnv(h, sep);
  fnv_number(h, m.seq);
  fnv(h, sep);
  fnv_number(h, m.created_us);
  fnv(h, sep);
  fnv(h, m.body);
  return h;
}


std::vector<Address> forward_targets(const FlatSet<Address>& neighbours, const std::optional<Address>& from,
                                     const Address& origin) {
  std::vector<Address> out;
  out.reserve(neighbours.size());
  for (const auto& n : neighbours)
    if (n != origin && (!from || n != *from)) out.push_back(n);
  return out;
}

wire::Gossip next_hop(const wire::Gossip& m) {
  wire::Gossip copy = m;
  ++copy.hops;
  return copy;
}

GossipEngine::GossipEngine(Address self, const GossipConfig& cfg)
    : self_(std::move(self)), cfg_(cfg), seen_(cfg.seen_ttl, cfg.seen_max) {}

void GossipEngine::on_linked(TimePoint now) {
  if (!next_origin_) next_origin_ = now + cfg_.start_delay;
}

void GossipEngine::postpone(TimePoint until) {
  if (next_origin_ && *next_origin_ < until) next_origin_ = until;
}

wire::Gossip GossipEngine::make(std::string body, std::uint64_t seq, std::uint64_t wall_us, TimePoint now) {
  wire::Gossip m{self_, seq, wall_us, 0, std::move(body)};
  m.id = message_id(m);
  seen_.insert(m.id, now);  // our own message coming back is a repeat, never "received"
  ++stats_.originated;
  return m;
}

std::optional<wire::Gossip> GossipEngine::tick(TimePoint now, std::uint64_t wall_us) {
  if (!next_origin_ || *next_origin_ > now || done_originating()) return std::nullopt;
  ++auto_sent_;
  // Keep the cadence even if the loop was late; never burst to catch up.
  *next_origin_ += cfg_.interval;
  if (*next_origin_ <= now) *next_origin_ = now + cfg_.interval;
  const auto seq = next_seq_++;
  return make(std::to_string(wall_us) + ":" + self_.to_string() + ":" + std::to_string(seq), seq, wall_us, now);
}

wire::Gossip GossipEngine::publish(std::string payload, TimePoint now, std::uint64_t wall_us) {
  return make(std::move(payload), next_seq_++, wall_us, now);
}

GossipEngine::Verdict GossipEngine::on_receive(const wire::Gossip& m, std::uint64_t id, TimePoint now) {
  if (!seen_.insert(id, now)) {
    ++stats_.duplicates;
    return Verdict::kDuplicate;
  }
  if (m.origin == self_) return Verdict::kOwn;  // expired from our list, yet ours: never log as received
  ++stats_.received;
  return Verdict::kNew;
}

TimePoint GossipEngine::next_deadline() const {
  if (!next_origin_ || done_originating()) return TimePoint::max();
  return *next_origin_;
}

}  // namespace gossip
