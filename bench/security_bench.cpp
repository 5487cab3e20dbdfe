// security_bench: what security mode curve costs per forwarded message, piece by piece, on this machine:
// the codec (encode + decode of one GOSSIP), the message id (BLAKE2b-128), the origin signature (Ed25519
// sign, and verify, which a receiver does once per new message), and CurveZMQ (one message through a
// DEALER -> ROUTER pair over loopback TCP, with and without CURVE: the difference is the box and unbox
// of one frame, both ends' I/O threads included). A forwarded copy costs the peer one unbox in and one box
// per neighbour out; the figures say how much of the curve-vs-none difference each piece explains.
// Not a test: it prints figures (one `result ...` logfmt line for scripts, and a table).
#include <sodium.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/keys.hpp"
#include "common/net.hpp"
#include "common/origin_auth.hpp"
#include "common/trust_store.hpp"
#include "common/wire.hpp"
#include "peer/gossip.hpp"

namespace {

double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs f n times; returns the process CPU (all threads) per run, in microseconds.
template <typename F>
double us_per_run(long n, F&& f) {
  const double t0 = process_cpu_s();
  for (long i = 0; i < n; ++i) f(i);
  return (process_cpu_s() - t0) * 1e6 / static_cast<double>(n);
}

// One DEALER -> ROUTER pair over loopback, in this process; n messages of `frame`, each received whole.
// Returns the process CPU per message (both sockets' I/O work included), in microseconds.
double pair_us(long n, const std::string& frame, bool curve) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  router.set(zmq::sockopt::rcvhwm, 0);
  dealer.set(zmq::sockopt::sndhwm, 0);
  if (curve) {
    // No ZAP handler in this context: the server admits any CURVE client, which is all a cost needs.
    char spub[41], ssec[41], cpub[41], csec[41];
    zmq_curve_keypair(spub, ssec);
    zmq_curve_keypair(cpub, csec);
    router.set(zmq::sockopt::curve_server, 1);
    router.set(zmq::sockopt::curve_secretkey, std::string(ssec));
    dealer.set(zmq::sockopt::curve_serverkey, std::string(spub));
    dealer.set(zmq::sockopt::curve_publickey, std::string(cpub));
    dealer.set(zmq::sockopt::curve_secretkey, std::string(csec));
  }
  router.bind("tcp://127.0.0.1:*");
  dealer.connect(router.get(zmq::sockopt::last_endpoint));
  // The handshake first, outside the measurement.
  dealer.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  zmq::message_t id, body;
  (void)router.recv(id);
  (void)router.recv(body);
  return us_per_run(n, [&](long) {
    dealer.send(zmq::buffer(frame), zmq::send_flags::none);
    (void)router.recv(id);
    (void)router.recv(body);
  });
}

}  // namespace

int main(int argc, char** argv) {
  long n = 200000;
  std::size_t payload_bytes = 32;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--count" && i + 1 < argc) {
      n = std::stol(argv[++i]);
    } else if (a == "--payload-bytes" && i + 1 < argc) {
      payload_bytes = std::stoull(argv[++i]);
    } else {
      std::cerr << "usage: security_bench [--count N] [--payload-bytes B]\n"
                   "Prints the CPU per message of each piece of security mode curve (codec, id, Ed25519 sign\n"
                   "and verify, CurveZMQ) and the floor (a plain DEALER -> ROUTER message). Exit status: 0.\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (sodium_init() < 0) return 1;
  const auto me = gossip::generate_identity("bench", {gossip::Address{"127.0.0.1", 7001}});
  const auto trust = std::get<gossip::TrustStore>(gossip::TrustStore::from({me.pub}));
  const gossip::OriginAuth auth(me, trust);
  gossip::wire::Gossip g{me.pub.addresses[0], 1, 1767225600000000ull, 0, std::string(payload_bytes, 'x')};
  g.signature = auth.sign(gossip::canonical_content(g));
  const gossip::wire::Message m{gossip::Address{"127.0.0.1", 7002}, g};
  const std::string frame = gossip::wire::encode(m);

  volatile std::size_t sink = 0;  // keeps the work from being optimised away
  const double codec = us_per_run(n, [&](long) {
    const auto f = gossip::wire::encode(m);
    sink = sink + gossip::wire::decode(f).error.size() + f.size();
  });
  const double id = us_per_run(n, [&](long i) {
    auto copy = g;
    copy.seq = static_cast<std::uint64_t>(i);
    sink = sink + gossip::message_id(copy).lo;
  });
  const long sign_n = std::max(1L, n / 20);
  const double sign = us_per_run(sign_n, [&](long) { sink = sink + auth.sign(gossip::canonical_content(g)).size(); });
  const double verify = us_per_run(sign_n, [&](long) { sink = sink + auth.check(g, gossip::canonical_content(g)).size(); });
  // CurveZMQ's own crypto per frame: one XSalsa20-Poly1305 box with the session's precomputed key, and
  // its unbox (what the I/O threads of the two ends do for each message, without libzmq's bookkeeping).
  std::vector<unsigned char> pk(crypto_box_PUBLICKEYBYTES), sk(crypto_box_SECRETKEYBYTES);
  std::vector<unsigned char> key(crypto_box_BEFORENMBYTES), nonce(crypto_box_NONCEBYTES);
  crypto_box_keypair(pk.data(), sk.data());
  if (crypto_box_beforenm(key.data(), pk.data(), sk.data()) != 0) return 1;
  std::vector<unsigned char> boxed_buf(frame.size() + crypto_box_MACBYTES), opened(frame.size());
  const double box = us_per_run(n, [&](long i) {
    nonce[0] = static_cast<unsigned char>(i);
    crypto_box_easy_afternm(boxed_buf.data(), reinterpret_cast<const unsigned char*>(frame.data()), frame.size(),
                            nonce.data(), key.data());
    sink = sink + static_cast<std::size_t>(crypto_box_open_easy_afternm(opened.data(), boxed_buf.data(),
                                                                        boxed_buf.size(), nonce.data(), key.data()) + 1);
  });
  const double plain = pair_us(n, frame, false);
  const double boxed = pair_us(n, frame, true);
  const double curve = boxed - plain;

  std::printf("result payload_bytes=%zu frame_bytes=%zu codec_us=%.3f id_us=%.3f sign_us=%.2f verify_us=%.2f "
              "box_unbox_us=%.3f pair_none_us=%.3f pair_curve_us=%.3f curve_box_unbox_us=%.3f\n",
              payload_bytes, frame.size(), codec, id, sign, verify, box, plain, boxed, curve);
  std::printf("CPU per operation (all threads of this process), %zu-byte GOSSIP frame:\n", frame.size());
  std::printf("  codec: encode + decode one GOSSIP             %8.3f us\n", codec);
  std::printf("  message id: BLAKE2b-128 of its content         %8.3f us\n", id);
  std::printf("  Ed25519 sign (the origin, once per message)    %8.2f us\n", sign);
  std::printf("  Ed25519 verify (each peer, once per message)   %8.2f us\n", verify);
  std::printf("  CurveZMQ's crypto: box + unbox of the frame      %8.3f us\n", box);
  std::printf("  floor: one message DEALER -> ROUTER, none      %8.3f us\n", plain);
  std::printf("  the same over CurveZMQ                         %8.3f us  (box + unbox: %.3f us)\n", boxed, curve);
  std::printf("A peer forwarding to d neighbours adds, in curve mode: 1 unbox + d boxes (crypto alone about %.1f us\n"
              "at d = 3; with libzmq's work around it about %.1f us), plus one verify per new message with\n"
              "signatures on.\n",
              box * 2, curve * 2);
  return sink == 0;  // never 0 in practice; read so the compiler must compute it
}
