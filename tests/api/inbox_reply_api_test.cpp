// Replying to and forwarding inbox messages through the send path (issue 5, "messages"), on SQLite and
// PostgreSQL: messages delivered into Dovecot with dovecot-lda and synced, a reply and a forward queued as
// single messages of the site, their mail.send jobs run (as the app's workers would) into the SMTP capture
// server, and the captured messages parsed back: Re:/Fwd: subjects, In-Reply-To and References, the quoted
// text, the forwarded headers and the re-attached attachment. Who may: the inbox's access, then the site's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/ids.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_message_service.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using inbox::testing::DovecotFolder;
using inbox::testing::Env;

class InboxReplyApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    data_dir_ = config.data.dir;
    config.inbox.allow_private_hosts = {"127.0.0.1"};
    config.mail.smtp_allow_targets = {"127.0.0.1"};
  }

  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    folder_ = std::make_unique<DovecotFolder>("reply-test");
    queue_ = std::make_unique<jobs::JobQueue>(db());
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(master_key_));
    mail::AccountsOptions accounts;
    accounts.transports.smtp_policy = mail::SmtpTargetPolicy({"127.0.0.1"});
    accounts.transports.outbox_root = data_dir_ + "/mail/outbox";
    accounts.outbox_from = [](std::int64_t) { return mail::Mailbox{"Beta", "hello@beta.example"}; };
    accounts_ = std::make_unique<mail::MailAccountsService>(db(), *box_, std::move(accounts));
    service_ = std::make_unique<mail::MailMessagesService>(db(), *queue_, *accounts_);
    auto smtp = Call("POST", "/api/v1/sites/alpha/mail/accounts", callers_[kAdmin],
                     nlohmann::json{{"name", "Capture"},
                                    {"type", "smtp"},
                                    {"from", {{"email", "desk@alpha.example"}, {"name", "Alpha Desk"}}},
                                    {"settings",
                                     {{"host", Env("POSTE_TEST_SMTP_HOST")},
                                      {"port", std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str())},
                                      {"tls", "none"}}}}
                         .dump());
    ASSERT_EQ(smtp.status, 201) << smtp.body;
    token_ = "tok" + RandomHex(8);
  }
  void TearDown() override {
    folder_.reset();
    PermissionTable::TearDown();
  }

  // An inbox account of site A (shared) or of editor A (personal), synced; its one message's id.
  std::int64_t SyncedMessage(bool shared) {
    auto body = inbox::testing::DovecotAccountBody(folder_->name());
    if (shared) body["site_id"] = site_a_;
    auto created = Call("POST", "/api/v1/inbox/accounts", callers_[kEditorA], body.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = std::to_string(nlohmann::json::parse(created.body)["id"].get<std::int64_t>());
    auto sync = Call("POST", "/api/v1/inbox/accounts/" + id + "/sync", callers_[kEditorA]);
    EXPECT_EQ(sync.status, 200) << sync.body;
    auto list = nlohmann::json::parse(Call("GET", "/api/v1/inbox/messages?account=" + id, callers_[kEditorA]).body);
    EXPECT_EQ(list["items"].size(), 1u) << list.dump();
    return list["items"].empty() ? 0 : list["items"][0]["id"].get<std::int64_t>();
  }
  int RunJobs() {
    int ran = 0;
    while (auto job = queue_->Claim("test", 60'000, {std::string(mail::kSendJobKind)})) {
      ++ran;
      service_->HandleSend(*job);
      queue_->Complete(job->id, "test");
    }
    return ran;
  }
  web::Response Post(const std::string& target, const nlohmann::json& body, Caller who = kEditorA) {
    return Call("POST", target, callers_[who], body.dump());
  }
  nlohmann::json Sent(const web::Response& queued) {
    const auto j = nlohmann::json::parse(queued.body);
    auto r = Call("GET", "/api/v1/sites/alpha/mail/messages/" + std::to_string(j["id"].get<std::int64_t>()),
                  callers_[kEditorA]);
    return nlohmann::json::parse(r.body);
  }
  static bool HasField(const web::Response& r, const std::string& field, const std::string& code) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors")) return false;
    for (const auto& e : j["errors"]) {
      if (e["field"] == field && e["code"] == code) return true;
    }
    return false;
  }

  std::unique_ptr<DovecotFolder> folder_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<mail::MailAccountsService> accounts_;
  std::unique_ptr<mail::MailMessagesService> service_;
  std::string token_, data_dir_;
};

TEST_P(InboxReplyApi, AReplyGoesThroughTheSendPathWithItsThreadHeaders) {
  folder_->Deliver(
      "From: Ada <ada@example.org>\nTo: support@alpha.example\nCc: Carol <carol@example.org>\n"
      "Subject: Question " +
      token_ + "\nMessage-ID: <q-" + token_ +
      "@example.org>\n"
      "References: <root-" +
      token_ +
      "@example.org>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
      "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nLine one\n> older\nLine two\n");
  const auto id = std::to_string(SyncedMessage(true));
  auto signature = Call("PUT", "/api/v1/sites/alpha/mail/signature", callers_[kEditorA], R"({"text":"Ada's desk"})");
  ASSERT_EQ(signature.status, 200) << signature.body;
  auto queued = Post("/api/v1/inbox/messages/" + id + "/reply",
                     {{"text", "Thanks, answered " + token_}, {"reply_all", true}, {"signature", true}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  EXPECT_EQ(queued.headers.Get("Location")
                .value_or("")
                .rfind("/api/v1/sites/" + std::to_string(site_a_) + "/mail/messages/", 0),
            0u);
  EXPECT_EQ(RunJobs(), 1);
  auto m = Sent(queued);
  ASSERT_EQ(m["state"], "sent") << m.dump();
  EXPECT_EQ(m["subject"], "Re: Question " + token_);
  auto captured = mail::testing::SmtpCapture().Matching("Re: Question " + token_);
  ASSERT_EQ(captured.size(), 1u);
  auto parsed = mail::ParseMessage(captured[0].eml);
  EXPECT_EQ(parsed.subject, "Re: Question " + token_);
  ASSERT_EQ(parsed.to.size(), 1u);
  EXPECT_EQ(parsed.to[0].email, "ada@example.org");
  std::vector<std::string> cc;
  for (const auto& a : parsed.cc) cc.push_back(a.email);
  EXPECT_NE(std::find(cc.begin(), cc.end(), "carol@example.org"), cc.end()) << "reply all";
  EXPECT_EQ(parsed.in_reply_to, "q-" + token_ + "@example.org");
  EXPECT_EQ(parsed.references,
            (std::vector<std::string>{"root-" + token_ + "@example.org", "q-" + token_ + "@example.org"}));
  const auto own = parsed.text.find("Thanks, answered " + token_);
  const auto sig = parsed.text.find("Ada's desk");
  const auto quote = parsed.text.find("> Line one");
  ASSERT_NE(own, std::string::npos) << parsed.text;
  ASSERT_NE(sig, std::string::npos) << parsed.text;
  ASSERT_NE(quote, std::string::npos) << parsed.text;
  EXPECT_LT(own, sig);
  EXPECT_LT(sig, quote) << "the signature under the text, above the quote";
  EXPECT_NE(parsed.text.find(">> older"), std::string::npos) << parsed.text;
  EXPECT_NE(parsed.text.find("ada@example.org> wrote:"), std::string::npos) << parsed.text;

  // Without the quote; a personal inbox's message with the site named.
  auto plain = Post("/api/v1/inbox/messages/" + id + "/reply", {{"text", "Short " + token_}, {"quote", false}});
  ASSERT_EQ(plain.status, 202) << plain.body;
  EXPECT_EQ(Sent(plain)["cc"], nlohmann::json::array());
}

TEST_P(InboxReplyApi, AForwardCarriesTheHeadersTextAndAttachments) {
  folder_->Deliver(
      "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>\nTo: support@alpha.example\n"
      "Subject: Facture " +
      token_ + "\nMessage-ID: <f-" + token_ +
      "@example.org>\n"
      "Date: Mon, 02 Mar 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=mix\n\n--mix\nContent-Type: text/html; charset=utf-8\n\n"
      "<p>Voir la <b>facture</b><script>x()</script></p>\n--mix\nContent-Type: application/pdf\n"
      "Content-Disposition: attachment; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf\n"
      "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--mix--\n");
  const auto id = std::to_string(SyncedMessage(false));  // a personal inbox: the site is named
  auto queued = Post("/api/v1/inbox/messages/" + id + "/forward",
                     {{"to", {"Bob <bob@example.net>"}}, {"text", "FYI " + token_}, {"site", "alpha"}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  auto m = Sent(queued);
  EXPECT_EQ(m["files"], nlohmann::json::parse(R"([{"filename":"facture été.pdf","content_type":"application/pdf"}])"));
  EXPECT_EQ(RunJobs(), 1);
  m = Sent(queued);
  ASSERT_EQ(m["state"], "sent") << m.dump();
  auto captured = mail::testing::SmtpCapture().Matching("Fwd: Facture " + token_);
  ASSERT_EQ(captured.size(), 1u);
  auto parsed = mail::ParseMessage(captured[0].eml);
  EXPECT_EQ(parsed.subject, "Fwd: Facture " + token_);
  ASSERT_EQ(parsed.to.size(), 1u);
  EXPECT_EQ(parsed.to[0].email, "bob@example.net");
  EXPECT_TRUE(parsed.in_reply_to.empty());
  const auto note = parsed.text.find("FYI " + token_);
  const auto head = parsed.text.find("---------- Forwarded message ----------");
  ASSERT_NE(note, std::string::npos) << parsed.text;
  ASSERT_NE(head, std::string::npos) << parsed.text;
  EXPECT_LT(note, head);
  EXPECT_NE(parsed.text.find("From: Zo\xC3\xAB <zoe@example.org>"), std::string::npos) << parsed.text;
  EXPECT_NE(parsed.text.find("Subject: Facture " + token_), std::string::npos) << parsed.text;
  EXPECT_NE(parsed.text.find("Voir la facture"), std::string::npos) << parsed.text;
  EXPECT_EQ(captured[0].eml.find("<script>"), std::string::npos) << "the original's HTML is not forwarded as it is";
  ASSERT_EQ(parsed.attachments.size(), 1u);
  EXPECT_EQ(parsed.attachments[0].filename, "facture été.pdf");
  EXPECT_EQ(parsed.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(parsed.attachments[0].bytes, "%PDF-1.4\n");

  // No note: the forwarded message alone.
  auto bare = Post("/api/v1/inbox/messages/" + id + "/forward", {{"to", "bob@example.net"}, {"site", site_a_}});
  ASSERT_EQ(bare.status, 202) << bare.body;
  EXPECT_EQ(Sent(bare)["text"].get<std::string>().rfind("---------- Forwarded message ----------", 0), 0u);
}

TEST_P(InboxReplyApi, BadInputAndAccess) {
  folder_->Deliver("From: ada@example.org\nSubject: Hi\nMessage-ID: <b-" + token_ +
                   "@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHi\n");
  const auto shared = std::to_string(SyncedMessage(true));
  const std::string reply = "/api/v1/inbox/messages/" + shared + "/reply";
  const std::string forward = "/api/v1/inbox/messages/" + shared + "/forward";
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"to", {"x@example.com"}}}), "to", "not_allowed"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"subject", "s"}}), "subject", "not_allowed"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"references", "<a@b>"}}), "references", "not_allowed"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"template_id", 1}}), "template_id", "not_allowed"));
  EXPECT_TRUE(HasField(Post(reply, nlohmann::json::object()), "text", "required"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"reply_all", "yes"}}), "reply_all", "invalid_type"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"site", "beta"}}), "site", "not_found"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"site", "no-such-site"}}), "site", "not_found"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"site", nlohmann::json::array()}}), "site", "invalid_type"));
  EXPECT_TRUE(HasField(Post(reply, {{"text", "x"}, {"headers", {{"X-A", "a\r\nBcc: v@example.com"}}}}),
                       "headers[0].value", "header_injection"));
  EXPECT_TRUE(HasField(Post(reply, {{"html", "<p>x</p>"}, {"bogus", 1}}), "bogus", "unknown_field"));
  EXPECT_TRUE(HasField(Post(forward, {{"text", "x"}}), "to", "required"));
  EXPECT_TRUE(HasField(Post(forward, {{"to", {"not an address"}}}), "to[0]", "invalid_email") ||
              Post(forward, {{"to", {"not an address"}}}).status == 422);
  EXPECT_EQ(Call("POST", reply, callers_[kEditorA], "not json").status, 400);
  // Who sees the message: editor B and the admin key of site B do not; the admin sees a shared inbox.
  EXPECT_EQ(Post(reply, {{"text", "x"}}, kEditorB).status, 404);
  EXPECT_EQ(Post(reply, {{"to", {"x@example.com"}}}, kEditorB).status, 404) << "404 before field errors";
  EXPECT_EQ(Post("/api/v1/inbox/messages/999999/reply", {{"text", "x"}}).status, 404);
  EXPECT_EQ(Post(reply, {{"text", "x"}, {"site", "beta"}}, kAdmin).status, 202) << "admins send for any site";
  EXPECT_EQ(RunJobs(), 1);
}

POSTE_INSTANTIATE_DB_TEST(InboxReplyApi);

}  // namespace
}  // namespace poste::testing
