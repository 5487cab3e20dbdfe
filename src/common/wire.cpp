#include "common/wire.hpp"

#include <charconv>

#include "common/overloaded.hpp"

namespace gossip::wire {
namespace {

constexpr std::size_t kMaxNumberDigits = 20;
constexpr std::size_t kMaxTokenBytes = 64;

// Each type's name and exact field count (after signature, type and sender); -1 means variable.
struct TypeInfo {
  std::string_view name;
  int fields;
};
constexpr TypeInfo kTypes[] = {
    {"REGISTER", 0},        {"PEER_LIST", -1},    {"DEAD_NODE", 2},        {"LEAVE", 0},
    {"LINK_REQUEST", 1},    {"LINK_ACCEPT", 0},   {"LINK_REJECT", 1},      {"UNLINK", 2},
    {"GOSSIP", 6},          {"LIVENESS_REQUEST", 1}, {"LIVENESS_REPLY", 2}, {"NOT_LINKED", 0},
    {"PUBLISH", 1},         {"PUBLISHED", 2},     {"ERROR", 1},
};
static_assert(std::size(kTypes) == std::variant_size_v<Body>);

std::string number(std::uint64_t n) { return std::to_string(n); }

bool parse_number(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > kMaxNumberDigits) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool is_token(std::string_view s) {
  if (s.empty() || s.size() > kMaxTokenBytes) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// Field reader that records the first problem and keeps going harmlessly.
class Fields {
 public:
  explicit Fields(const std::vector<std::string_view>& frames) : frames_(frames) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  Address address(std::size_t i, const char* what) {
    std::string why;
    if (auto a = parse_address(frames_[i], &why)) return *a;
    fail("bad_address", what, why);
    return {};
  }
  std::uint64_t num(std::size_t i, const char* what) {
    std::uint64_t n = 0;
    if (!parse_number(frames_[i], n)) fail("bad_number", what, "not a decimal number of 1-20 digits");
    return n;
  }
  std::string token(std::size_t i, const char* what) {
    if (!is_token(frames_[i])) fail("bad_field", what, "not a token [a-z0-9_]{1,64}");
    return std::string(frames_[i]);
  }
  std::string bytes(std::size_t i) const { return std::string(frames_[i]); }

 private:
  void fail(const char* reason, const char* what, const std::string& why) {
    if (error_.empty()) error_ = std::string(reason) + ": " + what + ": " + why;
  }
  const std::vector<std::string_view>& frames_;
  std::string error_;
};

}  // namespace

std::string_view type_name(const Body& body) { return kTypes[body.index()].name; }

std::vector<std::string> encode(const Message& m) {
  std::vector<std::string> f;
  f.reserve(8);
  f.emplace_back(kSignature);
  f.emplace_back(type_name(m.body));
  f.push_back(m.sender.to_string());
  std::visit(Overloaded{
                 [](const Register&) {},
                 [&](const PeerList& b) {
                   f.emplace_back(b.known ? "known" : "new");
                   for (const auto& p : b.peers) f.push_back(p.to_string());
                 },
                 [&](const DeadNode& b) {
                   f.push_back(b.dead.to_string());
                   f.push_back(number(b.timestamp_us));
                 },
                 [](const Leave&) {},
                 [&](const LinkRequest& b) { f.push_back(number(b.degree)); },
                 [](const LinkAccept&) {},
                 [&](const LinkReject& b) { f.push_back(b.reason); },
                 [&](const Unlink& b) {
                   f.push_back(b.reason);
                   f.push_back(b.suggest ? b.suggest->to_string() : std::string());
                 },
                 [&](const Gossip& b) {
                   f.push_back(b.origin.to_string());
                   f.push_back(number(b.seq));
                   f.push_back(number(b.created_us));
                   f.push_back(number(b.hops));
                   f.push_back(b.body);
                   f.push_back(b.signature);
                 },
                 [&](const LivenessRequest& b) { f.push_back(number(b.timestamp_us)); },
                 [&](const LivenessReply& b) {
                   f.push_back(number(b.timestamp_us));
                   f.push_back(b.requester.to_string());
                 },
                 [](const NotLinked&) {},
                 [&](const Publish& b) { f.push_back(b.payload); },
                 [&](const Published& b) {
                   f.push_back(b.origin.to_string());
                   f.push_back(number(b.seq));
                 },
                 [&](const Error& b) { f.push_back(b.reason); },
             },
             m.body);
  return f;
}

Decoded decode(const std::vector<std::string_view>& frames) {
  auto refuse = [](std::string reason) { return Decoded{std::nullopt, std::move(reason)}; };
  if (frames.size() > kMaxFrames) return refuse("too_many_frames: " + std::to_string(frames.size()));
  std::size_t total = 0;
  for (const auto& f : frames) {
    if (f.size() > kMaxFrameBytes) return refuse("frame_too_large: " + std::to_string(f.size()) + " bytes");
    total += f.size();
  }
  if (total > kMaxMessageBytes) return refuse("message_too_large: " + std::to_string(total) + " bytes");
  if (frames.empty() || frames[0].substr(0, 3) != kSignature.substr(0, 3)) return refuse("bad_signature");
  if (frames[0] != kSignature) return refuse("unsupported_version");
  if (frames.size() < 3) return refuse("truncated: fewer than 3 frames");

  std::size_t kind = std::size(kTypes);
  for (std::size_t i = 0; i < std::size(kTypes); ++i)
    if (kTypes[i].name == frames[1]) kind = i;
  if (kind == std::size(kTypes)) return refuse("unknown_type");
  const std::size_t nfields = frames.size() - 3;
  if (kTypes[kind].fields >= 0 && nfields != static_cast<std::size_t>(kTypes[kind].fields))
    return refuse("wrong_field_count: " + std::string(kTypes[kind].name) + " takes " +
                  std::to_string(kTypes[kind].fields) + ", got " + std::to_string(nfields));

  Fields in(frames);
  Message m{in.address(2, "sender"), Register{}};
  constexpr std::size_t k = 3;  // first field
  switch (kind) {
    case 0: m.body = Register{}; break;
    case 1: {
      if (nfields < 1 || nfields - 1 > kMaxPeerList) return refuse("wrong_field_count: PEER_LIST");
      PeerList b;
      const auto status = in.token(k, "status");
      if (in.ok() && status != "new" && status != "known") return refuse("bad_field: status: " + status);
      b.known = status == "known";
      for (std::size_t i = k + 1; i < frames.size(); ++i) b.peers.push_back(in.address(i, "peer"));
      m.body = std::move(b);
      break;
    }
    case 2: m.body = DeadNode{in.address(k, "dead"), in.num(k + 1, "timestamp")}; break;
    case 3: m.body = Leave{}; break;
    case 4: m.body = LinkRequest{in.num(k, "degree")}; break;
    case 5: m.body = LinkAccept{}; break;
    case 6: m.body = LinkReject{in.token(k, "reason")}; break;
    case 7: {
      Unlink b{in.token(k, "reason"), std::nullopt};
      if (!frames[k + 1].empty()) b.suggest = in.address(k + 1, "suggest");
      m.body = std::move(b);
      break;
    }
    case 8:
      if (!frames[k + 5].empty() && frames[k + 5].size() != kSignatureBytes)
        return refuse("bad_field: signature: not empty and not " + std::to_string(kSignatureBytes) + " bytes");
      m.body = Gossip{in.address(k, "origin"), in.num(k + 1, "seq"), in.num(k + 2, "created"),
                      in.num(k + 3, "hops"), in.bytes(k + 4), in.bytes(k + 5)};
      break;
    case 9: m.body = LivenessRequest{in.num(k, "timestamp")}; break;
    case 10: m.body = LivenessReply{in.num(k, "timestamp"), in.address(k + 1, "requester")}; break;
    case 11: m.body = NotLinked{}; break;
    case 12: m.body = Publish{in.bytes(k)}; break;
    case 13: m.body = Published{in.address(k, "origin"), in.num(k + 1, "seq")}; break;
    case 14: m.body = Error{in.token(k, "reason")}; break;
  }
  if (!in.ok()) return refuse(in.error());
  return Decoded{std::move(m), {}};
}

std::string dead_node_text(const Address& dead, std::uint64_t timestamp_us, const Address& reporter) {
  return "Dead Node:" + dead.ip + ":" + std::to_string(dead.port) + ":" + std::to_string(timestamp_us) + ":" +
         reporter.to_string();
}

std::string liveness_request_text(std::uint64_t timestamp_us, const Address& sender) {
  return "Liveness Request:" + std::to_string(timestamp_us) + ":" + sender.to_string();
}

std::string liveness_reply_text(std::uint64_t timestamp_us, const Address& requester, const Address& self) {
  return "Liveness Reply:" + std::to_string(timestamp_us) + ":" + requester.to_string() + ":" +
         self.to_string();
}

}  // namespace gossip::wire
