// Unit tests for src/common/log.*: logfmt value quoting and escaping, and the Logger's line format on disk.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "common/log.hpp"

using namespace gossip;
namespace fs = std::filesystem;

namespace {

std::string logfmt(std::string_view v) {
  std::string out;
  append_logfmt_value(out, v);
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("gossip_unit_log_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("a plain token is written bare", "[log]") {
  CHECK(logfmt("peer_list") == "peer_list");
  CHECK(logfmt("127.0.0.1:7001") == "127.0.0.1:7001");
  CHECK(logfmt("[::1]:7001") == "[::1]:7001");
  CHECK(logfmt("42") == "42");
}

TEST_CASE("append_logfmt_value appends and does not replace", "[log]") {
  std::string out = "k=";
  append_logfmt_value(out, "v");
  CHECK(out == "k=v");
}

TEST_CASE("an empty value is written as two quotes", "[log]") { CHECK(logfmt("") == "\"\""); }

TEST_CASE("values with spaces or an equals sign are quoted", "[log]") {
  CHECK(logfmt("Dead Node:1.2.3.4:5") == "\"Dead Node:1.2.3.4:5\"");
  CHECK(logfmt("a=b") == "\"a=b\"");
  CHECK(logfmt(" ") == "\" \"");
}

TEST_CASE("quotes and backslashes are escaped inside quotes", "[log]") {
  CHECK(logfmt("say \"hi\"") == R"("say \"hi\"")");
  CHECK(logfmt("\"") == R"("\"")");
  CHECK(logfmt("a\\b") == R"("a\\b")");
  CHECK(logfmt("\\\"") == R"("\\\"")");
}

TEST_CASE("newline, carriage return and tab are escaped so one event stays one line", "[log]") {
  CHECK(logfmt("a\nb") == R"("a\nb")");
  CHECK(logfmt("a\rb") == R"("a\rb")");
  CHECK(logfmt("a\tb") == R"("a\tb")");
  CHECK(logfmt("a\nb").find('\n') == std::string::npos);
}

TEST_CASE("other control bytes and DEL are written as \\xNN", "[log]") {
  CHECK(logfmt(std::string("a\0b", 3)) == R"("a\x00b")");
  CHECK(logfmt("\x01") == R"("\x01")");
  CHECK(logfmt("\x1b[31m") == R"("\x1b[31m")");
  CHECK(logfmt("\x1f") == R"("\x1f")");
  CHECK(logfmt("\x7f") == R"("\x7f")");
}

TEST_CASE("valid UTF-8 passes through unescaped (quoted)", "[log]") {
  CHECK(logfmt("h\xc3\xa9llo") == "\"h\xc3\xa9llo\"");                    // é, 2 bytes
  CHECK(logfmt("\xe2\x82\xac") == "\"\xe2\x82\xac\"");                    // €, 3 bytes
  CHECK(logfmt("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");            // 😀, 4 bytes
  CHECK(logfmt("\xed\x9f\xbf") == "\"\xed\x9f\xbf\"");                    // U+D7FF, last before surrogates
  CHECK(logfmt("\xf4\x8f\xbf\xbf") == "\"\xf4\x8f\xbf\xbf\"");            // U+10FFFF, the last code point
  CHECK(logfmt("\xe0\xa0\x80") == "\"\xe0\xa0\x80\"");                    // U+0800, shortest 3-byte
}

TEST_CASE("invalid UTF-8 bytes are written as \\xNN", "[log]") {
  CHECK(logfmt("\xff") == R"("\xff")");
  CHECK(logfmt("\x80") == R"("\x80")");                    // lone continuation byte
  CHECK(logfmt("a\xc3") == R"("a\xc3")");                  // truncated at the end
  CHECK(logfmt("\xc3(") == R"("\xc3(")");                  // lead byte without continuation
  CHECK(logfmt("\xc0\xaf") == R"("\xc0\xaf")");            // overlong 2-byte '/'
  CHECK(logfmt("\xe2\x82") == R"("\xe2\x82")");            // truncated 3-byte sequence
}

TEST_CASE("overlong, surrogate, out-of-range and never-valid lead bytes are escaped, not passed through",
          "[log]") {
  CHECK(logfmt("\xe0\x80\xaf") == R"("\xe0\x80\xaf")");          // overlong 3-byte '/'
  CHECK(logfmt("\xed\xa0\x80") == R"("\xed\xa0\x80")");          // UTF-16 surrogate U+D800
  CHECK(logfmt("\xf0\x80\x80\xaf") == R"("\xf0\x80\x80\xaf")");  // overlong 4-byte '/'
  CHECK(logfmt("\xf4\x90\x80\x80") == R"("\xf4\x90\x80\x80")");  // U+110000, beyond Unicode
  CHECK(logfmt("\xf5\x80\x80\x80") == R"("\xf5\x80\x80\x80")");  // F5..FF never start a sequence
  CHECK(logfmt("\xff\x80\x80") == R"("\xff\x80\x80")");
  CHECK(logfmt("\xf8\x88\x80\x80\x80") == R"("\xf8\x88\x80\x80\x80")");
}

TEST_CASE("escaped output is printable ASCII or valid UTF-8 for any random bytes", "[log]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string v(rng() % 16, '\0');
    for (auto& c : v) c = static_cast<char>(rng() & 0xFF);
    const auto out = logfmt(v);
    for (char c : out) {
      const auto u = static_cast<unsigned char>(c);
      REQUIRE(u != '\n');
      REQUIRE(u != '\r');
      REQUIRE(u >= 0x20);
      REQUIRE(u != 0x7F);
    }
    // Bare output never contains a space, quote or equals sign.
    if (out.empty() || out.front() != '"') {
      REQUIRE(out.find_first_of(" \"=") == std::string::npos);
    }
  }
}

TEST_CASE("utc_timestamp_now is ISO-8601 UTC with microseconds", "[log]") {
  const auto ts = utc_timestamp_now();
  CHECK(std::regex_match(ts, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)")));
}

TEST_CASE("the logger writes one line per event with ts=, node= and event= first", "[log]") {
  TempDir dir;
  const fs::path file = dir.path / "nested" / "dir" / "peer-127.0.0.1-7001.log";
  std::string why;
  {
    auto log = Logger::open(file, "127.0.0.1:7001", false, &why);
    INFO(why);
    REQUIRE(log);
    CHECK(log->path() == file);
    log->event("started").kv("role", "peer").kv("pid", 1234);
    log->event("dead_report").kv("text", "Dead Node:10.0.0.2:9:5:10.0.0.1:8").kv("count", std::size_t{3});
    log->event("bad_message").kv("reason", std::string("line\nbreak"));
    log->flush();
    const auto lines = read_lines(file);
    REQUIRE(lines.size() == 3);
    const std::regex prefix(
        R"(^ts=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z node=127\.0\.0\.1:7001 event=([a-z_]+)( .*)?$)");
    for (const auto& line : lines) {
      INFO(line);
      CHECK(std::regex_match(line, prefix));
    }
    CHECK(lines[0].find(" event=started role=peer pid=1234") != std::string::npos);
    CHECK(lines[1].find(" event=dead_report text=\"Dead Node:10.0.0.2:9:5:10.0.0.1:8\" count=3") != std::string::npos);
    CHECK(lines[2].find(" event=bad_message reason=\"line\\nbreak\"") != std::string::npos);
  }
  // Reopening appends instead of truncating.
  {
    auto log = Logger::open(file, "127.0.0.1:7001", false, &why);
    REQUIRE(log);
    log->event("stopped").kv("signal", "SIGTERM");
  }  // the destructor flushes
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 4);
  CHECK(lines[3].find(" event=stopped signal=SIGTERM") != std::string::npos);
}

TEST_CASE("the logger reports why it cannot open its file", "[log]") {
  TempDir dir;
  const fs::path blocker = dir.path / "not_a_dir";
  std::ofstream(blocker) << "x";
  std::string why;
  auto log = Logger::open(blocker / "peer.log", "127.0.0.1:7001", false, &why);
  CHECK_FALSE(log);
  CHECK_FALSE(why.empty());
}
