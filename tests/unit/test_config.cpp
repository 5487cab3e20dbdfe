// Unit tests for src/common/config.*: defaults, every key, the fast preset, and errors that name the file,
// the line, the key and the reason.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>

#include "common/config.hpp"

using namespace gossip;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

const fs::path kFile = "/etc/gossip/node.toml";

Config parse_ok(const std::string& text, Role role = Role::kPeer, const fs::path& file = kFile) {
  auto r = parse_config(text, file, role);
  if (auto* e = std::get_if<ConfigError>(&r)) FAIL("unexpected config error: " << e->to_string());
  return std::get<Config>(r);
}

ConfigError parse_err(const std::string& text, Role role = Role::kPeer, const fs::path& file = kFile) {
  auto r = parse_config(text, file, role);
  if (std::holds_alternative<Config>(r)) FAIL("config was accepted but should be refused:\n" << text);
  return std::get<ConfigError>(r);
}

Address addr(const char* text) { return *parse_address(text, nullptr, true); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A fresh directory under the system temp dir, removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::mt19937_64 rng(static_cast<std::uint64_t>(::getpid()) * 7919u + reinterpret_cast<std::uintptr_t>(this));
    path = fs::temp_directory_path() / ("gossip_unit_config_" + std::to_string(::getpid()) + "_" + std::to_string(rng()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream out(path / name, std::ios::binary);
    out << text;
  }
};

const std::string kMinimalPeer = R"([node]
listen = "127.0.0.1:7001"
seeds = ["127.0.0.1:6001"]
)";

}  // namespace

TEST_CASE("a minimal peer config gets every documented default", "[config]") {
  const auto c = parse_ok(kMinimalPeer);
  CHECK(c.file == kFile);
  CHECK(c.preset == "default");
  CHECK(c.node.listen == addr("127.0.0.1:7001"));
  CHECK_FALSE(c.node.advertise);
  CHECK(c.advertised() == addr("127.0.0.1:7001"));
  CHECK(c.node.log_dir == fs::path("/etc/gossip/logs"));
  REQUIRE(c.node.seeds.size() == 1);
  CHECK(c.node.seeds[0] == addr("127.0.0.1:6001"));
  CHECK(c.node.console);
  CHECK_FALSE(c.node.control);
  CHECK(c.node.register_timeout == milliseconds(2000));
  CHECK(c.node.retry_min == milliseconds(250));
  CHECK(c.node.retry_max == milliseconds(5000));
  CHECK(c.node.reregister_interval == milliseconds(30000));
  CHECK(c.overlay.max_degree == 4);
  CHECK(c.overlay.target_degree == 2);
  CHECK(c.overlay.link_timeout == milliseconds(2000));
  CHECK(c.overlay.refill_interval == milliseconds(5000));
  CHECK(c.gossip.interval == milliseconds(5000));
  CHECK(c.gossip.count == 10);
  CHECK(c.gossip.start_delay == milliseconds(0));
  CHECK(c.gossip.seen_ttl == milliseconds(600000));
  CHECK(c.gossip.seen_max == 100000);
  CHECK(c.gossip.send_hwm == 1000);
  CHECK(c.gossip.max_payload == 16384);
  CHECK(c.gossip.stats_interval == milliseconds(10000));
  CHECK(c.liveness.interval == milliseconds(13000));
  CHECK(c.liveness.max_misses == 3);
  CHECK(c.seed.max_peers == 10000);
  CHECK(c.seed.peer_list_max == 1024);
  CHECK(c.seed.peer_ttl == milliseconds(120000));
}

TEST_CASE("a seed needs no seeds list", "[config]") {
  const auto c = parse_ok("[node]\nlisten = \"127.0.0.1:6001\"\n", Role::kSeed);
  CHECK(c.node.seeds.empty());
  CHECK(c.node.listen.port == 6001);
}

TEST_CASE("every key is read into its field", "[config]") {
  const std::string text = R"(preset = "default"
[node]
listen = "0.0.0.0:0"
advertise = "[::1]:7005"
log_dir = "/var/log/gossip"
seeds = ["127.0.0.1:6001", "[::1]:6002", "10.0.0.3:6003"]
console = false
control = "127.0.0.1:0"
register_timeout_ms = 111
retry_min_ms = 22
retry_max_ms = 333
reregister_interval_ms = 4444
[overlay]
max_degree = 7
target_degree = 5
link_timeout_ms = 555
refill_interval_ms = 666
[gossip]
interval_ms = 77
count = 8
start_delay_ms = 99
seen_ttl_ms = 1010
seen_max = 1111
send_hwm = 1212
max_payload_bytes = 1313
stats_interval_ms = 1414
[liveness]
interval_ms = 1515
max_misses = 16
[seed]
max_peers = 1717
peer_list_max = 19
peer_ttl_ms = 1818
)";
  const auto c = parse_ok(text);
  CHECK(c.preset == "default");
  CHECK(c.node.listen == addr("0.0.0.0:0"));
  REQUIRE(c.node.advertise);
  CHECK(*c.node.advertise == addr("[::1]:7005"));
  CHECK(c.advertised() == addr("[::1]:7005"));
  CHECK(c.node.log_dir == fs::path("/var/log/gossip"));
  REQUIRE(c.node.seeds.size() == 3);
  CHECK(c.node.seeds[1] == addr("[::1]:6002"));
  CHECK(c.node.seeds[2] == addr("10.0.0.3:6003"));
  CHECK_FALSE(c.node.console);
  REQUIRE(c.node.control);
  CHECK(*c.node.control == addr("127.0.0.1:0"));
  CHECK(c.node.register_timeout == milliseconds(111));
  CHECK(c.node.retry_min == milliseconds(22));
  CHECK(c.node.retry_max == milliseconds(333));
  CHECK(c.node.reregister_interval == milliseconds(4444));
  CHECK(c.overlay.max_degree == 7);
  CHECK(c.overlay.target_degree == 5);
  CHECK(c.overlay.link_timeout == milliseconds(555));
  CHECK(c.overlay.refill_interval == milliseconds(666));
  CHECK(c.gossip.interval == milliseconds(77));
  CHECK(c.gossip.count == 8);
  CHECK(c.gossip.start_delay == milliseconds(99));
  CHECK(c.gossip.seen_ttl == milliseconds(1010));
  CHECK(c.gossip.seen_max == 1111);
  CHECK(c.gossip.send_hwm == 1212);
  CHECK(c.gossip.max_payload == 1313);
  CHECK(c.gossip.stats_interval == milliseconds(1414));
  CHECK(c.liveness.interval == milliseconds(1515));
  CHECK(c.liveness.max_misses == 16);
  CHECK(c.seed.max_peers == 1717);
  CHECK(c.seed.peer_list_max == 19);
  CHECK(c.seed.peer_ttl == milliseconds(1818));
}

TEST_CASE("an empty control string leaves the control endpoint off", "[config]") {
  const auto c = parse_ok(kMinimalPeer + "control = \"\"\n");
  CHECK_FALSE(c.node.control);
}

TEST_CASE("preset fast shrinks every timer and explicit keys still win over it", "[config]") {
  const auto c = parse_ok("preset = \"fast\"\n" + kMinimalPeer);
  CHECK(c.preset == "fast");
  CHECK(c.node.register_timeout == milliseconds(500));
  CHECK(c.node.retry_min == milliseconds(100));
  CHECK(c.node.retry_max == milliseconds(1000));
  CHECK(c.node.reregister_interval == milliseconds(3000));
  CHECK(c.overlay.link_timeout == milliseconds(500));
  CHECK(c.overlay.refill_interval == milliseconds(500));
  CHECK(c.gossip.interval == milliseconds(200));
  CHECK(c.gossip.stats_interval == milliseconds(1000));
  CHECK(c.liveness.interval == milliseconds(300));
  CHECK(c.seed.peer_ttl == milliseconds(12000));
  // Not timers: unchanged by the preset.
  CHECK(c.gossip.count == 10);
  CHECK(c.liveness.max_misses == 3);
  CHECK(c.overlay.max_degree == 4);

  const auto overridden = parse_ok("preset = \"fast\"\n" + kMinimalPeer + "[liveness]\ninterval_ms = 250\n");
  CHECK(overridden.liveness.interval == milliseconds(250));
  CHECK(overridden.gossip.interval == milliseconds(200));
}

TEST_CASE("an unknown preset is refused naming the key", "[config]") {
  const auto e = parse_err("preset = \"turbo\"\n" + kMinimalPeer);
  CHECK(e.key == "preset");
  CHECK(e.line == 1);
  CHECK(contains(e.reason, "fast"));
}

TEST_CASE("the error message reads FILE:LINE: key 'K': REASON", "[config]") {
  CHECK(ConfigError{"a.toml", 3, "overlay.max_degree", "must be an integer"}.to_string() ==
        "a.toml:3: key 'overlay.max_degree': must be an integer");
  CHECK(ConfigError{"a.toml", 0, "node.listen", "is required"}.to_string() == "a.toml: key 'node.listen': is required");
  CHECK(ConfigError{"a.toml", 2, "", "TOML syntax error: x"}.to_string() == "a.toml:2: TOML syntax error: x");
}

TEST_CASE("a TOML syntax error names the file and the line", "[config]") {
  const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds = [\"127.0.0.1:6001\"\nconsole = = true\n");
  CHECK(e.file == kFile.string());
  CHECK(e.line >= 3);
  CHECK(e.key.empty());
  CHECK(contains(e.reason, "TOML syntax error"));
  CHECK(contains(e.to_string(), kFile.string() + ":" + std::to_string(e.line) + ": TOML syntax error"));

  const auto e2 = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nthis is not toml\n");
  CHECK(e2.line == 3);
  CHECK(contains(e2.reason, "TOML syntax error"));
}

TEST_CASE("an unknown section is refused with its name and line", "[config]") {
  const auto e = parse_err(kMinimalPeer + "[gossipp]\ncount = 3\n");
  CHECK(e.file == kFile.string());
  CHECK(e.key == "gossipp");
  CHECK(e.reason == "unknown section");
  CHECK(e.line == 4);
}

TEST_CASE("an unknown key is refused with its dotted name and line", "[config]") {
  const auto e = parse_err(kMinimalPeer + "[overlay]\nmax_degre = 3\n");
  CHECK(e.file == kFile.string());
  CHECK(e.key == "overlay.max_degre");
  CHECK(e.reason == "unknown key");
  CHECK(e.line == 5);
  CHECK(e.to_string() == kFile.string() + ":5: key 'overlay.max_degre': unknown key");

  const auto top = parse_err("colour = \"red\"\n" + kMinimalPeer);
  CHECK(top.key == "colour");
  CHECK(top.line == 1);
  CHECK(top.reason == "unknown key");
}

TEST_CASE("a value of the wrong type is refused naming key, line and expected type", "[config]") {
  {
    const auto e = parse_err(kMinimalPeer + "[overlay]\nmax_degree = \"4\"\n");
    CHECK(e.key == "overlay.max_degree");
    CHECK(e.line == 5);
    CHECK(e.reason == "must be an integer");
  }
  {
    const auto e = parse_err(kMinimalPeer + "console = \"yes\"\n");
    CHECK(e.key == "node.console");
    CHECK(e.line == 4);
    CHECK(contains(e.reason, "true or false"));
  }
  {
    const auto e = parse_err(kMinimalPeer + "[liveness]\ninterval_ms = 1.5\n");
    CHECK(e.key == "liveness.interval_ms");
    CHECK(e.reason == "must be an integer");
  }
  {
    const auto e = parse_err("[node]\nlisten = 7001\nseeds = [\"127.0.0.1:6001\"]\n");
    CHECK(e.key == "node.listen");
    CHECK(e.line == 2);
    CHECK(contains(e.reason, "must be a string"));
  }
  {
    const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds = \"127.0.0.1:6001\"\n");
    CHECK(e.key == "node.seeds");
    CHECK(e.line == 3);
    CHECK(contains(e.reason, "array"));
  }
}

TEST_CASE("a value out of range is refused with the allowed range and the value", "[config]") {
  {
    const auto e = parse_err(kMinimalPeer + "[overlay]\nmax_degree = 0\n");
    CHECK(e.key == "overlay.max_degree");
    CHECK(e.line == 5);
    CHECK(e.reason == "must be between 1 and 64 (got 0)");
  }
  {
    const auto e = parse_err(kMinimalPeer + "[seed]\npeer_list_max = 1025\n");  // the wire's limit
    CHECK(e.key == "seed.peer_list_max");
    CHECK(e.reason == "must be between 1 and 1024 (got 1025)");
  }
  {
    const auto e = parse_err(kMinimalPeer + "[liveness]\nmax_misses = 1001\n");
    CHECK(e.key == "liveness.max_misses");
    CHECK(contains(e.reason, "got 1001"));
  }
  {
    const auto e = parse_err(kMinimalPeer + "[gossip]\ncount = -1\n");
    CHECK(e.key == "gossip.count");
    CHECK(contains(e.reason, "between 0 and"));
  }
  {
    const auto e = parse_err(kMinimalPeer + "register_timeout_ms = 9\n");
    CHECK(e.key == "node.register_timeout_ms");
    CHECK(e.line == 4);
  }
}

TEST_CASE("a bad address is refused naming the key and the text", "[config]") {
  {
    const auto e = parse_err("[node]\nlisten = \"localhost:7001\"\nseeds = [\"127.0.0.1:6001\"]\n");
    CHECK(e.file == kFile.string());
    CHECK(e.key == "node.listen");
    CHECK(e.line == 2);
    CHECK(contains(e.reason, "bad address 'localhost:7001'"));
  }
  {
    const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds = [\"127.0.0.1:6001\", \"127.0.0.1:0\"]\n");
    CHECK(e.key == "node.seeds");
    CHECK(e.line == 3);
    CHECK(contains(e.reason, "item 2"));
  }
  {
    const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds = [\"127.0.0.1:6001\", \"127.0.0.1:6001\"]\n");
    CHECK(e.key == "node.seeds");
    CHECK(contains(e.reason, "twice"));
  }
  {
    const auto e = parse_err(kMinimalPeer + "advertise = \"127.0.0.1:0\"\n");
    CHECK(e.key == "node.advertise");
    CHECK(e.line == 4);
  }
  {
    const auto e = parse_err(kMinimalPeer + "advertise = \"0.0.0.0:7001\"\n");
    CHECK(e.key == "node.advertise");
    CHECK(contains(e.reason, "wildcard"));
  }
}

TEST_CASE("target_degree above max_degree is refused", "[config]") {
  const auto e = parse_err(kMinimalPeer + "[overlay]\nmax_degree = 3\ntarget_degree = 4\n");
  CHECK(e.file == kFile.string());
  CHECK(e.key == "overlay.target_degree");
  CHECK(e.line == 6);
  CHECK(contains(e.reason, "must not exceed overlay.max_degree (3)"));
  // Equal is fine.
  CHECK(parse_ok(kMinimalPeer + "[overlay]\nmax_degree = 3\ntarget_degree = 3\n").overlay.target_degree == 3);
}

TEST_CASE("retry_min above retry_max is refused", "[config]") {
  const auto e = parse_err(kMinimalPeer + "retry_min_ms = 900\nretry_max_ms = 800\n");
  CHECK(e.key == "node.retry_min_ms");
  CHECK(e.line == 4);
}

TEST_CASE("a config without node.listen is refused", "[config]") {
  const auto e = parse_err("[node]\nseeds = [\"127.0.0.1:6001\"]\n");
  CHECK(e.file == kFile.string());
  CHECK(e.key == "node.listen");
  CHECK(e.line == 0);
  CHECK(e.reason == "is required");
  CHECK(parse_err("", Role::kSeed).key == "node.listen");
}

TEST_CASE("a peer with no seeds is refused, a seed is not", "[config]") {
  const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\n");
  CHECK(e.key == "node.seeds");
  CHECK(contains(e.reason, "at least one seed"));
  const auto empty = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds = []\n");
  CHECK(empty.key == "node.seeds");
  CHECK(empty.line == 3);
}

TEST_CASE("a wildcard listen address needs an advertise address", "[config]") {
  for (const char* listen : {"0.0.0.0:7001", "[::]:7001"}) {
    INFO(listen);
    const auto e = parse_err(std::string("[node]\nlisten = \"") + listen + "\"\nseeds = [\"127.0.0.1:6001\"]\n");
    CHECK(e.key == "node.advertise");
    CHECK(e.line == 2);
    CHECK(contains(e.reason, "wildcard"));
  }
  const auto ok = parse_ok("[node]\nlisten = \"0.0.0.0:7001\"\nadvertise = \"10.1.2.3:7001\"\nseeds = [\"127.0.0.1:6001\"]\n");
  CHECK(ok.advertised() == addr("10.1.2.3:7001"));
}

TEST_CASE("a seed's peer lease must be 0 or at least twice the re-registration interval", "[config]") {
  const std::string seed = "[node]\nlisten = \"127.0.0.1:6001\"\nreregister_interval_ms = 1000\n[seed]\n";
  const auto e = parse_err(seed + "peer_ttl_ms = 1999\n", Role::kSeed);
  CHECK(e.key == "seed.peer_ttl_ms");
  CHECK(e.line == 5);
  CHECK(contains(e.reason, "twice"));
  CHECK(parse_ok(seed + "peer_ttl_ms = 2000\n", Role::kSeed).seed.peer_ttl == milliseconds(2000));
  CHECK(parse_ok(seed + "peer_ttl_ms = 0\n", Role::kSeed).seed.peer_ttl == milliseconds(0));
}

TEST_CASE("a control endpoint in a seed's config is refused", "[config]") {
  const auto e = parse_err("[node]\nlisten = \"127.0.0.1:6001\"\ncontrol = \"127.0.0.1:0\"\n", Role::kSeed);
  CHECK(e.key == "node.control");
  CHECK(e.line == 3);
}

TEST_CASE("seeds_file is read relative to the config file's directory", "[config]") {
  TempDir dir;
  dir.write("seeds.toml", "seeds = [\"127.0.0.1:6001\", \"127.0.0.1:6002\", \"[::1]:6003\"]\n");
  const auto c = parse_ok("[node]\nlisten = \"127.0.0.1:7001\"\nseeds_file = \"seeds.toml\"\n", Role::kPeer,
                          dir.path / "peer.toml");
  REQUIRE(c.node.seeds.size() == 3);
  CHECK(c.node.seeds[0] == addr("127.0.0.1:6001"));
  CHECK(c.node.seeds[2] == addr("[::1]:6003"));

  // And through load_config, which reads the file itself.
  dir.write("peer.toml", "[node]\nlisten = \"127.0.0.1:7001\"\nseeds_file = \"seeds.toml\"\nlog_dir = \"out/logs\"\n");
  auto loaded = load_config(dir.path / "peer.toml", Role::kPeer);
  REQUIRE(std::holds_alternative<Config>(loaded));
  CHECK(std::get<Config>(loaded).node.seeds.size() == 3);
  CHECK(std::get<Config>(loaded).node.log_dir == dir.path / "out/logs");
}

TEST_CASE("a seeds_file that is missing, malformed or has no seeds array is refused", "[config]") {
  TempDir dir;
  const fs::path cfg = dir.path / "peer.toml";
  {
    const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds_file = \"absent.toml\"\n", Role::kPeer, cfg);
    CHECK(e.key == "node.seeds_file");
    CHECK(e.line == 3);
    CHECK(contains(e.reason, (dir.path / "absent.toml").string()));
  }
  {
    dir.write("noseeds.toml", "peers = []\n");
    const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds_file = \"noseeds.toml\"\n", Role::kPeer, cfg);
    CHECK(e.key == "node.seeds_file");
    CHECK(contains(e.reason, "no 'seeds' array"));
  }
  {
    dir.write("badaddr.toml", "seeds = [\"seed.example:6001\"]\n");
    const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds_file = \"badaddr.toml\"\n", Role::kPeer, cfg);
    CHECK(e.key == "node.seeds_file");
    CHECK(contains(e.reason, "seed.example"));
  }
}

TEST_CASE("giving both seeds and seeds_file is refused", "[config]") {
  TempDir dir;
  dir.write("seeds.toml", "seeds = [\"127.0.0.1:6002\"]\n");
  const auto e = parse_err("[node]\nlisten = \"127.0.0.1:7001\"\nseeds = [\"127.0.0.1:6001\"]\nseeds_file = \"seeds.toml\"\n",
                           Role::kPeer, dir.path / "peer.toml");
  CHECK(e.file == (dir.path / "peer.toml").string());
  CHECK(e.key == "node.seeds_file");
  CHECK(e.line == 4);
  CHECK(contains(e.reason, "not both"));
}

TEST_CASE("log_dir is relative to the config file's directory unless absolute", "[config]") {
  TempDir dir;
  const fs::path cfg = dir.path / "sub" / "peer.toml";
  CHECK(parse_ok(kMinimalPeer, Role::kPeer, cfg).node.log_dir == dir.path / "sub" / "logs");
  CHECK(parse_ok(kMinimalPeer + "log_dir = \"here\"\n", Role::kPeer, cfg).node.log_dir == dir.path / "sub" / "here");
  CHECK(parse_ok(kMinimalPeer + "log_dir = \"../there\"\n", Role::kPeer, cfg).node.log_dir ==
        dir.path / "sub" / "../there");
  CHECK(parse_ok(kMinimalPeer + "log_dir = \"/abs/logs\"\n", Role::kPeer, cfg).node.log_dir == fs::path("/abs/logs"));
  const auto e = parse_err(kMinimalPeer + "log_dir = \"\"\n", Role::kPeer, cfg);
  CHECK(e.key == "node.log_dir");
}

TEST_CASE("load_config on a missing file names the file", "[config]") {
  TempDir dir;
  auto r = load_config(dir.path / "nope.toml", Role::kPeer);
  REQUIRE(std::holds_alternative<ConfigError>(r));
  CHECK(std::get<ConfigError>(r).file == (dir.path / "nope.toml").string());
  CHECK(contains(std::get<ConfigError>(r).reason, "cannot open"));
}
