// log.hpp — a node's event log: one logfmt line per event, appended to its own file and echoed to stdout.
// Every line starts `ts=<UTC ISO-8601 µs> node=<ip:port> event=<name>`; docs/LOGS.md lists the events.
// Not a general logging framework: no levels, no global logger; each node owns its Logger.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/address.hpp"
#include "common/log_event.hpp"

namespace gossip {

// Appends a wall-clock time (µs since the epoch) as UTC ISO-8601 with microseconds
// ("2026-11-25T13:37:50.123456Z"). The "YYYY-MM-DDTHH:MM:SS." part is formatted once per second: it was a
// tenth of a gossip_recv line's cost.
class UtcClockText {
 public:
  void append(std::string& out, std::uint64_t wall_us);

 private:
  long long second_ = -1;  // the second prefix_ holds
  std::string prefix_;
};

// "2026-11-25T13:37:50.123456Z" for `wall_us`, and for the current wall-clock time.
std::string utc_timestamp(std::uint64_t wall_us);
std::string utc_timestamp_now();

// Appends one whole line, without the newline: `ts=… node=… event=<name> k=v …`. The one place that
// formats a log line, for real nodes and the simulator alike.
void append_log_line(std::string& out, UtcClockText& clock, std::uint64_t wall_us, std::string_view node,
                     const LogEvent& event);

// "<log_dir>/<kind>-<ip>-<port>.log", with ':' in an IPv6 address written as '_'.
std::filesystem::path log_file_for(const std::filesystem::path& log_dir, std::string_view kind, const Address& self);

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class Logger;

// An event of the shell's own (not of the protocol logic), stamped with the wall clock and written when it
// goes out of scope.
class LogLine {
 public:
  LogLine(Logger& logger, std::string_view event) : logger_(logger), event_(event) {}
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();

  template <class V>
  LogLine& kv(std::string_view key, V&& value) {
    event_.kv(key, std::forward<V>(value));
    return *this;
  }

 private:
  Logger& logger_;
  LogEvent event_;
};

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

  // Writes `event` stamped `wall_us` (buffered until flush()).
  void write(const LogEvent& event, std::uint64_t wall_us);
  // An event stamped with the wall clock when the returned line goes out of scope.
  LogLine event(std::string_view name) { return LogLine(*this, name); }
  // Pushes buffered lines to the file and stdout. The poll loop calls it whenever it is about to wait.
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  FilePtr file_;
  std::filesystem::path path_;
  std::string node_;  // "ip:port" stamped on every line
  bool console_;
  UtcClockText clock_text_;  // ts= of every line
  std::string line_;         // reused for every line
};

}  // namespace gossip
