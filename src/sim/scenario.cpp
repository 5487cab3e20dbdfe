#include "sim/scenario.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/config_table.hpp"

namespace gossip::sim {

namespace {
using std::chrono::milliseconds;

Duration from_ms(double ms) { return Duration(static_cast<std::int64_t>(std::llround(ms * 1e6))); }

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// Reads the keys of one table, each with its own checker; any key it does not know is an error.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const std::string& file)
      : table_(table), prefix_(std::move(prefix)), file_(file) {}

  const std::optional<ScenarioError>& error() const { return error_; }

  void integer(std::string_view key, long long lo, long long hi, const std::function<void(long long)>& set) {
    known_.emplace_back(key);
    const auto* n = table_.get(key);
    if (!n || error_) return;
    if (!n->is_integer()) return fail(*n, key, "must be an integer");
    const auto v = *n->value<long long>();
    if (v < lo || v > hi)
      return fail(*n, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " +
                               std::to_string(v) + ")");
    set(v);
  }
  void number(std::string_view key, double lo, double hi, const std::function<void(double)>& set) {
    known_.emplace_back(key);
    const auto* n = table_.get(key);
    if (!n || error_) return;
    if (!n->is_number()) return fail(*n, key, "must be a number");
    const auto v = *n->value<double>();
    if (!(v >= lo && v <= hi))
      return fail(*n, key, "must be between " + trim(lo) + " and " + trim(hi) + " (got " + trim(v) + ")");
    set(v);
  }
  void string(std::string_view key, const std::function<std::optional<std::string>(const std::string&)>& set) {
    known_.emplace_back(key);
    const auto* n = table_.get(key);
    if (!n || error_) return;
    if (!n->is_string()) return fail(*n, key, "must be a string");
    if (auto why = set(*n->value<std::string>())) fail(*n, key, *why);
  }
  void strings(std::string_view key, std::vector<std::string>& out) {
    known_.emplace_back(key);
    const auto* n = table_.get(key);
    if (!n || error_) return;
    const auto* arr = n->as_array();
    if (!arr) return fail(*n, key, "must be an array of strings");
    for (const auto& item : *arr) {
      if (!item.is_string()) return fail(item, key, "must be an array of strings");
      out.push_back(*item.value<std::string>());
    }
  }
  // A key read by the caller itself.
  void other(std::string_view key) { known_.emplace_back(key); }

  // Call after reading every key: refuses keys nobody read.
  void finish() {
    if (error_) return;
    for (auto&& [k, v] : table_)
      if (std::find(known_.begin(), known_.end(), k.str()) == known_.end()) return fail(v, k.str(), "unknown key");
  }
  void fail(const toml::node& n, std::string_view key, const std::string& reason) {
    if (!error_) error_ = ScenarioError{file_, line_of(n), prefix_ + std::string(key), reason};
  }

 private:
  static std::string trim(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }
  const toml::table& table_;
  std::string prefix_;
  const std::string& file_;
  std::vector<std::string> known_;
  std::optional<ScenarioError> error_;
};

std::optional<ScenarioError> read_latency(const toml::node& n, const std::string& file, LatencyModel& out) {
  const auto* t = n.as_table();
  if (!t) return ScenarioError{file, line_of(n), "network.latency", "must be a table such as { dist = \"uniform\", min_ms = 0.2, max_ms = 2 }"};
  TableReader r(*t, "network.latency.", file);
  std::string dist = "uniform";
  r.string("dist", [&](const std::string& v) -> std::optional<std::string> {
    if (v != "fixed" && v != "uniform" && v != "normal" && v != "lognormal")
      return "must be \"fixed\", \"uniform\", \"normal\" or \"lognormal\"";
    dist = v;
    return std::nullopt;
  });
  using K = LatencyModel::Kind;
  auto ms = [&](std::string_view key, double& field) { r.number(key, 0, 3.6e6, [&](double v) { field = v; }); };
  if (dist == "fixed") {
    out.kind = K::kFixed;
    ms("ms", out.a_ms);
  } else if (dist == "uniform") {
    out.kind = K::kUniform;
    ms("min_ms", out.a_ms);
    ms("max_ms", out.b_ms);
    if (!r.error() && out.b_ms < out.a_ms) r.fail(n, "max_ms", "must not be below min_ms");
  } else if (dist == "normal") {
    out.kind = K::kNormal;
    ms("mean_ms", out.a_ms);
    ms("sd_ms", out.b_ms);
  } else {
    out.kind = K::kLognormal;
    ms("median_ms", out.a_ms);
    r.number("sigma", 0, 10, [&](double v) { out.b_ms = v; });
  }
  ms("floor_ms", out.min_ms);
  r.finish();
  return r.error();
}

std::optional<ScenarioError> read_action(const toml::table& t, const std::string& file, int index, Action& a) {
  TableReader r(t, "timeline[" + std::to_string(index) + "].", file);
  a.line = line_of(t);
  bool has_at = false, has_action = false;
  r.integer("at_ms", 0, 30LL * 86'400'000, [&](long long v) {
    a.at = milliseconds(v);
    has_at = true;
  });
  r.string("action", [&](const std::string& v) -> std::optional<std::string> {
    using K = Action::Kind;
    static const std::pair<std::string_view, K> kinds[] = {
        {"start", K::kStart},       {"kill", K::kKill},       {"pause", K::kPause},     {"resume", K::kResume},
        {"restart", K::kRestart},   {"partition", K::kPartition}, {"heal", K::kHeal},
        {"join", K::kJoin},         {"publish", K::kPublish}, {"loss", K::kLoss}};
    for (const auto& [name, kind] : kinds)
      if (v == name) {
        a.kind = kind;
        has_action = true;
        return std::nullopt;
      }
    return "must be one of start, kill, pause, resume, restart, partition, heal, join, publish, loss";
  });
  r.string("node", [&](const std::string& v) -> std::optional<std::string> {
    a.nodes.push_back(v);
    return std::nullopt;
  });
  r.strings("nodes", a.nodes);
  r.integer("random_peers", 1, 10'000'000, [&](long long v) { a.random_peers = static_cast<int>(v); });
  r.integer("for_ms", 1, 30LL * 86'400'000, [&](long long v) { a.length = milliseconds(v); });
  r.strings("hosts", a.hosts);
  r.integer("count", 1, 100'000'000, [&](long long v) { a.count = static_cast<int>(v); });
  r.integer("every_ms", 0, 86'400'000, [&](long long v) { a.every = milliseconds(v); });
  r.string("message", [&](const std::string& v) -> std::optional<std::string> {
    a.message = v;
    return std::nullopt;
  });
  r.number("rate", 0, 1, [&](double v) { a.rate = v; });
  r.finish();
  if (r.error()) return r.error();
  auto missing = [&](std::string_view key, std::string why) {
    return ScenarioError{file, a.line, "timeline[" + std::to_string(index) + "]." + std::string(key), std::move(why)};
  };
  if (!has_at) return missing("at_ms", "is required");
  if (!has_action) return missing("action", "is required");
  using K = Action::Kind;
  const bool targets = !a.nodes.empty() || a.random_peers > 0;
  switch (a.kind) {
    case K::kStart:
    case K::kKill:
    case K::kPause:
    case K::kResume:
    case K::kRestart:
      if (!targets) return missing("node", "give node, nodes or random_peers");
      break;
    case K::kPartition:
      if (a.hosts.empty()) return missing("hosts", "is required: the hosts cut off from the rest");
      break;
    case K::kJoin:
      if (a.count == 0) return missing("count", "is required");
      break;
    case K::kPublish:
      if (a.count == 0) a.count = 1;
      break;
    case K::kHeal:
    case K::kLoss:
      break;
  }
  return std::nullopt;
}

// Node configs: the scenario's [config] with node.listen and node.seeds filled in, read by the same code
// as a node's own file. Filled in place: a copied toml++ table forgets the lines its values came from.
std::optional<ScenarioError> fill_node_table(toml::table& config, const std::string& file, const std::vector<Address>& seeds) {
  if (const auto* node = config.get("node"); node && node->as_table()) {
    for (const char* key : {"listen", "advertise", "seeds", "seeds_file", "log_dir", "control"})
      if (const auto* n = node->as_table()->get(key))
        return ScenarioError{file, line_of(*n), std::string("config.node.") + key, "is set by the simulator for each node"};
  }
  if (!config.get("node")) config.insert_or_assign("node", toml::table{});
  auto* node = config["node"].as_table();
  if (!node) return ScenarioError{file, line_of(*config.get("node")), "config.node", "must be a table"};
  node->insert_or_assign("listen", "10.0.0.1:5000");
  toml::array list;
  for (const auto& s : seeds) list.push_back(s.to_string());
  node->insert_or_assign("seeds", std::move(list));
  return std::nullopt;
}

std::variant<Config, ScenarioError> node_config(const toml::table& config, const std::string& file, Role role) {
  return config_from_table(config, file, role, "config.");
}

std::vector<Address> seed_addresses(int seeds) {
  std::vector<Address> out;
  for (int i = 1; i <= seeds; ++i) out.push_back(seed_address(i));
  return out;
}
}  // namespace

namespace {
// The standard normal quantile function (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normal_quantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
constexpr int kQuantileBits = 12;
}  // namespace

LatencySampler::LatencySampler(const LatencyModel& model) : model_(model) {
  using K = LatencyModel::Kind;
  if (model.kind != K::kNormal && model.kind != K::kLognormal) return;
  const int n = 1 << kQuantileBits;
  quantiles_ms_.reserve(n + 1);
  for (int i = 0; i <= n; ++i) {
    // Midpoints of n equal-probability bins, the ends pulled in to the 1/(2n) tails.
    const double p = (std::clamp(i, 0, n) + 0.5) / (n + 1.0);
    const double z = normal_quantile(p);
    quantiles_ms_.push_back(model.kind == K::kNormal ? model.a_ms + model.b_ms * z : model.a_ms * std::exp(model.b_ms * z));
  }
}

Duration LatencySampler::sample(std::mt19937_64& rng) const {
  double ms = model_.a_ms;
  if (!quantiles_ms_.empty()) {
    const std::uint64_t r = rng();
    const auto i = static_cast<std::size_t>(r >> (64 - kQuantileBits));
    const double frac = static_cast<double>((r >> (64 - kQuantileBits - 20)) & 0xFFFFF) / 1048576.0;
    ms = quantiles_ms_[i] + (quantiles_ms_[i + 1] - quantiles_ms_[i]) * frac;
  } else if (model_.kind == LatencyModel::Kind::kUniform) {
    ms = std::uniform_real_distribution<double>(model_.a_ms, model_.b_ms)(rng);
  }
  return from_ms(std::max(ms, model_.min_ms));
}

// Appending, not operator+(const char*, string&&): GCC 12 warns falsely (-Wrestrict) on the latter.
std::string node_name(bool is_seed, int index) {
  std::string name = is_seed ? "seed-" : "peer-";
  return name += std::to_string(index);
}

std::string host_name(int index) {
  std::string name = "h";
  return name += std::to_string(index);
}

Address seed_address(int index) { return Address{"10.0.0." + std::to_string(index), 5000}; }

Address peer_address(int index) {
  const auto i = static_cast<unsigned>(index);
  return Address{"10." + std::to_string(1 + i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
                     std::to_string(i % 256),
                 7000};
}

std::variant<Scenario, ScenarioError> parse_scenario(std::string_view text, const std::filesystem::path& path) {
  const std::string file = path.string();
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return ScenarioError{file, static_cast<int>(e.source().begin.line), "", "TOML syntax error: " + std::string(e.description())};
  }
  Scenario s;
  s.file = path;
  s.name = path.stem().string();
  TableReader top(root, "", file);
  top.string("name", [&](const std::string& v) -> std::optional<std::string> {
    if (v.empty()) return "must not be empty";
    s.name = v;
    return std::nullopt;
  });
  top.integer("seed", 0, std::numeric_limits<long long>::max(), [&](long long v) { s.seed = static_cast<std::uint64_t>(v); });
  top.integer("duration_ms", 1, 30LL * 86'400'000, [&](long long v) { s.duration = milliseconds(v); });
  top.integer("grace_ms", 1, 86'400'000, [&](long long v) { s.grace = milliseconds(v); });
  top.other("start_utc");
  if (const auto* n = root.get("start_utc")) {
    const auto* dt = n->as_date_time();
    if (!dt || !dt->get().offset)
      return ScenarioError{file, line_of(*n), "start_utc", "must be a TOML date-time with an offset, e.g. 2026-01-01T00:00:00Z"};
    const auto& v = dt->get();
    std::tm tm{};
    tm.tm_year = v.date.year - 1900;
    tm.tm_mon = v.date.month - 1;
    tm.tm_mday = v.date.day;
    tm.tm_hour = v.time.hour;
    tm.tm_min = v.time.minute;
    tm.tm_sec = v.time.second;
    const auto secs = static_cast<std::int64_t>(timegm(&tm)) - v.offset->minutes * 60;
    if (secs < 0) return ScenarioError{file, line_of(*n), "start_utc", "must not be before 1970"};
    s.start_wall_us = static_cast<std::uint64_t>(secs) * 1'000'000 + v.time.nanosecond / 1000;
  }
  for (const char* section : {"cluster", "network", "config"}) top.other(section);
  top.other("timeline");
  top.finish();
  if (top.error()) return *top.error();

  if (const auto* n = root.get("cluster")) {
    if (!n->as_table()) return ScenarioError{file, line_of(*n), "cluster", "must be a table"};
    TableReader r(*n->as_table(), "cluster.", file);
    r.integer("seeds", 1, 250, [&](long long v) { s.seeds = static_cast<int>(v); });
    r.integer("peers", 0, 4'000'000, [&](long long v) { s.peers = static_cast<int>(v); });
    r.integer("hosts", 1, 1000, [&](long long v) { s.hosts = static_cast<int>(v); });
    r.integer("seeds_start_ms", 0, 30LL * 86'400'000, [&](long long v) { s.seeds_start = milliseconds(v); });
    r.integer("join_start_ms", 0, 30LL * 86'400'000, [&](long long v) { s.join_start = milliseconds(v); });
    r.number("join_every_ms", 0, 86'400'000, [&](double v) { s.join_every = from_ms(v); });
    r.finish();
    if (r.error()) return *r.error();
  }
  if (const auto* n = root.get("network")) {
    if (!n->as_table()) return ScenarioError{file, line_of(*n), "network", "must be a table"};
    TableReader r(*n->as_table(), "network.", file);
    r.other("latency");
    r.number("loss", 0, 1, [&](double v) { s.network.loss = v; });
    r.number("clock_skew_ms", 0, 86'400'000, [&](double v) { s.network.clock_skew_ms = v; });
    r.finish();
    if (r.error()) return *r.error();
    if (const auto* lat = n->as_table()->get("latency"))
      if (auto err = read_latency(*lat, file, s.network.latency)) return *err;
  }
  toml::table empty;
  toml::table* config = &empty;
  if (auto* n = root.get("config")) {
    config = n->as_table();
    if (!config) return ScenarioError{file, line_of(*n), "config", "must be a table (a node config)"};
    std::ostringstream out;
    out << toml::toml_formatter(*config);
    s.config_toml = out.str();
  }
  if (auto err = fill_node_table(*config, file, seed_addresses(s.seeds))) return *err;
  auto seed_cfg = node_config(*config, file, Role::kSeed);
  if (auto* err = std::get_if<ScenarioError>(&seed_cfg)) return *err;
  s.seed_config = std::get<Config>(std::move(seed_cfg));
  auto peer_cfg = node_config(*config, file, Role::kPeer);
  if (auto* err = std::get_if<ScenarioError>(&peer_cfg)) return *err;
  s.peer_config = std::get<Config>(std::move(peer_cfg));

  int total_peers = s.peers;
  if (const auto* n = root.get("timeline")) {
    const auto* arr = n->as_array();
    if (!arr) return ScenarioError{file, line_of(*n), "timeline", "must be an array of tables ([[timeline]])"};
    int index = 0;
    for (const auto& item : *arr) {
      ++index;
      const auto* t = item.as_table();
      if (!t) return ScenarioError{file, line_of(item), "timeline", "must be an array of tables ([[timeline]])"};
      Action a;
      if (auto err = read_action(*t, file, index, a)) return *err;
      if (a.kind == Action::Kind::kJoin) total_peers += a.count;
      s.timeline.push_back(std::move(a));
    }
  }
  // Names and hosts must exist (peers that join later included).
  for (std::size_t i = 0; i < s.timeline.size(); ++i) {
    const auto& a = s.timeline[i];
    const std::string where = "timeline[" + std::to_string(i + 1) + "]";
    for (const auto& name : a.nodes) {
      const bool seed = name.rfind("seed-", 0) == 0, peer = name.rfind("peer-", 0) == 0;
      const int limit = seed ? s.seeds : total_peers;
      int k = 0;
      const auto digits = std::string_view(name).substr(5);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
      if ((!seed && !peer) || ec != std::errc{} || end != digits.data() + digits.size() || k < 1 || k > limit)
        return ScenarioError{file, a.line, where + ".node",
                             "no node named '" + name + "' (seed-1..seed-" + std::to_string(s.seeds) + ", peer-1..peer-" +
                                 std::to_string(total_peers) + ")"};
    }
    for (const auto& h : a.hosts) {
      bool found = false;
      for (int k = 1; k <= s.hosts; ++k) found = found || h == host_name(k);
      if (!found)
        return ScenarioError{file, a.line, where + ".hosts",
                             "no host named '" + h + "' (h1..h" + std::to_string(s.hosts) + ")"};
    }
  }
  std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const Action& x, const Action& y) { return x.at < y.at; });
  return s;
}

std::variant<Scenario, ScenarioError> load_scenario(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ScenarioError{file.string(), 0, "", "cannot open the file"};
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), file);
}

}  // namespace gossip::sim
