// seed.hpp — the whole protocol of a seed as one pure object: it owns the Registry (who is alive), the
// relay rule (a peer's dead-node report goes on to the other seeds, once) and the lease schedule (peers
// that stop re-registering expire). The shell (SeedNode) and the simulator only carry out its effects.
#pragma once

#include <cstdint>
#include <random>
#include <set>

#include "common/config.hpp"
#include "common/protocol_node.hpp"
#include "seed/registry.hpp"

namespace gossip {

class Seed final : public ProtocolNode {
 public:
  // `self` is the advertised address; the other seeds are node.seeds without it (and without node.listen).
  Seed(Address self, const Config& cfg, std::uint64_t random_seed);

  void start(Now now, Effects& out) override;
  void receive(const Arrival& in, Now now, Effects& out) override;
  void refused(std::string_view from, std::string_view reason, Effects& out) override;
  void send_failed(Socket via, const Address& to, std::string_view type, Effects& out) override;
  void tick(Now now, Effects& out) override;
  void revoked(const std::vector<Address>& addresses, Now now, Effects& out) override;
  TimePoint next_deadline() const override;
  void stop(int signal, Now now, Effects& out) override;

  const Address& self() const { return self_; }
  const Registry& registry() const { return registry_; }

 private:
  void on_register(const Address& peer, Now now, Effects& out);
  void on_dead_node(const Address& reporter, const wire::DeadNode& dead, Effects& out);

  Address self_;
  Config cfg_;
  std::mt19937_64 rng_;
  Registry registry_;
  std::set<Address> other_seeds_;           // node.seeds but us: whom we relay to, whose relays we accept
  TimePoint next_expiry_ = TimePoint::max();  // the next lease check; max when leases are off
};

}  // namespace gossip
