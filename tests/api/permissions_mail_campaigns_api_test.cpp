// The permission table of campaigns (issue 5), with the real authentication, on SQLite and PostgreSQL (harness:
// permission_table.hpp). A site's editors and the admins manage its campaigns; another site's campaign is 404.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <string>
#include <vector>

#include "modules/mail/campaign_store.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsMailCampaignsApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    campaign_a_ = AddCampaign(site_a_, mail::CampaignState::kDraft);
    // Campaign messages carry unsubscribe links: the site needs a public address to start one.
    auto url = Call("PUT", "/api/v1/sites/alpha/settings/mail.public_url", callers_[kAdmin],
                    R"({"value":"https://alpha.example"})");
    ASSERT_EQ(url.status, 200) << url.body;
  }

  // A campaign of the site in the given state, with one recipient.
  std::int64_t AddCampaign(std::int64_t site, mail::CampaignState state) {
    return db().WriteValue([&](soci::session& s) {
      mail::Campaign c;
      c.site_id = site;
      c.name = "Campaign " + std::to_string(++counter_);
      c.subject = "Hello {{name}}";
      c.html = "<p>Hello {{name}}</p>";
      c.state = state;
      c.created_at = c.updated_at = 1;
      const auto id = mail::campaign_store::InsertCampaign(s, c);
      mail::CsvRecipient r;
      r.line = 2;
      r.mailbox = {"Reader", "reader" + std::to_string(counter_) + "@example.com"};
      r.variables = {{"email", r.mailbox.email}, {"name", r.mailbox.name}};
      mail::campaign_store::InsertRecipients(s, site, id, {r});
      return id;
    });
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{campaign_a}", std::to_string(campaign_a_));
    const std::pair<const char*, mail::CampaignState> fresh[] = {{"{fresh_draft_a}", mail::CampaignState::kDraft},
                                                                 {"{fresh_running_a}", mail::CampaignState::kRunning},
                                                                 {"{fresh_paused_a}", mail::CampaignState::kPaused}};
    for (const auto& [name, state] : fresh) {
      if (s.find(name) != std::string::npos) Replace(s, name, std::to_string(AddCampaign(site_a_, state)));
    }
    if (s.find("{fresh_draft_b}") != std::string::npos) {
      Replace(s, "{fresh_draft_b}", std::to_string(AddCampaign(site_b_, mail::CampaignState::kDraft)));
    }
    return s;
  }

  std::int64_t campaign_a_ = 0;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail/campaigns", b = "/api/v1/sites/beta/mail/campaigns";
  const std::string create = R"({"name":"C{n}","subject":"Hi {{name}}","html":"<p>{{name}}</p>"})";
  const std::string broken = R"({"name":"C{n}","subject":"Hi","html":"{{#open}}"})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      {"GET", a, "",                                                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "?limit=5", "",                                                {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "?limit=0", "",                                                {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"POST", a, create,                                                        {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", b, create,                                                        {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a, broken,                                                        {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"POST", a, R"({"name":"x","subject":"a\r\nBcc: b@example.com"})",         {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"GET", a + "/{campaign_a}", "",                                           {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      // Site A's campaign through site B: not there.
      {"GET", b + "/{campaign_a}", "",                                           {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/999999", "",                                                 {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/{campaign_a}", R"({"name":"N{n}"})",                       {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b + "/{campaign_a}", R"({"name":"N{n}"})",                       {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/{fresh_running_a}", R"({"name":"N{n}"})",                  {401, 409, 404, 409, B,   B,   B,   B,   B,    409, 404}},
      {"DELETE", a + "/{fresh_draft_a}", "",                                     {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/{fresh_draft_b}", "",                                     {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},
      {"DELETE", a + "/{fresh_running_a}", "",                                   {401, 409, 404, 409, B,   B,   B,   B,   B,    409, 404}},
      {"POST", a + "/{campaign_a}/recipients", R"({"source":"contacts"})",       {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/{campaign_a}/recipients", R"({"source":"elsewhere"})",      {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"POST", b + "/{campaign_a}/recipients", R"({"source":"contacts"})",       {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/{campaign_a}/recipients", "",                                {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", a + "/{campaign_a}/recipients?state=nope", "",                     {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"DELETE", a + "/{fresh_draft_a}/recipients", "",                          {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"GET", a + "/{campaign_a}/stats", "",                                     {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", a + "/{campaign_a}/preview", "",                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/{campaign_a}/preview", "",                                   {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a + "/{campaign_a}/test", R"({"to":"t{n}@example.com"})",         {401, 202, 404, 202, B,   B,   B,   B,   B,    202, 404}},
      {"POST", a + "/{campaign_a}/test", R"({"to":"t@example.com\r\nBcc: x@example.com"})",
                                                                                 {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"POST", a + "/{fresh_draft_a}/start", "",                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/{fresh_draft_a}/start", R"({"send_at":"2099-01-01T09:00"})",
                                                                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/{fresh_draft_a}/start", R"({"send_at":"tomorrow"})",        {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"POST", b + "/{fresh_draft_a}/start", "",                                 {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a + "/{fresh_running_a}/pause", "",                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/{fresh_draft_a}/pause", "",                                 {401, 409, 404, 409, B,   B,   B,   B,   B,    409, 404}},
      {"POST", a + "/{fresh_paused_a}/resume", "",                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/{fresh_running_a}/resume", "",                              {401, 409, 404, 409, B,   B,   B,   B,   B,    409, 404}},
      {"POST", a + "/{fresh_running_a}/cancel", "",                              {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", b + "/{fresh_running_a}/cancel", "",                              {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsMailCampaignsApi, EveryCampaignRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 350);
}

TEST_P(PermissionsMailCampaignsApi, EveryDocumentedCampaignRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/mail/campaigns"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailCampaignsApi);

}  // namespace
}  // namespace poste::testing
