// Unit tests for src/peer/peer.*: the rules that compose Membership, Overlay, GossipEngine and Liveness
// into a peer. Each test drives a real Peer with what arrives on which socket and checks the effects.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "node_harness.hpp"
#include "common/origin_auth.hpp"
#include "peer/peer.hpp"

using namespace gossip;
using namespace gossip::testing;

namespace {

const std::string kLinks = "[overlay]\ntarget_degree = 2\nmax_degree = 4\n";

wire::Gossip gossip_from(const Address& origin, std::uint64_t seq) {
  std::string body = "m";
  body += std::to_string(seq);
  return wire::Gossip{origin, seq, 1767225600000000ull + seq, 0, body};
}

// A peer registered with both of its two seeds (so joined), whose seeds list peers 2 and 3.
struct JoinedPeer {
  explicit JoinedPeer(const std::string& toml = kLinks + "[gossip]\ncount = 0\n", const OriginAuth* auth = nullptr)
      : cfg(make_config(Role::kPeer, 2, toml)), peer(peer_at(1), cfg, 7, auth), h(peer) {
    h.start();
    for (int s = 1; s <= 2; ++s) h.on_seed(seed_at(s), wire::PeerList{false, {peer_at(2), peer_at(3)}});
    REQUIRE(peer.membership().joined());
  }
  // Makes `p` a neighbour through its LINK_REQUEST (it says it is well linked: no trade).
  void link(const Address& p) {
    h.inbox(p, wire::LinkRequest{100});
    REQUIRE(peer.overlay().is_neighbour(p));
  }
  Config cfg;
  Peer peer;
  NodeHarness h;
};

}  // namespace

TEST_CASE("a message naming the peer itself as its sender is refused and changes nothing", "[peer]") {
  JoinedPeer j;
  j.h.clear();
  j.h.inbox(peer_at(1), wire::LinkRequest{0});
  REQUIRE(j.h.effects().size() == 1);
  const auto bad = j.h.logs("bad_message");
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].get("reason") == "sender_is_self");
  CHECK(j.peer.overlay().degree() == 0);
}

TEST_CASE("a GOSSIP or LIVENESS_REQUEST from a peer we asked for a link is its LINK_ACCEPT", "[peer]") {
  JoinedPeer j;
  j.h.run_timers_until(j.h.now());  // the overlay asks peers 2 and 3
  REQUIRE(j.peer.overlay().is_pending(peer_at(2)));
  REQUIRE(j.peer.overlay().is_pending(peer_at(3)));
  j.h.clear();
  SECTION("GOSSIP") {
    j.h.inbox(peer_at(2), gossip_from(peer_at(9), 1));
    CHECK(j.peer.overlay().is_neighbour(peer_at(2)));
    CHECK(j.h.logs("neighbour_up").size() == 1);
    CHECK(j.h.logs("gossip_recv").size() == 1);
    CHECK(j.h.sent<wire::NotLinked>(Socket::kInbox).empty());
  }
  SECTION("LIVENESS_REQUEST") {
    j.h.inbox(peer_at(3), wire::LivenessRequest{42});
    CHECK(j.peer.overlay().is_neighbour(peer_at(3)));
    const auto replies = j.h.sent<wire::LivenessReply>(Socket::kInbox, peer_at(3));
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].timestamp_us == 42);
  }
}

TEST_CASE("GOSSIP and LIVENESS_REQUEST from a non-neighbour get NOT_LINKED and are not handled", "[peer]") {
  JoinedPeer j;
  j.h.clear();
  j.h.inbox(peer_at(7), gossip_from(peer_at(7), 1));
  j.h.inbox(peer_at(7), wire::LivenessRequest{1});
  CHECK(j.h.sent<wire::NotLinked>(Socket::kInbox, peer_at(7)).size() == 2);
  CHECK(j.h.logs("gossip_recv").empty());
  CHECK(j.h.sent<wire::LivenessReply>(Socket::kInbox).empty());
  CHECK(j.peer.gossip().stats().received == 0);
}

TEST_CASE("NOT_LINKED from a neighbour drops our side of the link and re-registers with the seeds", "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  j.h.clear();
  j.h.on_link(peer_at(5), wire::NotLinked{});
  CHECK_FALSE(j.peer.overlay().is_neighbour(peer_at(5)));
  const auto down = j.h.logs("neighbour_down");
  REQUIRE(down.size() == 1);
  CHECK(down[0].get("reason") == "dropped_by_peer");
  CHECK(j.h.closed(Socket::kLink, peer_at(5)));
  auto seeds = j.h.sent_to<wire::Register>(Socket::kSeed);
  std::sort(seeds.begin(), seeds.end());
  CHECK(seeds == std::vector<Address>{seed_at(1), seed_at(2)});
}

TEST_CASE("a silent neighbour is reported to every seed we are registered with, then dropped", "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  j.h.clear();
  j.h.run_timers_until(j.h.now() + (j.cfg.liveness.max_misses + 1) * j.cfg.liveness.interval);
  const auto dead = j.h.logs("dead_detected");
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].get("peer") == peer_at(5).to_string());
  const auto reports = j.h.sent<wire::DeadNode>(Socket::kSeed);
  auto seeds = j.h.sent_to<wire::DeadNode>(Socket::kSeed);
  std::sort(seeds.begin(), seeds.end());
  CHECK(seeds == std::vector<Address>{seed_at(1), seed_at(2)});
  for (const auto& r : reports) CHECK(r.dead == peer_at(5));
  const auto sent = j.h.logs("dead_report_sent");
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].get("text")->rfind("Dead Node:10.1.0.5:7000:", 0) == 0);
  CHECK(j.h.closed(Socket::kLink, peer_at(5)));
  CHECK_FALSE(j.peer.overlay().is_neighbour(peer_at(5)));
}

TEST_CASE("a neighbour that answers its probes is never reported", "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  for (int round = 0; round < 20; ++round) {
    j.h.run_timers_until(j.h.now() + j.cfg.liveness.interval);
    j.h.on_link(peer_at(5), wire::LivenessReply{0, peer_at(1)});
  }
  CHECK(j.h.logs("dead_detected").empty());
  CHECK(j.peer.overlay().is_neighbour(peer_at(5)));
}

TEST_CASE("a refused message from a neighbour is no sign of life", "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  for (int round = 0; round <= j.cfg.liveness.max_misses; ++round) {
    j.h.run_timers_until(j.h.now() + j.cfg.liveness.interval);
    j.h.inbox(peer_at(5), wire::Register{});                     // not a peer's request
    j.h.on_link(peer_at(5), wire::PeerList{false, {}});          // a seed's answer, on a link
  }
  CHECK(j.h.logs("bad_message").size() == 2u * static_cast<std::size_t>(j.cfg.liveness.max_misses + 1));
  CHECK(j.h.logs("dead_detected").size() == 1);
}

TEST_CASE("after a stall the next message waits link_timeout, so it does not go to stale links", "[peer]") {
  JoinedPeer j(kLinks + "[gossip]\ncount = 10\ninterval_ms = 200\n");
  j.link(peer_at(5));
  j.h.run_timers_until(j.h.now() + 1ms);
  REQUIRE(j.h.logs("gossip_origin").size() == 1);
  j.h.clear();
  // The process was stopped for ten liveness intervals: everything is overdue at once.
  const auto woke = j.h.now() + 10 * j.cfg.liveness.interval;
  j.h.tick_at(woke);
  REQUIRE(j.h.logs("liveness_stalled").size() == 1);
  CHECK(j.h.logs("gossip_origin").empty());
  j.h.run_timers_until(woke + j.cfg.overlay.link_timeout - 1ms);
  CHECK(j.h.logs("gossip_origin").empty());
  j.h.run_timers_until(woke + j.cfg.overlay.link_timeout);
  CHECK(j.h.logs("gossip_origin").size() == 1);
}

TEST_CASE("a peer seeks links only once a majority of its seeds has answered", "[peer]") {
  const auto cfg = make_config(Role::kPeer, 3, kLinks + "[gossip]\ncount = 0\n");
  Peer peer(peer_at(1), cfg, 3);
  NodeHarness h(peer);
  h.start();
  const auto asked = h.sent_to<wire::Register>(Socket::kSeed);
  REQUIRE(asked.size() == 2);
  h.on_seed(asked[0], wire::PeerList{false, {peer_at(2), peer_at(3)}});  // one of the two answers
  REQUIRE_FALSE(peer.membership().joined());
  h.run_timers_until(h.now() + cfg.node.register_timeout - 1ms);
  CHECK(h.logs("link_request").empty());
  // Not even a refresh: the overlay, had it run, would have found no candidate and asked the seeds again.
  CHECK(h.sent_to<wire::Register>(Socket::kSeed).size() == 2);
  // Ticks for other timers (stats, the next registration round) come while it is still short of a
  // majority, with a partial candidate list at hand: still no link.
  h.run_timers_until(h.now() + 3 * cfg.gossip.stats_interval);
  REQUIRE_FALSE(peer.membership().joined());
  CHECK(h.logs("link_request").empty());
}

TEST_CASE("a neighbour found dead gets no copy of a message originated in the same tick", "[peer]") {
  // Liveness and gossip share one interval, so the round that declares peer 5 dead and a message fall due
  // at the same instant; peer 6 answers every probe.
  JoinedPeer j(kLinks + "[gossip]\ncount = 10\ninterval_ms = 300\n[liveness]\ninterval_ms = 300\nmax_misses = 3\n");
  j.link(peer_at(5));
  j.link(peer_at(6));
  bool checked = false;
  for (int step = 0; step < 8 && !checked; ++step) {
    j.h.clear();
    j.h.run_timers_until(j.h.now() + (step == 0 ? 0ms : 300ms));
    j.h.on_link(peer_at(6), wire::LivenessReply{0, peer_at(1)});
    if (j.h.logs("dead_detected").empty()) continue;
    REQUIRE(j.h.logs("gossip_origin").size() == 1);
    for (const auto& f : j.h.forwards()) CHECK(std::find(f.to.begin(), f.to.end(), peer_at(5)) == f.to.end());
    checked = true;
  }
  CHECK(checked);
}

TEST_CASE("a PUBLISH over max_payload_bytes is refused; one of exactly that size is published", "[peer]") {
  JoinedPeer j(kLinks + "[gossip]\ncount = 0\nmax_payload_bytes = 100\n");
  j.link(peer_at(5));
  j.h.clear();
  j.h.control(wire::Publish{std::string(101, 'x')});
  const auto errors = j.h.sent<wire::Error>(Socket::kControl);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].reason == "payload_too_large");
  CHECK(j.h.logs("publish_refused").size() == 1);
  CHECK(j.h.logs("gossip_origin").empty());
  j.h.clear();
  j.h.control(wire::Publish{std::string(100, 'x')});
  CHECK(j.h.logs("gossip_origin").size() == 1);
  CHECK(j.h.sent<wire::Published>(Socket::kControl).size() == 1);
  REQUIRE(j.h.forwards().size() == 1);
  CHECK(j.h.forwards()[0].to == std::vector<Address>{peer_at(5)});
  CHECK(j.h.forwards()[0].message.hops == 0);
}

TEST_CASE("stopping sends LEAVE to every neighbour and registered seed, then logs leaving, stats, stopped",
          "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  j.link(peer_at(6));
  j.link(peer_at(7));
  j.h.clear();
  j.h.stop();
  auto links = j.h.sent_to<wire::Leave>(Socket::kLink);
  std::sort(links.begin(), links.end());
  CHECK(links == std::vector<Address>{peer_at(5), peer_at(6), peer_at(7)});
  auto seeds = j.h.sent_to<wire::Leave>(Socket::kSeed);
  std::sort(seeds.begin(), seeds.end());
  CHECK(seeds == std::vector<Address>{seed_at(1), seed_at(2)});
  std::vector<std::string> names;
  for (const auto& e : j.h.effects())
    if (const auto* l = std::get_if<LogEvent>(&e)) names.emplace_back(l->name());
  CHECK(names == std::vector<std::string>{"leaving", "gossip_stats", "stopped"});
}

TEST_CASE("a peer asked for links leaves without telling the peers it only asked", "[peer]") {
  JoinedPeer j;
  j.h.run_timers_until(j.h.now());
  REQUIRE(j.peer.overlay().is_pending(peer_at(2)));
  j.h.clear();
  j.h.stop();
  CHECK(j.h.sent_to<wire::Leave>(Socket::kLink).empty());
}

TEST_CASE("a gossip copy a neighbour's queue refused is counted as dropped, not logged", "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  j.h.control(wire::Publish{"hello"});
  REQUIRE(j.peer.gossip().stats().forwarded == 1);
  j.h.clear();
  j.h.send_failed(Socket::kLink, peer_at(5), "GOSSIP");
  CHECK(j.peer.gossip().stats().forwarded == 0);
  CHECK(j.peer.gossip().stats().dropped == 1);
  CHECK(j.h.effects().empty());
  j.h.send_failed(Socket::kSeed, seed_at(1), "DEAD_NODE");
  const auto failed = j.h.logs("send_failed");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].get("type") == "DEAD_NODE");
}

TEST_CASE("a type a peer does not handle is refused on every socket", "[peer]") {
  JoinedPeer j;
  j.h.clear();
  j.h.inbox(peer_at(8), wire::Register{});
  j.h.on_link(peer_at(8), wire::PeerList{false, {}});
  j.h.on_seed(seed_at(1), wire::Gossip{peer_at(8), 1, 1, 0, "x"});
  j.h.control(wire::Register{});
  const auto bad = j.h.logs("bad_message");
  REQUIRE(bad.size() == 4);
  for (const auto& b : bad) CHECK(b.get("reason")->rfind("unexpected_type: ", 0) == 0);
  const auto errors = j.h.sent<wire::Error>(Socket::kControl);
  REQUIRE(errors.size() == 1);  // a control client always gets an answer
  CHECK(errors[0].reason == "unexpected_type");
}

TEST_CASE("a peer's first message waits for its first link, then one goes out every interval", "[peer]") {
  JoinedPeer j(kLinks + "[gossip]\ncount = 3\ninterval_ms = 200\n");
  j.h.run_timers_until(j.h.now() + 1s);
  CHECK(j.h.logs("gossip_origin").empty());
  j.link(peer_at(5));
  j.h.clear();
  j.h.run_timers_until(j.h.now() + 1s);
  const auto origins = j.h.logs("gossip_origin");
  REQUIRE(origins.size() == 3);
  CHECK(origins[0].get("msg")->find(":10.1.0.1:7000:1") != std::string::npos);
}

// ---- signed origins (security mode curve) ----------------------------------------------------------------

namespace {

// Keys for peer 1 (the peer under test), its neighbours 5 and 6, and an origin 8 further away.
struct SignedCluster {
  SignedCluster() {
    for (int i : {1, 5, 6, 8}) ids.push_back(generate_identity("p" + std::to_string(i), {peer_at(i)}));
    std::vector<PublicIdentity> pubs;
    for (const auto& id : ids) pubs.push_back(id.pub);
    trust = std::get<TrustStore>(TrustStore::from(pubs));
    for (const auto& id : ids) auths.emplace_back(id, trust);
  }
  // A message originated by peer `who`, signed by `signer` (by default the origin itself).
  wire::Gossip signed_by(int who, std::uint64_t seq, int signer = -1) const {
    auto g = gossip_from(peer_at(who), seq);
    g.signature = auth_of(signer < 0 ? who : signer).sign(canonical_content(g));
    return g;
  }
  const OriginAuth& auth_of(int who) const {
    const int index[] = {-1, 0, -1, -1, -1, 1, 2, -1, 3};
    return auths[static_cast<std::size_t>(index[who])];
  }
  std::vector<SecretIdentity> ids;
  TrustStore trust;
  std::vector<OriginAuth> auths;
};

}  // namespace

TEST_CASE("a signing peer signs what it originates with its own key", "[peer][sign]") {
  SignedCluster c;
  JoinedPeer j(kLinks + "[gossip]\ncount = 0\n", &c.auth_of(1));
  j.link(peer_at(5));
  j.h.clear();
  j.h.control(wire::Publish{"hello"});
  const auto f = j.h.forwards();
  REQUIRE(f.size() == 1);
  CHECK(f[0].message.signature.size() == wire::kSignatureBytes);
  CHECK(c.auth_of(5).check(f[0].message, canonical_content(f[0].message)).empty());
}

TEST_CASE("a forged copy is refused before the Message List, so the genuine one still gets through", "[peer][sign]") {
  SignedCluster c;
  JoinedPeer j(kLinks + "[gossip]\ncount = 0\n", &c.auth_of(1));
  j.link(peer_at(5));
  j.link(peer_at(6));
  j.h.clear();
  const auto genuine = c.signed_by(8, 1);
  auto forged = genuine;
  forged.body = "evil";  // same origin, seq and created: only the signature could tell
  forged.signature = c.auth_of(5).sign(canonical_content(forged));  // a member signing in 8's name
  j.h.inbox(peer_at(5), forged);
  auto same_id = genuine;
  same_id.signature = std::string(wire::kSignatureBytes, 'x');  // the genuine content, a bad signature
  j.h.inbox(peer_at(5), same_id);
  auto bare = genuine;
  bare.signature.clear();
  j.h.inbox(peer_at(5), bare);
  const auto rejected = j.h.logs("gossip_rejected");
  REQUIRE(rejected.size() == 3);
  CHECK(rejected[0].get("reason") == "bad_signature");
  CHECK(rejected[1].get("reason") == "bad_signature");
  CHECK(rejected[2].get("reason") == "unsigned");
  CHECK(j.h.forwards().empty());
  CHECK(j.peer.gossip().stats().received == 0);

  j.h.inbox(peer_at(6), genuine);
  const auto recv = j.h.logs("gossip_recv");
  REQUIRE(recv.size() == 1);
  CHECK(recv[0].get("msg") == "m1");
  REQUIRE(j.h.forwards().size() == 1);
  CHECK(j.h.forwards()[0].to == std::vector<Address>{peer_at(5)});
}

TEST_CASE("a signature is checked once per message, not per copy", "[peer][sign]") {
  SignedCluster c;
  JoinedPeer j(kLinks + "[gossip]\ncount = 0\n", &c.auth_of(1));
  j.link(peer_at(5));
  j.link(peer_at(6));
  j.h.inbox(peer_at(5), c.signed_by(8, 1));
  j.h.clear();
  // A later copy with a broken signature is a repeat of a message already verified: counted as such,
  // never checked (a check here would log gossip_rejected).
  auto copy = c.signed_by(8, 1);
  copy.signature[0] = static_cast<char>(copy.signature[0] ^ 1);
  j.h.inbox(peer_at(6), copy);
  CHECK(j.h.logs("gossip_rejected").empty());
  CHECK(j.peer.gossip().stats().duplicates == 1);
}

TEST_CASE("a neighbour that passes on only forgeries is no more alive than a silent one", "[peer][sign]") {
  SignedCluster c;
  JoinedPeer j(kLinks + "[gossip]\ncount = 0\n", &c.auth_of(1));
  j.link(peer_at(5));
  for (int round = 0; round <= j.cfg.liveness.max_misses; ++round) {
    j.h.run_timers_until(j.h.now() + j.cfg.liveness.interval);
    j.h.inbox(peer_at(5), c.signed_by(8, static_cast<std::uint64_t>(round + 1), 5));
  }
  // The last forgery comes after the drop: a non-neighbour's GOSSIP gets NOT_LINKED, unchecked.
  CHECK(j.h.logs("gossip_rejected").size() == static_cast<std::size_t>(j.cfg.liveness.max_misses));
  CHECK(j.h.logs("dead_detected").size() == 1);
}

TEST_CASE("a revoked neighbour is dropped at once and not reported to the seeds", "[peer]") {
  JoinedPeer j;
  j.link(peer_at(5));
  j.link(peer_at(6));
  j.h.clear();
  j.h.revoked({peer_at(5), peer_at(9)});
  CHECK_FALSE(j.peer.overlay().is_neighbour(peer_at(5)));
  CHECK(j.peer.overlay().is_neighbour(peer_at(6)));
  const auto down = j.h.logs("neighbour_down");
  REQUIRE(down.size() == 1);
  CHECK(down[0].get("reason") == "key_revoked");
  CHECK(j.h.sent<wire::DeadNode>(Socket::kSeed).empty());
}

TEST_CASE("without signing, unsigned messages are taken as version 1 took them", "[peer][sign]") {
  JoinedPeer j;
  j.link(peer_at(5));
  j.h.clear();
  j.h.inbox(peer_at(5), gossip_from(peer_at(8), 1));
  CHECK(j.h.logs("gossip_recv").size() == 1);
  CHECK(j.h.logs("gossip_rejected").empty());
}
