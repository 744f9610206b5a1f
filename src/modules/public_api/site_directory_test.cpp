#include "modules/public_api/site_directory.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::public_api {
namespace {

class SiteDirectoryTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    sites::NewSite s;
    s.slug = "alpha";
    s.name = "Alpha";
    id_ = db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  // Renames the site behind the directory's back (as another instance would).
  void Rename(const std::string& name) {
    sites::SitePatch patch;
    patch.name = name;
    db().Write([&](soci::session& s) { sites::store::Update(s, id_, patch, 2); });
  }
  static int NotFound(SiteDirectory& d, const std::string& name) {
    try {
      d.Find(name);
    } catch (const AppError& e) {
      return e.status();
    }
    return 0;
  }

  std::int64_t id_ = 0;
};

TEST_P(SiteDirectoryTest, FindsBySlugOrIdAndKeepsWhatItFound) {
  SiteDirectory directory(db());
  EXPECT_EQ(directory.Find("alpha")->id, id_);
  EXPECT_EQ(directory.Find(std::to_string(id_))->slug, "alpha");
  Rename("Renamed");
  EXPECT_EQ(directory.Find("alpha")->name, "Alpha") << "kept: no query until the app says the site changed";
  directory.Forget();
  EXPECT_EQ(directory.Find("alpha")->name, "Renamed");
  EXPECT_EQ(directory.Find(std::to_string(id_))->name, "Renamed");
}

TEST_P(SiteDirectoryTest, OtherSpellingsAreFoundButNotKept) {
  SiteDirectory directory(db());
  EXPECT_EQ(directory.Find("00" + std::to_string(id_))->id, id_);
  Rename("Renamed");
  EXPECT_EQ(directory.Find("00" + std::to_string(id_))->name, "Renamed") << "read again: never stored";
}

TEST_P(SiteDirectoryTest, UnknownAndMalformedNamesAre404) {
  SiteDirectory directory(db());
  const std::vector<std::string> names = {"beta",
                                          "999999",
                                          "",
                                          "Alpha",
                                          "al pha",
                                          std::string("a\0b", 3),
                                          "\xff\xfe",
                                          "1234567890123456789012",
                                          "' OR 1=1 --",
                                          std::string(300, 'a')};
  for (const auto& name : names) {
    EXPECT_EQ(NotFound(directory, name), 404) << name;
  }
}

POSTE_INSTANTIATE_DB_TEST(SiteDirectoryTest);

}  // namespace
}  // namespace poste::public_api
