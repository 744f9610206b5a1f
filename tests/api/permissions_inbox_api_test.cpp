// The permission table of the inbox (issue 5), with the real authentication, on SQLite and PostgreSQL
// (harness: permission_table.hpp). A caller sees their own accounts and the accounts of the sites they can
// access; a personal API key limited to sites sees only those sites' accounts; everything else is 404 —
// administrators included, for other users' personal inboxes.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modules/inbox/inbox_store.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using inbox::testing::DovecotFolder;
using inbox::testing::Env;

class PermissionsInboxApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.inbox.allow_private_hosts = {"127.0.0.1"}; }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    folder_ = std::make_unique<DovecotFolder>("perm-test");
    folder_->Deliver(
        "From: a@example.org\nSubject: Seed\nMessage-ID: <seed@perm.example>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nHi\n--b\n"
        "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=a.bin\n\nbytes\n--b--\n");
    // A's own account and site A's shared inbox, both synced from the same folder.
    personal_a_ = AddAccount(kEditorA, "");
    site_account_a_ = AddAccount(kAdmin, R"(,"site_id":)" + std::to_string(site_a_));
    msg_personal_a_ = FirstMessage(kEditorA, personal_a_);
    msg_site_a_ = FirstMessage(kAdmin, site_account_a_);
    thread_site_a_ = msg_site_a_;  // a message alone is its own thread
  }
  void TearDown() override {
    folder_.reset();
    PermissionTable::TearDown();
  }

  std::int64_t AddAccount(Caller who, const std::string& extra) {
    const std::string body = R"({"name":"Seed","host":")" + Env("POSTE_TEST_IMAP_HOST") + R"(","port":)" +
                             Env("POSTE_TEST_IMAP_PORT") + R"(,"tls":"none","username":")" +
                             Env("POSTE_TEST_IMAP_USER") + R"(","password":")" + Env("POSTE_TEST_IMAP_PASSWORD") +
                             R"(","mailbox":")" + folder_->name() + "\"" + extra + "}";
    auto r = Call("POST", "/api/v1/inbox/accounts", callers_[who], body);
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return 0;
    const auto id = nlohmann::json::parse(r.body)["id"].get<std::int64_t>();
    auto sync = Call("POST", "/api/v1/inbox/accounts/" + std::to_string(id) + "/sync", callers_[who]);
    EXPECT_EQ(sync.status, 200) << sync.body;
    EXPECT_EQ(nlohmann::json::parse(sync.body)["fetched"], 1) << sync.body;
    return id;
  }

  std::int64_t FirstMessage(Caller who, std::int64_t account) {
    auto r = Call("GET", "/api/v1/inbox/messages?account=" + std::to_string(account), callers_[who]);
    EXPECT_EQ(r.status, 200) << r.body;
    auto items = nlohmann::json::parse(r.body)["items"];
    EXPECT_EQ(items.size(), 1u) << r.body;
    return items.empty() ? 0 : items[0]["id"].get<std::int64_t>();
  }

  // An account row alone (no sync), for the DELETE rows: a user's own, or a site's.
  std::int64_t FreshAccount(std::optional<std::int64_t> owner, std::optional<std::int64_t> site) {
    inbox::Account a;
    a.owner_user_id = owner;
    a.site_id = site;
    a.name = "Fresh " + std::to_string(++counter_);
    a.host = "127.0.0.1";
    a.port = 9;
    a.tls = "none";
    a.username = "nobody";
    return db().WriteValue([&](soci::session& s) { return inbox::store::InsertAccount(s, a, 1); });
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{personal_a}", std::to_string(personal_a_));
    Replace(s, "{site_account_a}", std::to_string(site_account_a_));
    Replace(s, "{msg_personal_a}", std::to_string(msg_personal_a_));
    Replace(s, "{msg_site_a}", std::to_string(msg_site_a_));
    Replace(s, "{thread_site_a}", std::to_string(thread_site_a_));
    Replace(s, "{site_a}", std::to_string(site_a_));
    Replace(s, "{imap}",
            R"("host":")" + Env("POSTE_TEST_IMAP_HOST") + R"(","port":)" + Env("POSTE_TEST_IMAP_PORT") +
                R"(,"tls":"none","username":"u","password":"p","mailbox":")" + folder_->name() + "\"");
    if (s.find("{fresh_personal_a}") != std::string::npos) {
      Replace(s, "{fresh_personal_a}", std::to_string(FreshAccount(editor_a_, std::nullopt)));
    }
    if (s.find("{fresh_site_a}") != std::string::npos) {
      Replace(s, "{fresh_site_a}", std::to_string(FreshAccount(std::nullopt, site_a_)));
    }
    return s;
  }

  std::unique_ptr<DovecotFolder> folder_;
  std::int64_t personal_a_ = 0, site_account_a_ = 0, msg_personal_a_ = 0, msg_site_a_ = 0, thread_site_a_ = 0;
};

std::vector<Row> Table() {
  const std::string i = "/api/v1/inbox";
  // clang-format off
  //                                                                                   anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      {"GET", i + "/accounts", "",                                                    {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      // A personal account: a key limited to sites may add only its sites' inboxes.
      {"POST", i + "/accounts", R"({"name":"P{n}",{imap}})",                          {401, 201, 201, 201, B,   B,   B,   B,   B,    422, 422}},
      // Site A's shared inbox: its editor, the admins, keys scoped to it.
      {"POST", i + "/accounts", R"({"name":"S{n}",{imap},"site_id":{site_a}})",       {401, 201, 422, 201, B,   B,   B,   B,   B,    201, 422}},
      {"POST", i + "/accounts", R"({"name":"","host":"a b"})",                        {401, 422, 422, 422, B,   B,   B,   B,   B,    422, 422}},
      {"GET", i + "/accounts/{personal_a}", "",                                       {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/accounts/{site_account_a}", "",                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", i + "/accounts/999999", "",                                             {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", i + "/accounts/{site_account_a}", R"({"name":"Renamed {c}"})",        {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", i + "/accounts/{personal_a}", R"({"name":"Mine"})",                   {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", i + "/accounts/{site_account_a}", R"({"tls":"ssl3"})",                {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"DELETE", i + "/accounts/{fresh_personal_a}", "",                              {401, 204, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", i + "/accounts/{fresh_site_a}", "",                                  {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"POST", i + "/accounts/{site_account_a}/sync", "",                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", i + "/accounts/{personal_a}/sync", "",                                 {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/messages", "",                                                    {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      {"GET", i + "/messages?unread=maybe", "",                                       {401, 400, 400, 400, B,   B,   B,   B,   B,    400, 400}},
      {"GET", i + "/messages/{msg_site_a}", "",                                       {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", i + "/messages/{msg_personal_a}", "",                                   {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/messages/999999", "",                                             {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", i + "/messages/{msg_site_a}/read", "",                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", i + "/messages/{msg_personal_a}/read", "",                             {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", i + "/messages/{msg_site_a}/archive", R"({"archived":false})",         {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", i + "/messages/{msg_personal_a}/archive", "",                          {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/messages/{msg_site_a}/reply?all=true", "",                        {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", i + "/messages/{msg_personal_a}/reply", "",                             {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/messages/{msg_site_a}/attachments/0", "",                         {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", i + "/messages/{msg_site_a}/attachments/5", "",                         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/messages/{msg_personal_a}/attachments/0", "",                     {401, 200, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", i + "/threads/{thread_site_a}", "",                                     {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", i + "/threads/999999", "",                                              {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      // Reply and forward through the send path ("messages"): who sees the message, sending for a site they
      // may send for (by default the shared inbox's site; another one is a 422 on "site").
      {"POST", i + "/messages/{msg_site_a}/reply", R"({"text":"Thanks"})",            {401, 202, 404, 202, B,   B,   B,   B,   B,    202, 404}},
      {"POST", i + "/messages/{msg_site_a}/reply", R"({"text":"T","site":"beta"})",   {401, 422, 404, 202, B,   B,   B,   B,   B,    422, 404}},
      {"POST", i + "/messages/{msg_site_a}/reply", R"({"to":["x@example.com"]})",     {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"POST", i + "/messages/{msg_personal_a}/reply", R"({"text":"T","site":"alpha"})", {401, 202, 404, 404, B, B,  B,   B,   B,    404, 404}},
      {"POST", i + "/messages/{msg_site_a}/forward", R"({"to":["x@example.com"]})",   {401, 202, 404, 202, B,   B,   B,   B,   B,    202, 404}},
      {"POST", i + "/messages/{msg_personal_a}/forward", R"({"to":"x@example.com","site":"alpha"})", {401, 202, 404, 404, B, B, B, B, B, 404, 404}},
      {"POST", i + "/messages/999999/forward", R"({"to":["x@example.com"]})",         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsInboxApi, EveryInboxRouteForEveryCaller) {
  ASSERT_FALSE(HasFailure());
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 300);
}

TEST_P(PermissionsInboxApi, EveryDocumentedInboxRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/inbox/"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsInboxApi);

}  // namespace
}  // namespace poste::testing
