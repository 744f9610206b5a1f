// The contact form and the inbox through the whole app (issue 4), on SQLite and PostgreSQL: JSON and HTML
// form bodies, spam answered like real messages, limits, the per-IP rate limit, filters, CSV export, and the
// notification job and webhook event queued with each message.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <string>

#include "modules/contacts/contacts_service.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

class ContactsApi : public PermissionTable {
 protected:
  // A raw request: any content type, any client address.
  web::Response Raw(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& type, const std::string& ip, const Headers& headers = {}) {
    web::Request request;
    request.method = method;
    request.target = target;
    web::SplitTarget(target, request.path, request.query);
    for (const auto& [k, v] : headers) request.headers.Add(k, v);
    if (!type.empty()) request.headers.Set("Content-Type", type);
    request.body = body;
    request.remote_ip = ip;
    return RunTask(application().pipeline().Handle(request));
  }
  web::Response Submit(const std::string& body, const std::string& type = "application/json",
                       const std::string& site = "alpha") {
    return Raw("POST", "/api/v1/public/sites/" + site + "/contact", body, type,
               "203.0.113." + std::to_string(++ip_ % 250 + 1), {{"User-Agent", "TestBrowser/1.0"}});
  }
  nlohmann::json Inbox(const std::string& query = "") {
    auto r = Call("GET", "/api/v1/sites/alpha/contacts" + query, callers_[kAdmin]);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? nlohmann::json::parse(r.body) : nlohmann::json{{"items", nlohmann::json::array()}};
  }
  std::int64_t Jobs(std::string_view kind) {
    return db().ReadValue([&](soci::session& s) {
      long long n = 0;
      const std::string k(kind);
      s << "SELECT COUNT(*) FROM jobs WHERE kind = :k", soci::use(k), soci::into(n);
      return static_cast<std::int64_t>(n);
    });
  }
  int ip_ = 0;
};

TEST_P(ContactsApi, AcceptsJsonAndHtmlFormsAndStoresWhatWasSent) {
  auto r = Submit(R"({"name":"Ada","email":"ada@example.com","subject":"Course","message":"Hi\nthere",)"
                  R"("page":"/formations","consent":true})");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"status":"received"})");
  r = Submit("name=Zo%C3%AB+B&email=zoe%40example.com&message=Bonjour+%3Cb%3E&consent=on&website=",
             "application/x-www-form-urlencoded; charset=UTF-8");
  EXPECT_EQ(r.status, 202) << r.body;
  auto inbox = Inbox();
  ASSERT_EQ(inbox["items"].size(), 2u);
  auto zoe = inbox["items"][0], ada = inbox["items"][1];
  EXPECT_EQ(zoe["name"], "Zoë B");
  EXPECT_EQ(zoe["message"], "Bonjour <b>");
  EXPECT_EQ(zoe["consent"], true);
  EXPECT_EQ(ada["message"], "Hi\nthere");
  EXPECT_EQ(ada["page"], "/formations");
  EXPECT_EQ(ada["user_agent"], "TestBrowser/1.0");
  EXPECT_EQ(ada["ip_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(ada["read"], false);
  EXPECT_EQ(ada["notify_status"], "pending");
  EXPECT_EQ(Jobs(contacts::kNotifyJobKind), 2);
  EXPECT_EQ(Jobs(webhooks::kEventJobKind), 2);
  // By id as well as by slug.
  EXPECT_EQ(Submit(R"({"name":"N","email":"n@example.com","message":"m"})", "application/json", std::to_string(site_a_))
                .status,
            202);
}

TEST_P(ContactsApi, SpamGetsTheSameAnswerAndIsNotStored) {
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto honeypot = Submit(R"({"name":"Bot","email":"bot@example.com","message":"buy","website":"http://x"})");
  auto quick = Submit(
      nlohmann::json{{"name", "Bot"}, {"email", "bot@example.com"}, {"message", "buy"}, {"started_at", now - 500}}
          .dump());
  auto form_bot =
      Submit("name=Bot&email=bot%40example.com&message=buy&website=spam", "application/x-www-form-urlencoded");
  for (const auto& r : {honeypot, quick, form_bot}) {
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body, R"({"status":"received"})");
  }
  EXPECT_TRUE(Inbox("?status=all")["items"].empty());
  EXPECT_EQ(Jobs(contacts::kNotifyJobKind), 0);
  auto patient = Submit(
      nlohmann::json{{"name", "Person"}, {"email", "p@example.com"}, {"message", "hello"}, {"started_at", now - 10'000}}
          .dump());
  EXPECT_EQ(patient.status, 202);
  EXPECT_EQ(Inbox()["items"].size(), 1u);
}

TEST_P(ContactsApi, RefusesBadInputWithProblems) {
  auto r = Submit(R"({"name":"","email":"nope","message":""})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(*r.headers.Get("Content-Type"), "application/problem+json");
  for (const char* field : {"\"name\"", "\"email\"", "\"message\""}) EXPECT_NE(r.body.find(field), std::string::npos);
  r = Submit(R"({"name":"A\r\nBcc: x@y.z","email":"a@example.com","message":"m"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Submit("name=%ZZ", "application/x-www-form-urlencoded").status, 400);
  EXPECT_EQ(Submit("name=%C3%28&email=a%40b.co&message=m", "application/x-www-form-urlencoded").status, 400);
  EXPECT_EQ(Submit("email=a%40b.co&email=c%40d.co", "application/x-www-form-urlencoded").status, 400);
  EXPECT_EQ(Submit("{\"name\":\"\xC3\x28\"}").status, 400);
  EXPECT_EQ(Submit("[1,2]").status, 400);
  EXPECT_EQ(Submit("name=a", "text/plain").status, 415);
  EXPECT_EQ(Submit(R"({"name":"A","email":"a@example.com","message":")" + std::string(70 * 1024, 'x') + "\"}").status,
            413);
  EXPECT_EQ(Submit(R"({"name":"A","email":"a@example.com","message":")" + std::string(10001, 'x') + "\"}").status, 422);
  EXPECT_EQ(Submit(R"({"name":"A","email":"a@example.com","message":"m"})", "application/json", "nosuch").status, 404);
  // SQL in the fields is stored as text.
  EXPECT_EQ(Submit(R"({"name":"Robert'); DROP TABLE contacts;--","email":"a@example.com","message":"m"})").status, 202);
  EXPECT_EQ(Inbox()["items"][0]["name"], "Robert'); DROP TABLE contacts;--");
}

TEST_P(ContactsApi, OneAddressMayPostFiveMessagesAMinute) {
  const std::string body = R"({"name":"A","email":"a@example.com","message":"m"})";
  for (int i = 0; i < 5; ++i) {
    auto r = Raw("POST", "/api/v1/public/sites/alpha/contact", body, "application/json", "198.51.100.77");
    EXPECT_EQ(r.status, 202) << i << r.body;
  }
  auto limited = Raw("POST", "/api/v1/public/sites/alpha/contact", body, "application/json", "198.51.100.77");
  EXPECT_EQ(limited.status, 429);
  EXPECT_TRUE(limited.headers.Has("Retry-After"));
  EXPECT_EQ(Raw("POST", "/api/v1/public/sites/alpha/contact", body, "application/json", "198.51.100.78").status, 202);
}

TEST_P(ContactsApi, TheInboxFiltersPagesExportsAndAudits) {
  for (int i = 0; i < 4; ++i) {
    Submit(nlohmann::json{{"name", "Person " + std::to_string(i)},
                          {"email", "p" + std::to_string(i) + "@example.com"},
                          {"message", i == 2 ? "=1+2 needs a quote" : "hello"}}
               .dump());
  }
  auto all = Inbox()["items"];
  ASSERT_EQ(all.size(), 4u);
  const auto id = [&](int i) { return std::to_string(all[3 - i]["id"].get<std::int64_t>()); };
  auto r = Call("PATCH", "/api/v1/sites/alpha/contacts/" + id(0), callers_[kEditorA], R"({"read":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["read"], true);
  r = Call("PATCH", "/api/v1/sites/alpha/contacts/" + id(1), callers_[kEditorA], R"({"archived":true})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Inbox("?status=unread")["items"].size(), 2u);
  EXPECT_EQ(Inbox("?status=read")["items"].size(), 1u);
  EXPECT_EQ(Inbox("?status=archived")["items"].size(), 1u);
  EXPECT_EQ(Inbox()["items"].size(), 3u);
  EXPECT_EQ(Inbox("?q=person%202")["items"].size(), 1u);
  EXPECT_EQ(Inbox("?from=0&to=1")["items"].size(), 0u);
  auto page = Inbox("?status=all&limit=3");
  ASSERT_EQ(page["items"].size(), 3u);
  ASSERT_TRUE(page["next_cursor"].is_string());
  auto rest = Inbox("?status=all&limit=3&cursor=" + page["next_cursor"].get<std::string>());
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_TRUE(rest["next_cursor"].is_null());
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha/contacts?limit=0", callers_[kAdmin]).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha/contacts?q=%0A", callers_[kAdmin]).status, 400);

  auto csv = Call("GET", "/api/v1/sites/alpha/contacts.csv?status=all", callers_[kAdmin]);
  EXPECT_EQ(csv.status, 200);
  EXPECT_TRUE(csv.headers.Get("Content-Type")->starts_with("text/csv"));
  EXPECT_TRUE(csv.headers.Get("Content-Disposition")->starts_with("attachment;"));
  EXPECT_TRUE(
      csv.body.starts_with("\xEF\xBB\xBFid,created_at,name,email,subject,message,page,consent,read,archived\r\n"));
  EXPECT_NE(csv.body.find(",'=1+2 needs a quote,"), std::string::npos) << csv.body;
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 5);
  auto unread_csv = Call("GET", "/api/v1/sites/alpha/contacts.csv?status=unread", callers_[kAdmin]);
  EXPECT_EQ(std::count(unread_csv.body.begin(), unread_csv.body.end(), '\n'), 3);

  EXPECT_EQ(Call("DELETE", "/api/v1/sites/alpha/contacts/" + id(3), callers_[kEditorA]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha/contacts/" + id(3), callers_[kEditorA]).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/alpha/contacts/" + id(3), callers_[kEditorA]).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha/contacts/abc", callers_[kEditorA]).status, 404);
  auto audit = Call("GET", "/api/v1/audit?action=contact.*", callers_[kAdmin]);
  auto entries = nlohmann::json::parse(audit.body)["items"];
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["action"], "contact.delete");
  EXPECT_EQ(entries[0]["actor_user_id"], editor_a_);
  EXPECT_EQ(entries[2]["changes"]["read"]["to"], true);
}

POSTE_INSTANTIATE_DB_TEST(ContactsApi);

// Cross-origin posts: allowed from the site's own domains (https and http) and the configured extra origins,
// errors included; refused (no Access-Control-Allow-Origin) from anywhere else, another site's domain too.
class ContactsCorsApi : public ContactsApi {
 protected:
  void Configure(app::Config& config) override { config.server.cors_origins = {"https://app.example.net"}; }
  web::Response From(const std::string& origin, const std::string& body) {
    return Raw("POST", "/api/v1/public/sites/alpha/contact", body, "application/json",
               "198.51.100." + std::to_string(++ip_ % 250 + 1), {{"Origin", origin}});
  }
  web::Response Preflight(const std::string& origin, const std::string& method = "POST",
                          const std::string& headers = "content-type", const std::string& site = "alpha") {
    return Raw(
        "OPTIONS", "/api/v1/public/sites/" + site + "/contact", "", "", "198.51.100.1",
        {{"Origin", origin}, {"Access-Control-Request-Method", method}, {"Access-Control-Request-Headers", headers}});
  }
  static std::string AllowOrigin(const web::Response& r) {
    return std::string(r.headers.Get("Access-Control-Allow-Origin").value_or(""));
  }
};

TEST_P(ContactsCorsApi, PostsFromTheSitesDomainsAndConfiguredOrigins) {
  const std::string message = R"({"name":"Ada","email":"ada@example.com","message":"Hello"})";
  for (const std::string origin :
       {"https://alpha.example.com", "http://alpha.example.com", "https://app.example.net"}) {
    auto r = From(origin, message);
    EXPECT_EQ(r.status, 202) << origin << ": " << r.body;
    EXPECT_EQ(AllowOrigin(r), origin);
    EXPECT_NE(r.headers.Get("Vary").value_or("").find("Origin"), std::string_view::npos) << origin;
  }
  // A refused origin: the message is still taken (CORS binds browsers, not servers), but its page cannot read
  // the answer.
  for (const std::string origin :
       {"https://beta.example.com", "https://evil.example", "null", "https://alpha.example.com.evil.example",
        "https://alpha.example.com:8443", "HTTPS://ALPHA.EXAMPLE.COM"}) {
    auto r = From(origin, message);
    EXPECT_EQ(r.status, 202) << origin;
    EXPECT_EQ(AllowOrigin(r), "") << origin;
  }
  EXPECT_EQ(Inbox()["items"].size(), 9u);
  // Errors carry the header too, so that the form's script can show them.
  auto bad = From("https://alpha.example.com", R"({"name":"Ada","email":"not-an-address","message":"x"})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(AllowOrigin(bad), "https://alpha.example.com");
  EXPECT_EQ(AllowOrigin(From("https://evil.example", "{\"name\":")), "");
  // No such site: nothing to allow.
  auto missing = Raw("POST", "/api/v1/public/sites/nope/contact", message, "application/json", "198.51.100.9",
                     {{"Origin", "https://alpha.example.com"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(AllowOrigin(missing), "");
}

TEST_P(ContactsCorsApi, PreflightAllowsPostFromTheSitesOriginsOnly) {
  auto ok = Preflight("https://alpha.example.com", "POST", "Content-Type, X-Request-Id");
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(AllowOrigin(ok), "https://alpha.example.com");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Methods").value_or(""), "POST, OPTIONS");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Headers").value_or(""), "content-type, x-request-id");
  EXPECT_EQ(ok.headers.Get("Access-Control-Max-Age").value_or(""), "600");
  EXPECT_EQ(ok.headers.Get("Allow").value_or(""), "POST, OPTIONS");
  EXPECT_EQ(AllowOrigin(Preflight("https://app.example.net")), "https://app.example.net");
  // Refused: another origin, another method, a header the form does not need.
  for (const auto& r : {Preflight("https://evil.example"), Preflight("https://beta.example.com"),
                        Preflight("https://alpha.example.com", "DELETE"),
                        Preflight("https://alpha.example.com", "POST", "content-type, authorization"),
                        Preflight("https://alpha.example.com", "POST", "x-evil\r\nset-cookie: a=b")}) {
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(AllowOrigin(r), "");
    EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Methods"));
  }
  EXPECT_EQ(Preflight("https://alpha.example.com", "POST", "content-type", "nope").status, 404);
  EXPECT_EQ(Preflight("https://alpha.example.com", "POST", "content-type", "%00").status, 404);
  EXPECT_EQ(Inbox()["items"].size(), 0u) << "a preflight stores nothing";
}

POSTE_INSTANTIATE_DB_TEST(ContactsCorsApi);

}  // namespace
}  // namespace poste::testing
