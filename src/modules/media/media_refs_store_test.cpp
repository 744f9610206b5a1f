#include "modules/media/media_refs_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "db/database.hpp"
#include "modules/media/media_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::media::store {
namespace {

class MediaRefsStoreTest : public testing::DbTest {
 protected:
  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite site;
    site.slug = slug;
    site.name = slug;
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }
  // A media item of the site (media_refs.media_id references media).
  std::int64_t AddMedia(std::int64_t site_id, const std::string& sha) {
    MediaItem item;
    item.site_id = site_id;
    item.sha256 = sha;
    item.ext = "pdf";
    item.content_type = "application/pdf";
    item.family = "document";
    item.size_bytes = 1;
    item.filename = "a.pdf";
    return *db().WriteValue([&](soci::session& s) { return Insert(s, item); });
  }
};

TEST_P(MediaRefsStoreTest, ReplaceListAndDeleteRefs) {
  const auto a = AddSite("a"), b = AddSite("b");
  const auto m5 = AddMedia(a, "five"), m6 = AddMedia(a, "six"), other = AddMedia(b, "five");
  db().Write([&](soci::session& s) {
    ReplaceRefs(s, a, "entry", 10, {m5, m6, m5});
    ReplaceRefs(s, a, "entry", 11, {m5});
    ReplaceRefs(s, b, "entry", 12, {other});
  });
  auto uses = db().ReadValue([&](soci::session& s) { return RefsTo(s, a, m5); });
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(uses[0].owner_id, 10);
  EXPECT_EQ(uses[1].owner_id, 11);
  EXPECT_EQ(uses[0].owner_type, "entry");
  // Replacing drops what the owner no longer uses.
  db().Write([&](soci::session& s) { ReplaceRefs(s, a, "entry", 10, {m6}); });
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, m5); }).size(), 1u);
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, m6); }).size(), 1u);
  // Another site's id deletes nothing.
  db().Write([&](soci::session& s) { DeleteRefs(s, b, "entry", 11); });
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, m5); }).size(), 1u);
  db().Write([&](soci::session& s) { DeleteRefs(s, a, "entry", 11); });
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, m5); }).empty());
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, b, other); }).size(), 1u) << "other site untouched";
  // Deleting a site deletes its refs.
  db().Write([&](soci::session& s) { s << "DELETE FROM sites WHERE id = :id", soci::use(static_cast<long long>(b)); });
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return RefsTo(s, b, other); }).empty());
}

TEST_P(MediaRefsStoreTest, ExistingMediaIdsAreTheSitesOnly) {
  const auto a = AddSite("a"), b = AddSite("b");
  const auto mine = AddMedia(a, "x"), theirs = AddMedia(b, "y");
  auto found = db().ReadValue([&](soci::session& s) { return ExistingMediaIds(s, a, {theirs, mine, 999999, mine}); });
  EXPECT_EQ(found, std::vector<std::int64_t>{mine});
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return ExistingMediaIds(s, a, {}); }).empty());
  // An unknown media id cannot be referenced: the foreign key refuses it.
  EXPECT_ANY_THROW(db().Write([&](soci::session& s) { ReplaceRefs(s, a, "entry", 1, {999999}); }));
  // Deleting the item deletes its refs.
  db().Write([&](soci::session& s) { ReplaceRefs(s, a, "entry", 1, {mine}); });
  db().Write([&](soci::session& s) { Delete(s, a, mine); });
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, mine); }).empty());
}

// The dashboard's numbers come from here (media_store.cpp): the site's items and their bytes only.
TEST_P(MediaRefsStoreTest, CountTotalsIsTheSitesOnly) {
  const auto a = AddSite("a"), b = AddSite("b");
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return CountTotals(s, a); }).count, 0);
  AddMedia(a, "x");
  AddMedia(a, "y");
  AddMedia(b, "z");
  auto totals = db().ReadValue([&](soci::session& s) { return CountTotals(s, a); });
  EXPECT_EQ(totals.count, 2);
  EXPECT_EQ(totals.bytes, 2);
}

TEST_P(MediaRefsStoreTest, VariantsChangeOnlyThroughTheItemsOwnSite) {
  const auto a = AddSite("a"), b = AddSite("b");
  const auto item = AddMedia(a, "x");
  const std::vector<Variant> sizes = {{320, 200, 1000}, {768, 480, 5000}};
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return ReplaceVariants(s, b, item, sizes); }))
      << "another site's id changes nothing";
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return Get(s, a, item); })->variants.empty());
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return ReplaceVariants(s, a, item, sizes); }));
  auto got = db().ReadValue([&](soci::session& s) { return Get(s, a, item); });
  ASSERT_EQ(got->variants.size(), 2u);
  EXPECT_EQ(got->variants[1].width, 768);
}

POSTE_INSTANTIATE_DB_TEST(MediaRefsStoreTest);

}  // namespace
}  // namespace poste::media::store
