#include "common/log_event.hpp"

namespace gossip {

namespace {
constexpr char kHex[] = "0123456789abcdef";

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not a valid one (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF; F5..FF never start a sequence).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  // The second byte's narrower range for these lead bytes rules out the overlong, surrogate and
  // beyond-Unicode forms.
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
    return 0;
  return n;
}

bool is_bare(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7F || c == '"' || c == '=' || c == '\\') return false;
  }
  return true;
}

void append_hex_escape(std::string& out, unsigned char u) {
  out += "\\x";
  out += kHex[u >> 4];
  out += kHex[u & 15];
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

void append_logfmt_value(std::string& out, std::string_view v) {
  if (is_bare(v)) {
    out += v;
    return;
  }
  out += '"';
  for (std::size_t i = 0; i < v.size();) {
    const char c = v[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u >= 0x80) {
      if (const auto n = utf8_length(v, i)) {
        out += v.substr(i, n);
        i += n;
        continue;
      }
      append_hex_escape(out, u);
    } else if (u < 0x20 || u == 0x7F) {
      append_hex_escape(out, u);
    } else {
      out += c;
    }
    ++i;
  }
  out += '"';
}

std::string read_logfmt_value(std::string_view text, std::size_t* consumed) {
  std::string out;
  if (text.empty() || text[0] != '"') {
    const auto end = std::min(text.find(' '), text.size());
    if (consumed) *consumed = end;
    return std::string(text.substr(0, end));
  }
  std::size_t i = 1;
  for (; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    const char e = text[++i];
    if (e == 'n') {
      out += '\n';
    } else if (e == 'r') {
      out += '\r';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'x' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += e;
    }
  }
  if (consumed) *consumed = std::min(i + 1, text.size());
  return out;
}

LogEvent& LogEvent::kv(std::string_view key, const Address& a) {
  // A canonical address (what parse_address makes) is a bare token; anything else takes the general path.
  bool canonical = !a.ip.empty();
  for (const char c : a.ip)
    canonical = canonical && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':');
  if (!canonical) return kv(key, a.to_string());
  start_key(key);
  const bool v6 = a.is_v6();
  if (v6) text_ += '[';
  text_ += a.ip;
  text_ += v6 ? "]:" : ":";
  char port[8];
  text_.append(port, static_cast<std::size_t>(std::to_chars(port, port + sizeof port, a.port).ptr - port));
  return *this;
}

std::size_t LogEvent::find_value(std::string_view key) const {
  const std::string_view t(text_);
  std::size_t i = name_size_;
  while (i < t.size()) {
    // At a ' ' before a key.
    const auto eq = t.find('=', i + 1);
    if (eq == std::string_view::npos) return std::string_view::npos;
    const auto start = eq + 1;
    if (t.substr(i + 1, eq - i - 1) == key) return start;
    std::size_t consumed = 0;
    if (start < t.size() && t[start] == '"') {
      read_logfmt_value(t.substr(start), &consumed);
    } else {
      consumed = std::min(t.find(' ', start), t.size()) - start;
    }
    i = start + consumed;
  }
  return std::string_view::npos;
}

void LogEvent::bare(std::initializer_list<std::string_view> keys, std::optional<std::string_view>* out) const {
  for (std::size_t k = 0; k < keys.size(); ++k) out[k].reset();
  const std::string_view t(text_);
  std::size_t i = name_size_;
  while (i < t.size()) {
    const auto eq = t.find('=', i + 1);
    if (eq == std::string_view::npos) return;
    const auto key = t.substr(i + 1, eq - i - 1);
    const auto start = eq + 1;
    std::size_t consumed = 0;
    if (start < t.size() && t[start] == '"') {
      read_logfmt_value(t.substr(start), &consumed);
    } else {
      consumed = std::min(t.find(' ', start), t.size()) - start;
      std::size_t k = 0;
      for (const auto& wanted : keys) {
        if (wanted == key && !out[k]) out[k] = t.substr(start, consumed);
        ++k;
      }
    }
    i = start + consumed;
  }
}

std::optional<std::string> LogEvent::get(std::string_view key) const {
  const auto at = find_value(key);
  if (at == std::string_view::npos) return std::nullopt;
  return read_logfmt_value(std::string_view(text_).substr(at));
}

std::optional<std::string_view> LogEvent::bare(std::string_view key) const {
  const auto at = find_value(key);
  if (at == std::string_view::npos || (at < text_.size() && text_[at] == '"')) return std::nullopt;
  const std::string_view t(text_);
  return t.substr(at, std::min(t.find(' ', at), t.size()) - at);
}

}  // namespace gossip
