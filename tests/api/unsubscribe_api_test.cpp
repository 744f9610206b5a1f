// RFC 8058 unsubscribing through the whole app (issue 5), on SQLite and PostgreSQL: the plain page, the
// one-click POST (form-urlencoded and multipart, as mail clients send it), idempotence, the suppression entry
// with its campaign, no credentials or CSRF token involved, hostile and foreign tokens, and the per-IP limit.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>

#include <nlohmann/json.hpp>
#include <string>

#include "modules/mail/unsubscribe_token.hpp"
#include "permission_table.hpp"
#include "support/run_task.hpp"

namespace poste::testing {
namespace {

using json = nlohmann::json;

class UnsubscribeApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    key_ = crypto::HmacSha256(crypto::AsStringView(master_key_), "poste/unsubscribe/v1");
  }
  std::string Token(std::int64_t site, const std::string& email, std::optional<std::int64_t> campaign = {}) {
    return mail::SignUnsubscribeToken(key_, {site, email, campaign});
  }
  // A request as a mail provider or a browser sends it: no credentials unless given, any content type.
  web::Response Send(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::string& type = "", const Headers& headers = {}, const std::string& ip = "") {
    web::Request request;
    request.method = method;
    request.target = target;
    web::SplitTarget(target, request.path, request.query);
    for (const auto& [k, v] : headers) request.headers.Add(k, v);
    if (!type.empty()) request.headers.Set("Content-Type", type);
    request.body = body;
    request.remote_ip = ip.empty() ? "203.0.113." + std::to_string(++ip_ % 250 + 1) : ip;
    return RunTask(application().pipeline().Handle(request));
  }
  web::Response OneClick(const std::string& token) {
    return Send("POST", "/u/" + token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  }
  json Listed(const std::string& site, const std::string& query = "") {
    auto r = Call("GET", "/api/v1/sites/" + site + "/mail/suppressions" + query, callers_[kAdmin]);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["items"];
  }
  static bool Has(const web::Response& r, std::string_view part) { return r.body.find(part) != std::string::npos; }

  std::string key_;
  int ip_ = 0;
};

TEST_P(UnsubscribeApi, ThePageAsksAndTheOneClickPostUnsubscribes) {
  const auto token = Token(site_a_, "ada@example.com", 12);
  auto page = Send("GET", "/u/" + token);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(*page.headers.Get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(*page.headers.Get("Cache-Control"), "no-store");
  EXPECT_TRUE(page.headers.Get("Content-Security-Policy")->starts_with("default-src 'none'; style-src 'sha256-"));
  EXPECT_TRUE(Has(page, "<html lang=\"fr\">")) << "the site's language (alpha is fr)";
  EXPECT_TRUE(Has(page, "<form method=\"post\" action=\"/u/" + token + "\">"));
  EXPECT_TRUE(Has(page, "<button type=\"submit\""));
  EXPECT_TRUE(Has(page, "ada@example.com"));
  EXPECT_TRUE(Listed("alpha").empty()) << "opening the page must change nothing (link scanners open it)";

  auto done = OneClick(token);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_FALSE(done.headers.Has("Location"));
  EXPECT_TRUE(Has(done, "Désabonnement confirmé"));
  auto listed = Listed("alpha");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["email"], "ada@example.com");
  EXPECT_EQ(listed[0]["reason"], "unsubscribe");
  EXPECT_EQ(listed[0]["campaign_id"], 12);
  EXPECT_EQ(listed[0]["source"], "one_click");

  // Idempotent: again (a client retrying, the page's own form), the same single entry.
  auto again = Send("POST", "/u/" + token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded",
                    {{"Origin", "https://alpha.example.com"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(Has(again, "Déjà désabonné"));
  EXPECT_EQ(Listed("alpha").size(), 1u);
  EXPECT_TRUE(Has(Send("GET", "/u/" + token), "Déjà désabonné"));
  EXPECT_EQ(Send("HEAD", "/u/" + token).status, 200);

  // RFC 8058's own example body: multipart/form-data.
  const std::string multipart =
      "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
  auto form = Send("POST", "/u/" + Token(site_a_, "bob@example.com"), multipart, "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(Listed("alpha").size(), 2u);
  EXPECT_TRUE(Listed("alpha")[0]["campaign_id"].is_null());
}

TEST_P(UnsubscribeApi, NeedsNoCredentialsAndNoCsrfToken) {
  // A browser session cookie without the CSRF header would be refused on any /api route; here it is ignored,
  // as is a bad bearer token.
  auto with_cookie = Send("POST", "/u/" + Token(site_a_, "c1@example.com"), "List-Unsubscribe=One-Click",
                          "application/x-www-form-urlencoded",
                          {{"Cookie", "poste_access=garbage; poste_csrf=x"}, {"Origin", "https://alpha.example.com"}});
  EXPECT_EQ(with_cookie.status, 200) << with_cookie.body;
  auto with_bearer =
      Send("POST", "/u/" + Token(site_a_, "c2@example.com"), "", "", {{"Authorization", "Bearer not-a-token"}});
  EXPECT_EQ(with_bearer.status, 200) << with_bearer.body;
  auto listed = Listed("alpha");
  ASSERT_EQ(listed.size(), 2u);
  // A browser's form post (it sends Origin) is told apart from a mail client's one-click post.
  EXPECT_EQ(listed[0]["source"], "one_click");
  EXPECT_EQ(listed[1]["source"], "page");
}

TEST_P(UnsubscribeApi, InvalidTokensAre404AndChangeNothing) {
  const auto token = Token(site_a_, "ada@example.com", 1);
  std::string flipped = token;
  flipped[token.size() / 2] = flipped[token.size() / 2] == 'A' ? 'B' : 'A';
  std::string longest(2000, 'A');
  for (const std::string& bad :
       {flipped, token.substr(0, token.size() - 1), token.substr(0, 10), token + "A", token + "%0D%0ALocation:%20x",
        std::string("%0D%0A") + token, std::string("%C3%28") + token, std::string("%27%20OR%201%3D1--"), longest,
        Token(site_a_, "ada@example.com").substr(0, 24) + token.substr(24),
        mail::SignUnsubscribeToken("a key that is not the server's!!", {site_a_, "ada@example.com", 1})}) {
    auto get = Send("GET", "/u/" + bad);
    EXPECT_EQ(get.status, 404) << bad;
    EXPECT_EQ(*get.headers.Get("Content-Type"), "text/html; charset=utf-8") << bad;
    EXPECT_TRUE(Has(get, "<h1>This link is not valid</h1>")) << bad;
    auto post = OneClick(bad);
    EXPECT_EQ(post.status, 404) << bad;
    EXPECT_EQ(*post.headers.Get("Content-Type"), "application/problem+json") << bad;
    EXPECT_FALSE(post.headers.Has("Location"));
  }
  EXPECT_EQ(Send("GET", "/u/%ZZ").status, 400);  // a malformed escape never reaches the route
  EXPECT_TRUE(Listed("alpha").empty());
  // The invalid page speaks the visitor's language when it can.
  EXPECT_TRUE(Has(Send("GET", "/u/x", "", "", {{"Accept-Language", "de-CH, fr;q=0.5"}}), "lang=\"de\""));
  // An oversized body is refused before anything else.
  EXPECT_EQ(Send("POST", "/u/" + token, std::string(5000, 'x'), "application/x-www-form-urlencoded").status, 413);
}

TEST_P(UnsubscribeApi, ATokenActsOnItsOwnSiteOnly) {
  auto r = OneClick(Token(site_b_, "shared@example.com", 4));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r, "lang=\"fr\""));
  EXPECT_TRUE(Listed("alpha").empty());
  ASSERT_EQ(Listed("beta").size(), 1u);
  EXPECT_EQ(Listed("beta")[0]["email"], "shared@example.com");
  // A token names its site inside the signature: a site id altered in the bytes breaks it.
  auto bytes = *crypto::Base64UrlDecode(Token(site_a_, "shared@example.com"));
  bytes[8] = static_cast<char>(site_b_);
  EXPECT_EQ(OneClick(crypto::Base64UrlEncode(bytes)).status, 404);
  // A site deleted since the message was sent.
  auto victim = AddSite("gone");
  const auto token = Token(victim, "late@example.com");
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/" + std::to_string(victim), callers_[kAdmin]).status, 204);
  EXPECT_EQ(OneClick(token).status, 404);
  EXPECT_EQ(Send("GET", "/u/" + token).status, 404);
}

TEST_P(UnsubscribeApi, AnAddressMaySend120RequestsAMinute) {
  const auto token = Token(site_a_, "busy@example.com");
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 120; ++i) {
    auto r = Send(i % 2 ? "GET" : "POST", "/u/" + token, "", "", {}, "198.51.100.9");
    ASSERT_EQ(r.status, 200) << i;
  }
  // The bucket refills at 2 a second while the requests run (seconds on a loaded machine): the next ones
  // are refused once those refills are spent, and no later.
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int refilled = static_cast<int>(seconds * 2) + 1;
  web::Response limited;
  int extra = 0;
  do {
    limited = Send("POST", "/u/" + token, "", "", {}, "198.51.100.9");
  } while (limited.status == 200 && ++extra <= refilled);
  EXPECT_EQ(limited.status, 429) << "after " << extra << " more (" << refilled << " refilled)";
  EXPECT_TRUE(limited.headers.Has("Retry-After"));
  EXPECT_EQ(Send("POST", "/u/" + token, "", "", {}, "198.51.100.10").status, 200);
}

POSTE_INSTANTIATE_DB_TEST(UnsubscribeApi);

}  // namespace
}  // namespace poste::testing
