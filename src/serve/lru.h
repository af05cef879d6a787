// LruCache: a map from a string to an immutable shared value that keeps its most recently used
// entries within a count and a byte budget (each entry's size is given by the caller), dropping
// the least recently used beyond either. A value handed out stays alive for as long as its
// holder keeps it, evicted or not.
//
// Thread-safe: every call takes the cache's own lock, for a lookup or an insert only (values
// are made by the caller, outside it).
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace covid::serve {

template <typename V>
class LruCache {
 public:
  LruCache(size_t max_entries, size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The value for key (now the most recently used), or nullptr.
  std::shared_ptr<const V> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  // Keeps value under key unless an entry is there already (another thread made the same one
  // first: that one is kept and returned); then drops the least recently used entries beyond the
  // budgets. Returns the value now under key, which is the one to use (even when it was dropped
  // at once for being larger than the whole budget).
  std::shared_ptr<const V> put(const std::string& key, std::shared_ptr<const V> value,
                               size_t bytes) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return it->second->value;
    }
    order_.push_front(Node{key, value, bytes});
    index_.emplace(key, order_.begin());
    bytes_ += bytes;
    while (!order_.empty() && (order_.size() > max_entries_ || bytes_ > max_bytes_)) {
      Node& last = order_.back();
      bytes_ -= last.bytes;
      index_.erase(last.key);
      order_.pop_back();
    }
    return value;
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return order_.size();
  }
  size_t bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
  }

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const V> value;
    size_t bytes = 0;
  };

  const size_t max_entries_, max_bytes_;
  mutable std::mutex mu_;
  std::list<Node> order_;  // the most recently used first
  std::unordered_map<std::string, typename std::list<Node>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace covid::serve
