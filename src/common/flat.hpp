// flat.hpp — a set and a map kept as one sorted vector. For the small collections a node touches on every
// message (its neighbours, their liveness): one contiguous block is a cache line or two, where a tree
// is a pointer chase per level. Not for large collections: inserting and erasing move elements.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

namespace gossip {

template <class T>
class FlatSet {
 public:
  using const_iterator = typename std::vector<T>::const_iterator;

  FlatSet() = default;
  FlatSet(std::initializer_list<T> items) : FlatSet(std::vector<T>(items)) {}
  // Any order, repeats allowed: O(n log n), not n inserts.
  explicit FlatSet(std::vector<T> items) : items_(std::move(items)) {
    if (!std::is_sorted(items_.begin(), items_.end())) std::sort(items_.begin(), items_.end());
    items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
  }

  // Returns whether it was added (false: already there).
  bool insert(const T& item) {
    const auto it = std::lower_bound(items_.begin(), items_.end(), item);
    if (it != items_.end() && *it == item) return false;
    items_.insert(it, item);
    return true;
  }
  // Returns the number removed (0 or 1).
  std::size_t erase(const T& item) {
    const auto it = std::lower_bound(items_.begin(), items_.end(), item);
    if (it == items_.end() || !(*it == item)) return 0;
    items_.erase(it);
    return 1;
  }
  std::size_t count(const T& item) const { return std::binary_search(items_.begin(), items_.end(), item) ? 1 : 0; }
  bool contains(const T& item) const { return count(item) != 0; }

  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const T& operator[](std::size_t i) const { return items_[i]; }
  bool operator==(const FlatSet& other) const { return items_ == other.items_; }

 private:
  std::vector<T> items_;
};

template <class K, class V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  V& operator[](const K& key) {
    const auto it = lower(key);
    if (it != items_.end() && it->first == key) return it->second;
    return items_.insert(it, value_type{key, V{}})->second;
  }
  iterator find(const K& key) {
    const auto it = lower(key);
    return it != items_.end() && it->first == key ? it : items_.end();
  }
  const_iterator find(const K& key) const { return const_cast<FlatMap*>(this)->find(key); }
  std::size_t erase(const K& key) {
    const auto it = find(key);
    if (it == items_.end()) return 0;
    items_.erase(it);
    return 1;
  }
  iterator erase(iterator it) { return items_.erase(it); }
  std::size_t count(const K& key) const { return find(key) != items_.end() ? 1 : 0; }

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  iterator lower(const K& key) {
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [](const value_type& item, const K& k) { return item.first < k; });
  }
  std::vector<value_type> items_;
};

}  // namespace gossip
