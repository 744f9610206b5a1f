#include "modules/content/content_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "modules/content/content_test_fixture.hpp"

// ContentService, the entries half (entry_service.cpp, entry_references.cpp).
namespace poste::content {
namespace {

using namespace test_support;

class EntryServiceTest : public ContentServiceTest {};

TEST_P(EntryServiceTest, EntryValuesAreValidatedAndNormalised) {
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

TEST_P(EntryServiceTest, UniqueValuesSlugsAndTenancy) {
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

TEST_P(EntryServiceTest, UpdatesStatusesConcurrencyAndRevisions) {
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

TEST_P(EntryServiceTest, ReorderKeepsPositionsDense) {
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

TEST_P(EntryServiceTest, ConcurrentMovesCreatesAndDeletesKeepPositionsDense) {
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

TEST_P(EntryServiceTest, ScheduledPublication) {
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

TEST_P(EntryServiceTest, FiltersSortAndCursorPagination) {
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

TEST_P(EntryServiceTest, FullTextSearchWithSnippets) {
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

// Searches ignore accents on both databases (SQLite: FTS5 remove_diacritics; PostgreSQL: the unaccent
// configurations of migration 0007), in both directions, and the hits are marked in the accented text.
TEST_P(EntryServiceTest, SearchIgnoresAccents) {
  svc().AddPreset(origin_, site_a_, "pages");
  svc().AddPreset(origin_, site_b_, "pages");  // site_b_ is "en": another language configuration
  for (auto site : {site_a_, site_b_}) {
    Create(site, "pages", {{"title", "Café crème"}, {"slug", "cafe"}, {"body", "Une pâtisserie à Genève."}});
    Create(site, "pages", {{"title", "Thé vert"}, {"slug", "the"}});
  }
  auto search = [&](std::int64_t site, const std::string& q) {
    EntryQuery query;
    query.q = q;
    return svc().ListEntries(site, "pages", query);
  };
  for (auto site : {site_a_, site_b_}) {
    auto hits = search(site, "cafe creme");
    ASSERT_EQ(hits.items.size(), 1u) << site;
    EXPECT_EQ(hits.items[0].data["title"], "Café crème");
    ASSERT_TRUE(hits.items[0].snippet);
    EXPECT_NE(hits.items[0].snippet->find("<mark>Café</mark>"), std::string::npos) << *hits.items[0].snippet;
    EXPECT_EQ(search(site, "CAFÉ").items.size(), 1u);
    EXPECT_EQ(search(site, "patisserie geneve").items.size(), 1u);
    EXPECT_EQ(search(site, "vert").items.size(), 1u);
    EXPECT_EQ(search(site, "creme brulee").items.size(), 0u);
  }
}

POSTE_INSTANTIATE_DB_TEST(EntryServiceTest);

}  // namespace
}  // namespace poste::content
