#include "common/log.hpp"

#include <ctime>
#include <system_error>

#include "common/clock.hpp"

namespace gossip {

void UtcClockText::append(std::string& out, std::uint64_t wall_us) {
  const long long secs = static_cast<long long>(wall_us / 1'000'000);
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
  auto rest = static_cast<unsigned>(wall_us % 1'000'000);
  for (int i = 5; i >= 0; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
  out.append(frac, 6);
  out += 'Z';
}

std::string utc_timestamp(std::uint64_t wall_us) {
  std::string out;
  UtcClockText().append(out, wall_us);
  return out;
}

std::string utc_timestamp_now() { return utc_timestamp(wall_micros()); }

void append_log_line(std::string& out, UtcClockText& clock, std::uint64_t wall_us, std::string_view node,
                     const LogEvent& event) {
  out += "ts=";
  clock.append(out, wall_us);
  out += " node=";
  out += node;
  out += " event=";
  out += event.text();
}

std::filesystem::path log_file_for(const std::filesystem::path& log_dir, std::string_view kind, const Address& self) {
  std::string ip = self.ip;
  for (auto& c : ip)
    if (c == ':') c = '_';
  return log_dir / (std::string(kind) + "-" + ip + "-" + std::to_string(self.port) + ".log");
}

LogLine::~LogLine() { logger_.write(event_, wall_micros()); }

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
    : file_(std::move(f)), path_(std::move(path)), node_(std::move(node)), console_(console) {
  line_.reserve(256);
}

Logger::~Logger() { flush(); }

void Logger::write(const LogEvent& event, std::uint64_t wall_us) {
  line_.clear();
  append_log_line(line_, clock_text_, wall_us, node_, event);
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), file_.get());
  if (console_) std::fwrite(line_.data(), 1, line_.size(), stdout);
}

void Logger::flush() {
  std::fflush(file_.get());
  if (console_) std::fflush(stdout);
}

}  // namespace gossip
