// log.hpp — a node's event log: one logfmt line per event, appended to its own file and echoed to stdout.
// Every line starts `ts=<UTC ISO-8601 µs> node=<ip:port> event=<name>`; docs/LOGS.md lists the events.
// Not a general logging framework: no levels, no global logger; each node owns its Logger.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gossip {

// Appends `value` to `out` as a logfmt value: bare if it is a plain token, else double-quoted with
// \" \\ \n \r \t escaped and any byte that is not printable ASCII or valid UTF-8 written as \xNN.
void append_logfmt_value(std::string& out, std::string_view value);

class Logger;

// Appends the current UTC time as ISO-8601 with microseconds ("2026-11-25T13:37:50.123456Z"). The
// "YYYY-MM-DDTHH:MM:SS." part is formatted once per second: it was a tenth of a gossip_recv line's cost.
class UtcClockText {
 public:
  void append_now(std::string& out);

 private:
  long long second_ = -1;  // the second prefix_ holds
  std::string prefix_;
};

// One event being built; written when it goes out of scope.
class LogLine {
 public:
  LogLine(Logger& logger, std::string_view event);
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();

  LogLine& kv(std::string_view key, std::string_view value);
  LogLine& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  template <class Int, class = std::enable_if_t<std::is_arithmetic_v<Int>>>
  LogLine& kv(std::string_view key, Int value) {
    return kv(key, std::string_view(std::to_string(value)));
  }

 private:
  Logger& logger_;
  std::string line_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class Logger {
 public:
  // Use open(); public so make_unique can reach it.
  Logger(FilePtr file, std::filesystem::path path, std::string node, bool console);
  // Opens (appends to) `file`, creating its directory. Returns nullptr and sets *why on failure.
  static std::unique_ptr<Logger> open(const std::filesystem::path& file, std::string node, bool console,
                                      std::string* why);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  ~Logger();

  LogLine event(std::string_view name) { return LogLine(*this, name); }
  // Pushes buffered lines to the file and stdout. The poll loop calls it whenever it is about to wait.
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  friend class LogLine;
  void write(const std::string& line);
  FilePtr file_;
  std::filesystem::path path_;
  std::string node_;  // "ip:port" stamped on every line
  bool console_;
  UtcClockText clock_text_;  // ts= of every line
};

// "2026-11-25T13:37:50.123456Z" for the current wall-clock time.
std::string utc_timestamp_now();

}  // namespace gossip
