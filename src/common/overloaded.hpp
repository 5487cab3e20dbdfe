// overloaded.hpp — the usual helper for std::visit with one lambda per alternative.
#pragma once

namespace gossip {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang 14 lacks C++20 aggregate deduction

}  // namespace gossip
