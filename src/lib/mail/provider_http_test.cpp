#include "lib/mail/provider_http.hpp"

#include <gtest/gtest.h>

#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

TEST(ProviderHttp, StatusesBecomeOutcomes) {
  for (int status : {200, 201, 202, 299}) EXPECT_EQ(OutcomeOfStatus(status), DeliveryOutcome::kSent) << status;
  for (int status : {408, 429, 500, 502, 503, 504, 599}) {
    EXPECT_EQ(OutcomeOfStatus(status), DeliveryOutcome::kTemporary) << status;
  }
  for (int status : {0, 100, 301, 400, 401, 403, 404, 413, 422}) {
    EXPECT_EQ(OutcomeOfStatus(status), DeliveryOutcome::kPermanent) << status;
  }
}

TEST(ProviderHttp, TransportErrorsAreTemporaryButTheAccountsOwnMistakesPermanent) {
  using K = net::HttpErrorKind;
  for (K kind : {K::kResolve, K::kConnect, K::kTimeout, K::kTls, K::kTransfer}) {
    EXPECT_EQ(OutcomeOfHttpError(kind), DeliveryOutcome::kTemporary);
  }
  EXPECT_EQ(OutcomeOfHttpError(K::kRefusedTarget), DeliveryOutcome::kPermanent);
  EXPECT_EQ(OutcomeOfHttpError(K::kInvalidRequest), DeliveryOutcome::kPermanent);
  auto result = ResultOfHttpError(net::HttpError(K::kTimeout, "timed out after 300 ms\r\n"));
  EXPECT_EQ(result.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(result.answer, "timed out after 300 ms");
}

TEST(ProviderHttp, AnswersAreCleanedAndBounded) {
  EXPECT_EQ(CleanAnswer("  a\r\n\tb  \x01\x7f c  "), "a b c");
  EXPECT_EQ(CleanAnswer("x\xc2\x85y"), "x y");  // U+0085 (NEL), a C1 control
  EXPECT_EQ(CleanAnswer("a\u2028b\u2029c\u00e9"), "a b c\u00e9");
  EXPECT_EQ(CleanAnswer("bad \xff\xfe utf-8"), "bad \xef\xbf\xbd\xef\xbf\xbd utf-8");
  EXPECT_EQ(CleanAnswer(""), "");
  EXPECT_EQ(CleanAnswer("ééééé", 5), "éé...");  // never half a character
  EXPECT_EQ(CleanAnswer("abcdef", 6), "abcdef");
  const std::string big(100000, 'z');
  const std::string cut = CleanAnswer(big);
  EXPECT_EQ(cut.size(), kMaxAnswer + 3);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  std::string noise(5000, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>(i * 37 % 256);
  const std::string cleaned = CleanAnswer(noise);
  EXPECT_TRUE(validate::IsValidUtf8(cleaned));
  EXPECT_FALSE(validate::HasControlChars(cleaned, false));
  EXPECT_LE(cleaned.size(), kMaxAnswer + 3);
}

TEST(ProviderHttp, HttpAnswerNamesTheStatusAndTheBody) {
  EXPECT_EQ(HttpAnswer(202, ""), "HTTP 202");
  EXPECT_EQ(HttpAnswer(400, "{\"errors\":[]}\n"), "HTTP 400: {\"errors\":[]}");
  EXPECT_LE(HttpAnswer(500, std::string(50000, 'x')).size(), kMaxAnswer + 3);
}

}  // namespace
}  // namespace poste::mail
