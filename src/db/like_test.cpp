#include "db/like.hpp"

#include <gtest/gtest.h>

namespace poste::db {
namespace {

TEST(ContainsPattern, TheTextsWildcardsAreData) {
  EXPECT_EQ(ContainsPattern(""), "%%");
  EXPECT_EQ(ContainsPattern("café"), "%café%");
  EXPECT_EQ(ContainsPattern("50%_off\\"), "%50\\%\\_off\\\\%");
  EXPECT_EQ(ContainsPattern("' OR 1=1 --"), "%' OR 1=1 --%");  // bound as a value, never spliced
}

}  // namespace
}  // namespace poste::db
