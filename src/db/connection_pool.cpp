#include "db/connection_pool.hpp"

#include <soci/soci.h>

#include <string>
#include <utility>

#include "lib/error.hpp"

namespace poste::db {

ConnectionPool::ConnectionPool(std::vector<std::unique_ptr<soci::session>> sessions,
                               std::chrono::milliseconds acquire_timeout, Revive revive)
    : sessions_(std::move(sessions)), acquire_timeout_(acquire_timeout), revive_(std::move(revive)) {
  for (std::size_t i = sessions_.size(); i > 0; --i) free_.push_back(i - 1);
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(index_);
}

soci::session& ConnectionPool::Lease::operator*() const { return *pool_->sessions_[index_]; }

ConnectionPool::Lease ConnectionPool::Acquire() {
  std::size_t index = 0;
  {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, acquire_timeout_, [&] { return !free_.empty(); })) {
      throw AppError::Unavailable("The database is busy; try again shortly.",
                                  "no database connection became free within " +
                                      std::to_string(acquire_timeout_.count()) + " ms (pool of " +
                                      std::to_string(sessions_.size()) + ")");
    }
    index = free_.back();
    free_.pop_back();
  }
  Lease lease(this, index);  // from here on the session goes back to the pool even if reviving throws
  if (revive_) revive_(*sessions_[index]);
  return lease;
}

std::size_t ConnectionPool::InUse() const {
  std::lock_guard lock(mutex_);
  return sessions_.size() - free_.size();
}

void ConnectionPool::Release(std::size_t index) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(index);
  }
  available_.notify_one();
}

}  // namespace poste::db
