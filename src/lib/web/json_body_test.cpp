#include "lib/web/json_body.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/error.hpp"

namespace poste::web {
namespace {

Request JsonRequest(std::string body, std::string type = "application/json") {
  Request r;
  r.method = "POST";
  r.headers.Set("Content-Type", std::move(type));
  r.body = std::move(body);
  return r;
}

AppError ErrorOf(const Request& r) {
  try {
    ParseJsonBody(r);
  } catch (const AppError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for body: " << r.body;
  return AppError::Internal("none");
}

TEST(JsonBody, ParsesValidJson) {
  auto j = ParseJsonBody(JsonRequest(R"({"name":"Café","n":[1,2]})"));
  EXPECT_EQ(j["name"], "Café");
  EXPECT_EQ(j["n"].size(), 2u);
}

TEST(JsonBody, InvalidJsonIs400WithBodyField) {
  for (std::string bad : {"{", "{\"a\":}", "nul", "[1,2", "{\"a\":1}}", "\x01"}) {
    auto e = ErrorOf(JsonRequest(bad));
    EXPECT_EQ(e.status(), 400) << bad;
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "body");
    EXPECT_EQ(e.fields()[0].code, "invalid_json") << bad;
  }
}

TEST(JsonBody, InvalidUtf8Is400) {
  for (std::string bad : {std::string("{\"a\":\"\xff\"}"), std::string("{\"a\":\"\xc3\x28\"}"),
                          std::string("{\"a\":\"\xed\xa0\x80\"}")}) {
    auto e = ErrorOf(JsonRequest(bad));
    EXPECT_EQ(e.status(), 400);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].code, "invalid_utf8");
  }
}

TEST(JsonBody, EmptyBodyAndWrongTypeAreRefused) {
  EXPECT_EQ(ErrorOf(JsonRequest("")).status(), 400);
  EXPECT_EQ(ErrorOf(JsonRequest("{}", "text/plain")).status(), 415);
}

TEST(JsonBody, DeepNestingDoesNotCrash) {
  std::string deep(100000, '[');
  auto e = ErrorOf(JsonRequest(deep));
  EXPECT_EQ(e.status(), 400);
}

}  // namespace
}  // namespace poste::web
