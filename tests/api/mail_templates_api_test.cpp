// Mail templates, signatures and suppression lists through the whole app (issue 5), on SQLite and PostgreSQL:
// the JSON shapes, syntax errors with their position, preview, each user's own signature, the suppression
// list's normal forms and filters, audit entries, and hostile input (CR/LF, invalid UTF-8, oversized bodies).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "lib/mail/template.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using json = nlohmann::json;

class MailTemplatesApi : public PermissionTable {
 protected:
  web::Response As(Caller c, const std::string& method, const std::string& target, const std::string& body = "") {
    return Call(method, target, callers_[c], body);
  }
  // A raw body with any content type.
  web::Response Raw(Caller c, const std::string& method, const std::string& target, const std::string& body,
                    const std::string& type) {
    auto headers = callers_[c];
    headers.emplace_back("Content-Type", type);
    return Call(method, target, headers, body);
  }
  static json Body(const web::Response& r) { return json::parse(r.body, nullptr, false); }
  static std::string Errors(const web::Response& r) {
    std::string out;
    const auto body = Body(r);
    for (const auto& e : body["errors"])
      out += e["field"].get<std::string>() + ":" + e["code"].get<std::string>() + " ";
    return out;
  }
  json Audit(const std::string& action) {
    auto r = As(kAdmin, "GET", "/api/v1/audit?action=" + action);
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r)["items"];
  }
  const std::string t_ = "/api/v1/sites/alpha/mail/templates";
};

TEST_P(MailTemplatesApi, TemplatesAreCreatedListedPreviewedChangedAndDeleted) {
  const json welcome = {{"name", "Welcome"},
                        {"description", "After sign-up"},
                        {"subject", "Welcome {{first_name}}"},
                        {"html", "<h1>Hi {{first_name}}</h1>{{#courses}}<p>{{title}}</p>{{/courses}}{{{signature}}}"}};
  auto r = As(kEditorA, "POST", t_, welcome.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto created = Body(r);
  const auto id = std::to_string(created["id"].get<std::int64_t>());
  EXPECT_EQ(created["name"], "Welcome");
  EXPECT_EQ(created["text"], "");
  EXPECT_EQ(created["variables"], (json{"first_name", "courses", "title", "signature"}));
  EXPECT_EQ(created["required_variables"], (json{"first_name", "signature"}));
  EXPECT_EQ(created["created_by"], editor_a_);

  r = As(kAdmin, "GET", t_ + "/" + id);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["html"], welcome["html"]);
  r = As(kKeyA, "GET", t_ + "?q=WELC");
  EXPECT_EQ(Body(r)["items"].size(), 1u);
  EXPECT_TRUE(Body(r)["next_cursor"].is_null());
  EXPECT_EQ(Body(As(kAdmin, "GET", "/api/v1/sites/beta/mail/templates"))["items"].size(), 0u);

  r = As(kEditorA, "POST", t_ + "/" + id + "/preview",
         R"({"variables":{"first_name":"<Zoë>","courses":[{"title":"Yoga"},{"title":"Pilates"}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto preview = Body(r);
  EXPECT_EQ(preview["subject"], "Welcome <Zoë>");
  EXPECT_EQ(preview["html"], "<h1>Hi &lt;Zoë&gt;</h1><p>Yoga</p><p>Pilates</p>");
  EXPECT_EQ(preview["text_derived"], true);
  EXPECT_NE(preview["text"].get<std::string>().find("Yoga"), std::string::npos);
  EXPECT_EQ(preview["missing"], json{"signature"});
  EXPECT_EQ(Body(As(kEditorA, "POST", t_ + "/" + id + "/preview"))["missing"], (json{"first_name", "signature"}));
  EXPECT_EQ(As(kEditorA, "POST", t_ + "/" + id + "/preview", R"({"variables":[1]})").status, 422);

  r = As(kEditorA, "PATCH", t_ + "/" + id, R"({"text":"Hi {{first_name}} {{last_name}}","name":"Hello"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["name"], "Hello");
  EXPECT_EQ(Body(r)["variables"].back(), "last_name");
  EXPECT_EQ(Body(r)["subject"], welcome["subject"]);
  EXPECT_EQ(As(kEditorA, "POST", t_, json{{"name", "Hello"}, {"subject", "s"}, {"html", "h"}}.dump()).status, 409);

  EXPECT_EQ(As(kEditorA, "DELETE", t_ + "/" + id).status, 204);
  EXPECT_EQ(As(kEditorA, "GET", t_ + "/" + id).status, 404);
  EXPECT_EQ(As(kEditorA, "GET", t_ + "/abc").status, 404);
  auto entries = Audit("mail_template.*");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["action"], "mail_template.delete");
  EXPECT_EQ(entries[1]["changes"]["name"]["to"], "Hello");
  EXPECT_EQ(entries[2]["actor_user_id"], editor_a_);
}

TEST_P(MailTemplatesApi, BrokenTemplatesAreRefusedWithTheirPosition) {
  auto r =
      As(kEditorA, "POST", t_,
         json{{"name", "Broken"}, {"subject", "Hi {{name"}, {"html", "<p>\n  {{#list}}"}, {"text", "ok {{/other}}"}}
             .dump());
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(*r.headers.Get("Content-Type"), "application/problem+json");
  EXPECT_EQ(Errors(r), "subject:template_syntax html:template_syntax text:template_syntax ");
  auto errors = Body(r)["errors"];
  EXPECT_EQ(errors[0]["message"], "line 1, column 4: Unclosed tag.");
  EXPECT_EQ(errors[1]["message"], "line 2, column 3: Unclosed section \"list\".");
  EXPECT_TRUE(errors[2]["message"].get<std::string>().starts_with("line 1, column 4: ")) << errors[2];
  EXPECT_EQ(Body(As(kEditorA, "GET", t_))["items"].size(), 0u);
}

TEST_P(MailTemplatesApi, HostileTemplateInputIsRefused) {
  const auto post = [&](const json& body) { return As(kEditorA, "POST", t_, body.dump()); };
  const json base = {{"name", "T"}, {"subject", "S"}, {"html", "<p>h</p>"}};
  auto with = [&](const char* field, const json& value) {
    auto b = base;
    b[field] = value;
    return b;
  };
  auto r = post(with("subject", "Hi\r\nBcc: victim@example.com"));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Errors(r), "subject:header_injection ");
  EXPECT_EQ(Errors(post(with("name", "a\nb"))), "name:invalid_characters ");
  EXPECT_EQ(Errors(post(with("html", std::string("a\0b", 3)))), "html:invalid_characters ");
  EXPECT_EQ(Errors(post(with("subject", 42))), "subject:invalid_type ");
  EXPECT_EQ(Errors(post(json{{"name", "T"}})), "subject:required html:required ");
  EXPECT_EQ(Errors(post(with("html", std::string(mail::kMaxTemplateBytes + 1, 'x')))), "html:too_long ");
  // Invalid UTF-8 (raw, or a lone surrogate escape) never reaches the service: the JSON is refused.
  EXPECT_EQ(
      Raw(kEditorA, "POST", t_, "{\"name\":\"\xC3\x28\",\"subject\":\"s\",\"html\":\"h\"}", "application/json").status,
      400);
  EXPECT_EQ(Raw(kEditorA, "POST", t_, R"({"name":"\udc00","subject":"s","html":"h"})", "application/json").status, 400);
  EXPECT_EQ(Raw(kEditorA, "POST", t_, "[1]", "application/json").status, 400);
  EXPECT_EQ(Raw(kEditorA, "POST", t_, "name=x", "application/x-www-form-urlencoded").status, 415);
  // Beyond three full parts the body itself is refused.
  auto huge = with("html", std::string(3 * mail::kMaxTemplateBytes + 64 * 1024, 'x'));
  EXPECT_EQ(post(huge).status, 413);
  // SQL and markup are data.
  r = post(with("name", "x'); DROP TABLE mail_templates; --"));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(As(kEditorA, "GET", t_))["items"][0]["name"], "x'); DROP TABLE mail_templates; --");
  EXPECT_EQ(
      As(kEditorA, "PATCH", t_ + "/" + std::to_string(Body(r)["id"].get<std::int64_t>()), R"({"subject":"a\u2028b"})")
          .status,
      422);
}

TEST_P(MailTemplatesApi, EachUserHasTheirOwnSignaturePerSite) {
  const std::string s = "/api/v1/sites/alpha/mail/signature";
  auto r = As(kEditorA, "GET", s);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r),
            (json{{"set", false}, {"html", ""}, {"text", ""}, {"created_at", nullptr}, {"updated_at", nullptr}}));
  const json mine = {{"html", "<p>Ada <script>x</script></p>\r\n"}, {"text", "Ada\n-- \n"}};
  r = As(kEditorA, "PUT", s, mine.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["set"], true);
  EXPECT_EQ(Body(r)["html"], mine["html"]);  // as given: nothing sanitised
  EXPECT_EQ(As(kAdmin, "PUT", s, R"({"text":"The admin"})").status, 200);
  EXPECT_EQ(Body(As(kEditorA, "GET", s))["text"], "Ada\n-- \n");
  EXPECT_EQ(Body(As(kKeyA, "GET", s))["text"], "Ada\n-- \n");  // editor A's key: editor A's signature
  EXPECT_EQ(Body(As(kAdmin, "GET", s))["text"], "The admin");
  EXPECT_EQ(Body(As(kAdmin, "GET", s))["html"], "");
  EXPECT_EQ(Body(As(kAdmin, "GET", "/api/v1/sites/beta/mail/signature"))["set"], false);

  const std::string limit(64 * 1024, 'x');
  EXPECT_EQ(As(kEditorA, "PUT", s, json{{"html", limit}}.dump()).status, 200);
  r = As(kEditorA, "PUT", s, json{{"html", limit + "x"}}.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Errors(r), "html:too_long ");
  EXPECT_EQ(Errors(As(kEditorA, "PUT", s, R"({"text":"a\u0000b","html":"\u001b[0m"})")),
            "html:invalid_characters text:invalid_characters ");
  EXPECT_EQ(Raw(kEditorA, "PUT", s, "{\"text\":\"\xFF\"}", "application/json").status, 400);
  EXPECT_EQ(Errors(As(kEditorA, "PUT", s, R"({"text":["x"]})")), "text:invalid_type ");
  EXPECT_EQ(As(kEditorA, "PUT", s, json{{"html", std::string(300 * 1024, 'x')}}.dump()).status, 413);
  EXPECT_EQ(Body(As(kEditorA, "GET", s))["html"], limit);  // refused changes left it as it was

  EXPECT_EQ(As(kEditorA, "DELETE", s).status, 204);
  EXPECT_EQ(As(kEditorA, "DELETE", s).status, 204);
  EXPECT_EQ(Body(As(kEditorA, "GET", s))["set"], false);
  EXPECT_EQ(Body(As(kAdmin, "GET", s))["set"], true);
  EXPECT_EQ(Audit("mail_signature.*").size(), 4u);  // three puts and the one delete that removed something
}

TEST_P(MailTemplatesApi, SuppressionListNormalisesFiltersAndAudits) {
  const std::string l = "/api/v1/sites/alpha/mail/suppressions";
  auto r = As(kEditorA, "POST", l, R"({"email":" Zoé@BÜCHER.Example ","note":"asked by phone"})");
  EXPECT_EQ(r.status, 422) << "a non-ASCII local part is not an address the engine sends to: " << r.body;
  r = As(kEditorA, "POST", l, R"({"email":" Zoe@BÜCHER.Example ","reason":"manual","note":"asked by phone"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto entry = Body(r);
  EXPECT_EQ(entry["email"], "Zoe@xn--bcher-kva.example");
  EXPECT_EQ(entry["reason"], "manual");
  EXPECT_EQ(entry["source"], "api");
  EXPECT_EQ(entry["detail"], "asked by phone");
  EXPECT_EQ(entry["created_by"], editor_a_);
  EXPECT_TRUE(entry["campaign_id"].is_null());
  r = As(kEditorA, "POST", l, R"({"email":"Zoe@bücher.example"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["id"], entry["id"]);
  EXPECT_EQ(As(kEditorA, "POST", l, R"({"email":"b@example.com"})").status, 201);

  EXPECT_EQ(Errors(As(kEditorA, "POST", l, R"({"email":"c@example.com","reason":"unsubscribe"})")), "reason:invalid ");
  EXPECT_EQ(Errors(As(kEditorA, "POST", l, R"({"email":"c@example.com\r\nBcc: d@example.com"})")),
            "email:invalid_email ");
  EXPECT_EQ(Errors(As(kEditorA, "POST", l, R"({"note":"x"})")), "email:required ");
  EXPECT_EQ(Errors(As(kEditorA, "POST", l, json{{"email", "c@example.com"}, {"note", std::string(1001, 'n')}}.dump())),
            "note:too_long ");
  EXPECT_EQ(As(kEditorA, "POST", l, json{{"email", "c@example.com"}, {"note", std::string(20000, 'n')}}.dump()).status,
            413);

  EXPECT_EQ(Body(As(kEditorA, "GET", l))["items"].size(), 2u);
  EXPECT_EQ(Body(As(kEditorA, "GET", l + "?reason=manual&q=zoe%40B%C3%BCcher.example"))["items"].size(), 1u);
  EXPECT_EQ(Body(As(kEditorA, "GET", l + "?reason=hard_bounce"))["items"].size(), 0u);
  EXPECT_EQ(Body(As(kEditorA, "GET", l + "?q=%25"))["items"].size(), 0u);
  EXPECT_EQ(As(kEditorA, "GET", l + "?q=%0D%0A").status, 400);
  EXPECT_EQ(As(kEditorA, "GET", l + "?q=%C3%28").status, 400);
  auto page = Body(As(kEditorA, "GET", l + "?limit=1"));
  ASSERT_TRUE(page["next_cursor"].is_string());
  EXPECT_EQ(
      Body(As(kEditorA, "GET", l + "?limit=1&cursor=" + page["next_cursor"].get<std::string>()))["items"][0]["id"],
      entry["id"]);

  // By address (percent-encoded, any writing of the domain) or by id.
  EXPECT_EQ(Body(As(kEditorA, "GET", l + "/Zoe%40B%C3%9CCHER.example"))["id"], entry["id"]);
  EXPECT_EQ(As(kEditorA, "GET", l + "/zoe%40b%C3%BCcher.example").status, 404);  // another local part
  EXPECT_EQ(As(kEditorA, "GET", l + "/x%0D%0A").status, 404);
  EXPECT_EQ(
      As(kEditorB, "GET", "/api/v1/sites/beta/mail/suppressions/" + std::to_string(entry["id"].get<int>())).status,
      404);
  EXPECT_EQ(As(kEditorA, "DELETE", l + "/Zoe%40xn--bcher-kva.EXAMPLE").status, 204);
  EXPECT_EQ(As(kEditorA, "DELETE", l + "/Zoe%40xn--bcher-kva.EXAMPLE").status, 404);
  auto removed = Audit("mail_suppression.*");
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_EQ(removed[0]["action"], "mail_suppression.remove");
  EXPECT_EQ(removed[0]["changes"]["email"], "Zoe@xn--bcher-kva.example");
}

POSTE_INSTANTIATE_DB_TEST(MailTemplatesApi);

}  // namespace
}  // namespace poste::testing
