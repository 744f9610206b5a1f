#include "modules/mail/unsubscribe_page.hpp"

#include <gtest/gtest.h>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::mail {
namespace {

bool Has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST(UnsubscribePage, ConfirmPageIsAnAccessibleFormInTheSitesLanguage) {
  const auto html =
      RenderUnsubscribePage(UnsubscribePage::kConfirm, "fr", "Les Ateliers", "ada@example.com", "/u/AbC-_1");
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
  EXPECT_TRUE(Has(html, "<meta name=\"viewport\""));
  EXPECT_TRUE(Has(html, "<title>Se désabonner – Les Ateliers</title>"));
  EXPECT_TRUE(Has(html, "<h1>Se désabonner</h1>"));
  EXPECT_TRUE(Has(html, "<strong>ada@example.com</strong>"));
  EXPECT_TRUE(Has(html, "<form method=\"post\" action=\"/u/AbC-_1\">"));
  EXPECT_TRUE(Has(html, "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"));
  EXPECT_TRUE(Has(html, "<button type=\"submit\" aria-describedby=\"what\">Me désabonner</button>"));
  EXPECT_TRUE(Has(html, "<p id=\"what\">"));
  EXPECT_TRUE(Has(html, "button:focus-visible{outline:3px solid"));
  EXPECT_FALSE(Has(html, "<script"));
  EXPECT_TRUE(Has(RenderUnsubscribePage(UnsubscribePage::kConfirm, "de-AT", "S", "a@b.c", "/u/x"), "lang=\"de\""));
  EXPECT_TRUE(Has(RenderUnsubscribePage(UnsubscribePage::kConfirm, "pt", "S", "a@b.c", "/u/x"), "lang=\"en\""));
}

TEST(UnsubscribePage, EscapesWhatItShows) {
  const auto html = RenderUnsubscribePage(UnsubscribePage::kDone, "en", "<script>alert('x')</script> & {email}",
                                          "a\"b@example.com", "");
  EXPECT_FALSE(Has(html, "<script>"));
  EXPECT_TRUE(Has(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; {email}"));
  EXPECT_TRUE(Has(html, "a&quot;b@example.com"));
  EXPECT_FALSE(Has(html, "<form"));  // only the question has a button
  EXPECT_TRUE(Has(html, "<h1>You are unsubscribed</h1>"));
  const auto invalid = RenderUnsubscribePage(UnsubscribePage::kInvalid, "es", "", "", "");
  EXPECT_TRUE(Has(invalid, "lang=\"es\""));
  EXPECT_TRUE(Has(invalid, "<h1>Este enlace no es válido</h1>"));
  EXPECT_TRUE(Has(RenderUnsubscribePage(UnsubscribePage::kAlready, "it", "S", "a@b.c", ""), "<h1>Iscrizione già"));
}

TEST(UnsubscribePage, PolicyAllowsExactlyTheInlineStyle) {
  const auto html = RenderUnsubscribePage(UnsubscribePage::kConfirm, "en", "S", "a@b.c", "/u/x");
  const auto start = html.find("<style>") + 7;
  const auto style = html.substr(start, html.find("</style>") - start);
  const auto& policy = UnsubscribePagePolicy();
  EXPECT_TRUE(Has(policy, "style-src 'sha256-" + crypto::Base64Encode(crypto::Sha256(style)) + "'"));
  EXPECT_TRUE(Has(policy, "default-src 'none'"));
  EXPECT_TRUE(Has(policy, "form-action 'self'"));
  EXPECT_TRUE(Has(policy, "frame-ancestors 'none'"));
}

TEST(UnsubscribePage, PicksALanguageFromAcceptLanguage) {
  EXPECT_EQ(LocaleFromAcceptLanguage("de-DE,de;q=0.9,en;q=0.8"), "de");
  EXPECT_EQ(LocaleFromAcceptLanguage("pt-BR, it;q=0.5, fr;q=0.7"), "fr");
  EXPECT_EQ(LocaleFromAcceptLanguage("ja"), "en");
  EXPECT_EQ(LocaleFromAcceptLanguage(""), "en");
  EXPECT_EQ(LocaleFromAcceptLanguage("es;q=0, it"), "it");
  EXPECT_EQ(LocaleFromAcceptLanguage(",,;;q=\r\n\xFF"), "en");
  EXPECT_EQ(LocaleFromAcceptLanguage(std::string(10000, ',') + "ES"), "es");
}

}  // namespace
}  // namespace poste::mail
