// overlay.hpp — a peer's neighbour set: whom to ask for a link, whether to accept one, when to trade a
// link so a newcomer finds room, and what happens when a link goes away. Pure: returns what to send.
#pragma once

#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/flat.hpp"

namespace gossip {

class Overlay {
 public:
  // Open a socket to `to` and send LINK_REQUEST.
  struct RequestLink {
    Address to;
  };
  // Answer a LINK_REQUEST with LINK_ACCEPT (and open our socket to `peer` if not open).
  struct AcceptLink {
    Address peer;
  };
  // Answer a LINK_REQUEST with LINK_REJECT.
  struct RejectLink {
    Address peer;
    std::string reason;
  };
  // `peer` is a neighbour now.
  struct LinkUp {
    Address peer;
  };
  // `peer` is no longer a neighbour (or a pending request to it failed): close its socket. If `unlink`
  // is set, first send it UNLINK with that reason and suggestion.
  struct LinkDown {
    Address peer;
    std::string reason;
    bool was_neighbour;
    std::optional<std::string> unlink_reason;
    std::optional<Address> suggest;
  };
  // Below target with no candidate left: ask the seeds for a fresh list.
  struct WantPeers {};
  using Action = std::variant<RequestLink, AcceptLink, RejectLink, LinkUp, LinkDown, WantPeers>;

  Overlay(Address self, const OverlayConfig& cfg);

  // The peers we may link to (the seeds' union list). Replaces the previous set.
  void set_candidates(const std::vector<Address>& candidates);

  // Sends link requests while below target, expires unanswered ones, asks for peers when out of options.
  std::vector<Action> tick(TimePoint now, std::mt19937_64& rng);
  std::vector<Action> on_link_request(const Address& from, std::uint64_t their_degree, TimePoint now,
                                      std::mt19937_64& rng);
  std::vector<Action> on_link_accept(const Address& from);
  std::vector<Action> on_link_reject(const Address& from, const std::string& reason, TimePoint now);
  // UNLINK, LEAVE, NOT_LINKED from `from`, or our own failure detector: the link is gone.
  std::vector<Action> drop(const Address& peer, const std::string& reason, TimePoint now);
  // UNLINK with a suggested replacement: drop `from`, then ask `suggest` for a link.
  std::vector<Action> on_unlink(const Address& from, const std::string& reason,
                                const std::optional<Address>& suggest, TimePoint now);
  // Stop accepting and asking (we are shutting down).
  void close() { closing_ = true; }

  TimePoint next_deadline() const;
  bool is_neighbour(const Address& peer) const { return neighbours_.count(peer) != 0; }
  bool is_pending(const Address& peer) const { return pending_.count(peer) != 0; }
  const FlatSet<Address>& neighbours() const { return neighbours_; }
  std::size_t degree() const { return neighbours_.size(); }
  std::size_t pending_count() const { return pending_.size(); }
  std::size_t candidate_count() const { return candidates_.size(); }
  std::size_t cooldown_count() const { return cooldown_.size(); }

 private:
  void cool_down(const Address& peer, TimePoint until);
  bool eligible(const Address& peer, TimePoint now) const;

  Address self_;
  OverlayConfig cfg_;
  FlatSet<Address> neighbours_;                // few (max_degree), looked up per message
  std::map<Address, TimePoint> pending_;   // our LINK_REQUESTs awaiting an answer -> deadline
  std::map<Address, TimePoint> cooldown_;  // peers that refused or timed out -> when to try again
  FlatSet<Address> candidates_;            // up to seeds x 1,024: 40 bytes each, not a tree node's 80
  TimePoint next_tick_{};
  TimePoint last_want_peers_{};
  TimePoint last_trade_{};  // at most one trade per refill interval
  bool closing_ = false;
};

}  // namespace gossip
