#include "modules/mail/mail_signature_service.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::FieldCodes;
using Strings = std::vector<std::string>;

class MailSignatureServiceTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    service_ = std::make_unique<MailSignaturesService>(db(), [this] { return now_; });
  }
  MailSignaturesService& svc() { return *service_; }
  std::unique_ptr<MailSignaturesService> service_;
};

TEST_P(MailSignatureServiceTest, OnePerUserAndSiteStoredExactlyAsGiven) {
  EXPECT_FALSE(svc().SignatureFor(site_a_, user_a_));
  // Nothing is sanitised: what the user wrote is what the send path appends.
  const SignatureInput mine{"<p>Ada — <a href=\"https://a.example\">site</a></p><script>x()</script>\r\n",
                            "Ada\r\n-- \n\t'; DROP TABLE mail_signatures; --"};
  auto stored = svc().Put(origin_, site_a_, user_a_, mine);
  EXPECT_EQ(stored.html, mine.html);
  EXPECT_EQ(stored.text, mine.text);
  EXPECT_EQ(stored.created_at, now_);
  svc().Put(origin_, site_b_, user_a_, {"<p>B</p>", ""});
  svc().Put(origin_, site_a_, user_b_, {"", "Bob"});
  auto found = svc().SignatureFor(site_a_, user_a_);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->html, mine.html);
  EXPECT_EQ(found->text, mine.text);
  EXPECT_EQ(svc().SignatureFor(site_b_, user_a_)->html, "<p>B</p>");
  EXPECT_EQ(svc().SignatureFor(site_a_, user_b_)->text, "Bob");
  EXPECT_FALSE(svc().SignatureFor(site_b_, user_b_));

  now_ += 5000;
  auto replaced = svc().Put(origin_, site_a_, user_a_, {"<p>new</p>", ""});
  EXPECT_EQ(replaced.html, "<p>new</p>");
  EXPECT_EQ(replaced.text, "");
  EXPECT_EQ(replaced.updated_at, now_);
  EXPECT_EQ(replaced.created_at, now_ - 5000);

  svc().Delete(origin_, site_a_, user_a_);
  EXPECT_FALSE(svc().SignatureFor(site_a_, user_a_));
  EXPECT_TRUE(svc().SignatureFor(site_b_, user_a_));
  EXPECT_TRUE(svc().SignatureFor(site_a_, user_b_));
  EXPECT_NO_THROW(svc().Delete(origin_, site_a_, user_a_));  // already gone: nothing to do
  EXPECT_EQ(AuditActions(), (Strings{"mail_signature.put", "mail_signature.put", "mail_signature.put",
                                     "mail_signature.put", "mail_signature.delete"}));
}

TEST_P(MailSignatureServiceTest, RefusesWhatItCannotStoreFaithfully) {
  const std::string limit(kMaxSignatureBytes, 'x');
  EXPECT_NO_THROW(svc().Put(origin_, site_a_, user_a_, {limit, limit}));
  EXPECT_EQ(FieldCodes([&] { svc().Put(origin_, site_a_, user_a_, {limit + "x", ""}); }), Strings{"html:too_long"});
  EXPECT_EQ(FieldCodes([&] { svc().Put(origin_, site_a_, user_a_, {"", limit + "x"}); }), Strings{"text:too_long"});
  EXPECT_EQ(FieldCodes([&] {
              svc().Put(origin_, site_a_, user_a_, {"\xC3\x28", "\xED\xA0\x80"});
            }),
            (Strings{"html:invalid_utf8", "text:invalid_utf8"}));
  EXPECT_EQ(FieldCodes([&] {
              svc().Put(origin_, site_a_, user_a_, {std::string("a\0b", 3), "\x1b[31m"});
            }),
            (Strings{"html:invalid_characters", "text:invalid_characters"}));
  // What was stored before stays.
  EXPECT_EQ(svc().SignatureFor(site_a_, user_a_)->html, limit);
}

POSTE_INSTANTIATE_DB_TEST(MailSignatureServiceTest);

}  // namespace
}  // namespace poste::mail
