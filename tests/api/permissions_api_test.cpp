// The permission table of issue 3 for the identity routes (auth, users, sites and settings, audit), with the
// REAL authentication, on SQLite and PostgreSQL (harness: permission_table.hpp). A route documented under
// these prefixes without a row here fails the test.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsApi : public PermissionTable {};

std::vector<Row> Table(std::int64_t editor_a, std::int64_t admin, std::int64_t site_a) {
  const std::string ea = "/api/v1/users/" + std::to_string(editor_a);
  const std::string ad = "/api/v1/users/" + std::to_string(admin);
  const std::string a = "/api/v1/sites/alpha", a_id = "/api/v1/sites/" + std::to_string(site_a);
  const std::string b = "/api/v1/sites/beta";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // Sign-in, refresh, sign-out: the credential is in the body; an Authorization header neither helps nor hurts.
      {"POST", "/api/v1/auth/login", R"({"email":"ed-b@example.com","password":"correct horse battery staple"})",
                                                                                 {200, 200, 200, 200, -1,  200, 200, 200, 200,  200, 200}},
      // The inactive user with its own (right) password.
      {"POST", "/api/v1/auth/login", R"({"email":"gone@example.com","password":"correct horse battery staple"})",
                                                                                 {-1,  -1,  -1,  -1,  401, -1,  -1,  -1,  -1,   -1,  -1}},
      // Each caller presents what it holds as a refresh token (its own session's, else its token or key).
      {"POST", "/api/v1/auth/refresh", R"({"refresh_token":"{refresh}"})",       {401, 200, 200, 200, 401, 401, 401, 401, 401,  401, 401}},
      // Logout is idempotent and reveals nothing: 204 for any token.
      {"POST", "/api/v1/auth/logout", R"({"refresh_token":"an-unknown-token"})", {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
      {"GET", "/api/v1/auth/me", "",                                             {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      {"GET", "/api/v1/auth/api-keys", "",                                       {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      // Managing credentials needs a session, not an API key (403).
      {"POST", "/api/v1/auth/api-keys", R"({"name":"k{n}"})",                    {401, 201, 201, 201, B,   B,   B,   B,   B,    403, 403}},
      // A fresh key of editor A: only editor A may revoke it; to anyone else it does not exist.
      {"DELETE", "/api/v1/auth/api-keys/{own_key}", "",                          {401, 204, 404, 404, B,   B,   B,   B,   B,    403, 403}},
      {"POST", "/api/v1/auth/totp/setup", "",                                    {401, 200, 200, 200, B,   B,   B,   B,   B,    403, 403}},
      // A pending secret exists now (row above); a wrong code is 422, which proves the caller got through.
      {"POST", "/api/v1/auth/totp/confirm", R"({"code":"000000"})",              {401, 422, 422, 422, B,   B,   B,   B,   B,    403, 403}},
      {"POST", "/api/v1/auth/totp/disable", R"({"password":"correct horse battery staple"})",
                                                                                 {401, 204, 204, 204, B,   B,   B,   B,   B,    403, 403}},

      // Users: admin only, except reading and updating one's own profile.
      {"GET", "/api/v1/users", "",                                               {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"POST", "/api/v1/users", R"({"email":"new{n}@example.com","name":"N","password":"a fine long passphrase"})",
                                                                                 {401, 403, 403, 201, B,   B,   B,   B,   B,    403, 201}},
      {"GET", ea, "",                                                            {401, 200, 403, 200, B,   B,   B,   B,   B,    200, 200}},
      {"GET", ad, "",                                                            {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"GET", "/api/v1/users/99999", "",                                         {401, 403, 403, 404, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", ea, R"({"name":"Renamed {n}"})",                                 {401, 200, 403, 200, B,   B,   B,   B,   B,    200, 200}},
      // Not one's own role or sites (the admin's 200 would change editor A for the rows below: not run).
      {"PATCH", ea, R"({"role":"admin"})",                                       {401, 403, 403, -1,  B,   B,   B,   B,   B,    403, -1}},
      {"PATCH", ea, R"({"site_ids":[1,2]})",                                     {401, 403, 403, -1,  B,   B,   B,   B,   B,    403, -1}},
      {"PATCH", ad, R"({"name":"Root {n}"})",                                    {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"PATCH", "/api/v1/users/{victim_user}", R"({"role":"admin"})",            {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"DELETE", "/api/v1/users/{victim_user}", "",                              {401, 403, 403, 204, B,   B,   B,   B,   B,    403, 204}},
      {"DELETE", ea, "",                                                         {401, 403, 403, -1,  B,   B,   B,   B,   B,    403, -1}},
      {"DELETE", "/api/v1/users/99999", "",                                      {401, 403, 403, 404, B,   B,   B,   B,   B,    403, 404}},

      // Sites: every signed-in caller lists (its own); admins create and delete; a site out of reach is 404.
      {"GET", "/api/v1/sites", "",                                               {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      {"POST", "/api/v1/sites", R"({"slug":"new-{n}","name":"New"})",            {401, 403, 403, 201, B,   B,   B,   B,   B,    403, 201}},
      {"GET", a, "",                                                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", a_id, "",                                                          {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b, "",                                                             {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", "/api/v1/sites/nope", "",                                          {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", "/api/v1/sites/99999", "",                                         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a, R"({"description":"d{n}"})",                                  {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b, R"({"description":"d{n}"})",                                  {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      // Editors never delete sites (403 on their own, 404 on another's); the admin's deletes run on fresh sites.
      {"DELETE", a, "",                                                          {401, 403, 404, -1,  B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", b, "",                                                          {401, 404, 403, -1,  B,   B,   B,   B,   B,    404, -1}},
      {"DELETE", "/api/v1/sites/{victim_site}", "",                              {401, 404, 404, 204, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", "/api/v1/sites/nope", "",                                       {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},

      // Settings: the site's editors and the admin.
      {"GET", a + "/settings", "",                                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/settings", "",                                               {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/settings/smtp.host", R"({"value":"mail{n}.example.com"})",   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", b + "/settings/smtp.host", R"({"value":"mail{n}.example.com"})",   {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/settings/smtp.password", R"({"value":"s3cret","secret":true})",
                                                                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"DELETE", a + "/settings/seed.{c}", "",                                   {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/settings/seed.{c}", "",                                   {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},

      // Audit: admin only.
      {"GET", "/api/v1/audit", "",                                               {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"GET", "/api/v1/audit?action=site.*&limit=5", "",                         {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"GET", "/api/v1/audit?limit=0", "",                                       {401, 403, 403, 400, B,   B,   B,   B,   B,    403, 400}},
  };
  // clang-format on
}

TEST_P(PermissionsApi, EveryIdentityRouteForEveryCaller) {
  auto rows = Table(editor_a_, admin_, site_a_);
  auto failures = RunTable(rows);
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 400);
  // The admin's destructive rows, run last on the real objects.
  EXPECT_EQ(Call("DELETE", "/api/v1/users/" + std::to_string(editor_a_), callers_[kAdmin]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", callers_[kEditorA]).status, 401) << "a deleted user's token still works";
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", callers_[kKeyA]).status, 401) << "a deleted user's API key still works";
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/beta", callers_[kAdminKeyB]).status, 204);
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/alpha", callers_[kAdmin]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha", callers_[kAdmin]).status, 404);
}

// A documented identity route without a row in the table fails here.
// A documented identity route without a row in the table fails here.
TEST_P(PermissionsApi, EveryDocumentedIdentityRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(editor_a_, admin_, site_a_),
                                    {"/api/v1/users", "/api/v1/sites$", "/api/v1/sites/{site}$",
                                     "/api/v1/sites/{site}/settings", "/api/v1/audit", "/api/v1/auth/"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsApi);

}  // namespace
}  // namespace poste::testing
