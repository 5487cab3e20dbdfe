// Unit tests for src/common/log_event.*: building an event, and reading its values back.
#include <catch2/catch.hpp>

#include "common/log_event.hpp"

using namespace gossip;

TEST_CASE("an event is its name followed by key=value pairs in logfmt", "[log_event]") {
  LogEvent e("gossip_recv");
  e.kv("from", "10.0.0.1:7000").kv("seq", std::uint64_t{7}).kv("ok", true).kv("msg", "a b=\"c\"");
  CHECK(e.name() == "gossip_recv");
  CHECK(e.text() == R"(gossip_recv from=10.0.0.1:7000 seq=7 ok=true msg="a b=\"c\"")");
}

TEST_CASE("get decodes a value, bare or quoted, and skips over quoted values that look like keys", "[log_event]") {
  LogEvent e("x");
  e.kv("msg", "seq=1 origin=evil").kv("seq", 3).kv("text", "Dead Node:1.2.3.4:5:6:7").kv("raw", std::string("\xff\n", 2));
  CHECK(e.get("seq") == "3");
  CHECK(e.get("msg") == "seq=1 origin=evil");
  CHECK(e.get("text") == "Dead Node:1.2.3.4:5:6:7");
  CHECK(e.get("raw") == std::string("\xff\n", 2));
  CHECK_FALSE(e.get("origin"));
  CHECK(e.bare("seq") == std::optional<std::string_view>("3"));
  CHECK_FALSE(e.bare("msg"));  // quoted: needs decoding
}

TEST_CASE("read_logfmt_value undoes append_logfmt_value for every byte", "[log_event]") {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string encoded;
  append_logfmt_value(encoded, all);
  std::size_t used = 0;
  CHECK(read_logfmt_value(encoded + " next=1", &used) == all);
  CHECK(used == encoded.size());
}
