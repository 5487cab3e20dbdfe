#include "peer/gossip.hpp"

#include <charconv>

#include <sodium.h>

#include <stdexcept>

namespace gossip {

namespace {
// Feeds the canonical content (origin NUL seq NUL created NUL body) to `eat` piece by piece, so the id is
// hashed without building the text: this runs for every copy received.
template <typename Eat>
void canonical_pieces(const wire::Gossip& m, Eat&& eat) {
  const std::string_view nul("\0", 1);
  char buf[24];
  auto number = [&](std::uint64_t n) {
    eat(std::string_view(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, n).ptr - buf)));
  };
  const bool v6 = m.origin.is_v6();
  if (v6) eat("[");
  eat(m.origin.ip);
  eat(v6 ? "]:" : ":");
  number(m.origin.port);
  eat(nul);
  number(m.seq);
  eat(nul);
  number(m.created_us);
  eat(nul);
  eat(m.body);
}

std::uint64_t big_endian(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

std::string canonical_content(const wire::Gossip& m) {
  std::string s;
  s.reserve(m.origin.ip.size() + m.body.size() + 56);
  canonical_pieces(m, [&](std::string_view piece) { s += piece; });
  return s;
}

MessageId message_id(const wire::Gossip& m) {
  if (!m.id.empty()) return m.id;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 16);
  canonical_pieces(m, [&](std::string_view piece) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(piece.data()), piece.size());
  });
  unsigned char digest[16];
  crypto_generichash_final(&state, digest, sizeof digest);
  return MessageId{big_endian(digest), big_endian(digest + 8)};
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
    : self_(std::move(self)), cfg_(cfg), seen_(cfg.seen_ttl, cfg.seen_max) {
  // libsodium picks its fastest BLAKE2b once per process; idempotent and thread-safe.
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
}

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

GossipEngine::Verdict GossipEngine::on_receive(const wire::Gossip& m, const MessageId& id, TimePoint now) {
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
