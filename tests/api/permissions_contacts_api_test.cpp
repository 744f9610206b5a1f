// The permission table of contacts and webhooks (issue 4), with the real authentication, on SQLite and
// PostgreSQL (harness: permission_table.hpp). A site's editors and the admins read the site's inbox and
// manage its webhooks; the public contact form is anonymous, whatever credential comes with the request.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modules/contacts/contacts_store.hpp"
#include "modules/webhooks/webhooks_store.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsContactsApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    // Webhook URLs point at a loopback port nothing listens on: subscriptions are created, never delivered.
    config.webhooks.allow_private_targets = {"127.0.0.1"};
  }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    contact_a_ = AddContact(site_a_);
    webhook_a_ = AddWebhook();
    delivery_a_ = AddDelivery(webhook_a_);
  }

  std::int64_t AddContact(std::int64_t site) {
    contacts::Contact c;
    c.site_id = site;
    c.name = "Visitor " + std::to_string(++counter_);
    c.email = "visitor@example.com";
    c.message = "Hello";
    return db().WriteValue([&](soci::session& s) { return contacts::store::Insert(s, c, 1); });
  }

  std::int64_t AddWebhook() {
    auto r = Call("POST", "/api/v1/sites/alpha/webhooks", callers_[kAdmin],
                  R"({"url":"http://127.0.0.1:9/hook","events":["contact.received"]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  std::int64_t AddDelivery(std::int64_t webhook) {
    webhooks::Delivery d;
    d.site_id = site_a_;
    d.subscription_id = webhook;
    d.event_id = "evt_seed";
    d.event_type = "contact.received";
    d.payload = R"({"id":"evt_seed"})";
    return db().WriteValue([&](soci::session& s) {
      return webhooks::store::InsertDelivery(s, d, "seed" + std::to_string(++counter_), 1);
    });
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{contact_a}", std::to_string(contact_a_));
    Replace(s, "{webhook_a}", std::to_string(webhook_a_));
    Replace(s, "{delivery_a}", std::to_string(delivery_a_));
    if (s.find("{fresh_contact_a}") != std::string::npos) {
      Replace(s, "{fresh_contact_a}", std::to_string(AddContact(site_a_)));
    }
    if (s.find("{fresh_contact_b}") != std::string::npos) {
      Replace(s, "{fresh_contact_b}", std::to_string(AddContact(site_b_)));
    }
    if (s.find("{fresh_webhook_a}") != std::string::npos) {
      Replace(s, "{fresh_webhook_a}", std::to_string(AddWebhook()));
    }
    return s;
  }

  std::int64_t contact_a_ = 0, webhook_a_ = 0, delivery_a_ = 0;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha", b = "/api/v1/sites/beta";
  const std::string form = R"({"name":"Ada {n}","email":"ada@example.com","message":"Hello"})";
  const std::string hook = R"({"url":"http://127.0.0.1:9/h{n}","events":["entry.created"]})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // The public form: anonymous, credentials ignored (a browser may send a stale cookie or token).
      {"POST", "/api/v1/public/sites/alpha/contact", form,                       {202, 202, 202, 202, 202, 202, 202, 202, 202, 202, 202}},
      {"POST", "/api/v1/public/sites/beta/contact", form,                        {202, 202, 202, 202, 202, 202, 202, 202, 202, 202, 202}},
      {"POST", "/api/v1/public/sites/nosuchsite/contact", form,                  {404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
      {"POST", "/api/v1/public/sites/alpha/contact", R"({"name":"x"})",          {422, 422, 422, 422, 422, 422, 422, 422, 422, 422, 422}},
      // The form's CORS preflight: anonymous too.
      {"OPTIONS", "/api/v1/public/sites/alpha/contact", "",                      {204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204}},
      {"OPTIONS", "/api/v1/public/sites/nosuchsite/contact", "",                 {404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
      // The inbox.
      {"GET", a + "/contacts", "",                                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/contacts?status=unread&q=ada", "",                           {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/contacts?status=bogus", "",                                  {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"GET", a + "/contacts.csv", "",                                           {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/contacts.csv?status=all", "",                                {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/contacts/{contact_a}", "",                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      // Site A's contact through site B: not there.
      {"GET", b + "/contacts/{contact_a}", "",                                   {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/contacts/999999", "",                                        {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/contacts/{contact_a}", R"({"read":true})",                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b + "/contacts/{fresh_contact_b}", R"({"archived":true})",       {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PATCH", a + "/contacts/{contact_a}", R"({"read":"yes"})",                {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"DELETE", a + "/contacts/{fresh_contact_a}", "",                          {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/contacts/{fresh_contact_b}", "",                          {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},
      // Webhooks.
      {"GET", a + "/webhooks", "",                                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/webhooks", hook,                                            {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", b + "/webhooks", hook,                                            {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a + "/webhooks", R"({"url":"http://10.0.0.1/","events":["entry.created"]})",
                                                                                 {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"GET", a + "/webhooks/{webhook_a}", "",                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/webhooks/{webhook_a}", "",                                   {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/webhooks/{webhook_a}", R"({"events":["entry.created","entry.deleted"]})",
                                                                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"DELETE", a + "/webhooks/{fresh_webhook_a}", "",                          {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"GET", a + "/webhooks/{webhook_a}/deliveries", "",                        {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", a + "/webhooks/{webhook_a}/deliveries/{delivery_a}/redeliver", "",
                                                                                 {401, 202, 404, 202, B,   B,   B,   B,   B,    202, 404}},
      {"POST", b + "/webhooks/{webhook_a}/deliveries/{delivery_a}/redeliver", "",
                                                                                 {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a + "/webhooks/{webhook_a}/test", "",                             {401, 202, 404, 202, B,   B,   B,   B,   B,    202, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsContactsApi, EveryContactsAndWebhooksRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 250);
}

TEST_P(PermissionsContactsApi, EveryDocumentedContactsAndWebhooksRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/contacts", "/api/v1/sites/{site}/webhooks",
                                              "/api/v1/public/sites/{site}/contact"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsContactsApi);

}  // namespace
}  // namespace poste::testing
