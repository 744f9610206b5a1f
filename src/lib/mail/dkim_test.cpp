#include "lib/mail/dkim.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/error.hpp"
#include "lib/mail/mime.hpp"

namespace poste::mail {
namespace {

class DkimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new DkimKeyPair(GenerateDkimKey());
    other_ = new DkimKeyPair(GenerateDkimKey());
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
  }

  static std::string Message() {
    OutgoingMessage m;
    m.from = {"Zoë", "news@example.com"};
    m.to = {{"Ana", "ana@example.org"}};
    m.subject = "Réunion demain";
    m.html = "<p>Bonjour</p><p>" + std::string(300, 'x') + "</p>";
    m.list_unsubscribe_url = "https://example.com/u/1";
    return BuildMessage(m).bytes;
  }

  static std::string Signed(const std::string& message) {
    DkimSigner signer({"example.com", "poste2026", key_->private_key_pem});
    return signer.Sign(message) + message;
  }

  static DkimKeyPair* key_;
  static DkimKeyPair* other_;
};

DkimKeyPair* DkimTest::key_ = nullptr;
DkimKeyPair* DkimTest::other_ = nullptr;

TEST_F(DkimTest, GeneratesAKeyAndItsDnsRecord) {
  EXPECT_TRUE(key_->private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  EXPECT_EQ(DkimPublicKeyOf(key_->private_key_pem), key_->public_key_base64);
  EXPECT_NE(key_->public_key_base64, other_->public_key_base64);
  std::string record = DkimDnsRecord(key_->public_key_base64);
  EXPECT_TRUE(record.starts_with("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")) << record;  // RSA-2048 SPKI
  EXPECT_EQ(record.find_first_of("\r\n\""), std::string::npos);
  EXPECT_EQ(record.substr(record.find("p=")).find(' '), std::string::npos);  // one TXT string, no spaces in p=
}

TEST_F(DkimTest, SignsAndVerifies) {
  std::string message = Message();
  std::string header = DkimSigner({"example.com", "poste2026", key_->private_key_pem}).Sign(message);
  EXPECT_TRUE(header.starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;")) << header;
  EXPECT_NE(header.find("s=poste2026"), std::string::npos);
  EXPECT_TRUE(header.ends_with("\r\n"));
  EXPECT_EQ(header.find('\n'), header.find("\r\n") + 1);  // folded with CRLF
  for (const char* h :
       {"From", "To", "Subject", "Date", "Message-Id", "MIME-Version", "Content-Type", "List-Unsubscribe"}) {
    std::string lower(h);
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    std::string tags = header.substr(header.find("h="));
    for (char& c : tags) c = static_cast<char>(std::tolower(c));
    EXPECT_NE(tags.find(lower), std::string::npos) << h << " in " << header;
  }
  auto result = DkimVerify(header + message, DkimDnsRecord(key_->public_key_base64));
  EXPECT_EQ(result.result, DkimResult::kPass) << result.detail;
}

TEST_F(DkimTest, AlteredMessagesFail) {
  std::string good = Signed(Message());
  std::string record = DkimDnsRecord(key_->public_key_base64);

  std::string body = good;
  body.replace(body.find("Bonjour"), 7, "Bonsoir");
  auto result = DkimVerify(body, record);
  EXPECT_EQ(result.result, DkimResult::kFail) << result.detail;

  std::string subject = good;
  auto at = subject.find("\r\nSubject: ") + 11;
  subject.insert(at, "X");
  EXPECT_EQ(DkimVerify(subject, record).result, DkimResult::kFail);

  EXPECT_EQ(DkimVerify(good, DkimDnsRecord(other_->public_key_base64)).result, DkimResult::kFail);
  EXPECT_EQ(DkimVerify(Message(), record).result, DkimResult::kNoSignature);
  EXPECT_NE(DkimVerify(good, "v=DKIM1; k=rsa; p=garbage").result, DkimResult::kPass);
}

TEST_F(DkimTest, RefusesBadSettings) {
  auto fields = [](DkimSignOptions o) {
    try {
      DkimSigner signer(std::move(o));
    } catch (const AppError& e) {
      std::string out;
      for (const auto& f : e.fields()) out += f.field + ":" + f.code + " ";
      return out;
    }
    return std::string();
  };
  EXPECT_EQ(fields({"not a domain", "s1", key_->private_key_pem}), "domain:invalid_domain ");
  EXPECT_EQ(fields({"example.com", "bad selector\r\n", key_->private_key_pem}), "selector:invalid_selector ");
  EXPECT_EQ(fields({"example.com", "s1", "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}),
            "private_key:invalid_key ");
  EXPECT_THROW(DkimPublicKeyOf("garbage"), AppError);
}

}  // namespace
}  // namespace poste::mail
