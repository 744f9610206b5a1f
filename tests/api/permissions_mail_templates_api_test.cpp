// The permission table of mail templates, signatures, suppression lists and the public unsubscribe endpoints
// (issue 5), with the real authentication, on SQLite and PostgreSQL (harness: permission_table.hpp). A site's
// editors and the admins manage its templates and suppression list and their own signature for it; /u/{token}
// is anonymous, whatever credential comes with the request: the token alone decides.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modules/mail/mail_suppression_store.hpp"
#include "modules/mail/mail_template_store.hpp"
#include "modules/mail/unsubscribe_token.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsMailTemplatesApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    template_a_ = AddTemplate(site_a_);
    suppression_a_ = AddSuppression(site_a_);
    unsubscribe_key_ = crypto::HmacSha256(crypto::AsStringView(master_key_), "poste/unsubscribe/v1");
  }

  std::int64_t AddTemplate(std::int64_t site) {
    mail::NewMailTemplate t{"Template " + std::to_string(++counter_), "", "Hi {{name}}", "<p>{{name}}</p>", ""};
    return db().WriteValue([&](soci::session& s) { return mail::template_store::Insert(s, site, t, {}, 1); });
  }

  std::int64_t AddSuppression(std::int64_t site) {
    mail::Suppression e;
    e.site_id = site;
    e.email = "listed" + std::to_string(++counter_) + "@example.com";
    e.reason = mail::SuppressionReason::kHardBounce;
    return db().WriteValue([&](soci::session& s) { return *mail::suppression_store::InsertIfAbsent(s, e, 1); });
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{template_a}", std::to_string(template_a_));
    Replace(s, "{suppression_a}", std::to_string(suppression_a_));
    if (s.find("{fresh_template_a}") != std::string::npos) {
      Replace(s, "{fresh_template_a}", std::to_string(AddTemplate(site_a_)));
    }
    if (s.find("{fresh_template_b}") != std::string::npos) {
      Replace(s, "{fresh_template_b}", std::to_string(AddTemplate(site_b_)));
    }
    if (s.find("{fresh_suppression_a}") != std::string::npos) {
      Replace(s, "{fresh_suppression_a}", std::to_string(AddSuppression(site_a_)));
    }
    if (s.find("{fresh_address_a}") != std::string::npos) {
      AddSuppression(site_a_);  // listed<counter_>@example.com, by its address with the domain in another case
      Replace(s, "{fresh_address_a}", "listed" + std::to_string(counter_) + "%40EXAMPLE.com");
    }
    // A token per cell: a new recipient each time, so that every POST adds an entry.
    if (s.find("{token_a}") != std::string::npos) {
      Replace(s, "{token_a}",
              mail::SignUnsubscribeToken(unsubscribe_key_,
                                         {site_a_, "reader" + std::to_string(++counter_) + "@example.com", 3}));
    }
    if (s.find("{token_b}") != std::string::npos) {
      Replace(s, "{token_b}",
              mail::SignUnsubscribeToken(unsubscribe_key_, {site_b_, "reader@example.com", std::nullopt}));
    }
    if (s.find("{forged_token}") != std::string::npos) {
      Replace(s, "{forged_token}",
              mail::SignUnsubscribeToken("not the server's key, 32 bytes!!", {site_a_, "reader@example.com", {}}));
    }
    return s;
  }

  std::int64_t template_a_ = 0, suppression_a_ = 0;
  std::string unsubscribe_key_;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail", b = "/api/v1/sites/beta/mail";
  const std::string tpl = R"({"name":"T{n}","subject":"Hi {{name}}","html":"<p>{{name}}</p>"})";
  const std::string broken = R"({"name":"T{n}","subject":"Hi","html":"{{#open}}"})";
  const std::string manual = R"({"email":"m{n}@example.com","note":"by hand"})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // Templates.
      {"GET", a + "/templates", "",                                              {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/templates?q=x&limit=5", "",                                  {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/templates?limit=0", "",                                      {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"POST", a + "/templates", tpl,                                            {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", b + "/templates", tpl,                                            {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a + "/templates", broken,                                         {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"GET", a + "/templates/{template_a}", "",                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      // Site A's template through site B: not there.
      {"GET", b + "/templates/{template_a}", "",                                 {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/templates/999999", "",                                       {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/templates/{template_a}", R"({"description":"d{n}"})",      {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b + "/templates/{template_a}", R"({"description":"x"})",         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/templates/{template_a}", R"({"subject":"a\r\nb"})",        {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"DELETE", a + "/templates/{fresh_template_a}", "",                        {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/templates/{fresh_template_b}", "",                        {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},
      {"POST", a + "/templates/{template_a}/preview", R"({"variables":{"name":"x"}})",
                                                                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", b + "/templates/{template_a}/preview", "",                        {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      // The caller's own signature.
      {"GET", a + "/signature", "",                                              {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", a + "/signature", R"({"html":"<p>{c}</p>","text":"{c}"})",         {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", b + "/signature", R"({"html":"<p>{c}</p>"})",                      {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/signature", R"({"html":7})",                                 {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"DELETE", a + "/signature", "",                                           {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      // The suppression list.
      {"GET", a + "/suppressions", "",                                           {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/suppressions?reason=unsubscribe&q=x", "",                    {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/suppressions?reason=soft", "",                               {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"POST", a + "/suppressions", manual,                                      {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", b + "/suppressions", manual,                                      {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a + "/suppressions", R"({"email":"x@example.com\r\nBcc: y@example.com"})",
                                                                                 {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"GET", a + "/suppressions/{suppression_a}", "",                           {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/suppressions/{suppression_a}", "",                           {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", a + "/suppressions/{fresh_suppression_a}", "",                  {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", a + "/suppressions/{fresh_address_a}", "",                      {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/suppressions/{suppression_a}", "",                        {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      // Unsubscribing: anonymous, credentials ignored (a browser may send a stale cookie or token).
      {"GET", "/u/{token_a}", "",                                                {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/u/{token_b}", "",                                                {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/u/{forged_token}", "",                                           {404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
      {"POST", "/u/{token_a}", "List-Unsubscribe=One-Click",                     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
      {"POST", "/u/{token_b}", "List-Unsubscribe=One-Click",                     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
      {"POST", "/u/{forged_token}", "List-Unsubscribe=One-Click",                {404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsMailTemplatesApi, EveryTemplateSignatureSuppressionAndUnsubscribeRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 400);
  // Every one-click POST of site A listed its own recipient, on site A only.
  const auto count = [&](std::int64_t site) {
    return db().ReadValue([&](soci::session& s) {
      long long n = 0;
      const long long id = site;
      s << "SELECT COUNT(*) FROM mail_suppressions WHERE site_id = :site AND reason = 'unsubscribe'", soci::use(id),
          soci::into(n);
      return n;
    });
  };
  EXPECT_EQ(count(site_a_), kCallers);
  EXPECT_EQ(count(site_b_), 1);
}

TEST_P(PermissionsMailTemplatesApi, EveryDocumentedMailTemplatesRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(),
                                    {"/api/v1/sites/{site}/mail/templates", "/api/v1/sites/{site}/mail/signature",
                                     "/api/v1/sites/{site}/mail/suppressions", "/u/"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailTemplatesApi);

}  // namespace
}  // namespace poste::testing
