// config.hpp — one node's settings, read from its TOML file (docs/CONFIG.md lists every key).
// Every problem is found here, before a socket exists; nothing else in the program validates settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/address.hpp"

namespace gossip {

using Millis = std::chrono::milliseconds;

struct NodeConfig {
  Address listen{"127.0.0.1", 0};      // where the inbox binds; port 0 picks a free port
  std::optional<Address> advertise;     // what others dial; unset means listen's (with the bound port)
  std::filesystem::path log_dir = "logs";
  std::vector<Address> seeds;           // the n seeds; a peer registers with floor(n/2)+1 of them
  bool console = true;                  // echo each log line to stdout
  std::optional<Address> control;       // a peer's local control endpoint for PUBLISH; unset = off
  Millis register_timeout{2000};        // how long a seed has to answer REGISTER
  Millis retry_min{250};                // backoff after a round in which no majority answered...
  Millis retry_max{5000};               // ...doubling up to this, with +-50% jitter
  Millis reregister_interval{30000};    // periodic REGISTER so a restarted seed relearns its peers
};

struct OverlayConfig {
  int max_degree = 4;             // links a peer accepts at most
  int target_degree = 2;          // links a peer asks for; the gap leaves room for newcomers
  Millis link_timeout{2000};      // how long a LINK_REQUEST may go unanswered
  Millis refill_interval{5000};   // how often a peer below target asks its seeds for fresh peers
};

struct GossipConfig {
  Millis interval{5000};          // between two originated messages
  int count = 10;                 // messages a peer originates on its own
  Millis start_delay{0};          // after the first neighbour_up, before the first message
  Millis seen_ttl{600000};        // Message List entry lifetime
  std::size_t seen_max = 100000;  // Message List size cap
  int send_hwm = 1000;            // per-neighbour outgoing queue bound (ZMQ_SNDHWM)
  std::size_t max_payload = 16384;  // largest PUBLISH payload accepted
  Millis stats_interval{10000};   // between gossip_stats lines
};

struct LivenessConfig {
  Millis interval{13000};  // between liveness rounds
  int max_misses = 3;      // unanswered rounds in a row that make a neighbour dead
};

struct SeedConfig {
  std::size_t max_peers = 10000;  // a full seed answers REGISTER with ERROR seed_full
  std::size_t peer_list_max = 1024;  // a PEER_LIST holds at most this many peers (a random sample)
  Millis peer_ttl{120000};        // a peer that has not registered for this long is dropped; 0 = never
};

// How a node proves who it is and whom it lets in (docs/SECURITY.md).
struct SecurityConfig {
  enum class Mode { kNone, kCurve };
  Mode mode = Mode::kNone;              // none: version 1's trust in the sender field (a warning at start)
  std::filesystem::path key_file;       // curve: this node's secret key file (gossip-ctl keygen)
  std::filesystem::path trusted_dir;    // curve: a directory of .pub files, one per member
  bool sign_origins = true;             // curve: every GOSSIP carries and needs its origin's signature
  Millis trust_reload_interval{1000};   // curve: how often trusted_dir is checked for changes
  bool curve() const { return mode == Mode::kCurve; }
  bool signing() const { return curve() && sign_origins; }
};

struct Config {
  std::filesystem::path file;  // where it was read from
  std::string preset = "default";
  NodeConfig node;
  OverlayConfig overlay;
  GossipConfig gossip;
  LivenessConfig liveness;
  SeedConfig seed;
  SecurityConfig security;

  // advertise if set, else listen.
  Address advertised() const { return node.advertise.value_or(node.listen); }
};

struct ConfigError {
  std::string file;
  int line = 0;     // 0 when the problem has no single place (a missing key)
  std::string key;  // dotted, e.g. "overlay.max_degree"; empty for a syntax error
  std::string reason;
  // "FILE:LINE: key 'K': REASON", the one message a bad config prints.
  std::string to_string() const;
};

enum class Role { kSeed, kPeer };

// Reads and validates a config file. Returns the error (never throws) on a missing or unreadable file,
// a TOML syntax error, an unknown section or key, a wrong type, an out-of-range value or a bad address.
std::variant<Config, ConfigError> load_config(const std::filesystem::path& file, Role role);

// Same, from text; `file` names it in errors and anchors relative paths.
std::variant<Config, ConfigError> parse_config(std::string_view text, const std::filesystem::path& file,
                                               Role role);

}  // namespace gossip
