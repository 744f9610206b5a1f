#include "modules/content/content_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::content::store {
namespace {

// Tenancy at the store: a function given a row's right id but another site's id changes nothing, even when
// a caller has a bug and passes a collection it did not load for that site.
class ContentStoreTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    site_a_ = AddSite("alpha");
    site_b_ = AddSite("beta");
    db().Write([&](soci::session& s) {
      FieldDef title;
      title.name = "title";
      title.type = FieldType::kText;
      title.unique = true;
      InsertCollection(s, site_a_, "posts", "Posts", "", {title}, std::nullopt, 1);
      collection_ = *GetCollection(s, site_a_, "posts");
      for (int i = 0; i < 3; ++i) {
        Entry e;
        e.site_id = site_a_, e.collection_id = collection_.id, e.collection = "posts";
        e.position = i;
        e.data = {{"title", "t" + std::to_string(i)}};
        e.created_at = e.updated_at = 1;
        e.id = InsertEntry(s, e, {"t", "simple", ""});
        ReplaceUniqueValues(s, collection_, e.id, {{"title", "\"t" + std::to_string(i) + "\""}});
        for (int r = 1; r <= 3; ++r) {
          Revision rev;
          rev.entry_id = e.id, rev.revision = r, rev.data = e.data, rev.created_at = r;
          InsertRevision(s, site_a_, rev);
        }
        ids_.push_back(e.id);
      }
    });
    forged_ = collection_;
    forged_.site_id = site_b_;  // site A's collection id under site B's id
  }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite site;
    site.slug = slug;
    site.name = slug;
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }

  long long Count(const std::string& sql) {
    long long n = 0;
    db().Read([&](soci::session& s) { s << sql, soci::into(n); });
    return n;
  }

  std::vector<std::int64_t> Positions() {
    return db().ReadValue([&](soci::session& s) { return EntryIdsOf(s, collection_); });
  }

  std::int64_t site_a_ = 0, site_b_ = 0;
  Collection collection_, forged_;
  std::vector<std::int64_t> ids_;
};

TEST_P(ContentStoreTest, AnotherSitesIdChangesNothing) {
  db().Write([&](soci::session& s) {
    UpdateCollection(s, site_b_, collection_.id, "Hijacked", "x", {}, 99);
    DeleteCollection(s, site_b_, collection_.id);
    DeleteEntry(s, forged_, ids_[0]);
    SetPositions(s, forged_, {ids_[2], ids_[1], ids_[0]});
    CloseGap(s, forged_, 0);
    PruneRevisions(s, site_b_, ids_[1], 1);
    ReplaceUniqueValues(s, forged_, ids_[2], {});
    EXPECT_EQ(CountEntries(s, forged_), 0);
    EXPECT_FALSE(GetEntry(s, forged_, ids_[0]).has_value());
    EXPECT_TRUE(AllEntries(s, forged_).empty());
    EXPECT_TRUE(ListRevisions(s, site_b_, ids_[1]).empty());
  });
  auto stored = db().ReadValue([&](soci::session& s) { return GetCollection(s, site_a_, "posts"); });
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->name, "Posts");
  EXPECT_EQ(stored->fields.size(), 1u);
  EXPECT_EQ(Positions(), ids_);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entries"), 3);
  EXPECT_EQ(Count("SELECT MIN(position) FROM entries"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entry_revisions"), 9);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entry_unique_values"), 3);
  // A forged collection cannot claim a unique value for site A's entry either.
  db().Write([&](soci::session& s) { ReplaceUniqueValues(s, forged_, ids_[0], {{"title", "\"other\""}}); });
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entry_unique_values WHERE value_key = '\"other\"'"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entry_unique_values"), 3);
}

TEST_P(ContentStoreTest, TheRightSiteChangesRows) {
  db().Write([&](soci::session& s) {
    UpdateCollection(s, site_a_, collection_.id, "Renamed", "", collection_.fields, 2);
    SetPositions(s, collection_, {ids_[2], ids_[1], ids_[0]});
    PruneRevisions(s, site_a_, ids_[1], 1);
    ReplaceUniqueValues(s, collection_, ids_[2], {});
    EXPECT_EQ(CountEntries(s, collection_), 3);
  });
  EXPECT_EQ(Positions(), (std::vector<std::int64_t>{ids_[2], ids_[1], ids_[0]}));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entry_revisions"), 7);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entry_unique_values"), 2);
  db().Write([&](soci::session& s) {
    DeleteEntry(s, collection_, ids_[2]);
    CloseGap(s, collection_, 0);
  });
  EXPECT_EQ(Positions(), (std::vector<std::int64_t>{ids_[1], ids_[0]}));
  db().Write([&](soci::session& s) { DeleteCollection(s, site_a_, collection_.id); });
  EXPECT_EQ(Count("SELECT COUNT(*) FROM collections"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM entries"), 0);
}

TEST_P(ContentStoreTest, CountsEntriesByCollectionAndStatusOfTheSiteOnly) {
  db().Write([&](soci::session& s) {
    InsertCollection(s, site_a_, "empty", "Empty", "", {}, std::nullopt, 1);
    InsertCollection(s, site_b_, "other", "Other", "", {}, std::nullopt, 1);
    auto e = *GetEntry(s, collection_, ids_[1]);
    e.status = EntryStatus::kPublished;
    UpdateEntry(s, e, {"t", "simple", ""});
  });
  auto counts = db().ReadValue([&](soci::session& s) { return CountEntriesByStatus(s, site_a_); });
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].slug, "empty");
  EXPECT_EQ(counts[0].draft + counts[0].published + counts[0].archived, 0);
  EXPECT_EQ(counts[1].slug, "posts");
  EXPECT_EQ(counts[1].name, "Posts");
  EXPECT_EQ(counts[1].draft, 2);
  EXPECT_EQ(counts[1].published, 1);
  EXPECT_EQ(counts[1].archived, 0);
  auto other = db().ReadValue([&](soci::session& s) { return CountEntriesByStatus(s, site_b_); });
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].slug, "other");
}

// Migration 0007 on a database that already has content: the references of entries saved before it are
// recorded (not a reference to a missing entry, nor an integer field's value), and on PostgreSQL the entries are
// indexed again without accents.
TEST_P(ContentStoreTest, Migration0007FillsReferencesAndReindexes) {
  poste::testing::TempDatabase old(dialect(), false);
  auto& d = old.db();
  std::vector<embedded::File> before;
  for (const auto& f : db::EmbeddedMigrations(dialect())) {
    if (f.path < "0007") before.push_back(f);
  }
  db::Migrate(d, before);
  long long site = 0, collection = 0, target = 0, referring = 0, missing = 0;
  d.Write([&](soci::session& s) {
    s << "INSERT INTO sites (slug, name, locale, created_at, updated_at) VALUES ('a', 'A', 'fr', 1, 1) RETURNING id",
        soci::into(site);
    s << "INSERT INTO collections (site_id, slug, name, fields, created_at, updated_at) VALUES (:s, 'posts', 'Posts',"
         " '[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"see\",\"type\":\"reference\"},"
         "{\"name\":\"n\",\"type\":\"integer\"}]', 1, 1) RETURNING id",
        soci::use(site), soci::into(collection);
    const std::string insert =
        "INSERT INTO entries (site_id, collection_id, status, position, data, search_text, created_at, updated_at)"
        " VALUES (:s, :c, 'draft', :p, :d, :t, 1, 1) RETURNING id";
    long long position = 0;
    std::string data = R"({"title":"Café crème"})", text = "Café crème";
    s << insert, soci::use(site), soci::use(collection), soci::use(position), soci::use(data), soci::use(text),
        soci::into(target);
    position = 1,
    data = R"({"title":"Two","see":)" + std::to_string(target) + R"(,"n":)" + std::to_string(target) + "}",
    text = "Two";
    s << insert, soci::use(site), soci::use(collection), soci::use(position), soci::use(data), soci::use(text),
        soci::into(referring);
    position = 2, data = R"({"title":"Three","see":999999})";
    s << insert, soci::use(site), soci::use(collection), soci::use(position), soci::use(data), soci::use(text),
        soci::into(missing);
    if (dialect() == db::Dialect::kPostgres) {
      s << "UPDATE entries SET search = to_tsvector('french', search_text)";
    }
  });
  db::Migrate(d);
  d.Read([&](soci::session& s) {
    auto refs = RefsToEntry(s, site, target);
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_EQ(refs[0].entry_id, referring);
    EXPECT_EQ(refs[0].field, "see");
    EXPECT_EQ(refs[0].collection, "posts");
    long long n = 0;
    s << "SELECT COUNT(*) FROM entry_refs", soci::into(n);
    EXPECT_EQ(n, 1) << "no row for a missing target nor for an integer field";
    s << "SELECT COUNT(*) FROM entry_refs WHERE entry_id = :m", soci::use(missing), soci::into(n);
    EXPECT_EQ(n, 0);
    if (dialect() == db::Dialect::kPostgres) {
      s << "SELECT COUNT(*) FROM entries WHERE search @@ websearch_to_tsquery('poste_french', 'cafe creme')",
          soci::into(n);
      EXPECT_EQ(n, 1);
    }
  });
}

POSTE_INSTANTIATE_DB_TEST(ContentStoreTest);

}  // namespace
}  // namespace poste::content::store
