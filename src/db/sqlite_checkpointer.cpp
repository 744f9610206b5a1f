#include "db/sqlite_checkpointer.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

namespace poste::db {
namespace {

sqlite_api::sqlite3* Handle(soci::session& session) {
  return static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
}

}  // namespace

SqliteCheckpointer::SqliteCheckpointer(soci::session& writer, std::function<std::unique_ptr<soci::session>()> connect)
    : writer_(writer), connect_(std::move(connect)) {
  thread_ = std::thread([this] { Run(); });
  sqlite_api::sqlite3_wal_hook(
      Handle(writer_),
      [](void* self, sqlite_api::sqlite3* db, const char* name, int pages) {
        return OnCommit(self, static_cast<void*>(db), name, pages);
      },
      this);
}

SqliteCheckpointer::~SqliteCheckpointer() {
  sqlite_api::sqlite3_wal_hook(Handle(writer_), nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::size_t SqliteCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

int SqliteCheckpointer::OnCommit(void* self, void* db, const char* name, int pages) {
  auto& me = *static_cast<SqliteCheckpointer*>(self);
  if (pages >= kBackstopPages) {  // the WAL starts over only after a complete checkpoint: the writer's
    sqlite_api::sqlite3_wal_checkpoint_v2(static_cast<sqlite_api::sqlite3*>(db), name, SQLITE_CHECKPOINT_PASSIVE,
                                          nullptr, nullptr);
  } else if (pages >= kWakePages) {
    std::lock_guard lock(me.mutex_);
    if (!me.due_) {
      me.due_ = true;
      me.wake_.notify_one();
    }
  }
  return SQLITE_OK;
}

void SqliteCheckpointer::Run() {
  std::unique_ptr<soci::session> own;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    try {
      if (!own) own = connect_();
      int log = 0, done = 0;
      const int rc =
          sqlite_api::sqlite3_wal_checkpoint_v2(Handle(*own), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("WAL checkpoint failed: {}", sqlite_api::sqlite3_errstr(rc));
      }
    } catch (const std::exception& e) {  // the next commit past the threshold tries again
      spdlog::warn("WAL checkpoint: {}", e.what());
    }
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace poste::db
