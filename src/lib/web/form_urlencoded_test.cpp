#include "lib/web/form_urlencoded.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/error.hpp"

namespace poste::web {
namespace {

// The AppError a body provokes (fails the test when it parses).
AppError ErrorOf(std::string_view body, const FormLimits& limits = {}) {
  try {
    ParseFormUrlencoded(body, limits);
  } catch (const AppError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for body: " << body;
  return AppError::Internal("none");
}

std::string CodeOf(std::string_view body, const FormLimits& limits = {}) {
  auto e = ErrorOf(body, limits);
  return e.fields().empty() ? "" : e.fields()[0].code;
}

TEST(FormUrlencoded, DecodesPairsInOrder) {
  auto pairs = ParseFormUrlencoded("name=Ada+Lovelace&email=ada%40example.com&message=Caf%C3%A9%0D%0Aline+2&empty=");
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"name", "Ada Lovelace"}));
  EXPECT_EQ(pairs[1].second, "ada@example.com");
  EXPECT_EQ(pairs[2].second, "Café\r\nline 2");
  EXPECT_EQ(pairs[3].second, "");
}

TEST(FormUrlencoded, ANameWithoutEqualsHasAnEmptyValueAndEmptyPiecesAreSkipped) {
  auto fields = ParseFormFields("&consent&a=1&&b=%3D%26&");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields.at("consent"), "");
  EXPECT_EQ(fields.at("a"), "1");
  EXPECT_EQ(fields.at("b"), "=&");
  EXPECT_TRUE(ParseFormFields("").empty());
}

TEST(FormUrlencoded, RefusesMalformedEscapes) {
  for (const char* body : {"a=%", "a=%4", "a=%zz", "a%=1", "a=100%25%", "a=%G1"}) {
    auto e = ErrorOf(body);
    EXPECT_EQ(e.status(), 400) << body;
    ASSERT_FALSE(e.fields().empty()) << body;
    EXPECT_EQ(e.fields()[0].field, "body");
    EXPECT_EQ(e.fields()[0].code, "invalid_escape") << body;
  }
}

TEST(FormUrlencoded, RefusesInvalidUtf8InNamesAndValues) {
  EXPECT_EQ(CodeOf("a=%C3%28"), "invalid_utf8");     // a bad continuation byte
  EXPECT_EQ(CodeOf("a=%ED%A0%80"), "invalid_utf8");  // a UTF-16 surrogate
  EXPECT_EQ(CodeOf("a=%C0%AF"), "invalid_utf8");     // overlong '/'
  EXPECT_EQ(CodeOf("%FF=1"), "invalid_utf8");        // in a name
  EXPECT_EQ(CodeOf("a=\xC3\x28"), "invalid_utf8");   // raw, not escaped
}

TEST(FormUrlencoded, RefusesEmptyRepeatedAndOverlongNames) {
  EXPECT_EQ(CodeOf("=value"), "empty_name");
  EXPECT_EQ(CodeOf("email=a%40b.c&email=evil%40x.y"), "duplicate_field");
  EXPECT_EQ(CodeOf(std::string(129, 'n') + "=1"), "name_too_long");
  FormLimits small;
  small.max_value = 4;
  EXPECT_EQ(CodeOf("a=12345", small), "value_too_long");
  EXPECT_NO_THROW(ParseFormUrlencoded("a=1234", small));
}

TEST(FormUrlencoded, OversizedBodiesAndFieldFloodsAreRefused) {
  FormLimits limits;
  limits.max_body = 1024;
  auto e = ErrorOf(std::string(1025, 'a'), limits);
  EXPECT_EQ(e.status(), 413);
  std::string flood;
  for (int i = 0; i < 65; ++i) flood += "f" + std::to_string(i) + "=x&";
  EXPECT_EQ(CodeOf(flood), "too_many_fields");
  std::string many;
  for (int i = 0; i < 64; ++i) many += "f" + std::to_string(i) + "=x&";
  EXPECT_EQ(ParseFormUrlencoded(many).size(), 64u);
}

TEST(FormUrlencoded, HostileContentIsReturnedVerbatimForTheCallerToValidate) {
  // SQL, HTML and CR/LF are data here: the parser neither interprets nor strips them.
  auto fields =
      ParseFormFields("q=%27%3B+DROP+TABLE+contacts%3B--&h=%3Cscript%3Ealert(1)%3C%2Fscript%3E&c=a%0D%0Ab%00");
  EXPECT_EQ(fields.at("q"), "'; DROP TABLE contacts;--");
  EXPECT_EQ(fields.at("h"), "<script>alert(1)</script>");
  EXPECT_EQ(fields.at("c"), std::string("a\r\nb\0", 5));
}

TEST(FormUrlencoded, RecognisesTheContentType) {
  Request r;
  EXPECT_FALSE(IsFormUrlencoded(r));
  r.headers.Set("Content-Type", "Application/X-WWW-Form-Urlencoded ; charset=UTF-8");
  EXPECT_TRUE(IsFormUrlencoded(r));
  r.headers.Set("Content-Type", "application/json");
  EXPECT_FALSE(IsFormUrlencoded(r));
  r.headers.Set("Content-Type", "application/x-www-form-urlencoded-evil");
  EXPECT_FALSE(IsFormUrlencoded(r));
}

}  // namespace
}  // namespace poste::web
