#pragma once
// The fixture of the ContentService tests (collection_service_test.cpp, entry_service_test.cpp): a service
// on a fresh database (SQLite and PostgreSQL) with two sites, a settable clock, and helpers.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/content/content_service.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::content::test_support {

using nlohmann::json;

inline constexpr std::int64_t kStart = 1'750'000'000'000;

struct Failure {
  int status = 0;
  std::vector<std::string> fields;
};

template <class F>
inline Failure Fails(F fn) {
  try {
    fn();
  } catch (const AppError& e) {
    Failure f{e.status(), {}};
    for (const auto& field : e.fields()) f.fields.push_back(field.field);
    return f;
  }
  return {};
}

class ContentServiceTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    queue_ = std::make_unique<jobs::JobQueue>(
        db(), [this] { return now_.load(); }, [] { return 0.0; });
    service_ = std::make_unique<ContentService>(db(), *queue_, [this] { return now_.load(); });
    service_->on_site_changed = [this](std::int64_t site) { changed_.push_back(site); };
    site_a_ = AddSite("alpha", "fr");
    site_b_ = AddSite("beta", "en");
  }
  void TearDown() override {
    service_.reset();
    queue_.reset();
    DbTest::TearDown();
  }

  std::int64_t AddSite(const std::string& slug, const std::string& locale) {
    sites::NewSite site;
    site.slug = slug;
    site.name = slug;
    site.locale = locale;
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }

  ContentService& svc() { return *service_; }

  Entry Create(std::int64_t site, const std::string& collection, json data, EntryStatus status = EntryStatus::kDraft) {
    EntryInput in;
    in.status = status;
    in.data = std::move(data);
    return svc().CreateEntry(origin_, site, collection, in);
  }

  std::vector<std::int64_t> Order(std::int64_t site, const std::string& collection) {
    EntryQuery q;
    q.limit = 100;
    std::vector<std::int64_t> ids;
    std::int64_t expected = 0;
    for (const auto& e : svc().ListEntries(site, collection, q).items) {
      EXPECT_EQ(e.position, expected++) << "positions must stay dense";
      ids.push_back(e.id);
    }
    return ids;
  }

  // A media item of the site, written directly (the media module owns the table; only its id matters here).
  std::int64_t AddMedia(std::int64_t site) {
    const long long site_id = site;
    long long id = 0;
    const std::string sha = "sha-" + std::to_string(++media_count_);
    db().Write([&](soci::session& s) {
      s << "INSERT INTO media (site_id, sha256, ext, content_type, family, size_bytes, filename, created_at,"
           " updated_at) VALUES (:site, :sha, 'png', 'image/png', 'image', 1, 'x.png', 1, 1) RETURNING id",
          soci::use(site_id), soci::use(sha), soci::into(id);
    });
    return id;
  }

  std::int64_t CountJobs(const std::string& kind) {
    long long n = 0;
    db().Read(
        [&](soci::session& s) { s << "SELECT COUNT(*) FROM jobs WHERE kind = :k", soci::use(kind), soci::into(n); });
    return n;
  }

  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<ContentService> service_;
  std::atomic<std::int64_t> now_{kStart};
  std::vector<std::int64_t> changed_;
  std::int64_t site_a_ = 0, site_b_ = 0;
  int media_count_ = 0;
  audit::Origin origin_{7, std::nullopt, "192.0.2.1", "req-1"};
};

inline NewCollection Custom(std::string name, json fields) {
  NewCollection c;
  c.name = std::move(name);
  std::vector<FieldError> errors;
  c.fields = FieldsFromJson(fields, errors);
  EXPECT_TRUE(errors.empty()) << errors[0].field << ": " << errors[0].message;
  return c;
}

}  // namespace poste::content::test_support
