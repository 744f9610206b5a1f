// SEO and the dashboard through the HTTP API (the whole App in-process, SQLite and PostgreSQL): shapes, warnings,
// field errors, page keys in URLs, defaults, the audit trail, hostile bodies, and the dashboard's counts.
// Permissions per caller are in permissions_public_api_test.cpp.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <string>

#include "modules/contacts/contacts_store.hpp"
#include "modules/media/media_store.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using nlohmann::json;

class SeoApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(As(kAdmin, "POST", "/api/v1/sites/alpha/collections", R"({"preset":"formations"})").status, 201);
    auto r = As(kAdmin, "POST", "/api/v1/sites/alpha/collections/formations/entries",
                R"({"status":"published","data":{"title":"Premiers secours","status":"active"}})");
    ASSERT_EQ(r.status, 201) << r.body;
    entry_ = json::parse(r.body)["id"].get<std::int64_t>();
  }
  web::Response As(Caller c, const std::string& method, const std::string& target, const std::string& body = {},
                   Headers extra = {}) {
    Headers h = callers_[c];
    h.insert(h.end(), extra.begin(), extra.end());
    return Call(method, target, h, body);
  }
  static json Body(const web::Response& r) { return json::parse(r.body, nullptr, false); }
  static std::vector<std::string> ErrorFields(const web::Response& r) {
    std::vector<std::string> out;
    auto j = Body(r);
    if (j.contains("errors")) {
      for (const auto& e : j["errors"]) out.push_back(e["field"]);
    }
    return out;
  }
  std::int64_t entry_ = 0;
  static constexpr const char* kSeo = "/api/v1/sites/alpha/seo";
};

TEST_P(SeoApi, PagesWithWarningsAndFallbacks) {
  const std::string key = std::string(kSeo) + "/entry:formations%2F" + std::to_string(entry_);
  auto r = As(kEditorA, "GET", key);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Body(r);
  EXPECT_EQ(j["page"], "entry:formations/" + std::to_string(entry_));
  EXPECT_EQ(j["exists"], false);
  EXPECT_EQ(j["title"], "");
  EXPECT_EQ(j["resolved"]["title"], "Premiers secours");

  const std::string long_title(75, 'T');
  r = As(kEditorA, "PUT", key,
         json{{"title", long_title},
              {"description", "Un cours d'une journée."},
              {"keywords", {"secours", "cours"}},
              {"robots", "noindex, follow"},
              {"open_graph", {{"image", "https://cdn.example.com/cours.jpg"}}},
              {"twitter", {{"card", "summary_large_image"}}},
              {"json_ld", {{"@context", "https://schema.org"}, {"@type", "Course"}}}}
             .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  j = Body(r);
  EXPECT_EQ(j["exists"], true);
  EXPECT_EQ(j["title"], long_title) << "saved anyway";
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["warnings"][0]["field"], "title");
  EXPECT_EQ(j["warnings"][0]["code"], "too_long");
  EXPECT_EQ(j["resolved"]["robots"], "noindex, follow");
  EXPECT_EQ(j["resolved"]["twitter"]["image"], "https://cdn.example.com/cours.jpg");
  EXPECT_EQ(j["json_ld"]["@type"], "Course");
  EXPECT_GT(j["updated_at"].get<std::int64_t>(), 0);

  // Listed with the static pages and the collection.
  auto list = Body(As(kEditorA, "GET", kSeo))["items"];
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0]["page"], "home");
  EXPECT_EQ(list[3]["page"], "collection:formations");
  EXPECT_EQ(list[4]["page"], "entry:formations/" + std::to_string(entry_));
  EXPECT_EQ(list[4]["warnings"].size(), 1u);

  // Recorded in the audit log with the site.
  auto audit = Body(As(kAdmin, "GET", "/api/v1/audit?action=seo.*"));
  ASSERT_FALSE(audit["items"].empty());
  EXPECT_EQ(audit["items"][0]["action"], "seo.page.create");
  EXPECT_EQ(audit["items"][0]["site_id"], site_a_);

  EXPECT_EQ(As(kEditorA, "DELETE", key).status, 204);
  EXPECT_EQ(Body(As(kEditorA, "GET", key))["exists"], false);
  EXPECT_EQ(As(kEditorA, "DELETE", key).status, 404);
}

TEST_P(SeoApi, RefusesBadInput) {
  const std::string home = std::string(kSeo) + "/home";
  auto r = As(kEditorA, "PUT", home,
              json{{"title", std::string(301, 'x')},
                   {"canonical_url", "javascript:alert(1)"},
                   {"keywords", "a,b"},
                   {"open_graph", {{"type", "nope"}}},
                   {"twitter", {{"card", "player"}}},
                   {"robots", "index, noindex"},
                   {"json_ld", "<script>alert(1)</script>"}}
                  .dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorFields(r), (std::vector<std::string>{"title", "keywords", "canonical_url", "robots", "open_graph.type",
                                                      "twitter.card", "json_ld"}));
  EXPECT_FALSE(Body(As(kEditorA, "GET", home))["exists"]) << "nothing saved";
  EXPECT_EQ(As(kEditorA, "PUT", home, "{\"title\":").status, 400);
  EXPECT_EQ(As(kEditorA, "PUT", home, "[1]").status, 400);
  EXPECT_EQ(As(kEditorA, "PUT", home, "{\"title\":\"\xff\"}").status, 400);
  EXPECT_EQ(As(kEditorA, "PUT", home, R"({"title":"a\r\nb"})").status, 422);
  EXPECT_EQ(As(kEditorA, "PUT", home, R"({"title":"x"})", {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(As(kEditorA, "PUT", std::string(kSeo) + "/homepage", R"({"title":"x"})").status, 400);
  EXPECT_EQ(As(kEditorA, "PUT", std::string(kSeo) + "/entry:formations%2F999999", R"({"title":"x"})").status, 404);
  EXPECT_EQ(As(kEditorA, "PUT", std::string(kSeo) + "/collection:nope", R"({"title":"x"})").status, 404);
  EXPECT_EQ(As(kEditorA, "GET", std::string(kSeo) + "/entry:formations/1").status, 404) << "an unencoded '/'";
  EXPECT_EQ(As(kEditorA, "GET", std::string(kSeo) + "/%3Cscript%3E").status, 400);
  // HTML is data here: stored as given, returned as JSON.
  r = As(kEditorA, "PUT", home, R"({"title":"<b>Accueil</b> & co"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["title"], "<b>Accueil</b> & co");
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/json");
}

TEST_P(SeoApi, Defaults) {
  auto r = As(kEditorA, "GET", "/api/v1/sites/alpha/seo-defaults");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["title_template"], "");
  r = As(kEditorA, "PUT", "/api/v1/sites/alpha/seo-defaults",
         json{{"title_template", "%s | Alpha"}, {"description", std::string(161, 'd')}, {"twitter_handle", "alpha"}}
             .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["twitter_handle"], "@alpha");
  EXPECT_EQ(Body(r)["warnings"][0]["field"], "description");
  auto resolved = Body(As(kEditorA, "GET", std::string(kSeo) + "/collection:formations"))["resolved"];
  EXPECT_EQ(resolved["title"], "Formations | Alpha");
  EXPECT_EQ(resolved["twitter"]["site"], "@alpha");
  r = As(kEditorA, "PUT", "/api/v1/sites/alpha/seo-defaults", R"({"title_template":"no placeholder"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorFields(r), std::vector<std::string>{"title_template"});
  EXPECT_EQ(Body(As(kEditorB, "GET", "/api/v1/sites/beta/seo-defaults"))["title_template"], "");
}

TEST_P(SeoApi, DashboardCounts) {
  auto r = As(kEditorA, "POST", "/api/v1/sites/alpha/collections/formations/entries",
              R"({"data":{"title":"Brouillon","status":"active"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = As(kEditorA, "POST", "/api/v1/sites/alpha/collections", R"({"preset":"pages"})");
  ASSERT_EQ(r.status, 201) << r.body;
  db().Write([&](soci::session& s) {
    for (int i = 0; i < 3; ++i) {
      contacts::Contact c;
      c.site_id = site_a_;
      c.name = "N";
      c.email = "n@example.com";
      c.message = "Hello";
      contacts::store::Insert(s, c, 1);
    }
    media::MediaItem m;
    m.site_id = site_a_;
    m.sha256 = std::string(64, 'a');
    m.ext = "png";
    m.content_type = "image/png";
    m.family = "image";
    m.size_bytes = 12345;
    m.filename = "a.png";
    m.created_at = m.updated_at = 1;
    media::store::Insert(s, m);
  });
  r = As(kEditorA, "GET", "/api/v1/sites/alpha/dashboard");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Body(r);
  ASSERT_EQ(j["collections"].size(), 2u);
  EXPECT_EQ(j["collections"][0]["slug"], "formations");
  EXPECT_EQ(j["collections"][0]["entries"], (json{{"draft", 1}, {"published", 1}, {"archived", 0}, {"total", 2}}));
  EXPECT_EQ(j["collections"][1]["entries"]["total"], 0);
  EXPECT_EQ(j["entries"]["total"], 2);
  EXPECT_EQ(j["contacts"]["unread"], 3);
  EXPECT_EQ(j["media"], (json{{"count", 1}, {"bytes", 12345}}));
  ASSERT_FALSE(j["recent_activity"].empty());
  EXPECT_LE(j["recent_activity"].size(), 10u);
  for (const auto& a : j["recent_activity"]) EXPECT_EQ(a["site_id"], site_a_);
  // Beta's dashboard counts nothing of alpha's.
  auto beta = Body(As(kEditorB, "GET", "/api/v1/sites/beta/dashboard"));
  EXPECT_EQ(beta["collections"].size(), 0u);
  EXPECT_EQ(beta["contacts"]["unread"], 0);
  EXPECT_EQ(beta["media"]["count"], 0);
}

POSTE_INSTANTIATE_DB_TEST(SeoApi);

}  // namespace
}  // namespace poste::testing
