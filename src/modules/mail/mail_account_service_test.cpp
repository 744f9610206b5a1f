// Mail accounts on SQLite and PostgreSQL: validation with field errors, secrets sealed at rest and never in
// the JSON, one default per site, audit entries without secrets, tenancy, the implicit outbox, and the
// per-account sliding-window limits shared through the database.
#include "modules/mail/mail_account_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/mail/mail_account_store.hpp"
#include "modules/mail/mail_limits_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::mail {
namespace {

class MailAccountsTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    site_ = AddSite("alpha");
    other_ = AddSite("beta");
    AccountsOptions options;
    options.now_ms = [this] { return now_; };
    options.transports.outbox_root = "/nonexistent";
    options.outbox_from = [](std::int64_t) { return Mailbox{"Alpha", "hello@alpha.example"}; };
    service_ = std::make_unique<MailAccountsService>(db(), *box_, std::move(options));
  }
  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  static NewAccount Smtp(const std::string& name = "Relay") {
    NewAccount n;
    n.name = name;
    n.type = "smtp";
    n.from = {"Alpha", "news@alpha.example"};
    n.settings = {{"host", "smtp.example.com"}, {"username", "u"}, {"password", "hunter2-secret"}};
    return n;
  }
  std::vector<FieldError> ErrorsOf(const NewAccount& n) {
    try {
      service_->Create(origin_, site_, n);
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 422) << e.message();
      return e.fields();
    }
    ADD_FAILURE() << "accepted";
    return {};
  }
  static bool Has(const std::vector<FieldError>& errors, const std::string& field, const std::string& code) {
    for (const auto& e : errors) {
      if (e.field == field && e.code == code) return true;
    }
    return false;
  }

  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<MailAccountsService> service_;
  audit::Origin origin_;
  std::int64_t site_ = 0, other_ = 0, now_ = 1'700'000'000'000;
};

TEST_P(MailAccountsTest, SecretsAreSealedAtRestAndNeverInTheJson) {
  auto a = service_->Create(origin_, site_, Smtp());
  EXPECT_EQ(a.secrets.at("password"), "hunter2-secret");
  EXPECT_TRUE(a.is_default) << "the first account is the default";
  EXPECT_EQ(a.settings["port"], 587);
  EXPECT_EQ(a.settings["tls"], "starttls");
  EXPECT_EQ(a.settings["auth"], "plain");
  const auto json = ToJson(a).dump();
  EXPECT_EQ(json.find("hunter2"), std::string::npos) << json;
  EXPECT_EQ(ToJson(a)["settings"]["password_set"], true);
  EXPECT_EQ(ToJson(a)["settings"]["access_token_set"], false);
  std::string stored;
  db().Read([&](soci::session& s) {
    s << "SELECT secrets FROM mail_accounts WHERE id = :id", soci::use(static_cast<long long>(a.id)),
        soci::into(stored);
  });
  EXPECT_TRUE(stored.starts_with("v1:")) << stored;
  EXPECT_EQ(stored.find("hunter2"), std::string::npos);
  // Sealed for this account: copied onto another row it does not open.
  auto b = service_->Create(origin_, site_, Smtp("Second"));
  db().Write([&](soci::session& s) {
    s << "UPDATE mail_accounts SET secrets = :v WHERE id = :id", soci::use(stored),
        soci::use(static_cast<long long>(b.id));
  });
  EXPECT_ANY_THROW(service_->Get(site_, b.id));
  // The audit log has no secret either.
  std::string changes;
  db().Read([&](soci::session& s) {
    s << "SELECT changes FROM audit_log WHERE action = 'mail_account.create' ORDER BY id LIMIT 1", soci::into(changes);
  });
  EXPECT_NE(changes.find("password_set"), std::string::npos) << changes;
  EXPECT_EQ(changes.find("hunter2"), std::string::npos);
}

TEST_P(MailAccountsTest, EveryFieldIsValidated) {
  NewAccount n = Smtp();
  n.name = "";
  n.type = "carrier-pigeon";
  EXPECT_TRUE(Has(ErrorsOf(n), "name", "required"));
  EXPECT_TRUE(Has(ErrorsOf(n), "type", "invalid_value"));
  n = Smtp();
  n.from = {"Evil\r\nBcc: all@example.com", "news@alpha.example"};
  EXPECT_TRUE(Has(ErrorsOf(n), "from.name", "header_injection"));
  n = Smtp();
  n.from.email = "not an address";
  EXPECT_TRUE(Has(ErrorsOf(n), "from.email", "invalid_email"));
  n = Smtp();
  n.settings["host"] = "smtp.example.com\r\nRCPT TO:<x@y.z>";
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.host", "header_injection"));
  n = Smtp();
  n.settings["host"] = "bad host!";
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.host", "invalid_format"));
  n = Smtp();
  n.settings["port"] = 70000;
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.port", "invalid_value"));
  n = Smtp();
  n.settings["port"] = "25";
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.port", "invalid_value"));
  n = Smtp();
  n.settings["tls"] = "ssl";
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.tls", "invalid_value"));
  n = Smtp();
  n.settings["auth"] = "cram-md5";
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.auth", "invalid_value"));
  n = Smtp();
  n.settings.erase("password");
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.password", "required"));
  n = Smtp();
  n.settings["api_key"] = "x";
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.api_key", "unknown_setting"));
  n = Smtp();
  n.settings.erase("host");
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.host", "required"));
  n = Smtp();
  n.settings["username"] = std::string("bad\xff\xfe", 5);
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.username", "invalid_utf8"));
  n = Smtp();
  n.type = "ses";
  n.settings = {{"region", "eu-west-1; DROP TABLE x"}, {"access_key_id", "AKIA"}, {"secret_access_key", "s"}};
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.region", "invalid_format"));
  n.settings["region"] = "eu--west-1";  // what SES would refuse when sending is refused when saving
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.region", "invalid_format"));
  n.settings = {{"region", "eu-west-1"}};
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.secret_access_key", "required"));
  n = Smtp();
  n.type = "gmail";
  n.settings = {{"username", "me@gmail.com"}, {"client_id", "id"}};
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.client_secret", "required"));
  n.settings = {{"username", "me@gmail.com"}, {"client_id", "id"}, {"client_secret", "cs"}, {"token_url", "ftp://x"}};
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.token_url", "invalid_format"));
  n.settings = {{"username", "me@gmail.com"}, {"client_id", "id"}, {"client_secret", "cs"}, {"authorization_url", "x"}};
  EXPECT_TRUE(Has(ErrorsOf(n), "settings.authorization_url", "invalid_format"));
  EXPECT_TRUE(service_->List(site_).empty()) << "nothing stored by refused requests";
}

TEST_P(MailAccountsTest, OneDefaultPerSiteAndPromotionOnDelete) {
  auto a = service_->Create(origin_, site_, Smtp("A"));
  auto b = service_->Create(origin_, site_, Smtp("B"));
  EXPECT_TRUE(a.is_default);
  EXPECT_FALSE(b.is_default);
  AccountPatch p;
  p.is_default = true;
  service_->Update(origin_, site_, b.id, p);
  EXPECT_FALSE(service_->Get(site_, a.id).is_default);
  EXPECT_TRUE(service_->Get(site_, b.id).is_default);
  p.is_default = false;
  try {
    service_->Update(origin_, site_, b.id, p);
    ADD_FAILURE() << "the only default cannot be unset";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  auto c = service_->Create(origin_, site_, [] {
    auto n = Smtp("C");
    n.is_default = true;
    return n;
  }());
  EXPECT_TRUE(c.is_default);
  EXPECT_FALSE(service_->Get(site_, b.id).is_default);
  service_->Delete(origin_, site_, c.id);
  EXPECT_TRUE(service_->Get(site_, a.id).is_default) << "the oldest remaining account is promoted";
  EXPECT_EQ(service_->Resolve(site_, std::nullopt).id, a.id);
}

TEST_P(MailAccountsTest, PatchMergesSettingsAndKeepsSecrets) {
  auto a = service_->Create(origin_, site_, Smtp());
  AccountPatch p;
  p.settings = nlohmann::json{{"host", "Relay.Example.NET"}, {"port", 2525}};
  auto updated = service_->Update(origin_, site_, a.id, p);
  EXPECT_EQ(updated.settings["host"], "relay.example.net");
  EXPECT_EQ(updated.settings["port"], 2525);
  EXPECT_EQ(updated.secrets.at("password"), "hunter2-secret") << "a secret not sent again is kept";
  p.settings = nlohmann::json{{"password", "new-secret"}};
  EXPECT_EQ(service_->Update(origin_, site_, a.id, p).secrets.at("password"), "new-secret");
  // A new type takes its whole settings.
  AccountPatch retype;
  retype.type = "sendgrid";
  EXPECT_THROW(service_->Update(origin_, site_, a.id, retype), AppError);
  retype.settings = nlohmann::json{{"api_key", "SG.key"}};
  auto sg = service_->Update(origin_, site_, a.id, retype);
  EXPECT_EQ(sg.type, "sendgrid");
  EXPECT_EQ(sg.secrets.size(), 1u);
  EXPECT_FALSE(sg.settings.contains("host"));
  std::string changes;
  db().Read([&](soci::session& s) {
    s << "SELECT changes FROM audit_log WHERE action = 'mail_account.update' ORDER BY id DESC LIMIT 1",
        soci::into(changes);
  });
  EXPECT_EQ(changes.find("SG.key"), std::string::npos) << changes;
  EXPECT_EQ(changes.find("new-secret"), std::string::npos) << changes;
}

TEST_P(MailAccountsTest, ARotatedSecretIsSealedAgain) {
  auto n = Smtp();
  n.type = "gmail";
  n.settings = {{"username", "me@gmail.com"}, {"client_id", "id"}, {"client_secret", "cs"}, {"refresh_token", "rt-1"}};
  auto a = service_->Create(origin_, site_, n);
  service_->ReplaceSecret(site_, a.id, "refresh_token", "rt-2");
  auto after = service_->Get(site_, a.id);
  EXPECT_EQ(after.secrets.at("refresh_token"), "rt-2");
  EXPECT_EQ(after.secrets.at("client_secret"), "cs");
  service_->ReplaceSecret(other_, a.id, "refresh_token", "stolen");  // another site's: nothing happens
  EXPECT_EQ(service_->Get(site_, a.id).secrets.at("refresh_token"), "rt-2");
}

TEST_P(MailAccountsTest, AnotherSitesAccountIsNotFound) {
  auto a = service_->Create(origin_, site_, Smtp());
  EXPECT_THROW(service_->Get(other_, a.id), AppError);
  EXPECT_THROW(service_->Delete(origin_, other_, a.id), AppError);
  EXPECT_THROW(service_->Update(origin_, other_, a.id, AccountPatch{}), AppError);
  EXPECT_TRUE(service_->List(other_).empty());
  EXPECT_THROW(service_->Resolve(other_, a.id), AppError);
  // The other site has no account: it sends through its implicit outbox.
  auto outbox = service_->Resolve(other_, std::nullopt);
  EXPECT_EQ(outbox.id, 0);
  EXPECT_EQ(outbox.type, "outbox");
  EXPECT_EQ(outbox.from.email, "hello@alpha.example");
}

TEST_P(MailAccountsTest, UnavailableTypesAnswerAClearPermanentError) {
  auto n = Smtp();
  n.type = "sendgrid";
  n.settings = {{"api_key", "SG.x"}};
  auto a = service_->Create(origin_, site_, n);
  auto r = service_->Test(origin_, site_, a.id);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(r.answer, "the sendgrid account type is not available yet");
}

TEST_P(MailAccountsTest, LimitsAreSlidingWindowsInTheDatabase) {
  auto n = Smtp();
  n.limits = {2, 3, 0};
  auto a = service_->Create(origin_, site_, n);
  auto reserve = [&](std::int64_t at) {
    return db().WriteValue([&](soci::session& s) { return limits_store::Reserve(s, site_, a.id, a.limits, at); });
  };
  const std::int64_t t = now_;
  EXPECT_TRUE(reserve(t).granted);
  EXPECT_TRUE(reserve(t + 100).granted);
  auto third = reserve(t + 200);
  EXPECT_FALSE(third.granted) << "2 per second";
  EXPECT_EQ(third.wait_ms, 800) << "the first send leaves the one-second window at t + 1000";
  EXPECT_TRUE(reserve(t + 1000).granted);
  auto fourth = reserve(t + 2500);
  EXPECT_FALSE(fourth.granted) << "3 per hour";
  EXPECT_EQ(fourth.wait_ms, 3'600'000 - 2500);
  EXPECT_TRUE(reserve(t + 3'600'000).granted);
  const std::int64_t recorded =
      db().ReadValue([&](soci::session& s) { return limits_store::CountSince(s, a.id, 86'400'000, t + 3'600'000); });
  EXPECT_EQ(recorded, 4);
  // Pruned after a day.
  EXPECT_TRUE(reserve(t + 2 * 86'400'000).granted);
  EXPECT_EQ(db().ReadValue([&](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(*) FROM mail_send_log", soci::into(n);
    return n;
  }),
            1);
  // No limits: always granted, nothing recorded.
  auto free = service_->Create(origin_, site_, Smtp("free"));
  EXPECT_TRUE(db().WriteValue(
      [&](soci::session& s) { return limits_store::Reserve(s, site_, free.id, free.limits, t).granted; }));
}

POSTE_INSTANTIATE_DB_TEST(MailAccountsTest);

}  // namespace
}  // namespace poste::mail
