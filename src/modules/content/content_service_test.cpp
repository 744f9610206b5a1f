#include "modules/content/content_service.hpp"

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
#include "modules/media/media_refs_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::content {
namespace {

using nlohmann::json;

constexpr std::int64_t kStart = 1'750'000'000'000;

struct Failure {
  int status = 0;
  std::vector<std::string> fields;
};

template <class F>
Failure Fails(F fn) {
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

NewCollection Custom(std::string name, json fields) {
  NewCollection c;
  c.name = std::move(name);
  std::vector<FieldError> errors;
  c.fields = FieldsFromJson(fields, errors);
  EXPECT_TRUE(errors.empty()) << errors[0].field << ": " << errors[0].message;
  return c;
}

TEST_P(ContentServiceTest, PresetsAndCollections) {
  auto formations = svc().AddPreset(origin_, site_a_, "formations");
  EXPECT_EQ(formations.slug, "formations");
  EXPECT_EQ(formations.preset, "formations");
  std::vector<std::string> names;
  for (const auto& f : formations.fields) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"title", "number", "description", "start_date", "end_date",
                                             "registration_deadline", "price", "available_seats", "location",
                                             "external_link", "status", "display_order"}));
  EXPECT_EQ(formations.Field("price")->type, FieldType::kMoney);
  EXPECT_EQ(formations.Field("status")->options, (std::vector<std::string>{"active", "full", "cancelled", "finished"}));
  auto pages = svc().AddPreset(origin_, site_a_, "pages");
  EXPECT_TRUE(pages.Field("slug")->unique);
  EXPECT_EQ(Fails([&] { svc().AddPreset(origin_, site_a_, "pages"); }).status, 409);
  EXPECT_EQ(Fails([&] { svc().AddPreset(origin_, site_a_, "blog"); }).fields, std::vector<std::string>{"preset"});
  // The same preset on another site is another collection.
  EXPECT_NE(svc().AddPreset(origin_, site_b_, "pages").id, pages.id);

  auto custom = svc().CreateCollection(origin_, site_a_, Custom("Équipe & partenaires", json::array()));
  EXPECT_EQ(custom.slug, "equipe-partenaires");
  EXPECT_FALSE(custom.preset);
  EXPECT_EQ(svc().ListCollections(site_a_).size(), 3u);
  EXPECT_EQ(svc().ListCollections(site_b_).size(), 1u);
  NewCollection bad;
  bad.name = "";
  bad.slug = "Bad Slug";
  EXPECT_EQ(Fails([&] { svc().CreateCollection(origin_, site_a_, bad); }).fields,
            (std::vector<std::string>{"name", "slug"}));
  EXPECT_EQ(Fails([&] { svc().GetCollection(site_b_, "formations"); }).status, 404);

  svc().DeleteCollection(origin_, site_a_, "equipe-partenaires");
  EXPECT_EQ(Fails([&] { svc().GetCollection(site_a_, "equipe-partenaires"); }).status, 404);
  EXPECT_EQ(Fails([&] { svc().DeleteCollection(origin_, site_b_, "formations"); }).status, 404);
  auto audit = audit::AuditService(db()).List({});
  std::set<std::string> actions;
  for (const auto& e : audit.items) actions.insert(e.action);
  EXPECT_TRUE(actions.count("collection.create") && actions.count("collection.delete"));
  EXPECT_FALSE(changed_.empty());
}

TEST_P(ContentServiceTest, SchemaDefinitionsAreChecked) {
  std::vector<FieldError> errors;
  FieldsFromJson(json::parse(R"([
    {"name": "Title", "type": "text"},
    {"name": "a", "type": "colour"},
    {"name": "b", "type": "enum"},
    {"name": "c", "type": "text", "pattern": "(unclosed"},
    {"name": "d", "type": "integer", "min": 5, "max": 1},
    {"name": "e", "type": "boolean", "unique": true},
    {"name": "e", "type": "text"},
    {"name": "slug", "type": "integer"},
    {"name": "f", "type": "text", "options": ["x"]},
    {"name": "g", "type": "text", "whatever": 1}
  ])"),
                 errors);
  std::set<std::string> fields;
  for (const auto& e : errors) fields.insert(e.field);
  for (const char* f :
       {"fields[0].name", "fields[1].type", "fields[2].options", "fields[3].pattern", "fields[4].min",
        "fields[5].unique", "fields[6].name", "fields[7].type", "fields[8].options", "fields[9].whatever"}) {
    EXPECT_TRUE(fields.count(f)) << f;
  }
  errors.clear();
  FieldsFromJson(json::object(), errors);
  EXPECT_EQ(errors.size(), 1u);
}

TEST_P(ContentServiceTest, EntryValuesAreValidatedAndNormalised) {
  svc().AddPreset(origin_, site_a_, "formations");
  auto e = Create(site_a_, "formations",
                  {{"title", "Cours <b>\"HTML\"</b> '; DROP TABLE entries; --"},
                   {"price", {{"amount", 45000}, {"currency", "CHF"}}},
                   {"start_date", "2025-09-01"},
                   {"available_seats", 12},
                   {"status", "active"},
                   {"external_link", "https://example.com/inscription?a=1&b=2"},
                   {"description", "# Programme\n\n<script>alert(1)</script> [x](javascript:alert(1))"}});
  EXPECT_EQ(e.data["title"], "Cours <b>\"HTML\"</b> '; DROP TABLE entries; --");  // stored verbatim
  EXPECT_EQ(e.status, EntryStatus::kDraft);
  EXPECT_EQ(e.position, 0);
  EXPECT_EQ(e.version, 1);
  ASSERT_TRUE(e.html.is_object());
  const std::string html = e.html["description"];
  EXPECT_NE(html.find("<h1>Programme</h1>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("javascript:"), std::string::npos) << html;

  auto bad = Fails([&] {
    Create(site_a_, "formations",
           {{"title", std::string(201, 'x')},
            {"price", {{"amount", 10.5}, {"currency", "CHF"}}},
            {"start_date", "2025-02-30"},
            {"available_seats", -1},
            {"status", "open"},
            {"external_link", "javascript:alert(1)"},
            {"colour", "red"}});
  });
  EXPECT_EQ(bad.status, 422);
  std::set<std::string> fields(bad.fields.begin(), bad.fields.end());
  for (const char* f : {"data.title", "data.price.amount", "data.start_date", "data.available_seats", "data.status",
                        "data.external_link", "data.colour"}) {
    EXPECT_TRUE(fields.count(f)) << f;
  }
  EXPECT_EQ(Fails([&] {
              Create(site_a_, "formations", {{"price", 1}});
            }).fields,
            (std::vector<std::string>{"data.title", "data.price", "data.status"}));
  EXPECT_EQ(Fails([&] {
              Create(site_a_, "formations", {{"title", "a\r\nb"}, {"status", "full"}});
            }).fields,
            std::vector<std::string>{"data.title"});

  auto all = svc().CreateCollection(origin_, site_a_, Custom("All", json::parse(R"([
        {"name": "when", "type": "datetime"}, {"name": "mail", "type": "email"}, {"name": "tel", "type": "phone"},
        {"name": "flag", "type": "boolean"}, {"name": "tags", "type": "list", "max": 3}, {"name": "n", "type": "number"},
        {"name": "code", "type": "text", "pattern": "^[A-Z]{3}-[0-9]+$"}, {"name": "photo", "type": "media"},
        {"name": "other", "type": "reference"}])")));
  const auto photo = AddMedia(site_a_), b_photo = AddMedia(site_b_);
  auto ok = Create(site_a_, "all",
                   {{"when", "2025-03-01T09:30:00+01:00"},
                    {"mail", " Ana@Example.COM "},
                    {"tel", "+41 21 123 45 67"},
                    {"flag", true},
                    {"tags", {"a", "b"}},
                    {"n", 2.5},
                    {"code", "ABC-12"},
                    {"photo", photo},
                    {"other", e.id}});
  EXPECT_EQ(ok.data["when"], "2025-03-01T08:30:00.000Z");
  EXPECT_EQ(ok.data["mail"], "Ana@example.com");
  auto wrong = Fails([&] {
    Create(site_a_, "all",
           {{"when", "yesterday"},
            {"mail", "not an email"},
            {"tel", "call me"},
            {"flag", "yes"},
            {"tags", {"a", "b", "c", "d"}},
            {"n", "1"},
            {"code", "abc-12"},
            {"photo", -3},
            {"other", 999999}});
  });
  EXPECT_EQ(wrong.fields.size(), 8u);  // the reference is looked up once the values themselves are valid
  EXPECT_EQ(Fails([&] { Create(site_a_, "all", {{"other", 999999}}); }).fields, std::vector<std::string>{"data.other"});
  // A reference to another site's entry does not exist for this site.
  svc().AddPreset(origin_, site_b_, "pages");
  auto b_page = Create(site_b_, "pages", {{"title", "B"}, {"slug", "b"}});
  EXPECT_EQ(Fails([&] {
              Create(site_a_, "all", {{"other", b_page.id}});
            }).fields,
            std::vector<std::string>{"data.other"});
  EXPECT_EQ(Fails([&] {
              Create(site_a_, "all", {{"photo", b_photo}});
            }).fields,
            std::vector<std::string>{"data.photo"});
  EXPECT_EQ(Fails([&] { Create(site_a_, "all", {{"photo", 999999}}); }).fields, std::vector<std::string>{"data.photo"});
  // Media references follow the entry.
  auto refs = db().ReadValue([&](soci::session& s) { return media::store::RefsTo(s, site_a_, photo); });
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].owner_id, ok.id);
  svc().DeleteEntry(origin_, site_a_, "all", ok.id, std::nullopt);
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return media::store::RefsTo(s, site_a_, photo); }).empty());
}

TEST_P(ContentServiceTest, UniqueValuesSlugsAndTenancy) {
  svc().AddPreset(origin_, site_a_, "pages");
  svc().AddPreset(origin_, site_b_, "pages");
  auto about = Create(site_a_, "pages", {{"title", "About"}, {"slug", "about"}, {"body", "Hi"}});
  EXPECT_EQ(about.slug, "about");
  auto dup = Fails([&] { Create(site_a_, "pages", {{"title", "Again"}, {"slug", "about"}}); });
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.fields, std::vector<std::string>{"data.slug"});
  EXPECT_EQ(Fails([&] { Create(site_a_, "pages", {{"title", "Digits"}, {"slug", "123"}}); }).status, 422);
  // Another site may use the same slug.
  auto b_about = Create(site_b_, "pages", {{"title", "About B"}, {"slug", "about"}});
  EXPECT_EQ(svc().GetEntry(site_a_, "pages", "about").id, about.id);
  EXPECT_EQ(svc().GetEntry(site_b_, "pages", "about").id, b_about.id);
  EXPECT_EQ(svc().GetEntry(site_a_, "pages", std::to_string(about.id)).id, about.id);
  EXPECT_EQ(Fails([&] { svc().GetEntry(site_a_, "pages", std::to_string(b_about.id)); }).status, 404);
  EXPECT_EQ(Fails([&] { svc().UpdateEntry(origin_, site_a_, "pages", b_about.id, EntryInput{}, std::nullopt); }).status,
            404);
  EXPECT_EQ(Fails([&] { svc().DeleteEntry(origin_, site_a_, "pages", b_about.id, std::nullopt); }).status, 404);

  // Renaming keeps uniqueness right: the old slug is free again, the new one taken.
  EntryInput rename;
  rename.data = json{{"slug", "a-propos"}};
  svc().UpdateEntry(origin_, site_a_, "pages", about.id, rename, std::nullopt);
  auto again = Create(site_a_, "pages", {{"title", "About again"}, {"slug", "about"}});
  EXPECT_EQ(Fails([&] { svc().UpdateEntry(origin_, site_a_, "pages", again.id, rename, std::nullopt); }).status, 409);
  svc().DeleteEntry(origin_, site_a_, "pages", about.id, std::nullopt);
  EXPECT_NO_THROW(svc().UpdateEntry(origin_, site_a_, "pages", again.id, rename, std::nullopt));
}

TEST_P(ContentServiceTest, UpdatesStatusesConcurrencyAndRevisions) {
  svc().AddPreset(origin_, site_a_, "pages");
  auto e = Create(site_a_, "pages", {{"title", "v1"}, {"slug", "home"}});
  const auto etag = ETagOf(e);
  now_ += 1000;
  EntryInput publish;
  publish.status = EntryStatus::kPublished;
  publish.data = json{{"title", "v2"}, {"body", nullptr}};
  auto published = svc().UpdateEntry(origin_, site_a_, "pages", e.id, publish, etag);
  EXPECT_EQ(published.version, 2);
  EXPECT_EQ(published.published_at, kStart + 1000);
  EXPECT_EQ(published.data["title"], "v2");
  // The old ETag is stale now.
  EntryInput touch;
  touch.data = json{{"title", "v3"}};
  EXPECT_EQ(Fails([&] { svc().UpdateEntry(origin_, site_a_, "pages", e.id, touch, etag); }).status, 412);
  EXPECT_EQ(Fails([&] { svc().DeleteEntry(origin_, site_a_, "pages", e.id, etag); }).status, 412);
  EXPECT_NO_THROW(svc().UpdateEntry(origin_, site_a_, "pages", e.id, touch, "\"x\", " + ETagOf(published)));
  EXPECT_NO_THROW(svc().UpdateEntry(origin_, site_a_, "pages", e.id, touch, std::string("*")));  // unchanged: no-op
  // Archived, then back to draft: published_at keeps the first publication.
  EntryInput archive;
  archive.status = EntryStatus::kArchived;
  auto archived = svc().UpdateEntry(origin_, site_a_, "pages", e.id, archive, std::nullopt);
  EXPECT_EQ(archived.published_at, kStart + 1000);

  // Revisions: the newest 20 kept, restorable.
  for (int i = 0; i < 25; ++i) {
    EntryInput edit;
    edit.data = json{{"title", "t" + std::to_string(i)}};
    svc().UpdateEntry(origin_, site_a_, "pages", e.id, edit, std::nullopt);
  }
  auto revisions = svc().Revisions(site_a_, "pages", e.id);
  ASSERT_EQ(revisions.size(), kMaxRevisions);
  EXPECT_EQ(revisions.front().data["title"], "t24");
  EXPECT_EQ(revisions.front().actor_user_id, 7);
  const auto old = revisions.back();
  EXPECT_EQ(old.data["title"], "t5");
  auto current = svc().GetEntry(site_a_, "pages", std::to_string(e.id));
  EXPECT_EQ(Fails([&] { svc().RestoreRevision(origin_, site_a_, "pages", e.id, old.revision, "\"stale\""); }).status,
            412);
  auto restored = svc().RestoreRevision(origin_, site_a_, "pages", e.id, old.revision, ETagOf(current));
  EXPECT_EQ(restored.data["title"], "t5");
  EXPECT_EQ(restored.status, EntryStatus::kArchived);  // the status is kept
  EXPECT_EQ(restored.version, current.version + 1);
  EXPECT_EQ(Fails([&] { svc().RestoreRevision(origin_, site_a_, "pages", e.id, 1, std::nullopt); }).status, 404);
  EXPECT_EQ(Fails([&] { svc().Revisions(site_b_, "pages", e.id); }).status, 404);

  // Webhook events and audit rows were written with the changes.
  long long events = 0;
  db().Read(
      [&](soci::session& s) { s << "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.event'", soci::into(events); });
  EXPECT_GE(events, 30);
  std::set<std::string> actions;
  for (const auto& a : audit::AuditService(db()).List({}).items) actions.insert(a.action);
  for (const char* a : {"entry.create", "entry.update", "entry.publish", "entry.restore"}) {
    EXPECT_TRUE(actions.count(a)) << a;
  }
}

TEST_P(ContentServiceTest, SchemaChangesReportConflictsInsteadOfCorrupting) {
  auto c = svc().CreateCollection(origin_, site_a_, Custom("Items", json::parse(R"([{"name": "title", "type": "text"},
                                                                   {"name": "qty", "type": "integer"},
                                                                   {"name": "code", "type": "text"}])")));
  auto a = Create(site_a_, "items", {{"title", "A"}, {"qty", 5}, {"code", "x"}});
  auto b = Create(site_a_, "items", {{"qty", 50}, {"code", "x"}});
  CollectionPatch patch;
  std::vector<FieldError> errors;
  patch.fields = FieldsFromJson(json::parse(R"([{"name": "title", "type": "text", "required": true},
                                                {"name": "qty", "type": "integer", "max": 10},
                                                {"name": "code", "type": "text", "unique": true}])"),
                                errors);
  auto conflict = Fails([&] { svc().UpdateCollection(origin_, site_a_, "items", patch); });
  EXPECT_EQ(conflict.status, 422);
  const std::string pb = "entries[" + std::to_string(b.id) + "].data.";
  EXPECT_EQ(conflict.fields, (std::vector<std::string>{pb + "title", pb + "qty", pb + "code"}));
  // Nothing changed.
  EXPECT_EQ(svc().GetCollection(site_a_, "items").fields.size(), 3u);
  EXPECT_FALSE(svc().GetCollection(site_a_, "items").fields[0].required);
  EXPECT_EQ(svc().GetEntry(site_a_, "items", std::to_string(b.id)).data["qty"], 50);

  // A compatible change: qty becomes a number, code is dropped (with its values), a field is added.
  patch.fields = FieldsFromJson(json::parse(R"([{"name": "title", "type": "long_text"},
                                                {"name": "qty", "type": "number"},
                                                {"name": "note", "type": "text"}])"),
                                errors);
  auto changed = svc().UpdateCollection(origin_, site_a_, "items", patch);
  EXPECT_EQ(changed.fields.size(), 3u);
  auto after = svc().GetEntry(site_a_, "items", std::to_string(a.id));
  EXPECT_EQ(after.data, (json{{"title", "A"}, {"qty", 5}}));
  EXPECT_EQ(after.version, 2);
  (void)c;
}

TEST_P(ContentServiceTest, ReorderKeepsPositionsDense) {
  svc().AddPreset(origin_, site_a_, "pages");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Create(site_a_, "pages", {{"title", "p"}, {"slug", "p" + std::to_string(i)}}).id);
  }
  EXPECT_EQ(Order(site_a_, "pages"), ids);
  ReorderRequest move;
  move.id = ids[4];
  move.before = ids[0];
  EXPECT_EQ(svc().Reorder(origin_, site_a_, "pages", move),
            (std::vector<std::int64_t>{ids[4], ids[0], ids[1], ids[2], ids[3]}));
  move = {};
  move.id = ids[0];
  move.after = ids[3];
  svc().Reorder(origin_, site_a_, "pages", move);
  EXPECT_EQ(Order(site_a_, "pages"), (std::vector<std::int64_t>{ids[4], ids[1], ids[2], ids[3], ids[0]}));
  ReorderRequest whole;
  whole.ids = {ids[2], ids[1]};
  svc().Reorder(origin_, site_a_, "pages", whole);
  EXPECT_EQ(Order(site_a_, "pages"), (std::vector<std::int64_t>{ids[2], ids[1], ids[4], ids[3], ids[0]}));
  svc().DeleteEntry(origin_, site_a_, "pages", ids[1], std::nullopt);
  EXPECT_EQ(Order(site_a_, "pages"), (std::vector<std::int64_t>{ids[2], ids[4], ids[3], ids[0]}));

  whole.ids = {ids[2], ids[2]};
  EXPECT_EQ(Fails([&] { svc().Reorder(origin_, site_a_, "pages", whole); }).fields, std::vector<std::string>{"ids[1]"});
  whole.ids = {ids[1]};  // deleted
  EXPECT_EQ(Fails([&] { svc().Reorder(origin_, site_a_, "pages", whole); }).status, 422);
  move = {};
  move.id = ids[2];
  move.before = ids[2];
  EXPECT_EQ(Fails([&] { svc().Reorder(origin_, site_a_, "pages", move); }).status, 422);
  move.before.reset();
  EXPECT_EQ(Fails([&] { svc().Reorder(origin_, site_a_, "pages", move); }).status, 422);
}

TEST_P(ContentServiceTest, ConcurrentMovesCreatesAndDeletesKeepPositionsDense) {
  svc().AddPreset(origin_, site_a_, "pages");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back(Create(site_a_, "pages", {{"title", "p"}, {"slug", "s" + std::to_string(i)}}).id);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < 8; ++i) {
          ReorderRequest r;
          r.id = ids[(t * 3 + i) % 11];  // ids[11] is deleted meanwhile
          const auto target = ids[(t * 5 + i * 7 + 1) % 11];
          if (target == *r.id) continue;
          if (i % 2) {
            r.before = target;
          } else {
            r.after = target;
          }
          svc().Reorder(origin_, site_a_, "pages", r);
        }
        Create(site_a_, "pages", {{"title", "new"}, {"slug", "new-" + std::to_string(t)}});
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  threads.emplace_back([&] {
    try {
      svc().DeleteEntry(origin_, site_a_, "pages", ids[11], std::nullopt);
      ReorderRequest whole;
      whole.ids = {ids[3], ids[2], ids[1]};
      svc().Reorder(origin_, site_a_, "pages", whole);
    } catch (const std::exception& e) {
      ++failures;
      ADD_FAILURE() << e.what();
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto order = Order(site_a_, "pages");  // checks 0..n-1
  EXPECT_EQ(order.size(), 15u);
  EXPECT_EQ(std::set<std::int64_t>(order.begin(), order.end()).size(), 15u);
}

TEST_P(ContentServiceTest, ScheduledPublication) {
  svc().AddPreset(origin_, site_a_, "pages");
  EntryInput in;
  in.data = json{{"title", "Soon"}, {"slug", "soon"}};
  in.publish_at = std::optional<std::int64_t>(kStart + 60'000);
  auto e = svc().CreateEntry(origin_, site_a_, "pages", in);
  EXPECT_EQ(e.publish_at, kStart + 60'000);
  EXPECT_EQ(ToJson(e)["publish_at"], kStart + 60'000);
  EXPECT_EQ(CountJobs(std::string(kPublishJobKind)), 1);
  // Not claimable before its time; then the registered handler runs it.
  EXPECT_FALSE(queue_->Claim("w", 30'000, {std::string(kPublishJobKind)}));
  now_ += 60'000;
  auto job = queue_->Claim("w", 30'000, {std::string(kPublishJobKind)});
  ASSERT_TRUE(job);
  changed_.clear();
  svc().RunPublishJob(*job);
  auto published = svc().GetEntry(site_a_, "pages", "soon");
  EXPECT_EQ(published.status, EntryStatus::kPublished);
  EXPECT_EQ(published.published_at, kStart + 60'000);
  EXPECT_FALSE(published.publish_at);
  EXPECT_EQ(changed_, std::vector<std::int64_t>{site_a_});
  // Running it again changes nothing.
  svc().RunPublishJob(*job);
  EXPECT_EQ(svc().GetEntry(site_a_, "pages", "soon").version, published.version);

  // Cancel and reschedule: only the live schedule publishes.
  in.data = json{{"title", "Later"}, {"slug", "later"}};
  in.publish_at = std::optional<std::int64_t>(now_ + 10'000);
  auto later = svc().CreateEntry(origin_, site_a_, "pages", in);
  EntryInput cancel;
  cancel.publish_at = std::optional<std::int64_t>{};
  EXPECT_FALSE(svc().UpdateEntry(origin_, site_a_, "pages", later.id, cancel, std::nullopt).publish_at);
  EntryInput reschedule;
  reschedule.publish_at = std::optional<std::int64_t>(now_ + 20'000);
  svc().UpdateEntry(origin_, site_a_, "pages", later.id, reschedule, std::nullopt);
  now_ += 10'000;
  auto first = queue_->Claim("w", 30'000, {std::string(kPublishJobKind)});
  ASSERT_TRUE(first);
  svc().RunPublishJob(*first);  // the cancelled schedule
  EXPECT_EQ(svc().GetEntry(site_a_, "pages", "later").status, EntryStatus::kDraft);
  queue_->Complete(first->id, "w");
  EXPECT_FALSE(queue_->Claim("w", 30'000, {std::string(kPublishJobKind)}));
  now_ += 10'000;
  auto second = queue_->Claim("w", 30'000, {std::string(kPublishJobKind)});
  ASSERT_TRUE(second);
  svc().RunPublishJob(*second);
  EXPECT_EQ(svc().GetEntry(site_a_, "pages", "later").status, EntryStatus::kPublished);

  // Early (another instance's clock behind): retried, not dropped. Malformed: permanent.
  jobs::Job early = *second;
  early.payload = json{{"site_id", site_a_}, {"entry_id", later.id}, {"publish_at", now_.load() + 5000}}.dump();
  EXPECT_THROW(svc().RunPublishJob(early), std::runtime_error);
  early.payload = "{}";
  EXPECT_THROW(svc().RunPublishJob(early), jobs::PermanentError);
  // Only drafts are scheduled.
  EntryInput bad;
  bad.status = EntryStatus::kPublished;
  bad.data = json{{"title", "x"}, {"slug", "x"}};
  bad.publish_at = std::optional<std::int64_t>(now_ + 1);
  EXPECT_EQ(Fails([&] { svc().CreateEntry(origin_, site_a_, "pages", bad); }).fields,
            std::vector<std::string>{"publish_at"});
}

TEST_P(ContentServiceTest, FiltersSortAndCursorPagination) {
  svc().AddPreset(origin_, site_a_, "formations");
  const char* states[] = {"active", "full", "cancelled", "finished"};
  for (int i = 0; i < 10; ++i) {
    json data = {{"title", "Cours " + std::to_string(i)},
                 {"status", states[i % 4]},
                 {"start_date", "2025-0" + std::to_string(1 + i % 9) + "-15"},
                 {"available_seats", i}};
    if (i % 3 != 0) data["price"] = {{"amount", 1000 * i}, {"currency", "CHF"}};
    now_ += 10;
    Create(site_a_, "formations", data, i % 2 ? EntryStatus::kPublished : EntryStatus::kDraft);
  }
  auto list = [&](const std::string& query) {
    return svc().ListEntries(site_a_, "formations", ParseEntryQuery(query));
  };
  auto titles = [&](const EntryPage& page) {
    std::vector<std::string> out;
    for (const auto& e : page.items) out.push_back(e.data["title"]);
    return out;
  };
  EXPECT_EQ(list("status=published").items.size(), 5u);
  EXPECT_EQ(list("status=published,draft").items.size(), 10u);
  EXPECT_EQ(titles(list("data.status=full")), (std::vector<std::string>{"Cours 1", "Cours 5", "Cours 9"}));
  EXPECT_EQ(titles(list("data.status%5Bin%5D=full,cancelled&status=published")),
            (std::vector<std::string>{"Cours 1", "Cours 5", "Cours 9"}));
  EXPECT_EQ(titles(list("data.available_seats[gte]=7")), (std::vector<std::string>{"Cours 7", "Cours 8", "Cours 9"}));
  EXPECT_EQ(titles(list("data.price[lt]=3000")), (std::vector<std::string>{"Cours 1", "Cours 2"}));
  EXPECT_EQ(list("data.status[ne]=active").items.size(), 7u);
  EXPECT_EQ(titles(list("data.start_date[gte]=2025-08-01&data.start_date[lt]=2025-10-01")),
            (std::vector<std::string>{"Cours 7", "Cours 8"}));
  EXPECT_EQ(list("created_at[gte]=" + std::to_string(kStart + 50)).items.size(), 6u);
  EXPECT_EQ(titles(list("sort=-data.available_seats&limit=2")), (std::vector<std::string>{"Cours 9", "Cours 8"}));
  EXPECT_EQ(list("sort=data.price").items.front().data.contains("price"), false);  // absent values first

  // Every sort pages through all entries exactly once.
  for (std::string sort :
       {"position", "-created_at", "data.price", "-data.price", "data.title", "-published_at", "data.start_date"}) {
    std::vector<std::int64_t> seen;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      auto p = list("sort=" + sort + "&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
      for (const auto& e : p.items) seen.push_back(e.id);
      if (!p.next_cursor) break;
      cursor = *p.next_cursor;
    }
    EXPECT_EQ(seen.size(), 10u) << sort;
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 10u) << sort;
  }
  auto first = list("limit=3");
  ASSERT_TRUE(first.next_cursor);
  EXPECT_EQ(Fails([&] { list("sort=created_at&cursor=" + *first.next_cursor); }).status, 400);
  EXPECT_EQ(Fails([&] { list("cursor=not-a-cursor"); }).status, 400);
  EXPECT_EQ(Fails([&] { list("data.colour=red"); }).fields, std::vector<std::string>{"data.colour"});
  EXPECT_EQ(Fails([&] { list("data.available_seats=many"); }).status, 422);
  EXPECT_EQ(Fails([&] { list("sort=data.description"); }).fields, std::vector<std::string>{"sort"});
  EXPECT_EQ(Fails([&] { list("limit=101"); }).status, 400);
  EXPECT_EQ(Fails([&] { list("colour=red"); }).status, 400);
  EXPECT_EQ(Fails([&] { list("data.status[like]=a"); }).status, 400);
  EXPECT_EQ(Fails([&] { list("q=%ZZ"); }).status, 400);
  // SQL in values is data.
  EXPECT_TRUE(list("data.status=%27%20OR%201%3D1%20--").items.empty());
}

TEST_P(ContentServiceTest, FullTextSearchWithSnippets) {
  svc().AddPreset(origin_, site_a_, "formations");
  Create(site_a_, "formations",
         {{"title", "Programmation avancée"},
          {"status", "active"},
          {"description", "Les <script>structures</script> de données & les algorithmes."}});
  Create(site_a_, "formations", {{"title", "Cuisine du marché"}, {"status", "active"}});
  auto search = [&](const std::string& q) {
    EntryQuery query;
    query.q = q;
    return svc().ListEntries(site_a_, "formations", query);
  };
  auto hits = search("algorithmes");
  ASSERT_EQ(hits.items.size(), 1u);
  ASSERT_TRUE(hits.items[0].snippet);
  const std::string snippet = *hits.items[0].snippet;
  EXPECT_NE(snippet.find("<mark>algorithmes</mark>"), std::string::npos) << snippet;
  EXPECT_EQ(snippet.find("<script"), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("&amp;"), std::string::npos) << snippet;
  EXPECT_EQ(search("avancée").items.size(), 1u);
  if (dialect() == db::Dialect::kSqlite) {
    EXPECT_EQ(search("avancee").items.size(), 1u) << "FTS5 unicode61 remove_diacritics";
  }
  EXPECT_EQ(search("marché programmation").items.size(), 0u) << "every word must match";
  EXPECT_EQ(search("cuisine").items.size(), 1u);
  if (dialect() == db::Dialect::kPostgres) {
    EXPECT_EQ(search("algorithme").items.size(), 1u) << "French stemming on PostgreSQL";
  }
  // The index follows updates and deletes in the same transaction.
  auto cuisine = search("cuisine").items.at(0);
  EntryInput rename;
  rename.data = json{{"title", "Pâtisserie"}};
  svc().UpdateEntry(origin_, site_a_, "formations", cuisine.id, rename, std::nullopt);
  EXPECT_EQ(search("cuisine").items.size(), 0u);
  EXPECT_EQ(search("pâtisserie").items.size(), 1u);
  svc().DeleteEntry(origin_, site_a_, "formations", cuisine.id, std::nullopt);
  EXPECT_EQ(search("pâtisserie").items.size(), 0u);
  // Search syntax from users is never an error.
  for (const char* hostile : {"\"", "*", "NEAR(a b)", "a OR", "-", ":", "' OR 1=1 --", "()", "algo*", "\"algorithmes",
                              "title:x", "AND", "^"}) {
    EXPECT_NO_THROW(search(hostile)) << hostile;
  }
  // Another site's entries are never found.
  svc().AddPreset(origin_, site_b_, "formations");
  EntryQuery q;
  q.q = "algorithmes";
  EXPECT_TRUE(svc().ListEntries(site_b_, "formations", q).items.empty());
}

POSTE_INSTANTIATE_DB_TEST(ContentServiceTest);

}  // namespace
}  // namespace poste::content
