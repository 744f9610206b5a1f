#include "lib/json_dump.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace poste {
namespace {

TEST(DumpJson, IsCompact) {
  EXPECT_EQ(DumpJson({{"a", 1}, {"b", {true, nullptr, "x"}}}), R"({"a":1,"b":[true,null,"x"]})");
}

TEST(DumpJson, ReplacesInvalidUtf8InsteadOfThrowing) {
  const nlohmann::json j = {{"name", std::string("ok\xff\xc3")}, {std::string("k\x80"), "v"}};
  std::string text;
  ASSERT_NO_THROW(text = DumpJson(j));
  EXPECT_EQ(text, "{\"k\xEF\xBF\xBD\":\"v\",\"name\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD\"}");
  // The result parses again: no raw invalid byte survives.
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
}

TEST(DumpJson, EscapesControlCharacters) { EXPECT_EQ(DumpJson(std::string("a\r\nb\x01")), R"("a\r\nb\u0001")"); }

}  // namespace
}  // namespace poste
