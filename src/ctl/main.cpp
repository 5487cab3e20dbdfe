// gossip-ctl: a small client for a running overlay. `publish` hands a payload to a peer's control
// endpoint; `send` puts an arbitrary message on a node's inbox (for tests and for poking at the protocol);
// `keygen` makes a member's key pair. Against a curve cluster it is a member like any other: its own
// key (--key) and the target's public file (--server-key).
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include <zmq.hpp>

#include <sodium.h>

#include "common/address.hpp"
#include "common/keys.hpp"
#include "common/net.hpp"
#include "common/trust_store.hpp"
#include "common/wire.hpp"

namespace {

int usage(std::ostream& os, int code) {
  os << "usage:\n"
        "  gossip-ctl publish --to IP:PORT (--message TEXT | --file PATH | --stdin) [--timeout-ms N]\n"
        "      Publish a payload through the peer whose node.control is IP:PORT; prints origin and seq.\n"
        "  gossip-ctl send --to IP:PORT [--timeout-ms N] [--repeat N] [--multipart] MAGIC FIELD...\n"
        "      Send one message to a node's inbox: MAGIC (e.g. GSP2) as it is, then each FIELD with its\n"
        "      length, in one frame (docs/PROTOCOL.md); an argument written hex:0a1b... is raw bytes. With\n"
        "      --multipart every argument is a frame of its own instead (what a version 1 node sends).\n"
        "      Prints a reply's version and fields, one `frame: ...` line each, if one comes within the\n"
        "      timeout. With --repeat N, sends N messages, %n in an argument standing for the message's\n"
        "      number (1..N), then reads answers until none has come for 1 s.\n"
        "  gossip-ctl keygen --out DIR/NAME --address IP:PORT [--address IP:PORT ...] [--force]\n"
        "      Write DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public; copy it into every member's\n"
        "      security.trusted_dir) for a member that speaks for these addresses (a peer's: its inbox,\n"
        "      and its control endpoint, so tools find its key by either). --force replaces a .key.\n"
        "Options of publish and send against a node in security mode curve:\n"
        "  --key FILE          this client's .key; its first address is the sender of what it sends\n"
        "  --server-key FILE   the target node's .pub (or --trusted-dir DIR: find it there by address)\n"
        "Exit status: 0 done, 1 no or negative answer, 2 usage error.\n";
  return code;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

// Waits up to `timeout` for one reply on `s`.
std::optional<gossip::net::Incoming> await_reply(zmq::socket_t& s, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, timeout);
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  return gossip::net::receive(s, false, 1100);
}

int keygen(int argc, char** argv) {
  std::string out;
  std::vector<gossip::Address> addresses;
  bool force = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--force") {
      force = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "gossip-ctl: " << arg << " needs a value\n";
      return usage(std::cerr, 2);
    }
    const std::string value = argv[++i];
    if (arg == "--out") {
      out = value;
    } else if (arg == "--address") {
      std::string why;
      auto a = gossip::parse_address(value, &why);
      if (a && gossip::is_wildcard(*a)) why = "a wildcard IP names no node";
      if (!a || gossip::is_wildcard(*a)) {
        std::cerr << "gossip-ctl: --address " << value << ": " << why << "\n";
        return 2;
      }
      addresses.push_back(*a);
    } else {
      std::cerr << "gossip-ctl: unknown argument " << arg << "\n";
      return usage(std::cerr, 2);
    }
  }
  if (out.empty() || addresses.empty()) {
    std::cerr << "gossip-ctl: keygen needs --out DIR/NAME and at least one --address\n";
    return usage(std::cerr, 2);
  }
  const auto id = gossip::generate_identity(std::filesystem::path(out).filename().string(), addresses);
  if (const auto err = gossip::write_identity(id, out, force); !err.empty()) {
    std::cerr << "gossip-ctl: " << err << "\n";
    return 1;
  }
  std::cout << "wrote " << out << ".key and " << out << ".pub (curve key " << id.pub.curve_public << ")\n";
  return 0;
}

// A reply as its version and fields, or its raw frames when they cannot be split.
void print_fields(const gossip::net::Incoming& in) {
  const auto views = in.views();
  const auto split = views.size() == 1 ? gossip::wire::split_frame(views[0]) : gossip::wire::Split{{}, "frames"};
  for (const auto& x : split.error.empty() ? split.pieces : views) std::cout << "frame: " << x << "\n";
}

template <typename T>
T or_exit(std::variant<T, gossip::ConfigError> v) {
  if (auto* err = std::get_if<gossip::ConfigError>(&v)) throw std::invalid_argument(err->to_string());
  return std::get<T>(std::move(v));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(std::cerr, 2);
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h") return usage(std::cout, 0);
  if (sodium_init() < 0) {
    std::cerr << "gossip-ctl: libsodium did not initialise\n";
    return 1;
  }
  if (cmd == "keygen") return keygen(argc, argv);
  std::optional<gossip::SecretIdentity> key;
  std::optional<gossip::PublicIdentity> server;
  std::optional<std::filesystem::path> trusted_dir;
  std::optional<gossip::Address> to;
  std::optional<std::string> payload;
  std::vector<std::string> frames;  // send's arguments: the magic, then the fields
  bool multipart = false;
  std::chrono::milliseconds timeout{3000};
  long repeat = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--to") {
        std::string why;
        to = gossip::parse_address(value(), &why);
        if (!to) throw std::invalid_argument("--to: " + why);
      } else if (arg == "--timeout-ms") {
        timeout = std::chrono::milliseconds(std::stoll(value()));
      } else if (arg == "--repeat") {
        repeat = std::stol(value());
        if (repeat < 1) throw std::invalid_argument("--repeat takes a number >= 1");
      } else if (arg == "--message") {
        payload = value();
      } else if (arg == "--file") {
        std::ifstream in(value(), std::ios::binary);
        if (!in) throw std::invalid_argument("cannot read the file");
        payload = std::string(std::istreambuf_iterator<char>(in), {});
      } else if (arg == "--key") {
        key = or_exit(gossip::read_secret_identity(value()));
      } else if (arg == "--server-key") {
        server = or_exit(gossip::read_public_identity(value()));
      } else if (arg == "--trusted-dir") {
        trusted_dir = value();
      } else if (arg == "--multipart") {
        multipart = true;
      } else if (arg == "--stdin") {
        payload = std::string(std::istreambuf_iterator<char>(std::cin), {});
      } else if (cmd == "send") {
        frames.push_back(arg.rfind("hex:", 0) == 0 ? unhex(arg.substr(4)) : arg);
      } else {
        throw std::invalid_argument("unknown argument " + arg);
      }
    } catch (const std::exception& e) {
      std::cerr << "gossip-ctl: " << e.what() << "\n";
      return usage(std::cerr, 2);
    }
  }
  if (!to) return usage(std::cerr, 2);
  try {
    if (key && !server && trusted_dir) {
      const auto trust = or_exit(gossip::TrustStore::load(*trusted_dir));
      if (const auto* owner = trust.by_address(*to)) server = *owner;
      if (!server) throw std::invalid_argument("no key in " + trusted_dir->string() + " speaks for " + to->to_string());
    }
    if (key.has_value() != server.has_value())
      throw std::invalid_argument("a curve node needs both --key and --server-key (or --trusted-dir)");
  } catch (const std::exception& e) {
    std::cerr << "gossip-ctl: " << e.what() << "\n";
    return 2;
  }

  zmq::context_t ctx;
  // The sender field: a client has no inbox. In curve mode it must be an address its key speaks for.
  const gossip::Address me = key ? key->pub.addresses.front() : gossip::Address{"127.0.0.1", 1};
  zmq::socket_t socket(ctx, zmq::socket_type::dealer);
  if (key) {
    socket.set(zmq::sockopt::curve_serverkey, server->curve_public);
    socket.set(zmq::sockopt::curve_publickey, key->pub.curve_public);
    socket.set(zmq::sockopt::curve_secretkey, key->curve_secret);
  }
  // A routing id of its own, so concurrent runs against one node never take over each other's connection.
  socket.set(zmq::sockopt::routing_id, "ctl-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
  socket.set(zmq::sockopt::immediate, 1);  // queue nothing until connected: a send either goes or fails
  socket.set(zmq::sockopt::linger, 1000);
  if (to->is_v6()) socket.set(zmq::sockopt::ipv6, 1);
  socket.connect(to->endpoint());
  // Wait for the connection, so an unreachable node is an error rather than a silently dropped message.
  zmq::pollitem_t writable{socket.handle(), 0, ZMQ_POLLOUT, 0};
  zmq::poll(&writable, 1, timeout);
  if (!(writable.revents & ZMQ_POLLOUT)) {
    std::cerr << "gossip-ctl: cannot connect to " << to->to_string() << " within " << timeout.count() << " ms\n";
    return 1;
  }
  if (cmd == "publish") {
    if (!payload) return usage(std::cerr, 2);
    if (!gossip::net::send(socket, gossip::wire::encode({me, gossip::wire::Publish{*payload}}))) {
      std::cerr << "gossip-ctl: could not send to " << to->to_string() << "\n";
      return 1;
    }
    auto in = await_reply(socket, timeout);
    if (!in) {
      std::cerr << "gossip-ctl: no answer from " << to->to_string() << " within " << timeout.count() << " ms\n";
      return 1;
    }
    auto decoded = gossip::wire::decode(in->views());
    if (decoded.message) {
      if (const auto* ok = std::get_if<gossip::wire::Published>(&decoded.message->body)) {
        std::cout << "published origin=" << ok->origin.to_string() << " seq=" << ok->seq << "\n";
        return 0;
      }
      if (const auto* err = std::get_if<gossip::wire::Error>(&decoded.message->body)) {
        std::cerr << "gossip-ctl: refused: " << err->reason << "\n";
        return 1;
      }
    }
    std::cerr << "gossip-ctl: unexpected answer\n";
    return 1;
  }
  if (cmd == "send") {
    if (frames.empty()) return usage(std::cerr, 2);
    auto send_args = [&](const std::vector<std::string>& args) {
      if (multipart) return gossip::net::send(socket, args);
      return gossip::net::send(socket, gossip::wire::frame_of(args[0], {args.begin() + 1, args.end()}));
    };
    if (repeat > 0) {
      // A load generator for robustness tests: every message waits for room in the queue, up to the timeout.
      for (long n = 1; n <= repeat; ++n) {
        auto numbered = frames;
        for (auto& f : numbered)
          for (std::size_t at; (at = f.find("%n")) != std::string::npos;) f.replace(at, 2, std::to_string(n));
        // Read and drop answers as they come: left unread they would fill the queues back to the node
        // and, through TCP, stall the very connection the flood goes out on.
        while (gossip::net::receive(socket, false, gossip::net::kMaxKeptFrames)) {
        }
        zmq::pollitem_t room{socket.handle(), 0, ZMQ_POLLOUT, 0};
        zmq::poll(&room, 1, timeout);
        if (!(room.revents & ZMQ_POLLOUT) || !send_args(numbered)) {
          std::cerr << "gossip-ctl: message " << n << " of " << repeat << " could not be sent\n";
          return 1;
        }
      }
      // Closing the connection now would make the node discard what it has not read yet: keep it open,
      // reading answers, until none has come for a second (at most the timeout).
      long answers = 0;
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (std::chrono::steady_clock::now() < deadline && await_reply(socket, std::chrono::milliseconds(1000)))
        ++answers;
      std::cout << "sent " << repeat << ", answers after the last " << answers << "\n";
      return 0;
    }
    if (!send_args(frames)) {
      std::cerr << "gossip-ctl: could not queue the message\n";
      return 1;
    }
    if (auto in = await_reply(socket, timeout)) {
      print_fields(*in);
      return 0;
    }
    std::cout << "no reply\n";
    return 0;
  }
  return usage(std::cerr, 2);
}
