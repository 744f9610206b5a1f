#include "modules/content/content_fields.hpp"

#include <gtest/gtest.h>

#include "modules/content/content_query.hpp"

namespace poste::content {
namespace {

FieldDef Def(std::string name, FieldType type) {
  FieldDef f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

TEST(ContentFields, DatesAndDateTimes) {
  EXPECT_EQ(NormalizeDate("2024-02-29"), "2024-02-29");
  EXPECT_FALSE(NormalizeDate("2023-02-29"));
  EXPECT_FALSE(NormalizeDate("2023-13-01"));
  EXPECT_FALSE(NormalizeDate("0000-01-01"));
  EXPECT_FALSE(NormalizeDate("2023-1-01"));
  EXPECT_FALSE(NormalizeDate("2023-01-01\n"));
  EXPECT_EQ(NormalizeDateTime("2025-03-01T09:30:00+01:00"), "2025-03-01T08:30:00.000Z");
  EXPECT_EQ(NormalizeDateTime("2025-03-01t09:30:00.1234z"), "2025-03-01T09:30:00.123Z");
  EXPECT_EQ(NormalizeDateTime("2025-01-01 00:30:00-01:00"), "2025-01-01T01:30:00.000Z");
  EXPECT_EQ(NormalizeDateTime("2025-01-01T00:00:00+02:00"), "2024-12-31T22:00:00.000Z");
  EXPECT_FALSE(NormalizeDateTime("2025-01-01T24:00:00Z"));
  EXPECT_FALSE(NormalizeDateTime("2025-01-01T10:00:00"));  // no offset
  EXPECT_FALSE(NormalizeDateTime("2025-01-01T10:00:00+0100"));
  EXPECT_FALSE(NormalizeDateTime("0001-01-01T00:00:00+01:00"));  // before year 1 in UTC
  EXPECT_FALSE(NormalizeDateTime("2025-01-01T10:00:00.Z"));
  EXPECT_EQ(ParseTimeBound("86400000"), 86400000);
  EXPECT_EQ(ParseTimeBound("1970-01-02"), 86400000);
  EXPECT_EQ(ParseTimeBound("1970-01-02T00:00:00Z"), 86400000);
  EXPECT_FALSE(ParseTimeBound("tomorrow"));
  EXPECT_FALSE(ParseTimeBound(""));
}

TEST(ContentFields, ValuesByType) {
  std::vector<FieldError> errors;
  FieldDef url = Def("link", FieldType::kUrl);
  for (const char* bad : {"javascript:alert(1)", "ftp://x", "https://", "https://user@evil.example", "http://a b",
                          "https://x\r\nSet-Cookie: a", "data:text/html,x"}) {
    errors.clear();
    EXPECT_FALSE(ValidateValue(url, bad, errors, "data.link")) << bad;
  }
  EXPECT_TRUE(ValidateValue(url, "HTTPS://example.com/a?b=c#d", errors, "data.link"));
  FieldDef phone = Def("tel", FieldType::kPhone);
  EXPECT_TRUE(ValidateValue(phone, "+41 (0)21 123-45.67", errors, "x"));
  EXPECT_FALSE(ValidateValue(phone, "12+3", errors, "x"));
  FieldDef money = Def("price", FieldType::kMoney);
  EXPECT_TRUE(ValidateValue(money, nlohmann::json{{"amount", 0}, {"currency", "EUR"}}, errors, "x"));
  EXPECT_FALSE(ValidateValue(money, nlohmann::json{{"amount", 1}, {"currency", "eur"}}, errors, "x"));
  EXPECT_FALSE(ValidateValue(money, nlohmann::json{{"amount", 1}, {"currency", "EUR"}, {"x", 1}}, errors, "x"));
  FieldDef integer = Def("n", FieldType::kInteger);
  EXPECT_FALSE(ValidateValue(integer, nlohmann::json(18446744073709551615ULL), errors, "x"));
  EXPECT_FALSE(ValidateValue(integer, nlohmann::json(1.5), errors, "x"));
  FieldDef text = Def("t", FieldType::kText);
  text.pattern = "^[A-Z]{2}-[0-9]+$";
  EXPECT_TRUE(ValidateValue(text, "AB-12", errors, "x"));
  errors.clear();
  EXPECT_FALSE(ValidateValue(text, "AB-12\n", errors, "x"));
  EXPECT_EQ(errors.at(0).code, "invalid_chars");
  // Patterns that backtrack exponentially are refused when the schema is written.
  for (const char* evil : {"(a+)+$", "(a*)*b", "((ab)*)+", "(x+x+)+y", "(a|b)\\1", "(.{1,9})+"}) {
    errors.clear();
    FieldsFromJson(nlohmann::json::array({{{"name", "t"}, {"type", "text"}, {"pattern", evil}}}), errors);
    ASSERT_EQ(errors.size(), 1u) << evil;
    EXPECT_EQ(errors[0].code, "too_complex") << evil;
  }
  errors.clear();
  FieldsFromJson(nlohmann::json::array({{{"name", "t"}, {"type", "text"}, {"pattern", "^(ab)+[a-z]*(-[0-9]{2})?$"}}}),
                 errors);
  EXPECT_TRUE(errors.empty());
  FieldDef list = Def("tags", FieldType::kList);
  EXPECT_FALSE(ValidateValue(list, nlohmann::json{"a", 1}, errors, "x"));
  EXPECT_FALSE(ValidateValue(list, nlohmann::json{"a\nb"}, errors, "x"));
}

TEST(ContentQuery, ParsesParametersAndRefusesHostileOnes) {
  auto q = ParseEntryQuery(
      "status=published,draft&data.price%5Bgte%5D=100&data.tags=a%2Cb&sort=-data.price&limit=5&q=caf%C3%A9+cr%C3%A8me");
  EXPECT_EQ(q.statuses.size(), 2u);
  ASSERT_EQ(q.filters.size(), 2u);
  EXPECT_EQ(q.filters[0].field, "price");
  EXPECT_EQ(q.filters[0].op, FilterOp::kGte);
  EXPECT_EQ(q.filters[1].values, std::vector<std::string>{"a,b"});
  EXPECT_EQ(q.sort, "price");
  EXPECT_TRUE(q.sort_field);
  EXPECT_TRUE(q.descending);
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(q.q, "café crème");
  auto in = ParseEntryQuery("data.status[in]=a,b,c&created_at[lt]=2025-01-01");
  EXPECT_EQ(in.filters[0].values.size(), 3u);
  EXPECT_TRUE(in.filters[1].system);
  for (const char* bad :
       {"limit=0", "limit=abc", "limit=1e3", "status=live", "sort=title", "sort=data.", "x=1", "data.a[regex]=x",
        "data.a[eq=x", "q=%ZZ", "q=%C3", "data.a=x%0D%0Ay", "data.=1", "created_at[gt"}) {
    try {
      ParseEntryQuery(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 400) << bad;
    }
  }
  std::string many;
  for (int i = 0; i < 21; ++i) many += "data.f" + std::to_string(i) + "=1&";
  EXPECT_THROW(ParseEntryQuery(many), AppError);
  EXPECT_THROW(ParseEntryQuery("q=" + std::string(201, 'a')), AppError);
  EXPECT_NO_THROW(ParseEntryQuery(""));
  EXPECT_NO_THROW(ParseEntryQuery("&&"));
}

}  // namespace
}  // namespace poste::content
