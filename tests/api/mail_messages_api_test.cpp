// Single messages through the whole app (issue 5), on SQLite and PostgreSQL: POST .../mail/messages answers
// 202, the mail.send job (run here by a messages service over the same database and master key, as the
// app's workers would) delivers through SMTP to the real capture server, and the captured .eml is parsed
// back (headers, parts, UTF-8 subject, an attachment from the media library). Faults: 451 retried, 550
// failed at once with the exact answer, header injection refused with field errors; idempotency keys,
// cancel, the list with its cursor.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "jobs/job_queue.hpp"
#include "lib/ids.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_message_service.hpp"
#include "modules/media/media_service.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

const std::string kPdf = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

class MailMessagesApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    data_dir_ = config.data.dir;
    config.mail.smtp_allow_targets = {"127.0.0.1"};
    config.mail.max_attempts = 3;
  }

  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    queue_ = std::make_unique<jobs::JobQueue>(
        db(), [this] { return Now(); }, [] { return 0.0; });
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(master_key_));
    media_ = std::make_unique<media::MediaService>(db(), *queue_, media::MediaOptions{data_dir_ + "/media"});
    mail::AccountsOptions accounts;
    accounts.transports.outbox_root = data_dir_ + "/mail/outbox";
    accounts.transports.smtp_policy = mail::SmtpTargetPolicy({"127.0.0.1"});
    accounts_ = std::make_unique<mail::MailAccountsService>(db(), *box_, std::move(accounts));
    mail::MessagesOptions options;
    options.max_attempts = 3;
    options.now_ms = [this] { return Now(); };
    options.jitter = [] { return 0.0; };
    options.media_attachment = [this](std::int64_t site, std::int64_t id) -> std::optional<mail::Attachment> {
      auto item = media_->Get(site, id);
      mail::Attachment a;
      a.filename = item.filename;
      a.content_type = item.content_type;
      a.path = media_->PathOf(item);
      return a;
    };
    service_ = std::make_unique<mail::MailMessagesService>(db(), *queue_, *accounts_, options);
    auto account = Call("POST", "/api/v1/sites/alpha/mail/accounts", callers_[kAdmin],
                        nlohmann::json{{"name", "Capture"},
                                       {"type", "smtp"},
                                       {"from", {{"email", "news@alpha.example"}, {"name", "Équipe Alpha"}}},
                                       {"settings",
                                        {{"host", Env("POSTE_TEST_SMTP_HOST")},
                                         {"port", std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str())},
                                         {"tls", "none"}}}}
                            .dump());
    ASSERT_EQ(account.status, 201) << account.body;
  }

  int RunJobs() {
    int ran = 0;
    while (auto job = queue_->Claim("test", 60'000, {std::string(mail::kSendJobKind)})) {
      // The watch of a try (queued with each claim, due after the sending lease) is not a send.
      if (job->payload.find("watch_attempt") == std::string::npos) ++ran;
      try {
        service_->HandleSend(*job);
        queue_->Complete(job->id, "test");
      } catch (const std::exception& e) {
        queue_->Fail(job->id, "test", e.what());
      }
    }
    return ran;
  }

  web::Response Send(const nlohmann::json& body, Headers extra = {}) {
    Headers h = callers_[kEditorA];
    h.insert(h.end(), extra.begin(), extra.end());
    return Call("POST", base_, h, body.dump());
  }
  nlohmann::json Message(const std::string& to) {
    token_ = "tok" + RandomHex(8);
    return {{"to", {to}}, {"subject", "Réunion 📅 " + token_}, {"html", "<p>Bonjour <b>" + token_ + "</b></p>"}};
  }
  nlohmann::json Get(std::int64_t id) {
    return nlohmann::json::parse(Call("GET", base_ + "/" + std::to_string(id), callers_[kEditorA]).body);
  }
  static bool HasField(const web::Response& r, const std::string& field, const std::string& code) {
    auto j = nlohmann::json::parse(r.body);
    for (const auto& e : j["errors"]) {
      if (e["field"] == field && e["code"] == code) return true;
    }
    return false;
  }

  std::string data_dir_, token_;
  const std::string base_ = "/api/v1/sites/alpha/mail/messages";
  // The jobs' clock: the wall clock (the app queues at its now) plus what a test skips ahead.
  std::int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count() +
           skip_;
  }
  std::int64_t skip_ = 0;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<media::MediaService> media_;
  std::unique_ptr<mail::MailAccountsService> accounts_;
  std::unique_ptr<mail::MailMessagesService> service_;
};

TEST_P(MailMessagesApi, SentThroughSmtpAndReadBackFromTheCapture) {
  Headers h = callers_[kEditorA];
  h.emplace_back("Content-Type", "application/octet-stream");
  auto upload = Call("POST", "/api/v1/sites/alpha/media?filename=contrat%20sign%C3%A9.pdf", h, kPdf);
  ASSERT_EQ(upload.status, 201) << upload.body;
  const auto media_id = nlohmann::json::parse(upload.body)["id"].get<std::int64_t>();

  auto body = Message("ada@example.com");
  body["to"] = {{{"email", "ada@example.com"}, {"name", "Adèle Lovelace"}}, "Bob <bob@example.org>"};
  body["cc"] = {"carol@example.net"};
  body["reply_to"] = "desk@alpha.example";
  body["text"] = "Bonjour " + token_;
  body["headers"] = {{"X-Request", "r-1"}};
  body["attachments"] = {media_id};
  auto sent = Send(body);
  ASSERT_EQ(sent.status, 202) << sent.body;
  auto queued = nlohmann::json::parse(sent.body);
  EXPECT_EQ(queued["state"], "queued");
  const auto id = queued["id"].get<std::int64_t>();
  EXPECT_EQ(RunJobs(), 1);
  auto m = Get(id);
  ASSERT_EQ(m["state"], "sent") << m.dump();
  EXPECT_EQ(m["attempts"], 1);
  EXPECT_EQ(m["attachments"], nlohmann::json::array({media_id}));

  auto captured = mail::testing::SmtpCapture().Matching(token_);
  ASSERT_EQ(captured.size(), 1u);
  auto parsed = mail::ParseMessage(captured[0].eml);
  EXPECT_EQ(parsed.subject, "Réunion 📅 " + token_);
  EXPECT_EQ("<" + parsed.message_id + ">", m["message_id"].get<std::string>());
  ASSERT_TRUE(parsed.from.has_value());
  EXPECT_EQ(parsed.from->name, "Équipe Alpha");
  ASSERT_EQ(parsed.to.size(), 2u);
  EXPECT_EQ(parsed.to[0].name, "Adèle Lovelace");
  EXPECT_EQ(parsed.to[1].email, "bob@example.org");
  ASSERT_EQ(parsed.cc.size(), 1u);
  ASSERT_EQ(parsed.reply_to.size(), 1u);
  ASSERT_NE(parsed.Header("X-Request"), nullptr);
  EXPECT_NE(parsed.html.find("<b>" + token_ + "</b>"), std::string::npos);
  EXPECT_NE(parsed.text.find("Bonjour " + token_), std::string::npos);
  ASSERT_EQ(parsed.attachments.size(), 1u);
  EXPECT_EQ(parsed.attachments[0].filename, "contrat signé.pdf");
  EXPECT_EQ(parsed.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(parsed.attachments[0].bytes, kPdf);
}

TEST_P(MailMessagesApi, TemporaryFailuresAreRetriedPermanentOnesFailAtOnce) {
  auto temp = nlohmann::json::parse(Send(Message("tempfail-ada@example.com")).body)["id"].get<std::int64_t>();
  auto perm = nlohmann::json::parse(Send(Message("reject-ada@example.com")).body)["id"].get<std::int64_t>();
  EXPECT_EQ(RunJobs(), 2);
  EXPECT_EQ(Get(temp)["state"], "queued");
  EXPECT_EQ(Get(temp)["last_error"], "451 4.3.0 Temporary failure requested by the capture server");
  EXPECT_EQ(Get(perm)["state"], "failed");
  EXPECT_EQ(Get(perm)["attempts"], 1);
  EXPECT_EQ(Get(perm)["last_error"], "550 5.1.1 Recipient rejected by the capture server");
  for (int attempt = 1; attempt < 3; ++attempt) {
    skip_ += jobs::JobQueue::RetryDelayMs(attempt, 0.0);
    EXPECT_EQ(RunJobs(), 1);
  }
  EXPECT_EQ(Get(temp)["state"], "failed");
  EXPECT_EQ(Get(temp)["attempts"], 3);
  auto failed = Call("GET", base_ + "?state=failed", callers_[kEditorA]);
  EXPECT_EQ(nlohmann::json::parse(failed.body)["items"].size(), 2u);
}

TEST_P(MailMessagesApi, HeaderInjectionIsRefusedWithFieldErrors) {
  auto body = Message("ada@example.com");
  body["subject"] = "Hi\r\nBcc: victim@example.com";
  auto r = Send(body);
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(HasField(r, "subject", "header_injection")) << r.body;
  body = Message("ada@example.com");
  body["to"] = {{{"email", "ada@example.com"}, {"name", "Ada\nBcc: victim@example.com"}}};
  EXPECT_TRUE(HasField(Send(body), "to[0].name", "header_injection"));
  body = Message("ada@example.com");
  body["to"] = {"ada@example.com\r\nBcc: victim@example.com"};
  r = Send(body);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("to[0]"), std::string::npos) << r.body;
  body = Message("ada@example.com");
  body["cc"] = {{{"email", "not-an-address"}}};
  EXPECT_TRUE(HasField(Send(body), "cc[0].email", "invalid_email"));
  body = Message("ada@example.com");
  body["headers"] = {{"X-Ok", "a\r\nBcc: b@c.d"}};
  EXPECT_TRUE(HasField(Send(body), "headers[0].value", "header_injection"));
  body = Message("ada@example.com");
  body["reply_to"] = "desk@alpha.example\nX-Injected: 1";
  EXPECT_EQ(Send(body).status, 422);
  body = Message("ada@example.com");
  body.erase("html");
  EXPECT_TRUE(HasField(Send(body), "text", "required"));
  body = Message("ada@example.com");
  body["send_at"] = "2026-02-30T09:00";
  EXPECT_TRUE(HasField(Send(body), "send_at", "invalid_format"));
  body = Message("ada@example.com");
  body["attachments"] = {999999};
  EXPECT_TRUE(HasField(Send(body), "attachments[0]", "not_found"));
  body = Message("ada@example.com");
  body["account_id"] = 999999;
  EXPECT_TRUE(HasField(Send(body), "account_id", "not_found"));
  EXPECT_EQ(Call("POST", base_, callers_[kEditorA], "not json").status, 400);
  EXPECT_EQ(RunJobs(), 0) << "nothing was queued";
}

TEST_P(MailMessagesApi, IdempotencyKeysCancelAndTheList) {
  auto first = Send(Message("ada@example.com"), {{"Idempotency-Key", "signup-7"}});
  ASSERT_EQ(first.status, 202) << first.body;
  auto again = Send(Message("other@example.com"), {{"Idempotency-Key", "signup-7"}});
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(nlohmann::json::parse(again.body)["id"], nlohmann::json::parse(first.body)["id"]);
  EXPECT_EQ(nlohmann::json::parse(again.body)["created"], false);
  auto body = Message("ada@example.com");
  body["idempotency_key"] = "signup-7";
  EXPECT_EQ(nlohmann::json::parse(Send(body).body)["id"], nlohmann::json::parse(first.body)["id"]);

  body = Message("later@example.com");
  body["send_at"] = "2099-01-01T08:00:00+01:00";
  auto scheduled = nlohmann::json::parse(Send(body).body);
  const std::string later_token = token_;
  const auto sid = scheduled["id"].get<std::int64_t>();
  EXPECT_EQ(scheduled["send_at"], 4070934000000);
  auto cancelled = Call("POST", base_ + "/" + std::to_string(sid) + "/cancel", callers_[kEditorA]);
  EXPECT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(nlohmann::json::parse(cancelled.body)["state"], "cancelled");
  EXPECT_EQ(Call("POST", base_ + "/" + std::to_string(sid) + "/cancel", callers_[kEditorA]).status, 409);
  EXPECT_EQ(
      Call("POST", "/api/v1/sites/beta/mail/messages/" + std::to_string(sid) + "/cancel", callers_[kAdmin]).status,
      404);
  skip_ = 4070934000000 - Now() + 1;
  EXPECT_EQ(RunJobs(), 2);
  EXPECT_EQ(Get(sid)["state"], "cancelled");
  EXPECT_TRUE(mail::testing::SmtpCapture().Matching(later_token).empty()) << "a cancelled message is never sent";

  for (int i = 0; i < 3; ++i) Send(Message("many@example.com"));
  auto page = nlohmann::json::parse(Call("GET", base_ + "?limit=2", callers_[kEditorA]).body);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_GT(page["items"][0]["id"].get<std::int64_t>(), page["items"][1]["id"].get<std::int64_t>());
  ASSERT_TRUE(page["next_cursor"].is_string());
  auto rest = nlohmann::json::parse(
      Call("GET", base_ + "?limit=10&cursor=" + page["next_cursor"].get<std::string>(), callers_[kEditorA]).body);
  EXPECT_EQ(rest["items"].size(), 3u);
  EXPECT_TRUE(rest["next_cursor"].is_null());
  EXPECT_EQ(Call("GET", base_ + "?state=bogus", callers_[kEditorA]).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/sites/beta/mail/messages", callers_[kEditorA]).status, 404);
}

TEST_P(MailMessagesApi, FromATemplateWithTheSendersSignature) {
  auto tpl =
      Call("POST", "/api/v1/sites/alpha/mail/templates", callers_[kEditorA],
           R"({"name":"Welcome","subject":"Welcome {{name}}","html":"<p>Hello <b>{{name}}</b>, code {{code}}</p>",)"
           R"("text":"Hello {{name}}, code {{code}}"})");
  ASSERT_EQ(tpl.status, 201) << tpl.body;
  const auto template_id = nlohmann::json::parse(tpl.body)["id"].get<std::int64_t>();
  auto other = Call("POST", "/api/v1/sites/beta/mail/templates", callers_[kAdmin],
                    R"({"name":"Beta","subject":"B {{name}}","html":"<p>B</p>"})");
  ASSERT_EQ(other.status, 201) << other.body;
  auto signature = Call("PUT", "/api/v1/sites/alpha/mail/signature", callers_[kEditorA],
                        R"({"html":"<p>Ada &mdash; Alpha desk</p>","text":"Ada - Alpha desk"})");
  ASSERT_EQ(signature.status, 200) << signature.body;

  token_ = "tok" + RandomHex(8);
  nlohmann::json body = {{"to", {"ada@example.com"}},
                         {"template_id", template_id},
                         {"variables", {{"name", token_ + " <&>"}, {"code", 42}}},
                         {"signature", true}};
  auto sent = Send(body);
  ASSERT_EQ(sent.status, 202) << sent.body;
  const auto id = nlohmann::json::parse(sent.body)["id"].get<std::int64_t>();
  EXPECT_EQ(RunJobs(), 1);
  auto m = Get(id);
  ASSERT_EQ(m["state"], "sent") << m.dump();
  EXPECT_EQ(m["subject"], "Welcome " + token_ + " <&>");
  auto captured = mail::testing::SmtpCapture().Matching(token_);
  ASSERT_EQ(captured.size(), 1u);
  auto parsed = mail::ParseMessage(captured[0].eml);
  EXPECT_EQ(parsed.subject, "Welcome " + token_ + " <&>");
  EXPECT_NE(parsed.html.find("<b>" + token_ + " &lt;&amp;&gt;</b>, code 42"), std::string::npos) << parsed.html;
  EXPECT_NE(parsed.html.find("-- <br>\n<p>Ada &mdash; Alpha desk</p>"), std::string::npos) << parsed.html;
  const auto body_at = parsed.text.find("Hello " + token_ + " <&>, code 42");
  const auto signature_at = parsed.text.find("Ada - Alpha desk");
  ASSERT_NE(body_at, std::string::npos) << parsed.text;
  ASSERT_NE(signature_at, std::string::npos) << parsed.text;
  EXPECT_LT(body_at, signature_at);

  // The request's own subject overrides the template's; no signature unless asked.
  body["subject"] = "Own subject " + token_;
  body.erase("signature");
  auto own = Send(body);
  ASSERT_EQ(own.status, 202) << own.body;
  auto own_message = Get(nlohmann::json::parse(own.body)["id"].get<std::int64_t>());
  EXPECT_EQ(own_message["subject"], "Own subject " + token_);
  EXPECT_EQ(own_message["text"], "Hello " + token_ + " <&>, code 42");

  // Missing required variables are named before anything is queued; another site's template is not found.
  body = {{"to", {"ada@example.com"}}, {"template_id", template_id}, {"variables", {{"code", 1}}}};
  auto missing = Send(body);
  EXPECT_EQ(missing.status, 422);
  EXPECT_TRUE(HasField(missing, "variables.name", "missing_variable")) << missing.body;
  body["template_id"] = nlohmann::json::parse(other.body)["id"];
  EXPECT_TRUE(HasField(Send(body), "template_id", "not_found"));
  body["template_id"] = "7";
  EXPECT_TRUE(HasField(Send(body), "template_id", "invalid_type"));
  body = {{"to", {"ada@example.com"}}, {"subject", "s"}, {"text", "t"}, {"variables", {{"a", 1}}}};
  EXPECT_TRUE(HasField(Send(body), "variables", "unexpected"));
  EXPECT_EQ(RunJobs(), 1) << "only the message with its own subject was queued";
}

TEST_P(MailMessagesApi, TheDeliveryLogFiltersByStateAndRecipient) {
  ASSERT_EQ(Send(Message("a_b@example.com")).status, 202);
  ASSERT_EQ(Send(Message("axb@example.com")).status, 202);
  auto cc = Message("carol@example.com");
  cc["cc"] = {"A_B@Example.com"};
  ASSERT_EQ(Send(cc).status, 202);
  auto list = [&](const std::string& query) {
    auto r = Call("GET", base_ + query, callers_[kEditorA]);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body)["items"];
  };
  auto found = list("?to=a_b%40example.com");
  ASSERT_EQ(found.size(), 2u) << "_ is not a wildcard; To and Cc; any case";
  EXPECT_EQ(list("?to=A_B%40EXAMPLE.COM").size(), 2u);
  EXPECT_EQ(list("?to=carol%40example.com&state=queued").size(), 1u);
  EXPECT_EQ(list("?to=carol%40example.com&state=sent").size(), 0u);
  EXPECT_EQ(list("?to=nobody%40example.com").size(), 0u);
  auto page = Call("GET", base_ + "?to=a_b%40example.com&limit=1", callers_[kEditorA]);
  auto first = nlohmann::json::parse(page.body);
  ASSERT_EQ(first["items"].size(), 1u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(list("?to=a_b%40example.com&cursor=" + first["next_cursor"].get<std::string>()).size(), 1u);
  for (const char* bad : {"?to=not-an-address", "?to=%25", "?to=a%40b.c%0D%0ABcc:x%40y.z", "?to=Ada%20%3Ca%40b.c%3E"}) {
    EXPECT_EQ(Call("GET", base_ + bad, callers_[kEditorA]).status, 400) << bad;
  }
}

POSTE_INSTANTIATE_DB_TEST(MailMessagesApi);

}  // namespace
}  // namespace poste::testing
