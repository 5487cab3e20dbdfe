#include "sim/sim_output.hpp"

#include <fstream>
#include <sstream>


namespace gossip::sim {

namespace {
constexpr std::size_t kFlushBytes = 64 * 1024;  // per node: bounds memory at 1,000s of nodes, few writes

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::filesystem::path log_path(const SimNode& n) {
  return log_file_for("logs", n.is_seed ? "seed" : "peer", n.address);
}
}  // namespace

std::unique_ptr<SimOutput> SimOutput::open(const std::filesystem::path& dir, const Simulator& sim, std::string* why) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "logs", ec);
  if (!ec) std::filesystem::create_directories(dir / "configs", ec);
  if (ec) {
    if (why) *why = "cannot create " + (dir / "logs").string() + ": " + ec.message();
    return nullptr;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir / "logs", ec))
    if (entry.path().extension() == ".log") std::filesystem::remove(entry.path(), ec);
  return std::make_unique<SimOutput>(dir, sim);
}

SimOutput::SimOutput(std::filesystem::path dir, const Simulator& sim) : dir_(std::move(dir)), sim_(sim) {
  const auto& s = sim.scenario();
  LogEvent started("run_started");
  // No run_dir: where a run is written is not part of it, and two runs of one seed are the same bytes.
  started.kv("name", s.name)
      .kv("cluster", s.file.empty() ? std::string("(generated)") : s.file.string())
      .kv("hosts", s.hosts)
      .kv("seeds", s.seeds)
      .kv("peers", s.peers)
      .kv("preset", s.peer_config.preset)
      .kv("duration_s", std::chrono::duration_cast<std::chrono::seconds>(s.duration).count())
      .kv("simulated", true);
  on_launcher(Duration{0}, s.start_wall_us, started);
}

bool SimOutput::append(const std::filesystem::path& file, const std::string& text, std::string* why) {
  FilePtr f(std::fopen(file.c_str(), "ab"));
  if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size()) {
    if (why) *why = "cannot write " + file.string();
    return false;
  }
  return true;
}

bool SimOutput::flush(std::size_t node, std::string* why) {
  if (buffers_[node].empty()) return true;
  const bool ok = append(dir_ / log_path(sim_.nodes()[node]), buffers_[node], why);
  buffers_[node].clear();
  return ok;
}

void SimOutput::on_event(const SimNode& node, Duration, std::uint64_t wall_us, const LogEvent& e, const wire::Message*) {
  if (buffers_.size() <= node.index) buffers_.resize(sim_.nodes().size());
  auto& buf = buffers_[node.index];
  append_log_line(buf, clock_, wall_us, node.address.to_string(), e);
  buf += '\n';
  if (buf.size() >= kFlushBytes && !failed_ && !flush(node.index, &why_)) failed_ = true;
}

void SimOutput::on_launcher(Duration, std::uint64_t wall_us, const LogEvent& e) {
  append_log_line(launcher_, clock_, wall_us, "launcher", e);
  launcher_ += '\n';
}

bool SimOutput::close(std::string* why) {
  if (failed_) {
    if (why) *why = why_;
    return false;
  }
  for (std::size_t i = 0; i < buffers_.size(); ++i)
    if (!flush(i, why)) return false;
  std::string nodes = "[\n";
  for (const auto& n : sim_.nodes()) {
    if (n.incarnation == 0) continue;  // never started: no log, nothing to say
    if (nodes.size() > 2) nodes += ",\n";
    nodes += " {\"name\": " + json_string(n.name) + ", \"role\": " + json_string(n.is_seed ? "seed" : "peer") +
             ", \"host\": " + json_string(host_name(n.host + 1)) + ", \"address\": " +
             json_string(n.address.to_string()) + ", \"listen\": " + json_string(n.address.to_string()) +
             ", \"config\": " + json_string(n.config.file.string()) + ", \"log\": " +
             json_string(log_path(n).string()) + ", \"pid\": null, \"remote\": \"simulated\", \"control\": null}";
  }
  nodes += "\n]\n";
  const auto& s = sim_.scenario();
  const std::string header = "# The node config every " + std::string("%s") + " of the simulated run used (the scenario's [config]);\n"
                             "# node.listen and node.seeds were set per node by gossip-sim.\n";
  auto config_text = [&](const char* role) {
    std::string h = header;
    h.replace(h.find("%s"), 2, role);
    return h + s.config_toml + "\n";
  };
  std::error_code ec;
  for (const char* f : {"events.log", "nodes.json", "configs/seed.toml", "configs/peer.toml", "scenario.toml"})
    std::filesystem::remove(dir_ / f, ec);
  if (!append(dir_ / "events.log", launcher_, why) || !append(dir_ / "nodes.json", nodes, why) ||
      !append(dir_ / "configs/seed.toml", config_text("seed"), why) ||
      !append(dir_ / "configs/peer.toml", config_text("peer"), why))
    return false;
  if (!s.file.empty()) {
    std::ifstream in(s.file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!append(dir_ / "scenario.toml", text.str(), why)) return false;
  }
  return true;
}

}  // namespace gossip::sim
