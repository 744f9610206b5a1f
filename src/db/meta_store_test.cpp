#include "db/meta_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "support/db_fixture.hpp"

namespace poste::testing {
namespace {

class MetaStore : public DbTest {};

TEST_P(MetaStore, GetPutReplace) {
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return db::meta::Get(s, "absent"); }));
  db().Write([](soci::session& s) { db::meta::Put(s, "k", "one"); });
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return db::meta::Get(s, "k"); }).value(), "one");
  db().Write([](soci::session& s) { db::meta::Put(s, "k", "two\r\n'; DROP TABLE meta; --"); });
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return db::meta::Get(s, "k"); }).value(),
            "two\r\n'; DROP TABLE meta; --");
}

POSTE_INSTANTIATE_DB_TEST(MetaStore);

}  // namespace
}  // namespace poste::testing
