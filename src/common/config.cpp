#include "common/config.hpp"

#include <fstream>
#include <functional>
#include <sstream>

#include "common/config_table.hpp"

namespace gossip {
namespace fs = std::filesystem;

std::string ConfigError::to_string() const {
  std::string s = file;
  if (line > 0) s.append(":").append(std::to_string(line));
  s.append(": ");
  if (!key.empty()) s.append("key '").append(key).append("': ");
  return s.append(reason);
}

namespace {

// A key's checker writes the value into Config or returns the reason it is refused.
using Apply = std::function<std::optional<std::string>(const toml::node&, Config&)>;
struct KeySpec {
  std::string_view section;  // "" for top level
  std::string_view name;
  Apply apply;
};

std::optional<std::string> none() { return std::nullopt; }

Apply integer(long long lo, long long hi, std::function<void(Config&, long long)> set) {
  return [=](const toml::node& n, Config& c) -> std::optional<std::string> {
    if (!n.is_integer()) return "must be an integer";
    const auto v = n.value<long long>().value_or(0);
    if (v < lo || v > hi)
      return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " +
             std::to_string(v) + ")";
    set(c, v);
    return none();
  };
}

template <class Section>
Apply duration_ms(long long lo, long long hi, Section Config::*section, Millis Section::*field) {
  return integer(lo, hi, [=](Config& c, long long v) { (c.*section).*field = Millis{v}; });
}

std::optional<std::string> read_address(const toml::node& n, Address& out, bool allow_port_zero) {
  if (!n.is_string()) return "must be a string \"IP:port\"";
  std::string why;
  auto a = parse_address(n.value<std::string>().value_or(""), &why, allow_port_zero);
  if (!a) return "bad address '" + n.value<std::string>().value_or("") + "': " + why;
  out = *a;
  return none();
}

std::optional<std::string> read_address_list(const toml::node& n, std::vector<Address>& out) {
  const auto* arr = n.as_array();
  if (!arr) return "must be an array of \"IP:port\" strings";
  out.clear();
  for (const auto& item : *arr) {
    Address a;
    if (auto err = read_address(item, a, false)) return "item " + std::to_string(out.size() + 1) + ": " + *err;
    for (const auto& seen : out)
      if (seen == a) return "lists " + a.to_string() + " twice";
    out.push_back(a);
  }
  return none();
}

fs::path relative_to(const fs::path& file, const std::string& p) {
  fs::path path(p);
  return path.is_relative() ? file.parent_path() / path : path;
}

// A path relative to the config file's directory.
Apply path_to(const fs::path& file, fs::path SecurityConfig::*field) {
  return [=](const toml::node& n, Config& c) -> std::optional<std::string> {
    if (!n.is_string() || n.value<std::string>()->empty()) return "must be a non-empty string (a path)";
    c.security.*field = relative_to(file, *n.value<std::string>());
    return none();
  };
}

// The assignment's timings are the "default" preset; "fast" shrinks every timer for tests and demos.
void apply_preset(Config& c) {
  if (c.preset != "fast") return;
  c.node.register_timeout = Millis{500};
  c.node.retry_min = Millis{100};
  c.node.retry_max = Millis{1000};
  c.node.reregister_interval = Millis{3000};
  c.overlay.link_timeout = Millis{500};
  c.overlay.refill_interval = Millis{500};
  c.gossip.interval = Millis{200};
  c.gossip.stats_interval = Millis{1000};
  c.liveness.interval = Millis{300};
  c.seed.peer_ttl = Millis{12000};
}

std::vector<KeySpec> schema(const fs::path& file) {
  constexpr long long kDay = 86'400'000;
  std::vector<KeySpec> s;
  s.push_back({"", "preset", {}});  // handled first, before the others
  s.push_back({"node", "listen", [](const toml::node& n, Config& c) {
                 return read_address(n, c.node.listen, true);
               }});
  s.push_back({"node", "advertise", [](const toml::node& n, Config& c) {
                 Address a;
                 auto err = read_address(n, a, false);
                 if (!err && is_wildcard(a)) return std::optional<std::string>("cannot be a wildcard address");
                 if (!err) c.node.advertise = a;
                 return err;
               }});
  s.push_back({"node", "log_dir", [file](const toml::node& n, Config& c) -> std::optional<std::string> {
                 if (!n.is_string() || n.value<std::string>()->empty()) return "must be a non-empty string";
                 c.node.log_dir = relative_to(file, *n.value<std::string>());
                 return none();
               }});
  s.push_back({"node", "seeds", [](const toml::node& n, Config& c) {
                 return read_address_list(n, c.node.seeds);
               }});
  s.push_back({"node", "seeds_file", [file](const toml::node& n, Config& c) -> std::optional<std::string> {
                 if (!n.is_string()) return "must be a string (a path)";
                 const auto path = relative_to(file, *n.value<std::string>());
                 try {
                   auto t = toml::parse_file(path.string());
                   const auto* seeds = t.get("seeds");
                   if (!seeds) return path.string() + " has no 'seeds' array";
                   if (auto err = read_address_list(*seeds, c.node.seeds)) return path.string() + ": seeds: " + *err;
                 } catch (const toml::parse_error& e) {
                   return "cannot read " + path.string() + ": " + std::string(e.description());
                 }
                 return none();
               }});
  s.push_back({"node", "console", [](const toml::node& n, Config& c) -> std::optional<std::string> {
                 if (!n.is_boolean()) return "must be true or false";
                 c.node.console = *n.value<bool>();
                 return none();
               }});
  s.push_back({"node", "control", [](const toml::node& n, Config& c) -> std::optional<std::string> {
                 if (n.is_string() && n.value<std::string>()->empty()) return none();
                 Address a;
                 if (auto err = read_address(n, a, true)) return err;
                 c.node.control = a;
                 return none();
               }});
  s.push_back({"node", "register_timeout_ms", duration_ms(10, kDay, &Config::node, &NodeConfig::register_timeout)});
  s.push_back({"node", "retry_min_ms", duration_ms(1, kDay, &Config::node, &NodeConfig::retry_min)});
  s.push_back({"node", "retry_max_ms", duration_ms(1, kDay, &Config::node, &NodeConfig::retry_max)});
  s.push_back({"node", "reregister_interval_ms",
               duration_ms(10, kDay, &Config::node, &NodeConfig::reregister_interval)});
  s.push_back({"overlay", "max_degree",
               integer(1, 64, [](Config& c, long long v) { c.overlay.max_degree = static_cast<int>(v); })});
  s.push_back({"overlay", "target_degree",
               integer(1, 64, [](Config& c, long long v) { c.overlay.target_degree = static_cast<int>(v); })});
  s.push_back({"overlay", "link_timeout_ms",
               duration_ms(10, kDay, &Config::overlay, &OverlayConfig::link_timeout)});
  s.push_back({"overlay", "refill_interval_ms",
               duration_ms(10, kDay, &Config::overlay, &OverlayConfig::refill_interval)});
  s.push_back({"gossip", "interval_ms", duration_ms(1, kDay, &Config::gossip, &GossipConfig::interval)});
  s.push_back({"gossip", "count",
               integer(0, 1'000'000'000, [](Config& c, long long v) { c.gossip.count = static_cast<int>(v); })});
  s.push_back({"gossip", "start_delay_ms", duration_ms(0, kDay, &Config::gossip, &GossipConfig::start_delay)});
  s.push_back({"gossip", "seen_ttl_ms", duration_ms(1, 30 * kDay, &Config::gossip, &GossipConfig::seen_ttl)});
  s.push_back({"gossip", "seen_max", integer(1, 100'000'000, [](Config& c, long long v) {
                 c.gossip.seen_max = static_cast<std::size_t>(v);
               })});
  s.push_back({"gossip", "send_hwm",
               integer(1, 10'000'000, [](Config& c, long long v) { c.gossip.send_hwm = static_cast<int>(v); })});
  s.push_back({"gossip", "max_payload_bytes", integer(1, 65536, [](Config& c, long long v) {
                 c.gossip.max_payload = static_cast<std::size_t>(v);
               })});
  s.push_back({"gossip", "stats_interval_ms",
               duration_ms(10, kDay, &Config::gossip, &GossipConfig::stats_interval)});
  s.push_back({"liveness", "interval_ms", duration_ms(10, kDay, &Config::liveness, &LivenessConfig::interval)});
  s.push_back({"liveness", "max_misses",
               integer(1, 1000, [](Config& c, long long v) { c.liveness.max_misses = static_cast<int>(v); })});
  s.push_back({"seed", "max_peers", integer(1, 10'000'000, [](Config& c, long long v) {
                 c.seed.max_peers = static_cast<std::size_t>(v);
               })});
  s.push_back({"seed", "peer_list_max", integer(1, 1024, [](Config& c, long long v) {
                 c.seed.peer_list_max = static_cast<std::size_t>(v);
               })});
  s.push_back({"seed", "peer_ttl_ms", duration_ms(0, 30 * kDay, &Config::seed, &SeedConfig::peer_ttl)});
  s.push_back({"security", "mode", [](const toml::node& n, Config& c) -> std::optional<std::string> {
                 const auto v = n.value<std::string>();
                 if (!n.is_string() || (*v != "none" && *v != "curve")) return "must be \"curve\" or \"none\"";
                 c.security.mode = *v == "curve" ? SecurityConfig::Mode::kCurve : SecurityConfig::Mode::kNone;
                 return none();
               }});
  s.push_back({"security", "key_file", path_to(file, &SecurityConfig::key_file)});
  s.push_back({"security", "trusted_dir", path_to(file, &SecurityConfig::trusted_dir)});
  s.push_back({"security", "sign_origins", [](const toml::node& n, Config& c) -> std::optional<std::string> {
                 if (!n.is_boolean()) return "must be true or false";
                 c.security.sign_origins = *n.value<bool>();
                 return none();
               }});
  s.push_back({"security", "trust_reload_interval_ms",
               duration_ms(10, kDay, &Config::security, &SecurityConfig::trust_reload_interval)});
  return s;
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

}  // namespace

std::variant<Config, ConfigError> parse_config(std::string_view text, const fs::path& file, Role role) {
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return ConfigError{file.string(), static_cast<int>(e.source().begin.line), "",
                       "TOML syntax error: " + std::string(e.description())};
  }
  return config_from_table(root, file, role, "");
}

std::variant<Config, ConfigError> config_from_table(const toml::table& root, const fs::path& file, Role role,
                                                    std::string_view key_prefix) {
  const std::string name = file.string();
  const std::string prefix(key_prefix);
  Config c;
  c.file = file;
  c.node.log_dir = relative_to(file, "logs");
  if (const auto* p = root.get("preset")) {
    const auto v = p->value<std::string>();
    if (!v || (*v != "default" && *v != "fast"))
      return ConfigError{name, line_of(*p), prefix + "preset", "must be \"default\" or \"fast\""};
    c.preset = *v;
  }
  apply_preset(c);

  const auto keys = schema(file);
  auto find = [&](std::string_view section, std::string_view key) -> const KeySpec* {
    for (const auto& k : keys)
      if (k.section == section && k.name == key) return &k;
    return nullptr;
  };
  auto apply = [&](std::string_view section, std::string_view key, const toml::node& n) -> std::optional<ConfigError> {
    const std::string dotted = section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
    const KeySpec* spec = find(section, key);
    if (!spec) return ConfigError{name, line_of(n), prefix + dotted, "unknown key"};
    if (!spec->apply) return std::nullopt;
    if (auto err = spec->apply(n, c)) return ConfigError{name, line_of(n), prefix + dotted, *err};
    return std::nullopt;
  };

  for (auto&& [k, v] : root) {
    if (const auto* t = v.as_table()) {
      const std::string section(k.str());
      if (section != "node" && section != "overlay" && section != "gossip" && section != "liveness" &&
          section != "seed" && section != "security")
        return ConfigError{name, line_of(v), prefix + section, "unknown section"};
      for (auto&& [k2, v2] : *t)
        if (auto err = apply(section, k2.str(), v2)) return *err;
    } else if (auto err = apply("", k.str(), v)) {
      return *err;
    }
  }

  // Rules that tie keys together, checked once every key is read.
  auto at = [&](std::string_view dotted) {
    const auto* n = root.at_path(dotted).node();
    return n ? line_of(*n) : 0;
  };
  if (!root.at_path("node.listen")) return ConfigError{name, 0, prefix + "node.listen", "is required"};
  if (is_wildcard(c.node.listen) && !c.node.advertise)
    return ConfigError{name, at("node.listen"), prefix + "node.advertise",
                       "is required when node.listen is a wildcard address (others cannot dial 0.0.0.0)"};
  if (root.at_path("node.seeds") && root.at_path("node.seeds_file"))
    return ConfigError{name, at("node.seeds_file"), prefix + "node.seeds_file", "give either seeds or seeds_file, not both"};
  if (role == Role::kPeer && c.node.seeds.empty())
    return ConfigError{name, at("node.seeds"), prefix + "node.seeds", "a peer needs at least one seed"};
  if (c.overlay.target_degree > c.overlay.max_degree)
    return ConfigError{name, at("overlay.target_degree"), prefix + "overlay.target_degree",
                       "must not exceed overlay.max_degree (" + std::to_string(c.overlay.max_degree) + ")"};
  if (c.node.retry_min > c.node.retry_max)
    return ConfigError{name, at("node.retry_min_ms"), prefix + "node.retry_min_ms", "must not exceed node.retry_max_ms"};
  if (role == Role::kSeed && c.seed.peer_ttl.count() != 0 && c.seed.peer_ttl < 2 * c.node.reregister_interval)
    return ConfigError{name, at("seed.peer_ttl_ms"), prefix + "seed.peer_ttl_ms",
                       "must be 0 or at least twice node.reregister_interval_ms (" +
                           std::to_string(c.node.reregister_interval.count()) +
                           "), or live peers would expire between their registrations"};
  if (c.node.control && role == Role::kSeed)
    return ConfigError{name, at("node.control"), prefix + "node.control", "only peers have a control endpoint"};
  if (c.security.curve()) {
    if (c.security.key_file.empty())
      return ConfigError{name, at("security.mode"), prefix + "security.key_file", "is required when security.mode is \"curve\""};
    if (c.security.trusted_dir.empty())
      return ConfigError{name, at("security.mode"), prefix + "security.trusted_dir", "is required when security.mode is \"curve\""};
    if (c.advertised().port == 0)
      return ConfigError{name, at("node.listen"), prefix + "node.listen",
                         "port 0 cannot be used in security mode curve: a key speaks for exact addresses"};
  }
  return c;
}

std::variant<Config, ConfigError> load_config(const fs::path& file, Role role) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ConfigError{file.string(), 0, "", "cannot open the file"};
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file, role);
}

}  // namespace gossip
