#pragma once
// SQLite WAL checkpoints off the writer's path. SQLite's own (wal_autocheckpoint) runs inside the commit
// that takes the WAL past 1,000 pages: that commit copies the pages into the database file and syncs both
// while every writer waits (a campaign spent about 40% of its commit time there, bench/RESULTS.md). Here the
// writer's commit only looks at the WAL's size (a wal_hook, which replaces the automatic checkpoint) and
// wakes a thread that checkpoints PASSIVE (it never blocks the writer or the readers) on a connection of
// its own, opened when first needed. A checkpoint running beside a busy writer never catches up with the
// WAL's last pages, and only a checkpoint that did lets the next commit start the WAL over; so past
// kBackstopPages the writer checkpoints itself, as SQLite would have, with little left to copy.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace soci {
class session;
}

namespace poste::db {

class SqliteCheckpointer {
 public:
  static constexpr int kWakePages = 1000;      // SQLite's automatic checkpoint's threshold
  static constexpr int kBackstopPages = 4000;  // ~16 MB of WAL with 4 KB pages

  // `writer`: the connection that commits (its wal_hook is taken); `connect`: opens the checkpoint's own.
  SqliteCheckpointer(soci::session& writer, std::function<std::unique_ptr<soci::session>()> connect);
  ~SqliteCheckpointer();  // stops the thread; the writer must outlive this
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Checkpoints the thread ran so far.
  std::size_t checkpoints() const;

 private:
  static int OnCommit(void* self, void* db, const char* name, int pages);
  void Run();

  soci::session& writer_;
  std::function<std::unique_ptr<soci::session>()> connect_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false, stopping_ = false;
  std::size_t checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace poste::db
