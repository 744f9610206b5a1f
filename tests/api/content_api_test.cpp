// Collections and entries through the HTTP API (the whole App in-process, SQLite and PostgreSQL): shapes,
// bad input, conflicts, concurrency headers, order, revisions, search and scheduling. Permissions per caller
// are in permissions_content_api_test.cpp.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <string>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

using nlohmann::json;

class ContentApi : public PermissionTable {
 protected:
  web::Response As(Caller c, const std::string& method, const std::string& target, const std::string& body = {},
                   Headers extra = {}) {
    Headers h = callers_[c];
    h.insert(h.end(), extra.begin(), extra.end());
    return Call(method, target, h, body);
  }
  json Body(const web::Response& r) { return json::parse(r.body, nullptr, false); }
  std::vector<std::string> ErrorFields(const web::Response& r) {
    std::vector<std::string> out;
    auto j = Body(r);
    if (j.contains("errors")) {
      for (const auto& e : j["errors"]) out.push_back(e["field"]);
    }
    return out;
  }
  json CreateEntry(const std::string& collection, const json& body, Caller c = kEditorA) {
    auto r = As(c, "POST", "/api/v1/sites/alpha/collections/" + collection + "/entries", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }
  static constexpr const char* kAlpha = "/api/v1/sites/alpha/collections";
};

TEST_P(ContentApi, CollectionsPresetsAndSchemas) {
  auto r = As(kEditorA, "POST", kAlpha, R"({"preset":"formations"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers.Get("Location").value_or(""),
            "/api/v1/sites/" + std::to_string(site_a_) + "/collections/formations");
  auto c = Body(r);
  EXPECT_EQ(c["preset"], "formations");
  EXPECT_EQ(c["fields"].size(), 12u);
  EXPECT_EQ(c["fields"][6], (json{{"name", "price"},
                                  {"type", "money"},
                                  {"label", "Prix"},
                                  {"required", false},
                                  {"unique", false},
                                  {"min", 0}}));
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, R"({"preset":"formations"})").status, 409);
  r = As(kEditorA, "POST", kAlpha, R"({"preset":"blog"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorFields(r), std::vector<std::string>{"preset"});
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, R"({"preset":5})").status, 422);
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, R"({"name":)").status, 400);
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, R"([1,2])").status, 400);
  r = As(kEditorA, "POST", kAlpha,
         R"({"name":"Team","fields":[{"name":"x","type":"colour"},{"name":"Y Z","type":"text"},"no"]})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorFields(r), (std::vector<std::string>{"fields[0].type", "fields[1].name", "fields[2]"}));
  r = As(
      kEditorA, "POST", kAlpha,
      R"({"name":"Team members","fields":[{"name":"name","type":"text","required":true},)"
      R"({"name":"role","type":"enum","options":["lead","member"]},{"name":"email","type":"email","unique":true}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["slug"], "team-members");
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, R"({"name":"Team members"})").status, 409);
  // Over-long and hostile names.
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, json{{"name", std::string(201, 'n')}}.dump()).status, 422);
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, json{{"name", "a\r\nSet-Cookie: x"}}.dump()).status, 422);
  EXPECT_EQ(As(kEditorA, "POST", kAlpha, "{\"name\":\"\xff\xfe\"}").status, 400);

  r = As(kEditorA, "GET", kAlpha);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["items"].size(), 2u);
  EXPECT_EQ(As(kEditorB, "GET", std::string(kAlpha) + "/formations").status, 404);
  EXPECT_EQ(As(kEditorB, "GET", "/api/v1/sites/beta/collections/formations").status, 404);

  // A schema change that existing entries do not fit: 422 naming entry and field, nothing changed.
  auto member = CreateEntry("team-members", {{"data", {{"name", "Ana"}, {"role", "lead"}}}});
  r = As(kEditorA, "PATCH", std::string(kAlpha) + "/team-members",
         R"({"fields":[{"name":"name","type":"text"},{"name":"role","type":"enum","options":["member"]}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(ErrorFields(r),
            std::vector<std::string>{"entries[" + std::to_string(member["id"].get<int>()) + "].data.role"});
  EXPECT_EQ(Body(As(kEditorA, "GET", std::string(kAlpha) + "/team-members"))["fields"].size(), 3u);
  r = As(kEditorA, "PATCH", std::string(kAlpha) + "/team-members",
         R"({"name":"Équipe","fields":[{"name":"name","type":"text"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["name"], "Équipe");
  auto got = Body(As(kEditorA, "GET", std::string(kAlpha) + "/team-members/entries/" + member["id"].dump()));
  EXPECT_EQ(got["data"], (json{{"name", "Ana"}}));
  EXPECT_EQ(As(kEditorA, "DELETE", std::string(kAlpha) + "/team-members").status, 204);
  EXPECT_EQ(As(kEditorA, "GET", std::string(kAlpha) + "/team-members").status, 404);
  EXPECT_EQ(As(kEditorA, "DELETE", std::string(kAlpha) + "/team-members").status, 404);
}

TEST_P(ContentApi, EntriesValidationConflictsAndHostileInput) {
  ASSERT_EQ(As(kAdmin, "POST", kAlpha, R"({"preset":"pages"})").status, 201);
  const std::string pages = std::string(kAlpha) + "/pages/entries";
  const std::string hostile = "</script><script>alert(\"x\")</script> ' OR 1=1; -- \\ é";
  auto r =
      As(kEditorA, "POST", pages,
         json{{"status", "published"}, {"data", {{"title", hostile}, {"slug", "home"}, {"body", "**Hi** <b>x</b>"}}}}
             .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_TRUE(r.headers.Get("ETag"));
  auto e = Body(r);
  EXPECT_EQ(e["data"]["title"], hostile);  // verbatim
  EXPECT_NE(r.body.find("\\\"x\\\""), std::string::npos) << "quotes are JSON-escaped: " << r.body;
  EXPECT_EQ(e["status"], "published");
  EXPECT_EQ(e["position"], 0);
  EXPECT_EQ(e["slug"], "home");
  EXPECT_TRUE(e["published_at"].is_number());
  EXPECT_EQ(e["html"]["body"], "<p><strong>Hi</strong> &lt;b&gt;x&lt;/b&gt;</p>\n");
  for (const char* key : {"id", "status", "position", "data", "created_at", "updated_at", "published_at"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }

  r = As(kEditorA, "POST", pages, json{{"data", {{"title", "Again"}, {"slug", "home"}}}}.dump());
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorFields(r), std::vector<std::string>{"data.slug"});
  r = As(
      kEditorA, "POST", pages,
      json{{"status", "live"}, {"data", {{"title", std::string(1001, 't')}, {"slug", "Not A Slug"}, {"x", 1}}}}.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorFields(r), std::vector<std::string>{"status"});
  r = As(kEditorA, "POST", pages, json{{"data", {{"title", std::string(1001, 't')}, {"slug", "ok"}, {"x", 1}}}}.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorFields(r), (std::vector<std::string>{"data.x", "data.title"}));
  EXPECT_EQ(As(kEditorA, "POST", pages, R"({"data":"text"})").status, 422);
  EXPECT_EQ(As(kEditorA, "POST", pages, R"({"status":"draft"})").status, 422);
  EXPECT_EQ(As(kEditorA, "POST", pages, R"({"data":{"title":"a\u0000b","slug":"nul"}})").status, 422);
  EXPECT_EQ(As(kEditorA, "POST", pages, R"({"data":{"title":"t","slug":"s"},"publish_at":"soon"})").status, 422);
  EXPECT_EQ(As(kEditorA, "POST", std::string(kAlpha) + "/nope/entries", R"({"data":{}})").status, 404);

  // Optimistic concurrency.
  const std::string url = pages + "/" + e["id"].dump();
  auto got = As(kEditorA, "GET", url);
  const std::string etag(got.headers.Get("ETag").value_or(""));
  ASSERT_FALSE(etag.empty());
  r = As(kEditorA, "PATCH", url, R"({"data":{"title":"v2"}})", {{"If-Match", etag}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers.Get("ETag").value_or(""), etag);
  r = As(kEditorB, "PATCH", url, R"({"data":{"title":"v3"}})");
  EXPECT_EQ(r.status, 404);
  r = As(kEditorA, "PATCH", url, R"({"data":{"title":"v3"}})", {{"If-Match", etag}});
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(As(kEditorA, "DELETE", url, "", {{"If-Match", etag}}).status, 412);
  EXPECT_EQ(Body(As(kEditorA, "GET", pages + "/home"))["data"]["title"], "v2");
  EXPECT_EQ(As(kEditorA, "PATCH", pages + "/home", R"({"data":{}})").status, 404) << "PATCH takes an id";
  EXPECT_EQ(As(kEditorA, "GET", pages + "/99999999999999999999").status, 404);
  EXPECT_EQ(As(kEditorA, "GET", pages + "/..%2F..%2Fetc").status, 404);

  // Revisions and restore.
  r = As(kEditorA, "GET", url + "/revisions");
  ASSERT_EQ(r.status, 200);
  auto revisions = Body(r)["items"];
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[1]["data"]["title"], hostile);
  r = As(kEditorA, "POST", url + "/revisions/1/restore");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["data"]["title"], hostile);
  EXPECT_EQ(As(kEditorA, "POST", url + "/revisions/abc/restore").status, 404);

  // Deleting, then the entry is gone.
  EXPECT_EQ(As(kEditorA, "DELETE", url).status, 204);
  EXPECT_EQ(As(kEditorA, "GET", url).status, 404);
  EXPECT_EQ(As(kEditorA, "DELETE", url).status, 404);

  // The webhook events and audit rows of these changes exist.
  long long events = 0;
  std::vector<std::string> actions;
  application().database().Read([&](soci::session& s) {
    s << "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.event'", soci::into(events);
    soci::rowset<std::string> rows =
        (s.prepare << "SELECT action FROM audit_log WHERE action LIKE 'entry.%' ORDER BY id");
    for (const auto& a : rows) actions.push_back(a);
  });
  EXPECT_EQ(events, 5);  // entry.created + entry.published, entry.updated (edit, restore), entry.deleted
  EXPECT_EQ(actions, (std::vector<std::string>{"entry.create", "entry.update", "entry.restore", "entry.delete"}));
}

TEST_P(ContentApi, ListsFiltersSearchOrderAndScheduling) {
  ASSERT_EQ(As(kAdmin, "POST", kAlpha, R"({"preset":"formations"})").status, 201);
  const std::string list = std::string(kAlpha) + "/formations/entries";
  std::vector<std::int64_t> ids;
  const char* titles[] = {"Soudure de base", "Soudure avancée", "Électricité", "Sécurité au travail"};
  for (int i = 0; i < 4; ++i) {
    auto e = CreateEntry("formations", {{"status", i < 3 ? "published" : "draft"},
                                        {"data",
                                         {{"title", titles[i]},
                                          {"status", i == 1 ? "full" : "active"},
                                          {"price", {{"amount", 10000 * (i + 1)}, {"currency", "CHF"}}},
                                          {"description", "Un cours sur le <métal> & la forge."}}}});
    ids.push_back(e["id"]);
  }
  auto r = As(kEditorA, "GET", list + "?status=published&data.price%5Bgte%5D=20000&sort=-data.price");
  ASSERT_EQ(r.status, 200) << r.body;
  auto items = Body(r)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["id"], ids[2]);
  EXPECT_TRUE(Body(r)["next_cursor"].is_null());
  r = As(kEditorA, "GET", list + "?limit=3");
  auto page = Body(r);
  ASSERT_EQ(page["items"].size(), 3u);
  ASSERT_TRUE(page["next_cursor"].is_string());
  r = As(kEditorA, "GET", list + "?limit=3&cursor=" + page["next_cursor"].get<std::string>());
  ASSERT_EQ(Body(r)["items"].size(), 1u);
  EXPECT_EQ(Body(r)["items"][0]["id"], ids[3]);
  EXPECT_EQ(As(kEditorA, "GET", list + "?limit=101").status, 400);
  EXPECT_EQ(As(kEditorA, "GET", list + "?cursor=zzz").status, 400);
  EXPECT_EQ(As(kEditorA, "GET", list + "?data.colour=red").status, 422);
  EXPECT_EQ(As(kEditorA, "GET", list + "?bogus=1").status, 400);
  EXPECT_EQ(As(kEditorA, "GET", list + "?q=" + std::string(201, 'a')).status, 400);

  r = As(kEditorA, "GET", list + "?q=soudure");
  ASSERT_EQ(r.status, 200) << r.body;
  items = Body(r)["items"];
  ASSERT_EQ(items.size(), 2u);
  const std::string snippet = items[0]["snippet"];
  EXPECT_NE(snippet.find("<mark>"), std::string::npos) << snippet;
  EXPECT_EQ(snippet.find("<métal>"), std::string::npos) << snippet;
  EXPECT_EQ(Body(As(kEditorA, "GET", list + "?q=%C3%A9lectricit%C3%A9"))["items"].size(), 1u);
  EXPECT_EQ(As(kEditorA, "GET", list + "?q=%22%20OR%20*").status, 200);

  // Reorder: move the last first, then a whole order.
  r = As(kEditorA, "POST", list + "/reorder", json{{"id", ids[3]}, {"before", ids[0]}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["ids"], (json{ids[3], ids[0], ids[1], ids[2]}));
  r = As(kEditorA, "POST", list + "/reorder", json{{"ids", {ids[1], ids[0]}}}.dump());
  EXPECT_EQ(Body(r)["ids"], (json{ids[1], ids[0], ids[3], ids[2]}));
  items = Body(As(kEditorA, "GET", list))["items"];
  for (int i = 0; i < 4; ++i) EXPECT_EQ(items[i]["position"], i);
  EXPECT_EQ(As(kEditorA, "POST", list + "/reorder", json{{"ids", {ids[0], ids[0]}}}.dump()).status, 422);
  EXPECT_EQ(As(kEditorA, "POST", list + "/reorder", json{{"id", ids[0]}}.dump()).status, 422);
  EXPECT_EQ(As(kEditorA, "POST", list + "/reorder", R"({"ids":"all"})").status, 422);

  // A scheduled publication is a job of kind content.publish due at publish_at.
  const std::int64_t at = 4102444800000;  // 2100-01-01
  auto e = CreateEntry("formations",
                       {{"data", {{"title", "Futur"}, {"status", "active"}}}, {"publish_at", "2100-01-01T00:00:00Z"}});
  EXPECT_EQ(e["publish_at"], at);
  long long jobs = 0, run_at = 0;
  application().database().Read([&](soci::session& s) {
    s << "SELECT COUNT(*), MAX(run_at) FROM jobs WHERE kind = 'content.publish'", soci::into(jobs), soci::into(run_at);
  });
  EXPECT_EQ(jobs, 1);
  EXPECT_EQ(run_at, at);
  r = As(kEditorA, "PATCH", list + "/" + e["id"].dump(), R"({"publish_at":null})");
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(Body(r).contains("publish_at"));
  EXPECT_EQ(
      As(kEditorA, "PATCH", list + "/" + e["id"].dump(), R"({"status":"published","publish_at":4102444800000})").status,
      422);
}

// Deleting an entry other entries refer to: 409 naming them, then ?force=true clears the references.
TEST_P(ContentApi, DeletingAReferencedEntryNeedsForce) {
  ASSERT_EQ(As(kEditorA, "POST", kAlpha, R"({"name":"Authors","fields":[{"name":"name","type":"text"}]})").status, 201);
  ASSERT_EQ(As(kEditorA, "POST", kAlpha,
               R"({"name":"Posts","fields":[{"name":"title","type":"text"},)"
               R"({"name":"author","type":"reference","collection":"authors"}]})")
                .status,
            201);
  const auto ada = CreateEntry("authors", {{"data", {{"name", "Ada"}}}})["id"].get<std::int64_t>();
  const auto post = CreateEntry("posts", {{"data", {{"title", "P"}, {"author", ada}}}})["id"].get<std::int64_t>();
  const std::string target = std::string(kAlpha) + "/authors/entries/" + std::to_string(ada);
  auto refused = As(kEditorA, "DELETE", target);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(ErrorFields(refused), std::vector<std::string>{"referenced_by"});
  EXPECT_NE(refused.body.find("entry " + std::to_string(post) + " of posts refers to entry " + std::to_string(ada) +
                              " in its field author"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(As(kEditorA, "DELETE", target + "?force=1").status, 400);
  EXPECT_EQ(As(kEditorA, "DELETE", target + "?force=false").status, 409);
  EXPECT_EQ(As(kEditorA, "DELETE", target + "?force=true").status, 204);
  EXPECT_EQ(As(kEditorA, "GET", target).status, 404);
  auto p = Body(As(kEditorA, "GET", std::string(kAlpha) + "/posts/entries/" + std::to_string(post)));
  EXPECT_EQ(p["data"], (json{{"title", "P"}}));
  // A collection others refer to: the same rule.
  const auto bob = CreateEntry("authors", {{"data", {{"name", "Bob"}}}})["id"].get<std::int64_t>();
  CreateEntry("posts", {{"data", {{"title", "Q"}, {"author", bob}}}});
  EXPECT_EQ(As(kEditorA, "DELETE", std::string(kAlpha) + "/authors").status, 409);
  EXPECT_EQ(As(kEditorA, "DELETE", std::string(kAlpha) + "/authors?force=true").status, 204);
}

POSTE_INSTANTIATE_DB_TEST(ContentApi);

}  // namespace
}  // namespace poste::testing
