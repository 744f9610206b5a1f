#pragma once
// A fixed set of SOCI sessions handed out one at a time. Internal to the db layer (it exposes SOCI).
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace soci {
class session;
}

namespace poste::db {

class ConnectionPool {
 public:
  // Called on a session before it is handed out, e.g. to reconnect a dropped PostgreSQL connection.
  using Revive = std::function<void(soci::session&)>;

  ConnectionPool(std::vector<std::unique_ptr<soci::session>> sessions, std::chrono::milliseconds acquire_timeout,
                 Revive revive);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A borrowed session, returned to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::size_t index) : pool_(pool), index_(index) {}
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), index_(other.index_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    soci::session& operator*() const;

   private:
    ConnectionPool* pool_;
    std::size_t index_;
  };

  // Waits up to the acquire timeout for a free session; throws AppError::Unavailable after that, so a
  // request fails with 503 instead of hanging when every connection is stuck.
  Lease Acquire();

  std::size_t Size() const { return sessions_.size(); }
  std::size_t InUse() const;

 private:
  void Release(std::size_t index);

  std::vector<std::unique_ptr<soci::session>> sessions_;
  std::chrono::milliseconds acquire_timeout_;
  Revive revive_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::size_t> free_;  // indexes into sessions_, used as a stack (warm connections first)
};

}  // namespace poste::db
