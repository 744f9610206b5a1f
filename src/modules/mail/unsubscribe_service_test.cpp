#include "modules/mail/unsubscribe_service.hpp"

#include <gtest/gtest.h>

#include <map>

#include "lib/mail/mime.hpp"
#include "modules/mail/mail_suppression_service.hpp"
#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::ErrorStatus;
using testing::FieldCodes;
using Strings = std::vector<std::string>;

constexpr std::string_view kKey = "unsubscribe-key-for-tests-32-byte";

TEST(UnsubscribeSiteOf, TheLinksGoToTheSitesPublicAddress) {
  sites::Site site;
  site.name = "Alpha";
  site.locale = "de";
  site.domains = {"alpha.example", "www.alpha.example"};
  auto facts = UnsubscribeSiteOf(site, std::nullopt, std::nullopt);
  EXPECT_EQ(facts.name, "Alpha");
  EXPECT_EQ(facts.locale, "de");
  EXPECT_EQ(facts.base_url, "https://alpha.example");
  EXPECT_EQ(facts.mailto, "");
  facts = UnsubscribeSiteOf(site, "https://mail.alpha.example/base//", " Unsub@ALPHA.example ");
  EXPECT_EQ(facts.base_url, "https://mail.alpha.example/base");
  EXPECT_EQ(facts.mailto, "Unsub@alpha.example");
  // Unusable settings are ignored rather than written into every message.
  for (const char* bad : {"ftp://alpha.example", "https://alpha.example/?x=1", "https://a b", "javascript:alert(1)",
                          "https://alpha.example\r\nX: y", ""}) {
    EXPECT_EQ(UnsubscribeSiteOf(site, bad, std::nullopt).base_url, "https://alpha.example") << bad;
  }
  EXPECT_EQ(UnsubscribeSiteOf(site, std::nullopt, "not an address\r\nBcc: x@y.z").mailto, "");
  site.domains.clear();
  EXPECT_EQ(UnsubscribeSiteOf(site, std::nullopt, std::nullopt).base_url, "");
}

class UnsubscribeServiceTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    suppressions_ = std::make_unique<MailSuppressionsService>(db(), [this] { return now_; });
    sites_[site_a_] = {"Les Ateliers", "fr", "https://alpha.example", "unsubscribe@alpha.example"};
    sites_[site_b_] = {"Beta", "en", "", ""};
    UnsubscribeOptions options;
    options.site = [this](std::int64_t id) -> std::optional<UnsubscribeSite> {
      auto it = sites_.find(id);
      if (it == sites_.end()) return std::nullopt;
      return it->second;
    };
    service_ = std::make_unique<UnsubscribeService>(std::string(kKey), *suppressions_, std::move(options));
  }
  UnsubscribeService& svc() { return *service_; }
  std::map<std::int64_t, UnsubscribeSite> sites_;
  std::unique_ptr<MailSuppressionsService> suppressions_;
  std::unique_ptr<UnsubscribeService> service_;
};

TEST_P(UnsubscribeServiceTest, LinksCarryASignedPerRecipientToken) {
  auto links = svc().LinksFor(site_a_, " Ada@BÜCHER.example", 77);
  const std::string prefix = "https://alpha.example/u/";
  ASSERT_TRUE(links.url.starts_with(prefix)) << links.url;
  EXPECT_EQ(links.mailto, "mailto:unsubscribe@alpha.example?subject=unsubscribe");
  auto claims = svc().Verify(links.url.substr(prefix.size()));
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->site_id, site_a_);
  EXPECT_EQ(claims->email, "Ada@xn--bcher-kva.example");  // the form the suppression list keeps
  EXPECT_EQ(claims->campaign_id, 77);
  EXPECT_FALSE(svc().LinksFor(site_a_, "ada@example.com").url == links.url);
  // Nothing to link to without a public address; no such site; not an address.
  int status = 0;
  EXPECT_EQ(FieldCodes([&] { svc().LinksFor(site_b_, "ada@example.com"); }, &status), Strings{"domains:required"});
  EXPECT_EQ(status, 409);
  EXPECT_EQ(ErrorStatus([&] { svc().LinksFor(999, "ada@example.com"); }), 404);
  EXPECT_EQ(FieldCodes([&] { svc().LinksFor(site_a_, "ada@example.com\r\nBcc: x@example.com"); }),
            Strings{"email:invalid_email"});
  // The token alone verifies nothing signed under another key.
  MailSuppressionsService other_suppressions(db());
  UnsubscribeService other("another key entirely, 32 bytes!", other_suppressions, {});
  EXPECT_FALSE(other.Verify(links.url.substr(prefix.size())));
}

TEST_P(UnsubscribeServiceTest, TheLinksFitTheMessageHeaders) {
  // The longest address and the longest public URL still make links the message builder accepts.
  const std::string longest = std::string(64, 'l') + "@" + std::string(60, 'd') + "." + std::string(60, 'e') + "." +
                              std::string(59, 'f') + ".example";  // 254 bytes
  for (const std::string& to : {std::string("Ada@example.com"), longest}) {
    for (const std::string& base :
         {std::string("https://alpha.example"), "https://" + std::string(kMaxPublicUrlBytes - 8, 'p')}) {
      sites_[site_a_].base_url = base;
      auto links = svc().LinksFor(site_a_, to, 9'000'000'000);
      OutgoingMessage m;
      m.from = {"Alpha", "news@alpha.example"};
      m.to = {{"", to}};
      m.subject = "News";
      m.text = "Hello";
      m.list_unsubscribe_url = links.url;
      m.list_unsubscribe_mailto = links.mailto;
      std::vector<FieldError> errors;
      ValidateMessage(m, errors);
      EXPECT_TRUE(errors.empty()) << errors[0].field << ": " << errors[0].message;
      auto built = BuildMessage(m);
      EXPECT_NE(built.bytes.find("\r\nList-Unsubscribe: "), std::string::npos);
      EXPECT_NE(built.bytes.find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
      auto claims = svc().Verify(links.url.substr(links.url.rfind('/') + 1));
      ASSERT_TRUE(claims);
      EXPECT_EQ(claims->email, *SuppressionAddress(to));
      EXPECT_EQ(claims->campaign_id, 9'000'000'000);
    }
  }
}

TEST_P(UnsubscribeServiceTest, UnsubscribingListsTheAddressOnceForItsSiteOnly) {
  const auto token = svc().Token(site_a_, "ada@example.com", 5);
  auto opened = svc().Open(token);
  EXPECT_FALSE(opened.already);
  EXPECT_EQ(opened.site.name, "Les Ateliers");
  EXPECT_EQ(opened.claims.email, "ada@example.com");
  EXPECT_FALSE(suppressions_->IsSuppressed(site_a_, "ada@example.com"));  // opening the page changes nothing

  auto done = svc().Unsubscribe(token, "one_click");
  EXPECT_FALSE(done.already);
  auto entry = suppressions_->Get(site_a_, "ada@example.com");
  EXPECT_EQ(entry.reason, SuppressionReason::kUnsubscribe);
  EXPECT_EQ(entry.source, "one_click");
  EXPECT_EQ(entry.campaign_id, 5);
  EXPECT_FALSE(suppressions_->IsSuppressed(site_b_, "ada@example.com"));

  // Again, from the page, or for another campaign: nothing changes.
  now_ += 1000;
  EXPECT_TRUE(svc().Unsubscribe(token, "page").already);
  EXPECT_TRUE(svc().Unsubscribe(svc().Token(site_a_, "ada@example.com", 6), "page").already);
  EXPECT_TRUE(svc().Open(token).already);
  auto same = suppressions_->Get(site_a_, "ada@example.com");
  EXPECT_EQ(same.id, entry.id);
  EXPECT_EQ(same.campaign_id, 5);
  EXPECT_EQ(same.updated_at, entry.updated_at);
  EXPECT_EQ(suppressions_->List(site_a_, {}).items.size(), 1u);

  // A bounce listed before is replaced by the person's own refusal.
  suppressions_->Suppress(site_b_, "bo@example.com", SuppressionReason::kHardBounce, {"dsn", "", {}, {}});
  EXPECT_FALSE(svc().Unsubscribe(svc().Token(site_b_, "bo@example.com", {}), "one_click").already);
  EXPECT_EQ(suppressions_->Get(site_b_, "bo@example.com").reason, SuppressionReason::kUnsubscribe);
}

TEST_P(UnsubscribeServiceTest, RefusesTokensThatAreNotValid) {
  const auto token = svc().Token(site_a_, "ada@example.com", std::nullopt);
  for (const std::string& bad : {token.substr(0, token.size() - 2), token + "x", std::string("garbage"), std::string(),
                                 "%0D%0A" + token, token.substr(1)}) {
    EXPECT_EQ(ErrorStatus([&] { svc().Open(bad); }), 404) << bad;
    EXPECT_EQ(ErrorStatus([&] { svc().Unsubscribe(bad, "page"); }), 404) << bad;
  }
  // A valid token of a site deleted since.
  const auto gone = svc().Token(424242, "ada@example.com", std::nullopt);
  EXPECT_EQ(ErrorStatus([&] { svc().Unsubscribe(gone, "one_click"); }), 404);
  EXPECT_TRUE(suppressions_->List(site_a_, {}).items.empty());
  EXPECT_EQ(FieldCodes([&] { svc().Token(site_a_, "not an address", std::nullopt); }), Strings{"email:invalid_email"});
}

POSTE_INSTANTIATE_DB_TEST(UnsubscribeServiceTest);

}  // namespace
}  // namespace poste::mail
