#include "modules/sites/sites_types.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace poste::sites {
namespace {

using Strings = std::vector<std::string>;

// "field:code" of each error, to compare in one line.
Strings Codes(const std::vector<FieldError>& errors) {
  Strings out;
  for (const auto& e : errors) out.push_back(e.field + ":" + e.code);
  return out;
}

TEST(SitesTypes, Slugs) {
  for (const char* slug : {"a", "my-site", "site2", "2-sites", "a1-b2-c3"})
    EXPECT_TRUE(ValidateSlug(slug).empty()) << slug;
  for (const char* slug : {"My-Site", "-a", "a-", "a--b", "a_b", "a b", "a.b", "été", "a\r\nb", "x'; --"}) {
    EXPECT_EQ(Codes(ValidateSlug(slug)), Strings{"slug:invalid_format"}) << slug;
  }
  EXPECT_EQ(Codes(ValidateSlug("")), Strings{"slug:required"});
  EXPECT_EQ(Codes(ValidateSlug("2024")), Strings{"slug:invalid_format"});  // would read as an id
  EXPECT_TRUE(ValidateSlug(std::string(64, 'a')).empty());
  EXPECT_EQ(Codes(ValidateSlug(std::string(65, 'a'))), Strings{"slug:too_long"});
}

TEST(SitesTypes, DomainsAreNormalisedHostNames) {
  EXPECT_EQ(NormalizeDomain("  WWW.Example.COM. "), "www.example.com");
  for (const char* d : {"example.com", "WWW.Example.com.", "xn--bcher-kva.example", "localhost", "a-b.c-d.example"}) {
    EXPECT_TRUE(ValidateDomain(d).empty()) << d;
  }
  for (const char* d : {"exa mple.com", "-a.com", "a-.com", "a..com", ".a.com", "a_b.com", "http://a.com", "a.com/x",
                        "a.com:8080", "192.168.1.1", "bücher.example", "a.com\r\nX-Evil: 1", "<b>.com"}) {
    EXPECT_EQ(Codes(ValidateDomain(d)), Strings{"domains:invalid_format"}) << d;
  }
  EXPECT_EQ(Codes(ValidateDomain(" . ")), Strings{"domains:required"});
  EXPECT_EQ(Codes(ValidateDomain(std::string(64, 'a') + ".com")), Strings{"domains:invalid_format"});
  std::string long_host;
  for (int i = 0; i < 4; ++i) long_host += std::string(63, 'a') + ".";
  EXPECT_EQ(Codes(ValidateDomain(long_host + "com")), Strings{"domains:too_long"});

  EXPECT_EQ(Codes(ValidateDomains({"a.example", "b.example", "A.example."})), Strings{"domains[2]:duplicate"});
  EXPECT_EQ(Codes(ValidateDomains({"ok.example", "bad domain"})), Strings{"domains[1]:invalid_format"});
  EXPECT_EQ(Codes(ValidateDomains(std::vector<std::string>(51, "a.example"))), Strings{"domains:too_many"});
}

TEST(SitesTypes, LocaleTimezoneAndUrls) {
  for (const char* l : {"fr", "en", "es", "de", "it"}) EXPECT_TRUE(ValidateLocale(l).empty());
  for (const char* l : {"", "FR", "pt", "fr-FR"}) EXPECT_EQ(Codes(ValidateLocale(l)), Strings{"locale:invalid_value"});
  for (const char* tz : {"Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"}) {
    EXPECT_TRUE(ValidateTimezone(tz).empty()) << tz;
  }
  for (const std::string& tz : {std::string(), std::string("Europe/Paris "), std::string("../etc/passwd;"),
                                std::string(65, 'A'), std::string("Europe\nParis")}) {
    EXPECT_EQ(Codes(ValidateTimezone(tz)), Strings{"timezone:invalid_format"}) << tz;
  }
  for (const char* url :
       {"https://facebook.com/page", "http://example.com", "HTTPS://x.com/a?b=c#d", "https://a.b:8443/"}) {
    EXPECT_TRUE(ValidateUrl(url, "u").empty()) << url;
  }
  for (const char* url : {"javascript:alert(1)", "data:text/html,x", "ftp://x.com", "https://", "https:///path",
                          "//x.com", "https://x.com/a b", "https://x.com/\r\n", "https://user@x.com", "x.com"}) {
    EXPECT_EQ(Codes(ValidateUrl(url, "u")), Strings{"u:invalid_format"}) << url;
  }
  EXPECT_EQ(Codes(ValidateUrl("https://x.com/" + std::string(2048, 'a'), "u")), Strings{"u:too_long"});
}

TEST(SitesTypes, SocialLinksFromJsonAndValidation) {
  std::vector<FieldError> errors;
  const auto social = SocialFromJson(nlohmann::json::parse(R"({"facebook": "https://facebook.com/a", "x": 5,
      "unknown": "ignored", "custom": [{"label": "Blog", "url": "https://blog.example"}, "nope"]})"),
                                     errors);
  EXPECT_EQ(Codes(errors), (Strings{"social.x:invalid_type", "social.custom[1]:invalid_type"}));
  EXPECT_EQ(social.facebook, "https://facebook.com/a");
  EXPECT_EQ(social.x, "");
  ASSERT_EQ(social.custom.size(), 1u);
  EXPECT_EQ(social.custom[0].url, "https://blog.example");
  EXPECT_TRUE(ValidateSocial(social).empty());
  // Round trip through the stored form.
  errors.clear();
  const auto again = SocialFromJson(ToJson(social), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(ToJson(again), ToJson(social));

  Social bad;
  bad.tiktok = "javascript:alert(1)";
  bad.custom = {{"", "https://ok.example"}, {std::string(101, 'l'), "mailto:a@b.c"}};
  EXPECT_EQ(Codes(ValidateSocial(bad)),
            (Strings{"social.tiktok:invalid_format", "social.custom[0].label:required",
                     "social.custom[1].label:too_long", "social.custom[1].url:invalid_format"}));
  bad = Social{};
  bad.custom.assign(21, CustomLink{"l", "https://ok.example"});
  EXPECT_EQ(Codes(ValidateSocial(bad)), Strings{"social.custom:too_many"});
}

TEST(SitesTypes, ValidateCollectsEveryFieldOfANewSite) {
  NewSite site;
  site.slug = "ok";
  site.name = "Ok";
  EXPECT_TRUE(Validate(site).empty());

  site.slug = "Bad Slug";
  site.name = std::string(201, 'n');
  site.description = std::string(2001, 'd');
  site.locale = "xx";
  site.timezone = "";
  site.logo_media_id = 0;
  site.contact = {"not-an-email", std::string(51, '1'), std::string(501, 'a')};
  site.domains = {"bad domain"};
  EXPECT_EQ(Codes(Validate(site)),
            (Strings{"slug:invalid_format", "name:too_long", "description:too_long", "locale:invalid_value",
                     "timezone:invalid_format", "logo_media_id:invalid_value", "contact.email:invalid_format",
                     "contact.phone:too_long", "contact.address:too_long", "domains[0]:invalid_format"}));

  // Multi-line text is fine where it belongs, not in one-line fields.
  site = NewSite{};
  site.slug = "ok";
  site.name = "Ok";
  site.description = "line\r\nline\ttab";
  site.contact.address = "1 rue X\n75000 Paris";
  EXPECT_TRUE(Validate(site).empty());
  site.contact.phone = "01\n02";
  site.name = "a\nb";
  EXPECT_EQ(Codes(Validate(site)), (Strings{"name:invalid_format", "contact.phone:invalid_format"}));
}

TEST(SitesTypes, ValidateChecksOnlyWhatAPatchSets) {
  SitePatch patch;
  EXPECT_TRUE(Validate(patch).empty());
  patch.logo_media_id = std::optional<std::int64_t>();  // removing the logo is fine
  patch.contact_email = "";                             // so is clearing the contact address
  EXPECT_TRUE(Validate(patch).empty());
  patch.slug = "123";
  patch.domains = std::vector<std::string>{"a.example", "a.example"};
  patch.locale = "pt";
  EXPECT_EQ(Codes(Validate(patch)), (Strings{"slug:invalid_format", "locale:invalid_value", "domains[1]:duplicate"}));
}

TEST(SitesTypes, SettingsKeysValuesAndSecretsInJson) {
  EXPECT_TRUE(ValidateSettingKey("smtp.password").empty());
  for (const std::string& key : {std::string(), std::string("Upper"), std::string("a b"), std::string(101, 'k')}) {
    EXPECT_EQ(Codes(ValidateSettingKey(key)), Strings{"key:invalid_format"}) << key;
  }
  EXPECT_TRUE(ValidateSettingValue(std::string(std::size_t{64} * 1024, 'v')).empty());
  EXPECT_EQ(Codes(ValidateSettingValue(std::string(std::size_t{64} * 1024 + 1, 'v'))), Strings{"value:too_long"});

  const auto secret = ToJson(Setting{"smtp.password", "sealed-bytes", true, 1});
  EXPECT_EQ(secret.dump(), R"({"key":"smtp.password","secret":true,"set":true})");
  EXPECT_EQ(ToJson(Setting{"smtp.password", "", true, 1})["set"], false);
  EXPECT_EQ(ToJson(Setting{"smtp.host", "mail.example", false, 1})["value"], "mail.example");
}

TEST(SitesTypes, IdOrSlug) {
  EXPECT_TRUE(IsAllDigits("42"));
  EXPECT_FALSE(IsAllDigits(""));
  EXPECT_FALSE(IsAllDigits("42a"));
  EXPECT_FALSE(IsAllDigits("-4"));
}

}  // namespace
}  // namespace poste::sites
