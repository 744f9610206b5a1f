// Campaigns through the whole app with its job workers (issue 5), on SQLite and PostgreSQL: a CSV upload (rows
// refused by line, duplicates dropped), a preview, then the campaign delivered through SMTP to the real capture
// server: one personalised message per recipient with List-Unsubscribe (RFC 8058), a 550 recipient failed with
// the server's answer, a suppressed one skipped. Pause, resume and cancel; bad input refused with field errors.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "app/app.hpp"
#include "lib/ids.hpp"
#include "lib/mail/dkim.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "modules/mail/mail_dkim_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using json = nlohmann::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class MailCampaignsApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    config.mail.smtp_allow_targets = {"127.0.0.1"};
    config.jobs.poll_interval_ms = 50;
  }

  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    token_ = RandomHex(5);
    auto url = Call("PUT", "/api/v1/sites/alpha/settings/mail.public_url", callers_[kAdmin],
                    R"({"value":"https://alpha.example"})");
    ASSERT_EQ(url.status, 200) << url.body;
    application().StartJobWorkers(3);
  }

  json Ok(const std::string& method, const std::string& target, const std::string& body, int status,
          Headers headers = {}) {
    Headers h = headers.empty() ? callers_[kEditorA] : headers;
    auto r = Call(method, target, h, body);
    EXPECT_EQ(r.status, status) << method << " " << target << ": " << r.body;
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }

  void AddAccount(const json& limits = json::object()) {
    json account = {{"name", "Capture " + token_},
                    {"type", "smtp"},
                    {"from", {{"email", "news@alpha.example"}, {"name", "Équipe Alpha"}}},
                    {"settings",
                     {{"host", Env("POSTE_TEST_SMTP_HOST")},
                      {"port", std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str())},
                      {"tls", "none"}}},
                    {"is_default", true}};
    if (!limits.empty()) account["limits"] = limits;
    Ok("POST", "/api/v1/sites/alpha/mail/accounts", account.dump(), 201, callers_[kAdmin]);
  }

  std::string Csv(int n, const std::string& extra = "") {
    std::string csv = "Courriel;Prénom;Ville\n";
    for (int i = 0; i < n; ++i) {
      csv += "camp-" + token_ + "-" + std::to_string(i) + "@example.com;Zoé " + std::to_string(i) + ";Genève\n";
    }
    return csv + extra;
  }

  web::Response Upload(std::int64_t id, const std::string& csv) {
    return Call("POST", base_ + "/" + std::to_string(id) + "/recipients",
                Concat(callers_[kEditorA], {{"Content-Type", "text/csv; charset=utf-8"}}), csv);
  }
  static Headers Concat(Headers a, const Headers& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  std::int64_t NewCampaign(const std::string& subject = "Bonjour {{prenom}} de {{ville}}", int parallel = 2) {
    return Ok("POST", base_,
              json{{"name", "News " + token_},
                   {"subject", subject},
                   {"html", "<p>Bonjour {{prenom}}, <a href=\"https://alpha.example\">lire</a></p>"},
                   {"parallel", parallel}}
                  .dump(),
              201)["id"];
  }

  json WaitForState(std::int64_t id, const std::string& state, int seconds = 60) {
    json c;
    for (int i = 0; i < seconds * 20; ++i) {
      c = Ok("GET", base_ + "/" + std::to_string(id), "", 200);
      if (c["state"] == state) return c;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "campaign " << id << " never became " << state << ": " << c.dump();
    return c;
  }

  // Captured messages whose envelope goes to this test's addresses: recipient -> message bytes.
  std::multimap<std::string, std::string> Captured() {
    std::multimap<std::string, std::string> out;
    for (const auto& m : mail::testing::SmtpCapture().ToRecipient(token_)) {
      for (const auto& rcpt : m.envelope["rcpt_tos"]) {
        const std::string to = rcpt.get<std::string>();
        if (to.find(token_) != std::string::npos) out.emplace(to, m.eml);
      }
    }
    return out;
  }

  std::string token_;
  const std::string base_ = "/api/v1/sites/alpha/mail/campaigns";
};

TEST_P(MailCampaignsApi, CsvRecipientsGetOnePersonalisedMessageEachThroughSmtp) {
  AddAccount();
  const std::string suppressed = "camp-" + token_ + "-suppressed@example.com";
  Ok("POST", "/api/v1/sites/alpha/mail/suppressions", json{{"email", suppressed}}.dump(), 201);
  const auto id = NewCampaign();
  const std::string path = base_ + "/" + std::to_string(id);

  const std::string extra =
      "not-an-address;Bad;X\n"  // line 12: refused
      "camp-" +
      token_ +
      "-0@EXAMPLE.com;Again;X\n"  // line 13: duplicate
      "reject-" +
      token_ + "@example.com;Refused;X\n"  // 550 at RCPT
      + suppressed + ";Listed;X\n";
  auto r = Upload(id, Csv(10, extra));
  ASSERT_EQ(r.status, 200) << r.body;
  auto imported = json::parse(r.body);
  EXPECT_EQ(imported["added"], 12);
  EXPECT_EQ(imported["variables"], json({"courriel", "prenom", "ville"}));
  EXPECT_EQ(imported["duplicates"], 1);
  EXPECT_EQ(imported["duplicate_lines"], json({13}));
  ASSERT_EQ(imported["rejected_count"], 1);
  EXPECT_EQ(imported["rejected"][0]["line"], 12);
  EXPECT_EQ(imported["rejected"][0]["code"], "invalid_email");

  auto preview = Ok("GET", path + "/preview", "", 200);
  EXPECT_EQ(preview["subject"], "Bonjour Zoé 0 de Genève");
  EXPECT_EQ(preview["missing_variables"], json::array());
  EXPECT_NE(preview["html"].get<std::string>().find("<p>Bonjour Zoé 0,"), std::string::npos);

  auto started = Ok("POST", path + "/start", "", 200);
  EXPECT_EQ(started["state"], "running");
  auto done = WaitForState(id, "finished");
  EXPECT_EQ(done["counts"]["sent"], 10) << done.dump();
  EXPECT_EQ(done["counts"]["failed"], 1);
  EXPECT_EQ(done["counts"]["skipped"], 1);
  EXPECT_EQ(done["counts"]["pending"], 0);

  auto failed = Ok("GET", path + "/recipients?state=failed", "", 200);
  ASSERT_EQ(failed["items"].size(), 1u);
  EXPECT_NE(failed["items"][0]["last_error"].get<std::string>().find("550"), std::string::npos)
      << failed["items"][0].dump();

  const auto captured = Captured();
  EXPECT_EQ(captured.size(), 10u);
  std::set<std::string> recipients;
  for (const auto& [to, eml] : captured) {
    recipients.insert(to);
    auto parsed = mail::ParseMessage(eml);
    const std::string n = to.substr(to.rfind('-') + 1, to.find('@') - to.rfind('-') - 1);
    EXPECT_EQ(parsed.subject, "Bonjour Zoé " + n + " de Genève");
    EXPECT_NE(parsed.html.find("Bonjour Zoé " + n), std::string::npos);
    EXPECT_FALSE(parsed.text.empty()) << "a text part derived from the HTML";
    EXPECT_NE(eml.find("List-Unsubscribe: <https://alpha.example/u/"), std::string::npos) << eml.substr(0, 2000);
    EXPECT_NE(eml.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos);
    EXPECT_EQ(parsed.message_id.rfind("c" + std::to_string(id) + ".", 0), 0u) << parsed.message_id;
  }
  EXPECT_EQ(recipients.size(), 10u) << "one message per recipient";

  // Over: no more uploads, no second start.
  EXPECT_EQ(Upload(id, Csv(1)).status, 409);
  EXPECT_EQ(Call("POST", path + "/start", callers_[kEditorA], "").status, 409);
}

// With a DKIM key for the From domain, every campaign message carries a signature that verifies against the
// record the API shows (libopendkim and dkimpy); the keys are opened once per batch.
TEST_P(MailCampaignsApi, MessagesAreDkimSignedWhenTheSiteHasAKey) {
  AddAccount();
  auto key = Ok("POST", "/api/v1/sites/alpha/mail/dkim", R"({"domain":"alpha.example","selector":"camp1"})", 201,
                callers_[kAdmin]);
  const std::string record = key["dns"]["value"], name = key["dns"]["name"];
  const auto id = NewCampaign();
  ASSERT_EQ(Upload(id, Csv(4)).status, 200);
  Ok("POST", base_ + "/" + std::to_string(id) + "/start", "", 200);
  EXPECT_EQ(WaitForState(id, "finished")["counts"]["sent"], 4);
  const auto captured = Captured();
  ASSERT_EQ(captured.size(), 4u);
  for (const auto& [to, eml] : captured) {
    ASSERT_TRUE(eml.starts_with("DKIM-Signature: ")) << eml.substr(0, 200);
    EXPECT_NE(eml.find("d=alpha.example;"), std::string::npos);
    EXPECT_EQ(mail::DkimVerify(eml, record).result, mail::DkimResult::kPass) << to;
    const auto theirs = mail::testing::DkimpyVerify(eml, record, name);
    EXPECT_EQ(theirs.exit_code, 0) << theirs.output;
  }
}

TEST_P(MailCampaignsApi, PauseStopsSendingResumeFinishesCancelSendsNoMore) {
  AddAccount({{"per_second", 10}});
  const auto id = NewCampaign("Lent {{prenom}}", 1);
  const std::string path = base_ + "/" + std::to_string(id);
  ASSERT_EQ(Upload(id, Csv(40)).status, 200);
  Ok("POST", path + "/start", "", 200);
  json c;
  for (int i = 0; i < 200; ++i) {
    c = Ok("GET", path, "", 200);
    if (c["counts"]["sent"] >= 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto paused = Ok("POST", path + "/pause", "", 200);
  EXPECT_EQ(paused["state"], "paused");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a lane finishes the message it was sending
  const auto sent_at_pause = Ok("GET", path, "", 200)["counts"]["sent"].get<int>();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(Ok("GET", path, "", 200)["counts"]["sent"], sent_at_pause) << "a paused campaign sends nothing";
  EXPECT_LT(sent_at_pause, 40);
  Ok("POST", path + "/resume", "", 200);
  // At once again: the chains of the run before stop (their run number is old); no lane runs twice.
  Ok("POST", path + "/pause", "", 200);
  auto resumed = Ok("POST", path + "/resume", "", 200);
  EXPECT_EQ(resumed["state"], "running");
  auto done = WaitForState(id, "finished");
  // The lane that finished the campaign ends its chain; the others end theirs at their next batch, which
  // finds the campaign finished: within a few seconds, none is left (a lane running twice would keep one).
  long long chains = -1;
  for (int i = 0; i < 100 && chains != 0; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    chains = db().ReadValue([&](soci::session& s) {
      long long n = 0;
      s << "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.campaign.batch' AND state IN ('queued', 'running')",
          soci::into(n);
      return n;
    });
  }
  EXPECT_EQ(chains, 0) << "every chain ended with the campaign";
  EXPECT_EQ(done["counts"]["sent"], 40);
  EXPECT_EQ(Captured().size(), 40u) << "nobody got two messages across the pause";

  // A cancelled campaign sends nothing more.
  const auto other = NewCampaign("Annulée {{prenom}}", 1);
  const std::string other_path = base_ + "/" + std::to_string(other);
  ASSERT_EQ(Upload(other, "email,prenom\ncancel-" + token_ + "-a@example.com,A\n").status, 200);
  Ok("POST", other_path + "/start", R"({"send_at":"2099-06-01T09:00:00+02:00"})", 200);
  EXPECT_EQ(Ok("GET", other_path, "", 200)["state"], "scheduled");
  EXPECT_EQ(Ok("POST", other_path + "/cancel", "", 200)["state"], "cancelled");
  EXPECT_EQ(Call("POST", other_path + "/resume", callers_[kEditorA], "").status, 409);
}

TEST_P(MailCampaignsApi, BadInputIsRefusedWithFieldErrors) {
  const auto id = NewCampaign();
  const std::string path = base_ + "/" + std::to_string(id);
  auto fields = [](const web::Response& r) {
    std::vector<std::string> out;
    auto body = json::parse(r.body, nullptr, false);
    if (body.contains("errors")) {
      for (const auto& e : body["errors"]) out.push_back(e.value("field", ""));
    }
    return out;
  };
  auto r = Upload(id, "email,name\n\"unclosed@example.com,X\n");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("line 2"), std::string::npos) << r.body;
  EXPECT_EQ(fields(r), std::vector<std::string>{"file"});
  EXPECT_EQ(Upload(id, "name,city\nA,B\n").status, 422);
  EXPECT_EQ(Upload(id, "email\n\xC3\x28@example.com\n").status, 422);
  EXPECT_EQ(Upload(id, "").status, 422);

  r = Call("POST", base_, callers_[kEditorA], R"({"name":"x","subject":"Hi","html":"{{#open}}<p>"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("line 1"), std::string::npos) << r.body;
  r = Call("POST", base_, callers_[kEditorA], R"({"name":"x","subject":"Hi\r\nBcc: a@example.com"})");
  EXPECT_EQ(fields(r), std::vector<std::string>{"subject"});
  r = Call("POST", base_, callers_[kEditorA], R"({"name":"","parallel":99,"colour":"red"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(fields(r).size(), 3u) << r.body;

  // Nothing to send to yet.
  r = Call("POST", path + "/start", callers_[kEditorA], "");
  EXPECT_EQ(fields(r), std::vector<std::string>{"recipients"});
  // A test send to a hostile address.
  r = Call("POST", path + "/test", callers_[kEditorA], R"({"to":"a@example.com>\r\nBcc: b@example.com"})");
  EXPECT_EQ(r.status, 422);
  // Another site's campaign does not exist here.
  EXPECT_EQ(Call("GET", "/api/v1/sites/beta/mail/campaigns/" + std::to_string(id), callers_[kAdmin], "").status, 404);
}

POSTE_INSTANTIATE_DB_TEST(MailCampaignsApi);

}  // namespace
}  // namespace poste::testing
