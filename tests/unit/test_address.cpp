// Unit tests for src/common/address.*: parsing IP:port text into the canonical form nodes compare.
#include <catch2/catch.hpp>

#include <string>

#include "common/address.hpp"

using gossip::Address;
using gossip::is_wildcard;
using gossip::parse_address;

TEST_CASE("an IPv4 address with a port parses into its parts and prints back unchanged", "[address]") {
  const auto a = parse_address("127.0.0.1:7001");
  REQUIRE(a);
  CHECK(a->ip == "127.0.0.1");
  CHECK(a->port == 7001);
  CHECK_FALSE(a->is_v6());
  CHECK(a->to_string() == "127.0.0.1:7001");
  CHECK(a->endpoint() == "tcp://127.0.0.1:7001");
}

TEST_CASE("an IPv6 address is written in brackets and printed in canonical inet_ntop form", "[address]") {
  const auto a = parse_address("[::1]:65535");
  REQUIRE(a);
  CHECK(a->ip == "::1");
  CHECK(a->port == 65535);
  CHECK(a->is_v6());
  CHECK(a->to_string() == "[::1]:65535");
  CHECK(a->endpoint() == "tcp://[::1]:65535");

  const auto longhand = parse_address("[2001:0DB8:0000:0000:0000:0000:0000:0001]:80");
  REQUIRE(longhand);
  CHECK(longhand->ip == "2001:db8::1");
  CHECK(longhand->to_string() == "[2001:db8::1]:80");
  CHECK(*longhand == *parse_address("[2001:db8::1]:80"));
}

TEST_CASE("two spellings of one IPv4 address cannot alias: leading zeros are refused", "[address]") {
  // inet_pton rejects octets with leading zeros, so "127.000.0.1" is never a second key for 127.0.0.1.
  std::string why;
  CHECK_FALSE(parse_address("127.000.0.1:7001", &why));
  CHECK_FALSE(why.empty());
}

TEST_CASE("the canonical text round-trips through parse for IPv4 and IPv6", "[address]") {
  for (const char* text : {"10.0.0.1:1", "255.255.255.255:65535", "[fe80::1]:9", "[::]:5", "0.0.0.0:5",
                           "[::ffff:10.0.0.1]:7"}) {
    INFO(text);
    const auto a = parse_address(text);
    REQUIRE(a);
    CHECK(a->to_string() == text);
    CHECK(parse_address(a->to_string()) == a);
  }
}

TEST_CASE("ports outside 1-65535 and non-numeric ports are refused with a reason", "[address]") {
  for (const char* text : {"127.0.0.1:65536", "127.0.0.1:99999999999", "127.0.0.1:", "127.0.0.1:-1",
                           "127.0.0.1:+80", "127.0.0.1:8o", "127.0.0.1: 80", "127.0.0.1:80 ", "[::1]:",
                           "[::1]:70000", "127.0.0.1", "[::1]", "[::1]80", "[::1"}) {
    INFO(text);
    std::string why;
    CHECK_FALSE(parse_address(text, &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("host names are refused because nodes never resolve names", "[address]") {
  for (const char* text : {"localhost:7001", "example.com:80", "[localhost]:80", ":80", "1.2.3:80",
                           "1.2.3.4.5:80", "256.0.0.1:80"}) {
    INFO(text);
    std::string why;
    CHECK_FALSE(parse_address(text, &why));
    CHECK_FALSE(why.empty());
  }
  std::string why;
  CHECK_FALSE(parse_address("localhost:7001", &why));
  CHECK(why.find("not an IP address") != std::string::npos);
}

TEST_CASE("an IPv6 address without brackets is refused", "[address]") {
  std::string why;
  CHECK_FALSE(parse_address("::1:7001", &why));
  CHECK(why.find("[IPv6]:port") != std::string::npos);
}

TEST_CASE("port 0 is accepted only when the caller allows it", "[address]") {
  std::string why;
  CHECK_FALSE(parse_address("127.0.0.1:0", &why));
  CHECK(why.find("port 0") != std::string::npos);
  CHECK_FALSE(parse_address("[::1]:0"));

  const auto any = parse_address("127.0.0.1:0", nullptr, true);
  REQUIRE(any);
  CHECK(any->port == 0);
  CHECK(parse_address("[::1]:0", nullptr, true));
}

TEST_CASE("an address text longer than 64 bytes is refused", "[address]") {
  std::string why;
  const std::string long_text = "[0000:0000:0000:0000:0000:0000:0000:0001]:1" + std::string(30, '0');
  REQUIRE(long_text.size() > 64);
  CHECK_FALSE(parse_address(long_text, &why));
  CHECK(why.find("64") != std::string::npos);
}

TEST_CASE("wildcard addresses are recognised for IPv4 and IPv6 and nothing else", "[address]") {
  CHECK(is_wildcard(*parse_address("0.0.0.0:1")));
  CHECK(is_wildcard(*parse_address("[::]:1")));
  CHECK(is_wildcard(*parse_address("[0:0::0]:1")));
  CHECK_FALSE(is_wildcard(*parse_address("127.0.0.1:1")));
  CHECK_FALSE(is_wildcard(*parse_address("[::1]:1")));
}

TEST_CASE("addresses order by ip then port, so they work as map keys", "[address]") {
  const auto a = *parse_address("10.0.0.1:5");
  const auto b = *parse_address("10.0.0.1:6");
  const auto c = *parse_address("10.0.0.2:1");
  CHECK(a < b);
  CHECK(b < c);
  CHECK(a == *parse_address("10.0.0.1:5"));
  CHECK(a != b);
}
