// log_event.hpp — one log event as a node's protocol logic produces it: a name and its key=value pairs,
// already encoded as logfmt (docs/LOGS.md). Whoever writes it adds `ts=` and `node=`: a real node's Logger
// with the wall clock, the simulator with virtual time. Not a logger: it holds one event and writes nothing.
#pragma once

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/address.hpp"

namespace gossip {

// Appends `value` to `out` as a logfmt value: bare if it is a plain token, else double-quoted with
// \" \\ \n \r \t escaped and any byte that is not printable ASCII or valid UTF-8 written as \xNN.
void append_logfmt_value(std::string& out, std::string_view value);

// Undoes append_logfmt_value for the value starting at text[0] (bare or quoted). Returns the decoded value
// and sets *consumed to the characters read. Lenient with what append_logfmt_value never writes.
std::string read_logfmt_value(std::string_view text, std::size_t* consumed = nullptr);

class LogEvent {
 public:
  explicit LogEvent(std::string_view name) {
    text_.reserve(160);  // a gossip_recv line fits: no reallocation on the hottest event
    text_ += name;
    name_size_ = text_.size();
  }

  LogEvent& kv(std::string_view key, std::string_view value) {
    start_key(key);
    append_logfmt_value(text_, value);
    return *this;
  }
  LogEvent& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  LogEvent& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  LogEvent& kv(std::string_view key, bool value) { return kv(key, std::string_view(value ? "true" : "false")); }
  // An address in its canonical form ("1.2.3.4:5", "[::1]:5"), written without building a string.
  LogEvent& kv(std::string_view key, const Address& a);
  template <class Int, class = std::enable_if_t<std::is_integral_v<Int>>>
  LogEvent& kv(std::string_view key, Int value) {
    start_key(key);
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    text_.append(buf, static_cast<std::size_t>(end - buf));  // a number is always a bare token
    return *this;
  }

  std::string_view name() const { return std::string_view(text_).substr(0, name_size_); }
  // "name k=v k=v": what follows `event=` on a log line.
  const std::string& text() const { return text_; }
  // The decoded value of `key` (the first one), or nullopt if the event has no such key.
  std::optional<std::string> get(std::string_view key) const;
  // The raw text of `key`'s value when it is written bare (no decoding needed), else nullopt. Cheap.
  std::optional<std::string_view> bare(std::string_view key) const;
  // bare() for several keys in one pass: out[i] for keys[i].
  void bare(std::initializer_list<std::string_view> keys, std::optional<std::string_view>* out) const;

 private:
  void start_key(std::string_view key) {
    text_ += ' ';
    text_ += key;
    text_ += '=';
  }
  // Where `key`'s value starts in text_, or npos.
  std::size_t find_value(std::string_view key) const;

  std::string text_;
  std::size_t name_size_ = 0;
};

}  // namespace gossip
