// DKIM keys per site on SQLite and PostgreSQL: generation (the private key sealed, bound to its row, never
// in the JSON), validation of hostile input, tenancy, enable / disable / delete with their audit rows, which
// key signs which From; and a message sent by the single-message path through SMTP to the capture server of
// scripts/test-services, whose captured bytes verify against the DNS record Poste shows, with libopendkim
// and with dkimpy (python3-dkim), and fail once the body is altered.
#include "modules/mail/mail_dkim_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/ids.hpp"
#include "lib/mail/dkim.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_dkim_store.hpp"
#include "modules/mail/mail_dkim_test_support.hpp"
#include "modules/mail/mail_message_service.hpp"
#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::ErrorStatus;
using testing::FieldCodes;
using Strings = std::vector<std::string>;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string Record(const DkimKey& k) { return DkimDnsRecord(k.public_key); }

class MailDkimServiceTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    service_ = std::make_unique<MailDkimService>(db(), *box_, [this] { return now_; });
  }
  MailDkimService& svc() { return *service_; }
  DkimKey Make(std::int64_t site, const std::string& domain, const std::string& selector, bool enabled = true) {
    return svc().Generate(origin_, site, {domain, selector, enabled});
  }
  std::string SealedOf(std::int64_t id) {
    return db().ReadValue([&](soci::session& s) {
      std::string sealed;
      const long long key = id;
      s << "SELECT private_key FROM mail_dkim_keys WHERE id = :id", soci::use(key), soci::into(sealed);
      return sealed;
    });
  }

  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<MailDkimService> service_;
};

TEST_P(MailDkimServiceTest, GeneratesAKeySealedAtRestAndShowsItsRecord) {
  auto k = Make(site_a_, "  News.Example.COM. ", "");
  EXPECT_GT(k.id, 0);
  EXPECT_EQ(k.domain, "news.example.com");
  EXPECT_EQ(k.selector, "poste202311");  // now_ is 2023-11-14 UTC
  EXPECT_TRUE(k.enabled);
  EXPECT_EQ(k.bits, 2048);
  EXPECT_EQ(k.created_by, user_a_);
  EXPECT_EQ(k.created_at, now_);

  // At rest: sealed, bound to this site and key (opening it as another row fails), and its public half is
  // the one shown.
  const std::string sealed = SealedOf(k.id);
  EXPECT_TRUE(sealed.starts_with("v1:")) << sealed.substr(0, 20);
  EXPECT_EQ(sealed.find("PRIVATE KEY"), std::string::npos);
  const std::string pem = box_->Open(sealed, MailDkimService::SecretBinding(site_a_, k.id));
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  EXPECT_EQ(DkimPublicKeyOf(pem), k.public_key);
  EXPECT_ANY_THROW(box_->Open(sealed, MailDkimService::SecretBinding(site_b_, k.id)));
  EXPECT_ANY_THROW(box_->Open(sealed, MailDkimService::SecretBinding(site_a_, k.id + 1)));

  // What the API shows: the DNS record, never the private key.
  const auto json = ToJson(k);
  const std::string text = json.dump();
  EXPECT_EQ(text.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(text.find(sealed), std::string::npos);
  EXPECT_FALSE(json.contains("private_key"));
  EXPECT_EQ(json["dns"]["name"], "poste202311._domainkey.news.example.com");
  EXPECT_EQ(json["dns"]["type"], "TXT");
  EXPECT_EQ(json["dns"]["value"], "v=DKIM1; k=rsa; p=" + k.public_key);
  std::string joined;
  for (const auto& s : json["dns"]["strings"]) {
    EXPECT_LE(s.get<std::string>().size(), 255u);
    joined += s.get<std::string>();
  }
  EXPECT_EQ(joined, json["dns"]["value"]);
  EXPECT_GE(json["dns"]["strings"].size(), 2u);  // a 2048-bit key's record is over 255 bytes
  EXPECT_TRUE(json["dns"]["zone_line"].get<std::string>().starts_with(
      "poste202311._domainkey.news.example.com. IN TXT ( \"v=DKIM1; k=rsa; p="));

  // International domains are stored in punycode; selectors in lower case.
  auto idn = Make(site_a_, "Exämple.com", "Sel-2026.a");
  EXPECT_EQ(idn.domain, "xn--exmple-cua.com");
  EXPECT_EQ(idn.selector, "sel-2026.a");

  auto list = svc().List(site_a_);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, k.id);
  EXPECT_TRUE(svc().List(site_b_).empty());
  EXPECT_EQ(AuditActions(), (Strings{"mail_dkim_key.create", "mail_dkim_key.create"}));
}

TEST_P(MailDkimServiceTest, RefusesHostileInput) {
  const auto codes = [&](const std::string& domain, const std::string& selector) {
    return FieldCodes([&] { Make(site_a_, domain, selector); });
  };
  EXPECT_EQ(codes("", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("example.com\r\nBcc: x@evil.example", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("example.com'; DROP TABLE mail_dkim_keys; --", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("<script>alert(1)</script>.com", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("exa\xff\xfemple.com", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("127.0.0.1", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("localhost", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes(std::string(300, 'a') + ".com", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("*.example.com", "s1"), Strings{"domain:invalid_domain"});
  EXPECT_EQ(codes("example.com", "bad selector"), Strings{"selector:invalid_selector"});
  EXPECT_EQ(codes("example.com", "s1\r\nx"), Strings{"selector:invalid_selector"});
  EXPECT_EQ(codes("example.com", "-s1"), Strings{"selector:invalid_selector"});
  EXPECT_EQ(codes("example.com", "s1..s2"), Strings{"selector:invalid_selector"});
  EXPECT_EQ(codes("example.com", "s\xc3\xa9"), Strings{"selector:invalid_selector"});
  EXPECT_EQ(codes("example.com", std::string(64, 'a')), Strings{"selector:invalid_selector"});
  EXPECT_EQ(codes("nope", "x y"), (Strings{"domain:invalid_domain", "selector:invalid_selector"}));
  EXPECT_TRUE(svc().List(site_a_).empty());

  Make(site_a_, "example.com", "s1");
  EXPECT_EQ(ErrorStatus([&] { Make(site_a_, "EXAMPLE.com", "S1"); }), 409);
  EXPECT_NO_THROW(Make(site_b_, "example.com", "s1"));  // another site may hold the same name
  EXPECT_EQ(svc().List(site_a_).size(), 1u);
}

TEST_P(MailDkimServiceTest, EnableDisableDeleteAndTenancy) {
  auto k = Make(site_a_, "alpha.example", "s1", false);
  EXPECT_FALSE(k.enabled);
  EXPECT_TRUE(svc().SignersFor(site_a_).empty());
  now_ += 1000;
  auto on = svc().SetEnabled(origin_, site_a_, k.id, true);
  EXPECT_TRUE(on.enabled);
  EXPECT_EQ(on.updated_at, now_);
  EXPECT_FALSE(svc().SignersFor(site_a_).empty());
  svc().SetEnabled(origin_, site_a_, k.id, true);  // no change: no audit row

  // Another site's key is not there for site B.
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_b_, k.id); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().SetEnabled(origin_, site_b_, k.id, false); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Delete(origin_, site_b_, k.id); }), 404);
  EXPECT_TRUE(svc().SignersFor(site_b_).empty());
  EXPECT_EQ(svc().SignatureFor(site_b_, "news@alpha.example", "Subject: x\r\n\r\nhi\r\n"), "");
  EXPECT_TRUE(svc().Get(site_a_, k.id).enabled);

  svc().Delete(origin_, site_a_, k.id);
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_a_, k.id); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Delete(origin_, site_a_, k.id); }), 404);
  EXPECT_EQ(AuditActions(), (Strings{"mail_dkim_key.create", "mail_dkim_key.enable", "mail_dkim_key.delete"}));
}

TEST_P(MailDkimServiceTest, TheClosestDomainThenTheNewestKeySigns) {
  auto parent = Make(site_a_, "example.com", "p1");
  now_ += 1000;
  auto child_old = Make(site_a_, "news.example.com", "old");
  now_ += 1000;
  auto child_new = Make(site_a_, "news.example.com", "new");
  auto other = Make(site_a_, "example.org", "o1", false);  // disabled: never signs

  const auto signers = svc().SignersFor(site_a_);
  const auto selector = [&](const std::string& from) {
    const auto* e = signers.For(from);
    return e == nullptr ? std::string("-") : e->domain + "/" + e->selector;
  };
  EXPECT_EQ(selector("a@news.example.com"), "news.example.com/new");
  EXPECT_EQ(selector("a@NEWS.Example.com"), "news.example.com/new");
  EXPECT_EQ(selector("a@deep.news.example.com"), "news.example.com/new");
  EXPECT_EQ(selector("a@example.com"), "example.com/p1");
  EXPECT_EQ(selector("a@shop.example.com"), "example.com/p1");
  EXPECT_EQ(selector("a@badexample.com"), "-");  // a suffix that is not a parent domain
  EXPECT_EQ(selector("a@example.org"), "-");
  EXPECT_EQ(selector("a@example.com.evil.test"), "-");

  // The signature verifies against the record of the key that signed, and no other.
  const std::string message =
      "From: a@news.example.com\r\nTo: b@example.net\r\nSubject: Hi\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
      "Message-ID: <1@news.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "Hello\r\n";
  const std::string header = signers.Sign("a@news.example.com", message);
  EXPECT_NE(header.find("s=new"), std::string::npos) << header;
  EXPECT_NE(header.find("d=news.example.com"), std::string::npos) << header;
  EXPECT_EQ(DkimVerify(header + message, Record(child_new)).result, DkimResult::kPass);
  EXPECT_EQ(DkimVerify(header + message, Record(child_old)).result, DkimResult::kFail);
  EXPECT_EQ(DkimVerify(header + message, Record(parent)).result, DkimResult::kFail);
  EXPECT_EQ(signers.Sign("a@example.org", message), "");
  // The one-message path picks the same key.
  const std::string single = svc().SignatureFor(site_a_, "a@news.example.com", message);
  EXPECT_NE(single.find("s=new"), std::string::npos);
  EXPECT_EQ(DkimVerify(single + message, Record(child_new)).result, DkimResult::kPass);
  (void)other;
}

TEST_P(MailDkimServiceTest, AKeyThatNoLongerOpensFailsLoudly) {
  auto k = Make(site_a_, "alpha.example", "s1");
  // The sealed key copied from another key's row does not open here (bound to its own row).
  auto b = Make(site_b_, "alpha.example", "s1");
  const std::string sealed = SealedOf(b.id);
  db().Write([&](soci::session& s) {
    const long long id = k.id;
    s << "UPDATE mail_dkim_keys SET private_key = :p WHERE id = :id", soci::use(sealed), soci::use(id);
  });
  EXPECT_ANY_THROW(svc().SignersFor(site_a_));
  EXPECT_ANY_THROW(svc().SignatureFor(site_a_, "x@alpha.example", "Subject: x\r\n\r\nx\r\n"));
}

// The single-message path, wired as the app wires it, through SMTP to the capture server.
TEST_P(MailDkimServiceTest, ASentMessageVerifiesAgainstThePublishedRecord) {
  ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
  jobs::JobQueue queue(
      db(), [this] { return now_; }, [] { return 0.0; });
  AccountsOptions accounts_options;
  accounts_options.now_ms = [this] { return now_; };
  accounts_options.transports.smtp_policy = SmtpTargetPolicy({"127.0.0.1"});
  MailAccountsService accounts(db(), *box_, std::move(accounts_options));
  MessagesOptions options;
  options.now_ms = [this] { return now_; };
  options.dkim_signature = [this](std::int64_t site, const std::string& from, const std::string& message) {
    return svc().SignatureFor(site, from, message);
  };
  MailMessagesService messages(db(), queue, accounts, options);
  NewAccount n;
  n.name = "capture";
  n.type = "smtp";
  n.from = {"Équipe Alpha", "news@alpha.example"};
  n.settings = {{"host", "127.0.0.1"}, {"port", std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str())}, {"tls", "none"}};
  accounts.Create(origin_, site_a_, n);
  auto key = Make(site_a_, "alpha.example", "poste1");

  const auto send = [&](const std::string& token) {
    MessageRequest r;
    r.to = {{"Ada", "ada@example.net"}};
    r.subject = "Réunion " + token;
    r.html = "<p>Bonjour <b>" + token + "</b> " + std::string(200, 'x') + "</p>";
    r.list_unsubscribe_url = "https://alpha.example/u/" + token;
    messages.Enqueue(origin_, site_a_, r);
    while (auto job = queue.Claim("test", 60'000, {std::string(kSendJobKind)})) {
      messages.HandleSend(*job);
      queue.Complete(job->id, "test");
    }
    return mail::testing::SmtpCapture().First(token).eml;
  };

  const std::string token = "dkim" + RandomHex(8);
  const std::string eml = send(token);
  ASSERT_FALSE(eml.empty()) << "nothing captured";
  ASSERT_TRUE(eml.starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=alpha.example;"))
      << eml.substr(0, 300);
  EXPECT_NE(eml.find("s=poste1;"), std::string::npos);
  const std::string record = ToJson(key)["dns"]["value"];
  const std::string name = ToJson(key)["dns"]["name"];
  auto ours = DkimVerify(eml, record);
  EXPECT_EQ(ours.result, DkimResult::kPass) << ours.detail;
  auto theirs = testing::DkimpyVerify(eml, record, name);
  EXPECT_EQ(theirs.exit_code, 0) << theirs.output;
  EXPECT_NE(theirs.output.find("poste1._domainkey.alpha.example"), std::string::npos) << theirs.output;

  // One byte of the body changed: both verifiers refuse it.
  std::string tampered = eml;
  const auto at = tampered.find("xxxxx");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'y';
  EXPECT_EQ(DkimVerify(tampered, record).result, DkimResult::kFail);
  auto refused = testing::DkimpyVerify(tampered, record, name);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  // Against another key's record: refused too.
  auto other = Make(site_b_, "alpha.example", "poste1");
  EXPECT_EQ(DkimVerify(eml, Record(other)).result, DkimResult::kFail);
  EXPECT_EQ(testing::DkimpyVerify(eml, Record(other), name).exit_code, 1);

  // Disabled: the next message goes unsigned.
  svc().SetEnabled(origin_, site_a_, key.id, false);
  const std::string token2 = "dkim" + RandomHex(8);
  const std::string unsigned_eml = send(token2);
  ASSERT_FALSE(unsigned_eml.empty());
  EXPECT_EQ(unsigned_eml.find("DKIM-Signature"), std::string::npos);
}

POSTE_INSTANTIATE_DB_TEST(MailDkimServiceTest);

}  // namespace
}  // namespace poste::mail
