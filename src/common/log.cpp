#include "common/log.hpp"

#include <chrono>
#include <ctime>
#include <system_error>

namespace gossip {

namespace {
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
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
    ++i;
  }
  out += '"';
}

void UtcClockText::append_now(std::string& out) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  const long long secs = us / 1'000'000;
  if (secs != second_) {
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    prefix_ = buf;
    second_ = secs;
  }
  out += prefix_;
  char frac[6];
  auto rest = static_cast<unsigned>(us % 1'000'000);
  for (int i = 5; i >= 0; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
  out.append(frac, 6);
  out += 'Z';
}

std::string utc_timestamp_now() {
  std::string out;
  UtcClockText().append_now(out);
  return out;
}

LogLine::LogLine(Logger& logger, std::string_view event) : logger_(logger) {
  line_.reserve(160);
  line_ += "ts=";
  logger.clock_text_.append_now(line_);
  line_ += " node=";
  line_ += logger.node_;
  line_ += " event=";
  line_ += event;
}

LogLine::~LogLine() { logger_.write(line_); }

LogLine& LogLine::kv(std::string_view key, std::string_view value) {
  line_ += ' ';
  line_ += key;
  line_ += '=';
  append_logfmt_value(line_, value);
  return *this;
}

std::unique_ptr<Logger> Logger::open(const std::filesystem::path& file, std::string node, bool console,
                                     std::string* why) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) {
    if (why) *why = "cannot create " + file.parent_path().string() + ": " + ec.message();
    return nullptr;
  }
  FilePtr f(std::fopen(file.c_str(), "ae"));
  if (!f) {
    if (why) *why = "cannot open " + file.string() + " for appending";
    return nullptr;
  }
  std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 16);
  return std::make_unique<Logger>(std::move(f), file, std::move(node), console);
}

Logger::Logger(FilePtr f, std::filesystem::path path, std::string node, bool console)
    : file_(std::move(f)), path_(std::move(path)), node_(std::move(node)), console_(console) {}

Logger::~Logger() { flush(); }

void Logger::write(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), file_.get());
  std::fputc('\n', file_.get());
  if (console_) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  }
}

void Logger::flush() {
  std::fflush(file_.get());
  if (console_) std::fflush(stdout);
}

}  // namespace gossip
