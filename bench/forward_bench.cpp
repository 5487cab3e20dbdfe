// forward_bench: how many GOSSIP messages per second one real gossip-peer forwards.
// It starts no process. It plays several fake neighbours of one running peer: each fake neighbour binds its
// own ROUTER (its inbox) and links to the peer with LINK_REQUEST from a DEALER, exactly as docs/PROTOCOL.md
// says, so the peer opens a DEALER back to it. One fake neighbour (the sender) then sends N small GOSSIP
// messages with unique seq; the others (the receivers) count the copies the peer forwards to them.
// Not a correctness test: it prints figures (one `result ...` logfmt line for scripts, and a summary).
// Against a peer in security mode curve (--curve-trusted-dir), every fake neighbour has its own key pair,
// whose .pub it writes into the peer's trusted directory before linking; with --sign the sender signs
// every message as its origin (signed before the clock starts, so signing never limits the rate).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/keys.hpp"
#include "common/net.hpp"
#include "common/origin_auth.hpp"
#include "common/trust_store.hpp"
#include "common/wire.hpp"
#include "peer/gossip.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
  gossip::Address peer;
  int receivers = 3;
  std::uint64_t count = 200000;
  std::size_t payload_bytes = 16;
  double rate = 0;  // messages/s the sender paces itself to; 0 = as fast as the peer takes them
  std::chrono::milliseconds settle{2000};   // give up waiting for copies after this long without progress
  std::chrono::milliseconds timeout{120000};  // hard bound on the whole run
  std::chrono::milliseconds link_timeout{5000};
  std::optional<std::filesystem::path> trusted_dir;  // curve mode: the peer's security.trusted_dir
  std::optional<std::filesystem::path> peer_pub;     // curve mode: the peer's .pub (else found in trusted_dir)
  bool sign = false;                                 // sign every message (the peer's sign_origins)
};

int usage(std::ostream& os, int code) {
  os << "usage: forward_bench --peer IP:PORT [--receivers K] [--count N] [--payload-bytes B] [--rate MSG_PER_S]\n"
        "                     [--settle-ms MS] [--timeout-ms MS]\n"
        "                     [--curve-trusted-dir DIR [--peer-pub FILE] [--sign]]\n"
        "Links 1 fake sender and K fake receivers (default 3) to the running peer at IP:PORT, sends N\n"
        "(default 200000) GOSSIP messages of B bytes (default 16) from the sender and counts the copies the\n"
        "peer forwards to each receiver. --rate 0 (default) sends as fast as the peer accepts them.\n"
        "--curve-trusted-dir: the peer runs security mode curve with this trusted_dir; each fake neighbour\n"
        "writes its .pub there (and removes it at the end). --sign: signed origins.\n"
        "Exit status: 0 done (figures printed), 1 could not link or nothing arrived, 2 usage error.\n";
  return code;
}

// A fake neighbour: its own inbox (ROUTER) and a DEALER to the peer; in curve mode its own identity.
struct FakeNeighbour {
  gossip::Address self;
  zmq::socket_t inbox;
  zmq::socket_t out;
  std::optional<gossip::SecretIdentity> identity;
};

// Curve mode: who the peer is, and where its trusted keys live.
struct Curve {
  std::filesystem::path trusted_dir;
  std::string peer_key;  // Z85
};

gossip::Address bound_address(zmq::socket_t& s) {
  const auto last = s.get(zmq::sockopt::last_endpoint);  // tcp://127.0.0.1:PORT
  auto a = gossip::parse_address(std::string_view(last).substr(6));
  if (!a) throw std::runtime_error("cannot parse bound endpoint " + last);
  return *a;
}

// (Re)opens the neighbour's DEALER to the peer. A CURVE handshake the peer refused (it did not trust our
// key yet) is not retried by libzmq: a fresh socket is the way to try again.
void connect_out(zmq::context_t& ctx, FakeNeighbour& n, const gossip::Address& peer, const Curve* curve) {
  zmq::socket_t out(ctx, zmq::socket_type::dealer);
  if (curve) {
    out.set(zmq::sockopt::curve_serverkey, curve->peer_key);
    out.set(zmq::sockopt::curve_publickey, n.identity->pub.curve_public);
    out.set(zmq::sockopt::curve_secretkey, n.identity->curve_secret);
  }
  out.set(zmq::sockopt::routing_id, n.self.to_string());
  out.set(zmq::sockopt::sndhwm, 10000);
  out.set(zmq::sockopt::linger, 0);
  out.connect(peer.endpoint());
  n.out = std::move(out);
}

FakeNeighbour make_neighbour(zmq::context_t& ctx, const gossip::Address& peer, const Curve* curve) {
  std::optional<gossip::SecretIdentity> id;
  zmq::socket_t inbox(ctx, zmq::socket_type::router);
  if (curve) {
    // No ZAP handler in this process: our inbox lets in any CURVE client (the peer), which is all we need.
    id = gossip::generate_identity("fake", {});
    inbox.set(zmq::sockopt::curve_server, 1);
    inbox.set(zmq::sockopt::curve_secretkey, id->curve_secret);
  }
  inbox.set(zmq::sockopt::rcvhwm, 0);  // never push back on the peer: we measure it, not us
  inbox.set(zmq::sockopt::sndhwm, 0);
  inbox.set(zmq::sockopt::linger, 0);
  inbox.bind("tcp://" + peer.ip + ":*");
  auto self = bound_address(inbox);
  if (curve) {
    // The peer must trust us before we link: it re-reads its trusted_dir within its reload interval.
    id->pub.addresses = {self};
    const auto pub = curve->trusted_dir / ("fake-" + std::to_string(self.port) + ".pub");
    std::ofstream(pub, std::ios::trunc) << gossip::public_file_text(id->pub);
  }
  FakeNeighbour n{self, std::move(inbox), zmq::socket_t(), std::move(id)};
  connect_out(ctx, n, peer, curve);
  return n;
}

// Sends LINK_REQUEST and waits for the answer. Returns an empty string on LINK_ACCEPT, else what happened.
std::string link(zmq::context_t& ctx, FakeNeighbour& n, const gossip::Address& peer, const Curve* curve,
                 std::chrono::milliseconds timeout) {
  // Queued until the connection (in curve mode: a handshake the peer accepts) is up.
  gossip::net::send(n.out, gossip::wire::encode({n.self, gossip::wire::LinkRequest{0}}));
  const auto deadline = SteadyClock::now() + timeout;
  auto retry_at = SteadyClock::now() + 100ms;
  while (SteadyClock::now() < deadline) {
    zmq::pollitem_t item{n.out.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 100ms);
    if (!(item.revents & ZMQ_POLLIN)) {
      if (curve && SteadyClock::now() >= retry_at) {
        connect_out(ctx, n, peer, curve);
        gossip::net::send(n.out, gossip::wire::encode({n.self, gossip::wire::LinkRequest{0}}));
        retry_at = SteadyClock::now() + 100ms;
      }
      continue;
    }
    auto in = gossip::net::receive(n.out, false, gossip::net::kMaxKeptFrames);
    if (!in) continue;
    auto d = gossip::wire::decode(in->views());
    if (!d.message) return "undecodable answer: " + d.error;
    if (std::holds_alternative<gossip::wire::LinkAccept>(d.message->body)) return "";
    if (const auto* r = std::get_if<gossip::wire::LinkReject>(&d.message->body)) return "LINK_REJECT " + r->reason;
    return "unexpected answer " + std::string(gossip::wire::type_name(d.message->body));
  }
  return "no answer within " + std::to_string(timeout.count()) + " ms";
}

// Counts per receiver, filled by the receiving thread only (read by main after join).
struct ReceiverStats {
  std::uint64_t copies = 0;      // GOSSIP messages that arrived
  std::uint64_t repeats = 0;     // copies of a seq this receiver had already had (the peer forwarded twice)
  std::uint64_t foreign = 0;     // GOSSIP that was not one of ours (wrong origin or seq out of range)
  std::uint64_t bad_hops = 0;    // hops != 1
  std::vector<std::uint8_t> got;  // got[seq]
};

std::uint64_t parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return UINT64_MAX;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

double seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool have_peer = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") return usage(std::cout, 0);
      if (a == "--peer") {
        std::string why;
        auto p = gossip::parse_address(value(), &why);
        if (!p) throw std::invalid_argument("--peer: " + why);
        opt.peer = *p;
        have_peer = true;
      } else if (a == "--receivers") {
        opt.receivers = std::stoi(value());
      } else if (a == "--count") {
        opt.count = std::stoull(value());
      } else if (a == "--payload-bytes") {
        opt.payload_bytes = std::stoull(value());
      } else if (a == "--rate") {
        opt.rate = std::stod(value());
      } else if (a == "--settle-ms") {
        opt.settle = std::chrono::milliseconds(std::stoll(value()));
      } else if (a == "--timeout-ms") {
        opt.timeout = std::chrono::milliseconds(std::stoll(value()));
      } else if (a == "--curve-trusted-dir") {
        opt.trusted_dir = value();
      } else if (a == "--peer-pub") {
        opt.peer_pub = value();
      } else if (a == "--sign") {
        opt.sign = true;
      } else {
        throw std::invalid_argument("unknown argument " + a);
      }
    } catch (const std::exception& e) {
      std::cerr << "forward_bench: " << e.what() << "\n";
      return usage(std::cerr, 2);
    }
  }
  if (!have_peer || opt.receivers < 1 || opt.receivers > 64 || opt.count < 1 ||
      opt.payload_bytes > gossip::wire::kMaxFieldBytes)
    return usage(std::cerr, 2);

  std::optional<Curve> curve;
  if (opt.trusted_dir) {
    std::optional<gossip::PublicIdentity> peer;
    if (opt.peer_pub) {
      auto read = gossip::read_public_identity(*opt.peer_pub);
      if (auto* id = std::get_if<gossip::PublicIdentity>(&read)) peer = *id;
    } else if (auto t = gossip::TrustStore::load(*opt.trusted_dir); std::holds_alternative<gossip::TrustStore>(t)) {
      if (const auto* id = std::get<gossip::TrustStore>(t).by_address(opt.peer)) peer = *id;
    }
    if (!peer) {
      std::cerr << "forward_bench: no public key for " << opt.peer.to_string() << " (--peer-pub or the trusted dir)\n";
      return 2;
    }
    curve = Curve{*opt.trusted_dir, peer->curve_public};
  }
  const Curve* curve_ptr = curve ? &*curve : nullptr;
  const auto run_deadline = SteadyClock::now() + opt.timeout;
  zmq::context_t ctx(1);
  FakeNeighbour sender = make_neighbour(ctx, opt.peer, curve_ptr);
  std::vector<FakeNeighbour> receivers;
  for (int i = 0; i < opt.receivers; ++i) receivers.push_back(make_neighbour(ctx, opt.peer, curve_ptr));
  // Our keys leave the peer's trusted directory however the run ends.
  struct RemoveKeys {
    const Curve* curve;
    std::vector<std::uint16_t> ports;
    ~RemoveKeys() {
      std::error_code ec;
      for (auto p : ports) std::filesystem::remove(curve->trusted_dir / ("fake-" + std::to_string(p) + ".pub"), ec);
    }
  };
  std::optional<RemoveKeys> remove_keys;
  if (curve) {
    remove_keys.emplace(curve_ptr, std::vector<std::uint16_t>{sender.self.port});  // in place: no temporary to run the destructor
    for (auto& r : receivers) remove_keys->ports.push_back(r.self.port);
  }
  for (auto* n : [&] {
         std::vector<FakeNeighbour*> all{&sender};
         for (auto& r : receivers) all.push_back(&r);
         return all;
       }()) {
    const auto why = link(ctx, *n, opt.peer, curve_ptr, opt.link_timeout);
    if (!why.empty()) {
      std::cerr << "forward_bench: " << n->self.to_string() << " could not link to " << opt.peer.to_string()
                << ": " << why << "\n";
      return 1;
    }
  }
  std::cout << "linked: sender " << sender.self.to_string() << ", " << receivers.size() << " receivers\n"
            << std::flush;

  // ---- receiving thread: every fake inbox (the sender's too, for liveness probes) ----
  std::vector<ReceiverStats> stats(receivers.size());
  for (auto& s : stats) s.got.assign(opt.count + 1, 0);
  std::atomic<bool> sending_done{false};
  std::atomic<std::uint64_t> sent{0};
  SteadyClock::time_point t_first_recv{}, t_last_recv{};
  std::uint64_t liveness_answered = 0, other_messages = 0;
  std::atomic<std::uint64_t> not_linked{0};  // NOT_LINKED answers: the peer dropped one of our links
  // Time series of total copies, sampled every 100 ms, for the steady-state rate.
  std::vector<std::pair<double, std::uint64_t>> series;
  const std::uint64_t expected = opt.count * receivers.size();
  const std::string origin = sender.self.to_string();
  SteadyClock::time_point t_start{};
  std::atomic<bool> started{false};

  std::thread rx([&] {
    std::vector<zmq::pollitem_t> items;
    for (auto& r : receivers) items.push_back({r.inbox.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({sender.inbox.handle(), 0, ZMQ_POLLIN, 0});
    // The receivers' DEALERs carry nothing after LINK_ACCEPT but are watched for NOT_LINKED. The sender's
    // DEALER belongs to the sending thread alone (a ZeroMQ socket must never be used by two threads).
    for (auto& r : receivers) items.push_back({r.out.handle(), 0, ZMQ_POLLIN, 0});
    const std::size_t nr = receivers.size();
    std::uint64_t total = 0, last_total = 0;
    auto last_progress = SteadyClock::now();
    auto next_sample = SteadyClock::now();
    std::vector<zmq::message_t> parts;
    while (SteadyClock::now() < run_deadline) {
      zmq::poll(items.data(), items.size(), 20ms);
      const auto now = SteadyClock::now();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        const bool is_inbox = i <= nr;
        zmq::socket_t& s = i < nr ? receivers[i].inbox : i == nr ? sender.inbox : receivers[i - nr - 1].out;
        for (int batch = 0; batch < 4096; ++batch) {
          parts.clear();
          zmq::message_t part;
          if (!s.recv(part, zmq::recv_flags::dontwait)) break;
          parts.push_back(std::move(part));
          while (parts.back().more()) {
            zmq::message_t more;
            (void)s.recv(more, zmq::recv_flags::none);
            parts.push_back(std::move(more));
          }
          const std::size_t k = is_inbox ? 1 : 0;  // first frame after the routing id
          // Fast path: GOSSIP's pieces are GSP2, type, sender, origin, seq, created, hops, body, signature.
          const std::string_view frame =
              parts.size() > k ? std::string_view(static_cast<const char*>(parts[k].data()), parts[k].size())
                               : std::string_view();
          // The codec's splitter only (no address parsing): pieces are the magic, then the fields.
          const auto split = gossip::wire::split_frame(frame);
          const auto& f = split.pieces;
          if (i < nr && parts.size() == k + 1 && f.size() == 9 && f[1] == "GOSSIP") {
            auto& st = stats[i];
            ++st.copies;
            ++total;
            t_last_recv = now;
            if (total == 1) t_first_recv = now;
            const auto seq = parse_u64(f[4]);
            if (f[3] != origin || seq == 0 || seq > opt.count) {
              ++st.foreign;
              continue;
            }
            if (st.got[seq]) ++st.repeats;
            st.got[seq] = 1;
            if (f[6] != "1") ++st.bad_hops;
            continue;
          }
          auto d = gossip::wire::decode(frame);
          if (!d.message) {
            ++other_messages;
            continue;
          }
          if (const auto* req = std::get_if<gossip::wire::LivenessRequest>(&d.message->body); req && is_inbox) {
            const auto& me = i < nr ? receivers[i].self : sender.self;
            const std::string rid(static_cast<const char*>(parts[0].data()), parts[0].size());
            gossip::net::send(s, std::string_view(gossip::wire::encode({me, gossip::wire::LivenessReply{req->timestamp_us, opt.peer}})),
                              &rid);
            ++liveness_answered;
          } else if (std::holds_alternative<gossip::wire::NotLinked>(d.message->body)) {
            not_linked.fetch_add(1);
          } else {
            ++other_messages;
          }
        }
      }
      if (started.load() && now >= next_sample) {
        series.emplace_back(seconds(now - t_start), total);
        next_sample = now + 100ms;
      }
      if (total != last_total) {
        last_total = total;
        last_progress = now;
      }
      if (total >= expected) break;
      if (sending_done.load() && now - last_progress > opt.settle) break;
    }
    if (started.load()) series.emplace_back(seconds(SteadyClock::now() - t_start), total);
  });

  // ---- sending (this thread) ----
  // Anything the peer answers on the sender's own DEALER (only NOT_LINKED is expected) is read here.
  auto drain_sender = [&] {
    for (int n = 0; n < 1024; ++n) {
      auto in = gossip::net::receive(sender.out, false, gossip::net::kMaxKeptFrames);
      if (!in) break;
      auto d = gossip::wire::decode(in->views());
      if (d.message && std::holds_alternative<gossip::wire::NotLinked>(d.message->body)) not_linked.fetch_add(1);
    }
  };
  std::string body(opt.payload_bytes, 'x');
  sender.out.set(zmq::sockopt::sndtimeo, 200);
  const std::string self_text = sender.self.to_string();
  // With --sign, every message is signed now, before the clock starts: created is then this moment for
  // all of them (the peer does not check it), and the sender's rate is not the signer's.
  const std::uint64_t created_at_start = gossip::wall_micros();
  std::vector<std::string> signatures;
  if (opt.sign && sender.identity) {
    const gossip::TrustStore none;
    const gossip::OriginAuth signer(*sender.identity, none);
    signatures.reserve(opt.count);
    for (std::uint64_t seq = 1; seq <= opt.count; ++seq) {
      gossip::wire::Gossip g{sender.self, seq, created_at_start, 0, body};
      signatures.push_back(signer.sign(gossip::canonical_content(g)));
    }
    std::cout << "signed " << opt.count << " messages\n" << std::flush;
  }
  t_start = SteadyClock::now();
  started.store(true);
  for (std::uint64_t seq = 1; seq <= opt.count; ++seq) {
    if (opt.rate > 0 && (seq & 63) == 1) {
      const auto due = t_start + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>((seq - 1) / opt.rate));
      std::this_thread::sleep_until(due);
    }
    if (SteadyClock::now() >= run_deadline) break;
    gossip::wire::Gossip g{sender.self, seq, signatures.empty() ? gossip::wall_micros() : created_at_start, 0, body};
    if (!signatures.empty()) g.signature = signatures[seq - 1];
    const auto frame = gossip::wire::encode({sender.self, std::move(g)});
    // Blocking sends (bounded by sndtimeo and the run deadline): if the peer reads slower than we write,
    // TCP and ZeroMQ push back on us.
    bool queued = false;
    while (!queued && SteadyClock::now() < run_deadline)
      queued = sender.out.send(zmq::buffer(frame), zmq::send_flags::none).has_value();
    if (!queued) break;
    sent.store(seq);
    if ((seq & 1023) == 0) drain_sender();
  }
  drain_sender();
  const auto t_sent = SteadyClock::now();
  sending_done.store(true);
  rx.join();

  // ---- figures ----
  std::uint64_t copies = 0, repeats = 0, foreign = 0, bad_hops = 0, unique_any = 0, unique_all = 0;
  for (const auto& s : stats) {
    copies += s.copies;
    repeats += s.repeats;
    foreign += s.foreign;
    bad_hops += s.bad_hops;
  }
  for (std::uint64_t seq = 1; seq <= opt.count; ++seq) {
    int n = 0;
    for (const auto& s : stats) n += s.got[seq];
    unique_any += n > 0;
    unique_all += n == static_cast<int>(stats.size());
  }
  const double send_s = seconds(t_sent - t_start);
  const double total_s = copies ? seconds(t_last_recv - t_start) : 0;
  // Steady state: the rate between the samples where 10 % and 90 % of the copies had arrived.
  double steady = 0;
  {
    const double lo = 0.1 * static_cast<double>(copies), hi = 0.9 * static_cast<double>(copies);
    std::optional<std::pair<double, std::uint64_t>> a, b;
    for (const auto& p : series) {
      if (!a && static_cast<double>(p.second) >= lo) a = p;
      if (!b && static_cast<double>(p.second) >= hi) b = p;
    }
    if (a && b && b->first > a->first) steady = static_cast<double>(b->second - a->second) / (b->first - a->first);
  }
  double best_window = 0;  // the best 100 ms sample
  for (std::size_t i = 1; i < series.size(); ++i) {
    const double dt = series[i].first - series[i - 1].first;
    if (dt > 0.05) best_window = std::max(best_window, (series[i].second - series[i - 1].second) / dt);
  }
  const std::uint64_t n_sent = sent.load();
  const double fwd_rate = total_s > 0 ? static_cast<double>(copies) / total_s : 0;
  const double uniq_rate = total_s > 0 ? static_cast<double>(unique_all) / total_s : 0;
  std::printf(
      "result sent=%llu receivers=%zu expected_copies=%llu copies=%llu unique_any=%llu unique_all=%llu "
      "repeats=%llu foreign=%llu bad_hops=%llu send_s=%.3f total_s=%.3f send_rate=%.0f "
      "forwarded_per_s=%.0f unique_per_s=%.0f steady_forwarded_per_s=%.0f best_100ms_forwarded_per_s=%.0f "
      "liveness_answered=%llu not_linked=%llu other=%llu\n",
      static_cast<unsigned long long>(n_sent), stats.size(), static_cast<unsigned long long>(expected),
      static_cast<unsigned long long>(copies), static_cast<unsigned long long>(unique_any),
      static_cast<unsigned long long>(unique_all), static_cast<unsigned long long>(repeats),
      static_cast<unsigned long long>(foreign), static_cast<unsigned long long>(bad_hops), send_s, total_s,
      send_s > 0 ? n_sent / send_s : 0, fwd_rate, uniq_rate, steady, best_window,
      static_cast<unsigned long long>(liveness_answered), static_cast<unsigned long long>(not_linked.load()),
      static_cast<unsigned long long>(other_messages));
  std::printf("sent %llu messages in %.3f s (%.0f/s); %llu of %llu copies arrived in %.3f s\n",
              static_cast<unsigned long long>(n_sent), send_s, send_s > 0 ? n_sent / send_s : 0,
              static_cast<unsigned long long>(copies), static_cast<unsigned long long>(expected), total_s);
  std::printf("forwarded copies/s: %.0f overall, %.0f steady (10-90 %%), %.0f best 100 ms; unique messages/s "
              "(reached every receiver): %.0f\n",
              fwd_rate, steady, best_window, uniq_rate);
  for (std::size_t i = 0; i < stats.size(); ++i)
    std::printf("receiver %zu %s: %llu copies, %llu repeats\n", i, receivers[i].self.to_string().c_str(),
                static_cast<unsigned long long>(stats[i].copies), static_cast<unsigned long long>(stats[i].repeats));
  return copies > 0 ? 0 : 1;
}
