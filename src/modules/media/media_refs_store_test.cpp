#include "modules/media/media_refs_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "db/database.hpp"
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
};

TEST_P(MediaRefsStoreTest, ReplaceListAndDeleteRefs) {
  const auto a = AddSite("a"), b = AddSite("b");
  db().Write([&](soci::session& s) {
    ReplaceRefs(s, a, "entry", 10, {5, 6, 5});
    ReplaceRefs(s, a, "entry", 11, {5});
    ReplaceRefs(s, b, "entry", 12, {5});
  });
  auto uses = db().ReadValue([&](soci::session& s) { return RefsTo(s, a, 5); });
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(uses[0].owner_id, 10);
  EXPECT_EQ(uses[1].owner_id, 11);
  EXPECT_EQ(uses[0].owner_type, "entry");
  // Replacing drops what the owner no longer uses.
  db().Write([&](soci::session& s) { ReplaceRefs(s, a, "entry", 10, {6}); });
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, 5); }).size(), 1u);
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, 6); }).size(), 1u);
  db().Write([&](soci::session& s) { DeleteRefs(s, "entry", 11); });
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return RefsTo(s, a, 5); }).empty());
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return RefsTo(s, b, 5); }).size(), 1u) << "other site untouched";
  // Deleting a site deletes its refs.
  db().Write([&](soci::session& s) { s << "DELETE FROM sites WHERE id = :id", soci::use(static_cast<long long>(b)); });
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return RefsTo(s, b, 5); }).empty());
}

POSTE_INSTANTIATE_DB_TEST(MediaRefsStoreTest);

}  // namespace
}  // namespace poste::media::store
