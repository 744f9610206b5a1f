// The permission table of collections and entries (issue 4), with the real authentication, on SQLite and
// PostgreSQL (harness: permission_table.hpp). Every route is open to the site's editors and the admins; a site
// out of the caller's reach, and anything in it, is 404.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsContentApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    if (HasFatalFailure()) return;
    for (const char* site : {"alpha", "beta"}) {
      auto r = Call("POST", std::string("/api/v1/sites/") + site + "/collections", callers_[kAdmin],
                    R"({"preset":"pages"})");
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  // {entry_a} / {entry_b}: a fresh page of site alpha / beta; {coll_a} / {coll_b}: a fresh collection.
  std::string ExpandMore(std::string s, int /*caller*/) override {
    for (const char* site : {"a", "b"}) {
      const std::string slug = site[0] == 'a' ? "alpha" : "beta";
      const std::string entry = std::string("{entry_") + site + "}";
      if (s.find(entry) != std::string::npos) {
        auto r = Call("POST", "/api/v1/sites/" + slug + "/collections/pages/entries", callers_[kAdmin],
                      R"({"data":{"title":"Fresh","slug":"fresh-)" + std::to_string(++counter_) + R"("}})");
        EXPECT_EQ(r.status, 201) << r.body;
        Replace(s, entry, std::to_string(nlohmann::json::parse(r.body)["id"].get<std::int64_t>()));
      }
      const std::string coll = std::string("{coll_") + site + "}";
      if (s.find(coll) != std::string::npos) {
        const std::string name = "fresh-" + std::to_string(++counter_);
        auto r = Call("POST", "/api/v1/sites/" + slug + "/collections", callers_[kAdmin],
                      R"({"name":")" + name + R"(","fields":[]})");
        EXPECT_EQ(r.status, 201) << r.body;
        Replace(s, coll, name);
      }
    }
    return s;
  }
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/collections", b = "/api/v1/sites/beta/collections";
  const std::string ap = a + "/pages/entries", bp = b + "/pages/entries";
  const std::string entry = R"({"data":{"title":"T {n}","slug":"p-{n}"}})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      {"GET", a, "",                                                            {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b, "",                                                            {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", "/api/v1/sites/nope/collections", "",                             {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a, R"({"name":"C {n}","fields":[{"name":"title","type":"text"}]})",
                                                                                {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", b, R"({"name":"C {n}"})",                                        {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a, R"({"preset":"pages"})",                                      {401, 409, 404, 409, B,   B,   B,   B,   B,    409, 404}},
      {"GET", a + "/pages", "",                                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/pages", "",                                                 {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/nope", "",                                                  {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/pages", R"({"description":"d{n}"})",                      {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b + "/pages", R"({"description":"d{n}"})",                      {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"DELETE", a + "/{coll_a}", "",                                           {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/{coll_b}", "",                                           {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},

      {"GET", ap, "",                                                           {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", bp + "?status=published&q=fresh&sort=-created_at&limit=5", "",    {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", ap + "?limit=0", "",                                              {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"POST", ap, entry,                                                       {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", bp, entry,                                                       {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", ap, R"({"data":{"title":""}})",                                  {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"POST", ap + "/reorder", R"({"ids":[{entry_a}]})",                       {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", bp + "/reorder", R"({"ids":[{entry_b}]})",                       {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", ap + "/{entry_a}", "",                                            {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", bp + "/{entry_b}", "",                                            {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      // Another site's entry through one's own site: 404 for everyone.
      {"GET", ap + "/{entry_b}", "",                                            {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", ap + "/{entry_a}", R"({"status":"published"})",                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", bp + "/{entry_b}", R"({"data":{"title":"x{n}"}})",              {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PATCH", ap + "/{entry_b}", R"({"data":{"title":"x{n}"}})",              {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", ap + "/{entry_a}", "",                                         {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", bp + "/{entry_b}", "",                                         {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},
      {"DELETE", ap + "/{entry_b}", "",                                         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", ap + "/{entry_a}/revisions", "",                                  {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", bp + "/{entry_b}/revisions", "",                                  {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", ap + "/{entry_a}/revisions/1/restore", "",                       {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", bp + "/{entry_b}/revisions/1/restore", "",                       {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", ap + "/{entry_a}/revisions/99/restore", "",                      {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsContentApi, EveryContentRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("content permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 350);
}

TEST_P(PermissionsContentApi, EveryDocumentedContentRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/collections"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsContentApi);

}  // namespace
}  // namespace poste::testing
