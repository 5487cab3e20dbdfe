// publish_bench: originates gossip at a steady pace through the control endpoints of running peers, for the
// dissemination benchmark. It is gossip-ctl publish in a loop without a process start per message (which
// would load the machine being measured). It measures nothing itself: the peers' logs hold the figures.
#include <chrono>
#include <optional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/keys.hpp"
#include "common/net.hpp"
#include "common/trust_store.hpp"
#include "common/wire.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;

int usage(std::ostream& os, int code) {
  os << "usage: publish_bench --to IP:PORT[,IP:PORT...] [--count N] [--interval-ms MS] [--payload-bytes B]\n"
        "                     [--timeout-ms MS] [--key FILE --trusted-dir DIR]\n"
        "Publishes N (default 200) messages, one every MS (default 30) ms, round-robin over the given control\n"
        "endpoints, each waiting up to --timeout-ms (default 2000) for PUBLISHED. Prints one line per message:\n"
        "  published i=I to=CONTROL origin=IP:PORT seq=S sent_us=WALL_US\n"
        "Against peers in security mode curve: --key is this client's .key (its first address is the sender),\n"
        "--trusted-dir holds each target's .pub (found by its control address).\n"
        "Exit status: 0 all published, 1 some were not, 2 usage error.\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<gossip::Address> targets;
  int count = 200;
  std::chrono::milliseconds interval{30};
  std::size_t payload_bytes = 32;
  std::chrono::milliseconds timeout{2000};
  std::optional<std::string> key_file, trusted_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") return usage(std::cout, 0);
      if (a == "--to") {
        std::stringstream ss(value());
        std::string item;
        while (std::getline(ss, item, ',')) {
          std::string why;
          auto t = gossip::parse_address(item, &why);
          if (!t) throw std::invalid_argument("--to " + item + ": " + why);
          targets.push_back(*t);
        }
      } else if (a == "--count") {
        count = std::stoi(value());
      } else if (a == "--interval-ms") {
        interval = std::chrono::milliseconds(std::stoll(value()));
      } else if (a == "--payload-bytes") {
        payload_bytes = std::stoull(value());
      } else if (a == "--timeout-ms") {
        timeout = std::chrono::milliseconds(std::stoll(value()));
      } else if (a == "--key") {
        key_file = value();
      } else if (a == "--trusted-dir") {
        trusted_dir = value();
      } else {
        throw std::invalid_argument("unknown argument " + a);
      }
    } catch (const std::exception& e) {
      std::cerr << "publish_bench: " << e.what() << "\n";
      return usage(std::cerr, 2);
    }
  }
  if (targets.empty() || count < 1 || key_file.has_value() != trusted_dir.has_value()) return usage(std::cerr, 2);

  // Curve mode: our key, and for each target the key its control endpoint proves.
  std::optional<gossip::SecretIdentity> key;
  std::vector<std::optional<gossip::net::CurveClient>> curve(targets.size());
  if (key_file) {
    auto k = gossip::read_secret_identity(*key_file);
    auto t = gossip::TrustStore::load(*trusted_dir);
    if (auto* e = std::get_if<gossip::ConfigError>(&k)) return std::cerr << "publish_bench: " << e->to_string() << "\n", 2;
    if (auto* e = std::get_if<gossip::ConfigError>(&t)) return std::cerr << "publish_bench: " << e->to_string() << "\n", 2;
    key = std::get<gossip::SecretIdentity>(std::move(k));
    const auto& trust = std::get<gossip::TrustStore>(t);
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const auto* owner = trust.by_address(targets[i]);
      if (!owner) return std::cerr << "publish_bench: no .pub names " << targets[i].to_string() << "\n", 2;
      curve[i] = gossip::net::CurveClient{key->pub.curve_public, key->curve_secret, owner->curve_public};
    }
  }
  zmq::context_t ctx(1);
  auto dealer_to = [&](std::size_t i) {
    return gossip::net::make_dealer(ctx, targets[i], 1000, 0, curve[i] ? &*curve[i] : nullptr);
  };

  // The sender field of PUBLISH; a client has no inbox. In curve mode an address our key speaks for.
  const gossip::Address me = key ? key->pub.addresses.front() : gossip::Address{"127.0.0.1", 1};
  std::vector<zmq::socket_t> sockets;
  for (std::size_t i = 0; i < targets.size(); ++i) sockets.push_back(dealer_to(i));

  int failed = 0;
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_until(t0 + i * interval);
    const std::size_t k = static_cast<std::size_t>(i) % targets.size();
    std::string payload = "bench-" + std::to_string(i) + "-";
    if (payload.size() < payload_bytes) payload.append(payload_bytes - payload.size(), 'x');
    const auto sent_us = gossip::wall_micros();
    gossip::net::send(sockets[k], gossip::wire::encode({me, gossip::wire::Publish{payload}}));
    zmq::pollitem_t item{sockets[k].handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, timeout);
    std::optional<gossip::net::Incoming> in;
    if (item.revents & ZMQ_POLLIN) in = gossip::net::receive(sockets[k], false, gossip::net::kMaxKeptFrames);
    const gossip::wire::Published* ok = nullptr;
    gossip::wire::Decoded d;
    if (in) {
      d = gossip::wire::decode(in->views());
      if (d.message) ok = std::get_if<gossip::wire::Published>(&d.message->body);
    }
    if (!ok) {
      ++failed;
      std::cout << "failed i=" << i << " to=" << targets[k].to_string() << "\n";
      // A late answer would be read as the next message's: start that endpoint afresh.
      sockets[k] = dealer_to(k);
      continue;
    }
    std::cout << "published i=" << i << " to=" << targets[k].to_string() << " origin=" << ok->origin.to_string()
              << " seq=" << ok->seq << " sent_us=" << sent_us << "\n";
  }
  std::cout << std::flush;
  return failed ? 1 : 0;
}
