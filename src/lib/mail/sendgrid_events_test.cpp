#include "lib/mail/sendgrid_events.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/testing/event_signers.hpp"

namespace poste::mail {
namespace {

constexpr const char* kBody =
    R"([{"email":"ada@example.com","timestamp":1700000000,"smtp-id":"<m1@alpha.example>","event":"bounce",)"
    R"("type":"bounce","reason":"550 5.1.1 no such user","status":"5.1.1","sg_event_id":"ev1",)"
    R"("sg_message_id":"abc123.filter0001.16648.5515E0B88.0"},)"
    R"({"email":"bob@example.com","timestamp":1700000001,"event":"spamreport","sg_event_id":"ev2"}])";

TEST(SendGridSignature, VerifiesWhatTheKeySigned) {
  testing::SendGridSigner signer;
  const auto key = signer.PublicKeyBase64();
  EXPECT_TRUE(IsSendGridVerificationKey(key));
  const auto signature = signer.Sign("1700000000", kBody);
  EXPECT_TRUE(VerifySendGridSignature(key, signature, "1700000000", kBody));
}

TEST(SendGridSignature, RefusesAnythingElse) {
  testing::SendGridSigner signer, other;
  const auto key = signer.PublicKeyBase64();
  const auto signature = signer.Sign("1700000000", kBody);
  std::string body = kBody;
  body[5] = 'X';
  EXPECT_FALSE(VerifySendGridSignature(key, signature, "1700000000", body));                       // body changed
  EXPECT_FALSE(VerifySendGridSignature(key, signature, "1700000001", kBody));                      // timestamp changed
  EXPECT_FALSE(VerifySendGridSignature(other.PublicKeyBase64(), signature, "1700000000", kBody));  // wrong key
  EXPECT_FALSE(VerifySendGridSignature(key, other.Sign("1700000000", kBody), "1700000000", kBody));
  EXPECT_FALSE(VerifySendGridSignature(key, "", "1700000000", kBody));
  EXPECT_FALSE(VerifySendGridSignature(key, "not base64!", "1700000000", kBody));
  EXPECT_FALSE(VerifySendGridSignature(key, crypto::Base64Encode("garbage DER"), "1700000000", kBody));
  EXPECT_FALSE(VerifySendGridSignature(key, std::string(600, 'A'), "1700000000", kBody));
  EXPECT_FALSE(VerifySendGridSignature("", signature, "1700000000", kBody));
  EXPECT_FALSE(VerifySendGridSignature("bm90IGEga2V5", signature, "1700000000", kBody));
}

TEST(SendGridSignature, KeyMustBeAnEcP256PublicKey) {
  EXPECT_FALSE(IsSendGridVerificationKey(""));
  EXPECT_FALSE(IsSendGridVerificationKey("not base64"));
  EXPECT_FALSE(IsSendGridVerificationKey(crypto::Base64Encode("\x30\x03\x02\x01\x01")));
  EXPECT_FALSE(IsSendGridVerificationKey(std::string(2000, 'A')));
  // An RSA key is a public key, but not the kind SendGrid signs with.
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(rsa, &der);
  const std::string rsa_key = crypto::Base64Encode(std::string(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  EVP_PKEY_free(rsa);
  EXPECT_FALSE(IsSendGridVerificationKey(rsa_key));
  // Another curve.
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  der = nullptr;
  const int len384 = i2d_PUBKEY(p384, &der);
  const std::string p384_key = crypto::Base64Encode(std::string(reinterpret_cast<char*>(der), len384));
  OPENSSL_free(der);
  EVP_PKEY_free(p384);
  EXPECT_FALSE(IsSendGridVerificationKey(p384_key));
  // Trailing bytes after the DER.
  testing::SendGridSigner signer;
  auto der_bytes = *crypto::Base64Decode(signer.PublicKeyBase64());
  EXPECT_FALSE(IsSendGridVerificationKey(crypto::Base64Encode(der_bytes + "x")));
}

TEST(SendGridEvents, ParsesTheFields) {
  auto events = ParseSendGridEvents(kBody);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  const auto& e = (*events)[0];
  EXPECT_EQ(e.event, "bounce");
  EXPECT_EQ(e.email, "ada@example.com");
  EXPECT_EQ(e.type, "bounce");
  EXPECT_EQ(e.reason, "550 5.1.1 no such user");
  EXPECT_EQ(e.status, "5.1.1");
  EXPECT_EQ(e.sg_event_id, "ev1");
  EXPECT_EQ(e.smtp_id, "<m1@alpha.example>");
  EXPECT_EQ(e.timestamp, 1700000000);
  EXPECT_EQ(SendGridMessageIdPrefix(e.sg_message_id), "abc123");
  EXPECT_EQ((*events)[1].event, "spamreport");
  EXPECT_EQ(SendGridMessageIdPrefix(""), "");
}

TEST(SendGridEvents, RefusesBodiesThatAreNotEventArrays) {
  std::string why;
  EXPECT_FALSE(ParseSendGridEvents("", &why));
  EXPECT_FALSE(ParseSendGridEvents("not json", &why));
  EXPECT_FALSE(ParseSendGridEvents(R"({"event":"bounce"})", &why));
  EXPECT_EQ(why, "not a JSON array");
  EXPECT_FALSE(ParseSendGridEvents("[1,2", &why));
  // Deep nesting is refused before it costs anything.
  EXPECT_FALSE(ParseSendGridEvents(std::string(10000, '[') + std::string(10000, ']'), &why));
  EXPECT_EQ(why, "nested too deeply");
  // Invalid UTF-8 and lone surrogates make the body invalid JSON.
  EXPECT_FALSE(ParseSendGridEvents("[{\"event\":\"bounce\",\"email\":\"a@example.com\",\"reason\":\"\xff\"}]", &why));
  EXPECT_FALSE(ParseSendGridEvents(R"([{"event":"bounce","email":"a@example.com","reason":"\ud800"}])", &why));
  // Too many events.
  std::string many = "[";
  for (std::size_t i = 0; i <= kMaxSendGridEvents; ++i) many += (i ? ",{}" : "{}");
  many += "]";
  EXPECT_FALSE(ParseSendGridEvents(many, &why));
  EXPECT_EQ(why, "too many events");
}

TEST(SendGridEvents, SkipsWhatItCannotUse) {
  const std::string body =
      R"([1, "x", null, [], {"event":"bounce"}, {"email":"ada@example.com"},)"
      R"({"event":"bounce","email":"not an address"},)"
      R"({"event":"bounce","email":"a@example.com\r\nBcc: x@example.com"},)"
      R"({"event":7,"email":"ada@example.com"},)"
      R"({"event":"bounce","email":"ok@example.com","reason":"line1\r\nline2","timestamp":"soon","type":["x"],)"
      R"("status":{"a":1},"sg_event_id":"<script>alert(1)</script>"},)"
      R"({"event":"bounce","email":"big@example.com","reason":")" +
      std::string(5000, 'r') + R"(","timestamp":-5}])";
  auto events = ParseSendGridEvents(body);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  const auto& ok = (*events)[0];
  EXPECT_EQ(ok.email, "ok@example.com");
  EXPECT_EQ(ok.reason, "line1  line2");  // CR/LF never pass
  EXPECT_EQ(ok.timestamp, 0);
  EXPECT_EQ(ok.type, "");
  EXPECT_EQ(ok.status, "");
  EXPECT_EQ(ok.sg_event_id, "<script>alert(1)</script>");  // kept as text; escaped wherever it is shown
  EXPECT_EQ((*events)[1].reason.size(), 1000u);
  EXPECT_EQ((*events)[1].timestamp, 0);
}

}  // namespace
}  // namespace poste::mail
