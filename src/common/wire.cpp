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

// Appends length-prefixed fields to one frame.
class Writer {
 public:
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }
  void raw(std::string_view bytes) { out_ += bytes; }
  void field(std::string_view bytes) {
    const auto n = static_cast<std::uint32_t>(bytes.size());
    const char len[kLengthBytes] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                                    static_cast<char>(n)};
    out_.append(len, kLengthBytes);
    out_ += bytes;
  }
  void number(std::uint64_t n) {
    char buf[20];
    const auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    field(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }
  void address(const Address& a) { field(a.to_string()); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

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

std::string encode(const Message& m) {
  std::size_t reserve = 64;
  if (const auto* g = std::get_if<Gossip>(&m.body)) reserve += g->body.size() + g->signature.size() + 64;
  if (const auto* l = std::get_if<PeerList>(&m.body)) reserve += l->peers.size() * 28;
  if (const auto* p = std::get_if<Publish>(&m.body)) reserve += p->payload.size();
  Writer w(reserve);
  w.raw(kSignature);
  w.field(type_name(m.body));
  w.address(m.sender);
  std::visit(Overloaded{
                 [](const Register&) {},
                 [&](const PeerList& b) {
                   w.field(b.known ? "known" : "new");
                   for (const auto& p : b.peers) w.address(p);
                 },
                 [&](const DeadNode& b) {
                   w.address(b.dead);
                   w.number(b.timestamp_us);
                 },
                 [](const Leave&) {},
                 [&](const LinkRequest& b) { w.number(b.degree); },
                 [](const LinkAccept&) {},
                 [&](const LinkReject& b) { w.field(b.reason); },
                 [&](const Unlink& b) {
                   w.field(b.reason);
                   w.field(b.suggest ? b.suggest->to_string() : std::string());
                 },
                 [&](const Gossip& b) {
                   w.address(b.origin);
                   w.number(b.seq);
                   w.number(b.created_us);
                   w.number(b.hops);
                   w.field(b.body);
                   w.field(b.signature);
                 },
                 [&](const LivenessRequest& b) { w.number(b.timestamp_us); },
                 [&](const LivenessReply& b) {
                   w.number(b.timestamp_us);
                   w.address(b.requester);
                 },
                 [](const NotLinked&) {},
                 [&](const Publish& b) { w.field(b.payload); },
                 [&](const Published& b) {
                   w.address(b.origin);
                   w.number(b.seq);
                 },
                 [&](const Error& b) { w.field(b.reason); },
             },
             m.body);
  return w.take();
}

std::string frame_of(std::string_view magic, const std::vector<std::string>& fields) {
  std::size_t size = magic.size();
  for (const auto& f : fields) size += kLengthBytes + f.size();
  Writer w(size);
  w.raw(magic);
  for (const auto& f : fields) w.field(f);
  return w.take();
}

Split split_frame(std::string_view frame) {
  Split out;
  out.pieces.reserve(9);
  out.pieces.push_back(frame.substr(0, kSignature.size()));
  for (std::size_t at = kSignature.size(); at < frame.size();) {
    if (out.pieces.size() > kMaxFields) return {{}, "too_many_fields: more than " + std::to_string(kMaxFields)};
    if (frame.size() - at < kLengthBytes) return {{}, "truncated: a field length runs past the end"};
    const auto* p = reinterpret_cast<const unsigned char*>(frame.data() + at);
    const std::size_t len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    at += kLengthBytes;
    if (len > kMaxFieldBytes) return {{}, "field_too_large: " + std::to_string(len) + " bytes"};
    if (len > frame.size() - at) return {{}, "truncated: a field runs past the end"};
    out.pieces.push_back(frame.substr(at, len));
    at += len;
  }
  return out;
}

Decoded decode(const std::vector<std::string_view>& frames) {
  if (frames.empty()) return Decoded{std::nullopt, "bad_signature"};
  // The version comes first, so a version 1 node's multipart message is named for what it is.
  if (frames[0].substr(0, 3) == kSignature.substr(0, 3) && frames[0].substr(0, 4) == kSignature && frames.size() > 1)
    return Decoded{std::nullopt, "too_many_frames: " + std::to_string(frames.size()) + " (a message is one frame)"};
  return decode(frames[0]);
}

Decoded decode(std::string_view frame) {
  auto refuse = [](std::string reason) { return Decoded{std::nullopt, std::move(reason)}; };
  if (frame.substr(0, 3) != kSignature.substr(0, 3)) return refuse("bad_signature");
  if (frame.substr(0, 4) != kSignature) return refuse("unsupported_version");
  if (frame.size() > kMaxMessageBytes) return refuse("message_too_large: " + std::to_string(frame.size()) + " bytes");
  auto split = split_frame(frame);
  if (!split.error.empty()) return refuse(std::move(split.error));
  const auto& frames = split.pieces;  // the magic, then the fields, as the field readers below know them
  if (frames.size() < 3) return refuse("truncated: fewer than 2 fields");

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
