// The inbox through the whole app (issue 5), on SQLite and PostgreSQL, against the Dovecot of
// scripts/test-services: an account added over the API, mail delivered with dovecot-lda (non-ASCII
// subjects, attachments, a thread of three replies), synced, listed, searched, read (\Seen on the server),
// archived, downloaded; and bad input answered with problems.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "modules/inbox/inbox_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using inbox::testing::DovecotFolder;
using inbox::testing::Env;

class InboxApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.inbox.allow_private_hosts = {"127.0.0.1"}; }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    folder_ = std::make_unique<DovecotFolder>("api-test");
  }
  void TearDown() override {
    folder_.reset();
    PermissionTable::TearDown();
  }

  nlohmann::json AccountBody(const std::string& extra = "") {
    auto body = inbox::testing::DovecotAccountBody(folder_->name());
    if (!extra.empty()) body.update(nlohmann::json::parse(extra));
    return body;
  }
  nlohmann::json Json(const web::Response& r) { return nlohmann::json::parse(r.body, nullptr, false); }
  nlohmann::json Get(Caller who, const std::string& target, int status = 200) {
    auto r = Call("GET", target, callers_[who]);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return Json(r);
  }

  std::unique_ptr<DovecotFolder> folder_;
};

std::string Mail(const std::string& subject, const std::string& id, const std::string& extra = "",
                 const std::string& body = "Hello.\n") {
  return "From: Ada <ada@example.org>\nTo: support@poste.example\nSubject: " + subject + "\nMessage-ID: <" + id +
         ">\n" + extra + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body;
}

const char* kAttached =
    "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>\n"
    "To: support@poste.example\n"
    "Subject: =?UTF-8?B?RmFjdHVyZSDDqXTDqSDigqw=?=\n"
    "Message-ID: <api-attached@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=mix\n"
    "\n"
    "--mix\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>Voir la <b>facture</b></p><img src=\"https://tracker.example/p.gif\">\n"
    "--mix\n"
    "Content-Type: application/pdf\n"
    "Content-Disposition: attachment; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--mix\n"
    "Content-Type: text/html\n"
    "Content-Disposition: attachment; filename=\"evil.html\"\n"
    "\n"
    "<script>alert(document.cookie)</script>\n"
    "--mix--\n";

TEST_P(InboxApi, SyncListReadArchiveAndDownloadThroughTheApi) {
  ASSERT_FALSE(HasFailure());
  auto created = Call("POST", "/api/v1/inbox/accounts", callers_[kEditorA], AccountBody().dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find(Env("POSTE_TEST_IMAP_PASSWORD")), std::string::npos);
  const auto account = Json(created);
  EXPECT_EQ(account["password_set"], true);
  EXPECT_EQ(account["owner"], "user");
  const std::string id = std::to_string(account["id"].get<std::int64_t>());
  EXPECT_EQ(created.headers.Get("Location").value_or(""), "/api/v1/inbox/accounts/" + id);

  // A thread of three replies, one of them arriving before its parent, and a message with attachments.
  folder_->Deliver(Mail("Devis", "root@api.example"));
  folder_->Deliver(Mail("Re: Devis", "r2@api.example",
                        "In-Reply-To: <r1@api.example>\nReferences: <root@api.example> <r1@api.example>\n"));
  folder_->Deliver(
      Mail("Re: Devis", "r1@api.example", "In-Reply-To: <root@api.example>\nReferences: <root@api.example>\n"));
  folder_->Deliver(Mail("Re: Devis", "r3@api.example",
                        "In-Reply-To: <r2@api.example>\n"
                        "References: <root@api.example> <r1@api.example> <r2@api.example>\n",
                        "Merci, c'est d'accord.\n"));
  folder_->Deliver(kAttached);

  auto sync = Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", callers_[kEditorA]);
  ASSERT_EQ(sync.status, 200) << sync.body;
  EXPECT_EQ(Json(sync)["ok"], true) << sync.body;
  EXPECT_EQ(Json(sync)["fetched"], 5);
  // Incremental: a second sync fetches nothing, a new message only itself.
  EXPECT_EQ(Json(Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", callers_[kEditorA]))["fetched"], 0);
  folder_->Deliver(Mail("Later", "later@api.example"));
  EXPECT_EQ(Json(Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", callers_[kEditorA]))["fetched"], 1);

  auto list = Get(kEditorA, "/api/v1/inbox/messages?account=" + id);
  ASSERT_EQ(list["items"].size(), 6u);
  EXPECT_EQ(list["items"][0]["subject"], "Later");
  EXPECT_EQ(list["items"][1]["subject"], "Facture \xC3\xA9t\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(list["items"][1]["from"]["name"], "Zo\xC3\xAB");
  EXPECT_EQ(list["items"][1]["attachment_count"], 2);
  EXPECT_FALSE(list["items"][1].contains("html"));  // bodies only in the detail
  // Pages of two, newest first, with a cursor.
  auto page = Get(kEditorA, "/api/v1/inbox/messages?limit=2");
  ASSERT_EQ(page["items"].size(), 2u);
  ASSERT_TRUE(page["next_cursor"].is_string());
  auto next = Get(kEditorA, "/api/v1/inbox/messages?limit=2&cursor=" + page["next_cursor"].get<std::string>());
  ASSERT_EQ(next["items"].size(), 2u);
  EXPECT_LT(next["items"][0]["id"].get<std::int64_t>(), page["items"][1]["id"].get<std::int64_t>());
  // Search: subject, sender, body text; hostile text is just text.
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?q=d%27accord")["items"].size(), 1u);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?q=zoe%40example")["items"].size(), 1u);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?q=devis")["items"].size(), 4u);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?q=%25%27%20OR%201%3D1%20--")["items"].size(), 0u);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?q=%3Cscript%3E")["items"].size(), 0u);
  // Nobody else sees a personal inbox.
  EXPECT_EQ(Get(kAdmin, "/api/v1/inbox/messages")["items"].size(), 0u);
  EXPECT_EQ(Get(kEditorB, "/api/v1/inbox/messages")["items"].size(), 0u);

  // The thread: four messages, oldest first.
  const auto r3 = list["items"][2];
  EXPECT_EQ(r3["snippet"], "Merci, c'est d'accord.");
  const std::string thread = std::to_string(r3["thread_id"].get<std::int64_t>());
  auto whole = Get(kEditorA, "/api/v1/inbox/threads/" + thread);
  ASSERT_EQ(whole["items"].size(), 4u);
  EXPECT_EQ(whole["items"][0]["message_id"], "root@api.example");
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?thread=" + thread)["items"].size(), 4u);
  Get(kEditorB, "/api/v1/inbox/threads/" + thread, 404);
  auto reply = Get(kEditorA, "/api/v1/inbox/messages/" + std::to_string(r3["id"].get<std::int64_t>()) + "/reply");
  EXPECT_EQ(reply["subject"], "Re: Devis");
  EXPECT_EQ(reply["in_reply_to"], "r3@api.example");
  EXPECT_EQ(reply["references"].size(), 4u);
  EXPECT_EQ(reply["to"][0]["email"], "ada@example.org");

  // The detail: HTML as received, flagged unsanitised; attachments with their links.
  const std::string attached = std::to_string(list["items"][1]["id"].get<std::int64_t>());
  auto detail = Get(kEditorA, "/api/v1/inbox/messages/" + attached);
  EXPECT_EQ(detail["html_sanitized"], false);
  EXPECT_NE(detail["html"].get<std::string>().find("tracker.example"), std::string::npos);
  ASSERT_EQ(detail["attachments"].size(), 2u);
  EXPECT_EQ(detail["attachments"][0]["filename"], "facture \xC3\xA9t\xC3\xA9.pdf");
  auto pdf = Call("GET", detail["attachments"][0]["url"].get<std::string>(), callers_[kEditorA]);
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.body, "%PDF-1.4\n");
  EXPECT_EQ(pdf.headers.Get("Content-Type").value_or(""), "application/pdf");
  EXPECT_EQ(pdf.headers.Get("Content-Disposition").value_or(""),
            "attachment; filename=\"facture __t__.pdf\"; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf");
  // An HTML attachment is never served as a page of this origin.
  auto html = Call("GET", "/api/v1/inbox/messages/" + attached + "/attachments/1", callers_[kEditorA]);
  ASSERT_EQ(html.status, 200);
  EXPECT_EQ(html.headers.Get("Content-Type").value_or(""), "application/octet-stream");
  EXPECT_EQ(html.headers.Get("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_TRUE(html.headers.Get("Content-Security-Policy").value_or("").starts_with("sandbox"));
  EXPECT_EQ(Call("GET", "/api/v1/inbox/messages/" + attached + "/attachments/2", callers_[kEditorA]).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/inbox/messages/" + attached + "/attachments/0", callers_[kEditorB]).status, 404);

  // Read: here and \Seen on the server.
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?unread=true")["items"].size(), 6u);
  auto read = Call("POST", "/api/v1/inbox/messages/" + attached + "/read", callers_[kEditorA]);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(Json(read)["server_seen"], true);
  auto flags = folder_->Flags(5);
  EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 1);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?unread=true")["items"].size(), 5u);

  // Archive and back.
  EXPECT_EQ(Call("POST", "/api/v1/inbox/messages/" + attached + "/archive", callers_[kEditorA]).status, 200);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages")["items"].size(), 5u);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages?archived=true")["items"].size(), 1u);
  EXPECT_EQ(Call("POST", "/api/v1/inbox/messages/" + attached + "/archive", callers_[kEditorA], R"({"archived":false})")
                .status,
            200);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages")["items"].size(), 6u);

  // Deleting the account removes its messages.
  EXPECT_EQ(Call("DELETE", "/api/v1/inbox/accounts/" + id, callers_[kEditorA]).status, 204);
  Get(kEditorA, "/api/v1/inbox/messages/" + attached, 404);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages")["items"].size(), 0u);
}

TEST_P(InboxApi, UidValidityChangeThroughTheApi) {
  ASSERT_FALSE(HasFailure());
  auto created = Call("POST", "/api/v1/inbox/accounts", callers_[kAdmin],
                      AccountBody(R"({"site_id":)" + std::to_string(site_a_) + "}").dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(Json(created)["id"].get<std::int64_t>());
  folder_->Deliver(Mail("First", "first@v.example"));
  auto one = Json(Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", callers_[kEditorA]));
  ASSERT_EQ(one["fetched"], 1) << one.dump();
  folder_->Recreate();
  folder_->Deliver(Mail("First", "first@v.example"));
  folder_->Deliver(Mail("Second", "second@v.example"));
  auto two = Json(Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", callers_[kEditorA]));
  EXPECT_EQ(two["resynced"], true) << two.dump();
  EXPECT_EQ(two["fetched"], 1);
  EXPECT_NE(two["uidvalidity"], one["uidvalidity"]);
  EXPECT_EQ(Get(kEditorA, "/api/v1/inbox/messages")["items"].size(), 2u);
  // The site's editors and the admins see the shared inbox.
  EXPECT_EQ(Get(kAdmin, "/api/v1/inbox/messages")["items"].size(), 2u);
  EXPECT_EQ(Get(kEditorB, "/api/v1/inbox/messages")["items"].size(), 0u);
  auto account = Get(kEditorA, "/api/v1/inbox/accounts/" + id);
  EXPECT_EQ(account["owner"], "site");
  EXPECT_EQ(account["uidvalidity"], two["uidvalidity"]);
  EXPECT_EQ(account["last_uid"], 2);
}

TEST_P(InboxApi, BadInputIsAProblemNeverACrash) {
  ASSERT_FALSE(HasFailure());
  const auto& a = callers_[kEditorA];
  auto problem = [&](const web::Response& r, int status, const std::string& field = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json") << r.body;
    if (!field.empty()) {
      EXPECT_NE(r.body.find("\"field\":\"" + field + "\""), std::string::npos) << r.body;
    }
  };
  problem(Call("POST", "/api/v1/inbox/accounts", a, "{not json"), 400);
  problem(Call("POST", "/api/v1/inbox/accounts", a, "[1,2]"), 400);
  problem(Call("POST", "/api/v1/inbox/accounts", a, "{}"), 422, "password");
  problem(Call("POST", "/api/v1/inbox/accounts", a, AccountBody(R"({"host":"imap.example.com/INBOX;UID=1"})").dump()),
          422, "host");
  problem(Call("POST", "/api/v1/inbox/accounts", a, AccountBody(R"({"mailbox":"INBOX\r\nP9 DELETE INBOX"})").dump()),
          422, "mailbox");
  problem(Call("POST", "/api/v1/inbox/accounts", a, AccountBody(R"({"tls":"maybe","port":0})").dump()), 422, "tls");
  problem(Call("POST", "/api/v1/inbox/accounts", a, AccountBody(R"({"site_id":999999})").dump()), 422, "site_id");
  problem(Call("POST", "/api/v1/inbox/accounts", a, AccountBody(R"({"name":"<script>\u0000"})").dump()), 422, "name");
  auto ok = Call("POST", "/api/v1/inbox/accounts", a, AccountBody(R"({"name":"<b>Support</b>"})").dump());
  ASSERT_EQ(ok.status, 201) << ok.body;
  const std::string id = std::to_string(Json(ok)["id"].get<std::int64_t>());
  EXPECT_EQ(Json(ok)["name"], "<b>Support</b>");  // stored as text; JSON carries it safely
  problem(Call("PATCH", "/api/v1/inbox/accounts/" + id, a, R"({"site_id":1})"), 422, "site_id");
  problem(Call("PATCH", "/api/v1/inbox/accounts/" + id, a, R"({"port":"143"})"), 422, "port");
  problem(Call("GET", "/api/v1/inbox/messages?q=a%0Db", a), 400, "q");
  problem(Call("GET", "/api/v1/inbox/messages?q=%FF%FE", a), 400, "q");
  problem(Call("GET", "/api/v1/inbox/messages?limit=0", a), 400);
  problem(Call("GET", "/api/v1/inbox/messages?unread=maybe", a), 400, "unread");
  problem(Call("GET", "/api/v1/inbox/messages?cursor=abc", a), 400);
  problem(Call("GET", "/api/v1/inbox/messages/abc", a), 404);
  problem(Call("GET", "/api/v1/inbox/messages/-1", a), 404);
  problem(Call("GET", "/api/v1/inbox/messages/99999999999999999999", a), 404);
  problem(Call("GET", "/api/v1/inbox/accounts/1%20OR%201=1", a), 404);
  problem(Call("GET", "/api/v1/inbox/messages/1/attachments/..%2F..%2Fetc%2Fpasswd", a), 404);
  problem(Call("POST", "/api/v1/inbox/messages/1/archive", a, R"({"archived":"yes"})"), 422, "archived");
  // A server that refuses: the sync answers what happened, the account keeps it.
  auto bad = Call("PATCH", "/api/v1/inbox/accounts/" + id, a, R"({"password":"wrong"})");
  ASSERT_EQ(bad.status, 200) << bad.body;
  auto sync = Json(Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", a));
  EXPECT_EQ(sync["ok"], false);
  EXPECT_NE(sync["error"].get<std::string>().find("Login denied"), std::string::npos) << sync.dump();
  EXPECT_FALSE(Get(kEditorA, "/api/v1/inbox/accounts/" + id)["last_error"].get<std::string>().empty());
}

POSTE_INSTANTIATE_DB_TEST(InboxApi);

}  // namespace
}  // namespace poste::testing
