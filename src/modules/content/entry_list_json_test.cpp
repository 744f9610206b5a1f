// The public list's JSON written from stored texts (ListEntriesJson) against the JSON of the decoded page
// (ListEntries, ToJson, PageJson): the same bytes for every kind of entry and query; and the rendered
// markdown stored with each write (render on write), re-rendered when the schema changes.
#include <gtest/gtest.h>

#include "lib/json_dump.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/content/content_query.hpp"
#include "modules/content/content_test_fixture.hpp"

namespace poste::content {
namespace {

using test_support::ContentServiceTest;
using test_support::Custom;
using test_support::json;
using test_support::kStart;

class EntryListJsonTest : public ContentServiceTest {
 protected:
  void SetUp() override {
    ContentServiceTest::SetUp();
    if (HasFatalFailure()) return;
    svc().CreateCollection(origin_, site_a_, Custom("Articles", json::parse(R"([
        {"name": "title", "type": "text", "required": true},
        {"name": "slug", "type": "text"},
        {"name": "body", "type": "markdown"},
        {"name": "summary", "type": "long_text"},
        {"name": "price", "type": "money"},
        {"name": "rank", "type": "number"},
        {"name": "tags", "type": "list"}])")));
  }

  // Both ways of writing the page, which must be byte for byte the same.
  void ExpectSameJson(const std::string& raw_query) {
    const auto query = ParseEntryQuery(raw_query);
    const auto page = svc().ListEntries(site_a_, "articles", query);
    const auto decoded = DumpJson(web::PageJson(
        page.items, [](const Entry& e) { return ToJson(e); }, page.next_cursor));
    EXPECT_EQ(svc().ListEntriesJson(site_a_, "articles", query), decoded) << raw_query;
  }

  std::string StoredHtml(std::int64_t entry_id) {
    std::string html;
    soci::indicator ind = soci::i_ok;
    const long long id = entry_id;
    db().Read([&](soci::session& s) {
      s << "SELECT html FROM entries WHERE id = :id", soci::use(id), soci::into(html, ind);
    });
    return ind == soci::i_ok ? html : "NULL";
  }
};

TEST_P(EntryListJsonTest, SameBytesAsTheDecodedPageForEveryQuery) {
  Create(site_a_, "articles",
         {{"title", "Café \"crème\" <b>&</b> \\ back"},
          {"slug", "cafe-creme"},
          {"body", "# Titre\n\nDu *texte* avec <script>alert(1)</script> et [un lien](https://example.com)."},
          {"summary", "Ligne 1\nLigne 2 \u00e9\u4e2d\U0001F600"},
          {"price", {{"amount", 1250}, {"currency", "CHF"}}},
          {"rank", 2.5},
          {"tags", {"a", "b"}}},
         EntryStatus::kPublished);
  for (int i = 0; i < 7; ++i) {
    now_ += 10;
    json data = {{"title", "Article " + std::to_string(i)}, {"rank", i}};
    if (i % 2) data["body"] = "Paragraphe **" + std::to_string(i) + "** cherche";
    if (i % 3) data["price"] = {{"amount", 100 * i}, {"currency", "EUR"}};
    Create(site_a_, "articles", data, i % 2 ? EntryStatus::kPublished : EntryStatus::kDraft);
  }
  EntryInput scheduled;
  scheduled.data = json{{"title", "Plus tard"}};
  scheduled.publish_at = kStart + 1'000'000;
  svc().CreateEntry(origin_, site_a_, "articles", scheduled);

  for (std::string q : {"", "status=published", "limit=1", "sort=-data.rank&limit=3", "sort=data.price&limit=2",
                        "sort=data.title&limit=4", "sort=-published_at&limit=2", "q=cherche", "q=caf%C3%A9",
                        "q=nothing-matches", "data.tags=a", "sort=-created_at&limit=100"}) {
    ExpectSameJson(q);
  }
  // Every page of a cursor walk, under a sort on a field.
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    const std::string q = "sort=-data.price&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor);
    ExpectSameJson(q);
    auto next = svc().ListEntries(site_a_, "articles", ParseEntryQuery(q)).next_cursor;
    if (!next) break;
    cursor = *next;
  }
  // Errors are the same too: an unknown field, a bad cursor.
  EXPECT_EQ(
      test_support::Fails([&] { svc().ListEntriesJson(site_a_, "articles", ParseEntryQuery("data.x=1")); }).status,
      422);
  EXPECT_EQ(
      test_support::Fails([&] { svc().ListEntriesJson(site_a_, "articles", ParseEntryQuery("cursor=zz")); }).status,
      400);
  EXPECT_EQ(test_support::Fails([&] { svc().ListEntriesJson(site_b_, "articles", {}); }).status, 404);
}

TEST_P(EntryListJsonTest, MarkdownIsRenderedOnWriteAndRowsWithoutItAreRenderedOnRead) {
  auto e = Create(site_a_, "articles", {{"title", "T"}, {"body", "*un*"}}, EntryStatus::kPublished);
  EXPECT_EQ(StoredHtml(e.id), R"({"body":"<p><em>un</em></p>\n"})");
  EXPECT_EQ(e.html, json::parse(StoredHtml(e.id)));  // the answer to the write carries it too
  auto plain = Create(site_a_, "articles", {{"title", "Sans markdown"}}, EntryStatus::kPublished);
  EXPECT_EQ(StoredHtml(plain.id), "");

  EntryInput edit;
  edit.data = json{{"title", "T"}, {"body", "**deux**"}};
  svc().UpdateEntry(origin_, site_a_, "articles", e.id, edit, std::nullopt);
  EXPECT_EQ(StoredHtml(e.id), R"({"body":"<p><strong>deux</strong></p>\n"})");

  // A row written before render on write (NULL): rendered when read, by both paths.
  const long long id = e.id;
  db().Write([&](soci::session& s) { s << "UPDATE entries SET html = NULL WHERE id = :id", soci::use(id); });
  EXPECT_EQ(svc().GetEntry(site_a_, "articles", std::to_string(e.id)).html["body"], "<p><strong>deux</strong></p>\n");
  ExpectSameJson("");
  EXPECT_NE(svc().ListEntriesJson(site_a_, "articles", {}).find(R"("html":{"body":"<p><strong>deux</strong></p>\n"})"),
            std::string::npos);

  // A schema change that makes summary markdown renders the stored values again; removing body drops its html.
  auto fields = svc().GetCollection(site_a_, "articles").fields;
  std::vector<FieldDef> changed;
  for (auto f : fields) {
    if (f.name == "body") continue;
    if (f.name == "summary") f.type = FieldType::kMarkdown;
    changed.push_back(f);
  }
  EntryInput with_summary;
  with_summary.data = json{{"title", "Sans markdown"}, {"summary", "_oui_"}};
  svc().UpdateEntry(origin_, site_a_, "articles", plain.id, with_summary, std::nullopt);
  EXPECT_EQ(StoredHtml(plain.id), "");
  CollectionPatch patch;
  patch.fields = changed;
  svc().UpdateCollection(origin_, site_a_, "articles", patch);
  EXPECT_EQ(StoredHtml(plain.id), R"({"summary":"<p><em>oui</em></p>\n"})");
  EXPECT_EQ(StoredHtml(e.id), "");
  ExpectSameJson("");
}

POSTE_INSTANTIATE_DB_TEST(EntryListJsonTest);

}  // namespace
}  // namespace poste::content
